package sqlstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Addresses at rest (docs/operations.md, "Data at rest"; migration 054).
// A recipient's address (recipients.address) and an inbound message's
// originator (messages.originator, direction mo) are sealed with the
// account's data key like bodies (msgcrypt.go), with the column, message
// and recipient as associated data. Beside each, a keyed hash
// (recipients.address_hash, messages.originator_hash) is what every search
// by address compares: HMAC-SHA256 of the address (an email lower-cased)
// under a key derived from the account's oldest data key, so that
//   - the same address hashes alike on every node and after master key
//     rotations, and differently in two accounts;
//   - after `account shred` nobody can compute the key again, so the hashes
//     left in the database and its backups confirm no number.
// Rows written in clear (by an earlier release, or by a store without a
// keyring) have an empty hash and are compared in clear: every condition
// is "hash matches, or no hash and the address matches" (addressMatch).

// addressPurpose names the derived key of address hashes.
const addressPurpose = "address-hash"

// noHash is the hash searched for when the account has no key: it matches
// no row (real hashes are 32 hex digits, clear rows have "").
const noHash = "-"

// normalAddress is what an address hashes as: email addresses lower-cased,
// as the privacy requests compare them.
func normalAddress(a string) string {
	if strings.Contains(a, "@") {
		return strings.ToLower(a)
	}
	return a
}

// addressKey is the account's address hash key: nil when addresses are
// written in clear (no keyring, or MessagesInClear) or the account has no
// data key yet.
func (s *Store) addressKey(ctx context.Context, accountID string) []byte {
	if s.keys == nil || s.messagesInClear || accountID == "" {
		return nil
	}
	return s.keys.DeriveFor(ctx, accountID, addressPurpose)
}

// addressHash is the stored hash of an address under key: 128 bits of
// HMAC-SHA256, in hex; "" without a key.
func addressHash(key []byte, addr string) string {
	if key == nil || addr == "" {
		return ""
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(normalAddress(addr)))
	var sum [sha256.Size]byte
	return hex.EncodeToString(mac.Sum(sum[:0])[:16])
}

// searchHash is the hash to search an account's rows for: noHash when the
// account has no key (only rows in clear can match then).
func (s *Store) searchHash(ctx context.Context, accountID, addr string) string {
	if s.keys == nil || accountID == "" {
		return noHash
	}
	// Even with MessagesInClear, rows sealed before are searched.
	if h := addressHash(s.keys.DeriveFor(ctx, accountID, addressPurpose), addr); h != "" {
		return h
	}
	return noHash
}

// addressMatch is the condition that the row's address (col, with its hash
// in hcol) is the identifier; it takes the arguments searchHash and the
// identifier (lower-cased if an email), in that order. Each branch names
// the predicate of its partial index (migration 054) so that both engines
// use them.
func addressMatch(hcol, col, identifier string) string {
	return "((" + hcol + " = ? AND " + hcol + " <> '') OR (" + hcol + " = '' AND " + addressIs(col, identifier) + "))"
}

// matchArgs are addressMatch's arguments for an identifier in an account.
func (s *Store) matchArgs(ctx context.Context, accountID, identifier string) []any {
	return []any{s.searchHash(ctx, accountID, identifier), normalAddress(identifier)}
}

func recipientAAD(messageID string, seq int) string {
	return "recipients.address/" + messageID + "/" + strconv.Itoa(seq)
}

func originatorAAD(messageID string) string { return "messages.originator/" + messageID }

// sealAddress seals an address with the account's key and hashes it with
// key (addressKey); without a key it stays in clear with no hash.
func (s *Store) sealAddress(ctx context.Context, key []byte, accountID, aad, addr string) (stored, hash string, err error) {
	if key == nil || addr == "" {
		return addr, "", nil
	}
	if stored, err = s.sealText(ctx, accountID, aad, addr); err != nil {
		return "", "", err
	}
	return stored, addressHash(key, addr), nil
}

// openAddress opens what sealAddress stored; a shredded address reads as
// store.Erased.
func (s *Store) openAddress(ctx context.Context, aad string, v *string) error {
	erased, err := s.openText(ctx, aad, v)
	if err != nil {
		return fmt.Errorf("reading an address: %w", err)
	}
	if erased {
		*v = store.Erased
	}
	return nil
}

// partSource is what inbound_parts.source holds for a sender: the parts of
// a concatenated inbound SMS wait there before anyone knows whose they are,
// so the number is kept as a keyed hash under a key derived from the
// platform's data key ("h:" and 32 hex digits). Nothing reads it back: it
// only matches a message's parts to each other, and erasure to the number.
// Without a keyring (or with MessagesInClear) it is the number.
func (s *Store) partSource(source string) string {
	if s.keys == nil || s.messagesInClear || source == "" {
		return source
	}
	key := s.keys.Derive("inbound-part-source")
	if key == nil {
		return source
	}
	return "h:" + addressHash(key, source)
}

// auditPurpose names the derived key of the audit log's pseudonyms.
const auditPurpose = "audit-pseudonyms"

// AuditKey is the key that pseudonymises personal identifiers in the audit
// log's entries about an account (audit.Log.UseKeys): derived from the
// account's data key (made if it has none yet), so that shredding the
// account unlinks them; for platform-wide entries ("") from the platform's.
// nil without a keyring.
func (s *Store) AuditKey(ctx context.Context, accountID string) []byte {
	if s.keys == nil {
		return nil
	}
	if accountID == "" {
		return s.keys.Derive(auditPurpose)
	}
	if err := s.keys.EnsureScope(ctx, accountID); err != nil {
		return nil
	}
	return s.keys.DeriveFor(ctx, accountID, auditPurpose)
}

