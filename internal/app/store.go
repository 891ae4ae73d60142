package app

import (
	"context"
	"strings"

	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// OpenStore opens (and migrates) the database the config names. The CLI uses
// it too, so `omnigate account create` works on the same data as `serve`,
// also while it runs.
func OpenStore(ctx context.Context, cfg Config) (*sqlstore.Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.DatabaseURL != "" {
		return postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL})
	}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, sqlite.Config{Path: cfg.SQLitePath(), Synchronous: strings.ToUpper(cfg.SQLiteSync)})
}

// IsPostgres reports whether the config selects PostgreSQL.
func (c Config) IsPostgres() bool { return c.DatabaseURL != "" }
