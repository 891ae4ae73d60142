package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// ApplyReceipts matches receipts to parts in one transaction.
func (s *Store) ApplyReceipts(ctx context.Context, rs []store.Receipt) ([]store.ReceiptOutcome, error) {
	out := make([]store.ReceiptOutcome, len(rs))
	err := s.inTx(ctx, "applying receipts", func(tx *sql.Tx) error {
		if err := s.lockReceipts(ctx, tx, rs); err != nil {
			return err
		}
		var reports []any
		for i, r := range rs {
			if len(r.SMSCIDs) == 0 || !r.Status.Valid() {
				return fmt.Errorf("applying receipts: receipt without id or with status %q", r.Status)
			}
			o, report, err := s.applyReceipt(ctx, tx, r)
			if err != nil {
				return err
			}
			out[i] = o
			reports = append(reports, report...)
		}
		return s.enqueueReports(ctx, tx, reports)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyReceipt matches one receipt, returning report-job arguments when the
// recipient's status changed.
func (s *Store) applyReceipt(ctx context.Context, tx *sql.Tx, r store.Receipt) (store.ReceiptOutcome, []any, error) {
	var o store.ReceiptOutcome
	var part int
	var messageURL, accountURL string
	// Reports go out only where someone listens: the message's or the
	// account's report URL.
	q := `SELECT p.message_id, p.seq, p.part, p.account_id, m.report_url, a.report_url FROM recipient_parts p
		JOIN messages m ON m.id = p.message_id JOIN accounts a ON a.id = p.account_id
		WHERE p.connector = ? AND p.smsc_id IN (` + placeholders(len(r.SMSCIDs)) + `)`
	args := append([]any{r.Connector}, strings2any(r.SMSCIDs)...)
	err := tx.QueryRowContext(ctx, s.d.rebind(q), args...).Scan(&o.MessageID, &o.Seq, &part, &o.AccountID, &messageURL, &accountURL)
	if errors.Is(err, sql.ErrNoRows) {
		return o, nil, s.keepPending(ctx, tx, r)
	}
	if err != nil {
		return o, nil, fmt.Errorf("matching receipt: %w", err)
	}
	o.Matched = true
	// Parts move forward only, like recipients.
	from := message.Predecessors(r.Status)
	if len(from) > 0 {
		uargs := []any{string(r.Status), r.ErrorCode, micros(r.At), o.MessageID, o.Seq, part}
		uargs = append(uargs, statuses2any(from)...)
		if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE recipient_parts SET status = ?, status_error_code = ?, status_at = ?
			WHERE message_id = ? AND seq = ? AND part = ? AND status IN (`+placeholders(len(from))+`)`), uargs...); err != nil {
			return o, nil, fmt.Errorf("updating part: %w", err)
		}
	}
	status, code, err := s.rollUp(ctx, tx, o.MessageID, o.Seq)
	if err != nil {
		return o, nil, err
	}
	o.Status = status
	reason := ""
	if status == r.Status {
		reason = r.Reason
	}
	u := &store.StatusUpdate{AccountID: o.AccountID, MessageID: o.MessageID, Seq: o.Seq, Status: status, Reason: reason,
		ErrorCode: code, At: r.At, Notify: messageURL != "" || accountURL != ""}
	changed, err := s.applyStatus(ctx, tx, u)
	if err != nil {
		return o, nil, err
	}
	o.Changed = changed
	if !changed || !u.Notify {
		return o, nil, nil
	}
	report, err := reportArgs(u)
	return o, report, err
}

// rollUp derives a recipient's status from its parts; the error code is
// that of a failed part.
func (s *Store) rollUp(ctx context.Context, tx *sql.Tx, messageID string, seq int) (message.Status, int, error) {
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT status, status_error_code FROM recipient_parts WHERE message_id = ? AND seq = ?`), messageID, seq)
	if err != nil {
		return "", 0, fmt.Errorf("reading parts: %w", err)
	}
	defer rows.Close()
	var parts []message.Status
	code := 0
	for rows.Next() {
		var st string
		var c int
		if err := rows.Scan(&st, &c); err != nil {
			return "", 0, fmt.Errorf("reading parts: %w", err)
		}
		parts = append(parts, message.Status(st))
		if code == 0 && (st == string(message.DeliveryFailed) || st == string(message.Expired)) {
			code = c
		}
	}
	if err := rows.Err(); err != nil {
		return "", 0, fmt.Errorf("reading parts: %w", err)
	}
	return message.RollUp(parts), code, nil
}

// keepPending stores a receipt that matched no part, under each id form.
func (s *Store) keepPending(ctx context.Context, tx *sql.Tx, r store.Receipt) error {
	now := micros(time.Now())
	for _, id := range r.SMSCIDs {
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO pending_receipts
			(connector, smsc_id, receipt_key, status, reason, error_code, status_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (connector, smsc_id) DO UPDATE SET receipt_key = excluded.receipt_key, status = excluded.status,
			reason = excluded.reason, error_code = excluded.error_code, status_at = excluded.status_at, received_at = excluded.received_at`),
			r.Connector, id, r.SMSCIDs[0], string(r.Status), r.Reason, r.ErrorCode, micros(r.At), now)
		if err != nil {
			return fmt.Errorf("keeping pending receipt: %w", err)
		}
	}
	return nil
}

// recordParts stores the carrier ids of a recipient's parts and applies any
// receipt that arrived for them first. It returns report-job arguments.
func (s *Store) recordParts(ctx context.Context, tx *sql.Tx, u *store.StatusUpdate) ([]any, error) {
	at := micros(u.At)
	for i, id := range u.Parts {
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO recipient_parts
			(message_id, seq, part, account_id, connector, smsc_id, status, status_error_code, status_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
			ON CONFLICT (message_id, seq, part) DO UPDATE SET connector = excluded.connector, smsc_id = excluded.smsc_id,
			status = excluded.status, status_error_code = 0, status_at = excluded.status_at`),
			u.MessageID, u.Seq, i+1, u.AccountID, u.Connector, id, string(message.Sent), at)
		if err != nil {
			return nil, fmt.Errorf("recording parts: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT smsc_id, receipt_key, status, reason, error_code, status_at FROM pending_receipts
		WHERE connector = ? AND smsc_id IN (`+placeholders(len(u.Parts))+`)`), append([]any{u.Connector}, strings2any(u.Parts)...)...)
	if err != nil {
		return nil, fmt.Errorf("looking for early receipts: %w", err)
	}
	// Each early receipt is applied once, to the part whose id it matched.
	early := map[string]store.Receipt{}
	for rows.Next() {
		var id, key, st string
		var r store.Receipt
		var at int64
		if err := rows.Scan(&id, &key, &st, &r.Reason, &r.ErrorCode, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading early receipts: %w", err)
		}
		r.Connector, r.Status, r.At, r.SMSCIDs = u.Connector, message.Status(st), fromMicros(at), []string{id}
		early[key] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading early receipts: %w", err)
	}
	var reports []any
	for key, r := range early {
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM pending_receipts WHERE connector = ? AND receipt_key = ?`), u.Connector, key); err != nil {
			return nil, fmt.Errorf("clearing early receipt: %w", err)
		}
		_, report, err := s.applyReceipt(ctx, tx, r)
		if err != nil {
			return nil, err
		}
		reports = append(reports, report...)
	}
	return reports, nil
}

// Lock keys. Every transaction takes carrier-id keys ("1|…") before
// recipient keys ("2|…"), each set in sorted order, so no two wait for each
// other in a cycle.

// appendIDKeys adds the lock keys of carrier ids.
func appendIDKeys(keys []string, connector string, ids []string) []string {
	for _, id := range ids {
		keys = append(keys, "1|"+connector+" "+id)
	}
	return keys
}

// recipientKey is the lock key of a recipient: receipts for its parts roll
// up into its status one transaction at a time.
func recipientKey(messageID string, seq int) string {
	return "2|" + messageID + "/" + strconv.Itoa(seq)
}

// lockReceipts takes the locks applying receipts needs: their carrier ids
// (against a concurrent submit response recording the part), then the
// recipients they roll up into.
func (s *Store) lockReceipts(ctx context.Context, tx *sql.Tx, rs []store.Receipt) error {
	if s.d.LockKeys == nil {
		return nil
	}
	var keys []string
	for _, r := range rs {
		keys = appendIDKeys(keys, r.Connector, r.SMSCIDs)
	}
	if err := s.lockIDs(ctx, tx, keys); err != nil {
		return err
	}
	keys = keys[:0]
	for _, r := range rs {
		rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT message_id, seq FROM recipient_parts WHERE connector = ? AND smsc_id IN (`+
			placeholders(len(r.SMSCIDs))+`)`), append([]any{r.Connector}, strings2any(r.SMSCIDs)...)...)
		if err != nil {
			return fmt.Errorf("finding receipts' recipients: %w", err)
		}
		for rows.Next() {
			var mid string
			var seq int
			if err := rows.Scan(&mid, &seq); err != nil {
				rows.Close()
				return fmt.Errorf("finding receipts' recipients: %w", err)
			}
			keys = append(keys, recipientKey(mid, seq))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("finding receipts' recipients: %w", err)
		}
	}
	return s.lockIDs(ctx, tx, keys)
}

// lockIDs serialises transactions on carrier ids where the engine needs it.
// A transaction takes all its locks at once, first, so that two never wait
// for each other.
func (s *Store) lockIDs(ctx context.Context, tx *sql.Tx, keys []string) error {
	if s.d.LockKeys == nil || len(keys) == 0 {
		return nil
	}
	if err := s.d.LockKeys(ctx, tx, keys); err != nil {
		return fmt.Errorf("locking carrier ids: %w", err)
	}
	return nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func strings2any(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func statuses2any(ss []message.Status) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// PurgePendingReceipts drops receipts that matched nothing for too long.
func (s *Store) PurgePendingReceipts(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM pending_receipts WHERE received_at < ?`), micros(before))
	if err != nil {
		return 0, fmt.Errorf("purging pending receipts: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
