package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

const (
	messageColumns = `id, account_id, channel, direction, type, originator, body, content, details, reference, report_url, validity, scheduled_at, created_at, purpose, categories, compliance`
	recipientCols  = `message_id, seq, account_id, address, country, country_prefix, status, status_at, status_reason, status_error_code, part_count, length, price, price_currency, connector, created_at, expires_at, address_hash`
	// messageInsertCols are the columns writeMessages writes: messageColumns,
	// the originator's hash (addrcrypt.go), which nothing reads back, and
	// the conversation the message joins (NULL for none).
	messageInsertCols = messageColumns + `, originator_hash, conversation_id`
	jobColumns        = `kind, account_id, message_id, payload, attempts, run_at, last_error, created_at`
)

// AcceptMessages stores messages, recipients and their jobs in one transaction.
func (s *Store) AcceptMessages(ctx context.Context, msgs []*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := s.ensureScopes(ctx, messageAccounts(msgs)...); err != nil {
		return err
	}
	return s.acceptTx(ctx, "accepting messages", len(msgs), func(ctx context.Context, tx *sql.Tx) error {
		return s.writeMessages(ctx, tx, msgs, nil)
	})
}

// messageAccounts lists the accounts of msgs, once each.
func messageAccounts(msgs []*message.Message) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range msgs {
		if !seen[m.AccountID] {
			seen[m.AccountID] = true
			out = append(out, m.AccountID)
		}
	}
	return out
}

// writeMessages writes messages, their recipients and one job each (send
// for outbound, inbound forwarding for inbound) in tx; the messages whose
// ids are in leased get no job here (see insertLeasedJobs). It is the only
// code that inserts messages and recipients, and it adds them to the
// roll-ups itself (countAccepted): no trigger counts an insert.
func (s *Store) writeMessages(ctx context.Context, tx *sql.Tx, msgs []*message.Message, leased map[string]*store.Accept) error {
	margs := make([]any, 0, len(msgs)*18)
	jargs := make([]any, 0, len(msgs)*8)
	nrec := 0
	for _, m := range msgs {
		nrec += len(m.Recipients)
	}
	rargs := make([]any, 0, nrec*18)
	var keyOf string // the account whose address key is key: a batch is mostly one account's
	var key []byte
	for _, m := range msgs {
		content, details, err := encodeParts(m)
		if err != nil {
			return fmt.Errorf("accepting message: %w", err)
		}
		body, content, err := s.sealMessage(ctx, m.AccountID, m.ID, m.Body, content)
		if err != nil {
			return fmt.Errorf("accepting message: %w", err)
		}
		if key == nil || keyOf != m.AccountID {
			keyOf, key = m.AccountID, s.addressKey(ctx, m.AccountID)
		}
		// An inbound message's originator is the person who wrote; an
		// outbound one's is the account's own sender.
		originator, originatorHash := m.Originator, ""
		if m.Direction == message.MO {
			if originator, originatorHash, err = s.sealAddress(ctx, key, m.AccountID, originatorAAD(m.ID), m.Originator); err != nil {
				return fmt.Errorf("accepting message: %w", err)
			}
		}
		created, deadline := micros(m.CreatedAt), micros(m.Deadline())
		purpose := m.Purpose
		if purpose == "" {
			purpose = "transactional"
		}
		margs = append(margs, m.ID, m.AccountID, m.Channel, string(m.Direction), string(m.Type), originator, body,
			content, details, m.Reference, m.ReportURL, m.Validity, micros(m.ScheduledAt), created,
			purpose, strings.Join(m.Categories, ","), m.Compliance, originatorHash, nullIfEmpty(m.Details.ConversationID))
		for _, r := range m.Recipients {
			addr, hash, err := s.sealAddress(ctx, key, m.AccountID, recipientAAD(m.ID, r.Seq), r.Address)
			if err != nil {
				return fmt.Errorf("accepting message: %w", err)
			}
			rargs = append(rargs, m.ID, r.Seq, m.AccountID, addr, r.Country, r.CountryPrefix, string(r.Status), micros(r.StatusAt),
				r.StatusReason, r.StatusErrorCode, r.PartCount, r.Length, r.Price, r.PriceCurrency, r.Connector, created, deadline, hash)
		}
		kind := store.JobSend
		if m.Direction == message.MO {
			kind = store.JobInbound // forward it to the account's inbound URL
		} else {
			// A recipient refused at accept (compliance) is final already:
			// the account hears of it as of any failure, by status report.
			for _, r := range m.Recipients {
				if !r.Status.Final() {
					continue
				}
				report, err := reportArgs(&store.StatusUpdate{AccountID: m.AccountID, MessageID: m.ID, Seq: r.Seq, Status: r.Status,
					Reason: r.StatusReason, ErrorCode: r.StatusErrorCode, At: r.StatusAt})
				if err != nil {
					return err
				}
				jargs = append(jargs, report...)
			}
		}
		if leased[m.ID] == nil {
			jargs = append(jargs, kind, m.AccountID, m.ID, []byte(nil), 0, micros(m.SendAt()), "", created)
		}
	}
	if err := s.insertMessages.exec(ctx, tx, &s.d, margs); err != nil {
		return fmt.Errorf("accepting messages: %w", err)
	}
	if err := s.insertRecipients.exec(ctx, tx, &s.d, rargs); err != nil {
		return fmt.Errorf("accepting recipients: %w", err)
	}
	if err := s.insertJobs.exec(ctx, tx, &s.d, jargs); err != nil {
		return fmt.Errorf("enqueueing jobs: %w", err)
	}
	if err := s.countAccepted(ctx, tx, msgs); err != nil {
		return err
	}
	if err := s.linkConversations(ctx, tx, msgs); err != nil {
		return err
	}
	return s.noteMarketingSenders(ctx, tx, msgs)
}

