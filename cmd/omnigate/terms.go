package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
	"github.com/omnigate/omnigate/internal/terms"
)

// termsCmd: terms publish | list | acceptances — the terms of service
// (ACCT-7); subprocessors set | list (PRIV-7). The admin API's routes do
// the same (docs/operations.md, "Terms of service and sub-processors").
func termsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("terms: say publish, list or acceptances")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("terms "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	version := fs.String("version", "", "publish, acceptances: the version")
	link := fs.String("url", "", "publish: where the text is")
	summary := fs.String("summary", "", "publish: what changed, as announced to every account")
	effective := fs.String("effective", "", "publish: when it takes effect (RFC 3339; default now)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		switch args[0] {
		case "publish":
			var eff time.Time
			if *effective != "" {
				t, err := time.Parse(time.RFC3339, *effective)
				if err != nil {
					return usagef("--effective: %v", err)
				}
				eff = t
			}
			v, err := terms.Publish(ctx, st, *version, *link, *summary, eff, time.Now())
			var inv *terms.InvalidError
			if errors.As(err, &inv) {
				return usagef("--%s: %s", inv.Param, inv.Msg)
			}
			if err != nil {
				return err
			}
			return printJSON(stdout, v)
		case "list":
			list, err := st.ListTerms(ctx)
			if err != nil {
				return err
			}
			if list == nil {
				list = []store.TermsVersion{}
			}
			return printJSON(stdout, list)
		case "acceptances":
			if *version == "" {
				return usagef("terms acceptances --version V")
			}
			list, err := st.TermsAcceptances(ctx, "", *version)
			if err != nil {
				return err
			}
			if list == nil {
				list = []store.TermsAcceptance{}
			}
			return printJSON(stdout, list)
		}
		return usagef("terms: say publish, list or acceptances")
	})
}

// subprocessorsCmd: subprocessors set --file list.json | list.
func subprocessorsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("subprocessors: say set or list")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("subprocessors "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	file := fs.String("file", "", `set: a JSON array of {"name", "purpose", "location"}: the whole list`)
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		switch args[0] {
		case "set":
			raw, err := os.ReadFile(*file)
			if err != nil {
				return usagef("--file: %v", err)
			}
			var list []store.Subprocessor
			if err := json.Unmarshal(raw, &list); err != nil {
				return usagef("--file: a JSON array of {\"name\", \"purpose\", \"location\"}: %v", err)
			}
			changed, err := terms.SetSubprocessors(ctx, st, list, time.Now())
			var inv *terms.InvalidError
			if errors.As(err, &inv) {
				return usagef("%s: %s", inv.Param, inv.Msg)
			}
			if err != nil {
				return err
			}
			cur, at, err := st.Subprocessors(ctx)
			if err != nil {
				return err
			}
			return printJSON(stdout, map[string]any{"changed": changed, "changedAt": at, "subprocessors": cur})
		case "list":
			cur, at, err := st.Subprocessors(ctx)
			if err != nil {
				return err
			}
			return printJSON(stdout, map[string]any{"changedAt": at, "subprocessors": cur})
		}
		return usagef("subprocessors: say set or list")
	})
}
