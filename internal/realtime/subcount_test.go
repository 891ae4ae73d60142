package realtime_test

import (
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
)

func countOf(t *testing.T, c *client, channel string) int {
	t.Helper()
	f := c.expect("pusher_internal:subscription_count")
	if f.Channel != channel {
		t.Fatalf("subscription_count on %q, want %q", f.Channel, channel)
	}
	var d struct {
		N *int `json:"subscription_count"`
	}
	f.decode(t, &d)
	if d.N == nil {
		t.Fatalf("subscription_count data %s", f.Data)
	}
	return *d.N
}

func TestSubscriptionCount(t *testing.T) {
	hook := newHookRecorder(t)
	cfg := realtime.Config{SubscriptionCountInterval: 50 * time.Millisecond}
	b := setup(t, setupOpts{cfg: cfg, app: func(a *store.RealtimeApp) {
		a.SubscriptionCount, a.WebhookURL = true, hook.srv.URL
	}})
	hook.key = func() string { return b.app.Key }
	hook.secret = func() string { return b.app.Secret }
	c1, c2 := b.connect(t), b.connect(t)
	c1.subscribe("room", "", "")
	if n := countOf(t, c1, "room"); n != 1 {
		t.Fatalf("count %d, want 1", n)
	}
	c2.subscribe("private-room", b.auth(c2, "private-room", ""), "")
	countOf(t, c2, "private-room")
	c2.subscribe("room", "", "")
	if n := countOf(t, c1, "room"); n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	if n := countOf(t, c2, "room"); n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	c2.send(map[string]any{"event": "pusher:unsubscribe", "data": map[string]any{"channel": "room"}})
	if n := countOf(t, c1, "room"); n != 1 {
		t.Fatalf("count %d after leaving, want 1", n)
	}
	// A burst of subscriptions ends with the final count.
	var burst []*client
	for range 5 {
		c := b.connect(t)
		c.send(map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "room"}})
		burst = append(burst, c)
	}
	for _, c := range burst {
		c.expect("pusher_internal:subscription_succeeded")
	}
	untilCount(t, c1, "room", 6)
	c1.quiet()
	// Presence channels count subscriptions, not members.
	cd := `{"user_id":"1"}`
	c1.subscribe("presence-x", b.auth(c1, "presence-x", cd), cd)
	countOf(t, c1, "presence-x")
	c2.subscribe("presence-x", b.auth(c2, "presence-x", cd), cd)
	if n := countOf(t, c1, "presence-x"); n != 2 {
		t.Fatalf("presence count %d, want 2 (one user, two subscriptions)", n)
	}
	// The webhook carries the count.
	eventually(t, "a subscription_count webhook with 6", func() bool {
		hook.mu.Lock()
		defer hook.mu.Unlock()
		for _, e := range hook.events {
			if e["name"] == "subscription_count" && e["channel"] == "room" && e["subscription_count"] == float64(6) {
				return true
			}
		}
		return false
	})
}

func TestSubscriptionCountOff(t *testing.T) {
	b := setup(t, setupOpts{cfg: realtime.Config{SubscriptionCountInterval: 20 * time.Millisecond}})
	c1, c2 := b.connect(t), b.connect(t)
	c1.subscribe("room", "", "")
	c2.subscribe("room", "", "")
	time.Sleep(100 * time.Millisecond)
	c1.quiet()
	c2.quiet()
}

// Counts are of the whole cluster, on both nodes.
func TestClusterSubscriptionCount(t *testing.T) {
	t.Run("MemoryBus", func(t *testing.T) { testClusterSubscriptionCount(t, false) })
	t.Run("NATS", func(t *testing.T) { testClusterSubscriptionCount(t, true) })
}

func testClusterSubscriptionCount(t *testing.T, overNATS bool) {
	cfg := clusterCfg
	cfg.SubscriptionCountInterval = 50 * time.Millisecond
	a, b, _, _ := newClusterWith(t, overNATS, cfg, func(app *store.RealtimeApp) { app.SubscriptionCount = true })
	onA, onB := a.connect(t), b.connect(t)
	onA.subscribe("room", "", "")
	if n := countOf(t, onA, "room"); n != 1 {
		t.Fatalf("A: %d, want 1", n)
	}
	onB.subscribe("room", "", "")
	untilCount(t, onB, "room", 2)
	untilCount(t, onA, "room", 2)
	onB.c.CloseNow()
	untilCount(t, onA, "room", 1)
}

// untilCount reads subscription counts until one is n (each read fails
// after 5 s without a frame).
func untilCount(t *testing.T, c *client, channel string, n int) {
	t.Helper()
	for countOf(t, c, channel) != n {
		continue
	}
}
