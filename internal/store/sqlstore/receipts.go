package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// ApplyReceipts matches receipts to parts in one transaction.
func (s *Store) ApplyReceipts(ctx context.Context, rs []store.Receipt) ([]store.ReceiptOutcome, error) {
	out, _, _, err := s.ApplyReceiptsLeased(ctx, rs, nil)
	return out, err
}

// ApplyReceiptsLeased implements store.Receipts.
func (s *Store) ApplyReceiptsLeased(ctx context.Context, rs []store.Receipt, lease *store.Lease) ([]store.ReceiptOutcome, []*store.Job, int, error) {
	out := make([]store.ReceiptOutcome, len(rs))
	var leased []*store.Job
	var queued int
	err := s.urgentTx(ctx, "applying receipts", len(rs), func(ctx context.Context, tx *sql.Tx) error {
		leased, queued = nil, 0 // a transaction run again starts afresh
		matches, parts, err := s.lockReceipts(ctx, tx, rs)
		if err != nil {
			return err
		}
		// The recipients' new statuses are applied together, after every
		// part is updated (see applyStatuses).
		updates := make([]*store.StatusUpdate, len(rs))
		var all []*store.StatusUpdate
		var partChanges []partChange // the parts' new statuses, likewise
		var events []store.Event     // recorded once the statuses are applied
		var eventOf []int            // the receipt of each event
		// What reporting the events needs of their recipients, known from
		// the matches: recordEvents need not read them again.
		known := map[recipientRef]eventRecipient{}
		for i, r := range rs {
			if len(r.ProviderIDs) == 0 || !(r.Status.Valid() || r.Status == "" && r.Event != "") {
				return fmt.Errorf("applying receipts: receipt without id or with status %q", r.Status)
			}
			if r.Event != "" && !store.ValidEvent(r.Event) {
				return fmt.Errorf("applying receipts: unknown event %q", r.Event)
			}
			o, u, err := s.applyReceipt(ctx, tx, r, matches, parts, &partChanges)
			if err != nil {
				return err
			}
			out[i], updates[i] = o, u
			if u != nil {
				all = append(all, u)
			}
			if r.Event != "" && o.Matched {
				events = append(events, receiptEvent(r, o))
				eventOf = append(eventOf, i)
				ref := recipientRef{o.MessageID, o.Seq}
				if _, ok := known[ref]; !ok {
					pm, _ := matches.find(r)
					known[ref] = eventRecipient{accountID: pm.accountID, status: string(pm.status), messageURL: pm.messageURL, accountURL: pm.accountURL}
				}
			}
		}
		if err := s.applyPartChanges(ctx, tx, partChanges); err != nil {
			return err
		}
		if err := s.applyStatuses(ctx, tx, all); err != nil {
			return err
		}
		// A recipient's status is the last update applied to it, in order.
		for _, u := range all {
			ref := recipientRef{u.MessageID, u.Seq}
			if r, ok := known[ref]; ok && u.Applied {
				r.status = string(u.Status)
				known[ref] = r
			}
		}
		var reports []any
		for i, u := range updates {
			if u == nil {
				continue
			}
			out[i].Changed = u.Applied
			out[i].Reported = queuesReport(u)
			var err error
			if reports, err = s.appendReport(ctx, reports, u); err != nil {
				return err
			}
		}
		recorded, rep, err := s.recordEvents(ctx, tx, events, known)
		if err != nil {
			return err
		}
		for j, e := range recorded {
			if e.Reported {
				out[eventOf[j]].Reported = true
			}
		}
		leased, queued, err = s.enqueueReportsLeased(ctx, tx, append(reports, rep...), lease)
		return err
	})
	if err != nil {
		return nil, nil, 0, err
	}
	return out, leased, queued, nil
}

// receiptEvent is the event a matched receipt carries (WhatsApp's read),
// at the receipt's arrival.
func receiptEvent(r store.Receipt, o store.ReceiptOutcome) store.Event {
	at := r.ReceivedAt
	if at.IsZero() {
		at = time.Now()
	}
	return store.Event{AccountID: o.AccountID, MessageID: o.MessageID, Seq: o.Seq, Event: r.Event, Detail: r.Detail, At: at.UTC()}
}

