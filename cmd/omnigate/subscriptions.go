package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/numbers"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
	"github.com/omnigate/omnigate/internal/subscriptions"
)

// The account lifecycle's commands (docs/subscriptions.md): plans,
// subscriptions (trials among them), invoices, and an account's export
// and archive. The admin API's routes do the same.

// withSubs opens the store for one command with the service: its
// suspensions go through the compliance desk, its notices are queued for
// the running server to deliver.
func withSubs(ctx context.Context, cfg app.Config, f func(st *sqlstore.Store, svc *subscriptions.Service) error) error {
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		nums := numbers.New(numbers.Config{}, st, nil)
		svc := subscriptions.New(subscriptions.Config{Store: st, Desk: compliance.NewDesk(compliance.DeskConfig{}, st, nil),
			Audit: audit.NewLog(st, nil), Node: "cli", Release: func(ctx context.Context, accountID string) error {
				_, err := nums.ReleaseAccount(ctx, accountID, "account deleted")
				return err
			}})
		return subsErr(f(st, svc))
	})
}

// subsErr turns the service's refusals into usage errors.
func subsErr(err error) error {
	var inv *subscriptions.InvalidError
	switch {
	case errors.As(err, &inv):
		return usagef("--%s: %s", inv.Param, inv.Msg)
	case errors.Is(err, subscriptions.ErrState):
		return usageError{err}
	case errors.Is(err, store.ErrInsufficientBalance):
		return usagef("the balance does not cover the invoice: top up first")
	}
	return err
}

func cliActor() audit.Actor {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return audit.Actor{Kind: audit.KindCLI, ID: name}
}

// addonFlags collects --addon code:name:price.
type addonFlags []store.Addon

func (a *addonFlags) String() string { return fmt.Sprint(len(*a)) }

func (a *addonFlags) Set(v string) error {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) != 3 {
		return errors.New("an add-on is code:name:price, e.g. sso:Single sign-on:10")
	}
	p, err := message.ParseMicros(parts[2])
	if err != nil {
		return fmt.Errorf("add-on price %q: %v", parts[2], err)
	}
	*a = append(*a, store.Addon{Code: parts[0], Name: parts[1], Price: p})
	return nil
}

func amount(flagName, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	m, err := message.ParseMicros(v)
	if err != nil {
		return 0, usagef("--%s: an amount such as 49.99", flagName)
	}
	return m, nil
}

// planCmd: plan set | list.
func planCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("plan: say set or list")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("plan "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	id := fs.String("id", "", "set: the plan's id (lower-case letters, digits, - and _)")
	name := fs.String("name", "", "set: its name")
	currency := fs.String("currency", "EUR", "set: its currency")
	fee := fs.String("fee", "0", "set: the monthly fee (0: a free plan)")
	seats := fs.Int("seats", 1, "set: seats included")
	seatPrice := fs.String("seat-price", "0", "set: the monthly price of a seat beyond the included ones")
	var addons addonFlags
	fs.Var(&addons, "addon", "set: an add-on, code:name:monthly price (repeat for more)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	return withSubs(ctx, cfg, func(st *sqlstore.Store, svc *subscriptions.Service) error {
		switch args[0] {
		case "set":
			p := store.Plan{ID: *id, Name: *name, Currency: *currency, IncludedSeats: *seats, Addons: addons}
			var err error
			if p.MonthlyFee, err = amount("fee", *fee); err != nil {
				return err
			}
			if p.SeatPrice, err = amount("seat-price", *seatPrice); err != nil {
				return err
			}
			saved, err := svc.PutPlan(ctx, p)
			if err != nil {
				return err
			}
			return printJSON(stdout, subscriptions.ViewPlan(saved))
		case "list":
			list, err := st.Plans(ctx)
			if err != nil {
				return err
			}
			out := []subscriptions.PlanView{}
			for i := range list {
				out = append(out, subscriptions.ViewPlan(&list[i]))
			}
			return printJSON(stdout, out)
		}
		return usagef("plan: say set or list")
	})
}

