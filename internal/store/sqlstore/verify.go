package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

const verifyColumns = `id, account_id, recipient, type, reference, message_id, status, code_hash, salt, attempts, prefix, country, ip, created_at, valid_until, verified_at, service`

// WriteVerifications inserts and updates verifications in one
// transaction.
func (s *Store) WriteVerifications(ctx context.Context, ws []*store.VerifyWrite) error {
	return s.inTx(ctx, "writing verifications", func(tx *sql.Tx) error {
		for _, w := range ws {
			v := w.V
			w.Err = nil
			if w.Insert {
				if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO verifications (`+verifyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
					v.ID, v.AccountID, v.Recipient, v.Type, v.Reference, v.MessageID, v.Status, v.CodeHash, v.Salt, v.Attempts,
					v.Prefix, v.Country, v.IP, micros(v.CreatedAt), micros(v.ValidUntil), micros(v.VerifiedAt), v.Service); err != nil {
					return err
				}
				continue
			}
			res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE verifications SET status = ?, attempts = ?, verified_at = ?
				WHERE account_id = ? AND id = ? AND status = ? AND attempts = ?`),
				v.Status, v.Attempts, micros(v.VerifiedAt), v.AccountID, v.ID, w.FromStatus, w.FromAttempts)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				continue
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM verifications WHERE account_id = ? AND id = ?`), v.AccountID, v.ID).Scan(&n); err != nil {
				return err
			}
			w.Err = store.ErrConflict
			if n == 0 {
				w.Err = store.ErrNotFound
			}
		}
		return nil
	})
}

// GetVerification reads one of an account's verifications.
func (s *Store) GetVerification(ctx context.Context, accountID, id string) (*store.Verification, error) {
	return s.scanVerification(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+verifyColumns+` FROM verifications WHERE account_id = ? AND id = ?`), accountID, id))
}

// PendingVerification finds the newest pending verification of a service
// to a recipient.
func (s *Store) PendingVerification(ctx context.Context, accountID, service, recipient string, now time.Time) (*store.Verification, error) {
	return s.scanVerification(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+verifyColumns+` FROM verifications
		WHERE account_id = ? AND service = ? AND recipient = ? AND status = 'sent' AND valid_until > ? ORDER BY created_at DESC LIMIT 1`),
		accountID, service, recipient, micros(now)))
}

func (s *Store) scanVerification(row *sql.Row) (*store.Verification, error) {
	var v store.Verification
	var created, until, verified int64
	err := row.Scan(&v.ID, &v.AccountID, &v.Recipient, &v.Type, &v.Reference, &v.MessageID, &v.Status, &v.CodeHash, &v.Salt, &v.Attempts,
		&v.Prefix, &v.Country, &v.IP, &created, &until, &verified, &v.Service)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading verification: %w", err)
	}
	v.CreatedAt, v.ValidUntil, v.VerifiedAt = fromMicros(created), fromMicros(until), fromMicros(verified)
	return &v, nil
}

// CreateVerifyService stores a Twilio Verify service.
func (s *Store) CreateVerifyService(ctx context.Context, vs *store.VerifyService) error {
	_, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO verify_services (id, account_id, friendly_name, code_length, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`),
		vs.ID, vs.AccountID, vs.FriendlyName, vs.CodeLength, micros(vs.CreatedAt), micros(vs.UpdatedAt))
	if err != nil {
		return fmt.Errorf("storing verify service: %w", err)
	}
	return nil
}

// GetVerifyService reads one of an account's Twilio Verify services.
func (s *Store) GetVerifyService(ctx context.Context, accountID, id string) (*store.VerifyService, error) {
	vs := store.VerifyService{}
	var created, updated int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT id, account_id, friendly_name, code_length, created_at, updated_at FROM verify_services WHERE account_id = ? AND id = ?`),
		accountID, id).Scan(&vs.ID, &vs.AccountID, &vs.FriendlyName, &vs.CodeLength, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading verify service: %w", err)
	}
	vs.CreatedAt, vs.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &vs, nil
}

// ListVerifyServices reads an account's Twilio Verify services, newest
// first.
func (s *Store) ListVerifyServices(ctx context.Context, accountID string) ([]store.VerifyService, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, account_id, friendly_name, code_length, created_at, updated_at FROM verify_services
		WHERE account_id = ? ORDER BY created_at DESC, id DESC`), accountID)
	if err != nil {
		return nil, fmt.Errorf("listing verify services: %w", err)
	}
	defer rows.Close()
	var out []store.VerifyService
	for rows.Next() {
		var vs store.VerifyService
		var created, updated int64
		if err := rows.Scan(&vs.ID, &vs.AccountID, &vs.FriendlyName, &vs.CodeLength, &created, &updated); err != nil {
			return nil, fmt.Errorf("listing verify services: %w", err)
		}
		vs.CreatedAt, vs.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, vs)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing verify services: %w", err)
	}
	return out, nil
}

