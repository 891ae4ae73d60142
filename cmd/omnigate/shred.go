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
// It deletes the account's data keys from the database and from the keys
// files of the backup directories (--backup-dir, and backups in the data
// directory); the message bodies and contents they encrypted then read as
// "[erased]" on every node (within a minute on nodes that are running) and
// in every backup restored from those directories.
func shredCmd(ctx context.Context, cfg app.Config, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	account := fs.String("account", "", "account id (required)")
	fs.StringVar(&cfg.Backup.Dir, "backup-dir", cfg.Backup.Dir, "the directory of scheduled backups (serve's --backup-dir), whose keys files are rewritten; backups in the data directory's backups are reached too [OMNIGATE_BACKUP_DIR]")
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
		r, err := st.ShredAccount(ctx, *account)
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{"account": *account, "data_keys_deleted": r.DataKeys,
			"backup_keys_files_rewritten": r.BackupKeyFiles})
	})
}
