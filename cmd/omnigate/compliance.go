package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// withStore opens the store for one command.
func withStore(ctx context.Context, cfg app.Config, f func(st *sqlstore.Store) error) error {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return f(st)
}

// withDesk opens the store for one command and hands over the compliance
// desk (a running server sees the change within its policy cache time, 5 s).
func withDesk(ctx context.Context, cfg app.Config, account string, f func(st *sqlstore.Store, d *compliance.Desk) error) error {
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		if _, err := st.GetAccount(ctx, account); err != nil {
			return accountErr(err, account)
		}
		return deskErr(f(st, compliance.NewDesk(compliance.DeskConfig{}, st, nil)))
	})
}

// deskErr turns the desk's refusals into usage errors.
func deskErr(err error) error {
	var in *compliance.InputError
	if errors.As(err, &in) {
		return usageError{in}
	}
	return err
}

// senderCmd: sender register | approve | reject | list.
func senderCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("sender: say register, approve, reject or list")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("sender "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (required)")
	originator := fs.String("originator", "", "the sender: alphanumeric (≤ 11) or a number")
	note := fs.String("note", "", "why (kept with the decision)")
	operator := fs.String("operator", "", "who decides (default $USER)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	return withDesk(ctx, cfg, *account, func(st *sqlstore.Store, d *compliance.Desk) error {
		var s *store.Sender
		var err error
		switch args[0] {
		case "list":
			list, err := st.Senders(ctx, *account)
			if err != nil {
				return err
			}
			return printJSON(stdout, list)
		case "register":
			s, _, err = d.RegisterSender(ctx, *account, *originator, operatorName(*operator))
		case "approve":
			s, err = d.DecideSender(ctx, *account, *originator, store.SenderApproved, operatorName(*operator), *note)
		case "reject":
			s, err = d.DecideSender(ctx, *account, *originator, store.SenderRejected, operatorName(*operator), *note)
		default:
			return usagef("sender: unknown subcommand %q (register, approve, reject, list)", args[0])
		}
		if err != nil {
			return err
		}
		return printJSON(stdout, s)
	})
}

