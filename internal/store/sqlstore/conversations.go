package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

const conversationColumns = `id, account_id, contact_id, msisdn, status, last_channel_id, last_message_id, messages, created_at, updated_at, last_received_at`

func scanConversation(sc interface{ Scan(...any) error }) (*store.Conversation, error) {
	c := &store.Conversation{}
	var created, updated, received int64
	if err := sc.Scan(&c.ID, &c.AccountID, &c.ContactID, &c.MSISDN, &c.Status, &c.LastChannelID, &c.LastMessageID, &c.Messages,
		&created, &updated, &received); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt, c.LastReceivedAt = fromMicros(created), fromMicros(updated), fromMicros(received)
	return c, nil
}

// querier is what reads run on: the read pool or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// conversationChannels fills the channels each conversation used.
func (s *Store) conversationChannels(ctx context.Context, q querier, cs []*store.Conversation) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[string]*store.Conversation, len(cs))
	args := make([]any, 0, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
		c.ChannelIDs = []string{}
		args = append(args, c.ID)
	}
	rows, err := q.QueryContext(ctx, s.d.rebind(`SELECT conversation_id, channel_id FROM conversation_channel_links
		WHERE conversation_id IN (`+placeholders(len(args))+`) ORDER BY added_at, channel_id`), args...)
	if err != nil {
		return fmt.Errorf("reading conversation channels: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, ch string
		if err := rows.Scan(&cid, &ch); err != nil {
			return fmt.Errorf("reading conversation channels: %w", err)
		}
		byID[cid].ChannelIDs = append(byID[cid].ChannelIDs, ch)
	}
	return rows.Err()
}

// convLock serialises the transactions that write a conversation's
// webhook deliveries, so that their ids are in commit order.
func convLock(id string) string { return "conv|" + id }

