package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/privacy"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// privacyCmd: privacy open | list | show | export | extend | close — the
// operator's data-subject requests (docs/privacy.md); the admin API's
// /admin/privacy/requests does the same.
func privacyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("privacy: say open, list, show, export, extend or close")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("privacy "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "open: the account whose data it covers (default: every account); list: only this account's")
	identifier := fs.String("identifier", "", "open: the person's phone number (+E.164), email address or chat id")
	idType := fs.String("type", "", "open: phone, email or chat (default: from the identifier)")
	kind := fs.String("kind", "", "open: access, erasure, restriction or rectification")
	note := fs.String("note", "", "open, close: a note kept with the request")
	first := fs.String("first-name", "", "open --kind rectification: the contact's new first name")
	last := fs.String("last-name", "", "open --kind rectification: the contact's new last name")
	id := fs.String("id", "", "show, export, extend, close: the request's id")
	reason := fs.String("reason", "", "extend: why more time is needed (required)")
	out := fs.String("out", "", "export: write the zip here (default: stdout)")
	status := fs.String("status", "", "list: open, in_progress, completed, refused or closed")
	operator := fs.String("operator", "", "who acts (default $USER)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	actor := "operator " + operatorName(*operator)
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		svc := &privacy.Service{Store: st}
		fail := func(err error) error {
			if errors.Is(err, privacy.ErrInvalid) {
				return usagef("%s", strings.TrimPrefix(err.Error(), privacy.ErrInvalid.Error()+": "))
			}
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no privacy request %q", *id)
			}
			return err
		}
		show := func(r *store.PrivacyRequest) error {
			hist, err := st.PrivacyEvents(ctx, r.ID)
			if err != nil {
				return err
			}
			return printJSON(stdout, privacy.View(r, hist))
		}
		needID := func() error {
			if *id == "" {
				return usagef("privacy %s: --id is required", args[0])
			}
			return nil
		}
		switch args[0] {
		case "open":
			if *account != "" {
				if _, err := st.GetAccount(ctx, *account); err != nil {
					return accountErr(err, *account)
				}
			}
			var changes *store.ContactChanges
			if *first != "" || *last != "" {
				changes = &store.ContactChanges{}
				if *first != "" {
					changes.FirstName = first
				}
				if *last != "" {
					changes.LastName = last
				}
			}
			r, err := svc.Open(ctx, privacy.Open{AccountID: *account, Identifier: *identifier, Type: *idType, Kind: *kind, Note: *note,
				Changes: changes, Actor: actor})
			if err != nil {
				return fail(err)
			}
			return show(r)
		case "list":
			f := store.PrivacyFilter{AccountID: "*", Status: *status}
			if *account != "" {
				f.AccountID = *account
			}
			list, err := st.ListPrivacyRequests(ctx, f)
			if err != nil {
				return err
			}
			views := []privacy.RequestView{}
			for _, r := range list {
				views = append(views, privacy.View(r, nil))
			}
			return printJSON(stdout, views)
		case "show":
			if err := needID(); err != nil {
				return err
			}
			r, err := st.GetPrivacyRequest(ctx, "*", *id)
			if err != nil {
				return fail(err)
			}
			return show(r)
		case "export":
			if err := needID(); err != nil {
				return err
			}
			b, err := st.PrivacyExport(ctx, "*", *id)
			if err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("privacy request %q has no export (only a completed access request has one)", *id)
				}
				return err
			}
			if *out == "" {
				_, err = stdout.Write(b)
				return err
			}
			return os.WriteFile(*out, b, 0o600)
		case "extend":
			if err := needID(); err != nil {
				return err
			}
			r, err := svc.Extend(ctx, "*", *id, *reason, actor)
			if err != nil {
				return fail(err)
			}
			return show(r)
		case "close":
			if err := needID(); err != nil {
				return err
			}
			r, err := svc.Close(ctx, "*", *id, *note, actor)
			if err != nil {
				return fail(err)
			}
			return show(r)
		}
		return usagef("privacy %s: say open, list, show, export, extend or close", args[0])
	})
}

// retentionCmd: retention show | set KIND=DAYS… | reset KIND… | run | runs —
// the retention schedule (docs/privacy.md); the admin API's
// /admin/retention does the same.
func retentionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("retention: say show, set, reset, run or runs")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("retention "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	conf := fs.String("retention", os.Getenv("OMNIGATE_RETENTION"), "the configured periods, kind=days,… (as serve's --retention) [OMNIGATE_RETENTION]")
	limit := fs.Int("limit", 20, "runs: at most this many")
	operator := fs.String("operator", "", "who acts (default $USER)")
	// Positional kinds (set, reset) come before the flags.
	kinds, rest := args[1:], []string(nil)
	for i, a := range kinds {
		if strings.HasPrefix(a, "-") {
			kinds, rest = kinds[:i], kinds[i:]
			break
		}
	}
	if len(kinds) > 0 && args[0] != "set" && args[0] != "reset" {
		return usagef("retention %s takes no %q", args[0], kinds[0])
	}
	if err := parse(fs, rest, stderr); err != nil {
		return err
	}
	configured, err := privacy.ParseRetention(*conf)
	if err != nil {
		return usagef("--retention: %s", strings.TrimPrefix(err.Error(), privacy.ErrInvalid.Error()+": "))
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		node, _ := os.Hostname()
		ret := &privacy.Retention{Store: st, Config: configured, Node: "cli@" + node}
		showPeriods := func() error {
			p, err := ret.Periods(ctx)
			if err != nil {
				return err
			}
			return printJSON(stdout, map[string]any{"days": p, "defaults": privacy.DefaultRetention})
		}
		switch args[0] {
		case "show":
			return showPeriods()
		case "set", "reset":
			if len(kinds) == 0 {
				return usagef("retention %s: name at least one kind (set: kind=days)", args[0])
			}
			type change struct {
				kind string
				days int
			}
			var changes []change
			for _, k := range kinds {
				days := "0"
				if args[0] == "set" {
					var ok bool
					if k, days, ok = strings.Cut(k, "="); !ok {
						return usagef("retention set %q: write kind=days, e.g. traffic=183", k)
					}
				}
				d, err := privacy.ValidateRetention(k, days)
				if err != nil {
					return usagef("%s", strings.TrimPrefix(err.Error(), privacy.ErrInvalid.Error()+": "))
				}
				if args[0] == "reset" {
					d = -1
				}
				changes = append(changes, change{k, d})
			}
			for _, c := range changes {
				if err := st.SetRetention(ctx, c.kind, c.days, "operator "+operatorName(*operator), time.Now()); err != nil {
					return err
				}
			}
			return showPeriods()
		case "run":
			run, err := ret.RunNow(ctx)
			if err != nil {
				return err
			}
			if run == nil {
				return fmt.Errorf("another operator's retention pass is running; try again in a few minutes")
			}
			return printJSON(stdout, run)
		case "runs":
			runs, err := st.RetentionRuns(ctx, *limit)
			if err != nil {
				return err
			}
			if runs == nil {
				runs = []*store.RetentionRun{}
			}
			return printJSON(stdout, runs)
		}
		return usagef("retention %s: say show, set, reset, run or runs", args[0])
	})
}
