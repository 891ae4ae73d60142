package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/api/admin"
	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// auditCmd: audit list | verify | export. Reads the stored audit log
// (docs/audit.md); GET /admin/audit does the same over HTTP.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("audit: say list, verify or export")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "list, export: changes concerning this account")
	actor := fs.String("actor", "", "list, export: changes by this actor (its id, or kind:id, e.g. operator:ann, key:KEYID, cli:root)")
	since := fs.String("since", "", "list, export: at or after this RFC 3339 time")
	until := fs.String("until", "", "list, export: before this RFC 3339 time")
	limit := fs.String("limit", "100", "list: at most this many, newest first (1 to 1000)")
	cursor := fs.String("cursor", "", "list: older than this seq (the last seq of the previous page)")
	format := fs.String("format", "jsonl", "export: jsonl or csv")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	q := map[string]string{"account": *account, "actor": *actor, "since": *since, "until": *until, "limit": *limit, "cursor": *cursor}
	f, err := admin.ParseAuditFilter(func(k string) string { return q[k] })
	if err != nil {
		return usageError{err}
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		switch args[0] {
		case "list":
			list, err := st.AuditEntries(ctx, f)
			if err != nil {
				return err
			}
			if list == nil {
				list = []store.AuditEntry{}
			}
			return printJSON(stdout, list)
		case "verify":
			res, err := audit.Verify(ctx, st)
			var b *audit.Break
			if errors.As(err, &b) {
				return fmt.Errorf("audit log does NOT verify: first bad row seq %d: %s (%d rows before it hold)", b.Seq, b.Reason, res.Rows)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "audit log verifies: %d rows, head %s\n", res.Rows, res.Head)
			return nil
		case "export":
			return exportAudit(ctx, st, f, *format, stdout)
		}
		return usagef("audit: unknown subcommand %q (list, verify or export)", args[0])
	})
}

// exportAudit writes every row the filter selects, oldest first, as JSON
// lines or CSV with the hashes, so that the export can be checked too.
func exportAudit(ctx context.Context, st *sqlstore.Store, f store.AuditFilter, format string, out io.Writer) error {
	var w *csv.Writer
	switch format {
	case "jsonl":
	case "csv":
		w = csv.NewWriter(out)
		w.Write([]string{"seq", "at", "actor_kind", "actor_id", "account", "ip", "action", "object", "before", "after", "prev_hash", "hash"})
	default:
		return usagef("audit export --format %q: use jsonl or csv", format)
	}
	enc := json.NewEncoder(out)
	var after int64
	for {
		rows, err := st.AuditChain(ctx, after, 1000)
		if err != nil {
			return err
		}
		for _, e := range rows {
			after = e.Seq
			if !matches(&e, f) {
				continue
			}
			if w != nil {
				w.Write([]string{strconv.FormatInt(e.Seq, 10), e.At.Format(time.RFC3339Nano), e.ActorKind, e.ActorID, e.AccountID,
					e.IP, e.Action, e.Object, e.Before, e.After, e.PrevHash, e.Hash})
			} else if err := enc.Encode(e); err != nil {
				return err
			}
		}
		if len(rows) < 1000 {
			break
		}
	}
	if w != nil {
		w.Flush()
		return w.Error()
	}
	return nil
}

func matches(e *store.AuditEntry, f store.AuditFilter) bool {
	if f.AccountID != "" && e.AccountID != f.AccountID {
		return false
	}
	if f.Actor != "" {
		if kind, id, ok := strings.Cut(f.Actor, ":"); ok {
			if e.ActorKind != kind || e.ActorID != id {
				return false
			}
		} else if e.ActorID != f.Actor && e.ActorKind != f.Actor {
			return false
		}
	}
	if !f.Since.IsZero() && e.At.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !e.At.Before(f.Until) {
		return false
	}
	return true
}

// The CLI's own changes go to the audit log too: run records a command
// that succeeded when it changes something (recordCLI), on the database
// the command opened (openStore remembers its configuration).
var cliStore struct {
	sync.Mutex
	cfg *app.Config
}

