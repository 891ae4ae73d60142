package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

const fallbackColumns = `message_id, account_id, fallback_id, channel_id, spec, due_at, state, reason, claimed_by, claimed_until`

func scanFallback(sc interface{ Scan(...any) error }) (*store.Fallback, error) {
	f := &store.Fallback{}
	var spec string
	var due, until int64
	if err := sc.Scan(&f.MessageID, &f.AccountID, &f.FallbackID, &f.ChannelID, &spec, &due, &f.State, &f.Reason, &f.ClaimedBy, &until); err != nil {
		return nil, err
	}
	f.Spec, f.DueAt = []byte(spec), fromMicros(due)
	if until != 0 {
		f.ClaimedUntil = fromMicros(until)
	}
	return f, nil
}

// insertFallbacks stores the fallbacks of accepted items (in the accept
// transaction).
func (s *Store) insertFallbacks(ctx context.Context, tx *sql.Tx, items []*store.Accept) error {
	for _, it := range items {
		f := it.Fallback
		if it.Err != nil || f == nil {
			continue
		}
		if _, err := s.txExec(ctx, tx, `INSERT INTO message_fallbacks (message_id, account_id, fallback_id, channel_id, spec, due_at, state, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, it.Message.ID, it.Message.AccountID, f.FallbackID, f.ChannelID, string(f.Spec),
			micros(f.DueAt), store.FallbackWaiting, micros(it.Message.CreatedAt)); err != nil {
			return fmt.Errorf("storing a fallback: %w", err)
		}
	}
	return nil
}

// claimFallbackItems marks the fallbacks that items stand in for as sent,
// where their runner still holds the claim; an item whose claim is lost
// gets ErrConflict (and is neither charged nor written). It runs in the
// accept transaction before charging.
func (s *Store) claimFallbackItems(ctx context.Context, tx *sql.Tx, items []*store.Accept) error {
	for _, it := range items {
		c := it.FallbackOf
		if c == nil {
			continue
		}
		res, err := s.txExec(ctx, tx, `UPDATE message_fallbacks SET state = ?, reason = '', claimed_until = 0, updated_at = ?
			WHERE account_id = ? AND message_id = ? AND state = ? AND claimed_by = ?`,
			store.FallbackSent, micros(it.Message.CreatedAt), c.AccountID, c.MessageID, store.FallbackClaimed, c.Owner)
		if err != nil {
			return fmt.Errorf("claiming a fallback: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("claiming a fallback: %w", err)
		} else if n == 0 {
			it.Err = store.ErrConflict
		}
	}
	return nil
}

// settleFallbackItems follows claimFallbackItems once items are charged: a
// fallback message refused by billing gives its claim back to its runner
// (which records the refusal); one written is shown on its primary and
// reported there (event "fallback").
func (s *Store) settleFallbackItems(ctx context.Context, tx *sql.Tx, items []*store.Accept) error {
	var reports []any
	for _, it := range items {
		c := it.FallbackOf
		if c == nil || errors.Is(it.Err, store.ErrConflict) {
			continue
		}
		if it.Err != nil {
			if _, err := s.txExec(ctx, tx, `UPDATE message_fallbacks SET state = ? WHERE account_id = ? AND message_id = ? AND claimed_by = ?`,
				store.FallbackClaimed, c.AccountID, c.MessageID, c.Owner); err != nil {
				return fmt.Errorf("giving back a fallback's claim: %w", err)
			}
			continue
		}
		// The message is stored now: its copy here (personal data) goes.
		if _, err := s.txExec(ctx, tx, `UPDATE message_fallbacks SET spec = '' WHERE account_id = ? AND message_id = ?`, c.AccountID, c.MessageID); err != nil {
			return fmt.Errorf("recording a fallback sent: %w", err)
		}
		rep, err := s.markFallback(ctx, tx, c.AccountID, c.MessageID, store.FallbackSent, "", it.Message.CreatedAt)
		if err != nil {
			return err
		}
		reports = append(reports, rep...)
	}
	return s.enqueueReports(ctx, tx, reports)
}

// markFallback shows a fallback's state in its primary's details and, for
// a fallback sent or refused, records the event "fallback" on each of the
// primary's recipients (reported where the message or account has a report
// URL); it returns the reports' job arguments.
func (s *Store) markFallback(ctx context.Context, tx *sql.Tx, accountID, messageID, state, reason string, at time.Time) ([]any, error) {
	var details string
	err := s.txQueryRow(ctx, tx, `SELECT details FROM messages WHERE id = ? AND account_id = ?`, messageID, accountID).Scan(&details)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // erased meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("reading a message's fallback: %w", err)
	}
	var d message.Details
	if details != "" {
		if err := json.Unmarshal([]byte(details), &d); err != nil {
			return nil, fmt.Errorf("decoding the details of %s: %w", messageID, err)
		}
	}
	if d.Fallback == nil {
		d.Fallback = &message.Fallback{}
	}
	d.Fallback.Status, d.Fallback.Reason = state, reason
	b, err := json.Marshal(&d)
	if err != nil {
		return nil, fmt.Errorf("encoding details: %w", err)
	}
	if _, err := s.txExec(ctx, tx, `UPDATE messages SET details = ? WHERE id = ? AND account_id = ?`, string(b), messageID, accountID); err != nil {
		return nil, fmt.Errorf("recording a message's fallback: %w", err)
	}
	if state != store.FallbackSent && state != store.FallbackRefused {
		return nil, nil
	}
	detail := map[string]string{"status": state, "id": d.Fallback.ID, "channelId": d.Fallback.From}
	if d.Fallback.Platform != "" {
		detail["platform"] = d.Fallback.Platform
	}
	if reason != "" {
		detail["reason"] = reason
	}
	var n int
	if err := s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM recipients WHERE message_id = ? AND account_id = ?`, messageID, accountID).Scan(&n); err != nil {
		return nil, fmt.Errorf("reading a message's recipients: %w", err)
	}
	var reports []any
	for seq := 0; seq < n; seq++ {
		_, rep, err := s.recordEvent(ctx, tx, store.Event{AccountID: accountID, MessageID: messageID, Seq: seq, Event: store.EventFallback,
			Detail: detail, At: at})
		if err != nil {
			return nil, err
		}
		reports = append(reports, rep...)
	}
	return reports, nil
}

// DueFallbacks implements store.Store.
func (s *Store) DueFallbacks(ctx context.Context, now time.Time, limit int) ([]store.Fallback, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+fallbackColumns+` FROM message_fallbacks
		WHERE state IN (?, ?) AND due_at <= ? AND (state = ? OR claimed_until <= ?) ORDER BY due_at LIMIT ?`),
		store.FallbackWaiting, store.FallbackClaimed, micros(now), store.FallbackWaiting, micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("listing due fallbacks: %w", err)
	}
	defer rows.Close()
	var out []store.Fallback
	for rows.Next() {
		f, err := scanFallback(rows)
		if err != nil {
			return nil, fmt.Errorf("listing due fallbacks: %w", err)
		}
		out = append(out, *f)
	}
	return out, rows.Err()
}

