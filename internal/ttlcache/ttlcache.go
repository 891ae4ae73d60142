// Package ttlcache keeps values read from the database for a short time,
// for hot paths that need them per request or per message (accounts, API
// keys, policies, usage limits, realtime apps).
package ttlcache

import (
	"context"
	"sync"
	"time"
)

// Cache holds the values of keys, each loaded by the cache's load function
// and used until its time to live passes; a change is seen within that
// time, or at once where Delete is called. It holds at most max keys:
// past that, expired ones are dropped, and all if none were. It is safe
// for concurrent use.
type Cache[K comparable, V any] struct {
	ttl  time.Duration
	max  int
	load func(context.Context, K) (V, error)

	mu      sync.Mutex
	entries map[K]entry[V]
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// New makes a cache of values load reads, kept for ttl, of at most max
// keys.
func New[K comparable, V any](ttl time.Duration, max int, load func(context.Context, K) (V, error)) *Cache[K, V] {
	return &Cache[K, V]{ttl: ttl, max: max, load: load, entries: make(map[K]entry[V])}
}

// Get returns k's value: the cached one while it is fresh, else a new one
// from load, kept from the time Get started. An error from load is
// returned and not kept: the next Get loads again.
func (c *Cache[K, V]) Get(ctx context.Context, k K) (V, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.v, nil
	}
	v, err := c.load(ctx, k)
	if err != nil {
		var zero V
		return zero, err
	}
	c.mu.Lock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		for key, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, key)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[k] = entry[V]{v: v, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return v, nil
}

// Peek returns k's value while it is fresh, never loading it: for hot
// paths that may skip work when the value is at hand and must not wait
// for the database.
func (c *Cache[K, V]) Peek(k K) (V, bool) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Delete forgets k's value after a change, so the next Get loads it.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}
