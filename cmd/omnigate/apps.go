package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// appCmd manages realtime apps (docs/realtime.md): the app id, key and
// secret that pusher-js and the Pusher server SDKs are configured with.
//
//	omnigate app create --account ID [--name N] [--webhook URL] [limits]
//	omnigate app list [--account ID]
//	omnigate app update --id APP [--name N] [--webhook URL] [--enabled=false] [limits]
//	omnigate app rotate --id APP [--grace 24h]
//	omnigate app errors --id APP
//	omnigate app delete --id APP
func appCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("app: say create, list, update, rotate, errors or delete")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("app "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	// settings adds the flags create and update share.
	settings := func() func(*store.RealtimeApp) {
		name := fs.String("name", "", "the app's name")
		webhook := fs.String("webhook", "", "URL that receives the app's webhooks (channel_occupied, member_added …); \"\" for none")
		events := fs.String("webhook-events", "", "comma-separated webhook events to send; empty: all")
		maxConns := fs.Int("max-connections", 0, "concurrent connections across the cluster; 0: unlimited")
		maxMsgs := fs.Int64("max-messages-per-day", 0, "messages per UTC day; 0: unlimited")
		rate := fs.Int("client-event-rate", 0, "client events per second per connection; 0: the server's default (10)")
		enabled := fs.Bool("enabled", true, "accept connections and API calls")
		subCount := fs.Bool("subscription-count", false, "send pusher:subscription_count events and the subscription_count webhook")
		return func(a *store.RealtimeApp) {
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			if set["name"] {
				a.Name = *name
			}
			if set["webhook"] {
				a.WebhookURL = *webhook
			}
			if set["webhook-events"] {
				a.WebhookEvents = nil
				for _, e := range strings.Split(*events, ",") {
					if e = strings.TrimSpace(e); e != "" {
						a.WebhookEvents = append(a.WebhookEvents, e)
					}
				}
			}
			if set["max-connections"] {
				a.MaxConnections = *maxConns
			}
			if set["max-messages-per-day"] {
				a.MaxMessagesPerDay = *maxMsgs
			}
			if set["client-event-rate"] {
				a.ClientEventRate = *rate
			}
			if set["enabled"] {
				a.Enabled = *enabled
			}
			if set["subscription-count"] {
				a.SubscriptionCount = *subCount
			}
		}
	}
	// byID finds an app for the commands that take --id.
	byID := func(st *sqlstore.Store, id string) (*store.RealtimeApp, error) {
		a, err := st.RealtimeAppByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, usagef("app %s: no realtime app with id %q", args[0], id)
		}
		return a, err
	}
	// withApp opens the store and finds the app for one command.
	withApp := func(id string, f func(st *sqlstore.Store, a *store.RealtimeApp) error) error {
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			a, err := byID(st, id)
			if err != nil {
				return err
			}
			return f(st, a)
		})
	}
	inputErr := func(err error) error {
		var in *realtime.InputError
		if errors.As(err, &in) {
			flagName := strings.ReplaceAll(in.Field, "_", "-")
			if flagName == "webhook-url" {
				flagName = "webhook"
			}
			return usagef("app %s: --%s: %s", args[0], flagName, in.Reason)
		}
		return err
	}

	switch args[0] {
	case "create":
		account := fs.String("account", "", "the account the app belongs to (required)")
		apply := settings()
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *account == "" {
			return usagef("app create: --account is required")
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			a, err := realtime.CreateApp(ctx, st, *account, "", apply)
			if errors.Is(err, store.ErrNotFound) {
				return usagef("app create: no account %q", *account)
			}
			if err != nil {
				return inputErr(err)
			}
			return printJSON(stdout, showRealtimeApp(a, true))
		})
	case "list":
		account := fs.String("account", "", "list this account's apps; empty: every account's")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return printList(ctx, cfg, stdout, func(st *sqlstore.Store) ([]*store.RealtimeApp, error) {
			return st.ListRealtimeApps(ctx, *account)
		}, func(a *store.RealtimeApp) appJSON { return showRealtimeApp(a, false) })
	case "update":
		id := fs.String("id", "", "app id (required)")
		apply := settings()
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *id == "" {
			return usagef("app update: --id is required")
		}
		return withApp(*id, func(st *sqlstore.Store, a *store.RealtimeApp) error {
			apply(a)
			if err := realtime.ValidateApp(a); err != nil {
				return inputErr(err)
			}
			if err := st.UpdateRealtimeApp(ctx, a); err != nil {
				return err
			}
			a, err := st.GetRealtimeApp(ctx, a.AccountID, a.ID)
			if err != nil {
				return err
			}
			return printJSON(stdout, showRealtimeApp(a, false))
		})
	case "rotate":
		id := fs.String("id", "", "app id (required)")
		grace := fs.Duration("grace", realtime.DefaultSecretGrace, "how long the current secret stays valid beside the new one")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *id == "" {
			return usagef("app rotate: --id is required")
		}
		if *grace < time.Second || *grace > 30*24*time.Hour {
			return usagef("app rotate: --grace %v: use 1s to 720h", *grace)
		}
		return withApp(*id, func(st *sqlstore.Store, a *store.RealtimeApp) error {
			a, err := realtime.RotateSecret(ctx, st, a.AccountID, a.ID, *grace)
			if err != nil {
				return err
			}
			return printJSON(stdout, showRealtimeApp(a, true))
		})
	case "errors":
		id := fs.String("id", "", "app id (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *id == "" {
			return usagef("app errors: --id is required")
		}
		return printList(ctx, cfg, stdout, func(st *sqlstore.Store) ([]store.RealtimeError, error) {
			a, err := byID(st, *id)
			if err != nil {
				return nil, err
			}
			return st.ListRealtimeErrors(ctx, a.AccountID, a.ID)
		}, realtime.ShowError)
	case "delete":
		id := fs.String("id", "", "app id (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *id == "" {
			return usagef("app delete: --id is required")
		}
		return withApp(*id, func(st *sqlstore.Store, a *store.RealtimeApp) error {
			if err := st.DeleteRealtimeApp(ctx, a.AccountID, a.ID); err != nil {
				return err
			}
			return printJSON(stdout, map[string]any{"app_id": a.ID, "deleted": true})
		})
	default:
		return usagef("app: unknown subcommand %q (create, list, update, rotate, errors, delete)", args[0])
	}
}

// appJSON is how the CLI shows an app: the REST API's shape plus the
// account it belongs to.
type appJSON struct {
	AccountID string `json:"account_id"`
	realtime.AppJSON
}

func showRealtimeApp(a *store.RealtimeApp, withSecret bool) appJSON {
	return appJSON{AccountID: a.AccountID, AppJSON: realtime.ShowApp(a, withSecret, time.Now())}
}
