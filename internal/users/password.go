package users

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (RFC 9106's second recommended option, with 64 MiB):
// memory in KiB, passes, lanes, and the sizes of salt and hash.
// DefaultPasswordMemory is argon2id's memory cost in KiB (64 MiB).
const DefaultPasswordMemory = 64 * 1024

const (
	argonTime    = 3
	argonThreads = 2
	saltLen      = 16
	hashLen      = 32
)

// Password bounds: long enough to resist guessing, short enough that
// hashing one is never a way to load the server.
const (
	MinPassword = 12
	MaxPassword = 256
)

// ErrWeakPassword means a password is shorter than MinPassword or longer
// than MaxPassword.
var ErrWeakPassword = fmt.Errorf("a password must be %d to %d characters", MinPassword, MaxPassword)

// HashPassword hashes a password with argon2id, in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), so that the parameters can be
// raised later without losing old hashes.
func HashPassword(pw string) (string, error) { return hashPassword(pw, DefaultPasswordMemory) }

// hashPassword is HashPassword with a memory cost in KiB.
func hashPassword(pw string, argonMemory uint32) (string, error) {
	if n := len([]rune(pw)); n < MinPassword || len(pw) > MaxPassword {
		return "", ErrWeakPassword
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	h := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, hashLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(h)), nil
}

var errBadHash = errors.New("users: not an argon2id hash")

// CheckPassword reports whether pw matches the hash, in constant time. An
// empty or malformed hash matches nothing.
func CheckPassword(hash, pw string) bool {
	ok, _ := checkPassword(hash, pw)
	return ok
}

func checkPassword(hash, pw string) (bool, error) {
	if len(pw) > MaxPassword {
		return false, nil
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 256*1024 || t == 0 || t > 10 || p == 0 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is a hash of the cost given, checked when a sign-in names no
// user, so that an unknown email takes as long as a wrong password.
func dummyHash(memory uint32) func() string {
	return sync.OnceValue(func() string {
		h, _ := hashPassword("not-a-password-anyone-has", memory)
		return h
	})
}