// OpenConversation finds or makes the conversation of a message.
func (s *Store) OpenConversation(ctx context.Context, o store.OpenConversation) (*store.Conversation, bool, error) {
	if o.At.IsZero() {
		o.At = time.Now().UTC()
	}
	if c, ok, err := s.openedConversation(ctx, o); err != nil || ok {
		return c, false, err
	}
	var out *store.Conversation
	var created bool
	err := s.inTx(ctx, "opening conversation", func(tx *sql.Tx) error {
		created = false
		if err := s.lockIDs(ctx, tx, []string{"convnum|" + o.AccountID + "|" + o.MSISDN}); err != nil {
			return err
		}
		at := micros(o.At)
		c, err := scanConversation(s.txQueryRow(ctx, tx, `SELECT `+conversationColumns+` FROM conversations
			WHERE account_id = ? AND msisdn = ? AND status = ? ORDER BY updated_at DESC, id DESC LIMIT 1`, o.AccountID, o.MSISDN, store.ConversationActive))
		if errors.Is(err, sql.ErrNoRows) && o.Inbound {
			c, err = scanConversation(s.txQueryRow(ctx, tx, `SELECT `+conversationColumns+` FROM conversations
				WHERE account_id = ? AND msisdn = ? ORDER BY updated_at DESC, id DESC LIMIT 1`, o.AccountID, o.MSISDN))
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			contact, err := s.contactFor(ctx, tx, o.AccountID, o.MSISDN, o.At)
			if err != nil {
				return err
			}
			c = &store.Conversation{ID: ids.New(), AccountID: o.AccountID, ContactID: contact, MSISDN: o.MSISDN, Status: store.ConversationActive,
				LastChannelID: o.ChannelID, CreatedAt: fromMicros(at), UpdatedAt: fromMicros(at)}
			received := int64(0)
			if o.Inbound {
				received = at
			}
			if _, err := s.txExec(ctx, tx, `INSERT INTO conversations (`+conversationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				c.ID, c.AccountID, c.ContactID, c.MSISDN, c.Status, c.LastChannelID, "", 0, at, at, received); err != nil {
				return fmt.Errorf("creating conversation: %w", err)
			}
			created = true
		case err != nil:
			return fmt.Errorf("reading conversation: %w", err)
		}
		if err := s.lockIDs(ctx, tx, []string{convLock(c.ID)}); err != nil {
			return err
		}
		reopened := c.Status != store.ConversationActive
		c.Status, c.UpdatedAt = store.ConversationActive, fromMicros(at)
		if o.ChannelID != "" { // opened without a message (POST /v1/conversations) keeps the last channel
			c.LastChannelID = o.ChannelID
		}
		if o.Inbound {
			c.LastReceivedAt = fromMicros(at)
		}
		if !created {
			if _, err := s.txExec(ctx, tx, `UPDATE conversations SET status = ?, last_channel_id = ?, updated_at = ?, last_received_at = ?
				WHERE id = ?`, c.Status, c.LastChannelID, at, micros(c.LastReceivedAt), c.ID); err != nil {
				return fmt.Errorf("updating conversation: %w", err)
			}
		}
		if o.ChannelID != "" {
			if _, err := s.txExec(ctx, tx, `INSERT INTO conversation_channel_links (conversation_id, channel_id, added_at) VALUES (?, ?, ?)
				ON CONFLICT (conversation_id, channel_id) DO NOTHING`, c.ID, o.ChannelID, at); err != nil {
				return fmt.Errorf("noting conversation channel: %w", err)
			}
		}
		switch {
		case created && !o.Inbound:
			// Held until its first message is stored (joinConversations): a
			// conversation whose first message is refused is discarded
			// unseen.
			err = s.enqueueConvEventState(ctx, tx, c.AccountID, c.ID, "", store.EventConversationCreated, convState(c.Status), at, "held")
		case created:
			err = s.enqueueConvEvent(ctx, tx, c.AccountID, c.ID, "", store.EventConversationCreated, convState(c.Status), at)
		case reopened:
			err = s.enqueueConvEvent(ctx, tx, c.AccountID, c.ID, "", store.EventConversationUpdated, convState(c.Status), at)
		}
		if err != nil {
			return err
		}
		if err := s.conversationChannels(ctx, tx, []*store.Conversation{c}); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, created, err
}

// openedConversation is, for an outbound message, the active conversation
// of the number when it already goes over the channel: then opening it
// would write nothing its message's acceptance does not (joinConversations
// moves updated_at and last_channel_id), so it is read without a write
// transaction, one commit less per message. ok is false when opening must
// write (no active conversation, another channel, inbound).
func (s *Store) openedConversation(ctx context.Context, o store.OpenConversation) (*store.Conversation, bool, error) {
	if o.Inbound || o.ChannelID == "" {
		return nil, false, nil
	}
	c, err := scanConversation(s.rQueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations
		WHERE account_id = ? AND msisdn = ? AND status = ? ORDER BY updated_at DESC, id DESC LIMIT 1`, o.AccountID, o.MSISDN, store.ConversationActive))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading conversation: %w", err)
	}
	if c.LastChannelID != o.ChannelID {
		return nil, false, nil
	}
	rows, err := s.rQuery(ctx, `SELECT channel_id FROM conversation_channel_links WHERE conversation_id = ? ORDER BY added_at, channel_id`, c.ID)
	if err != nil {
		return nil, false, fmt.Errorf("reading conversation channels: %w", err)
	}
	defer rows.Close()
	c.ChannelIDs = []string{}
	for rows.Next() {
		var ch string
		if err := rows.Scan(&ch); err != nil {
			return nil, false, fmt.Errorf("reading conversation channels: %w", err)
		}
		c.ChannelIDs = append(c.ChannelIDs, ch)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("reading conversation channels: %w", err)
	}
	if !slices.Contains(c.ChannelIDs, o.ChannelID) {
		return nil, false, nil
	}
	return c, true, nil
}

// contactFor is the id of the account's contact with the number (the
// oldest, as numbers need not be unique), creating one when there is none.
func (s *Store) contactFor(ctx context.Context, tx *sql.Tx, accountID, msisdn string, at time.Time) (string, error) {
	var id string
	err := s.txQueryRow(ctx, tx, `SELECT id FROM contacts WHERE account_id = ? AND msisdn = ? ORDER BY created_at, id LIMIT 1`,
		accountID, msisdn).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("reading contact: %w", err)
	}
	id = ids.New()
	t := micros(at)
	if _, err := s.txExec(ctx, tx, `INSERT INTO contacts (id, account_id, msisdn, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		id, accountID, msisdn, t, t); err != nil {
		return "", fmt.Errorf("creating contact: %w", err)
	}
	return id, nil
}

// GetConversation reads one of an account's conversations.
func (s *Store) GetConversation(ctx context.Context, accountID, id string) (*store.Conversation, error) {
	c, err := scanConversation(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+conversationColumns+` FROM conversations WHERE account_id = ? AND id = ?`),
		accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading conversation: %w", err)
	}
	return c, s.conversationChannels(ctx, s.r, []*store.Conversation{c})
}

// ListConversations lists conversations, the most recently updated first.
func (s *Store) ListConversations(ctx context.Context, accountID string, idList []string, contactID, status string, limit, offset int) ([]*store.Conversation, int, error) {
	where, args := []string{`account_id = ?`}, []any{accountID}
	if contactID != "" {
		where = append(where, `contact_id = ?`)
		args = append(args, contactID)
	}
	if len(idList) > 0 {
		where = append(where, `id IN (`+placeholders(len(idList))+`)`)
		args = append(args, strings2any(idList)...)
	}
	if status != "" {
		where = append(where, `status = ?`)
		args = append(args, status)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM conversations WHERE `+cond), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting conversations: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+conversationColumns+` FROM conversations WHERE `+cond+
		` ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?`), append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing conversations: %w", err)
	}
	out := []*store.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("listing conversations: %w", err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("listing conversations: %w", err)
	}
	return out, total, s.conversationChannels(ctx, s.r, out)
}

// SetConversationStatus archives or reactivates a conversation. Making a
// conversation active archives the contact's other active one, so that a
// contact has at most one.
func (s *Store) SetConversationStatus(ctx context.Context, accountID, id, status string) (*store.Conversation, error) {
	var out *store.Conversation
	err := s.inTx(ctx, "updating conversation", func(tx *sql.Tx) error {
		read := func() (*store.Conversation, error) {
			c, err := scanConversation(s.txQueryRow(ctx, tx, `SELECT `+conversationColumns+` FROM conversations WHERE account_id = ? AND id = ?`,
				accountID, id))
			if errors.Is(err, sql.ErrNoRows) {
				return nil, store.ErrNotFound
			}
			if err != nil {
				return nil, fmt.Errorf("reading conversation: %w", err)
			}
			return c, nil
		}
		c, err := read()
		if err != nil {
			return err
		}
		// The number's lock first, as OpenConversation takes it; under it the
		// contact's active conversations cannot change. Then the locks of
		// every conversation whose events this writes, in one sorted call.
		if err := s.lockIDs(ctx, tx, []string{"convnum|" + accountID + "|" + c.MSISDN}); err != nil {
			return err
		}
		var others []string
		if status == store.ConversationActive {
			rows, err := s.txQuery(ctx, tx, `SELECT id FROM conversations WHERE account_id = ? AND msisdn = ? AND status = ? AND id <> ?`,
				accountID, c.MSISDN, store.ConversationActive, c.ID)
			if err != nil {
				return fmt.Errorf("reading conversations: %w", err)
			}
			for rows.Next() {
				var o string
				if err := rows.Scan(&o); err != nil {
					rows.Close()
					return fmt.Errorf("reading conversations: %w", err)
				}
				others = append(others, o)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("reading conversations: %w", err)
			}
		}
		keys := []string{convLock(c.ID)}
		for _, o := range others {
			keys = append(keys, convLock(o))
		}
		if err := s.lockIDs(ctx, tx, keys); err != nil {
			return err
		}
		if c, err = read(); err != nil { // as of the locks
			return err
		}
		now := micros(time.Now().UTC())
		if c.Status != status {
			for _, o := range others {
				if err := s.setStatus(ctx, tx, accountID, o, store.ConversationArchived, now); err != nil {
					return err
				}
			}
			if err := s.setStatus(ctx, tx, accountID, c.ID, status, now); err != nil {
				return err
			}
			c.Status, c.UpdatedAt = status, fromMicros(now)
		}
		if err := s.conversationChannels(ctx, tx, []*store.Conversation{c}); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

func (s *Store) setStatus(ctx context.Context, tx *sql.Tx, accountID, id, status string, at int64) error {
	if _, err := s.txExec(ctx, tx, `UPDATE conversations SET status = ?, updated_at = ? WHERE id = ?`, status, at, id); err != nil {
		return fmt.Errorf("updating conversation: %w", err)
	}
	return s.enqueueConvEvent(ctx, tx, accountID, id, "", store.EventConversationUpdated, convState(status), at)
}

// convState is the payload of a conversation event: the status it is
// about (the conversation may have changed again by its delivery).
func convState(status string) string {
	b, _ := json.Marshal(store.ConversationState{Status: status})
	return string(b)
}

// DiscardConversation deletes a conversation without messages.
func (s *Store) DiscardConversation(ctx context.Context, accountID, id string) error {
	return s.inTx(ctx, "discarding conversation", func(tx *sql.Tx) error {
		if err := s.lockIDs(ctx, tx, []string{convLock(id)}); err != nil {
			return err
		}
		res, err := s.txExec(ctx, tx, `DELETE FROM conversations WHERE account_id = ? AND id = ? AND messages = 0`, accountID, id)
		if err != nil {
			return fmt.Errorf("discarding conversation: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		for _, q := range []string{`DELETE FROM conversation_channel_links WHERE conversation_id = ?`, `DELETE FROM webhook_deliveries WHERE conversation_id = ?`} {
			if _, err := s.txExec(ctx, tx, q, id); err != nil {
				return fmt.Errorf("discarding conversation: %w", err)
			}
		}
		return nil
	})
}

// LinkInbound joins a stored inbound message to a conversation.
func (s *Store) LinkInbound(ctx context.Context, accountID, conversationID, channelID, messageID string) error {
	return s.inTx(ctx, "linking inbound message", func(tx *sql.Tx) error {
		var details string
		var created int64
		err := s.txQueryRow(ctx, tx, `SELECT details, created_at FROM messages WHERE account_id = ? AND id = ?`, accountID, messageID).
			Scan(&details, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("reading message: %w", err)
		}
		var d message.Details
		if details != "" {
			if err := json.Unmarshal([]byte(details), &d); err != nil {
				return fmt.Errorf("decoding the details of %s: %w", messageID, err)
			}
		}
		if d.ConversationID == conversationID {
			return nil // linked already (the hook ran again)
		}
		d.ConversationID, d.ChannelID = conversationID, channelID
		b, err := json.Marshal(&d)
		if err != nil {
			return fmt.Errorf("encoding details: %w", err)
		}
		if _, err := s.txExec(ctx, tx, `UPDATE messages SET details = ?, conversation_id = ? WHERE id = ?`, string(b), conversationID, messageID); err != nil {
			return fmt.Errorf("linking message: %w", err)
		}
		m := &message.Message{ID: messageID, AccountID: accountID, CreatedAt: fromMicros(created), Details: d}
		return s.joinConversations(ctx, tx, []*message.Message{m})
	})
}

// linkConversations joins messages being accepted to their conversations
// (message.Details.ConversationID), in the accepting transaction.
func (s *Store) linkConversations(ctx context.Context, tx *sql.Tx, msgs []*message.Message) error {
	var in []*message.Message
	for _, m := range msgs {
		if m.Details.ConversationID != "" {
			in = append(in, m)
		}
	}
	if len(in) == 0 {
		return nil
	}
	return s.joinConversations(ctx, tx, in)
}

// joinConversations counts messages into their conversations (the
// message rows carry conversation_id already: writeMessages writes it),
// releases the conversations' held creation deliveries and queues each
// message's message.created deliveries. The release is one statement for
// all the conversations and the webhooks are read once per account: this
// runs for every message accepted into a conversation.
func (s *Store) joinConversations(ctx context.Context, tx *sql.Tx, msgs []*message.Message) error {
	keys := make([]string, len(msgs))
	convs := make([]string, len(msgs))
	for i, m := range msgs {
		keys[i] = convLock(m.Details.ConversationID)
		convs[i] = m.Details.ConversationID
	}
	if err := s.lockIDs(ctx, tx, keys); err != nil {
		return err
	}
	for _, m := range msgs {
		set := `messages = messages + 1, last_message_id = ?, updated_at = ?`
		args := []any{m.ID, micros(m.CreatedAt)}
		if m.Details.ChannelID != "" {
			set += `, last_channel_id = ?`
			args = append(args, m.Details.ChannelID)
		}
		if _, err := s.txExec(ctx, tx, `UPDATE conversations SET `+set+` WHERE id = ?`, append(args, m.Details.ConversationID)...); err != nil {
			return fmt.Errorf("updating conversation: %w", err)
		}
	}
	// Their first message stored: the conversations' held creations go.
	slices.Sort(convs)
	convs = slices.Compact(convs)
	if err := inChunks(convs, matchChunk, func(chunk []string) error {
		in, args := inList(chunk)
		if _, err := s.txExec(ctx, tx, `UPDATE webhook_deliveries SET state = 'pending' WHERE state = 'held' AND conversation_id IN (`+in+`)`,
			args...); err != nil {
			return fmt.Errorf("releasing webhook deliveries: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	hooks := map[string][]convHook{}
	for _, m := range msgs {
		hs, ok := hooks[m.AccountID]
		if !ok {
			var err error
			if hs, err = s.readConvHooks(ctx, tx, m.AccountID); err != nil {
				return err
			}
			hooks[m.AccountID] = hs
		}
		if err := s.insertConvDeliveries(ctx, tx, hs, m.AccountID, m.Details.ConversationID, m.ID, store.EventMessageCreated, "",
			micros(m.CreatedAt), "pending"); err != nil {
			return err
		}
	}
	return nil
}

// noteConversationReports writes the message.updated deliveries of status
// reports being enqueued (jargs as reportArgs builds them, with
// jobConvReport for those no report URL wants), in the same transaction.
func (s *Store) noteConversationReports(ctx context.Context, tx *sql.Tx, jargs []any) error {
	const width = jobArgs
	if len(jargs) == 0 {
		return nil
	}
	var msgIDs []any
	seen := map[any]bool{}
	for i := 0; i+width <= len(jargs); i += width {
		account, _ := jargs[i+1].(string)
		if (jargs[i] == jobConvReport || jargs[i] == store.JobReport && s.convWebhooksOn(ctx, account)) && !seen[jargs[i+2]] {
			seen[jargs[i+2]] = true
			msgIDs = append(msgIDs, jargs[i+2])
		}
	}
	conv := map[string]string{}
	for len(msgIDs) > 0 {
		chunk := msgIDs[:min(len(msgIDs), 500)]
		msgIDs = msgIDs[len(chunk):]
		rows, err := s.txQuery(ctx, tx, `SELECT id, conversation_id FROM messages WHERE id IN (`+placeholders(len(chunk))+`)
			AND conversation_id IS NOT NULL`, chunk...)
		if err != nil {
			return fmt.Errorf("reading conversation messages: %w", err)
		}
		for rows.Next() {
			var id, c string
			if err := rows.Scan(&id, &c); err != nil {
				rows.Close()
				return fmt.Errorf("reading conversation messages: %w", err)
			}
			conv[id] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading conversation messages: %w", err)
		}
	}
	if len(conv) == 0 {
		return nil
	}
	var keys []string
	for _, c := range conv {
		keys = append(keys, convLock(c))
	}
	if err := s.lockIDs(ctx, tx, keys); err != nil {
		return err
	}
	for i := 0; i+width <= len(jargs); i += width {
		id, _ := jargs[i+2].(string)
		c, ok := conv[id]
		if !ok || (jargs[i] != store.JobReport && jargs[i] != jobConvReport) {
			continue
		}
		payload, _ := jargs[i+3].([]byte)
		at, _ := jargs[i+5].(int64)
		if err := s.enqueueConvEvent(ctx, tx, jargs[i+1].(string), c, id, store.EventMessageUpdated, string(payload), at); err != nil {
			return err
		}
	}
	return nil
}

// enqueueConvEvent writes a delivery of an event to each of the account's
// enabled webhooks that take it. A webhook's channel is checked when the
// delivery is made (the deliverer reads the message or conversation then).
func (s *Store) enqueueConvEvent(ctx context.Context, tx *sql.Tx, accountID, conversationID, messageID, event, payload string, at int64) error {
	return s.enqueueConvEventState(ctx, tx, accountID, conversationID, messageID, event, payload, at, "pending")
}

// enqueueConvEventState is enqueueConvEvent with the deliveries' state:
// pending, or held (not sent until released).
//
// The account's webhooks are read and matched to the event here rather than
// in SQL: SQLite recompiles a statement whose LIKE pattern is a bound
// parameter each time it is bound, and this runs for every message accepted
// into a conversation (it was a third of a WhatsApp send's statement
// compilations). An account without webhooks costs one prepared read.
func (s *Store) enqueueConvEventState(ctx context.Context, tx *sql.Tx, accountID, conversationID, messageID, event, payload string, at int64, state string) error {
	hooks, err := s.readConvHooks(ctx, tx, accountID)
	if err != nil {
		return err
	}
	return s.insertConvDeliveries(ctx, tx, hooks, accountID, conversationID, messageID, event, payload, at, state)
}

// convHook is an account's enabled conversation webhook: its id and the
// events it wants.
type convHook struct {
	id     string
	events []string
}

// readConvHooks reads an account's enabled conversation webhooks.
func (s *Store) readConvHooks(ctx context.Context, tx *sql.Tx, accountID string) ([]convHook, error) {
	rows, err := s.txQuery(ctx, tx, `SELECT id, events FROM conversation_webhooks WHERE account_id = ? AND status = ?`,
		accountID, store.WebhookEnabled)
	if err != nil {
		return nil, fmt.Errorf("enqueueing webhook deliveries: %w", err)
	}
	defer rows.Close()
	var hooks []convHook
	for rows.Next() {
		var id, events string
		if err := rows.Scan(&id, &events); err != nil {
			return nil, fmt.Errorf("enqueueing webhook deliveries: %w", err)
		}
		hooks = append(hooks, convHook{id, strings.Split(events, ",")})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("enqueueing webhook deliveries: %w", err)
	}
	return hooks, nil
}

// insertConvDeliveries queues an event's delivery to each of hooks that
// wants it, in state (pending, or held: not sent until released).
func (s *Store) insertConvDeliveries(ctx context.Context, tx *sql.Tx, hooks []convHook, accountID, conversationID, messageID, event, payload string, at int64, state string) error {
	if at == 0 {
		at = micros(time.Now().UTC())
	}
	for _, h := range hooks {
		if !slices.Contains(h.events, event) {
			continue
		}
		if _, err := s.txExec(ctx, tx, `INSERT INTO webhook_deliveries
			(account_id, webhook_id, conversation_id, message_id, event, payload, state, attempts, next_at, leased_until, last_error, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 0, '', ?)`,
			accountID, h.id, conversationID, messageID, event, payload, state, at, at); err != nil {
			return fmt.Errorf("enqueueing webhook deliveries: %w", err)
		}
	}
	return nil
}

const webhookColumns = `id, account_id, channel_id, url, events, settings, status, created_at, updated_at`

func scanWebhook(sc interface{ Scan(...any) error }) (*store.ConvWebhook, error) {
	w := &store.ConvWebhook{}
	var events string
	var created, updated int64
	if err := sc.Scan(&w.ID, &w.AccountID, &w.ChannelID, &w.URL, &events, &w.Settings, &w.Status, &created, &updated); err != nil {
		return nil, err
	}
	w.Events = strings.Split(events, ",")
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	return w, nil
}

// CreateConvWebhook stores a new webhook.
func (s *Store) CreateConvWebhook(ctx context.Context, w *store.ConvWebhook) error {
	stamp(&w.CreatedAt, &w.UpdatedAt)
	if w.Status == "" {
		w.Status = store.WebhookEnabled
	}
	settings, err := s.seal(ctx, convWebhookColumn, w.ID, w.Settings) // a basic auth password
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO conversation_webhooks (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		w.ID, w.AccountID, w.ChannelID, w.URL, strings.Join(w.Events, ","), settings, w.Status, micros(w.CreatedAt), micros(w.UpdatedAt)); err != nil {
		return fmt.Errorf("creating webhook: %w", err)
	}
	s.noteConvWebhook(w.AccountID)
	return nil
}

// GetConvWebhook reads one of an account's webhooks.
func (s *Store) GetConvWebhook(ctx context.Context, accountID, id string) (*store.ConvWebhook, error) {
	w, err := scanWebhook(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+webhookColumns+` FROM conversation_webhooks WHERE account_id = ? AND id = ?`),
		accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading webhook: %w", err)
	}
	if err := s.open(ctx, convWebhookColumn, w.ID, &w.Settings); err != nil {
		return nil, err
	}
	return w, nil
}

// ListConvWebhooks lists an account's webhooks oldest first.
func (s *Store) ListConvWebhooks(ctx context.Context, accountID string, limit, offset int) ([]*store.ConvWebhook, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM conversation_webhooks WHERE account_id = ?`), accountID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting webhooks: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+webhookColumns+` FROM conversation_webhooks WHERE account_id = ?
		ORDER BY created_at, id LIMIT ? OFFSET ?`), accountID, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("listing webhooks: %w", err)
	}
	defer rows.Close()
	out := []*store.ConvWebhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err == nil {
			err = s.open(ctx, convWebhookColumn, w.ID, &w.Settings)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("listing webhooks: %w", err)
		}
		out = append(out, w)
	}
	return out, total, rows.Err()
}

