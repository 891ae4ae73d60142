package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/omnigate/omnigate/internal/api/conversations"
	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// channelCmd handles `omnigate channel add|list`: the Conversations API's
// channels, whose ids POST /v1/send takes as "from" (docs/conversations.md).
func channelCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		return usagef("channel: say add or list")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("channel "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (required for add; list shows every account's without it)")
	kind := fs.String("kind", "", "sms, whatsapp or email")
	sender := fs.String("sender", "", "a number or alphanumeric (sms), a phone number id (whatsapp), an address (email)")
	name := fs.String("name", "", "a name to tell the channel by (default: kind and sender)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		if args[0] == "list" {
			list, _, err := st.ListConvChannels(ctx, *account, 1<<30, 0)
			if err != nil {
				return err
			}
			out := make([]map[string]string, len(list))
			for i, c := range list {
				out[i] = channelOut(c)
			}
			return printJSON(stdout, out)
		}
		if *account == "" {
			return usagef("channel add: --account is required")
		}
		c, err := conversations.AddChannel(ctx, st, *account, *kind, *sender, *name)
		var ce *conversations.ChannelError
		switch {
		case errors.As(err, &ce):
			return usagef("channel add: --%s: %s", ce.Field, ce.Reason)
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("channel add: no account %q", *account)
		case err != nil:
			return err
		}
		return printJSON(stdout, channelOut(c))
	})
}

func channelOut(c *store.ConvChannel) map[string]string {
	return map[string]string{"id": c.ID, "account": c.AccountID, "name": c.Name, "kind": c.Kind, "sender": c.Sender,
		"status": c.Status, "created": c.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")}
}
