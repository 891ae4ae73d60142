package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// AddNumber assigns an inbound number to an account.
func (s *Store) AddNumber(ctx context.Context, n store.Number) error {
	return s.inTx(ctx, "adding number", func(tx *sql.Tx) error {
		var owner string
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT account_id FROM numbers WHERE number = ?`), n.Number).Scan(&owner)
		switch {
		case err == nil && owner == n.AccountID:
			return nil
		case err == nil:
			return store.ErrConflict
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("adding number: %w", err)
		}
		var accounts int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM accounts WHERE id = ?`), n.AccountID).Scan(&accounts); err != nil {
			return fmt.Errorf("adding number: %w", err)
		}
		if accounts == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO numbers (number, account_id, created_at) VALUES (?, ?, ?)`),
			n.Number, n.AccountID, micros(n.CreatedAt)); err != nil {
			return fmt.Errorf("adding number: %w", err)
		}
		return s.addNumberEvent(ctx, tx, store.NumberEvent{Number: n.Number, AccountID: n.AccountID, Event: store.NumberAssigned, Actor: "operator", CreatedAt: n.CreatedAt})
	})
}

// RemoveNumber releases a number (ReleaseNumber by an operator).
func (s *Store) RemoveNumber(ctx context.Context, number string) error {
	return s.ReleaseNumber(ctx, "", number, store.NumberEvent{Event: store.NumberReleased, Actor: "operator"}, time.Time{})
}

// ListNumbers lists numbers, of one account or of all.
func (s *Store) ListNumbers(ctx context.Context, accountID string) ([]store.Number, error) {
	q, args := `SELECT number, account_id, created_at FROM numbers ORDER BY number`, []any{}
	if accountID != "" {
		q, args = `SELECT number, account_id, created_at FROM numbers WHERE account_id = ? ORDER BY number`, []any{accountID}
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing numbers: %w", err)
	}
	defer rows.Close()
	var out []store.Number
	for rows.Next() {
		var n store.Number
		var created int64
		if err := rows.Scan(&n.Number, &n.AccountID, &created); err != nil {
			return nil, fmt.Errorf("listing numbers: %w", err)
		}
		n.CreatedAt = fromMicros(created)
		out = append(out, n)
	}
	return out, rows.Err()
}

// NumberOwner is the account a number is assigned to.
func (s *Store) NumberOwner(ctx context.Context, number string) (string, error) {
	var owner string
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT account_id FROM numbers WHERE number = ?`), number).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("reading number: %w", err)
	}
	return owner, nil
}

// AddInboundPart keeps one part of a concatenated inbound message and,
// once all are there, returns the bodies in order and deletes them.
func (s *Store) AddInboundPart(ctx context.Context, p store.InboundPart, assemble func([]string) (*message.Message, error)) (*message.Message, error) {
	if p.Total < 1 || p.Part < 1 || p.Part > p.Total || p.Total > 255 {
		return nil, fmt.Errorf("inbound part %d of %d is out of range", p.Part, p.Total)
	}
	// The part's body is sealed with the platform's key: whose it is is
	// known once the message is whole.
	partAAD := fmt.Sprintf("inbound_parts.body/%s %s %s %d %d", p.Connector, p.Source, p.Destination, p.Ref, p.Part)
	sealed, err := s.sealText(ctx, "", partAAD, p.Body)
	if err != nil {
		return nil, err
	}
	for try := 1; ; try++ {
		m, err := s.addInboundPart(ctx, p, sealed, assemble)
		var need *needScopeError
		if errors.As(err, &need) && try < 3 {
			// The first message of an account: make its key, outside the
			// transaction, and try again (the part is stored as it was).
			if err := s.ensureScopes(ctx, need.account); err != nil {
				return nil, err
			}
			continue
		}
		return m, err
	}
}

// needScopeError says that a transaction needed an account's data key,
// which the account did not have yet.
type needScopeError struct{ account string }

func (e *needScopeError) Error() string { return "account " + e.account + " has no data key yet" }

