package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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
// (keyring.KeyStore): crypto-shredding an account's data. A tombstone per
// key (shredded_keys, migration 058) goes in with the deletion, so that a
// backup being made meanwhile leaves the keys out of its keys file.
func (s *Store) DeleteScope(ctx context.Context, scope string) (int, error) {
	if scope == "" {
		return 0, fmt.Errorf("deleting data keys: the platform's keys cannot be deleted")
	}
	var n int64
	err := s.inTx(ctx, "deleting data keys", func(tx *sql.Tx) error {
		if s.d.Name == "sqlite" {
			// The deleted rows' bytes are overwritten, not left in the
			// file's free space (for this transaction's connection only).
			var was int
			if err := tx.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&was); err != nil {
				return fmt.Errorf("deleting data keys: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
				return fmt.Errorf("deleting data keys: %w", err)
			}
			defer tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA secure_delete = %d`, was))
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO shredded_keys (id, scope, shredded_at)
			SELECT DISTINCT id, scope, CAST(? AS BIGINT) FROM data_keys WHERE scope = ? ON CONFLICT (id) DO NOTHING`), micros(time.Now()), scope); err != nil {
			return fmt.Errorf("recording the shredded keys: %w", err)
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM data_keys WHERE scope = ?`), scope)
		if err != nil {
			return fmt.Errorf("deleting data keys: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// shreddedKeys are the ids of the scope's data keys shredded so far.
func (s *Store) shreddedKeys(ctx context.Context, scope string) (map[string]bool, error) {
	rows, err := s.w.QueryContext(ctx, s.d.rebind(`SELECT id FROM shredded_keys WHERE scope = ?`), scope)
	if err != nil {
		return nil, fmt.Errorf("reading shredded keys: %w", err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("reading shredded keys: %w", err)
		}
		ids[id] = true
	}
	return ids, rows.Err()
}