// encodeParts writes a message's content and channel details as the JSON
// the content and details columns hold ("" when there are none).
func encodeParts(m *message.Message) (content, details string, err error) {
	if m.Content != nil {
		b, err := json.Marshal(m.Content)
		if err != nil {
			return "", "", fmt.Errorf("encoding content: %w", err)
		}
		content = string(b)
	}
	if m.Details != (message.Details{}) {
		b, err := json.Marshal(&m.Details)
		if err != nil {
			return "", "", fmt.Errorf("encoding details: %w", err)
		}
		details = string(b)
	}
	return content, details, nil
}

func (s *Store) scanMessage(ctx context.Context, row interface{ Scan(...any) error }) (*message.Message, error) {
	var m message.Message
	var dir, typ, content, details, categories string
	var sched, created int64
	if err := row.Scan(&m.ID, &m.AccountID, &m.Channel, &dir, &typ, &m.Originator, &m.Body, &content, &details, &m.Reference, &m.ReportURL,
		&m.Validity, &sched, &created, &m.Purpose, &categories, &m.Compliance); err != nil {
		return nil, err
	}
	if err := s.openMessage(ctx, m.ID, &m.Body, &content); err != nil {
		return nil, err
	}
	if err := s.openAddress(ctx, originatorAAD(m.ID), &m.Originator); err != nil {
		return nil, err
	}
	if categories != "" {
		m.Categories = strings.Split(categories, ",")
	}
	m.Direction, m.Type = message.Direction(dir), message.Type(typ)
	m.ScheduledAt, m.CreatedAt = fromMicros(sched), fromMicros(created)
	if content != "" {
		m.Content = new(message.Content)
		if err := json.Unmarshal([]byte(content), m.Content); err != nil {
			return nil, fmt.Errorf("decoding the content of %s: %w", m.ID, err)
		}
	}
	if details != "" {
		if err := json.Unmarshal([]byte(details), &m.Details); err != nil {
			return nil, fmt.Errorf("decoding the details of %s: %w", m.ID, err)
		}
	}
	return &m, nil
}