func (s *Store) addInboundPart(ctx context.Context, p store.InboundPart, sealedBody string, assemble func([]string) (*message.Message, error)) (*message.Message, error) {
	var complete *message.Message
	err := s.inTx(ctx, "adding inbound part", func(tx *sql.Tx) error {
		// Parts of one message arriving at once must see each other: the
		// last to commit assembles the message.
		if err := s.lockIDs(ctx, tx, []string{fmt.Sprintf("3|%s %s %s %d", p.Connector, p.Source, p.Destination, p.Ref)}); err != nil {
			return err
		}
		// The sender is stored as its keyed hash (partSource); parts an
		// earlier release stored under the number in clear are found too.
		src := s.partSource(p.Source)
		key := []any{p.Connector, src, p.Source, p.Destination, p.Ref}
		// A repeated part (the SMSC resent it) replaces the earlier copy.
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO inbound_parts
			(connector, source, destination, ref, total, part, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (connector, source, destination, ref, part) DO UPDATE SET total = excluded.total, body = excluded.body,
			received_at = excluded.received_at`), p.Connector, src, p.Destination, p.Ref, p.Total, p.Part, sealedBody, micros(p.ReceivedAt)); err != nil {
			return fmt.Errorf("adding inbound part: %w", err)
		}
		rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT part, body FROM inbound_parts
			WHERE connector = ? AND source IN (?, ?) AND destination = ? AND ref = ? AND total = ? ORDER BY part`), append(key, p.Total)...)
		if err != nil {
			return fmt.Errorf("reading inbound parts: %w", err)
		}
		bodies := make([]string, 0, p.Total)
		parts := make([]int, 0, p.Total)
		for rows.Next() {
			var n int
			var body string
			if err := rows.Scan(&n, &body); err != nil {
				rows.Close()
				return fmt.Errorf("reading inbound parts: %w", err)
			}
			bodies, parts = append(bodies, body), append(parts, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading inbound parts: %w", err)
		}
		for i := range bodies {
			aad := fmt.Sprintf("inbound_parts.body/%s %s %s %d %d", p.Connector, p.Source, p.Destination, p.Ref, parts[i])
			if _, err := s.openText(ctx, aad, &bodies[i]); err != nil {
				return err
			}
		}
		if len(bodies) < p.Total {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM inbound_parts WHERE connector = ? AND source IN (?, ?) AND destination = ? AND ref = ?`), key...); err != nil {
			return fmt.Errorf("clearing inbound parts: %w", err)
		}
		m, err := assemble(bodies)
		if err != nil {
			return err
		}
		if s.keys != nil && !s.messagesInClear && !s.keys.HasScope(m.AccountID) {
			return &needScopeError{m.AccountID}
		}
		if err := s.writeMessages(ctx, tx, []*message.Message{m}, nil); err != nil {
			return err
		}
		complete = m
		return nil
	})
	return complete, err
}

// PurgeInboundParts drops parts whose siblings never came.
func (s *Store) PurgeInboundParts(ctx context.Context, before time.Time) (int, error) {
	return s.purge(ctx, "inbound parts", `DELETE FROM inbound_parts WHERE received_at < ?`, before)
}

// LastInbound is when each address last wrote to the account on the
// channel: the newest inbound message by originator, found by its keyed
// hash (addrcrypt.go), or in clear for rows written without one.
func (s *Store) LastInbound(ctx context.Context, accountID, channel string, addresses []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(addresses) == 0 {
		return out, nil
	}
	byHash := map[string][]string{}
	hashes := make([]string, 0, len(addresses))
	for _, a := range addresses {
		h := s.searchHash(ctx, accountID, a)
		if h != noHash {
			if byHash[h] == nil {
				hashes = append(hashes, h)
			}
			byHash[h] = append(byHash[h], a)
		}
	}
	read := func(col, cond string, values []string, found func(v string, at time.Time)) error {
		if len(values) == 0 {
			return nil
		}
		args := append([]any{accountID, channel, string(message.MO)}, strings2any(values)...)
		rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+col+`, MAX(created_at) FROM messages
			WHERE account_id = ? AND channel = ? AND direction = ? AND `+cond+` AND `+col+` IN (`+placeholders(len(values))+`)
			GROUP BY `+col), args...)
		if err != nil {
			return fmt.Errorf("reading inbound messages: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			var at int64
			if err := rows.Scan(&v, &at); err != nil {
				return fmt.Errorf("reading inbound messages: %w", err)
			}
			found(v, fromMicros(at))
		}
		return rows.Err()
	}
	later := func(a string, at time.Time) {
		if at.After(out[a]) {
			out[a] = at
		}
	}
	if err := read("originator_hash", "originator_hash <> ''", hashes, func(h string, at time.Time) {
		for _, a := range byHash[h] {
			later(a, at)
		}
	}); err != nil {
		return nil, err
	}
	if err := read("originator", "originator_hash = ''", addresses, later); err != nil {
		return nil, err
	}
	return out, nil
}
