package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

// openConversation opens a billed conversation unless one is open for the
// key at its time: the row is inserted, or an expired one replaced, in one
// statement, so that of two concurrent messages exactly one opens it (on
// PostgreSQL the second waits on the row the first wrote).
const openConversation = `INSERT INTO billing_conversations (id, account_id, channel, sender, recipient, category, country, message_id, price, currency, opened_at, expires_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (account_id, channel, sender, recipient, category) DO UPDATE SET id = excluded.id, country = excluded.country,
		message_id = excluded.message_id, price = excluded.price, currency = excluded.currency,
		opened_at = excluded.opened_at, expires_at = excluded.expires_at
	WHERE billing_conversations.expires_at <= excluded.opened_at
	RETURNING id`

// openConversations opens (or finds open) each item's billed
// conversations: the price of those it opened is added to its charge, the
// price of those open already is taken off their recipients' prices.
// Running it again (a retried transaction) starts from the item's own
// prices.
//
// Most messages continue a conversation: the open ones of all the items
// are read first, in one statement per chunk of keys, and only a key found
// closed (or not found) goes through the upsert. On PostgreSQL the read
// locks the rows it finds, as the upsert would: a concurrent transaction
// closing one (a refused or cancelled message) is waited for, and a row
// it deleted is not found.
func (s *Store) openConversations(ctx context.Context, tx *sql.Tx, items []*store.Accept) error {
	open, err := s.readBilled(ctx, tx, items)
	if err != nil {
		return err
	}
	for _, it := range items {
		resetConversations(it)
		m := it.Message
		for _, c := range it.Conversations {
			if c.Recipient < 0 || c.Recipient >= len(m.Recipients) {
				return fmt.Errorf("opening conversations: recipient %d of %d", c.Recipient, len(m.Recipients))
			}
			k := billedKey{m.AccountID, c.Channel, c.Sender, c.Address, c.Category}
			if o, ok := open[k]; ok && o.expires > micros(c.OpenedAt) {
				// Open already: this message continues it, free.
				m.Recipients[c.Recipient].Price -= c.Price
				c.ID, c.Waived = o.id, c.Price
				continue
			}
			var id string
			expires := micros(c.OpenedAt.Add(c.Window))
			err := s.txQueryRow(ctx, tx, openConversation, ids.New(), m.AccountID, c.Channel, c.Sender, c.Address, c.Category, c.Country,
				m.ID, c.Price, it.Currency, micros(c.OpenedAt), expires).Scan(&id)
			switch {
			case err == nil:
				c.ID, c.Opened = id, true
				it.Charge += c.Price
				it.ConversationCharge += c.Price
				open[k] = openBilled{id, expires}
			case errors.Is(err, sql.ErrNoRows):
				// Opened by a transaction that committed since the read.
				m.Recipients[c.Recipient].Price -= c.Price
				c.Waived = c.Price
				var o openBilled
				if err := s.txQueryRow(ctx, tx, `SELECT id, expires_at FROM billing_conversations
					WHERE account_id = ? AND channel = ? AND sender = ? AND recipient = ? AND category = ?`,
					m.AccountID, c.Channel, c.Sender, c.Address, c.Category).Scan(&o.id, &o.expires); err != nil {
					return fmt.Errorf("reading conversation: %w", err)
				}
				c.ID, open[k] = o.id, o
			default:
				return fmt.Errorf("opening conversation: %w", err)
			}
		}
	}
	return nil
}

// billedKey names a billed conversation (its unique key).
type billedKey struct{ account, channel, sender, recipient, category string }

// openBilled is a billed conversation as read: its id and end.
type openBilled struct {
	id      string
	expires int64
}

// billedChunk bounds the keys of one read of billed conversations.
const billedChunk = 128