// UpdateConvWebhook writes a webhook's url, events, settings and status.
func (s *Store) UpdateConvWebhook(ctx context.Context, w *store.ConvWebhook) error {
	w.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	settings, err := s.seal(ctx, convWebhookColumn, w.ID, w.Settings)
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE conversation_webhooks SET url = ?, events = ?, settings = ?, status = ?, updated_at = ?
		WHERE account_id = ? AND id = ?`), w.URL, strings.Join(w.Events, ","), settings, w.Status, micros(w.UpdatedAt), w.AccountID, w.ID)
	if err != nil {
		return fmt.Errorf("updating webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	if w.Status == store.WebhookEnabled {
		s.noteConvWebhook(w.AccountID)
	}
	return nil
}

// DeleteConvWebhook deletes a webhook and the deliveries still due to it.
func (s *Store) DeleteConvWebhook(ctx context.Context, accountID, id string) error {
	return s.inTx(ctx, "deleting webhook", func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `DELETE FROM conversation_webhooks WHERE account_id = ? AND id = ?`, accountID, id)
		if err != nil {
			return fmt.Errorf("deleting webhook: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM webhook_deliveries WHERE webhook_id = ?`, id); err != nil {
			return fmt.Errorf("deleting webhook deliveries: %w", err)
		}
		return nil
	})
}

