package realtime_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/realtime/fanout"
	"github.com/omnigate/omnigate/internal/realtime/natstest"
	"github.com/omnigate/omnigate/internal/store"
)

// faultyBroker wraps a broker to play a node that dies (publishes nothing
// more) or loses state messages.
type faultyBroker struct {
	fanout.Broker
	dead atomic.Bool
	drop atomic.Int32 // drop this many of the next state messages
}

func (f *faultyBroker) PublishState(p []byte) error {
	if f.dead.Load() || f.drop.Add(-1) >= 0 {
		return nil
	}
	return f.Broker.PublishState(p)
}

func (f *faultyBroker) PublishEvent(app, channel string, p []byte) error {
	if f.dead.Load() {
		return nil
	}
	return f.Broker.PublishEvent(app, channel, p)
}

// clusterCfg makes failures show within a second.
var clusterCfg = realtime.Config{Cluster: realtime.ClusterConfig{
	HeartbeatInterval: 100 * time.Millisecond, NodeTimeout: 600 * time.Millisecond, WarmUp: 250 * time.Millisecond}}

// newCluster starts two nodes, a and b (started first: the leader), that
// share a store and an app, over NATS (a fresh subject prefix) or an
// in-process bus.
func newCluster(t *testing.T, overNATS bool, app func(*store.RealtimeApp)) (a, b *testBundle, fa, fb *faultyBroker) {
	return newClusterWith(t, overNATS, clusterCfg, app)
}

