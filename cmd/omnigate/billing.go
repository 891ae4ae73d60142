package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/admin"
	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// withBilling opens the store and a billing service on it for one command.
func withBilling(ctx context.Context, cfg app.Config, f func(st *sqlstore.Store, b *billing.Service) error) error {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	b := billing.New(billing.Config{}, st, store.NewAccountCache(st, 0), nil, slog.New(slog.DiscardHandler))
	return f(st, b)
}

// operatorName is who the ledger says made a movement.
func operatorName(flagValue string) string {
	if flagValue == "" {
		flagValue = os.Getenv("USER")
	}
	if flagValue == "" {
		return "operator"
	}
	return "operator:" + flagValue
}

// balanceCmd: balance show | topup | refund | adjust.
func balanceCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("balance: say show, topup, refund or adjust")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("balance "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (required)")
	switch args[0] {
	case "show":
		limit := fs.Int("entries", 20, "how many ledger entries to show (1 to 1000)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *limit < 1 || *limit > 1000 {
			return usagef("balance show: --entries %d: use 1 to 1000", *limit)
		}
		return withBilling(ctx, cfg, func(st *sqlstore.Store, _ *billing.Service) error {
			a, err := st.GetAccount(ctx, *account)
			if err != nil {
				return accountErr(err, *account)
			}
			entries, err := st.Ledger(ctx, a.ID, *limit, 0)
			if err != nil {
				return err
			}
			sum, err := st.LedgerSum(ctx, a.ID)
			if err != nil {
				return err
			}
			out := make([]map[string]string, len(entries))
			for i, e := range entries {
				out[i] = map[string]string{"kind": e.Kind, "amount": message.FormatMicros(e.Amount), "balance_after": message.FormatMicros(e.BalanceAfter),
					"reference": e.Reference, "reason": e.Reason, "actor": e.Actor, "at": e.CreatedAt.Format(time.RFC3339)}
			}
			return printJSON(stdout, map[string]any{"account": a.ID, "currency": a.Currency, "payment": a.Payment,
				"balance": message.FormatMicros(a.Balance), "ledger_sum": message.FormatMicros(sum), "entries": out})
		})
	case "topup", "refund", "adjust":
		amount := fs.String("amount", "", "amount, e.g. 25 or 12.50 (adjust takes a sign)")
		reason := fs.String("reason", "", "why (required; kept in the ledger)")
		key := fs.String("key", "", "idempotency key: the same key twice moves money once")
		operator := fs.String("operator", "", "who does it (default $USER)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		n, err := message.ParseMicros(*amount)
		if err != nil {
			return usagef("balance %s: --amount: %v", args[0], err)
		}
		kind := map[string]string{"topup": store.LedgerTopUp, "refund": store.LedgerRefund, "adjust": store.LedgerAdjustment}[args[0]]
		return withBilling(ctx, cfg, func(st *sqlstore.Store, b *billing.Service) error {
			e, err := b.Move(ctx, billing.Movement{AccountID: *account, Kind: kind, Amount: n, Reason: *reason, Actor: operatorName(*operator), IdempotencyKey: *key})
			switch {
			case errors.Is(err, store.ErrConflict):
				return fmt.Errorf("balance %s: key %q was used already; nothing changed", args[0], *key)
			case errors.Is(err, store.ErrInsufficientBalance):
				return fmt.Errorf("balance %s: the balance cannot go that low", args[0])
			case err != nil:
				return accountErr(err, *account)
			}
			return printJSON(stdout, map[string]string{"account": e.AccountID, "kind": e.Kind, "amount": message.FormatMicros(e.Amount),
				"balance": message.FormatMicros(e.BalanceAfter), "currency": e.Currency})
		})
	}
	return usagef("balance: unknown subcommand %q (show, topup, refund, adjust)", args[0])
}

func accountErr(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no account %q", id)
	}
	return err
}

