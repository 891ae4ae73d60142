package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// PublishTerms implements store.Terms.
func (s *Store) PublishTerms(ctx context.Context, v store.TermsVersion, notices []*store.Job) error {
	return s.inTx(ctx, "publishing terms", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO terms_versions (version, url, summary, effective_at, published_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (version) DO NOTHING`), v.Version, v.URL, v.Summary, micros(v.EffectiveAt), micros(v.PublishedAt))
		if err != nil {
			return fmt.Errorf("publishing terms: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrConflict
		}
		return s.addJobs(ctx, tx, notices)
	})
}

// ListTerms implements store.Terms.
func (s *Store) ListTerms(ctx context.Context) ([]store.TermsVersion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT version, url, summary, effective_at, published_at FROM terms_versions ORDER BY published_at DESC, version DESC`)
	if err != nil {
		return nil, fmt.Errorf("listing terms: %w", err)
	}
	defer rows.Close()
	var out []store.TermsVersion
	for rows.Next() {
		var v store.TermsVersion
		var eff, pub int64
		if err := rows.Scan(&v.Version, &v.URL, &v.Summary, &eff, &pub); err != nil {
			return nil, fmt.Errorf("listing terms: %w", err)
		}
		v.EffectiveAt, v.PublishedAt = fromMicros(eff), fromMicros(pub)
		out = append(out, v)
	}
	return out, rows.Err()
}

// AcceptTerms implements store.Terms.
func (s *Store) AcceptTerms(ctx context.Context, a store.TermsAcceptance) error {
	return s.inTx(ctx, "accepting terms", func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT 1 FROM terms_versions WHERE version = ?`), a.Version).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return fmt.Errorf("reading terms: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO terms_acceptances (account_id, version, accepted_by, ip, accepted_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (account_id, version) DO NOTHING`), a.AccountID, a.Version, a.AcceptedBy, a.IP, micros(a.AcceptedAt)); err != nil {
			return fmt.Errorf("accepting terms: %w", err)
		}
		return nil
	})
}

// TermsAcceptances implements store.Terms.
func (s *Store) TermsAcceptances(ctx context.Context, accountID, version string) ([]store.TermsAcceptance, error) {
	q := `SELECT account_id, version, accepted_by, ip, accepted_at FROM terms_acceptances WHERE `
	var args []any
	switch {
	case accountID != "" && version != "":
		q += `account_id = ? AND version = ?`
		args = []any{accountID, version}
	case accountID != "":
		q += `account_id = ?`
		args = []any{accountID}
	default:
		q += `version = ?`
		args = []any{version}
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q+` ORDER BY accepted_at DESC, account_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("listing acceptances: %w", err)
	}
	defer rows.Close()
	var out []store.TermsAcceptance
	for rows.Next() {
		var a store.TermsAcceptance
		var at int64
		if err := rows.Scan(&a.AccountID, &a.Version, &a.AcceptedBy, &a.IP, &at); err != nil {
			return nil, fmt.Errorf("listing acceptances: %w", err)
		}
		a.AcceptedAt = fromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetSubprocessors implements store.Terms.
func (s *Store) SetSubprocessors(ctx context.Context, list []store.Subprocessor, at time.Time, notices []*store.Job) error {
	raw, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "setting sub-processors", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM subprocessors`); err != nil {
			return fmt.Errorf("setting sub-processors: %w", err)
		}
		for i, p := range list {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO subprocessors (position, name, purpose, location) VALUES (?, ?, ?, ?)`),
				i, p.Name, p.Purpose, p.Location); err != nil {
				return fmt.Errorf("setting sub-processors: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO subprocessors_changes (changed_at, list) VALUES (?, ?)
			ON CONFLICT (changed_at) DO UPDATE SET list = excluded.list`), micros(at), string(raw)); err != nil {
			return fmt.Errorf("recording the sub-processor change: %w", err)
		}
		return s.addJobs(ctx, tx, notices)
	})
}

// Subprocessors implements store.Terms.
func (s *Store) Subprocessors(ctx context.Context) ([]store.Subprocessor, time.Time, error) {
	var changed sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(changed_at) FROM subprocessors_changes`).Scan(&changed); err != nil {
		return nil, time.Time{}, fmt.Errorf("reading sub-processors: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT name, purpose, location FROM subprocessors ORDER BY position`)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading sub-processors: %w", err)
	}
	defer rows.Close()
	out := []store.Subprocessor{}
	for rows.Next() {
		var p store.Subprocessor
		if err := rows.Scan(&p.Name, &p.Purpose, &p.Location); err != nil {
			return nil, time.Time{}, fmt.Errorf("reading sub-processors: %w", err)
		}
		out = append(out, p)
	}
	var at time.Time
	if changed.Valid {
		at = fromMicros(changed.Int64)
	}
	return out, at, rows.Err()
}