func newClusterWith(t *testing.T, overNATS bool, cfg realtime.Config, app func(*store.RealtimeApp)) (a, b *testBundle, fa, fb *faultyBroker) {
	t.Helper()
	var mk func() fanout.Broker
	if overNATS {
		u := natstest.URL(t)
		prefix := "test." + strings.ToLower(ids.New()[12:])
		mk = func() fanout.Broker {
			n, err := fanout.NewNATS(fanout.NATSConfig{URL: u, Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	} else {
		bus := fanout.NewMemoryBus()
		mk = func() fanout.Broker { return bus.Broker() }
	}
	fa, fb = &faultyBroker{Broker: mk()}, &faultyBroker{Broker: mk()}
	a = setup(t, setupOpts{cfg: cfg, broker: fa, app: app})
	// Node ids order by start time in milliseconds: b must be younger.
	for start := time.Now(); time.Now().UnixMilli() == start.UnixMilli(); {
		time.Sleep(time.Millisecond)
	}
	b = setup(t, setupOpts{cfg: cfg, broker: fb, st: a.st, acct: a.acct, appRow: a.app})
	return a, b, fa, fb
}

// subscriptions asks a node's API how many subscriptions a channel has.
func subscriptions(t *testing.T, n *testBundle, channel string) int {
	t.Helper()
	r := n.api(t, "GET", "/channels/"+url.PathEscape(channel), url.Values{"info": {"subscription_count"}}, nil)
	var v struct {
		Count int `json:"subscription_count"`
	}
	json.Unmarshal([]byte(r.body), &v)
	return v.Count
}

func users(t *testing.T, n *testBundle, channel string) string {
	t.Helper()
	return n.api(t, "GET", "/channels/"+channel+"/users", nil, nil).body
}

func TestClusterNATS(t *testing.T) {
	t.Run("Events", func(t *testing.T) { t.Parallel(); testClusterEvents(t, true) })
	t.Run("Presence", func(t *testing.T) { t.Parallel(); testClusterPresence(t, true) })
	t.Run("NodeDies", func(t *testing.T) { t.Parallel(); testClusterNodeDies(t, true) })
	t.Run("WebhooksOnce", func(t *testing.T) { t.Parallel(); testClusterWebhooksOnce(t, true) })
	t.Run("LostStateRecovers", func(t *testing.T) { t.Parallel(); testClusterLostState(t, true) })
	t.Run("ConnectionQuota", func(t *testing.T) { t.Parallel(); testClusterConnectionQuota(t, true) })
}

func TestClusterMemoryBus(t *testing.T) {
	t.Run("Events", func(t *testing.T) { t.Parallel(); testClusterEvents(t, false) })
	t.Run("Presence", func(t *testing.T) { t.Parallel(); testClusterPresence(t, false) })
	t.Run("NodeDies", func(t *testing.T) { t.Parallel(); testClusterNodeDies(t, false) })
	t.Run("WebhooksOnce", func(t *testing.T) { t.Parallel(); testClusterWebhooksOnce(t, false) })
	t.Run("LostStateRecovers", func(t *testing.T) { t.Parallel(); testClusterLostState(t, false) })
}

func testClusterEvents(t *testing.T, overNATS bool) {
	a, b, _, _ := newCluster(t, overNATS, nil)
	onA, onB := a.connect(t), b.connect(t)
	onA.subscribe("news", "", "")
	onB.subscribe("news", "", "")
	eventually(t, "each node to see both subscriptions", func() bool {
		return subscriptions(t, a, "news") == 2 && subscriptions(t, b, "news") == 2
	})
	// Published on A, received on both; published on B, too.
	a.trigger(t, []string{"news"}, "from-a", "1", nil)
	onB.expect("from-a")
	onA.expect("from-a")
	b.trigger(t, []string{"news"}, "from-b", "2", nil)
	onA.expect("from-b")
	onB.expect("from-b")
	// socket_id exclusion holds on the other node.
	a.trigger(t, []string{"news"}, "not-for-b", "3", map[string]any{"socket_id": onB.socketID})
	onA.expect("not-for-b")
	onB.quiet()
	// Client events cross nodes, not echoed.
	onA.subscribe("private-chat", a.auth(onA, "private-chat", ""), "")
	onB.subscribe("private-chat", b.auth(onB, "private-chat", ""), "")
	eventually(t, "B's private subscription on A", func() bool { return subscriptions(t, a, "private-chat") == 2 })
	onA.send(map[string]any{"event": "client-hi", "channel": "private-chat", "data": map[string]any{"n": 1}})
	if f := onB.expect("client-hi"); string(f.Data) != `{"n":1}` {
		t.Fatalf("client event data %s", f.Data)
	}
	onA.quiet()
	// The channel list of either node has the channels of both.
	r := b.api(t, "GET", "/channels", url.Values{"info": {"subscription_count"}}, nil)
	if !strings.Contains(r.body, `"news":{"subscription_count":2}`) {
		t.Fatalf("B's channel list %s", r.body)
	}
}

func presenceJoin(t *testing.T, n *testBundle, user string) (*client, frame) {
	t.Helper()
	c := n.connect(t)
	cd := `{"user_id":"` + user + `","user_info":{"name":"` + user + `"}}`
	return c, c.subscribe("presence-room", n.auth(c, "presence-room", cd), cd)
}

func memberOf(t *testing.T, f frame) string {
	t.Helper()
	var m struct {
		UserID string `json:"user_id"`
	}
	f.decode(t, &m)
	return m.UserID
}

func testClusterPresence(t *testing.T, overNATS bool) {
	a, b, _, _ := newCluster(t, overNATS, nil)
	alice, _ := presenceJoin(t, a, "alice")
	eventually(t, "B to see alice", func() bool { return users(t, b, "presence-room") == `{"users":[{"id":"alice"}]}`+"\n" })
	bob, joined := presenceJoin(t, b, "bob")
	var p struct {
		Presence struct {
			IDs   []string                   `json:"ids"`
			Hash  map[string]json.RawMessage `json:"hash"`
			Count int                        `json:"count"`
		} `json:"presence"`
	}
	joined.decode(t, &p)
	if p.Presence.Count != 2 || string(p.Presence.Hash["alice"]) != `{"name":"alice"}` {
		t.Fatalf("bob on B sees %s", joined.Data)
	}
	if f := alice.expect("pusher_internal:member_added"); memberOf(t, f) != "bob" {
		t.Fatalf("alice got %s", f.Data)
	}
	want := `{"users":[{"id":"alice"},{"id":"bob"}]}` + "\n"
	eventually(t, "both nodes to list both users", func() bool { return users(t, a, "presence-room") == want && users(t, b, "presence-room") == want })
	// Bob on A too: no new member anywhere.
	bob2, _ := presenceJoin(t, a, "bob")
	eventually(t, "three subscriptions", func() bool { return subscriptions(t, b, "presence-room") == 3 })
	alice.quiet()
	// Bob leaves B but is still on A: no member_removed.
	bob.c.CloseNow()
	eventually(t, "two subscriptions", func() bool { return subscriptions(t, a, "presence-room") == 2 })
	alice.quiet()
	// Alice leaves A: bob (on A) hears member_removed, and B's list shrinks.
	alice.c.CloseNow()
	if f := bob2.expect("pusher_internal:member_removed"); memberOf(t, f) != "alice" {
		t.Fatalf("bob got %s", f.Data)
	}
	eventually(t, "B to drop alice", func() bool { return users(t, b, "presence-room") == `{"users":[{"id":"bob"}]}`+"\n" })
}

func testClusterNodeDies(t *testing.T, overNATS bool) {
	a, b, fa, _ := newCluster(t, overNATS, nil)
	carol, _ := presenceJoin(t, a, "carol")
	eventually(t, "B to see carol", func() bool { return strings.Contains(users(t, b, "presence-room"), "carol") })
	dave, _ := presenceJoin(t, b, "dave")
	if f := carol.expect("pusher_internal:member_added"); memberOf(t, f) != "dave" {
		t.Fatalf("carol got %s", f.Data)
	}
	// A dies without a word: B times it out and carol leaves.
	fa.dead.Store(true)
	start := time.Now()
	if f := dave.expect("pusher_internal:member_removed"); memberOf(t, f) != "carol" {
		t.Fatalf("dave got %s", f.Data)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("dead node noticed after %v", d)
	}
	if got := users(t, b, "presence-room"); got != `{"users":[{"id":"dave"}]}`+"\n" {
		t.Fatalf("B lists %s", got)
	}
}

func testClusterWebhooksOnce(t *testing.T, overNATS bool) {
	hook := newHookRecorder(t)
	cfg := clusterCfg
	cfg.Cluster.WarmUp = time.Millisecond // no events happen while b learns the cluster
	a, b, _, _ := newClusterWith(t, overNATS, cfg, func(app *store.RealtimeApp) { app.WebhookURL = hook.srv.URL })
	hook.key = func() string { return a.app.Key }
	hook.secret = func() string { return a.app.Secret }
	x, _ := presenceJoin(t, a, "x")
	eventually(t, "B to see x", func() bool { return strings.Contains(users(t, b, "presence-room"), "x") })
	y, _ := presenceJoin(t, b, "y")
	x2, _ := presenceJoin(t, b, "x") // x on both nodes
	x.expect("pusher_internal:member_added")
	y.quiet()
	eventually(t, "B's subscriptions on A", func() bool { return subscriptions(t, a, "presence-room") == 3 })
	for _, c := range []*client{x, y, x2} {
		c.c.CloseNow()
	}
	eventually(t, "the channel vacated", func() bool { return hook.count("channel_vacated presence-room") >= 1 })
	// Anything late would be here by now: the batch wait is 50 ms.
	eventually(t, "the leader's batches", func() bool { return len(hook.named()) >= 6 })
	time.Sleep(200 * time.Millisecond) // not waiting for anything: giving duplicates a chance to show
	for _, e := range []string{"channel_occupied presence-room", "channel_vacated presence-room",
		"member_added presence-room x", "member_added presence-room y", "member_removed presence-room x", "member_removed presence-room y"} {
		if n := hook.count(e); n != 1 {
			t.Errorf("%q sent %d times, want once for the cluster; got %v", e, n, hook.named())
		}
	}
}

func testClusterLostState(t *testing.T, overNATS bool) {
	a, b, _, fb := newCluster(t, overNATS, nil)
	watcher, _ := presenceJoin(t, a, "watcher")
	eventually(t, "B to see the watcher", func() bool { return strings.Contains(users(t, b, "presence-room"), "watcher") })
	// B's next state message (the delta with eve) is lost; A notices the
	// gap at B's next message and asks for a snapshot.
	fb.drop.Store(1)
	presenceJoin(t, b, "eve")
	if f := watcher.expect("pusher_internal:member_added"); memberOf(t, f) != "eve" {
		t.Fatalf("watcher got %s", f.Data)
	}
	eventually(t, "A to list eve", func() bool { return strings.Contains(users(t, a, "presence-room"), "eve") })
}

func testClusterConnectionQuota(t *testing.T, overNATS bool) {
	a, b, _, _ := newCluster(t, overNATS, func(app *store.RealtimeApp) { app.MaxConnections = 2 })
	a.connect(t)
	b.connect(t)
	// The limit counts both nodes (heartbeats carry the counts).
	eventually(t, "A to refuse a third connection", func() bool {
		c := dial(t, a.ws+"/app/"+a.app.Key+"?protocol=7")
		f := c.next()
		c.c.CloseNow()
		return f.Event == "pusher:error" && strings.Contains(string(f.Data), "4004")
	})
	// B counts A's connection once A's heartbeat has reached it.
	eventually(t, "B to refuse a third connection", func() bool {
		c := dial(t, b.ws+"/app/"+b.app.Key+"?protocol=7")
		f := c.next()
		if f.Event != "pusher:error" {
			c.c.CloseNow()
			return false
		}
		if got := c.closed(); got != websocket.StatusCode(realtime.CodeOverConnectionQuota) {
			t.Fatalf("closed with %d", got)
		}
		return true
	})
}
