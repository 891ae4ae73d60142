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

// RecordEvents records recipients' events and queues their reports in one
// transaction.
func (s *Store) RecordEvents(ctx context.Context, es []store.Event) ([]store.EventOutcome, error) {
	for _, e := range es {
		if !store.ValidEvent(e.Event) {
			return nil, fmt.Errorf("recording events: unknown event %q", e.Event)
		}
	}
	out := make([]store.EventOutcome, len(es))
	err := s.urgentTx(ctx, "recording events", len(es), func(ctx context.Context, tx *sql.Tx) error {
		o, reports, err := s.recordEvents(ctx, tx, es, nil)
		if err != nil {
			return err
		}
		copy(out, o)
		return s.enqueueReports(ctx, tx, reports)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// recordEvent records one event in tx and returns the job arguments of its
// report (none when it is not reported).
func (s *Store) recordEvent(ctx context.Context, tx *sql.Tx, e store.Event) (store.EventOutcome, []any, error) {
	var o store.EventOutcome
	var status, messageURL, accountURL string
	err := s.txQueryRow(ctx, tx, `SELECT r.status, m.report_url, a.report_url FROM recipients r
		JOIN messages m ON m.id = r.message_id JOIN accounts a ON a.id = r.account_id
		WHERE r.message_id = ? AND r.seq = ? AND r.account_id = ?`, e.MessageID, e.Seq, e.AccountID).Scan(&status, &messageURL, &accountURL)
	if errors.Is(err, sql.ErrNoRows) {
		return o, nil, nil
	}
	if err != nil {
		return o, nil, fmt.Errorf("recording an event: %w", err)
	}
	report := true
	if !store.OnceEvent(e.Event) {
		// Every open and click is kept; the first of each is reported.
		var one int
		err := s.txQueryRow(ctx, tx, `SELECT 1 FROM message_events WHERE message_id = ? AND seq = ? AND event = ? LIMIT 1`,
			e.MessageID, e.Seq, e.Event).Scan(&one)
		switch {
		case err == nil:
			report = false
		case !errors.Is(err, sql.ErrNoRows):
			return o, nil, fmt.Errorf("recording an event: %w", err)
		}
	}
	detail := ""
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return o, nil, fmt.Errorf("recording an event: %w", err)
		}
		detail = string(b)
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	// A once-only event already there conflicts with message_events_once.
	res, err := s.txExec(ctx, tx, `INSERT INTO message_events (account_id, message_id, seq, event, detail, at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, e.AccountID, e.MessageID, e.Seq, e.Event, detail, micros(at))
	if err != nil {
		return o, nil, fmt.Errorf("recording an event: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return o, nil, fmt.Errorf("recording an event: %w", err)
	} else if n == 0 {
		return o, nil, nil
	}
	o.Recorded = true
	kind := store.JobReport
	if !report {
		return o, nil, nil
	}
	if messageURL == "" && accountURL == "" {
		if !s.convWebhooksOn(ctx, e.AccountID) {
			return o, nil, nil
		}
		kind = jobConvReport // for a Conversations webhook only
	}
	payload, err := json.Marshal(store.Report{Seq: e.Seq, Status: message.Status(status), At: at.UTC(), Event: e.Event, Detail: e.Detail})
	if err != nil {
		return o, nil, fmt.Errorf("encoding report: %w", err)
	}
	o.Reported = kind == store.JobReport
	return o, []any{kind, e.AccountID, e.MessageID, payload, 0, micros(at), "", micros(at)}, nil
}

// MessageEvents lists messages' events, oldest first.
func (s *Store) MessageEvents(ctx context.Context, accountID string, messageIDs []string) (map[string][]store.Event, error) {
	out := map[string][]store.Event{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	in, args := inList(messageIDs)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT message_id, seq, event, detail, at FROM message_events
		WHERE account_id = ? AND message_id IN (`+in+`) ORDER BY at, id`), append([]any{accountID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e := store.Event{AccountID: accountID}
		var detail string
		var at int64
		if err := rows.Scan(&e.MessageID, &e.Seq, &e.Event, &detail, &at); err != nil {
			return nil, fmt.Errorf("reading events: %w", err)
		}
		if detail != "" {
			if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
				return nil, fmt.Errorf("reading events: %w", err)
			}
		}
		e.At = fromMicros(at)
		out[e.MessageID] = append(out[e.MessageID], e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	return out, nil
}
