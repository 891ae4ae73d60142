package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/email/dkim"
	"github.com/omnigate/omnigate/internal/email/domains"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// emailFlags adds what sending-domain records point at and the resolver
// their checks ask; serve and `email domain` share them.
func emailFlags(fs *flag.FlagSet, cfg *app.Config) {
	fs.StringVar(&cfg.DNSResolver, "dns-resolver", envOr("OMNIGATE_DNS_RESOLVER", ""), "DNS server (host:port) that sending-domain checks ask; empty: the system's resolver [OMNIGATE_DNS_RESOLVER]")
	fs.StringVar(&cfg.EmailMXHost, "email-mx-host", envOr("OMNIGATE_EMAIL_MX_HOST", ""), "omnigate's inbound MX host: each sending domain's return path bounces.<domain> must point at it; empty: not checked [OMNIGATE_EMAIL_MX_HOST]")
	fs.StringVar(&cfg.EmailSPFInclude, "email-spf-include", envOr("OMNIGATE_EMAIL_SPF_INCLUDE", ""), "domain whose SPF record lists omnigate's sending addresses; sending domains' SPF must include it; empty: not checked [OMNIGATE_EMAIL_SPF_INCLUDE]")
	fs.StringVar(&cfg.EmailDMARCReport, "email-dmarc-report", envOr("OMNIGATE_EMAIL_DMARC_REPORT", ""), "address suggested DMARC records send aggregate reports to; empty: postmaster@<domain> [OMNIGATE_EMAIL_DMARC_REPORT]")
}

// emailCmd is `omnigate email domain …`.
func emailCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "domain" {
		return usagef("email: say domain (add, list, show, verify, remove, suspend, resume, cap)")
	}
	return emailDomainCmd(ctx, args[1:], stdout, stderr)
}

// emailDomainCmd manages an account's sending domains. A domain is named
// by its first argument; --account may be left out when one account holds
// it.
func emailDomainCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const subs = "add, list, show, verify, remove, suspend, resume, cap"
	if len(args) == 0 {
		return usagef("email domain: say %s", subs)
	}
	sub := args[0]
	var cfg app.Config
	fs := flag.NewFlagSet("email domain "+sub, flag.ContinueOnError)
	storeFlags(fs, &cfg)
	emailFlags(fs, &cfg)
	account := fs.String("account", "", "account id")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	var algorithm, selector, reason *string
	positional := 1 // the domain
	switch sub {
	case "add":
		algorithm = fs.String("algorithm", dkim.RSA, "DKIM key: rsa (RSA 2048, verified everywhere) or ed25519 (RFC 8463)")
		selector = fs.String("selector", "", "DKIM selector; default og + 8 random hex digits")
	case "list":
		positional = 0
	case "suspend":
		reason = fs.String("reason", "", "why (required; the customer sees it)")
	case "cap":
		positional = 2 // domain, per day
	case "show", "verify", "remove", "resume":
	default:
		return usagef("email domain: unknown subcommand %q (%s)", sub, subs)
	}
	rest, err := parseArgs(fs, args[1:], stderr)
	if err != nil {
		return err
	}
	if len(rest) != positional {
		switch positional {
		case 0:
			return usagef("email domain list: unexpected argument %q", rest[0])
		case 1:
			return usagef("email domain %s: give one domain, e.g. email domain %s example.com --account ID", sub, sub)
		default:
			return usagef("email domain cap: give the domain and the emails per day (0: no cap), e.g. email domain cap example.com 10000")
		}
	}
	dcfg, err := cfg.EmailDomains()
	if err != nil {
		return usageError{err}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC()

	if sub == "list" {
		if *account == "" {
			return usagef("email domain list: --account is required")
		}
		list, err := st.EmailDomains(ctx, *account)
		if err != nil {
			return err
		}
		out := make([]domains.View, 0, len(list))
		for i := range list {
			out = append(out, domains.Show(&list[i], dcfg, sentToday(ctx, st, &list[i], now)))
		}
		return printJSON(stdout, out)
	}
	name, err := domains.NormalizeDomain(rest[0])
	if err != nil {
		return usagef("email domain %s: %v", sub, err)
	}
	if sub == "add" {
		if *account == "" {
			return usagef("email domain add: --account is required")
		}
		if _, err := st.GetAccount(ctx, *account); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("email domain add: no account %q", *account)
		} else if err != nil {
			return err
		}
		d, err := domains.New(*account, name, *algorithm, *selector, now)
		var ie *domains.InputError
		if errors.As(err, &ie) {
			return usagef("email domain add: --%s: %s", ie.Field, ie.Reason)
		} else if err != nil {
			return err
		}
		if err := st.AddEmailDomain(ctx, d); errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("email domain add: account %s has %s already (see email domain show)", *account, name)
		} else if err != nil {
			return err
		}
		return printDomain(stdout, *asJSON, domains.Show(d, dcfg, -1), nil)
	}

	if *account == "" {
		owners, err := st.EmailDomainOwners(ctx, name)
		if err != nil {
			return err
		}
		switch len(owners) {
		case 0:
			return fmt.Errorf("email domain %s: no account has %s", sub, name)
		case 1:
			*account = owners[0]
		default:
			return usagef("email domain %s: %d accounts have %s; say which with --account (%s)", sub, len(owners), name, strings.Join(owners, ", "))
		}
	}
	d, err := st.EmailDomain(ctx, *account, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("email domain %s: account %s has no domain %s", sub, *account, name)
	} else if err != nil {
		return err
	}
	switch sub {
	case "show":
		return printDomain(stdout, *asJSON, domains.Show(d, dcfg, sentToday(ctx, st, d, now)), nil)
	case "verify":
		c, err := domains.CheckAndRecord(ctx, st, d, dcfg, now)
		if err != nil {
			return err
		}
		if d, err = st.EmailDomain(ctx, *account, name); err != nil {
			return err
		}
		return printDomain(stdout, *asJSON, domains.Show(d, dcfg, sentToday(ctx, st, d, now)), c)
	case "remove":
		if err := st.DeleteEmailDomain(ctx, *account, name); err != nil {
			return err
		}
		return printJSON(stdout, map[string]string{"removed": name, "account": *account})
	case "suspend":
		if strings.TrimSpace(*reason) == "" {
			return usagef("email domain suspend: --reason is required")
		}
		err = st.SuspendEmailDomain(ctx, *account, name, *reason, "cli", now)
	case "resume":
		err = st.ResumeEmailDomain(ctx, *account, name)
	case "cap":
		var perDay int
		if _, serr := fmt.Sscan(rest[1], &perDay); serr != nil || perDay < 0 || fmt.Sprint(perDay) != rest[1] {
			return usagef("email domain cap: %q is not a number of emails per day (0: no cap)", rest[1])
		}
		err = st.SetEmailDomainCap(ctx, *account, name, perDay)
	}
	if err != nil {
		return err
	}
	if d, err = st.EmailDomain(ctx, *account, name); err != nil {
		return err
	}
	return printJSON(stdout, domains.Show(d, dcfg, sentToday(ctx, st, d, now)))
}

