package main

import (
	"context"
	"flag"
	"io"

	"github.com/omnigate/omnigate/internal/api/twilio"
	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// twilioCmd handles `omnigate twilio credentials`: the account SID and
// auth token (and API keys) of the Twilio door (docs/twilio.md).
func twilioCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "credentials" {
		return usagef("twilio: say credentials")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("twilio credentials", flag.ContinueOnError)
	storeFlags(fs, &cfg)
	id := fs.String("account", "", "account id (required)")
	rotate := fs.Bool("rotate", false, "replace the auth token (the account SID stays); the old token stops working within seconds")
	apiKey := fs.Bool("api-key", false, "also issue a new API key (SK…) and secret; the secret is shown only now")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	if *id == "" {
		return usagef("twilio credentials: --account is required")
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		c, err := twilio.IssueCredentials(ctx, st, *id, *rotate, *apiKey)
		if err != nil {
			return err
		}
		return printJSON(stdout, c)
	})
}