// LeaseDeliveries leases the due heads of each webhook's conversations.
func (s *Store) LeaseDeliveries(ctx context.Context, now, leaseUntil time.Time, max int) ([]*store.WebhookDelivery, error) {
	// A read first: an idle deliverer polls without taking the writer.
	var one int
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT 1 FROM webhook_deliveries WHERE state = 'pending' AND next_at <= ? AND leased_until <= ? LIMIT 1`),
		micros(now), micros(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading webhook deliveries: %w", err)
	}
	var out []*store.WebhookDelivery
	err = s.inTx(ctx, "leasing webhook deliveries", func(tx *sql.Tx) error {
		out = nil
		n := micros(now)
		rows, err := s.txQuery(ctx, tx, `SELECT d.id, d.account_id, d.webhook_id, d.conversation_id, d.message_id, d.event, d.payload,
			d.attempts, d.created_at FROM webhook_deliveries d
			WHERE d.state = 'pending' AND d.next_at <= ? AND d.leased_until <= ? AND NOT EXISTS (
				SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND e.conversation_id = d.conversation_id
				AND e.state = 'pending' AND e.id < d.id)
			ORDER BY d.id LIMIT ?`, n, n, max)
		if err != nil {
			return fmt.Errorf("reading webhook deliveries: %w", err)
		}
		var due []*store.WebhookDelivery
		for rows.Next() {
			d := &store.WebhookDelivery{}
			var created int64
			if err := rows.Scan(&d.ID, &d.AccountID, &d.WebhookID, &d.ConversationID, &d.MessageID, &d.Event, &d.Payload, &d.Attempts, &created); err != nil {
				rows.Close()
				return fmt.Errorf("reading webhook deliveries: %w", err)
			}
			d.CreatedAt = fromMicros(created)
			due = append(due, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading webhook deliveries: %w", err)
		}
		for _, d := range due {
			res, err := s.txExec(ctx, tx, `UPDATE webhook_deliveries SET leased_until = ? WHERE id = ? AND state = 'pending' AND leased_until <= ?`,
				micros(leaseUntil), d.ID, n)
			if err != nil {
				return fmt.Errorf("leasing webhook delivery: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 1 {
				out = append(out, d)
			}
		}
		return nil
	})
	return out, err
}

// FinishDelivery ends a delivery: it is removed, and the next one of its
// conversation becomes due.
func (s *Store) FinishDelivery(ctx context.Context, id int64, lastError string) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM webhook_deliveries WHERE id = ?`), id); err != nil {
		return fmt.Errorf("finishing webhook delivery: %w", err)
	}
	return nil
}