// SealClearMessages seals what an earlier release (or a store without a
// keyring) stored in clear, for up to max messages: the recipients'
// addresses (with their hashes), the messages' bodies and contents, and
// inbound originators (with theirs). It finds them through the partial
// index of recipients without a hash (migration 054), so a pass over a
// database with nothing left to seal costs one index probe. Each value is
// rewritten only if it is still what was read, so a change made meanwhile
// (an erasure, a redaction) wins. It returns how many values it sealed per
// column. The maintenance loop runs it until nothing is left.
func (s *Store) SealClearMessages(ctx context.Context, max int) (map[string]int, error) {
	done := map[string]int{}
	if s.keys == nil || s.messagesInClear || max <= 0 {
		return done, nil
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT DISTINCT message_id FROM recipients
		WHERE address_hash = '' AND address <> '' AND address <> ? AND address <> ? AND address NOT LIKE ? LIMIT ?`), Erased, store.Erased, keyring.Prefix+"%", max)
	if err != nil {
		return done, fmt.Errorf("finding messages stored in clear: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return done, fmt.Errorf("finding messages stored in clear: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return done, fmt.Errorf("finding messages stored in clear: %w", err)
	}
	err = inChunks(ids, maxInList, func(chunk []string) error { return s.sealClearChunk(ctx, chunk, done) })
	return done, err
}

// sealClearChunk is SealClearMessages for a few message ids.
func (s *Store) sealClearChunk(ctx context.Context, ids []string, done map[string]int) error {
	type update struct {
		kind, q string
		args    []any
	}
	var updates []update
	in, args := inList(ids)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, account_id, direction, originator, originator_hash, body, content
		FROM messages WHERE id IN (`+in+`)`), args...)
	if err != nil {
		return fmt.Errorf("reading messages stored in clear: %w", err)
	}
	type msgRow struct{ id, account, direction, originator, originatorHash, body, content string }
	var msgs []msgRow
	for rows.Next() {
		var m msgRow
		if err := rows.Scan(&m.id, &m.account, &m.direction, &m.originator, &m.originatorHash, &m.body, &m.content); err != nil {
			rows.Close()
			return fmt.Errorf("reading messages stored in clear: %w", err)
		}
		msgs = append(msgs, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading messages stored in clear: %w", err)
	}
	accountOf := map[string]string{}
	for _, m := range msgs {
		accountOf[m.id] = m.account
		if err := s.ensureScopes(ctx, m.account); err != nil {
			return err
		}
		key := s.addressKey(ctx, m.account)
		if key == nil {
			continue
		}
		if (m.body != "" && !keyring.Sealed(m.body)) || (m.content != "" && !keyring.Sealed(m.content)) {
			body, content := m.body, m.content
			if !keyring.Sealed(body) {
				if body, err = s.sealText(ctx, m.account, "messages.body/"+m.id, body); err != nil {
					return err
				}
			}
			if !keyring.Sealed(content) {
				if content, err = s.sealText(ctx, m.account, "messages.content/"+m.id, content); err != nil {
					return err
				}
			}
			updates = append(updates, update{"messages.body", `UPDATE messages SET body = ?, content = ? WHERE id = ? AND body = ? AND content = ?`,
				[]any{body, content, m.id, m.body, m.content}})
		}
		if m.direction == string(message.MO) && m.originatorHash == "" && m.originator != "" && m.originator != Erased && !keyring.Sealed(m.originator) {
			sealed, hash, err := s.sealAddress(ctx, key, m.account, originatorAAD(m.id), m.originator)
			if err != nil {
				return err
			}
			updates = append(updates, update{"messages.originator", `UPDATE messages SET originator = ?, originator_hash = ? WHERE id = ? AND originator = ? AND originator_hash = ''`,
				[]any{sealed, hash, m.id, m.originator}})
		}
	}
	rows, err = s.r.QueryContext(ctx, s.d.rebind(`SELECT message_id, seq, address FROM recipients
		WHERE message_id IN (`+in+`) AND address_hash = '' AND address <> '' AND address <> ? AND address <> ?`), append(args, Erased, store.Erased)...)
	if err != nil {
		return fmt.Errorf("reading recipients stored in clear: %w", err)
	}
	type rcptRow struct {
		id      string
		seq     int
		address string
	}
	var rcpts []rcptRow
	for rows.Next() {
		var r rcptRow
		if err := rows.Scan(&r.id, &r.seq, &r.address); err != nil {
			rows.Close()
			return fmt.Errorf("reading recipients stored in clear: %w", err)
		}
		rcpts = append(rcpts, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading recipients stored in clear: %w", err)
	}
	for _, r := range rcpts {
		account := accountOf[r.id]
		key := s.addressKey(ctx, account)
		if key == nil || keyring.Sealed(r.address) {
			continue
		}
		sealed, hash, err := s.sealAddress(ctx, key, account, recipientAAD(r.id, r.seq), r.address)
		if err != nil {
			return err
		}
		updates = append(updates, update{"recipients.address", `UPDATE recipients SET address = ?, address_hash = ? WHERE message_id = ? AND seq = ? AND address = ? AND address_hash = ''`,
			[]any{sealed, hash, r.id, r.seq, r.address}})
	}
	if len(updates) == 0 {
		return nil
	}
	return s.inTx(ctx, "sealing messages stored in clear", func(tx *sql.Tx) error {
		for _, u := range updates {
			res, err := tx.ExecContext(ctx, s.d.rebind(u.q), u.args...)
			if err != nil {
				return fmt.Errorf("sealing %s: %w", u.kind, err)
			}
			n, _ := res.RowsAffected()
			done[u.kind] += int(n)
		}
		return nil
	})
}