// ClaimFallback implements store.Store.
func (s *Store) ClaimFallback(ctx context.Context, accountID, messageID, owner string, now, until time.Time) (*store.Fallback, error) {
	var f *store.Fallback
	err := s.sharedTx(ctx, "claiming a fallback", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		f, err = scanFallback(s.txQueryRow(ctx, tx, `UPDATE message_fallbacks SET state = ?, claimed_by = ?, claimed_until = ?, updated_at = ?
			WHERE account_id = ? AND message_id = ? AND due_at <= ? AND (state = ? OR (state = ? AND claimed_until <= ?))
			RETURNING `+fallbackColumns,
			store.FallbackClaimed, owner, micros(until), micros(now), accountID, messageID, micros(now),
			store.FallbackWaiting, store.FallbackClaimed, micros(now)))
		if errors.Is(err, sql.ErrNoRows) {
			var one int
			if err := s.txQueryRow(ctx, tx, `SELECT 1 FROM message_fallbacks WHERE account_id = ? AND message_id = ?`, accountID, messageID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("claiming a fallback: %w", err)
		}
		return nil
	})
	return f, err
}

// SettleFallback implements store.Store.
func (s *Store) SettleFallback(ctx context.Context, accountID, messageID, owner, state, reason string, at time.Time) error {
	if state != store.FallbackSkipped && state != store.FallbackRefused {
		return fmt.Errorf("settling a fallback: state %q", state)
	}
	return s.sharedTx(ctx, "settling a fallback", func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `UPDATE message_fallbacks SET state = ?, reason = ?, spec = '', claimed_until = 0, updated_at = ?
			WHERE account_id = ? AND message_id = ? AND state = ? AND claimed_by = ?`,
			state, reason, micros(at), accountID, messageID, store.FallbackClaimed, owner)
		if err != nil {
			return fmt.Errorf("settling a fallback: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("settling a fallback: %w", err)
		} else if n == 0 {
			return store.ErrConflict
		}
		reports, err := s.markFallback(ctx, tx, accountID, messageID, state, reason, at)
		if err != nil {
			return err
		}
		return s.enqueueReports(ctx, tx, reports)
	})
}