// RetryDelivery counts a failed attempt and makes the delivery due again.
func (s *Store) RetryDelivery(ctx context.Context, id int64, next time.Time, lastError string) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE webhook_deliveries SET attempts = attempts + 1, next_at = ?, leased_until = 0, last_error = ?
		WHERE id = ?`), micros(next), lastError, id); err != nil {
		return fmt.Errorf("retrying webhook delivery: %w", err)
	}
	return nil
}

// jobConvReport is the kind of a status report no report URL wants, made
// for Conversations webhooks only: enqueueReports turns it into
// message.updated deliveries and stores no job for it.
const jobConvReport = "conv-report"

// convHookCache remembers which accounts have an enabled Conversations
// webhook, read again at most once a second (a webhook made on another
// node is seen within a second; on this node at once).
type convHookCache struct {
	checked  atomic.Int64 // unix nanoseconds of the last read
	accounts atomic.Pointer[map[string]bool]
	mu       sync.Mutex // serialises adding to accounts
}

const convHookRecheck = time.Second

// convWebhooksOn says whether the account's status changes may have to be
// reported to a Conversations webhook.
func (s *Store) convWebhooksOn(ctx context.Context, accountID string) bool {
	now := time.Now().UnixNano()
	c := &s.convHooks
	if last := c.checked.Load(); now-last < int64(convHookRecheck) || !c.checked.CompareAndSwap(last, now) {
		if m := c.accounts.Load(); m != nil {
			return (*m)[accountID]
		}
		return false
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT DISTINCT account_id FROM conversation_webhooks WHERE status = ?`), store.WebhookEnabled)
	if err != nil {
		c.checked.Store(0)
		return true // unsure: look at the messages
	}
	defer rows.Close()
	m := map[string]bool{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			c.checked.Store(0)
			return true
		}
		m[a] = true
	}
	if rows.Err() != nil {
		c.checked.Store(0)
		return true
	}
	c.mu.Lock()
	c.accounts.Store(&m)
	c.mu.Unlock()
	return m[accountID]
}