// complianceCmd: compliance policy | request-proof | cases | suspend | lift | complaint.
func complianceCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("compliance: say policy, request-proof, cases, suspend, lift or complaint")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("compliance "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id")
	operator := fs.String("operator", "", "who acts (default $USER)")
	reason := fs.String("reason", "", "why")
	switch args[0] {
	case "policy":
		purpose := fs.String("purpose", "", "default purpose: transactional or marketing")
		toOptedOut := fs.String("transactional-to-opted-out", "", "true: transactional messages still reach recipients who opted out")
		help := fs.String("help-text", "", "the answer to HELP")
		instruction := fs.String("optout-instruction", "", "true: append the opt-out instruction to marketing messages")
		window := fs.String("window", "", "when marketing may arrive, recipient local time, e.g. 08:00-21:00")
		relax := fs.String("relax-senders", "", "let the account send from any originator; give the reason (recorded)")
		strict := fs.Bool("strict-senders", false, "undo --relax-senders")
		countryWindows := fs.String("country-windows", "", "windows that differ by country, e.g. FR=08:00-20:00;IN=09:00-21:00")
		fallback := fs.String("sender-fallback", "", "a number of the account that replaces alphanumeric senders where they are not carried (\"\": reject instead)")
		rules := fs.String("content-rules", "", "content rule overrides, e.g. content.iban=reject;content.link_shortener=off")
		postal := fs.String("postal-address", "", "the sender's postal address, printed in marketing email (required for it)")
		roles := fs.String("role-addresses", "", "role addresses marketing email may go to, e.g. info,sales (\"\": none)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		var ch compliance.PolicyChange
		var err error
		relaxSet := false
		fs.Visit(func(f *flag.Flag) {
			var b bool
			switch f.Name {
			case "relax-senders":
				relaxSet = true
			case "purpose":
				ch.DefaultPurpose = purpose
			case "help-text":
				ch.HelpText = help
			case "window":
				ch.Window = window
			case "country-windows":
				ch.CountryWindows = countryWindows
			case "sender-fallback":
				ch.SenderFallback = fallback
			case "content-rules":
				ch.ContentRules = rules
			case "postal-address":
				ch.PostalAddress = postal
			case "role-addresses":
				ch.RoleAddresses = roles
			case "transactional-to-opted-out":
				b, err = strconv.ParseBool(*toOptedOut)
				ch.TransactionalToOptedOut = &b
			case "optout-instruction":
				b, err = strconv.ParseBool(*instruction)
				ch.OptOutInstruction = &b
			}
		})
		if err != nil {
			return usagef("compliance policy: --transactional-to-opted-out and --optout-instruction take true or false")
		}
		if relaxSet && strings.TrimSpace(*relax) == "" {
			return usagef("compliance policy: --relax-senders needs a reason")
		}
		return withDesk(ctx, cfg, *account, func(st *sqlstore.Store, d *compliance.Desk) error {
			p, err := d.ChangePolicy(ctx, *account, ch)
			if err == nil && (*relax != "" || *strict) {
				p, err = d.RelaxSenders(ctx, *account, *relax, operatorName(*operator))
			}
			if err != nil {
				return err
			}
			return printJSON(stdout, compliance.View(p))
		})
	case "request-proof":
		recipient := fs.String("recipient", "", "the recipient the proof is about (optional)")
		due := fs.Duration("due", 24*time.Hour, "how long the account has to answer")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return withDesk(ctx, cfg, *account, func(st *sqlstore.Store, d *compliance.Desk) error {
			c, err := d.RequestProof(ctx, *account, *recipient, *reason, operatorName(*operator), *due)
			if err != nil {
				return err
			}
			return printJSON(stdout, c)
		})
	case "cases":
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return printList(ctx, cfg, stdout, func(st *sqlstore.Store) ([]store.ProofCase, error) { return st.ProofCases(ctx, *account) },
			func(c store.ProofCase) store.ProofCase { return c })
	case "suspend", "lift":
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return withDesk(ctx, cfg, *account, func(st *sqlstore.Store, d *compliance.Desk) error {
			var p *store.Policy
			var err error
			if args[0] == "suspend" {
				p, err = d.Suspend(ctx, *account, *reason, operatorName(*operator))
			} else {
				p, err = d.Lift(ctx, *account, operatorName(*operator))
			}
			if err != nil {
				return err
			}
			return printJSON(stdout, map[string]string{"account": *account, "suspended": p.Suspended})
		})
	case "complaint":
		recipient := fs.String("recipient", "", "who complained")
		source := fs.String("source", "operator", "where the complaint came from (carrier, recipient, operator)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return withDesk(ctx, cfg, *account, func(st *sqlstore.Store, d *compliance.Desk) error {
			n, c, err := d.Complaint(ctx, *account, *recipient, *source, *reason)
			if err != nil {
				return err
			}
			return printJSON(stdout, map[string]any{"account": *account, "complaints": n, "case": c})
		})
	}
	return usagef("compliance: unknown subcommand %q (policy, request-proof, cases, suspend, lift, complaint)", args[0])
}

// dndCmd: dnd import FILE --registry NAME. The file streams (any size, in
// bounded memory) and is merged in at the end, all or nothing; progress
// goes to stderr when it is a terminal (or with --progress).
func dndCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "import" || strings.HasPrefix(args[1], "-") {
		return usagef("dnd: dnd import FILE --registry NAME")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("dnd import", flag.ContinueOnError)
	storeFlags(fs, &cfg)
	registry := fs.String("registry", "", "the registry's name, e.g. IN-NCPR (required)")
	scopeFlag := fs.String("scope", "all", "what the registry stops: all (every message) or marketing")
	replace := fs.Bool("replace", false, "the file is the registry's full edition: drop entries not in it")
	progress := progressFlag(fs)
	if err := parse(fs, args[2:], stderr); err != nil {
		return err
	}
	if *registry == "" || len(*registry) > 64 {
		return usagef("dnd import: --registry is required (at most 64 characters)")
	}
	scope, err := compliance.DNDScope(*scopeFlag)
	if err != nil {
		return usagef("dnd import: %v", err)
	}
	f, size, err := openImport(args[1])
	if err != nil {
		return err
	}
	defer f.Close()
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		rn := imports.New(st)
		defer rn.Close()
		if _, err := rn.Sweep(ctx); err != nil { // not this import's business
			fmt.Fprintf(stderr, "omnigate: could not fail stopped imports: %v\n", err)
		}
		p := imports.DNDParams{Registry: *registry, Scope: scope, Replace: *replace}
		im, err := rn.Job(ctx, store.ImportDND, "", false, p, "cli", size)
		if err != nil {
			return err
		}
		show, done := progressTo(stderr, *progress)
		err = rn.RunDND(ctx, im, f, p, show)
		done()
		if err != nil {
			return fmt.Errorf("dnd import %s (import %s): %w", args[1], im.ID, err)
		}
		return printJSON(stdout, map[string]any{"import": im.ID, "registry": *registry, "scope": scope, "replaced": *replace,
			"imported": im.Imported, "rows": im.RowsRead})
	})
}

