package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

const smppPartColumns = `account_id, source, dest, ref, total, seq, message_id, body, is_unicode, is_binary, receipts, created_at, expires_at,
	udh, scheduled_at, validity`

const smppPartKeyWhere = `account_id = ? AND source = ? AND dest = ? AND ref = ? AND total = ?`

func smppPartKeyArgs(k store.SMPPPartKey) []any {
	return []any{k.AccountID, k.Source, k.Dest, k.Ref, k.Total}
}

// smppPartAAD binds a part's sealed text to its place in its set.
func smppPartAAD(k store.SMPPPartKey, seq int) string {
	return fmt.Sprintf("smpp_parts.body/%s %s %s %d %d %d", k.AccountID, k.Source, k.Dest, k.Ref, k.Total, seq)
}

// StagePart stores one part of a long SMPP message and says the set's id
// and how many parts it holds.
func (s *Store) StagePart(ctx context.Context, p store.SMPPPart, maxParts int) (string, int, error) {
	if p.Total < 1 || p.Seq < 1 || p.Seq > p.Total || p.MessageID == "" {
		return "", 0, fmt.Errorf("staging SMPP part %d of %d: out of range", p.Seq, p.Total)
	}
	// The text is sealed with the account's key, as a message's body is.
	if err := s.ensureScopes(ctx, p.AccountID); err != nil {
		return "", 0, err
	}
	body, err := s.sealText(ctx, p.AccountID, smppPartAAD(p.SMPPPartKey, p.Seq), p.Text)
	if err != nil {
		return "", 0, err
	}
	key := smppPartKeyArgs(p.SMPPPartKey)
	var id string
	var have int
	err = s.inTx(ctx, "staging an SMPP part", func(tx *sql.Tx) error {
		// Parts of one set staged at once see each other: the last to
		// commit counts them all.
		if err := s.lockIDs(ctx, tx, []string{fmt.Sprintf("4|%s %s %s %d %d", p.AccountID, p.Source, p.Dest, p.Ref, p.Total)}); err != nil {
			return err
		}
		var expires int64
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT message_id, expires_at FROM smpp_parts WHERE `+smppPartKeyWhere+` LIMIT 1`), key...).
			Scan(&id, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if maxParts > 0 {
				var n int
				if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM smpp_parts WHERE account_id = ? LIMIT ?) w`),
					p.AccountID, maxParts).Scan(&n); err != nil {
					return fmt.Errorf("counting SMPP parts: %w", err)
				}
				if n >= maxParts {
					return store.ErrPartsFull
				}
			}
			id, expires = p.MessageID, micros(p.ExpiresAt)
		case err != nil:
			return fmt.Errorf("reading SMPP parts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO smpp_parts (`+smppPartColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, source, dest, ref, total, seq) DO UPDATE SET body = excluded.body, is_unicode = excluded.is_unicode,
			is_binary = excluded.is_binary, receipts = excluded.receipts, created_at = excluded.created_at, udh = excluded.udh,
			scheduled_at = excluded.scheduled_at, validity = excluded.validity`),
			append(key, p.Seq, id, body, p.Unicode, p.Binary, p.Receipts, micros(p.CreatedAt), expires, p.UDH, micros(p.ScheduledAt), p.Validity)...); err != nil {
			return fmt.Errorf("staging an SMPP part: %w", err)
		}
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM smpp_parts WHERE `+smppPartKeyWhere), key...).Scan(&have); err != nil {
			return fmt.Errorf("counting SMPP parts: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	return id, have, nil
}

// SMPPPartSet reads a set's parts in order.
func (s *Store) SMPPPartSet(ctx context.Context, k store.SMPPPartKey) ([]store.SMPPPart, error) {
	return s.readSMPPParts(ctx, `SELECT `+smppPartColumns+` FROM smpp_parts WHERE `+smppPartKeyWhere+` ORDER BY seq`, smppPartKeyArgs(k)...)
}

func (s *Store) readSMPPParts(ctx context.Context, q string, args ...any) ([]store.SMPPPart, error) {
	rows, err := s.w.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("reading SMPP parts: %w", err)
	}
	defer rows.Close()
	var out []store.SMPPPart
	for rows.Next() {
		var p store.SMPPPart
		var created, expires, scheduled int64
		if err := rows.Scan(&p.AccountID, &p.Source, &p.Dest, &p.Ref, &p.Total, &p.Seq, &p.MessageID, &p.Text, &p.Unicode, &p.Binary,
			&p.Receipts, &created, &expires, &p.UDH, &scheduled, &p.Validity); err != nil {
			return nil, fmt.Errorf("reading SMPP parts: %w", err)
		}
		p.CreatedAt, p.ExpiresAt, p.ScheduledAt = fromMicros(created), fromMicros(expires), fromMicros(scheduled)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading SMPP parts: %w", err)
	}
	rows.Close()
	// A part whose account's keys were shredded cannot be read: it is left
	// out, as if it had never come, so its set never completes (the sweep
	// records it refused and drops it) and no sealed text is ever sent.
	kept := out[:0]
	for i := range out {
		erased, err := s.openText(ctx, smppPartAAD(out[i].SMPPPartKey, out[i].Seq), &out[i].Text)
		if err != nil {
			return nil, err
		}
		if !erased {
			kept = append(kept, out[i])
		}
	}
	return kept, nil
}