// topupCmd: topup list | confirm | cancel.
func topupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("topup: say list, confirm or cancel")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("topup "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	switch args[0] {
	case "list":
		account := fs.String("account", "", "account id (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return printList(ctx, cfg, stdout, func(st *sqlstore.Store) ([]store.TopUp, error) { return st.TopUps(ctx, *account) }, showTopUp)
	case "confirm", "cancel":
		id := fs.String("id", "", "top-up id (required)")
		operator := fs.String("operator", "", "who settles it (default $USER)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		status := map[string]string{"confirm": store.TopUpConfirmed, "cancel": store.TopUpCancelled}[args[0]]
		return withBilling(ctx, cfg, func(st *sqlstore.Store, _ *billing.Service) error {
			t, err := st.SettleTopUp(ctx, *id, status, operatorName(*operator))
			switch {
			case errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("topup %s: no top-up %q", args[0], *id)
			case errors.Is(err, store.ErrConflict):
				return fmt.Errorf("topup %s: %q is not pending", args[0], *id)
			case err != nil:
				return err
			}
			return printJSON(stdout, showTopUp(*t))
		})
	}
	return usagef("topup: unknown subcommand %q (list, confirm, cancel)", args[0])
}

func showTopUp(t store.TopUp) map[string]any {
	return map[string]any{"id": t.ID, "account": t.AccountID, "amount": message.FormatMicros(t.Amount), "currency": t.Currency,
		"status": t.Status, "provider": t.Provider, "automatic": t.Automatic, "created": t.CreatedAt.Format(time.RFC3339)}
}

// pricesCmd: prices import FILE | list.
func pricesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("prices: say import or list")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("prices "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "an account's own price list (default: the default list)")
	switch args[0] {
	case "import":
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			return usagef("prices import: give the CSV file first: prices import FILE [--account ID]")
		}
		file := args[1]
		progress := progressFlag(fs)
		if err := parse(fs, args[2:], stderr); err != nil {
			return err
		}
		f, size, err := openImport(file)
		if err != nil {
			return err
		}
		defer f.Close()
		return withBilling(ctx, cfg, func(st *sqlstore.Store, _ *billing.Service) error {
			if *account != "" {
				if _, err := st.GetAccount(ctx, *account); err != nil {
					return accountErr(err, *account)
				}
			}
			im, err := runImport(ctx, st, store.ImportPrices, "", f, size, *progress, stderr, func(rn *imports.Runner, im *store.Import, show func(imports.Status)) error {
				return rn.RunPrices(ctx, im, f, *account, app.PricedChannels(), show)
			})
			if err != nil {
				return fmt.Errorf("prices import %s: %w", file, err)
			}
			return printJSON(stdout, map[string]int{"imported": int(im.Imported)})
		})
	case "list":
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return withBilling(ctx, cfg, func(st *sqlstore.Store, _ *billing.Service) error {
			all, err := st.Prices(ctx)
			if err != nil {
				return err
			}
			var mine []store.Price
			for _, p := range all {
				if p.AccountID == *account {
					mine = append(mine, p)
				}
			}
			return billing.FormatPrices(stdout, mine)
		})
	}
	return usagef("prices: unknown subcommand %q (import, list)", args[0])
}

// limitCmd: limit set | list | remove.
func limitCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("limit: say set, list or remove")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("limit "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (required)")
	metric := fs.String("metric", "messages", "messages (recipients × segments on a channel) or spend")
	channel := fs.String("channel", "sms", "channel of a messages limit")
	period := fs.String("period", "month", "day or month")
	limit := fs.String("limit", "", "messages: a whole number; spend: an amount")
	policy := fs.String("policy", "block", "at 100 %: block (refuse sends) or allow (overage)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	return withBilling(ctx, cfg, func(st *sqlstore.Store, _ *billing.Service) error {
		if _, err := st.GetAccount(ctx, *account); err != nil {
			return accountErr(err, *account)
		}
		switch args[0] {
		case "set":
			l, err := admin.ParseLimit(*account, *metric, *channel, *period, *limit, *policy)
			if err != nil {
				return usageError{err}
			}
			if err := st.SetUsageLimit(ctx, l); err != nil {
				return err
			}
			return printJSON(stdout, l)
		case "list":
			usage, err := st.Usage(ctx, *account, time.Now())
			if err != nil {
				return err
			}
			return printJSON(stdout, usage)
		case "remove":
			l := store.UsageLimit{AccountID: *account, Metric: *metric, Channel: *channel, Period: *period}
			if l.Metric == store.MetricSpend {
				l.Channel = ""
			}
			if err := st.DeleteUsageLimit(ctx, l); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("limit remove: no such limit")
			} else if err != nil {
				return err
			}
			return printJSON(stdout, map[string]string{"removed": l.Metric + "/" + l.Period})
		}
		return usagef("limit: unknown subcommand %q (set, list, remove)", args[0])
	})
}