// UpdateVerifyService stores a Twilio Verify service's name, code length
// and update time.
func (s *Store) UpdateVerifyService(ctx context.Context, vs *store.VerifyService) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE verify_services SET friendly_name = ?, code_length = ?, updated_at = ? WHERE account_id = ? AND id = ?`),
		vs.FriendlyName, vs.CodeLength, micros(vs.UpdatedAt), vs.AccountID, vs.ID)
	if err != nil {
		return fmt.Errorf("updating verify service: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteVerifyService removes one of an account's Twilio Verify services.
func (s *Store) DeleteVerifyService(ctx context.Context, accountID, id string) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM verify_services WHERE account_id = ? AND id = ?`), accountID, id)
	if err != nil {
		return fmt.Errorf("deleting verify service: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// CountVerifications counts what velocity limits count, each on its
// index and up to its cap, in one round trip.
func (s *Store) CountVerifications(ctx context.Context, accountID string, v *store.Verification, since time.Time, caps store.VerifyCounts) (store.VerifyCounts, error) {
	var c store.VerifyCounts
	cnt := func(col string) string {
		return `(SELECT COUNT(*) FROM (SELECT 1 FROM verifications WHERE account_id = ? AND ` + col + ` = ? AND created_at >= ? LIMIT ?) x)`
	}
	capOf := func(n int, key string) int {
		if key == "" {
			return 0
		}
		return n
	}
	since64 := micros(since)
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+cnt("recipient")+`, `+cnt("prefix")+`, `+cnt("ip")+`, `+cnt("account_id")),
		accountID, v.Recipient, since64, capOf(caps.Number, v.Recipient),
		accountID, v.Prefix, since64, capOf(caps.Prefix, v.Prefix),
		accountID, v.IP, since64, capOf(caps.IP, v.IP),
		accountID, accountID, since64, caps.Account).Scan(&c.Number, &c.Prefix, &c.IP, &c.Account)
	if err != nil {
		return c, fmt.Errorf("counting verifications: %w", err)
	}
	return c, nil
}

// VerifyConversion counts settled and verified verifications to a prefix
// and a country.
func (s *Store) VerifyConversion(ctx context.Context, accountID, prefix, country string, since, now time.Time) (store.VerifyConversion, error) {
	var c store.VerifyConversion
	const settled = `(verified_at <> 0 OR status = 'failed' OR (status = 'sent' AND valid_until < ?))`
	n := micros(now)
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT
		COALESCE(SUM(CASE WHEN prefix = ? AND `+settled+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN prefix = ? AND verified_at <> 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN `+settled+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN verified_at <> 0 THEN 1 ELSE 0 END), 0)
		FROM verifications WHERE account_id = ? AND country = ? AND created_at >= ?`),
		prefix, n, prefix, n, accountID, country, micros(since)).Scan(&c.PrefixSent, &c.PrefixVerified, &c.CountrySent, &c.CountryVerified)
	if err != nil {
		return c, fmt.Errorf("reading verification conversion: %w", err)
	}
	return c, nil
}

// GetVerifySettings reads an account's fraud protection settings (the
// zero value when it never set them).
func (s *Store) GetVerifySettings(ctx context.Context, accountID string) (*store.VerifySettings, error) {
	var raw string
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT settings FROM verify_settings WHERE account_id = ?`), accountID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return &store.VerifySettings{Countries: []string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading verify settings: %w", err)
	}
	var vs store.VerifySettings
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		return nil, fmt.Errorf("reading verify settings: %w", err)
	}
	if vs.Countries == nil {
		vs.Countries = []string{}
	}
	return &vs, nil
}