// GetMessage reads one message of an account with its recipients.
func (s *Store) GetMessage(ctx context.Context, accountID, id string) (*message.Message, error) {
	// Every send and every status report reads its message: prepared once.
	m, err := s.scanMessage(ctx, s.rQueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ? AND account_id = ?`, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading message: %w", err)
	}
	if err := s.loadRecipients(ctx, []*message.Message{m}); err != nil {
		return nil, err
	}
	return m, nil
}

// MessageAccount reads the account of a message by its id alone.
func (s *Store) MessageAccount(ctx context.Context, id string) (string, error) {
	var account string
	err := s.rQueryRow(ctx, `SELECT account_id FROM messages WHERE id = ?`, id).Scan(&account)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("reading message: %w", err)
	}
	return account, nil
}

// GetMessages reads many messages with their recipients: two queries per
// chunk of ids, instead of two per message.
func (s *Store) GetMessages(ctx context.Context, keys []store.MessageKey) (map[string]*message.Message, error) {
	// What each message is read for: its account, and the recipients its
	// keys ask for (every one, once a key has no Seqs).
	type want struct {
		account string
		all     bool
		seqs    []int
	}
	wants := make(map[string]*want, len(keys))
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		w := wants[k.ID]
		if w == nil {
			w = &want{account: k.AccountID}
			wants[k.ID] = w
			ids = append(ids, k.ID)
		}
		w.all = w.all || k.Seqs == nil
		w.seqs = append(w.seqs, k.Seqs...)
	}
	out := make(map[string]*message.Message, len(ids))
	var whole []*message.Message
	// The messages read for some recipients, by the set they need: one
	// query per set, so that a batch of reports on one-recipient messages
	// (all seq 0) is still one query.
	some := map[string]*recipientsAt{}
	var someOrder []string
	err := inChunks(ids, maxInList, func(chunk []string) error {
		in, args := inList(chunk)
		rows, err := s.rQuery(ctx, `SELECT `+messageColumns+` FROM messages WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return fmt.Errorf("reading messages: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			m, err := s.scanMessage(ctx, rows)
			if err != nil {
				return fmt.Errorf("reading messages: %w", err)
			}
			w := wants[m.ID]
			if w == nil || w.account != m.AccountID || out[m.ID] != nil {
				continue
			}
			out[m.ID] = m
			if w.all || m.Details.ReportsWhole() {
				whole = append(whole, m)
				continue
			}
			seqs := sortedSeqs(w.seqs)
			key := fmt.Sprint(seqs)
			g := some[key]
			if g == nil {
				g = &recipientsAt{seqs: seqs}
				some[key] = g
				someOrder = append(someOrder, key)
			}
			g.msgs = append(g.msgs, m)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading messages: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.loadRecipients(ctx, whole); err != nil {
		return nil, err
	}
	for _, key := range someOrder {
		if err := s.loadRecipientsAt(ctx, some[key]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// recipientsAt are messages of which the recipients at seqs are to be read.
type recipientsAt struct {
	seqs []int
	msgs []*message.Message
}

// sortedSeqs is seqs sorted, without repeats.
func sortedSeqs(seqs []int) []int {
	seqs = slices.Clone(seqs)
	slices.Sort(seqs)
	return slices.Compact(seqs)
}

// loadRecipientsAt fills in the recipients at g.seqs of g.msgs, in seq
// order: the seqs in ascending chunks, each chunk for every message.
func (s *Store) loadRecipientsAt(ctx context.Context, g *recipientsAt) error {
	byID := make(map[string]*message.Message, len(g.msgs))
	ids := make([]string, 0, len(g.msgs))
	for _, m := range g.msgs {
		byID[m.ID] = m
		ids = append(ids, m.ID)
	}
	return inChunks(g.seqs, maxInList, func(seqs []int) error {
		seqIn, seqArgs := inList(seqs)
		return inChunks(ids, maxInList, func(chunk []string) error {
			in, args := inList(chunk)
			q := `SELECT ` + recipientReadCols + ` FROM recipients
			WHERE message_id IN (` + in + `) AND seq IN (` + seqIn + `) ORDER BY message_id, seq`
			return s.scanRecipients(ctx, q, append(args, seqArgs...), byID)
		})
	})
}

// maxInList is the longest IN (…) list one statement gets.
const maxInList = 128

// loadRecipients fills in the recipients of msgs, in chunks of ids.
func (s *Store) loadRecipients(ctx context.Context, msgs []*message.Message) error {
	byID := make(map[string]*message.Message, len(msgs))
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if byID[m.ID] == nil {
			ids = append(ids, m.ID)
		}
		byID[m.ID] = m
	}
	return inChunks(ids, maxInList, func(chunk []string) error {
		in, args := inList(chunk)
		q := `SELECT ` + recipientReadCols + ` FROM recipients
		WHERE message_id IN (` + in + `) ORDER BY message_id, seq`
		return s.scanRecipients(ctx, q, args, byID)
	})
}

// recipientReadCols are the columns of a recipient scanRecipients reads.
const recipientReadCols = `message_id, seq, address, country, country_prefix, status, status_at, status_reason, status_error_code,
		part_count, length, price, price_currency, connector`

func (s *Store) scanRecipients(ctx context.Context, q string, args []any, byID map[string]*message.Message) error {
	rows, err := s.rQuery(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("reading recipients: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r message.Recipient
		var mid, status string
		var at int64
		if err := rows.Scan(&mid, &r.Seq, &r.Address, &r.Country, &r.CountryPrefix, &status, &at, &r.StatusReason,
			&r.StatusErrorCode, &r.PartCount, &r.Length, &r.Price, &r.PriceCurrency, &r.Connector); err != nil {
			return fmt.Errorf("reading recipients: %w", err)
		}
		r.Status, r.StatusAt = message.Status(status), fromMicros(at)
		if err := s.openAddress(ctx, recipientAAD(mid, r.Seq), &r.Address); err != nil {
			return err
		}
		if m := byID[mid]; m != nil {
			m.Recipients = append(m.Recipients, r)
		}
	}
	return rows.Err()
}

// ListMessages lists an account's messages, newest first, with the total
// number matching the filter.
func (s *Store) ListMessages(ctx context.Context, accountID string, f store.MessageFilter) ([]*message.Message, int, error) {
	// A search that starts from a few recipients hides the account's
	// message index from SQLite ("+"), which would otherwise walk every
	// message of the account newest first to spare a sort of a few rows.
	acct := "m.account_id = ?"
	if s.d.Name == "sqlite" && (f.Recipient != "" || (f.Status != "" && f.StatusRare)) {
		acct = "+m.account_id = ?"
	}
	where := []string{acct}
	args := []any{accountID}
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Channel != "" {
		add("m.channel = ?", f.Channel)
	}
	if f.Originator != "" {
		// An account's own sender in clear, or a person who wrote in
		// (inbound: sealed, found by its hash).
		where = append(where, "(m.originator = ? OR (m.originator_hash = ? AND m.originator_hash <> ''))")
		args = append(args, f.Originator, s.searchHash(ctx, accountID, f.Originator))
	}
	if f.Direction != "" {
		add("m.direction = ?", string(f.Direction))
	}
	if f.Type != "" {
		add("m.type = ?", string(f.Type))
	}
	if f.Reference != "" {
		add("m.reference = ?", f.Reference)
	}
	if !f.From.IsZero() {
		add("m.created_at >= ?", micros(f.From))
	}
	if !f.Until.IsZero() {
		add("m.created_at < ?", micros(f.Until))
	}
	if f.Status != "" && f.StatusRare {
		where = append(where, "m.id IN (SELECT r.message_id FROM recipients r WHERE r.account_id = ? AND r.status = ?)")
		args = append(args, accountID, string(f.Status))
	} else if f.Status != "" {
		add("EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.account_id = m.account_id AND r.status = ?)", string(f.Status))
	}
	if f.ConversationID != "" {
		add("m.conversation_id = ?", f.ConversationID)
	}
	for _, ch := range f.ExcludeChannels {
		add("m.channel <> ?", ch)
	}
	if f.ConversationsDoor {
		where = append(where, "(m.conversation_id IS NOT NULL OR (m.channel = 'email' AND m.type = 'email' AND m.direction = 'mt'))")
	}
	if f.Recipient != "" {
		// IN rather than EXISTS: SQLite then starts from the recipient
		// instead of testing every message of the account; PostgreSQL plans
		// both the same. The address is matched through its keyed hash
		// (addrcrypt.go), or in clear for rows written before; each branch
		// names the account so that each can use its partial index
		// (recipients_account_address_hash, recipients_account_address).
		match := s.matchArgs(ctx, accountID, f.Recipient) // the hash, the identifier
		where = append(where, "m.id IN (SELECT r.message_id FROM recipients r WHERE (r.account_id = ? AND r.address_hash = ? AND r.address_hash <> '') OR (r.account_id = ? AND r.address_hash = '' AND "+
			addressIs("r.address", f.Recipient)+"))")
		args = append(args, accountID, match[0], accountID, match[1])
	}
	cond := strings.Join(where, " AND ")
	var total int
	countQ := `SELECT COUNT(*) FROM messages m WHERE ` + cond
	countArgs := args
	if f.CountLimit > 0 {
		countQ = `SELECT COUNT(*) FROM (SELECT 1 FROM messages m WHERE ` + cond + ` LIMIT ?) c`
		countArgs = append(append([]any(nil), args...), f.CountLimit)
	}
	if err := s.r.QueryRowContext(ctx, s.d.rebind(countQ), countArgs...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting messages: %w", err)
	}
	cols := "m." + strings.ReplaceAll(messageColumns, ", ", ", m.")
	q := `SELECT ` + cols + ` FROM messages m WHERE ` + cond + ` ORDER BY m.created_at DESC, m.id DESC LIMIT ? OFFSET ?`
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing messages: %w", err)
	}
	defer rows.Close()
	var out []*message.Message
	for rows.Next() {
		m, err := s.scanMessage(ctx, rows)
		if err != nil {
			return nil, 0, fmt.Errorf("listing messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("listing messages: %w", err)
	}
	if err := s.loadRecipients(ctx, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// CancelScheduled deletes a message that has not started sending, with its
// job, and gives back what it was charged.
func (s *Store) CancelScheduled(ctx context.Context, accountID, id string) error {
	return s.inTx(ctx, "cancelling message", func(tx *sql.Tx) error {
		// Every recipient must still wait for its time, but for those
		// refused when the message was accepted (failed, by no connector, at
		// the message's creation).
		var total, scheduled, waiting int
		var charged int64
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*),
			COALESCE(SUM(CASE WHEN r.status = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN r.status = ? OR (r.status = ? AND r.connector = '' AND r.status_at = m.created_at) THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(r.price), 0)
			FROM recipients r JOIN messages m ON m.id = r.message_id WHERE r.message_id = ? AND r.account_id = ?`),
			string(message.Scheduled), string(message.Scheduled), string(message.DeliveryFailed), id, accountID).Scan(&total, &scheduled, &waiting, &charged)
		if err != nil {
			return fmt.Errorf("cancelling message: %w", err)
		}
		if total == 0 {
			return store.ErrNotFound
		}
		if scheduled == 0 || waiting != total {
			return store.ErrConflict
		}
		for _, q := range []string{
			`DELETE FROM jobs WHERE message_id = ? AND account_id = ?`,
			`DELETE FROM recipients WHERE message_id = ? AND account_id = ?`,
			`DELETE FROM messages WHERE id = ? AND account_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, s.d.rebind(q), id, accountID); err != nil {
				return fmt.Errorf("cancelling message: %w", err)
			}
		}
		return s.refund(ctx, tx, accountID, id, charged, "scheduled message cancelled", "api", "cancel:"+id)
	})
}

// finalOnly checks, in tx, that the message exists and that every
// recipient is final.
func (s *Store) finalOnly(ctx context.Context, tx *sql.Tx, what, accountID, id string) error {
	var total, final int
	err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN status IN (?, ?, ?) THEN 1 ELSE 0 END), 0)
		FROM recipients WHERE message_id = ? AND account_id = ?`),
		string(message.Delivered), string(message.Expired), string(message.DeliveryFailed), id, accountID).Scan(&total, &final)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if total == 0 {
		return store.ErrNotFound
	}
	if final != total {
		return store.ErrConflict
	}
	return nil
}

// RedactMessage implements store.Store.
func (s *Store) RedactMessage(ctx context.Context, accountID, id string) error {
	return s.inTx(ctx, "redacting message", func(tx *sql.Tx) error {
		if err := s.finalOnly(ctx, tx, "redacting message", accountID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE messages SET body = '', content = '' WHERE id = ? AND account_id = ?`), id, accountID); err != nil {
			return fmt.Errorf("redacting message: %w", err)
		}
		return nil
	})
}

