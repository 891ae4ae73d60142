package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/email/dkim"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

const emailDomainColumns = `id, account_id, domain, selector, algorithm, private_key, created_at, verified_at,
	checked_at, last_check, suspended_at, suspended_reason, suspended_by, daily_cap`

// AddEmailDomain stores a new sending domain, its key sealed.
func (s *Store) AddEmailDomain(ctx context.Context, d *store.EmailDomain) error {
	pemKey, err := dkim.MarshalKey(d.Key)
	if err != nil {
		return fmt.Errorf("adding email domain: %w", err)
	}
	id := ids.New()
	sealed, err := s.seal(ctx, emailDomainKeyColumn, id, string(pemKey))
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO email_domains (id, account_id, domain, selector, algorithm,
		private_key, created_at, daily_cap) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, domain) DO NOTHING`),
		id, d.AccountID, d.Domain, d.Selector, d.Algorithm, sealed, micros(d.CreatedAt), d.DailyCap)
	if err != nil {
		return fmt.Errorf("adding email domain: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("adding email domain: %w", err)
	} else if n == 0 {
		return store.ErrConflict
	}
	return nil
}

// EmailDomain returns one of the account's domains with its key opened.
func (s *Store) EmailDomain(ctx context.Context, accountID, domain string) (*store.EmailDomain, error) {
	out, err := s.emailDomains(ctx, `WHERE account_id = ? AND domain = ?`, accountID, domain)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, store.ErrNotFound
	}
	return &out[0], nil
}

// EmailDomains lists the account's domains by name.
func (s *Store) EmailDomains(ctx context.Context, accountID string) ([]store.EmailDomain, error) {
	return s.emailDomains(ctx, `WHERE account_id = ? ORDER BY domain`, accountID)
}

// EmailDomainOwners lists the accounts holding domain.
func (s *Store) EmailDomainOwners(ctx context.Context, domain string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT account_id FROM email_domains WHERE domain = ? ORDER BY account_id`), domain)
	if err != nil {
		return nil, fmt.Errorf("reading email domain owners: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("reading email domain owners: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading email domain owners: %w", err)
	}
	return out, nil
}

// emailDomains reads domains matching where, then opens their keys (after
// the rows are closed: opening may read data keys).
func (s *Store) emailDomains(ctx context.Context, where string, args ...any) ([]store.EmailDomain, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+emailDomainColumns+` FROM email_domains `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("reading email domains: %w", err)
	}
	defer rows.Close()
	var out []store.EmailDomain
	var rowIDs, keys []string
	for rows.Next() {
		var d store.EmailDomain
		var id, key, check string
		var created, verified, checked, suspended int64
		if err := rows.Scan(&id, &d.AccountID, &d.Domain, &d.Selector, &d.Algorithm, &key, &created, &verified,
			&checked, &check, &suspended, &d.SuspendedReason, &d.SuspendedBy, &d.DailyCap); err != nil {
			return nil, fmt.Errorf("reading email domains: %w", err)
		}
		d.CreatedAt, d.VerifiedAt, d.CheckedAt, d.SuspendedAt = fromMicros(created), fromMicros(verified), fromMicros(checked), fromMicros(suspended)
		if check != "" {
			d.LastCheck = json.RawMessage(check)
		}
		out, rowIDs, keys = append(out, d), append(rowIDs, id), append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading email domains: %w", err)
	}
	rows.Close()
	for i := range out {
		if err := s.open(ctx, emailDomainKeyColumn, rowIDs[i], &keys[i]); err != nil {
			return nil, err
		}
		k, err := dkim.ParseKey([]byte(keys[i]))
		if err != nil {
			return nil, fmt.Errorf("reading the DKIM key of %s: %w", out[i].Domain, err)
		}
		out[i].Key = k
	}
	return out, nil
}