// SetVerifySettings replaces an account's fraud protection settings.
func (s *Store) SetVerifySettings(ctx context.Context, accountID string, vs *store.VerifySettings) error {
	raw, err := json.Marshal(vs)
	if err != nil {
		return fmt.Errorf("saving verify settings: %w", err)
	}
	return s.inTx(ctx, "saving verify settings", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM accounts WHERE id = ?`), accountID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM verify_settings WHERE account_id = ?`), accountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO verify_settings (account_id, settings, updated_at) VALUES (?, ?, ?)`),
			accountID, string(raw), micros(time.Now()))
		return err
	})
}

// AddVerifyBlock stores a block with its notice jobs.
func (s *Store) AddVerifyBlock(ctx context.Context, b *store.VerifyBlock, jobs ...*store.Job) error {
	if b.ID == "" {
		b.ID = ids.New()
	}
	return s.inTx(ctx, "adding verify block", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM verify_blocks WHERE account_id = ? AND kind = ? AND value = ? AND lifted_at = 0`),
			b.AccountID, b.Kind, b.Value).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return store.ErrConflict
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO verify_blocks (id, account_id, kind, value, rule, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			b.ID, b.AccountID, b.Kind, b.Value, b.Rule, b.Reason, micros(b.CreatedAt)); err != nil {
			return err
		}
		for _, j := range jobs {
			created := micros(j.CreatedAt)
			if created == 0 {
				created = micros(time.Now())
			}
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO jobs (`+jobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
				j.Kind, j.AccountID, j.MessageID, j.Payload, 0, micros(j.RunAt), "", created); err != nil {
				return err
			}
		}
		return nil
	})
}

// VerifyBlocks lists blocks, newest first.
func (s *Store) VerifyBlocks(ctx context.Context, accountID string, all bool) ([]store.VerifyBlock, error) {
	q := `SELECT id, account_id, kind, value, rule, reason, created_at, lifted_by, lifted_at FROM verify_blocks WHERE (? = '' OR account_id = ?)`
	if !all {
		q += ` AND lifted_at = 0`
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q+` ORDER BY created_at DESC, id`), accountID, accountID)
	if err != nil {
		return nil, fmt.Errorf("reading verify blocks: %w", err)
	}
	defer rows.Close()
	var out []store.VerifyBlock
	for rows.Next() {
		var b store.VerifyBlock
		var created, lifted int64
		if err := rows.Scan(&b.ID, &b.AccountID, &b.Kind, &b.Value, &b.Rule, &b.Reason, &created, &b.LiftedBy, &lifted); err != nil {
			return nil, fmt.Errorf("reading verify blocks: %w", err)
		}
		b.CreatedAt, b.LiftedAt = fromMicros(created), fromMicros(lifted)
		out = append(out, b)
	}
	return out, rows.Err()
}

// LiftVerifyBlock lifts an active block.
func (s *Store) LiftVerifyBlock(ctx context.Context, id, by string, at time.Time) (*store.VerifyBlock, error) {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE verify_blocks SET lifted_by = ?, lifted_at = ? WHERE id = ? AND lifted_at = 0`), by, micros(at), id)
	if err != nil {
		return nil, fmt.Errorf("lifting verify block: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, store.ErrNotFound
	}
	var b store.VerifyBlock
	var created, lifted int64
	err = s.w.QueryRowContext(ctx, s.d.rebind(`SELECT id, account_id, kind, value, rule, reason, created_at, lifted_by, lifted_at FROM verify_blocks WHERE id = ?`), id).
		Scan(&b.ID, &b.AccountID, &b.Kind, &b.Value, &b.Rule, &b.Reason, &created, &b.LiftedBy, &lifted)
	if err != nil {
		return nil, fmt.Errorf("reading lifted verify block: %w", err)
	}
	b.CreatedAt, b.LiftedAt = fromMicros(created), fromMicros(lifted)
	return &b, nil
}
