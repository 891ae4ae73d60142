package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// ReplaceScheduled implements store.Store.
func (s *Store) ReplaceScheduled(ctx context.Context, it *store.Accept) error {
	m := it.Message
	if err := s.ensureScopes(ctx, m.AccountID); err != nil {
		return err
	}
	return s.inTx(ctx, "replacing message", func(tx *sql.Tx) error {
		// The same test as CancelScheduled: every recipient still waits for
		// its time, but for those refused when the message was accepted.
		var total, scheduled, waiting, reviews int
		var charged, units int64
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*),
			COALESCE(SUM(CASE WHEN r.status = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN r.status = ? OR (r.status = ? AND r.connector = '' AND r.status_at = m.created_at) THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(r.price), 0),
			COALESCE(SUM(CASE WHEN r.status = ? THEN r.part_count ELSE 0 END), 0)
			FROM recipients r JOIN messages m ON m.id = r.message_id WHERE r.message_id = ? AND r.account_id = ?`),
			string(message.Scheduled), string(message.Scheduled), string(message.DeliveryFailed), string(message.Scheduled),
			m.ID, m.AccountID).Scan(&total, &scheduled, &waiting, &charged, &units)
		if err != nil {
			return fmt.Errorf("replacing message: %w", err)
		}
		if total == 0 {
			return store.ErrNotFound
		}
		if scheduled == 0 || waiting != total {
			return store.ErrConflict
		}
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM reviews WHERE message_id = ? AND account_id = ? AND status = ?`),
			m.ID, m.AccountID, store.ReviewPending).Scan(&reviews); err != nil {
			return fmt.Errorf("replacing message: %w", err)
		}
		if reviews > 0 {
			return store.ErrConflict
		}
		// Recipients refused when the message was accepted were reported
		// then; if compliance refuses them again, they are not reported
		// twice (below).
		refused := map[int]bool{}
		rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT seq FROM recipients WHERE message_id = ? AND account_id = ? AND status = ?`),
			m.ID, m.AccountID, string(message.DeliveryFailed))
		if err != nil {
			return fmt.Errorf("replacing message: %w", err)
		}
		for rows.Next() {
			var seq int
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return fmt.Errorf("replacing message: %w", err)
			}
			refused[seq] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("replacing message: %w", err)
		}
		var lastJob int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM jobs`).Scan(&lastJob); err != nil {
			return fmt.Errorf("replacing message: %w", err)
		}
		// The difference: charged (and counted) now, as of now.
		now := time.Now().UTC()
		at := *m
		at.CreatedAt = now
		diff := &store.Accept{Message: &at, Charge: max(it.Charge-charged, 0), Units: max(it.Units-units, 0), Limits: it.Limits}
		if diff.Charge > 0 || diff.Units > 0 {
			if err := s.charge(ctx, tx, diff); err != nil {
				return err
			}
			if diff.Err != nil {
				return diff.Err
			}
		}
		it.Alerts, it.TopUp = diff.Alerts, diff.TopUp
		if jobs := billingJobs(diff); len(jobs) > 0 {
			if err := s.insertJobs.exec(ctx, tx, &s.d, jobs); err != nil {
				return fmt.Errorf("enqueueing billing jobs: %w", err)
			}
		}
		if back := charged - it.Charge; back > 0 {
			if err := s.addLedger(ctx, tx, &store.LedgerEntry{AccountID: m.AccountID, Kind: store.LedgerRefund, Amount: back,
				Reference: m.ID, Reason: "scheduled message replaced with fewer parts", Actor: "api", CreatedAt: now}); err != nil {
				return err
			}
		}
		for _, q := range []string{
			`DELETE FROM jobs WHERE message_id = ? AND account_id = ? AND kind = '` + store.JobSend + `'`,
			`DELETE FROM recipients WHERE message_id = ? AND account_id = ?`,
			`DELETE FROM messages WHERE id = ? AND account_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, s.d.rebind(q), m.ID, m.AccountID); err != nil {
				return fmt.Errorf("replacing message: %w", err)
			}
		}
		if err := s.writeMessages(ctx, tx, []*message.Message{m}, nil); err != nil {
			return err
		}
		if len(refused) > 0 {
			if err := s.dropRepeatedReports(ctx, tx, m, lastJob, refused); err != nil {
				return err
			}
		}
		if it.Hold != nil {
			// The new text waits for an operator; a decision on the old
			// text (approved while it waited for its time) no longer
			// applies (the compliance decisions keep the history).
			if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM reviews WHERE message_id = ? AND account_id = ?`), m.ID, m.AccountID); err != nil {
				return fmt.Errorf("replacing message: %w", err)
			}
			return s.holdMessages(ctx, tx, []*store.Accept{it})
		}
		return nil
	})
}

// dropRepeatedReports deletes the report jobs writeMessages just queued
// (ids above lastJob) for recipients that were refused already.
func (s *Store) dropRepeatedReports(ctx context.Context, tx *sql.Tx, m *message.Message, lastJob int64, refused map[int]bool) error {
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT id, payload FROM jobs WHERE message_id = ? AND account_id = ? AND kind = ? AND id > ?`),
		m.ID, m.AccountID, store.JobReport, lastJob)
	if err != nil {
		return fmt.Errorf("replacing message: %w", err)
	}
	var drop []int64
	for rows.Next() {
		var id int64
		var payload []byte
		if err := rows.Scan(&id, &payload); err != nil {
			rows.Close()
			return fmt.Errorf("replacing message: %w", err)
		}
		var rep store.Report
		if json.Unmarshal(payload, &rep) == nil && refused[rep.Seq] {
			drop = append(drop, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("replacing message: %w", err)
	}
	for _, id := range drop {
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM jobs WHERE id = ?`), id); err != nil {
			return fmt.Errorf("replacing message: %w", err)
		}
	}
	return nil
}
