package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// suppressionCmd: suppression list | add | remove | removals | import FILE | export.
// The account API's routes do the same (docs/compliance.md#suppressions).
func suppressionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("suppression: say list, add, remove, removals, import or export")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("suppression "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (required)")
	channel := fs.String("channel", "", "sms, email or push (add: default from the address)")
	recipient := fs.String("recipient", "", "the address: a phone number or an email address")
	reason := fs.String("reason", "", "add: manual (default), bounce, complaint or unsubscribe; remove: why (required, kept); list: a reason to filter by")
	operator := fs.String("operator", "", "who acts (default $USER)")
	q := fs.String("q", "", "list, export: addresses containing this (any case)")
	prefix := fs.String("prefix", "", "list, export: addresses starting with this")
	since := fs.String("since", "", "list, export: added at or after this RFC 3339 time")
	limit := fs.Int("limit", 100, "list: at most this many (0: all)")
	offset := fs.Int("offset", 0, "list: skip this many")
	progress := progressFlag(fs)
	rest := args[1:]
	var file string
	if args[0] == "import" {
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			return usagef("suppression import FILE --account ID (CSV: channel,recipient[,reason])")
		}
		file, rest = args[1], args[2:]
	}
	if err := parse(fs, rest, stderr); err != nil {
		return err
	}
	filter := func() (store.SuppressionFilter, error) {
		f := store.SuppressionFilter{Channel: *channel, Contains: *q, Prefix: *prefix, Limit: *limit, Offset: *offset}
		if args[0] == "list" {
			f.Reason = *reason
		}
		if *since != "" {
			t, err := time.Parse(time.RFC3339, *since)
			if err != nil {
				return f, usagef("--since %q: write it as RFC 3339, e.g. 2026-11-25T10:00:00Z", *since)
			}
			f.Since = t
		}
		if _, ok := compliance.SuppressionChannels[f.Channel]; f.Channel != "" && !ok {
			return f, usagef("--channel %q: use sms, email or push", f.Channel)
		}
		return f, nil
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		if _, err := st.GetAccount(ctx, *account); err != nil {
			return accountErr(err, *account)
		}
		switch args[0] {
		case "list":
			f, err := filter()
			if err != nil {
				return err
			}
			list, err := st.Suppressions(ctx, *account, f)
			if err != nil {
				return err
			}
			return printJSON(stdout, list)
		case "export":
			f, err := filter()
			if err != nil {
				return err
			}
			f.Limit, f.Offset = 0, 0
			list, err := st.Suppressions(ctx, *account, f)
			if err != nil {
				return err
			}
			cw := csv.NewWriter(stdout)
			cw.Write(compliance.SuppressionCSVHeader)
			compliance.WriteSuppressionsCSV(cw, list)
			cw.Flush()
			return cw.Error()
		case "add":
			sp, err := compliance.ParseSuppression(*channel, *recipient, *reason)
			if err != nil {
				return usageError{err}
			}
			sp.Actor, sp.CreatedAt = operatorName(*operator), time.Now().UTC()
			if err := st.AddSuppression(ctx, *account, sp); err != nil {
				return err
			}
			// An address on the list already keeps its reason: show what is stored.
			why, err := st.Suppressed(ctx, *account, sp.Channel, []string{sp.Recipient})
			if err != nil {
				return err
			}
			sp.Reason = why[sp.Recipient]
			return printJSON(stdout, sp)
		case "remove":
			ch := *channel
			if ch == "" {
				ch = store.AddressChannel(*recipient)
			}
			addr, err := compliance.ParseSuppressionAddress(ch, strings.TrimSpace(*recipient))
			if err != nil {
				return usageError{err}
			}
			why := strings.TrimSpace(*reason)
			if why == "" || len(why) > compliance.MaxRemovalReason {
				return usagef("suppression remove: say why with --reason (at most %d bytes); it is kept", compliance.MaxRemovalReason)
			}
			was, err := st.Suppressed(ctx, *account, ch, []string{addr})
			if err != nil {
				return err
			}
			if was[addr] == store.SuppressOptOut {
				return fmt.Errorf("%s opted out on %s: only a new opt-in in the consent ledger lifts it", addr, ch)
			}
			rm, err := st.RemoveSuppression(ctx, *account, store.SuppressionRemoval{Suppression: store.Suppression{Channel: ch, Recipient: addr},
				RemovedBy: operatorName(*operator), RemovalReason: why})
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%s is not suppressed on %s", addr, ch)
			}
			if err != nil {
				return err
			}
			return printJSON(stdout, rm)
		case "removals":
			ch, addr := *channel, ""
			if *recipient != "" {
				if ch == "" {
					ch = store.AddressChannel(*recipient)
				}
				a, err := compliance.ParseSuppressionAddress(ch, strings.TrimSpace(*recipient))
				if err != nil {
					return usageError{err}
				}
				addr = a
			}
			list, err := st.SuppressionRemovals(ctx, *account, ch, addr, *limit)
			if err != nil {
				return err
			}
			return printJSON(stdout, list)
		case "import":
			f, size, err := openImport(file)
			if err != nil {
				return err
			}
			defer f.Close()
			var added int64
			im, err := runImport(ctx, st, store.ImportSuppressions, *account, f, size, *progress, stderr, func(rn *imports.Runner, im *store.Import, show func(imports.Status)) (err error) {
				added, err = rn.RunSuppressions(ctx, im, f, "import by "+operatorName(*operator), show)
				return err
			})
			if err != nil {
				return fmt.Errorf("suppression import %s: %w", file, err)
			}
			return printJSON(stdout, map[string]int64{"rows": im.Imported, "added": added})
		}
		return usagef("suppression: unknown subcommand %q (list, add, remove, removals, import, export)", args[0])
	})
}
