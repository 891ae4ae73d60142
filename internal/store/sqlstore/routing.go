package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// SaveConnector creates or replaces a connector.
func (s *Store) SaveConnector(ctx context.Context, c store.ConnectorConfig) error {
	settings, err := s.seal(ctx, connectorColumn, c.Name, string(c.Settings))
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO connectors (name, kind, settings, enabled, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, settings = excluded.settings, enabled = excluded.enabled,
		updated_at = excluded.updated_at`), c.Name, c.Kind, settings, c.Enabled, micros(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("saving connector: %w", err)
	}
	return nil
}

// DeleteConnector removes a connector.
func (s *Store) DeleteConnector(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM connectors WHERE name = ?`), name)
	if err != nil {
		return fmt.Errorf("deleting connector: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// SuspendConnector suspends a connector (reason "" reactivates it) and
// enqueues the notices of the change with it.
func (s *Store) SuspendConnector(ctx context.Context, name, reason string, code int, at time.Time, notices []*store.Job) (bool, error) {
	var at64 int64
	if reason != "" {
		at64 = micros(at)
	}
	changed := false
	err := s.inTx(ctx, "suspending connector", func(tx *sql.Tx) error {
		// Only a change of state counts, so that one suspension is
		// reported once however many sends hit the provider's error.
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE connectors SET suspended = ?, suspended_code = ?, suspended_at = ?
			WHERE name = ? AND (suspended = '') <> (? = '')`), reason, code, at64, name, reason)
		if err != nil {
			return fmt.Errorf("suspending connector: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT 1 FROM connectors WHERE name = ?`), name).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			} else if err != nil {
				return fmt.Errorf("suspending connector: %w", err)
			}
			return nil
		}
		changed = true
		return s.addJobs(ctx, tx, notices)
	})
	return changed, err
}

// ListConnectors lists connectors by name.
func (s *Store) ListConnectors(ctx context.Context) ([]store.ConnectorConfig, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, kind, settings, enabled, updated_at, suspended, suspended_code, suspended_at FROM connectors ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing connectors: %w", err)
	}
	defer rows.Close()
	var out []store.ConnectorConfig
	for rows.Next() {
		var c store.ConnectorConfig
		var settings string
		var updated, suspendedAt int64
		if err := rows.Scan(&c.Name, &c.Kind, &settings, &c.Enabled, &updated, &c.Suspended, &c.SuspendedCode, &suspendedAt); err != nil {
			return nil, fmt.Errorf("listing connectors: %w", err)
		}
		c.Settings, c.UpdatedAt = []byte(settings), fromMicros(updated)
		if suspendedAt != 0 {
			c.SuspendedAt = fromMicros(suspendedAt)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing connectors: %w", err)
	}
	rows.Close() // before opening secrets, which may read data keys
	for i := range out {
		settings := string(out[i].Settings)
		if err := s.open(ctx, connectorColumn, out[i].Name, &settings); err != nil {
			return nil, err
		}
		out[i].Settings = []byte(settings)
	}
	return out, nil
}

// AddRoute adds a route.
func (s *Store) AddRoute(ctx context.Context, r *store.Route) error {
	return s.inTx(ctx, "adding route", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM routes
			WHERE account_id = ? AND channel = ? AND sender = ? AND prefix = ? AND country = ? AND domain = ?`),
			r.AccountID, r.Channel, r.Sender, r.Prefix, r.Country, r.Domain).Scan(&n); err != nil {
			return fmt.Errorf("adding route: %w", err)
		}
		if n > 0 {
			return store.ErrConflict
		}
		err := tx.QueryRowContext(ctx, s.d.rebind(`INSERT INTO routes (account_id, channel, sender, prefix, country, domain, connectors, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			r.AccountID, r.Channel, r.Sender, r.Prefix, r.Country, r.Domain, strings.Join(r.Connectors, ","), micros(r.CreatedAt)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("adding route: %w", err)
		}
		return nil
	})
}

// DeleteRoute removes a route.
func (s *Store) DeleteRoute(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM routes WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting route: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ListRoutes lists every route.
func (s *Store) ListRoutes(ctx context.Context) ([]store.Route, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, account_id, channel, sender, prefix, country, domain, connectors, created_at FROM routes
		ORDER BY account_id, channel, sender, prefix, country, domain`)
	if err != nil {
		return nil, fmt.Errorf("listing routes: %w", err)
	}
	defer rows.Close()
	var out []store.Route
	for rows.Next() {
		var r store.Route
		var conns string
		var created int64
		if err := rows.Scan(&r.ID, &r.AccountID, &r.Channel, &r.Sender, &r.Prefix, &r.Country, &r.Domain, &conns, &created); err != nil {
			return nil, fmt.Errorf("listing routes: %w", err)
		}
		r.Connectors, r.CreatedAt = strings.Split(conns, ","), fromMicros(created)
		out = append(out, r)
	}
	return out, rows.Err()
}
