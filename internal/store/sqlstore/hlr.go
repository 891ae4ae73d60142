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

const hlrColumns = `id, account_id, msisdn, country, reference, origin, status, network, details, price, currency, created_at, status_at`

func scanHLR(sc interface{ Scan(...any) error }) (*store.HLRQuery, error) {
	q := &store.HLRQuery{}
	var details string
	var created, statusAt int64
	if err := sc.Scan(&q.ID, &q.AccountID, &q.MSISDN, &q.Country, &q.Reference, &q.Origin, &q.Status, &q.Network, &details,
		&q.Price, &q.Currency, &created, &statusAt); err != nil {
		return nil, err
	}
	if details != "" {
		q.Details = []byte(details)
	}
	q.CreatedAt, q.StatusAt = fromMicros(created), fromMicros(statusAt)
	return q, nil
}

// CreateHLR implements store.HLR.
func (s *Store) CreateHLR(ctx context.Context, q *store.HLRQuery, enqueue bool) error {
	if q.CreatedAt.IsZero() {
		q.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	}
	if q.Origin == "" {
		q.Origin = store.HLROriginAPI
	}
	return s.inTx(ctx, "creating HLR query", func(tx *sql.Tx) error {
		if q.Price > 0 {
			e := &store.LedgerEntry{AccountID: q.AccountID, Kind: store.LedgerCharge, Amount: -q.Price, Reference: q.ID,
				Reason: "HLR query", Actor: "api", CreatedAt: q.CreatedAt}
			if err := s.addLedger(ctx, tx, e); err != nil {
				return err
			}
			q.Currency = e.Currency
		}
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO hlr_queries (`+hlrColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			q.ID, q.AccountID, q.MSISDN, q.Country, q.Reference, q.Origin, q.Status, q.Network, string(q.Details), q.Price, q.Currency,
			micros(q.CreatedAt), micros(q.StatusAt))
		if err != nil {
			return fmt.Errorf("creating HLR query: %w", err)
		}
		if !enqueue {
			return nil
		}
		return s.enqueueHLRJob(ctx, tx, store.JobHLR, q.AccountID, q.ID, q.CreatedAt)
	})
}

// enqueueHLRJob queues a job of an HLR query, due at once.
func (s *Store) enqueueHLRJob(ctx context.Context, tx *sql.Tx, kind, accountID, id string, now time.Time) error {
	payload, _ := json.Marshal(struct {
		HLR string `json:"hlr"`
	}{id})
	return s.addJobs(ctx, tx, []*store.Job{{Kind: kind, AccountID: accountID, Payload: payload, RunAt: now, CreatedAt: now}})
}

// GetHLR implements store.HLR.
func (s *Store) GetHLR(ctx context.Context, accountID, id string) (*store.HLRQuery, error) {
	q, err := scanHLR(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+hlrColumns+` FROM hlr_queries WHERE account_id = ? AND id = ?`), accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading HLR query: %w", err)
	}
	return q, nil
}

// ListHLR implements store.HLR.
func (s *Store) ListHLR(ctx context.Context, accountID string, limit, offset int) ([]*store.HLRQuery, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM hlr_queries WHERE account_id = ?`), accountID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting HLR queries: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+hlrColumns+` FROM hlr_queries WHERE account_id = ?
		ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`), accountID, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("listing HLR queries: %w", err)
	}
	defer rows.Close()
	out := []*store.HLRQuery{}
	for rows.Next() {
		q, err := scanHLR(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("listing HLR queries: %w", err)
		}
		out = append(out, q)
	}
	return out, total, rows.Err()
}

// LatestHLR implements store.HLR.
func (s *Store) LatestHLR(ctx context.Context, accountID, msisdn string, since time.Time, answered bool) (*store.HLRQuery, error) {
	where := `account_id = ? AND msisdn = ? AND created_at >= ?`
	if answered {
		where += ` AND status <> 'sent'`
	}
	q, err := scanHLR(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+hlrColumns+` FROM hlr_queries WHERE `+where+
		` ORDER BY created_at DESC, id DESC LIMIT 1`), accountID, msisdn, micros(since)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading the latest HLR query: %w", err)
	}
	return q, nil
}

// FinishHLR implements store.HLR.
func (s *Store) FinishHLR(ctx context.Context, q *store.HLRQuery) error {
	if q.StatusAt.IsZero() {
		q.StatusAt = time.Now().UTC()
	}
	return s.inTx(ctx, "recording HLR answer", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE hlr_queries SET status = ?, network = ?, details = ?, status_at = ?
			WHERE account_id = ? AND id = ? AND status = 'sent'`), q.Status, q.Network, string(q.Details), micros(q.StatusAt), q.AccountID, q.ID)
		if err != nil {
			return fmt.Errorf("recording HLR answer: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("recording HLR answer: %w", err)
		} else if n == 0 {
			var c int
			if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM hlr_queries WHERE account_id = ? AND id = ?`), q.AccountID, q.ID).Scan(&c); err != nil {
				return fmt.Errorf("recording HLR answer: %w", err)
			}
			if c == 0 {
				return store.ErrNotFound
			}
			return store.ErrConflict
		}
		var price int64
		var origin, reportURL string
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT q.price, q.origin, COALESCE(h.report_url, '') FROM hlr_queries q
			LEFT JOIN hlr_settings h ON h.account_id = q.account_id WHERE q.account_id = ? AND q.id = ?`), q.AccountID, q.ID).Scan(&price, &origin, &reportURL); err != nil {
			return fmt.Errorf("reading HLR query: %w", err)
		}
		if origin == store.HLROriginAPI && reportURL != "" {
			if err := s.enqueueHLRJob(ctx, tx, store.JobHLRReport, q.AccountID, q.ID, q.StatusAt); err != nil {
				return err
			}
		}
		if q.Status != store.HLRFailed {
			return nil
		}
		return s.refund(ctx, tx, q.AccountID, q.ID, price, "HLR query failed", "hlr", "hlr-failed:"+q.ID)
	})
}

// GetHLRSettings implements store.HLR.
func (s *Store) GetHLRSettings(ctx context.Context, accountID string) (store.HLRSettings, error) {
	out := store.HLRSettings{AccountID: accountID}
	var maxAge int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT check_before_send, max_age, report_url FROM hlr_settings WHERE account_id = ?`), accountID).
		Scan(&out.CheckBeforeSend, &maxAge, &out.ReportURL)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("reading HLR settings: %w", err)
	}
	out.MaxAge = time.Duration(maxAge) * time.Second
	return out, nil
}

// SetHLRSettings implements store.HLR.
func (s *Store) SetHLRSettings(ctx context.Context, set store.HLRSettings) error {
	return s.inTx(ctx, "saving HLR settings", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO hlr_settings (account_id, check_before_send, max_age, report_url) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET check_before_send = excluded.check_before_send, max_age = excluded.max_age,
			report_url = excluded.report_url`),
			set.AccountID, set.CheckBeforeSend, int64(set.MaxAge/time.Second), set.ReportURL)
		if err != nil {
			return fmt.Errorf("saving HLR settings: %w", err)
		}
		return nil
	})
}