// partMatch is a part a receipt's carrier id matched, with what applying
// the receipt needs to know about its message.
type partMatch struct {
	messageID, accountID   string
	seq, part              int
	messageURL, accountURL string
	// prevAt is the recipient's status time (or its creation, if later)
	// when the match was read; status its status then.
	prevAt int64
	status message.Status
}

// receiptMatches holds, per connector and carrier id, the parts carrying that
// id, ordered by (message_id, seq, part).
type receiptMatches map[[2]string][]partMatch

// find returns the part a receipt matches: of the parts carrying any of its
// id forms, the first in (provider_id, message_id, seq, part) order.
func (m receiptMatches) find(r store.Receipt) (partMatch, bool) {
	var best partMatch
	bestID, found := "", false
	for _, id := range r.ProviderIDs {
		if ps := m[[2]string{r.Connector, id}]; len(ps) > 0 && (!found || id < bestID) {
			best, bestID, found = ps[0], id, true
		}
	}
	return best, found
}

// matchChunk bounds the carrier ids in one matching query. The id list is
// padded to a power of two (repeating an id changes nothing in an IN list)
// so that few query texts exist and each is prepared once.
const matchChunk = 256

// matchReceipts reads the parts the receipts' carrier ids match, and all
// the parts of the recipients those belong to: one query per connector (and
// per matchChunk ids) for the whole batch. Applying a receipt changes no
// column read here but the parts' statuses, which applyReceipt keeps up to
// date in the recipientParts, so the matches hold for the whole transaction
// once the locks are taken.
func (s *Store) matchReceipts(ctx context.Context, tx *sql.Tx, rs []store.Receipt) (receiptMatches, recipientParts, error) {
	out, parts := receiptMatches{}, recipientParts{}
	err := partQueries(rs, func(c, where string, args []any) error {
		// Reports go out only where someone listens: the message's or
		// the account's report URL. Each matching part p comes with
		// every part q of its recipient, in part order.
		rows, err := s.txQuery(ctx, tx, `SELECT p.provider_id, p.message_id, p.seq, p.part, p.account_id, m.report_url, a.report_url,
			r.status_at, r.created_at, r.status, q.part, q.status, q.status_error_code
			FROM recipient_parts p JOIN messages m ON m.id = p.message_id JOIN accounts a ON a.id = p.account_id
			JOIN recipients r ON r.message_id = p.message_id AND r.seq = p.seq
			JOIN recipient_parts q ON q.message_id = p.message_id AND q.seq = p.seq
			WHERE `+where+` ORDER BY p.provider_id, p.message_id, p.seq, p.part, q.part`, args...)
		if err != nil {
			return fmt.Errorf("matching receipts: %w", err)
		}
		var last struct {
			id   string
			pm   partMatch
			fill bool
		}
		first := true
		for rows.Next() {
			var id, st, rst string
			var pm partMatch
			var q partState
			var created int64
			if err := rows.Scan(&id, &pm.messageID, &pm.seq, &pm.part, &pm.accountID, &pm.messageURL, &pm.accountURL,
				&pm.prevAt, &created, &rst, &q.part, &st, &q.code); err != nil {
				rows.Close()
				return fmt.Errorf("matching receipts: %w", err)
			}
			pm.prevAt, pm.status = max(pm.prevAt, created), message.Status(rst)
			q.status = message.Status(st)
			ref := recipientRef{pm.messageID, pm.seq}
			if first || id != last.id || pm != last.pm {
				// A new matching part; its recipient's parts follow,
				// kept the first time the recipient comes up.
				first = false
				k := [2]string{c, id}
				out[k] = append(out[k], pm)
				_, known := parts[ref]
				last.id, last.pm, last.fill = id, pm, !known
				if !known {
					parts[ref] = nil
				}
			}
			if last.fill {
				parts[ref] = append(parts[ref], q)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("matching receipts: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, parts, nil
}

// partQueries calls f with the condition (on recipient_parts p) that
// finds the parts the receipts name, its arguments and the connector, one
// call per connector and per matchChunk ids. Receipts that name their
// message (store.Receipt.MessageID) are looked for among that message's
// parts, through the primary key; the others by carrier id, through the
// partial index recipient_parts_provider, whose predicate the condition
// repeats so that SQLite uses it. Either way the condition holds only the
// parts carrying one of the ids.
func partQueries(rs []store.Receipt, f func(connector, where string, args []any) error) error {
	var byID [][2]string
	type echoed struct{ connector, messageID, id string }
	var byMessage []echoed
	for _, r := range rs {
		for _, id := range r.ProviderIDs {
			if r.MessageID != "" {
				byMessage = append(byMessage, echoed{r.Connector, r.MessageID, id})
			} else {
				byID = append(byID, [2]string{r.Connector, id})
			}
		}
	}
	err := idChunks(byID, func(c string, n int, args []any) error {
		return f(c, `p.connector = ? AND p.provider_id IN (`+placeholders(n)+`) AND p.echoed = 0`, args)
	})
	if err != nil {
		return err
	}
	return inGroups(byMessage, func(e echoed) string { return e.connector }, matchChunk, func(c string, chunk []echoed) error {
		var messageIDs, ids []string
		seenMessage, seenID := map[string]bool{}, map[string]bool{}
		for _, e := range chunk {
			if !seenMessage[e.messageID] {
				seenMessage[e.messageID] = true
				messageIDs = append(messageIDs, e.messageID)
			}
			if !seenID[e.id] {
				seenID[e.id] = true
				ids = append(ids, e.id)
			}
		}
		mp, margs := inList(messageIDs)
		ip, iargs := inList(ids)
		args := append(append(margs, c), iargs...)
		return f(c, `p.message_id IN (`+mp+`) AND p.connector = ? AND p.provider_id IN (`+ip+`)`, args)
	})
}

// matchedRecipients appends to keys the lock keys of the recipients whose
// parts carry the receipts' carrier ids: one light query per connector
// (and per matchChunk ids), reading only the recipient's name, for
// lockReceipts to lock them before it reads the matches in full.
func (s *Store) matchedRecipients(ctx context.Context, tx *sql.Tx, rs []store.Receipt, keys []string) ([]string, error) {
	err := partQueries(rs, func(_, where string, args []any) error {
		rows, err := s.txQuery(ctx, tx, `SELECT p.message_id, p.seq FROM recipient_parts p WHERE `+where, args...)
		if err != nil {
			return fmt.Errorf("matching receipts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var messageID string
			var seq int
			if err := rows.Scan(&messageID, &seq); err != nil {
				return fmt.Errorf("matching receipts: %w", err)
			}
			keys = append(keys, recipientKey(messageID, seq))
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("matching receipts: %w", err)
		}
		return nil
	})
	return keys, err
}

// idChunks calls f with the distinct carrier ids of each connector, at most
// matchChunk at a time, as the arguments (connector first) of a query
// "connector = ? AND provider_id IN (n placeholders)". n is the number of ids
// padded to a power of two by repeating the last one, which changes
// nothing in an IN list and keeps the query texts few.
func idChunks(pairs [][2]string, f func(connector string, n int, args []any) error) error {
	var distinct [][2]string
	seen := make(map[[2]string]bool, len(pairs))
	for _, k := range pairs {
		if !seen[k] {
			seen[k] = true
			distinct = append(distinct, k)
		}
	}
	return inGroups(distinct, func(k [2]string) string { return k[0] }, matchChunk, func(c string, chunk [][2]string) error {
		ids := make([]string, len(chunk))
		for i, k := range chunk {
			ids[i] = k[1]
		}
		_, args := inList(ids)
		return f(c, len(args), append([]any{c}, args...))
	})
}

// recipientRef names a recipient.
type recipientRef struct {
	messageID string
	seq       int
}

// partState is a part's status as the transaction sees it.
type partState struct {
	part   int
	status message.Status
	code   int
}

// recipientParts holds the parts of recipients in part order, kept up to
// date by applyReceipt as it changes them, so that rolling a receipt up
// into its recipient needs no query. Only valid where nothing else can
// change those parts during the transaction: read under the recipient locks
// (PostgreSQL) or by the single writer (SQLite).
type recipientParts map[recipientRef][]partState

// update mirrors applyReceipt's part update: the part moves to status when
// its status is one of from.
func (rp recipientParts) update(ref recipientRef, part int, from []message.Status, status message.Status, code int) {
	ps := rp[ref]
	for i := range ps {
		if ps[i].part == part && slices.Contains(from, ps[i].status) {
			ps[i].status, ps[i].code = status, code
		}
	}
}

// moves says whether a receipt moving the part to a status whose
// predecessors are from changes it (true for a part not held: only a read
// can tell).
func (rp recipientParts) moves(ref recipientRef, part int, from []message.Status) bool {
	for _, p := range rp[ref] {
		if p.part == part {
			return slices.Contains(from, p.status)
		}
	}
	return true
}

// rollUp is Store.rollUp over the parts held.
func (rp recipientParts) rollUp(ref recipientRef) (message.Status, int) {
	ps := rp[ref]
	parts := make([]message.Status, len(ps))
	code := 0
	for i, p := range ps {
		parts[i] = p.status
		if code == 0 && (p.status == message.DeliveryFailed || p.status == message.Expired) {
			code = p.code
		}
	}
	return message.RollUp(parts), code
}

// applyReceipt applies one receipt to the part it matched and returns the
// recipient's rolled-up status as an update for the caller to apply (nil
// when the receipt matched nothing). parts, when not nil, holds the parts
// of the matched recipients (see recipientParts); otherwise they are read.
//
// When later is not nil and parts are held, the part's new status is
// appended to later for applyPartChanges instead of written at once.
func (s *Store) applyReceipt(ctx context.Context, tx *sql.Tx, r store.Receipt, matches receiptMatches, parts recipientParts, later *[]partChange) (store.ReceiptOutcome, *store.StatusUpdate, error) {
	var o store.ReceiptOutcome
	pm, ok := matches.find(r)
	if !ok {
		if r.Status == "" {
			return o, nil, nil // an event alone of an unknown part: dropped
		}
		return o, nil, s.keepPending(ctx, tx, r)
	}
	o.MessageID, o.Seq, o.AccountID = pm.messageID, pm.seq, pm.accountID
	o.Matched = true
	if r.Status == "" {
		return o, nil, nil // an event alone: no status change
	}
	at := r.StatusTime(fromMicros(pm.prevAt))
	// Parts move forward only, like recipients.
	from := message.Predecessors(r.Status)
	ref := recipientRef{o.MessageID, o.Seq}
	if parts != nil && len(from) > 0 && !parts.moves(ref, pm.part, from) {
		// The part is at the receipt's status or past it (WhatsApp's read
		// after its delivered, a repeated receipt): neither it nor its
		// recipient changes — the receipt that moved the part last applied
		// their rolled-up status — so no statement is run for it. Its
		// event, if any, is still recorded.
		o.Status, _ = parts.rollUp(ref)
		return o, nil, nil
	}
	if len(from) > 0 {
		c := partChange{o.MessageID, o.Seq, pm.part, r.Status, r.ErrorCode, at}
		if later != nil && parts != nil {
			*later = append(*later, c)
		} else if err := s.applyPartChange(ctx, tx, c); err != nil {
			return o, nil, err
		}
	}
	var status message.Status
	var code int
	if parts != nil {
		parts.update(ref, pm.part, from, r.Status, r.ErrorCode)
		status, code = parts.rollUp(ref)
	} else {
		var err error
		if status, code, err = s.rollUp(ctx, tx, o.MessageID, o.Seq); err != nil {
			return o, nil, err
		}
	}
	o.Status = status
	reason := ""
	if status == r.Status {
		reason = r.Reason
	}
	u := &store.StatusUpdate{AccountID: o.AccountID, MessageID: o.MessageID, Seq: o.Seq, Status: status, Reason: reason,
		ErrorCode: code, At: at, Notify: pm.messageURL != "" || pm.accountURL != ""}
	return o, u, nil
}

// rollUp derives a recipient's status from its parts; the error code is
// that of a failed part.
func (s *Store) rollUp(ctx context.Context, tx *sql.Tx, messageID string, seq int) (message.Status, int, error) {
	rows, err := s.txQuery(ctx, tx, `SELECT status, status_error_code FROM recipient_parts WHERE message_id = ? AND seq = ?`, messageID, seq)
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
	if !r.ReceivedAt.IsZero() {
		now = micros(r.ReceivedAt)
	}
	// A second receipt for the same id moves the kept status forward only,
	// as a matched part would: WhatsApp posts sent, delivered and read
	// concurrently, and a sent that comes last must not undo a delivered.
	// An event, once kept, stays.
	from := message.Predecessors(r.Status)
	moves := `pending_receipts.status = ''`
	if len(from) > 0 {
		moves += ` OR pending_receipts.status IN (` + placeholders(len(from)) + `)`
	}
	pick := func(col string) string {
		return col + ` = CASE WHEN ` + moves + ` THEN excluded.` + col + ` ELSE pending_receipts.` + col + ` END`
	}
	q := `INSERT INTO pending_receipts
		(connector, provider_id, receipt_key, status, reason, error_code, status_at, received_at, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (connector, provider_id) DO UPDATE SET receipt_key = excluded.receipt_key, ` +
		pick("status") + `, ` + pick("reason") + `, ` + pick("error_code") + `, ` + pick("status_at") + `,
		received_at = excluded.received_at,
		event = CASE WHEN excluded.event <> '' THEN excluded.event ELSE pending_receipts.event END`
	for _, id := range r.ProviderIDs {
		args := []any{r.Connector, id, r.ProviderIDs[0], string(r.Status), r.Reason, r.ErrorCode, micros(r.At), now, r.Event}
		for range 4 {
			args = append(args, statuses2any(from)...)
		}
		_, err := s.txExec(ctx, tx, q, args...)
		if err != nil {
			return fmt.Errorf("keeping pending receipt: %w", err)
		}
	}
	return nil
}

// pendingReceipts holds the receipts kept (by keepPending) for the carrier
// ids a Finish records, read in one query for all its updates under the
// carrier-id locks, which keep other transactions from adding any.
type pendingReceipts struct {
	rows    map[[2]string]pendingReceipt // (connector, provider_id) → receipt
	cleared map[[2]string]bool           // (connector, receipt_key) deleted since
	// stale is set when this transaction kept a receipt again (one matched
	// no part): the rows no longer say what the table holds, and
	// recordParts reads the table instead.
	stale bool
}

type pendingReceipt struct {
	key string
	r   store.Receipt
}

// readPending reads the receipts kept for the carrier ids of updates.
func (s *Store) readPending(ctx context.Context, tx *sql.Tx, updates []*store.StatusUpdate) (*pendingReceipts, error) {
	var ids [][2]string
	for _, u := range updates {
		for _, id := range u.Parts {
			ids = append(ids, [2]string{u.Connector, id})
		}
	}
	p := &pendingReceipts{rows: map[[2]string]pendingReceipt{}, cleared: map[[2]string]bool{}}
	err := idChunks(ids, func(c string, n int, args []any) error {
		rows, err := s.txQuery(ctx, tx, `SELECT `+pendingColumns+` FROM pending_receipts
			WHERE connector = ? AND provider_id IN (`+placeholders(n)+`)`, args...)
		if err != nil {
			return fmt.Errorf("looking for early receipts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			key, r, err := scanPending(rows, c)
			if err != nil {
				return err
			}
			p.rows[[2]string{c, r.ProviderIDs[0]}] = pendingReceipt{key, r}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading early receipts: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// pendingColumns are the columns scanPending reads of a kept receipt.
const pendingColumns = `provider_id, receipt_key, status, reason, error_code, status_at, received_at, event`

// scanPending reads a kept receipt of connector (its pendingColumns) and
// its receipt key.
func scanPending(rows *sql.Rows, connector string) (string, store.Receipt, error) {
	var id, key, st string
	var r store.Receipt
	var at, received int64
	if err := rows.Scan(&id, &key, &st, &r.Reason, &r.ErrorCode, &at, &received, &r.Event); err != nil {
		return "", r, fmt.Errorf("reading early receipts: %w", err)
	}
	r.Connector, r.Status, r.At, r.ReceivedAt, r.ProviderIDs = connector, message.Status(st), fromMicros(at), fromMicros(received), []string{id}
	return key, r, nil
}

// early returns what the per-update query of recordParts would: the kept
// receipts for u's carrier ids not deleted since, by receipt key.
func (p *pendingReceipts) early(u *store.StatusUpdate) map[string]store.Receipt {
	early := map[string]store.Receipt{}
	for _, id := range u.Parts {
		if pr, ok := p.rows[[2]string{u.Connector, id}]; ok && !p.cleared[[2]string{u.Connector, pr.key}] {
			early[pr.key] = pr.r
		}
	}
	return early
}

// partChange moves one part forward to a receipt's status.
type partChange struct {
	messageID string
	seq, part int
	status    message.Status
	code      int
	at        time.Time
}

// applyPartChange writes one part's new status, if it moves forward.
func (s *Store) applyPartChange(ctx context.Context, tx *sql.Tx, c partChange) error {
	from := message.Predecessors(c.status)
	args := append([]any{string(c.status), c.code, micros(c.at), c.messageID, c.seq, c.part}, statuses2any(from)...)
	if _, err := s.txExec(ctx, tx, `UPDATE recipient_parts SET status = ?, status_error_code = ?, status_at = ?
		WHERE message_id = ? AND seq = ? AND part = ? AND status IN (`+placeholders(len(from))+`)`, args...); err != nil {
		return fmt.Errorf("updating part: %w", err)
	}
	return nil
}

// applyPartChanges writes the parts' new statuses of a batch of receipts
// with the effect of applyPartChange on each in turn, in one statement per
// status and error code (a group's parts take its latest time). A part
// named twice goes one change at a time, in order.
func (s *Store) applyPartChanges(ctx context.Context, tx *sql.Tx, cs []partChange) error {
	type partRef struct {
		messageID string
		seq, part int
	}
	ref := func(c partChange) partRef { return partRef{c.messageID, c.seq, c.part} }
	seen := counts(cs, ref)
	var grouped []partChange
	for _, c := range cs {
		if seen[ref(c)] > 1 {
			if err := s.applyPartChange(ctx, tx, c); err != nil {
				return err
			}
			continue
		}
		grouped = append(grouped, c)
	}
	type groupKey struct {
		status message.Status
		code   int
	}
	return inGroups(grouped, func(c partChange) groupKey { return groupKey{c.status, c.code} }, maxStatusRows,
		func(k groupKey, g []partChange) error {
			from := message.Predecessors(k.status)
			at := latest(g, func(c partChange) time.Time { return c.at })
			in, rargs := valuesList(len(g), "(?, CAST(? AS BIGINT), CAST(? AS BIGINT))", func(i int) []any {
				return []any{g[i].messageID, g[i].seq, g[i].part}
			})
			args := append(append([]any{string(k.status), k.code, micros(at)}, statuses2any(from)...), rargs...)
			if _, err := s.txExec(ctx, tx, `UPDATE recipient_parts SET status = ?, status_error_code = ?, status_at = ?
				WHERE status IN (`+placeholders(len(from))+`) AND (message_id, seq, part) IN (`+in+`)`, args...); err != nil {
				return fmt.Errorf("updating parts: %w", err)
			}
			return nil
		})
}

// partColumns are the columns of recipient_parts, in insertParts' order.
const partColumns = `message_id, seq, part, account_id, connector, provider_id, status, status_error_code, status_at, sent_at, echoed`

// echoedFlag is the echoed column of a recipient_parts row (see
// store.StatusUpdate.PartsEchoed).
func echoedFlag(u *store.StatusUpdate) int {
	if u.PartsEchoed {
		return 1
	}
	return 0
}

// upsertParts stores the carrier ids of the updates' parts, all in one
// statement (recordParts uses it for one update at a time, then applies the
// receipts kept for them).
func (s *Store) upsertParts(ctx context.Context, tx *sql.Tx, us []*store.StatusUpdate) error {
	var args []any
	for _, u := range us {
		for i, id := range u.Parts {
			args = append(args, u.MessageID, u.Seq, i+1, u.AccountID, u.Connector, id, string(message.Sent), 0, micros(u.At), micros(u.At), echoedFlag(u))
		}
	}
	if err := s.insertParts.exec(ctx, tx, &s.d, args); err != nil {
		return fmt.Errorf("recording parts: %w", err)
	}
	return nil
}

// recordParts stores the carrier ids of a recipient's parts and applies any
// receipt that arrived for them first. It returns report-job arguments and
// the status updates those receipts applied (with u's channel and
// connector, for the caller's counts).
// pending, when not nil, holds the kept receipts (see readPending).
func (s *Store) recordParts(ctx context.Context, tx *sql.Tx, u *store.StatusUpdate, pending *pendingReceipts) ([]any, []store.StatusUpdate, error) {
	if err := s.upsertParts(ctx, tx, []*store.StatusUpdate{u}); err != nil {
		return nil, nil, err
	}
	var early map[string]store.Receipt
	if pending != nil && !pending.stale {
		early = pending.early(u)
	} else {
		var err error
		if early, err = s.queryEarly(ctx, tx, u); err != nil {
			return nil, nil, err
		}
	}
	if len(early) == 0 {
		return nil, nil, nil
	}
	// The parts were recorded above; clearing and applying early receipts
	// changes no column matching reads. They carry this update's part ids,
	// so they are its message's: looked for there, echoed parts or not.
	rs := make([]store.Receipt, 0, len(early))
	for key, r := range early {
		r.MessageID = u.MessageID
		early[key] = r
		rs = append(rs, r)
	}
	// Rolled up by query (not from the parts read here): the recipient of
	// a part matched by carrier id alone is not necessarily locked.
	matches, _, err := s.matchReceipts(ctx, tx, rs)
	if err != nil {
		return nil, nil, err
	}
	var reports []any
	var applied []store.StatusUpdate
	var events []store.Event
	for key, r := range early {
		if _, err := s.txExec(ctx, tx, `DELETE FROM pending_receipts WHERE connector = ? AND receipt_key = ?`, u.Connector, key); err != nil {
			return nil, nil, fmt.Errorf("clearing early receipt: %w", err)
		}
		if pending != nil {
			pending.cleared[[2]string{u.Connector, key}] = true
			if _, ok := matches.find(r); !ok {
				pending.stale = true // applyReceipt keeps it again
			}
		}
		o, ru, err := s.applyReceipt(ctx, tx, r, matches, nil, nil)
		if err != nil {
			return nil, nil, err
		}
		if r.Event != "" && o.Matched {
			events = append(events, receiptEvent(r, o))
		}
		if ru == nil {
			continue
		}
		// Early receipts are rare: each applied on its own, in turn.
		if ru.Applied, err = s.applyStatus(ctx, tx, ru); err != nil {
			return nil, nil, err
		}
		if ru.Applied {
			ru.Channel, ru.Connector = u.Channel, u.Connector
			applied = append(applied, *ru)
		}
		if reports, err = s.appendReport(ctx, reports, ru); err != nil {
			return nil, nil, err
		}
	}
	// Their events (WhatsApp's read) after the statuses, as ApplyReceipts
	// records them.
	if len(events) > 0 {
		_, rep, err := s.recordEvents(ctx, tx, events, nil)
		if err != nil {
			return nil, nil, err
		}
		reports = append(reports, rep...)
	}
	return reports, applied, nil
}

// queryEarly reads the kept receipts for u's carrier ids, by receipt key.
func (s *Store) queryEarly(ctx context.Context, tx *sql.Tx, u *store.StatusUpdate) (map[string]store.Receipt, error) {
	rows, err := s.txQuery(ctx, tx, `SELECT `+pendingColumns+` FROM pending_receipts
		WHERE connector = ? AND provider_id IN (`+placeholders(len(u.Parts))+`)`, append([]any{u.Connector}, strings2any(u.Parts)...)...)
	if err != nil {
		return nil, fmt.Errorf("looking for early receipts: %w", err)
	}
	defer rows.Close()
	// Each early receipt is applied once, to the part whose id it matched.
	early := map[string]store.Receipt{}
	for rows.Next() {
		key, r, err := scanPending(rows, u.Connector)
		if err != nil {
			return nil, err
		}
		early[key] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading early receipts: %w", err)
	}
	return early, nil
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
// recipients they roll up into. It returns the parts the receipts match
// and their recipients' parts, read once all the locks are held.
func (s *Store) lockReceipts(ctx context.Context, tx *sql.Tx, rs []store.Receipt) (receiptMatches, recipientParts, error) {
	if s.d.LockKeys == nil {
		return s.matchReceipts(ctx, tx, rs)
	}
	var keys []string
	for _, r := range rs {
		keys = appendIDKeys(keys, r.Connector, r.ProviderIDs)
	}
	if err := s.lockIDs(ctx, tx, keys); err != nil {
		return nil, nil, err
	}
	// The recipients the carrier ids belong to now. A part can move to
	// another carrier id (a resubmission holds that id's lock and the
	// recipient's, not ours), and parts change under the recipient's lock,
	// so what matters is read again below, under the recipient locks.
	keys, err := s.matchedRecipients(ctx, tx, rs, keys[:0])
	if err != nil {
		return nil, nil, err
	}
	if err := s.lockIDs(ctx, tx, keys); err != nil {
		return nil, nil, err
	}
	return s.matchReceipts(ctx, tx, rs)
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

// AwaitingReceipt lists recipients past their deadline whose receipt has
// not come, through the partial index recipients_awaiting_receipt (its
// predicate is written out as in the index, so that SQLite uses it).
func (s *Store) AwaitingReceipt(ctx context.Context, before time.Time, limit int) ([]store.Awaiting, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT r.account_id, r.message_id, r.seq, m.channel, r.connector, r.expires_at,
			CASE WHEN m.report_url <> '' OR a.report_url <> '' THEN 1 ELSE 0 END
		FROM recipients r JOIN messages m ON m.id = r.message_id JOIN accounts a ON a.id = r.account_id
		WHERE r.status IN ('sent', 'buffered') AND r.connector <> '' AND r.expires_at < ?
		ORDER BY r.expires_at LIMIT ?`), micros(before), limit)
	if err != nil {
		return nil, fmt.Errorf("listing recipients awaiting receipts: %w", err)
	}
	defer rows.Close()
	var out []store.Awaiting
	for rows.Next() {
		var a store.Awaiting
		var deadline int64
		var notify int
		if err := rows.Scan(&a.AccountID, &a.MessageID, &a.Seq, &a.Channel, &a.Connector, &deadline, &notify); err != nil {
			return nil, fmt.Errorf("listing recipients awaiting receipts: %w", err)
		}
		a.Deadline, a.Notify = fromMicros(deadline), notify == 1
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing recipients awaiting receipts: %w", err)
	}
	return out, nil
}

// Silent lists sent recipients of a channel whose first part was taken
// (submitted) before the time: the recipient's own status time is its
// acceptance, which bounds the scan through the partial index
// recipients_sent_at.
func (s *Store) Silent(ctx context.Context, channel string, before time.Time, limit int) ([]store.Awaiting, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT r.account_id, r.message_id, r.seq, m.channel, r.connector, p.status_at,
			CASE WHEN m.report_url <> '' OR a.report_url <> '' THEN 1 ELSE 0 END
		FROM recipients r JOIN messages m ON m.id = r.message_id JOIN accounts a ON a.id = r.account_id
			JOIN recipient_parts p ON p.message_id = r.message_id AND p.seq = r.seq AND p.part = 1
		WHERE r.status = 'sent' AND r.connector <> '' AND r.status_at < ? AND m.channel = ? AND p.status_at < ?
		ORDER BY r.status_at LIMIT ?`), micros(before), channel, micros(before), limit)
	if err != nil {
		return nil, fmt.Errorf("listing silent recipients: %w", err)
	}
	defer rows.Close()
	var out []store.Awaiting
	for rows.Next() {
		var a store.Awaiting
		var at int64
		var notify int
		if err := rows.Scan(&a.AccountID, &a.MessageID, &a.Seq, &a.Channel, &a.Connector, &at, &notify); err != nil {
			return nil, fmt.Errorf("listing silent recipients: %w", err)
		}
		a.Deadline, a.Notify = fromMicros(at), notify == 1
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing silent recipients: %w", err)
	}
	return out, nil
}

// PurgePendingReceipts drops receipts that matched nothing for too long.
func (s *Store) PurgePendingReceipts(ctx context.Context, before time.Time) (int, error) {
	return s.purge(ctx, "pending receipts", `DELETE FROM pending_receipts WHERE received_at < ?`, before)
}
