package realtime

import (
	"fmt"
	"testing"
	"time"
)

// The cache is bounded: past max channels, new ones are not kept until
// old ones expire; a late update never replaces a newer event.
func TestEventCacheBounds(t *testing.T) {
	e := newEventCache(time.Minute)
	e.max = 3
	now := time.Now()
	for i := range 4 {
		e.put(chanKey{"a", fmt.Sprint("cache-", i)}, []byte{byte('0' + i)}, now)
	}
	if len(e.last) != 3 || e.get(chanKey{"a", "cache-3"}, now) != nil {
		t.Fatalf("over the bound: %d kept", len(e.last))
	}
	// Updating a kept channel still works when full.
	e.put(chanKey{"a", "cache-0"}, []byte("new"), now.Add(time.Second))
	if got := e.get(chanKey{"a", "cache-0"}, now.Add(time.Second)); string(got) != "new" {
		t.Fatalf("update when full: %q", got)
	}
	// An older update (from another node, late) is ignored.
	e.put(chanKey{"a", "cache-0"}, []byte("old"), now)
	if got := e.get(chanKey{"a", "cache-0"}, now.Add(time.Second)); string(got) != "new" {
		t.Fatalf("late update replaced a newer event: %q", got)
	}
	// Expired entries make room.
	e.put(chanKey{"a", "cache-9"}, []byte("9"), now.Add(2*time.Minute))
	if got := e.get(chanKey{"a", "cache-9"}, now.Add(2*time.Minute)); string(got) != "9" {
		t.Fatalf("no room after expiry: %q", got)
	}
	// cache_miss webhooks: once per channel per minute, bounded too.
	if !e.missWebhook(chanKey{"a", "x"}, now) || e.missWebhook(chanKey{"a", "x"}, now.Add(30*time.Second)) {
		t.Fatal("cache_miss webhook not spaced")
	}
	if !e.missWebhook(chanKey{"a", "x"}, now.Add(61*time.Second)) {
		t.Fatal("cache_miss webhook not sent after a minute")
	}
	for i := range 5 {
		e.missWebhook(chanKey{"b", fmt.Sprint(i)}, now.Add(61*time.Second))
	}
	if len(e.missed) > 3 {
		t.Fatalf("%d cache_miss times kept, bound 3", len(e.missed))
	}
}
