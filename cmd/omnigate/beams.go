package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// beamsCmd manages Beams (push notification) instances (docs/push.md). An
// instance is a realtime app: `beams create` is `app create` that prints
// the instance id and secret key, with a monthly publish quota.
//
//	omnigate beams create --account ID [--name N] [--max-publishes-per-month N]
//	omnigate beams quota --id INSTANCE --max-publishes-per-month N
//	omnigate beams credentials --id INSTANCE [--apns-key FILE --apns-key-id K --apns-team-id T --apns-topic B [--apns-sandbox]]
//	                           [--fcm-service-account FILE] [--remove apns|fcm]
func beamsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("beams: say create, quota or credentials")
	}
	if args[0] == "credentials" {
		return beamsCredentialsCmd(ctx, args[1:], stdout, stderr)
	}
	var cfg app.Config
	fs := flag.NewFlagSet("beams "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	quota := fs.Int64("max-publishes-per-month", 0, "publishes per UTC month; at 100 % publishes are refused (429), with notices at 80 % and 100 %; 0: unlimited")
	type instanceJSON struct {
		InstanceID           string `json:"instanceId"`
		SecretKey            string `json:"secretKey,omitempty"`
		MaxPublishesPerMonth int64  `json:"maxPublishesPerMonth"`
		PublishesThisMonth   int64  `json:"publishesThisMonth"`
	}
	switch args[0] {
	case "create":
		account := fs.String("account", "", "the account the instance belongs to (required)")
		name := fs.String("name", "beams", "the instance's name")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *account == "" {
			return usagef("beams create: --account is required")
		}
		if *quota < 0 {
			return usagef("beams create: --max-publishes-per-month must not be negative")
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			a, err := realtime.CreateApp(ctx, st, *account, "", func(a *store.RealtimeApp) { a.Name = *name })
			if errors.Is(err, store.ErrNotFound) {
				return usagef("beams create: no account %q", *account)
			}
			if err != nil {
				return err
			}
			if err := st.SetPushQuota(ctx, a.ID, *quota); err != nil {
				return err
			}
			return printJSON(stdout, instanceJSON{InstanceID: a.ID, SecretKey: a.Secret, MaxPublishesPerMonth: *quota})
		})
	case "quota":
		id := fs.String("id", "", "instance id (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *id == "" {
			return usagef("beams quota: --id is required")
		}
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "max-publishes-per-month" })
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			if _, err := st.RealtimeAppByID(ctx, *id); errors.Is(err, store.ErrNotFound) {
				return usagef("beams quota: no instance %q", *id)
			} else if err != nil {
				return err
			}
			if set {
				if *quota < 0 {
					return usagef("beams quota: --max-publishes-per-month must not be negative")
				}
				if err := st.SetPushQuota(ctx, *id, *quota); err != nil {
					return err
				}
			}
			max, used, err := st.PushQuota(ctx, *id, time.Now())
			if err != nil {
				return err
			}
			return printJSON(stdout, instanceJSON{InstanceID: *id, MaxPublishesPerMonth: max, PublishesThisMonth: used})
		})
	}
	return usagef("beams: unknown command %q (create, quota or credentials)", args[0])
}
