// Package postgres opens omnigate's PostgreSQL store, the engine for
// production and for several `omnigate serve` processes sharing one database:
// workers lease jobs with FOR UPDATE SKIP LOCKED, and migrations take an
// advisory lock so that processes starting together migrate one at a time.
package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// migrationLock is the advisory lock key held while migrating ("omnigate").
const migrationLock = 0x6f6d6e6967617465

// Config says which database to use.
type Config struct {
	// URL is a postgres:// connection URL. Runtime parameters such as
	// search_path may be given as query parameters.
	URL string
	// MaxConns bounds the connection pool; default 16.
	MaxConns int
}

// Open connects and migrates.
func Open(ctx context.Context, cfg Config) (*sqlstore.Store, error) {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 16
	}
	pc, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// The driver prepares every statement once per connection, and after
	// five runs PostgreSQL may switch a prepared statement to a generic
	// plan, costed with the statistics of that moment. keepStatistics
	// keeps those statistics current as the tables grow (see there); a URL
	// may still set plan_cache_mode, e.g. force_custom_plan to plan every
	// run anew.
	db := stdlib.OpenDB(*pc)
	db.SetMaxOpenConns(cfg.MaxConns)
	db.SetMaxIdleConns(cfg.MaxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	d := sqlstore.PostgreSQL()
	d.Background = func(ctx context.Context, db *sql.DB) { keepStatistics(ctx, db, statisticsEvery) }
	d.LockMigrations = func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock))
		return err
	}
	// A receipt and the submit response it may overtake are written by
	// concurrent transactions: both lock the carrier id first, so the later
	// one sees what the earlier one wrote.
	d.LockKeys = func(ctx context.Context, tx *sql.Tx, keys []string) error {
		// One round trip; one order everywhere, so no deadlocks.
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
			FROM (SELECT DISTINCT unnest($1::text[]) AS k) keys ORDER BY k`, keys)
		return err
	}
	s, err := sqlstore.Open(ctx, db, db, d)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}