// DeleteSMPPParts drops a set's parts holding the id.
func (s *Store) DeleteSMPPParts(ctx context.Context, k store.SMPPPartKey, id string) (int, error) {
	return s.deleteSMPPParts(ctx, `DELETE FROM smpp_parts WHERE `+smppPartKeyWhere+` AND message_id = ?`, append(smppPartKeyArgs(k), id)...)
}

// DeleteSMPPPartsByID drops the parts of the account's set with the id.
func (s *Store) DeleteSMPPPartsByID(ctx context.Context, accountID, id string) (int, error) {
	return s.deleteSMPPParts(ctx, `DELETE FROM smpp_parts WHERE account_id = ? AND message_id = ?`, accountID, id)
}

func (s *Store) deleteSMPPParts(ctx context.Context, q string, args ...any) (int, error) {
	res, err := s.w.ExecContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return 0, fmt.Errorf("deleting SMPP parts: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// SMPPPartsWaiting reports whether a set with the id has parts waiting.
func (s *Store) SMPPPartsWaiting(ctx context.Context, accountID, id string) (bool, error) {
	var n int
	err := s.w.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM smpp_parts WHERE account_id = ? AND message_id = ? LIMIT 1) w`),
		accountID, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("reading SMPP parts: %w", err)
	}
	return n > 0, nil
}

// ExpiredSMPPParts reads the sets that expired before the time.
func (s *Store) ExpiredSMPPParts(ctx context.Context, before time.Time, limit int) ([][]store.SMPPPart, error) {
	rows, err := s.w.QueryContext(ctx, s.d.rebind(`SELECT DISTINCT account_id, source, dest, ref, total FROM smpp_parts WHERE expires_at < ? LIMIT ?`),
		micros(before), limit)
	if err != nil {
		return nil, fmt.Errorf("reading expired SMPP parts: %w", err)
	}
	var keys []store.SMPPPartKey
	for rows.Next() {
		var k store.SMPPPartKey
		if err := rows.Scan(&k.AccountID, &k.Source, &k.Dest, &k.Ref, &k.Total); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading expired SMPP parts: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading expired SMPP parts: %w", err)
	}
	var out [][]store.SMPPPart
	for _, k := range keys {
		set, err := s.SMPPPartSet(ctx, k)
		if err != nil {
			return nil, err
		}
		if len(set) > 0 {
			out = append(out, set)
		}
	}
	return out, nil
}
