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
	"log/slog"
	"strings"
	"sync"
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
	KeyID     string // the access key's id, or the personal token's
	Test      bool   // a test key: validate and answer, never send or charge
	// UserID is set when a console user's personal API token
	// authenticated the request: every route then checks Role against
	// users.Can (rest.Style does, per route).
	UserID string
	Role   string
}

// TokenPrefix starts every personal API token (informative, like the
// key prefixes: the lookup it selects decides).
const TokenPrefix = "user_"

// NewUserToken makes a personal API token of a console user, returning
// the text to show once and the record to store.
func NewUserToken(accountID, userID, name string) (string, *store.UserToken) {
	text := TokenPrefix + ids.Secret(30)
	return text, &store.UserToken{ID: ids.New(), AccountID: accountID, UserID: userID, Hash: Hash(text), Name: name,
		Hint: text[len(text)-4:], CreatedAt: time.Now().UTC()}
}

// Keys is what an Authenticator reads: access keys, the revocation
// generation, and personal API tokens.
type Keys interface {
	store.Accounts
	UserTokenByHash(ctx context.Context, hash []byte) (*store.UserToken, error)
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

// ErrRevoked means the request carries a key that was revoked. It is an
// ErrUnauthorized.
var ErrRevoked = fmt.Errorf("%w: the key is revoked", ErrUnauthorized)

// Config tunes an Authenticator. Zero values mean the defaults.
type Config struct {
	// TTL is how long a node keeps a key it authenticated in memory;
	// default 30 s. A revocation does not wait for it (RevocationCheck).
	TTL time.Duration
	// RevocationCheck is how often, at most, a node reads the revocation
	// generation (one indexed row) to learn that a key it keeps in memory
	// may have been revoked by another node or the CLI; default
	// DefaultRevocationCheck. A negative value reads it on every request.
	// A revocation made through this Authenticator (Revoked) takes effect
	// on this node at once.
	RevocationCheck time.Duration
	// TouchEvery is how often, at most, a key's last use is written to the
	// store; default 5 minutes. The writes happen off the request path.
	TouchEvery time.Duration
	// Log receives errors of those writes; default slog.Default().
	Log *slog.Logger
}

// DefaultRevocationCheck is Config.RevocationCheck's default: a key revoked
// on one node (or with the CLI) is refused by every node within this time.
const DefaultRevocationCheck = 250 * time.Millisecond

// Authenticator checks keys against the store, keeping the keys it has
// authenticated in memory so that the hot path does not read the database
// for every request. Each kept key is tagged with the revocation
// generation the node knew when it read the key; the node reads the
// generation at most every Config.RevocationCheck, and a kept key older
// than the generation is read again.
type Authenticator struct {
	keys  Keys
	cfg   Config
	cache *ttlcache.Cache[string, cached] // by the key's hash

	mu      sync.Mutex
	gen     int64         // the revocation generation last read
	checked time.Time     // when that read started
	reading chan struct{} // closed when the read in flight ends; nil when none
	epoch   int64         // moved by Revoked: a read started before does not count

	touchMu  sync.Mutex
	touched  map[string]time.Time // key id → when its last use was last noted
	pending  map[string]bool      // keys whose use is not written yet
	flushing bool
	flushes  sync.WaitGroup
}

// cached is a kept key and the generation known when it was read. A
// revoked key is kept too: it stays revoked.
type cached struct {
	p       Principal
	gen     int64
	revoked bool
}

const maxCached = 10000

// NewAuthenticator returns an Authenticator reading keys from the store.
func NewAuthenticator(keys Keys, cfg Config) *Authenticator {
	if cfg.TTL <= 0 {
		cfg.TTL = 30 * time.Second
	}
	if cfg.RevocationCheck == 0 {
		cfg.RevocationCheck = DefaultRevocationCheck
	}
	if cfg.TouchEvery <= 0 {
		cfg.TouchEvery = 5 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	a := &Authenticator{keys: keys, cfg: cfg, touched: make(map[string]time.Time), pending: make(map[string]bool)}
	a.cache = ttlcache.New(cfg.TTL, maxCached, a.lookup)
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

// Authenticate resolves a key to its principal. A revoked key is
// ErrRevoked, with the principal it was (for the audit log); any other
// unknown key is ErrUnauthorized.
func (a *Authenticator) Authenticate(ctx context.Context, key string) (Principal, error) {
	if key == "" || len(key) > 200 {
		return Principal{}, ErrUnauthorized
	}
	gen, err := a.generation(ctx)
	if err != nil {
		return Principal{}, err
	}
	h := string(Hash(key))
	if strings.HasPrefix(key, TokenPrefix) {
		h = "u" + h // the cache's key says which table to read
	}
	c, err := a.cache.Get(ctx, h)
	if err == nil && c.gen < gen {
		a.cache.Delete(h) // read before a revocation this node knows of
		c, err = a.cache.Get(ctx, h)
	}
	if err != nil {
		return Principal{}, err
	}
	if c.revoked {
		return c.p, ErrRevoked
	}
	a.touch(c.p.KeyID)
	return c.p, nil
}

// Revoked says a key was revoked through this node: the node's next
// request reads the generation again, whatever it read before.
func (a *Authenticator) Revoked() {
	a.mu.Lock()
	a.checked = time.Time{}
	a.epoch++
	a.mu.Unlock()
}

// generation is the revocation generation, read from the store when the
// last read is older than Config.RevocationCheck; one read at a time, the
// requests that need it meanwhile wait for it.
func (a *Authenticator) generation(ctx context.Context) (int64, error) {
	if a.cfg.RevocationCheck < 0 {
		g, err := a.keys.KeyRevocations(ctx)
		if err != nil {
			return 0, fmt.Errorf("authenticating: %w", err)
		}
		a.mu.Lock()
		a.gen = max(a.gen, g)
		g = a.gen
		a.mu.Unlock()
		return g, nil
	}
	for {
		a.mu.Lock()
		if !a.checked.IsZero() && time.Since(a.checked) < a.cfg.RevocationCheck {
			g := a.gen
			a.mu.Unlock()
			return g, nil
		}
		if wait := a.reading; wait != nil {
			a.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		done, epoch, start := make(chan struct{}), a.epoch, time.Now()
		a.reading = done
		a.mu.Unlock()

		g, err := a.keys.KeyRevocations(ctx)
		a.mu.Lock()
		a.reading = nil
		close(done)
		if err == nil {
			a.gen = max(a.gen, g)
			if epoch == a.epoch {
				a.checked = start
			}
			g = a.gen
		}
		a.mu.Unlock()
		if err != nil {
			return 0, fmt.Errorf("authenticating: %w", err)
		}
		if epoch == a.epoch {
			return g, nil
		}
		// A revocation through this node came during the read: read again.
	}
}

// lookup reads the key with the hash h from the store; an unknown key is
// ErrUnauthorized (and not kept).
func (a *Authenticator) lookup(ctx context.Context, h string) (cached, error) {
	a.mu.Lock()
	gen := a.gen // what this read is at least as new as
	a.mu.Unlock()
	if len(h) == sha256.Size+1 && h[0] == 'u' {
		return a.lookupToken(ctx, h[1:], gen)
	}
	k, err := a.keys.AccessKeyByHash(ctx, []byte(h))
	if errors.Is(err, store.ErrNotFound) {
		return cached{}, ErrUnauthorized
	}
	if err != nil {
		return cached{}, fmt.Errorf("authenticating: %w", err)
	}
	if subtle.ConstantTimeCompare(k.Hash, []byte(h)) != 1 {
		return cached{}, ErrUnauthorized
	}
	return cached{p: Principal{AccountID: k.AccountID, KeyID: k.ID, Test: k.Test}, gen: gen, revoked: k.Revoked()}, nil
}

// lookupToken reads a personal API token with the hash h: its user's
// current role comes with it, and a locked or removed user's token is
// revoked.
func (a *Authenticator) lookupToken(ctx context.Context, h string, gen int64) (cached, error) {
	t, err := a.keys.UserTokenByHash(ctx, []byte(h))
	if errors.Is(err, store.ErrNotFound) {
		return cached{}, ErrUnauthorized
	}
	if err != nil {
		return cached{}, fmt.Errorf("authenticating: %w", err)
	}
	if subtle.ConstantTimeCompare(t.Hash, []byte(h)) != 1 {
		return cached{}, ErrUnauthorized
	}
	return cached{p: Principal{AccountID: t.AccountID, KeyID: t.ID, UserID: t.UserID, Role: t.Role}, gen: gen, revoked: t.Revoked()}, nil
}

// touch notes that a key was used; the note is written off the request
// path, at most every Config.TouchEvery per key.
func (a *Authenticator) touch(id string) {
	now := time.Now()
	a.touchMu.Lock()
	defer a.touchMu.Unlock()
	if last, ok := a.touched[id]; ok && now.Sub(last) < a.cfg.TouchEvery {
		return
	}
	if len(a.touched) >= maxCached {
		clear(a.touched)
	}
	a.touched[id] = now
	a.pending[id] = true
	if a.flushing {
		return
	}
	a.flushing = true
	a.flushes.Add(1)
	go func() {
		defer a.flushes.Done()
		a.flush()
	}()
}

// flush writes the pending notes of use.
func (a *Authenticator) flush() {
	for {
		a.touchMu.Lock()
		ids := make([]string, 0, len(a.pending))
		for id := range a.pending {
			ids = append(ids, id)
		}
		clear(a.pending)
		if len(ids) == 0 {
			a.flushing = false
			a.touchMu.Unlock()
			return
		}
		a.touchMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.keys.TouchAccessKeys(ctx, ids, time.Now()); err != nil {
			a.cfg.Log.Warn("auth: recording when keys were last used", "keys", len(ids), "err", err)
		}
		cancel()
	}
}

// Stop waits for the writes of last use in flight (call it before closing
// the store), within ctx.
func (a *Authenticator) Stop(ctx context.Context) error {
	done := make(chan struct{})
	go func() { a.flushes.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
