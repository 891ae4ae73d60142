package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Recording events in batches.
//
// A WhatsApp message brings a "read" event after its delivery, and the
// Cloud API's notifications come batched: recordEvent, one event at a time,
// costs two statements per event (read the recipient, insert the event),
// which on PostgreSQL are two round trips each inside the receipts'
// transaction. recordEvents records the once-only events of a batch with
// two statements for the whole batch: one read of their recipients, one
// multi-row insert that returns the events it stored (a duplicate meets
// message_events_once and is left out). Events that are kept every time
// (opens, clicks) go one by one, as before.

// eventMatchChunk bounds the (message, seq) pairs of one recipients read.
const eventMatchChunk = 128

// eventColumns are message_events' columns an insert writes.
const eventColumns = "account_id, message_id, seq, event, detail, at"

// newEventInsert writes once-only events, skipping those recorded already,
// and returns the ones it stored.
func newEventInsert() *bulkInsert {
	b := newBulkInsert("message_events", eventColumns)
	b.tail = " ON CONFLICT DO NOTHING RETURNING message_id, seq, event"
	return b
}

// recordEvents records es in tx as recordEvent does each in turn, and
// returns their outcomes and the job arguments of their reports, in the
// order of es. known, when not nil, holds recipients whose account, status
// and report URLs the caller has read in tx already (ApplyReceipts, from
// its matches): their once-only events are recorded without reading them
// again, even one alone.
func (s *Store) recordEvents(ctx context.Context, tx *sql.Tx, es []store.Event, known map[recipientRef]eventRecipient) ([]store.EventOutcome, []any, error) {
	out := make([]store.EventOutcome, len(es))
	reps := make([][]any, len(es))
	var once []int
	for i, e := range es {
		if store.OnceEvent(e.Event) {
			once = append(once, i)
		}
	}
	batched := len(once) > 1 || len(once) == 1 && known != nil
	if batched {
		if err := s.recordOnceEvents(ctx, tx, es, once, known, out, reps); err != nil {
			return nil, nil, err
		}
	}
	var reports []any
	for i, e := range es {
		if !store.OnceEvent(e.Event) || !batched {
			o, rep, err := s.recordEvent(ctx, tx, e)
			if err != nil {
				return nil, nil, err
			}
			out[i], reps[i] = o, rep
		}
		reports = append(reports, reps[i]...)
	}
	return out, reports, nil
}

// eventKey names one recipient's event.
type eventKey struct {
	messageID string
	seq       int
	event     string
}

// eventRecipient is what reporting an event needs of its recipient.
type eventRecipient struct {
	accountID, status, messageURL, accountURL string
}

// recordOnceEvents records the once-only events es[i] for i in idx, setting
// out[i] and reps[i].
func (s *Store) recordOnceEvents(ctx context.Context, tx *sql.Tx, es []store.Event, idx []int, known map[recipientRef]eventRecipient,
	out []store.EventOutcome, reps [][]any) error {
	type pair = recipientRef
	var pairs []pair
	recips := make(map[pair]eventRecipient, len(idx))
	for _, i := range idx {
		p := pair{es[i].MessageID, es[i].Seq}
		if _, seen := recips[p]; seen {
			continue
		}
		if r, ok := known[p]; ok {
			recips[p] = r
			continue
		}
		recips[p] = eventRecipient{} // to read
		pairs = append(pairs, p)
	}
	for _, p := range pairs {
		delete(recips, p)
	}
	err := inChunks(pairs, eventMatchChunk, func(chunk []pair) error {
		// Padded by repeating the last pair, so that few texts exist and
		// each stays prepared.
		n := padded(len(chunk))
		args := make([]any, 0, 2*n)
		for i := 0; i < n; i++ {
			p := chunk[min(i, len(chunk)-1)]
			args = append(args, p.messageID, p.seq)
		}
		rows, err := s.txQuery(ctx, tx, `SELECT r.message_id, r.seq, r.account_id, r.status, m.report_url, a.report_url FROM recipients r
			JOIN messages m ON m.id = r.message_id JOIN accounts a ON a.id = r.account_id
			WHERE `+strings.TrimSuffix(strings.Repeat("(r.message_id = ? AND r.seq = ?) OR ", n), " OR "), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p pair
			var r eventRecipient
			if err := rows.Scan(&p.messageID, &p.seq, &r.accountID, &r.status, &r.messageURL, &r.accountURL); err != nil {
				return err
			}
			recips[p] = r
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("recording events: %w", err)
	}
	var args []any
	ats := make([]time.Time, len(es))
	for _, i := range idx {
		e := es[i]
		if r, ok := recips[pair{e.MessageID, e.Seq}]; !ok || r.accountID != e.AccountID {
			continue // no such recipient of the account: nothing recorded
		}
		detail := ""
		if len(e.Detail) > 0 {
			b, err := json.Marshal(e.Detail)
			if err != nil {
				return fmt.Errorf("recording an event: %w", err)
			}
			detail = string(b)
		}
		ats[i] = e.At
		if ats[i].IsZero() {
			ats[i] = time.Now()
		}
		args = append(args, e.AccountID, e.MessageID, e.Seq, e.Event, detail, micros(ats[i]))
	}
	// How many rows each key got: one for an event the unique index keeps
	// once, and none for one stored already.
	stored := map[eventKey]int{}
	if len(args) > 0 {
		err := s.insertEvents.query(ctx, tx, &s.d, args, func(rows *sql.Rows, err error) error {
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var k eventKey
				if err := rows.Scan(&k.messageID, &k.seq, &k.event); err != nil {
					return err
				}
				stored[k]++
			}
			return rows.Err()
		})
		if err != nil {
			return fmt.Errorf("recording events: %w", err)
		}
	}
	// The first of repeats in es is the one stored, as it would have been
	// one at a time.
	for _, i := range idx {
		e := es[i]
		k := eventKey{e.MessageID, e.Seq, e.Event}
		if ats[i].IsZero() || stored[k] == 0 {
			continue // not inserted, or a repeat not stored
		}
		stored[k]--
		out[i].Recorded = true
		r := recips[pair{e.MessageID, e.Seq}]
		kind := store.JobReport
		if r.messageURL == "" && r.accountURL == "" {
			if !s.convWebhooksOn(ctx, e.AccountID) {
				continue
			}
			kind = jobConvReport // for a Conversations webhook only
		}
		at := ats[i]
		payload, err := json.Marshal(store.Report{Seq: e.Seq, Status: message.Status(r.status), At: at.UTC(), Event: e.Event, Detail: e.Detail})
		if err != nil {
			return fmt.Errorf("encoding report: %w", err)
		}
		out[i].Reported = kind == store.JobReport
		reps[i] = []any{kind, e.AccountID, e.MessageID, payload, 0, micros(at), "", micros(at)}
	}
	return nil
}