// readBilled reads the billed conversations the items' keys name, open or
// not (the caller compares their ends to its messages' times).
func (s *Store) readBilled(ctx context.Context, tx *sql.Tx, items []*store.Accept) (map[billedKey]openBilled, error) {
	out := map[billedKey]openBilled{}
	var keys []billedKey
	seen := map[billedKey]bool{}
	for _, it := range items {
		for _, c := range it.Conversations {
			k := billedKey{it.Message.AccountID, c.Channel, c.Sender, c.Address, c.Category}
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	lock := ""
	if !s.d.SingleWriter {
		lock = " FOR UPDATE"
	}
	// Grouped by all but the recipient, so that each read is one index
	// range with an IN list of recipients.
	group := func(k billedKey) billedKey { return billedKey{k.account, k.channel, k.sender, "", k.category} }
	err := inGroups(keys, group, billedChunk, func(g billedKey, chunk []billedKey) error {
		recipients := make([]string, len(chunk))
		for i, k := range chunk {
			recipients[i] = k.recipient
		}
		in, rargs := inList(recipients)
		rows, err := s.txQuery(ctx, tx, `SELECT recipient, id, expires_at FROM billing_conversations
			WHERE account_id = ? AND channel = ? AND sender = ? AND category = ? AND recipient IN (`+in+`)`+lock,
			append([]any{g.account, g.channel, g.sender, g.category}, rargs...)...)
		if err != nil {
			return fmt.Errorf("reading conversations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			k := g
			var o openBilled
			if err := rows.Scan(&k.recipient, &o.id, &o.expires); err != nil {
				return fmt.Errorf("reading conversations: %w", err)
			}
			out[k] = o
		}
		return rows.Err()
	})
	return out, err
}

// resetConversations takes back what openConversations added to an item.
func resetConversations(it *store.Accept) {
	it.Charge -= it.ConversationCharge
	it.ConversationCharge = 0
	for _, c := range it.Conversations {
		if c.Waived != 0 && c.Recipient >= 0 && c.Recipient < len(it.Message.Recipients) {
			it.Message.Recipients[c.Recipient].Price += c.Waived
		}
		c.ID, c.Opened, c.Waived = "", false, 0
	}
}

// dropConversations closes the conversations an item opened (it was not
// charged after all) and puts the item back as it came.
func (s *Store) dropConversations(ctx context.Context, tx *sql.Tx, it *store.Accept) error {
	for _, c := range it.Conversations {
		if !c.Opened {
			continue
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM billing_conversations WHERE account_id = ? AND channel = ? AND sender = ?
			AND recipient = ? AND category = ? AND id = ?`, it.Message.AccountID, c.Channel, c.Sender, c.Address, c.Category, c.ID); err != nil {
			return fmt.Errorf("closing conversation: %w", err)
		}
	}
	resetConversations(it)
	return nil
}

// releaseConversations closes the conversations a message opened, when
// its charge is given back (a cancelled or rejected message).
func (s *Store) releaseConversations(ctx context.Context, tx *sql.Tx, accountID, messageID string) error {
	if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM billing_conversations WHERE account_id = ? AND message_id = ?`), accountID, messageID); err != nil {
		return fmt.Errorf("closing conversations: %w", err)
	}
	return nil
}

// chargeReason is a charge's ledger reason: "message", and the
// conversations it opened.
func chargeReason(it *store.Accept) string {
	if it.ConversationCharge == 0 && len(it.Conversations) == 0 {
		return "message"
	}
	var b strings.Builder
	b.WriteString("message")
	for _, c := range it.Conversations {
		if c.Opened {
			fmt.Fprintf(&b, "; opened %s conversation %s (%s %s)", c.Channel, c.ID, c.Category, c.Country)
		}
	}
	return b.String()
}

// BilledConversations lists an account's billed conversations with a
// recipient, newest first.
func (s *Store) BilledConversations(ctx context.Context, accountID, recipient string) ([]store.BilledConversation, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, account_id, channel, sender, recipient, category, country, message_id, currency, price, opened_at, expires_at
		FROM billing_conversations WHERE account_id = ? AND recipient = ? ORDER BY opened_at DESC, id`), accountID, recipient)
	if err != nil {
		return nil, fmt.Errorf("reading conversations: %w", err)
	}
	defer rows.Close()
	out := []store.BilledConversation{}
	for rows.Next() {
		var c store.BilledConversation
		var opened, expires int64
		if err := rows.Scan(&c.ID, &c.AccountID, &c.Channel, &c.Sender, &c.Recipient, &c.Category, &c.Country, &c.MessageID, &c.Currency,
			&c.Price, &opened, &expires); err != nil {
			return nil, fmt.Errorf("reading conversations: %w", err)
		}
		c.OpenedAt, c.ExpiresAt = fromMicros(opened), fromMicros(expires)
		out = append(out, c)
	}
	return out, rows.Err()
}
