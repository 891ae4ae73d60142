// Package ids makes identifiers and secrets.
//
// Identifiers are 32 lower-case hex characters, as MessageBird's are. The
// first 12 encode the creation time in milliseconds so that new rows land at
// the end of primary-key indexes instead of at random places; the other 20
// are random, so ids cannot be guessed.
package ids

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// New returns a time-ordered, unguessable 32-character hex id.
func New() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Secret returns n random characters from [0-9A-Za-z], for API keys and
// signing keys (n=30 carries about 178 bits).
func Secret(n int) string {
	out := make([]byte, n)
	var buf [64]byte
	for i := 0; i < n; {
		rand.Read(buf[:])
		for _, c := range buf {
			// 62*4 = 248: reject the top values to keep characters uniform.
			if c < 248 && i < n {
				out[i] = alphabet[c%62]
				i++
			}
		}
	}
	return string(out)
}
