package sqlstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

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