// CancelForFallback implements store.Store.
func (s *Store) CancelForFallback(ctx context.Context, accountID, messageID, reason string, at time.Time) (int, error) {
	cancelled := 0
	err := s.sharedTx(ctx, "cancelling a message for its fallback", func(ctx context.Context, tx *sql.Tx) error {
		cancelled = 0
		// The send job goes unless it runs now (leased, lease not over): then
		// it may be handing the message to its platform, and nothing is
		// cancelled now; should that attempt fail and be due again, Finish
		// cancels the message then (cancelRetryAfterFallback). The delete is
		// conditional, so a job leased meanwhile (by another node) stays
		// and is seen below.
		if _, err := s.txExec(ctx, tx, `DELETE FROM jobs WHERE message_id = ? AND account_id = ? AND kind = ? AND (lease_owner = '' OR run_at <= ?)`,
			messageID, accountID, store.JobSend, micros(time.Now())); err != nil {
			return fmt.Errorf("cancelling a message: %w", err)
		}
		var running int
		if err := s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM jobs WHERE message_id = ? AND account_id = ? AND kind = ?`,
			messageID, accountID, store.JobSend).Scan(&running); err != nil {
			return fmt.Errorf("cancelling a message: %w", err)
		}
		if running > 0 {
			return errSending
		}
		n, err := s.cancelUnsent(ctx, tx, accountID, messageID, reason, at)
		cancelled = n
		return err
	})
	if errors.Is(err, errSending) {
		return 0, nil // rolled back: the message has left, or is leaving
	}
	return cancelled, err
}

// cancelUnsent cancels, in tx, the recipients of a message that no
// connector took (its send job gone or going): each ends failed with
// reason and is refunded, and the message notes that it was cancelled. It
// returns how many it cancelled, or errSending when every recipient had
// left already.
func (s *Store) cancelUnsent(ctx context.Context, tx *sql.Tx, accountID, messageID, reason string, at time.Time) (int, error) {
	cancelled := 0
	rows, err := s.txQuery(ctx, tx, `SELECT r.seq, r.price, m.report_url, a.report_url FROM recipients r
		JOIN messages m ON m.id = r.message_id JOIN accounts a ON a.id = r.account_id
		WHERE r.message_id = ? AND r.account_id = ? AND r.connector = '' AND r.status IN (?, ?, ?)`,
		messageID, accountID, string(message.Scheduled), string(message.Sent), string(message.Buffered))
	if err != nil {
		return 0, fmt.Errorf("cancelling a message: %w", err)
	}
	type left struct {
		seq    int
		price  int64
		notify bool
	}
	var list []left
	var refund int64
	for rows.Next() {
		var l left
		var mURL, aURL string
		if err := rows.Scan(&l.seq, &l.price, &mURL, &aURL); err != nil {
			rows.Close()
			return 0, fmt.Errorf("cancelling a message: %w", err)
		}
		l.notify = mURL != "" || aURL != ""
		refund += l.price
		list = append(list, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("cancelling a message: %w", err)
	}
	if len(list) == 0 {
		return 0, errSending // all of it left already: keep what the delete took (nothing to do)
	}
	updates := make([]*store.StatusUpdate, len(list))
	for i, l := range list {
		updates[i] = &store.StatusUpdate{AccountID: accountID, MessageID: messageID, Seq: l.seq, Status: message.DeliveryFailed,
			Reason: reason, At: at.UTC(), Notify: l.notify}
	}
	if err := s.applyStatuses(ctx, tx, updates); err != nil {
		return 0, err
	}
	var jargs []any
	for _, u := range updates {
		if u.Applied {
			cancelled++
		}
		if jargs, err = s.appendReport(ctx, jargs, u); err != nil {
			return 0, err
		}
	}
	if err := s.enqueueReports(ctx, tx, jargs); err != nil {
		return 0, err
	}
	if _, err := s.txExec(ctx, tx, `UPDATE recipients SET price = 0 WHERE message_id = ? AND account_id = ? AND connector = '' AND status = ?`,
		messageID, accountID, string(message.DeliveryFailed)); err != nil {
		return 0, fmt.Errorf("cancelling a message: %w", err)
	}
	if err := s.setCancelled(ctx, tx, accountID, messageID); err != nil {
		return 0, err
	}
	return cancelled, s.refund(ctx, tx, accountID, messageID, refund, "message cancelled: sent on its fallback channel", "fallback", "fallback:"+messageID)
}

// cancelRetryAfterFallback is, for a send job whose attempt failed and is
// due again, whether its message's fallback went out meanwhile. The attempt
// was running when the fallback was sent, so CancelForFallback left the
// message alone; trying it again would deliver it twice. Its unsent
// recipients are cancelled and refunded as CancelForFallback does, and the
// job is to be dropped (true).
func (s *Store) cancelRetryAfterFallback(ctx context.Context, tx *sql.Tx, jobID int64) (bool, error) {
	var accountID, messageID, fallbackID string
	err := s.txQueryRow(ctx, tx, `SELECT f.account_id, f.message_id, f.fallback_id FROM jobs j
		JOIN message_fallbacks f ON f.message_id = j.message_id AND f.account_id = j.account_id
		WHERE j.id = ? AND j.kind = ? AND f.state = ?`, jobID, store.JobSend, store.FallbackSent).Scan(&accountID, &messageID, &fallbackID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("finishing job %d: reading its fallback: %w", jobID, err)
	}
	_, err = s.cancelUnsent(ctx, tx, accountID, messageID, store.CancelledForFallback(fallbackID), time.Now().UTC())
	if errors.Is(err, errSending) {
		return false, nil // every recipient left already: the retry is for what they left behind
	}
	return err == nil, err
}

// errSending rolls back a cancellation of a message that has left (or is
// leaving) for its platform.
var errSending = errors.New("the message is being sent")

// setCancelled notes in a message's details that it was cancelled for its
// fallback.
func (s *Store) setCancelled(ctx context.Context, tx *sql.Tx, accountID, messageID string) error {
	var details string
	if err := s.txQueryRow(ctx, tx, `SELECT details FROM messages WHERE id = ? AND account_id = ?`, messageID, accountID).Scan(&details); err != nil {
		return fmt.Errorf("reading a message's details: %w", err)
	}
	var d message.Details
	if details != "" {
		if err := json.Unmarshal([]byte(details), &d); err != nil {
			return fmt.Errorf("decoding the details of %s: %w", messageID, err)
		}
	}
	if d.Fallback == nil {
		return nil
	}
	d.Fallback.Cancelled = true
	b, err := json.Marshal(&d)
	if err != nil {
		return fmt.Errorf("encoding details: %w", err)
	}
	if _, err := s.txExec(ctx, tx, `UPDATE messages SET details = ? WHERE id = ? AND account_id = ?`, string(b), messageID, accountID); err != nil {
		return fmt.Errorf("recording a cancellation: %w", err)
	}
	return nil
}

// unrefused is group without the items refused already (a fallback whose
// claim is lost), in order; group itself when there are none.
func unrefused(group []*store.Accept) []*store.Accept {
	for i, it := range group {
		if it.Err != nil {
			out := append([]*store.Accept(nil), group[:i]...)
			for _, it := range group[i+1:] {
				if it.Err == nil {
					out = append(out, it)
				}
			}
			return out
		}
	}
	return group
}
