package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/omnigate/omnigate/internal/keyring"
)

// The data keys of the keyring (see internal/keyring), wrapped by master
// keys, in the data_keys table (migration 012).

var _ keyring.KeyStore = (*Store)(nil)

// DataKeys lists every stored data key (keyring.KeyStore).
func (s *Store) DataKeys(ctx context.Context) ([]keyring.StoredKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, master_id, scope, wrapped, created_at FROM data_keys ORDER BY created_at, id, master_id`)
	if err != nil {
		return nil, fmt.Errorf("listing data keys: %w", err)
	}
	defer rows.Close()
	var out []keyring.StoredKey
	for rows.Next() {
		var k keyring.StoredKey
		var created int64
		if err := rows.Scan(&k.ID, &k.MasterID, &k.Scope, &k.Wrapped, &created); err != nil {
			return nil, fmt.Errorf("listing data keys: %w", err)
		}
		k.CreatedAt = fromMicros(created)
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddDataKeys stores data keys in one transaction (keyring.KeyStore).
func (s *Store) AddDataKeys(ctx context.Context, keys []keyring.StoredKey) error {
	return s.inTx(ctx, "storing data keys", func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO data_keys (id, master_id, scope, wrapped, created_at) VALUES (?, ?, ?, ?, ?)`),
				k.ID, k.MasterID, k.Scope, k.Wrapped, micros(k.CreatedAt)); err != nil {
				return fmt.Errorf("storing data key %s: %w", k.ID, err)
			}
		}
		return nil
	})
}

// DeleteDataKeys deletes the wrappings by one master key
// (keyring.KeyStore).
func (s *Store) DeleteDataKeys(ctx context.Context, masterID string) (int, error) {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM data_keys WHERE master_id = ?`), masterID)
	if err != nil {
		return 0, fmt.Errorf("deleting data keys: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// HasDataKeys reports whether the database holds a data key, wrapped by
// any master key: whether it was ever opened with one.
func (s *Store) HasDataKeys(ctx context.Context) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM data_keys`).Scan(&n); err != nil {
		return false, fmt.Errorf("counting data keys: %w", err)
	}
	return n > 0, nil
}

// DeleteScope deletes every data key of a scope, whatever wrapped it
// (keyring.KeyStore): crypto-shredding an account's data.
func (s *Store) DeleteScope(ctx context.Context, scope string) (int, error) {
	if scope == "" {
		return 0, fmt.Errorf("deleting data keys: the platform's keys cannot be deleted")
	}
	res, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM data_keys WHERE scope = ?`), scope)
	if err != nil {
		return 0, fmt.Errorf("deleting data keys: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