// DeleteMessage implements store.Store.
func (s *Store) DeleteMessage(ctx context.Context, accountID, id string) error {
	return s.inTx(ctx, "deleting message", func(tx *sql.Tx) error {
		if err := s.finalOnly(ctx, tx, "deleting message", accountID, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM recipient_parts WHERE message_id = ? AND account_id = ?`,
			`DELETE FROM message_events WHERE message_id = ? AND account_id = ?`,
			`DELETE FROM recipients WHERE message_id = ? AND account_id = ?`,
			`DELETE FROM messages WHERE id = ? AND account_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, s.d.rebind(q), id, accountID); err != nil {
				return fmt.Errorf("deleting message: %w", err)
			}
		}
		return nil
	})
}

// refund gives an account back what a message was charged, as a ledger
// entry referring to the message (nothing when it was free).
func (s *Store) refund(ctx context.Context, tx *sql.Tx, accountID, messageID string, amount int64, reason, actor, key string) error {
	// A conversation the message opened was never had: the next message
	// opens (and pays for) it.
	if err := s.releaseConversations(ctx, tx, accountID, messageID); err != nil {
		return err
	}
	if amount <= 0 {
		return nil
	}
	return s.addLedger(ctx, tx, &store.LedgerEntry{AccountID: accountID, Kind: store.LedgerRefund, Amount: amount, Reference: messageID,
		Reason: reason, Actor: actor, IdempotencyKey: key})
}

// nullIfEmpty is s, or NULL for "".
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