// billingCmd: billing set — payment, credit limit, alerts, automatic top-up.
func billingCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "set" {
		return usagef("billing: say set")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("billing set", flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (required)")
	payment := fs.String("payment", "", "prepaid or postpaid")
	credit := fs.String("credit-limit", "", "postpaid: how far below zero the balance may go")
	alertURL := fs.String("alert-url", "", "usage alerts are POSTed here")
	alertEmails := fs.String("alert-emails", "", "usage alerts are mailed here (comma separated)")
	auto := fs.String("autotopup", "", "on or off")
	threshold := fs.String("autotopup-threshold", "", "request a top-up below this balance")
	amount := fs.String("autotopup-amount", "", "of this amount")
	operator := fs.String("operator", "", "who records the change (default $USER)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return withBilling(ctx, cfg, func(st *sqlstore.Store, b *billing.Service) error {
		a, err := st.GetAccount(ctx, *account)
		if err != nil {
			return accountErr(err, *account)
		}
		if set["payment"] {
			a.Payment = *payment
		}
		if set["credit-limit"] {
			if a.CreditLimit, err = message.ParseMicros(*credit); err != nil {
				return usagef("billing set: --credit-limit: %v", err)
			}
		}
		if set["alert-url"] {
			a.AlertURL = *alertURL
		}
		if set["alert-emails"] {
			a.AlertEmails = nil
			for _, e := range strings.Split(*alertEmails, ",") {
				if e = strings.TrimSpace(e); e != "" {
					a.AlertEmails = append(a.AlertEmails, e)
				}
			}
		}
		if err := admin.CheckBilling(a); err != nil {
			return usageError{err}
		}
		if err := st.SetBilling(ctx, a); err != nil {
			return err
		}
		if set["autotopup"] {
			t := billing.AutoTopUp{Enabled: *auto == "on"}
			if *auto != "on" && *auto != "off" {
				return usagef("billing set: --autotopup on or off")
			}
			if t.Threshold, err = message.ParseMicros(orZero(*threshold)); err != nil {
				return usagef("billing set: --autotopup-threshold: %v", err)
			}
			if t.Amount, err = message.ParseMicros(orZero(*amount)); err != nil {
				return usagef("billing set: --autotopup-amount: %v", err)
			}
			if a, err = b.SetAutoTopUp(ctx, a.ID, t, operatorName(*operator)); err != nil {
				return usageError{err}
			}
		}
		return printJSON(stdout, map[string]any{"account": a.ID, "payment": a.Payment, "credit_limit": message.FormatMicros(a.CreditLimit),
			"alert_url": a.AlertURL, "alert_emails": a.AlertEmails, "autotopup": a.TopUpEnabled,
			"autotopup_threshold": message.FormatMicros(a.TopUpThreshold), "autotopup_amount": message.FormatMicros(a.TopUpAmount),
			"autotopup_consent": a.TopUpConsent})
	})
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// statementCmd: statement --account ID --month YYYY-MM [--csv].
func statementCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg app.Config
	fs := flag.NewFlagSet("statement", flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (required)")
	month := fs.String("month", time.Now().UTC().Format("2006-01"), "the month, YYYY-MM")
	asCSV := fs.Bool("csv", false, "print CSV instead of JSON")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	return withBilling(ctx, cfg, func(st *sqlstore.Store, b *billing.Service) error {
		s, err := b.MonthlyStatement(ctx, *account, *month)
		if errors.Is(err, store.ErrNotFound) {
			return accountErr(err, *account)
		} else if err != nil {
			return usageError{err}
		}
		if *asCSV {
			return billing.WriteStatementCSV(stdout, s)
		}
		return printJSON(stdout, s)
	})
}
