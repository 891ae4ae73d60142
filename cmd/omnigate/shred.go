package main

import (
	"context"
	"flag"
	"io"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// shredCmd crypto-shreds an account (docs/operations.md, "Data at rest"):
//
//	omnigate account shred --account ID --yes
//
// It deletes the account's data keys; the message bodies and contents they
// encrypted then read as "[erased]" on every node (within a minute on
// nodes that are running) and in every copy of the database.
func shredCmd(ctx context.Context, cfg app.Config, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	account := fs.String("account", "", "account id (required)")
	yes := fs.Bool("yes", false, "confirm: what the account's keys encrypted cannot be recovered")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *account == "" {
		return usagef("account shred: --account is required")
	}
	if !*yes {
		return usagef("account shred: this erases the account's stored message bodies for good: add --yes")
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		if _, err := st.GetAccount(ctx, *account); err != nil {
			return accountErr(err, *account)
		}
		n, err := st.ShredAccount(ctx, *account)
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{"account": *account, "data_keys_deleted": n})
	})
}
