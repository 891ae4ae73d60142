package main

import (
	"flag"
	"io"
	"os"

	"github.com/omnigate/omnigate/internal/app"
)

// envOr returns the environment variable's value, or def when unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// storeFlags adds --data, --database and --master-key-file, shared by
// every command. The master key itself may come from OMNIGATE_MASTER_KEY
// (never a flag: every local user sees a process's arguments).
func storeFlags(fs *flag.FlagSet, cfg *app.Config) {
	fs.StringVar(&cfg.MasterKeyFile, "master-key-file", envOr("OMNIGATE_MASTER_KEY_FILE", ""), "file holding the master key that encrypts secrets in the database; default: master.key in the data directory, made on first start [OMNIGATE_MASTER_KEY_FILE]")
	cfg.MasterKey = os.Getenv("OMNIGATE_MASTER_KEY")
	// Where backups are, for shreds and erasures to reach (serve's
	// --backup-dir sets it there).
	cfg.Backup.Dir = os.Getenv("OMNIGATE_BACKUP_DIR")
	fs.StringVar(&cfg.DataDir, "data", envOr("OMNIGATE_DATA", app.DefaultDataDir), "data directory (SQLite database, demo files) [OMNIGATE_DATA]")
	fs.StringVar(&cfg.DatabaseURL, "database", envOr("OMNIGATE_DATABASE", ""), "PostgreSQL URL (postgres://…); empty: SQLite in the data directory [OMNIGATE_DATABASE]")
	fs.StringVar(&cfg.SQLiteSync, "sqlite-sync", envOr("OMNIGATE_SQLITE_SYNC", "FULL"), "SQLite durability: FULL (survives power loss) or NORMAL (survives crashes) [OMNIGATE_SQLITE_SYNC]")
}

// parse parses args, returning flag.ErrHelp for -h and a usageError for
// anything else wrong.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}
