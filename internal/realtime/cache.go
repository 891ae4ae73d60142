package realtime

import (
	"strings"
	"sync"
	"time"
)

// Cache channels.
//
// A channel whose name, after private-encrypted-, private- or presence-,
// begins with cache- keeps its last event: a new subscriber receives it
// right after pusher_internal:subscription_succeeded, or pusher:cache_miss
// when there is none. The event is kept for CacheTTL after it was
// published, as Pusher keeps it for 30 minutes.
//
// Each node keeps its own copy. The node that publishes keeps the frame as
// it delivers it (under the hub's lock, so a subscriber there gets either
// the cached event or the live one), and sends it with its publication
// time on the cluster's state subject, which every node hears (events
// reach only nodes with subscribers); the others keep it unless they hold
// a newer one. So a subscriber on any node gets the last event published
// while its node was up. A node that starts after the event was published
// has nothing cached and answers cache_miss (see docs/realtime.md).

const prefixCache = "cache-"

// CacheTTL is how long a cache channel keeps its last event.
const CacheTTL = 30 * time.Minute

// maxCachedChannels bounds the cache channels a node keeps an event (and
// a cache_miss time) for; past it, expired entries are dropped and, if
// none are, new channels are not cached (their subscribers get cache_miss).
const maxCachedChannels = 100_000

// cacheMissWebhookEvery spaces cache_miss webhooks of one channel (per
// node).
const cacheMissWebhookEvery = time.Minute

// isCacheChannel reports whether a channel keeps its last event.
func isCacheChannel(name string) bool {
	for _, p := range []string{prefixEncrypted, prefixPrivate, prefixPresence} {
		if strings.HasPrefix(name, p) {
			name = name[len(p):]
			break
		}
	}
	return strings.HasPrefix(name, prefixCache)
}

type cachedEvent struct {
	frame []byte
	tags  map[string]string // for subscribers with a tag filter
	at    time.Time
}

// eventCache holds the last event of each cache channel here, and when a
// cache_miss webhook was last queued for each.
type eventCache struct {
	mu     sync.Mutex
	ttl    time.Duration
	max    int
	last   map[chanKey]cachedEvent
	missed map[chanKey]time.Time
}

func newEventCache(ttl time.Duration) *eventCache {
	return &eventCache{ttl: ttl, max: maxCachedChannels, last: map[chanKey]cachedEvent{}, missed: map[chanKey]time.Time{}}
}

// put keeps frame as the channel's last event unless a newer one is kept
// (updates from other nodes may arrive late).
func (e *eventCache) put(k chanKey, frame []byte, at time.Time) { e.putTagged(k, frame, nil, at) }

// putTagged is put for an event with tags.
func (e *eventCache) putTagged(k chanKey, frame []byte, tags map[string]string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cur, ok := e.last[k]
	if ok && cur.at.After(at) {
		return
	}
	if !ok && len(e.last) >= e.max {
		now := time.Now()
		if at.After(now) {
			now = at
		}
		e.sweepLocked(now)
		if len(e.last) >= e.max {
			return
		}
	}
	e.last[k] = cachedEvent{frame: frame, tags: tags, at: at}
}

// get returns the channel's last event if it is younger than the TTL.
func (e *eventCache) get(k chanKey, now time.Time) []byte {
	frame, _ := e.getTagged(k, now)
	return frame
}

// getTagged is get with the event's tags.
func (e *eventCache) getTagged(k chanKey, now time.Time) ([]byte, map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, ok := e.last[k]
	if !ok {
		return nil, nil
	}
	if now.Sub(ev.at) >= e.ttl {
		delete(e.last, k)
		return nil, nil
	}
	return ev.frame, ev.tags
}

// missWebhook reports whether a cache_miss webhook is due for the channel
// (at most one per cacheMissWebhookEvery) and records it.
func (e *eventCache) missWebhook(k chanKey, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.missed[k]
	if ok && now.Sub(t) < cacheMissWebhookEvery {
		return false
	}
	if !ok && len(e.missed) >= e.max {
		e.sweepLocked(now)
		if len(e.missed) >= e.max {
			return false
		}
	}
	e.missed[k] = now
	return true
}

// sweep forgets expired events and old cache_miss times.
func (e *eventCache) sweep(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sweepLocked(now)
}

func (e *eventCache) sweepLocked(now time.Time) {
	for k, ev := range e.last {
		if now.Sub(ev.at) >= e.ttl {
			delete(e.last, k)
		}
	}
	for k, t := range e.missed {
		if now.Sub(t) >= cacheMissWebhookEvery {
			delete(e.missed, k)
		}
	}
}