// runImport makes an import job of kind for account (made by the CLI) and
// has run import f in it, with progress on stderr; it returns the ended
// job.
func runImport(ctx context.Context, st store.Store, kind, account string, f *os.File, size int64, progress string, stderr io.Writer,
	run func(rn *imports.Runner, im *store.Import, show func(imports.Status)) error) (*store.Import, error) {
	rn := imports.New(st)
	defer rn.Close()
	if _, err := rn.Sweep(ctx); err != nil {
		fmt.Fprintf(stderr, "omnigate: could not fail stopped imports: %v\n", err)
	}
	im, err := rn.Job(ctx, kind, account, false, struct{}{}, "cli", size)
	if err != nil {
		return nil, err
	}
	show, done := progressTo(stderr, progress)
	err = run(rn, im, show)
	done()
	return im, err
}

// progressFlag is the --progress flag of the import commands.
func progressFlag(fs *flag.FlagSet) *string {
	return fs.String("progress", "auto", "show rows, rows/s and ETA on stderr: auto (when stderr is a terminal), always or never")
}

// progressTo is the progress callback of an import (nil for none) and the
// function that ends its line.
func progressTo(stderr io.Writer, mode string) (func(imports.Status), func()) {
	show := mode == "always" || mode == "true"
	if mode == "auto" || mode == "" {
		if f, ok := stderr.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				show = true
			}
		}
	}
	if !show {
		return nil, func() {}
	}
	t := &imports.Terminal{W: stderr}
	return t.Show, t.Done
}

// openImport opens an import's file ("-" for stdin) and says its size (0
// when not known).
func openImport(name string) (*os.File, int64, error) {
	if name == "-" {
		return os.Stdin, 0, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, size, nil
}

// reviewCmd: review list | release | reject.
func reviewCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("review: say list, release or reject")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("review "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	msg := fs.String("message", "", "the held message's id")
	operator := fs.String("operator", "", "who decides (default $USER)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		switch args[0] {
		case "list":
			list, err := st.Reviews(ctx, store.ReviewPending, 200)
			if err != nil {
				return err
			}
			return printJSON(stdout, list)
		case "release", "reject":
			status := map[string]string{"release": store.ReviewReleased, "reject": store.ReviewRejected}[args[0]]
			r, err := st.DecideReview(ctx, *msg, status, operatorName(*operator))
			switch {
			case errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("review %s: no held message %q", args[0], *msg)
			case errors.Is(err, store.ErrConflict):
				return fmt.Errorf("review %s: %q was decided already", args[0], *msg)
			case err != nil:
				return err
			}
			return printJSON(stdout, r)
		}
		return usagef("review: unknown subcommand %q (list, release, reject)", args[0])
	})
}

// consentCmd: consent import FILE | list | proof.
func consentCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("consent: say import, list or proof")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("consent "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (required)")
	recipient := fs.String("recipient", "", "the recipient (list, proof)")
	asCSV := fs.Bool("csv", false, "proof as CSV")
	progress := progressFlag(fs)
	rest := args[1:]
	var file string
	if args[0] == "import" {
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			return usagef("consent import FILE --account ID")
		}
		file, rest = args[1], args[2:]
	}
	if err := parse(fs, rest, stderr); err != nil {
		return err
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		if _, err := st.GetAccount(ctx, *account); err != nil {
			return accountErr(err, *account)
		}
		switch args[0] {
		case "import":
			f, size, err := openImport(file)
			if err != nil {
				return err
			}
			defer f.Close()
			im, err := runImport(ctx, st, store.ImportConsents, *account, f, size, *progress, stderr, func(rn *imports.Runner, im *store.Import, show func(imports.Status)) error {
				return rn.RunConsents(ctx, im, f, operatorName(""), show)
			})
			if err != nil {
				return fmt.Errorf("consent import %s: %w", file, err)
			}
			return printJSON(stdout, map[string]int{"imported": int(im.Imported)})
		case "list", "proof":
			c, err := compliance.ParseConsent(*recipient, compliance.Marketing, store.OptIn, "", nil, "", time.Now())
			if err != nil {
				return usageError{err}
			}
			history, err := st.Consents(ctx, *account, c.Recipient)
			if err != nil {
				return err
			}
			if args[0] == "proof" && *asCSV {
				return compliance.WriteProofCSV(stdout, history)
			}
			return printJSON(stdout, compliance.Proof(*account, c.Recipient, history, time.Now().UTC()))
		}
		return usagef("consent: unknown subcommand %q (import, list, proof)", args[0])
	})
}
