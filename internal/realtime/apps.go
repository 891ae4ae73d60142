package realtime

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// NewApp makes an enabled app for an account with fresh credentials: a
// 9-digit app id (Pusher's are numeric, and some SDKs parse them as
// numbers), a 20-hex-digit key and a 40-hex-digit secret. Limits are 0
// (unlimited) until set. Store it with store.RealtimeApps.CreateRealtimeApp,
// or use CreateApp, which retries if the id or key is taken.
func NewApp(accountID, name string, now time.Time) *store.RealtimeApp {
	now = now.UTC().Truncate(time.Microsecond)
	var b [4]byte
	rand.Read(b[:])
	id := 100_000_000 + binary.BigEndian.Uint32(b[:])%900_000_000
	return &store.RealtimeApp{
		ID: strconv.FormatUint(uint64(id), 10), AccountID: accountID, Name: name,
		Key: randomHex(10), Secret: randomHex(20), Enabled: true, CreatedAt: now, UpdatedAt: now,
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// CreateApp stores a new app made by NewApp, after applying edit (may be
// nil) to set limits and webhooks. It returns store.ErrNotFound if the
// account does not exist.
func CreateApp(ctx context.Context, st store.RealtimeApps, accountID, name string, edit func(*store.RealtimeApp)) (*store.RealtimeApp, error) {
	for attempt := 0; attempt < 5; attempt++ {
		app := NewApp(accountID, name, time.Now())
		if edit != nil {
			edit(app)
		}
		err := st.CreateRealtimeApp(ctx, app)
		if errors.Is(err, store.ErrConflict) {
			continue // an id or key collided: draw again
		}
		if err != nil {
			return nil, err
		}
		return app, nil
	}
	return nil, fmt.Errorf("creating realtime app: no free id after 5 attempts")
}

// RotateSecret gives an app a new secret; the current one stays valid for
// grace (DefaultSecretGrace when 0), so clients and servers can switch
// without an outage.
func RotateSecret(ctx context.Context, st store.RealtimeApps, accountID, appID string, grace time.Duration) (*store.RealtimeApp, error) {
	if grace <= 0 {
		grace = DefaultSecretGrace
	}
	return st.RotateRealtimeSecret(ctx, accountID, appID, randomHex(20), time.Now().Add(grace))
}

// appCache keeps apps read from the store for the TTL, by key and by id,
// including "not found" (so unknown keys do not reach the database each
// time).
type appCache struct {
	st  store.RealtimeApps
	ttl time.Duration

	mu    sync.Mutex
	keys map[string]cachedApp
	ids  map[string]cachedApp
}

type cachedApp struct {
	app     *store.RealtimeApp
	err     error
	expires time.Time
}

// maxCachedApps bounds each map; past it, expired entries are dropped.
const maxCachedApps = 10000

func newAppCache(st store.RealtimeApps, ttl time.Duration) *appCache {
	return &appCache{st: st, ttl: ttl, keys: map[string]cachedApp{}, ids: map[string]cachedApp{}}
}

func (c *appCache) byKey(ctx context.Context, key string) (*store.RealtimeApp, error) {
	return c.get(ctx, c.keys, key, c.st.RealtimeAppByKey)
}

func (c *appCache) byID(ctx context.Context, id string) (*store.RealtimeApp, error) {
	return c.get(ctx, c.ids, id, c.st.RealtimeAppByID)
}

func (c *appCache) get(ctx context.Context, m map[string]cachedApp, k string, load func(context.Context, string) (*store.RealtimeApp, error)) (*store.RealtimeApp, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := m[k]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.app, e.err
	}
	app, err := load(ctx, k)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err // not cached: the next call tries again
	}
	c.mu.Lock()
	if len(m) >= maxCachedApps {
		for key, old := range m {
			if !now.Before(old.expires) {
				delete(m, key)
			}
		}
		if len(m) >= maxCachedApps {
			clear(m)
		}
	}
	m[k] = cachedApp{app: app, err: err, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return app, err
}
