package realtime_test

import (
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
)

func TestCacheChannels(t *testing.T) {
	hook := newHookRecorder(t)
	b := setup(t, setupOpts{cfg: realtime.Config{ChannelCacheTTL: 700 * time.Millisecond},
		app: func(a *store.RealtimeApp) { a.WebhookURL = hook.srv.URL }})
	hook.key = func() string { return b.app.Key }
	hook.secret = func() string { return b.app.Secret }

	// Nothing published yet: cache_miss right after the success.
	first := b.connect(t)
	first.subscribe("cache-scores", "", "")
	if f := first.expect("pusher:cache_miss"); f.Channel != "cache-scores" {
		t.Fatalf("cache_miss on %q", f.Channel)
	}
	eventually(t, "the cache_miss webhook", func() bool { return hook.count("cache_miss cache-scores") == 1 })

	// Two events: a new subscriber gets the last one only, once.
	b.trigger(t, []string{"cache-scores"}, "score", "1-0", nil)
	b.trigger(t, []string{"cache-scores"}, "score", "2-0", nil)
	first.expect("score")
	first.expect("score")
	late := b.connect(t)
	late.subscribe("cache-scores", "", "")
	if f := late.expect("score"); f.dataString(t) != "2-0" {
		t.Fatalf("cached event %s, want the last", f.Data)
	}
	late.quiet()

	// Private and presence cache channels keep theirs too; plain ones none.
	for _, ch := range []string{"private-cache-a", "private-encrypted-cache-a", "presence-cache-a"} {
		b.trigger(t, []string{ch}, "ev", ch, nil)
	}
	c := b.connect(t)
	c.subscribe("private-cache-a", b.auth(c, "private-cache-a", ""), "")
	if f := c.expect("ev"); f.dataString(t) != "private-cache-a" {
		t.Fatalf("private cache %s", f.Data)
	}
	c.subscribe("private-encrypted-cache-a", b.auth(c, "private-encrypted-cache-a", ""), "")
	c.expect("ev")
	cd := `{"user_id":"7"}`
	c.subscribe("presence-cache-a", b.auth(c, "presence-cache-a", cd), cd)
	if f := c.expect("ev"); f.Channel != "presence-cache-a" {
		t.Fatalf("presence cache on %q", f.Channel)
	}
	b.trigger(t, []string{"news"}, "ev", "x", nil)
	c.subscribe("news", "", "")
	c.quiet()

	// A second miss within the minute sends no second webhook.
	other := b.connect(t)
	other.subscribe("cache-empty", "", "")
	other.expect("pusher:cache_miss")
	other2 := b.connect(t)
	other2.subscribe("cache-empty", "", "")
	other2.expect("pusher:cache_miss")
	eventually(t, "the second channel's webhook", func() bool { return hook.count("cache_miss cache-empty") >= 1 })
	time.Sleep(150 * time.Millisecond)
	if n := hook.count("cache_miss cache-empty"); n != 1 {
		t.Fatalf("%d cache_miss webhooks for one channel within a minute", n)
	}

	// After the TTL the event is gone.
	time.Sleep(800 * time.Millisecond)
	gone := b.connect(t)
	gone.subscribe("cache-scores", "", "")
	gone.expect("pusher:cache_miss")
}

// A cache channel's last event reaches subscribers of the other node too.
func TestClusterCacheChannels(t *testing.T) {
	t.Run("MemoryBus", func(t *testing.T) { testClusterCacheChannels(t, false) })
	t.Run("NATS", func(t *testing.T) { testClusterCacheChannels(t, true) })
}

func testClusterCacheChannels(t *testing.T, overNATS bool) {
	{
		a, b, _, _ := newCluster(t, overNATS, nil)
		onA := a.connect(t)
		onA.subscribe("cache-x", "", "")
		onA.expect("pusher:cache_miss")
		a.trigger(t, []string{"cache-x"}, "ev", "from-a", nil)
		onA.expect("ev")
		// The event reaches B through the broker and B keeps it.
		eventually(t, "B to cache A's event", func() bool {
			onB := b.connect(t)
			f := onB.subscribe("cache-x", "", "")
			_ = f
			got := onB.next()
			return got.Event == "ev" && got.dataString(t) == "from-a"
		})
		// A client event on a private cache channel is cached on both.
		onA.subscribe("private-cache-c", a.auth(onA, "private-cache-c", ""), "")
		onA.expect("pusher:cache_miss")
		onA.send(map[string]any{"event": "client-x", "channel": "private-cache-c", "data": map[string]any{"n": 1}})
		eventually(t, "B to cache A's client event", func() bool {
			onB := b.connect(t)
			onB.subscribe("private-cache-c", b.auth(onB, "private-cache-c", ""), "")
			return onB.next().Event == "client-x"
		})
	}
}