// openStore opens the store for a command, as app.OpenStore does, and
// remembers where, for the audit log.
func openStore(ctx context.Context, cfg app.Config) (*sqlstore.Store, error) {
	cliStore.Lock()
	if cliStore.cfg == nil {
		c := cfg
		cliStore.cfg = &c
	}
	cliStore.Unlock()
	return app.OpenStore(ctx, cfg)
}

// readOnlyCommands change nothing (or record themselves: serve), and
// readOnly subcommands of the others neither.
var readOnlyCommands = map[string]bool{
	"serve": true, "smsc": true, "mailsink": true, "chatsim": true, "version": true, "--version": true, "-version": true,
	"help": true, "-h": true, "--help": true, "audit": true, "backup": true, "restore": true, "statement": true,
}

var readOnly = map[string]bool{
	"list": true, "show": true, "status": true, "export": true, "verify": true, "history": true, "proof": true,
	"cases": true, "errors": true, "removals": true, "preview": true, "settings": true, "blocks": true,
	"generate": true, "-h": true, "--help": true, "-help": true,
}

// recordCLI appends a CLI command that changed something to the audit
// log: the actor is cli:<OS user>, the action the command, After its
// arguments with secret flags' values masked.
func recordCLI(ctx context.Context, args []string, stderr io.Writer) {
	if len(args) == 0 || readOnlyCommands[args[0]] {
		return
	}
	sub := 1
	if args[0] == "email" && len(args) > 2 && args[1] == "domain" {
		sub = 2 // omnigate email domain list
	}
	if len(args) > sub && readOnly[args[sub]] {
		return
	}
	cliStore.Lock()
	cfg := cliStore.cfg
	cliStore.Unlock()
	if cfg == nil {
		return
	}
	action := "omnigate " + args[0]
	for i := 1; i <= sub && i < len(args) && !strings.HasPrefix(args[i], "-"); i++ {
		action += " " + args[i]
	}
	_, account := maskArgs(args, nil)
	if account == "" && args[0] == "account" {
		_, account = flagValue(args, "id")
	}
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	st, err := app.OpenStore(ctx, *cfg)
	if err != nil {
		fmt.Fprintf(stderr, "omnigate: the change was made, but could not be written to the audit log: %v\n", err)
		return
	}
	defer st.Close()
	// A person's identifiers (--identifier, --recipient …) are recorded
	// as pseudonyms under the account's key (internal/audit, personal.go).
	key := st.AuditKey(ctx, account)
	masked, _ := maskArgs(args, func(v string) string { return audit.Pseudonym(key, v) })
	err = audit.NewLog(st, nil).Record(ctx, audit.Change{Actor: audit.Actor{Kind: audit.KindCLI, ID: name}, Account: account,
		Action: action, After: map[string]any{"args": masked}})
	if err != nil {
		fmt.Fprintf(stderr, "omnigate: the change was made, but could not be written to the audit log: %v\n", err)
	}
}

// maskArgs masks the values of secret flags (--key, --password …),
// replaces those of personal ones (--identifier, --recipient …) with
// pseudo's (when given), and finds --account.
func maskArgs(args []string, pseudo func(string) string) (out []string, account string) {
	out = append(out, args...)
	for i := 0; i < len(out); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(out[i], "-"), "=")
		if !strings.HasPrefix(out[i], "-") {
			continue
		}
		if name == "account" {
			if hasValue {
				account = value
			} else if i+1 < len(out) {
				account = out[i+1]
			}
		}
		replace := func(string) string { return audit.Masked }
		if !audit.IsSecret(name) {
			if pseudo == nil || !audit.IsPersonal(name) {
				continue
			}
			replace = pseudo
		}
		if hasValue {
			out[i] = out[i][:strings.IndexByte(out[i], '=')+1] + replace(value)
		} else if i+1 < len(out) && !strings.HasPrefix(out[i+1], "-") {
			out[i+1] = replace(out[i+1])
			i++
		}
	}
	return out, account
}

func flagValue(args []string, flagName string) (bool, string) {
	for i, a := range args {
		name, value, has := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != flagName {
			continue
		}
		if has {
			return true, value
		}
		if i+1 < len(args) {
			return true, args[i+1]
		}
	}
	return false, ""
}
