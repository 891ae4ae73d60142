package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/omnigate/omnigate/internal/store"
)

const smppCredColumns = `account_id, system_id, password_hash, allowed_ips, max_rate, window_size, created_at`

// SaveSMPPCredential stores an account's SMPP credentials, replacing the
// ones it had. ErrNotFound if the account does not exist; ErrConflict if
// another account has the system_id.
func (s *Store) SaveSMPPCredential(ctx context.Context, c *store.SMPPCredential) error {
	return s.inTx(ctx, "saving SMPP credentials", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM accounts WHERE id = ?`), c.AccountID).Scan(&n); err != nil {
			return fmt.Errorf("saving SMPP credentials: %w", err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM smpp_credentials WHERE system_id = ? AND account_id <> ?`), c.SystemID, c.AccountID).Scan(&n); err != nil {
			return fmt.Errorf("saving SMPP credentials: %w", err)
		}
		if n > 0 {
			return store.ErrConflict
		}
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO smpp_credentials (`+smppCredColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET system_id = excluded.system_id, password_hash = excluded.password_hash,
			allowed_ips = excluded.allowed_ips, max_rate = excluded.max_rate, window_size = excluded.window_size, created_at = excluded.created_at`),
			c.AccountID, c.SystemID, c.PasswordHash, strings.Join(c.AllowedIPs, ","), c.MaxRate, c.Window, micros(c.CreatedAt))
		if err != nil {
			return fmt.Errorf("saving SMPP credentials: %w", err)
		}
		return nil
	})
}

// SMPPCredentialBySystemID finds the credentials a bind names.
func (s *Store) SMPPCredentialBySystemID(ctx context.Context, systemID string) (*store.SMPPCredential, error) {
	return s.smppCredential(ctx, `system_id = ?`, systemID)
}

// SMPPCredential reads an account's SMPP credentials.
func (s *Store) SMPPCredential(ctx context.Context, accountID string) (*store.SMPPCredential, error) {
	return s.smppCredential(ctx, `account_id = ?`, accountID)
}

func (s *Store) smppCredential(ctx context.Context, where, arg string) (*store.SMPPCredential, error) {
	var c store.SMPPCredential
	var ips string
	var created int64
	err := s.rQueryRow(ctx, `SELECT `+smppCredColumns+` FROM smpp_credentials WHERE `+where, arg).
		Scan(&c.AccountID, &c.SystemID, &c.PasswordHash, &ips, &c.MaxRate, &c.Window, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading SMPP credentials: %w", err)
	}
	if ips != "" {
		c.AllowedIPs = strings.Split(ips, ",")
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}
