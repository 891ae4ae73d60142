package store

import (
	"context"
	"sync"
	"time"
)

// AccountCache keeps recently read accounts for a short time, for hot paths
// (dispatch, webhooks) that need an account's settings per message. Changes
// to an account are seen within the TTL.
type AccountCache struct {
	accounts Accounts
	ttl      time.Duration
	mu       sync.Mutex
	entries  map[string]cachedAccount
}

type cachedAccount struct {
	a       *Account
	expires time.Time
}

// NewAccountCache caches reads from accounts; ttl 0 means 10 seconds.
func NewAccountCache(accounts Accounts, ttl time.Duration) *AccountCache {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	return &AccountCache{accounts: accounts, ttl: ttl, entries: make(map[string]cachedAccount)}
}

// Get returns the account, from the cache when fresh. Callers must not
// modify it.
func (c *AccountCache) Get(ctx context.Context, id string) (*Account, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.a, nil
	}
	a, err := c.accounts.GetAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) > 10000 {
		clear(c.entries)
	}
	c.entries[id] = cachedAccount{a: a, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return a, nil
}