// DeleteEmailDomain removes a domain, its key and its counts.
func (s *Store) DeleteEmailDomain(ctx context.Context, accountID, domain string) error {
	return s.inTx(ctx, "deleting email domain", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM email_domains WHERE account_id = ? AND domain = ?`), accountID, domain)
		if err != nil {
			return fmt.Errorf("deleting email domain: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM email_domain_volume WHERE account_id = ? AND domain = ?`), accountID, domain); err != nil {
			return fmt.Errorf("deleting email domain: %w", err)
		}
		return nil
	})
}

// updateEmailDomain runs one UPDATE of a domain's row; ErrNotFound if none.
func (s *Store) updateEmailDomain(ctx context.Context, what, set string, accountID, domain string, args ...any) error {
	args = append(args, accountID, domain)
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE email_domains SET `+set+` WHERE account_id = ? AND domain = ?`), args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// RecordEmailDomainCheck stores a verification's result.
func (s *Store) RecordEmailDomainCheck(ctx context.Context, accountID, domain string, result json.RawMessage, verified bool, at time.Time) error {
	if result != nil && !json.Valid(result) {
		return errors.New("recording email domain check: the result is not JSON")
	}
	set := `checked_at = ?, last_check = ?, verified_at = 0`
	if verified {
		set = `checked_at = ?, last_check = ?, verified_at = CASE WHEN verified_at = 0 THEN ? ELSE verified_at END`
		return s.updateEmailDomain(ctx, "recording email domain check", set, accountID, domain, micros(at), string(result), micros(at))
	}
	return s.updateEmailDomain(ctx, "recording email domain check", set, accountID, domain, micros(at), string(result))
}

// SuspendEmailDomain stops a domain's email.
func (s *Store) SuspendEmailDomain(ctx context.Context, accountID, domain, reason, by string, at time.Time) error {
	return s.updateEmailDomain(ctx, "suspending email domain", `suspended_at = ?, suspended_reason = ?, suspended_by = ?`,
		accountID, domain, micros(at), reason, by)
}

// ResumeEmailDomain lifts a suspension.
func (s *Store) ResumeEmailDomain(ctx context.Context, accountID, domain string) error {
	return s.updateEmailDomain(ctx, "resuming email domain", `suspended_at = 0, suspended_reason = '', suspended_by = ''`, accountID, domain)
}

// SetEmailDomainCap sets a domain's daily cap.
func (s *Store) SetEmailDomainCap(ctx context.Context, accountID, domain string, perDay int) error {
	if perDay < 0 {
		return fmt.Errorf("setting email domain cap: %d is negative", perDay)
	}
	return s.updateEmailDomain(ctx, "setting email domain cap", `daily_cap = ?`, accountID, domain, perDay)
}

// TakeEmailDomainQuota counts n emails unless the day's count would pass
// limit: one conditional upsert, so concurrent takers serialise on the
// row and never pass the limit together.
func (s *Store) TakeEmailDomainQuota(ctx context.Context, accountID, domain string, n, limit int, at time.Time) (bool, int, error) {
	if n <= 0 {
		used, err := s.EmailDomainSent(ctx, accountID, domain, at)
		return err == nil, used, err
	}
	if n > limit {
		used, err := s.EmailDomainSent(ctx, accountID, domain, at)
		return false, used, err
	}
	var used int
	err := s.w.QueryRowContext(ctx, s.d.rebind(`INSERT INTO email_domain_volume (account_id, domain, day, sent) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, domain, day) DO UPDATE SET sent = email_domain_volume.sent + excluded.sent
		WHERE email_domain_volume.sent + excluded.sent <= ? RETURNING sent`), accountID, domain, utcDay(at), n, limit).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		used, err := s.EmailDomainSent(ctx, accountID, domain, at)
		return false, used, err
	}
	if err != nil {
		return false, 0, fmt.Errorf("counting email domain volume: %w", err)
	}
	return true, used, nil
}

// EmailDomainSent is the day's count.
func (s *Store) EmailDomainSent(ctx context.Context, accountID, domain string, at time.Time) (int, error) {
	var used int
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT sent FROM email_domain_volume WHERE account_id = ? AND domain = ? AND day = ?`),
		accountID, domain, utcDay(at)).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading email domain volume: %w", err)
	}
	return used, nil
}
