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

const accountColumns = `id, name, currency, balance, report_url, signing_key, created_at, inbound_url, payment, credit_limit, alert_url, alert_emails, topup_enabled, topup_threshold, topup_amount, topup_consent, strict_numbers, legacy_signature`

// CreateAccount stores a new account and its first keys in one transaction.
func (s *Store) CreateAccount(ctx context.Context, a *store.Account, keys []*store.AccessKey) error {
	signingKey, err := s.seal(ctx, signingKeyColumn, a.ID, a.SigningKey)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "creating account", func(tx *sql.Tx) error {
		if a.Payment == "" {
			a.Payment = "prepaid"
		}
		a.LegacySignature = legacySignature(a)
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO accounts (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			a.ID, a.Name, a.Currency, a.Balance, a.ReportURL, signingKey, micros(a.CreatedAt), a.InboundURL,
			a.Payment, a.CreditLimit, a.AlertURL, strings.Join(a.AlertEmails, ","), a.TopUpEnabled, a.TopUpThreshold, a.TopUpAmount, a.TopUpConsent,
			a.StrictNumbers, a.LegacySignature)
		if err != nil {
			return fmt.Errorf("creating account: %w", err)
		}
		if a.Balance != 0 {
			// The starting balance is the ledger's first entry.
			if err := s.writeLedger(ctx, tx, &store.LedgerEntry{AccountID: a.ID, Kind: store.LedgerAdjustment, Amount: a.Balance,
				Currency: a.Currency, BalanceAfter: a.Balance, Reason: "opening balance", Actor: "account create", CreatedAt: a.CreatedAt}); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := s.insertKey(ctx, tx, k); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) insertKey(ctx context.Context, tx *sql.Tx, k *store.AccessKey) error {
	_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO access_keys (id, account_id, hash, test, hint, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
		k.ID, k.AccountID, k.Hash, k.Test, k.Hint, micros(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("creating access key: %w", err)
	}
	return nil
}

func scanAccount(row interface{ Scan(...any) error }) (*store.Account, error) {
	var a store.Account
	var created int64
	var emails string
	if err := row.Scan(&a.ID, &a.Name, &a.Currency, &a.Balance, &a.ReportURL, &a.SigningKey, &created, &a.InboundURL,
		&a.Payment, &a.CreditLimit, &a.AlertURL, &emails, &a.TopUpEnabled, &a.TopUpThreshold, &a.TopUpAmount, &a.TopUpConsent,
		&a.StrictNumbers, &a.LegacySignature); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMicros(created)
	if emails != "" {
		a.AlertEmails = strings.Split(emails, ",")
	}
	return &a, nil
}

// GetAccount reads one account.
func (s *Store) GetAccount(ctx context.Context, id string) (*store.Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+accountColumns+` FROM accounts WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading account: %w", err)
	}
	if err := s.open(ctx, signingKeyColumn, a.ID, &a.SigningKey); err != nil {
		return nil, err
	}
	return a, nil
}

// ListAccounts lists every account, oldest first.
func (s *Store) ListAccounts(ctx context.Context) ([]*store.Account, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("listing accounts: %w", err)
	}
	defer rows.Close()
	var out []*store.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("listing accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing accounts: %w", err)
	}
	rows.Close() // before opening secrets, which may read data keys
	for _, a := range out {
		if err := s.open(ctx, signingKeyColumn, a.ID, &a.SigningKey); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetReportURL changes an account's default status-report URL.
func (s *Store) SetReportURL(ctx context.Context, id, reportURL string) error {
	return s.setAccountColumn(ctx, "report_url", id, reportURL)
}

// SetInboundURL changes where an account's inbound messages go.
func (s *Store) SetInboundURL(ctx context.Context, id, inboundURL string) error {
	return s.setAccountColumn(ctx, "inbound_url", id, inboundURL)
}

// SetAccountSettings changes an account's switches.
func (s *Store) SetAccountSettings(ctx context.Context, a *store.Account) error {
	return s.updateAccount(ctx, "account settings", "strict_numbers = ?, legacy_signature = ?", a.ID, a.StrictNumbers, legacySignature(a))
}

// legacySignature is the account's legacy signature style, "node" when unset.
func legacySignature(a *store.Account) string {
	if a.LegacySignature == "" {
		return "node"
	}
	return a.LegacySignature
}

// setAccountColumn updates one text column of an account; column is a
// constant from this package, never user input.
func (s *Store) setAccountColumn(ctx context.Context, column, id, value string) error {
	return s.updateAccount(ctx, column, column+" = ?", id, value)
}

// updateAccount runs UPDATE accounts SET set WHERE id = id, with args for
// set's placeholders; set is a constant from this package, never user
// input. ErrNotFound if there is no such account.
func (s *Store) updateAccount(ctx context.Context, what, set, id string, args ...any) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE accounts SET `+set+` WHERE id = ?`), append(args, id)...)
	if err != nil {
		return fmt.Errorf("setting %s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("setting %s: %w", what, err)
	} else if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// CreateAccessKey stores a key's hash. ErrNotFound if the account does not exist.
func (s *Store) CreateAccessKey(ctx context.Context, k *store.AccessKey) error {
	return s.inTx(ctx, "creating access key", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM accounts WHERE id = ?`), k.AccountID).Scan(&n); err != nil {
			return fmt.Errorf("creating access key: %w", err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return s.insertKey(ctx, tx, k)
	})
}

const keyColumns = `id, account_id, hash, test, hint, created_at, revoked_at, revoked_by, last_used_at`

func scanKey(row interface{ Scan(...any) error }) (*store.AccessKey, error) {
	var k store.AccessKey
	var created, revoked, used int64
	if err := row.Scan(&k.ID, &k.AccountID, &k.Hash, &k.Test, &k.Hint, &created, &revoked, &k.RevokedBy, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt, k.LastUsedAt = fromMicros(created), fromMicros(revoked), fromMicros(used)
	return &k, nil
}

// AccessKeyByHash finds a key by its hash.
func (s *Store) AccessKeyByHash(ctx context.Context, hash []byte) (*store.AccessKey, error) {
	k, err := scanKey(s.rQueryRow(ctx, `SELECT `+keyColumns+` FROM access_keys WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading access key: %w", err)
	}
	return k, nil
}

// AccessKeys lists an account's keys, oldest first.
func (s *Store) AccessKeys(ctx context.Context, accountID string) ([]*store.AccessKey, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+keyColumns+` FROM access_keys WHERE account_id = ? ORDER BY created_at, id`), accountID)
	if err != nil {
		return nil, fmt.Errorf("listing access keys: %w", err)
	}
	defer rows.Close()
	var out []*store.AccessKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("listing access keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAccessKey revokes a key and increments the revocation generation in
// one transaction.
func (s *Store) RevokeAccessKey(ctx context.Context, accountID, id, by string, at time.Time) (*store.AccessKey, error) {
	var k *store.AccessKey
	err := s.inTx(ctx, "revoking access key", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE access_keys SET revoked_at = ?, revoked_by = ? WHERE account_id = ? AND id = ? AND revoked_at = 0`),
			max(micros(at), 1), by, accountID, id)
		if err != nil {
			return fmt.Errorf("revoking access key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("revoking access key: %w", err)
		} else if n == 1 {
			if _, err := tx.ExecContext(ctx, `UPDATE key_revocations SET generation = generation + 1 WHERE id = 1`); err != nil {
				return fmt.Errorf("revoking access key: %w", err)
			}
		}
		k, err = scanKey(tx.QueryRowContext(ctx, s.d.rebind(`SELECT `+keyColumns+` FROM access_keys WHERE account_id = ? AND id = ?`), accountID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("revoking access key: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// KeyRevocations reads the revocation generation.
func (s *Store) KeyRevocations(ctx context.Context) (int64, error) {
	var g int64
	if err := s.rQueryRow(ctx, `SELECT generation FROM key_revocations WHERE id = 1`).Scan(&g); err != nil {
		return 0, fmt.Errorf("reading the key revocation generation: %w", err)
	}
	return g, nil
}

// TouchAccessKeys records when keys were last used.
func (s *Store) TouchAccessKeys(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{micros(at), micros(at)}
	for _, id := range ids {
		args = append(args, id)
	}
	q := `UPDATE access_keys SET last_used_at = ? WHERE last_used_at < ? AND id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + `)`
	if _, err := s.w.ExecContext(ctx, s.d.rebind(q), args...); err != nil {
		return fmt.Errorf("recording when keys were used: %w", err)
	}
	// Personal API tokens share the authenticator, and so this note.
	q = `UPDATE user_tokens SET last_used_at = ? WHERE last_used_at < ? AND id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + `)`
	if _, err := s.w.ExecContext(ctx, s.d.rebind(q), args...); err != nil {
		return fmt.Errorf("recording when tokens were used: %w", err)
	}
	return nil
}