// subscriptionCmd: subscription trial | start | cancel | show | run.
func subscriptionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("subscription: say trial, start, cancel, show or run")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("subscription "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "the account")
	plan := fs.String("plan", "", "trial, start: the plan")
	credit := fs.String("credit", "0", "trial: the credit added to the balance")
	days := fs.Int("days", 14, "trial: how many days it lasts")
	addons := fs.String("addons", "", "start: add-on codes, comma-separated")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	if *account == "" && args[0] != "run" {
		return usagef("subscription %s: --account is required", args[0])
	}
	return withSubs(ctx, cfg, func(st *sqlstore.Store, svc *subscriptions.Service) error {
		show := func(sub *store.Subscription) error {
			l, err := st.GetLifecycle(ctx, sub.AccountID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return printJSON(stdout, subscriptions.ViewSubscription(sub, l))
		}
		switch args[0] {
		case "trial":
			c, err := amount("credit", *credit)
			if err != nil {
				return err
			}
			sub, err := svc.StartTrial(ctx, *account, *plan, c, time.Duration(*days)*subscriptions.Day, cliActor())
			if err != nil {
				return accountErr(err, *account)
			}
			return show(sub)
		case "start":
			var codes []string
			for _, c := range strings.Split(*addons, ",") {
				if c = strings.TrimSpace(c); c != "" {
					codes = append(codes, c)
				}
			}
			sub, inv, err := svc.Subscribe(ctx, *account, *plan, codes, cliActor())
			if err != nil {
				return accountErr(err, *account)
			}
			out := map[string]any{"subscription": subscriptions.ViewSubscription(sub, nil), "invoice": nil}
			if inv != nil {
				out["invoice"] = subscriptions.ViewInvoice(inv)
			}
			return printJSON(stdout, out)
		case "cancel":
			sub, err := svc.Cancel(ctx, *account, cliActor())
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("account %q has no subscription", *account)
			}
			if err != nil {
				return err
			}
			return show(sub)
		case "show":
			sub, err := st.GetSubscription(ctx, *account)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("account %q has no subscription", *account)
			}
			if err != nil {
				return err
			}
			return show(sub)
		case "run":
			p, err := svc.Pass(ctx)
			if err != nil {
				return err
			}
			return printJSON(stdout, p)
		}
		return usagef("subscription: say trial, start, cancel, show or run")
	})
}

// invoiceCmd: invoice list | show | pay | dispute | undispute | void.
func invoiceCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("invoice: say list, show, pay, dispute, undispute or void")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("invoice "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "the account (list: optional with --status)")
	id := fs.String("id", "", "the invoice's id")
	status := fs.String("status", "", "list: paid, failed, disputed or void")
	note := fs.String("note", "", "dispute, undispute, void: why")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	return withSubs(ctx, cfg, func(st *sqlstore.Store, svc *subscriptions.Service) error {
		if args[0] == "list" {
			if *account == "" && *status == "" {
				return usagef("invoice list: --account, --status or both")
			}
			list, err := st.Invoices(ctx, *account, *status)
			if err != nil {
				return err
			}
			out := []subscriptions.InvoiceView{}
			for i := range list {
				out = append(out, subscriptions.ViewInvoice(&list[i]))
			}
			return printJSON(stdout, out)
		}
		if *account == "" || *id == "" {
			return usagef("invoice %s: --account and --id are required", args[0])
		}
		var inv *store.Invoice
		var err error
		switch args[0] {
		case "show":
			inv, err = st.GetInvoice(ctx, *account, *id)
		case "pay":
			inv, err = svc.Pay(ctx, *account, *id, cliActor())
		case "dispute":
			inv, err = svc.SetInvoiceStatus(ctx, *account, *id, store.InvoiceDisputed, *note, cliActor())
		case "undispute":
			inv, err = svc.SetInvoiceStatus(ctx, *account, *id, store.InvoiceFailed, *note, cliActor())
		case "void":
			inv, err = svc.SetInvoiceStatus(ctx, *account, *id, store.InvoiceVoid, *note, cliActor())
		default:
			return usagef("invoice: say list, show, pay, dispute, undispute or void")
		}
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("account %q has no invoice %q", *account, *id)
		}
		if err != nil {
			return err
		}
		return printJSON(stdout, subscriptions.ViewInvoice(inv))
	})
}

// accountExportCmd: account export|archive --account ID --out FILE.zip —
// the account's data (offered before a deletion), or a deleted account's
// archive while it is kept.
func accountExportCmd(ctx context.Context, cfg app.Config, fs *flag.FlagSet, what string, args []string, stdout, stderr io.Writer) error {
	account := fs.String("account", "", "account id (required)")
	out := fs.String("out", "", "the zip file to write (required)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *account == "" || *out == "" {
		return usagef("account %s: --account and --out are required", what)
	}
	return withSubs(ctx, cfg, func(st *sqlstore.Store, svc *subscriptions.Service) error {
		var b []byte
		var err error
		res := map[string]any{"account": *account, "file": *out}
		if what == "export" {
			b, err = svc.Export(ctx, *account)
		} else {
			var until time.Time
			b, until, err = st.AccountArchive(ctx, *account)
			res["archiveUntil"] = until.Format(time.RFC3339)
		}
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("account %q: no %s", *account, what)
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, b, 0o600); err != nil {
			return err
		}
		res["bytes"] = len(b)
		return printJSON(stdout, res)
	})
}
