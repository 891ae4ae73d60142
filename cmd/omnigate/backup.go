package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/backup"
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
	return printJSON(stdout, map[string]any{"file": res.File, "engine": res.Engine, "schema": res.Schema, "bytes": res.Bytes,
		"seconds": res.Took.Seconds()})
}

func source(cfg app.Config) backup.Source {
	if cfg.IsPostgres() {
		return backup.Source{DatabaseURL: cfg.DatabaseURL}
	}
	return backup.Source{SQLitePath: cfg.SQLitePath()}
}

// restoreCmd: restore --from FILE --data DIR | --database URL.
func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg app.Config
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data", "", "SQLite: the new data directory to restore into (must be empty or missing)")
	fs.StringVar(&cfg.DatabaseURL, "database", "", "PostgreSQL: the database to restore into (postgres://…; must hold no omnigate tables)")
	from := fs.String("from", "", "the backup file (required)")
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
	res, err := backup.Restore(ctx, *from, source(cfg))
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "omnigate: restored; the secrets in it open only with the master key they were sealed with: start serve with that key (--master-key-file)")
	return printJSON(stdout, map[string]any{"file": res.File, "engine": res.Engine, "schema": res.Schema, "bytes": res.Bytes,
		"seconds": res.Took.Seconds()})
}
