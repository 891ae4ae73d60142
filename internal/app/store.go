package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// OpenStore opens (and migrates) the database the config names, with the
// keyring of its master key (see keys.go). The CLI uses it too, so
// `omnigate account create` works on the same data as `serve`, also while
// it runs; it logs to slog's default logger.
func OpenStore(ctx context.Context, cfg Config) (*sqlstore.Store, error) {
	return openStore(ctx, cfg, slog.Default())
}

func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*sqlstore.Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var st *sqlstore.Store
	var err error
	if cfg.DatabaseURL != "" {
		st, err = postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL})
	} else {
		if err := checkDataDir(cfg.DataDir); err != nil {
			return nil, err
		}
		st, err = sqlite.Open(ctx, sqlite.Config{Path: cfg.SQLitePath(), Synchronous: strings.ToUpper(cfg.SQLiteSync)})
	}
	if err != nil {
		return nil, err
	}
	if err := openKeyring(ctx, cfg, st, log); err != nil {
		st.Close()
		return nil, err
	}
	st.SetBackupDirs(cfg.BackupDirs())
	return st, nil
}

// IsPostgres reports whether the config selects PostgreSQL.
func (c Config) IsPostgres() bool { return c.DatabaseURL != "" }
