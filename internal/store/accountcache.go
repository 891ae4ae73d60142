package store

import (
	"context"
	"time"

	"github.com/omnigate/omnigate/internal/ttlcache"
)

// AccountCache keeps recently read accounts for a short time, for hot paths
// (dispatch, webhooks) that need an account's settings per message. Changes
// to an account are seen within the TTL.
type AccountCache struct {
	cache *ttlcache.Cache[string, *Account]
}

// NewAccountCache caches reads from accounts; ttl 0 means 10 seconds.
func NewAccountCache(accounts Accounts, ttl time.Duration) *AccountCache {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	return &AccountCache{cache: ttlcache.New(ttl, 10000, accounts.GetAccount)}
}

// Get returns the account, from the cache when fresh. Callers must not
// modify it.
func (c *AccountCache) Get(ctx context.Context, id string) (*Account, error) {
	return c.cache.Get(ctx, id)
}