// noteConvWebhook makes an account's new or enabled webhook count at once
// on this node.
func (s *Store) noteConvWebhook(accountID string) {
	c := &s.convHooks
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]bool{accountID: true}
	if old := c.accounts.Load(); old != nil {
		for a := range *old {
			m[a] = true
		}
	}
	c.accounts.Store(&m)
}

// appendConvReport appends a report of u that only Conversations webhooks
// take, when there may be such webhooks.
func (s *Store) appendConvReport(ctx context.Context, args []any, u *store.StatusUpdate) ([]any, error) {
	if !s.convWebhooksOn(ctx, u.AccountID) {
		return args, nil
	}
	report, err := reportArgs(u)
	if err != nil {
		return args, err
	}
	report[0] = jobConvReport
	return append(args, report...), nil
}

// jobsOnly drops the jobConvReport tuples of report job arguments.
func jobsOnly(jargs []any) []any {
	const width = jobArgs
	keep := true
	for i := 0; i+width <= len(jargs); i += width {
		keep = keep && jargs[i] != jobConvReport
	}
	if keep {
		return jargs
	}
	out := make([]any, 0, len(jargs))
	for i := 0; i+width <= len(jargs); i += width {
		if jargs[i] != jobConvReport {
			out = append(out, jargs[i:i+width]...)
		}
	}
	return out
}

// ResendDelivery implements store.Conversations.
func (s *Store) ResendDelivery(ctx context.Context, d *store.WebhookDelivery) error {
	now := micros(time.Now().UTC())
	res, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO webhook_deliveries
		(account_id, webhook_id, conversation_id, message_id, event, payload, state, attempts, next_at, leased_until, last_error, created_at)
		SELECT account_id, id, ?, ?, ?, ?, 'pending', 0, ?, 0, '', ? FROM conversation_webhooks WHERE account_id = ? AND id = ? AND status = ?`),
		d.ConversationID, d.MessageID, d.Event, d.Payload, now, now, d.AccountID, d.WebhookID, store.WebhookEnabled)
	if err != nil {
		return fmt.Errorf("re-sending a webhook delivery: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("re-sending a webhook delivery: %w", err)
	} else if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
