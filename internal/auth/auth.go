// Package auth issues access keys and authenticates requests that carry them.
//
// A key is shown once, when it is created; the store keeps only its SHA-256.
// Keys start with "live_" or "test_" like MessageBird's, so a person can tell
// them apart; the prefix is informative only — the stored flag decides.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/ttlcache"
)

// ErrUnauthorized means the request carries no valid key.
var ErrUnauthorized = errors.New("unauthorized")

// Principal is who a request acts as.
type Principal struct {
	AccountID string
	KeyID     string
	Test      bool // a test key: validate and answer, never send or charge
}

// NewKey makes a key, returning the text to show once and the record to store.
func NewKey(accountID string, test bool) (string, *store.AccessKey) {
	prefix := "live_"
	if test {
		prefix = "test_"
	}
	text := prefix + ids.Secret(30)
	return text, &store.AccessKey{
		ID:        ids.New(),
		AccountID: accountID,
		Hash:      Hash(text),
		Test:      test,
		Hint:      text[len(text)-4:],
		CreatedAt: time.Now().UTC(),
	}
}

// Hash is the stored form of a key.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Authenticator checks keys against the store, caching hits briefly so the
// hot path does not read the database for every request.
type Authenticator struct {
	keys  store.Accounts
	cache *ttlcache.Cache[string, Principal] // by the key's hash
}

const maxCached = 10000

// NewAuthenticator returns an Authenticator; ttl 0 means 30 seconds.
func NewAuthenticator(keys store.Accounts, ttl time.Duration) *Authenticator {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	a := &Authenticator{keys: keys}
	a.cache = ttlcache.New(ttl, maxCached, a.lookup)
	return a
}

// FromHeader extracts the key from an "Authorization: AccessKey <key>" value.
func FromHeader(h string) (string, bool) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "AccessKey") {
		return "", false
	}
	key = strings.TrimSpace(key)
	return key, key != ""
}

// Authenticate resolves a key to its principal.
func (a *Authenticator) Authenticate(ctx context.Context, key string) (Principal, error) {
	if key == "" || len(key) > 200 {
		return Principal{}, ErrUnauthorized
	}
	return a.cache.Get(ctx, string(Hash(key)))
}

// lookup reads the key with the hash h from the store; an unknown key is
// ErrUnauthorized (and not cached).
func (a *Authenticator) lookup(ctx context.Context, h string) (Principal, error) {
	k, err := a.keys.AccessKeyByHash(ctx, []byte(h))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthorized
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticating: %w", err)
	}
	if subtle.ConstantTimeCompare(k.Hash, []byte(h)) != 1 {
		return Principal{}, ErrUnauthorized
	}
	return Principal{AccountID: k.AccountID, KeyID: k.ID, Test: k.Test}, nil
}
