package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/backup"
	"github.com/omnigate/omnigate/internal/backupkeys"
	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// backupCmd: backup [--out DIR]. A consistent copy of the database while
// serve runs (docs/operations.md#backups).
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg app.Config
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	storeFlags(fs, &cfg)
	out := fs.String("out", envOr("OMNIGATE_BACKUP_DIR", ""), "directory the backup is written to; default: backups in the data directory [OMNIGATE_BACKUP_DIR]")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	cfg = cfg.WithDefaults()
	if *out == "" {
		*out = filepath.Join(cfg.DataDir, "backups")
	}
	res, err := backup.Make(ctx, source(cfg), *out, time.Now())
	if err != nil {
		return err
	}
	if !slices.Contains(cfg.BackupDirs(), *out) {
		fmt.Fprintf(stderr, "omnigate: warning: shreds and erasures reach the keys files and journal of %s only from processes told of it: "+
			"set OMNIGATE_BACKUP_DIR=%s for serve and the CLI (docs/operations.md#backups)\n", *out, *out)
	}
	return printJSON(stdout, map[string]any{"file": res.File, "keys_file": backupkeys.Path(res.File), "engine": res.Engine,
		"schema": res.Schema, "bytes": res.Bytes, "seconds": res.Took.Seconds()})
}

func source(cfg app.Config) backup.Source {
	if cfg.IsPostgres() {
		return backup.Source{DatabaseURL: cfg.DatabaseURL}
	}
	return backup.Source{SQLitePath: cfg.SQLitePath()}
}

// restoreCmd: restore --from FILE --data DIR | --database URL
// [--master-key-file FILE] [--journal FILE] [--without-keys]
// [--without-journal]. It puts the backup's data keys back from its keys
// file and erases again what the erasure journal says was erased since
// (docs/operations.md#backups).
func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg app.Config
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data", "", "SQLite: the new data directory to restore into (must be empty or missing)")
	fs.StringVar(&cfg.DatabaseURL, "database", "", "PostgreSQL: the database to restore into (postgres://…; must hold no omnigate tables)")
	fs.StringVar(&cfg.MasterKeyFile, "master-key-file", envOr("OMNIGATE_MASTER_KEY_FILE", ""), "the master key the backup's data keys are wrapped by: checked before restoring, and needed to apply the erasure journal [OMNIGATE_MASTER_KEY_FILE]")
	cfg.MasterKey = os.Getenv("OMNIGATE_MASTER_KEY")
	from := fs.String("from", "", "the backup file (required); its keys file <file>.keys must be beside it")
	journal := fs.String("journal", "", "the erasure journal; default: "+backupkeys.JournalName+" beside the backup")
	withoutKeys := fs.Bool("without-keys", false, "restore a backup whose keys file is lost, for salvage: everything encrypted is gone (message bodies and addresses read as erased; signing keys, API keys and stored credentials do not open)")
	withoutJournal := fs.Bool("without-journal", false, "restore without the erasure journal: erasures made since the backup are NOT applied again; you must repeat them")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *from == "" {
		return usagef("restore: --from FILE is required")
	}
	if (cfg.DataDir == "") == (cfg.DatabaseURL == "") {
		return usagef("restore: give --data DIR (a SQLite backup) or --database URL (a PostgreSQL backup)")
	}
	if cfg.DataDir != "" {
		entries, err := os.ReadDir(cfg.DataDir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if len(entries) > 0 {
			return fmt.Errorf("restore: %s is not empty; restore into a new data directory (a restore never overwrites data)", cfg.DataDir)
		}
	}
	opts := backup.RestoreOptions{WithoutKeys: *withoutKeys, Journal: *journal, WithoutJournal: *withoutJournal}
	var err error
	if opts.Master, err = restoreMaster(cfg); err != nil {
		return err
	}
	var replayed sqlstore.Replayed
	opts.Finish = func(ctx context.Context, db backup.Source, erasures []backupkeys.Entry, since time.Time) error {
		if len(erasures) == 0 {
			return nil
		}
		// The restored database, opened as serve opens it (migrated,
		// with the keyring), erases again.
		c := app.Config{DatabaseURL: db.DatabaseURL, MasterKeyFile: cfg.MasterKeyFile, MasterKey: cfg.MasterKey}
		if db.SQLitePath != "" {
			c.DataDir = filepath.Dir(db.SQLitePath)
		}
		st, err := app.OpenStore(ctx, c)
		if err != nil {
			return fmt.Errorf("restore: opening the restored database to apply the erasure journal: %w", err)
		}
		defer st.Close()
		replayed, err = st.ReplayErasures(ctx, erasures, since)
		return err
	}
	res, err := backup.Restore(ctx, *from, source(cfg), opts)
	if err != nil {
		return err
	}
	if res.NoKeys {
		fmt.Fprintln(stderr, "omnigate: restored WITHOUT the data keys: everything encrypted reads as erased; stored channel credentials must be set again")
	} else {
		fmt.Fprintln(stderr, "omnigate: restored; the secrets in it open only with the master key they were sealed with: start serve with that key (--master-key-file)")
	}
	if *withoutJournal {
		fmt.Fprintln(stderr, "omnigate: the erasure journal was not applied: repeat the erasures made since the backup")
	}
	return printJSON(stdout, map[string]any{"file": res.File, "engine": res.Engine, "schema": res.Schema, "bytes": res.Bytes,
		"seconds": res.Took.Seconds(), "data_keys": res.Keys, "shredded_keys_left_out": res.Shredded, "without_keys": res.NoKeys,
		"erasures_replayed": replayed.Erasures, "erasures_skipped": replayed.Skipped, "erased": replayed.Erased})
}

// restoreMaster is the master key restore was given, if any.
func restoreMaster(cfg app.Config) (keyring.Wrapper, error) {
	switch {
	case cfg.MasterKey != "":
		m, err := keyring.ParseMaster(cfg.MasterKey)
		if err != nil {
			return nil, fmt.Errorf("restore: master key (OMNIGATE_MASTER_KEY): %w", err)
		}
		return m, nil
	case cfg.MasterKeyFile != "":
		m, _, err := keyring.LoadMasterFile(cfg.MasterKeyFile)
		if err != nil {
			return nil, fmt.Errorf("restore: master key: %w", err)
		}
		return m, nil
	}
	return nil, nil
}
