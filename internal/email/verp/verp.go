// Package verp encodes which message and recipient an email is, into the
// local part of addresses that mail comes back to: the return path (VERP:
// bounces and feedback reports arrive at a per-recipient address) and the
// List-Unsubscribe mailto. An HMAC-SHA256 tag over the message id and
// recipient sequence makes the addresses unforgeable, so nobody can bounce,
// complain about or unsubscribe from another message by guessing.
//
// Forms, all lower case (some MTAs lowercase local parts; decoding ignores
// case):
//
//	b-<message id>-<seq>-<tag>   return path (bounces, feedback reports)
//	u-<message id>-<seq>-<tag>   unsubscribe mailto
//
// The tag is the first 80 bits of HMAC-SHA256(secret, purpose ‖ id ‖ seq)
// in base32 (16 characters). With omnigate's 32-character message ids the
// local part is at most 64 characters (RFC 5321) for seq below 10^10.
package verp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strconv"
	"strings"
)

// MaxLocal is the longest local part SMTP allows (RFC 5321 4.5.3.1.1).
const MaxLocal = 64

const (
	bouncePrefix = "b-"
	unsubPrefix  = "u-"
	tagLen       = 16 // base32 characters: 80 bits
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Encode returns the return-path local part for a message's recipient.
func Encode(secret []byte, messageID string, seq int) string {
	return encode(secret, bouncePrefix, messageID, seq)
}

// Decode reads a return-path local part; ok is false for anything Encode
// did not make with this secret.
func Decode(secret []byte, local string) (messageID string, seq int, ok bool) {
	return decode(secret, bouncePrefix, local)
}

// Unsubscribe returns the local part of the List-Unsubscribe mailto for
// a message's recipient.
func Unsubscribe(secret []byte, messageID string, seq int) string {
	return encode(secret, unsubPrefix, messageID, seq)
}

// DecodeUnsubscribe reads an unsubscribe local part.
func DecodeUnsubscribe(secret []byte, local string) (messageID string, seq int, ok bool) {
	return decode(secret, unsubPrefix, local)
}

func encode(secret []byte, prefix, messageID string, seq int) string {
	id := strings.ToLower(messageID)
	s := strconv.Itoa(seq)
	return prefix + id + "-" + s + "-" + tag(secret, prefix, id, s)
}

func decode(secret []byte, prefix, local string) (string, int, bool) {
	if len(local) > MaxLocal || len(secret) == 0 {
		return "", 0, false
	}
	local = strings.ToLower(local)
	if !strings.HasPrefix(local, prefix) {
		return "", 0, false
	}
	rest := local[len(prefix):]
	t := strings.LastIndexByte(rest, '-')
	if t < 0 {
		return "", 0, false
	}
	s := strings.LastIndexByte(rest[:t], '-')
	if s <= 0 {
		return "", 0, false
	}
	id, seqText, got := rest[:s], rest[s+1:t], rest[t+1:]
	if !validID(id) || len(got) != tagLen {
		return "", 0, false
	}
	seq, err := strconv.Atoi(seqText)
	if err != nil || seq < 0 || strconv.Itoa(seq) != seqText {
		return "", 0, false
	}
	if !hmac.Equal([]byte(got), []byte(tag(secret, prefix, id, seqText))) {
		return "", 0, false
	}
	return id, seq, true
}

// tag is the truncated HMAC; the purpose prefix keeps a return-path tag
// from serving as an unsubscribe tag.
func tag(secret []byte, prefix, id, seq string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(prefix))
	mac.Write([]byte(id))
	mac.Write([]byte{0})
	mac.Write([]byte(seq))
	return strings.ToLower(b32.EncodeToString(mac.Sum(nil)[:10]))
}

// validID accepts ids of letters, digits and dashes (omnigate's ids are
// lower-case hex).
func validID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
