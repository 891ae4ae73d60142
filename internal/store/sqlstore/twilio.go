package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/omnigate/omnigate/internal/store"
)

// PutTwilioAccount stores an account's Twilio SID and auth token (sealed),
// or replaces the token of the SID it has.
func (s *Store) PutTwilioAccount(ctx context.Context, a *store.TwilioAccount) error {
	token, err := s.seal(ctx, twilioTokenColumn, a.AccountID, a.AuthToken)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "storing Twilio credentials", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM accounts WHERE id = ?`), a.AccountID).Scan(&n); err != nil {
			return fmt.Errorf("storing Twilio credentials: %w", err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE twilio_accounts SET auth_token = ?, rotated_at = ? WHERE account_id = ?`),
			token, micros(a.RotatedAt), a.AccountID)
		if err != nil {
			return fmt.Errorf("storing Twilio credentials: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("storing Twilio credentials: %w", err)
		} else if n > 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, s.d.rebind(`INSERT INTO twilio_accounts (account_id, sid, auth_token, created_at, rotated_at) VALUES (?, ?, ?, ?, 0)`),
			a.AccountID, a.SID, token, micros(a.CreatedAt))
		if err != nil {
			return fmt.Errorf("storing Twilio credentials: %w", err)
		}
		return nil
	})
}

func (s *Store) twilioAccount(ctx context.Context, where string, arg string) (*store.TwilioAccount, error) {
	var a store.TwilioAccount
	var created, rotated int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT account_id, sid, auth_token, created_at, rotated_at FROM twilio_accounts WHERE `+where+` = ?`), arg).
		Scan(&a.AccountID, &a.SID, &a.AuthToken, &created, &rotated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading Twilio credentials: %w", err)
	}
	if err := s.open(ctx, twilioTokenColumn, a.AccountID, &a.AuthToken); err != nil {
		return nil, err
	}
	a.CreatedAt, a.RotatedAt = fromMicros(created), fromMicros(rotated)
	return &a, nil
}

// TwilioAccount reads an account's Twilio credentials.
func (s *Store) TwilioAccount(ctx context.Context, accountID string) (*store.TwilioAccount, error) {
	return s.twilioAccount(ctx, "account_id", accountID)
}

// TwilioAccountBySID reads Twilio credentials by account SID.
func (s *Store) TwilioAccountBySID(ctx context.Context, sid string) (*store.TwilioAccount, error) {
	return s.twilioAccount(ctx, "sid", sid)
}

// CreateTwilioAPIKey stores a Twilio API key's SID and the hash of its
// secret.
func (s *Store) CreateTwilioAPIKey(ctx context.Context, k *store.TwilioAPIKey) error {
	return s.inTx(ctx, "creating Twilio API key", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM accounts WHERE id = ?`), k.AccountID).Scan(&n); err != nil {
			return fmt.Errorf("creating Twilio API key: %w", err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO twilio_api_keys (sid, account_id, secret_hash, created_at) VALUES (?, ?, ?, ?)`),
			k.SID, k.AccountID, k.SecretHash, micros(k.CreatedAt))
		if err != nil {
			return fmt.Errorf("creating Twilio API key: %w", err)
		}
		return nil
	})
}

// TwilioAPIKey reads a Twilio API key by SID.
func (s *Store) TwilioAPIKey(ctx context.Context, sid string) (*store.TwilioAPIKey, error) {
	var k store.TwilioAPIKey
	var created int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT sid, account_id, secret_hash, created_at FROM twilio_api_keys WHERE sid = ?`), sid).
		Scan(&k.SID, &k.AccountID, &k.SecretHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading Twilio API key: %w", err)
	}
	k.CreatedAt = fromMicros(created)
	return &k, nil
}