// parseArgs parses flags given before, between or after positional
// arguments (`add example.com --account X`), which flag.Parse alone
// stops at.
func parseArgs(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	fs.SetOutput(stderr)
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest, args = append(rest, args[0]), args[1:]
	}
}

// sentToday is a capped domain's count of the day; -1 for others.
func sentToday(ctx context.Context, st *sqlstore.Store, d *store.EmailDomain, now time.Time) int {
	if d.DailyCap == 0 {
		return -1
	}
	n, err := st.EmailDomainSent(ctx, d.AccountID, d.Domain, now)
	if err != nil {
		return -1
	}
	return n
}

// printDomain prints a domain and the records to publish (as zone-file
// lines), and a check's result when there is one; or all of it as JSON.
func printDomain(w io.Writer, asJSON bool, v domains.View, c *domains.Check) error {
	if asJSON {
		return printJSON(w, v)
	}
	fmt.Fprintf(w, "domain    %s (DKIM selector %s, %s key)\nstatus    %s\n", v.Domain, v.Selector, v.Algorithm, v.Status)
	if v.Suspension != nil {
		fmt.Fprintf(w, "suspended %s by %s: %s\n", v.Suspension.At.Format(time.RFC3339), v.Suspension.By, v.Suspension.Reason)
	}
	if v.DailyCap > 0 {
		sent := 0
		if v.SentToday != nil {
			sent = *v.SentToday
		}
		fmt.Fprintf(w, "cap       %d emails per UTC day (%d today)\n", v.DailyCap, sent)
	}
	records := v.Records
	if c != nil {
		records = c.Records
		fmt.Fprintf(w, "\nchecked %s:\n", c.CheckedAt.Format(time.RFC3339))
	} else {
		fmt.Fprintf(w, "\nPublish these DNS records, then run: omnigate email domain verify %s\n", v.Domain)
	}
	for _, r := range records {
		need := "required"
		if !r.Required {
			need = "advice"
		}
		mark := ""
		if r.OK != nil {
			mark = "ok      "
			if !*r.OK {
				mark = "MISSING "
				if !r.Required {
					mark = "missing "
				}
			}
		}
		fmt.Fprintf(w, "\n%s; %s (%s)\n", mark, r.Kind, need)
		fmt.Fprintf(w, "%s. IN %s %s\n", r.Name, r.Type, zoneValue(r))
		if r.OK != nil && !*r.OK && r.Problem != "" {
			fmt.Fprintf(w, "  problem: %s\n", r.Problem)
		}
		for _, f := range r.Found {
			if r.OK != nil && !*r.OK {
				fmt.Fprintf(w, "  found:   %s\n", f)
			}
		}
	}
	if c != nil {
		if c.Verified {
			fmt.Fprintf(w, "\n%s is verified: its email can be sent.\n", v.Domain)
		} else {
			fmt.Fprintf(w, "\n%s is not verified: publish the missing required records and verify again.\n", v.Domain)
		}
	}
	return nil
}

// zoneValue writes a record's value as a zone file wants it: TXT values
// quoted, in strings of at most 255 bytes.
func zoneValue(r domains.Record) string {
	if r.Type != "TXT" {
		return r.Value + "."
	}
	parts := dkim.SplitTXT(r.Value)
	for i, p := range parts {
		b, _ := json.Marshal(p)
		parts[i] = string(b)
	}
	return strings.Join(parts, " ")
}
