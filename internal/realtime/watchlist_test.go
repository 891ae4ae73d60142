package realtime_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/realtime"
)

// signIn signs c in with user_data and returns the signin_success frame.
func (b *testBundle) signIn(t *testing.T, c *client, userData string) {
	t.Helper()
	c.send(map[string]any{"event": "pusher:signin", "data": map[string]any{
		"auth": realtime.UserAuth(b.app.Key, b.app.Secret, c.socketID, userData), "user_data": userData}})
	c.expect("pusher:signin_success")
}

// watchEvent reads a pusher_internal:watchlist_events frame as "name ids".
func watchEvent(t *testing.T, c *client) string {
	t.Helper()
	f := c.expect("pusher_internal:watchlist_events")
	var d struct {
		Events []struct {
			Name    string   `json:"name"`
			UserIDs []string `json:"user_ids"`
		} `json:"events"`
	}
	f.decode(t, &d)
	var out []string
	for _, e := range d.Events {
		ids := slices.Clone(e.UserIDs)
		slices.Sort(ids)
		out = append(out, e.Name+" "+strings.Join(ids, ","))
	}
	return strings.Join(out, ";")
}

func TestWatchlist(t *testing.T) {
	b := setup(t, setupOpts{})
	// Bob is online before Ann signs in; Ann learns it at once.
	bob := b.connect(t)
	b.signIn(t, bob, `{"id":"bob"}`)
	ann := b.connect(t)
	b.signIn(t, ann, `{"id":"ann","watchlist":["bob","cat","dan"]}`)
	if got := watchEvent(t, ann); got != "online bob" {
		t.Fatalf("on sign-in: %q", got)
	}
	// Cat's first connection is online; her second is not news.
	cat1 := b.connect(t)
	b.signIn(t, cat1, `{"id":"cat"}`)
	if got := watchEvent(t, ann); got != "online cat" {
		t.Fatalf("cat: %q", got)
	}
	cat2 := b.connect(t)
	b.signIn(t, cat2, `{"id":"cat"}`)
	ann.quiet()
	// Offline when her last connection ends.
	cat1.c.Close(websocket.StatusNormalClosure, "")
	ann.quiet()
	cat2.c.Close(websocket.StatusNormalClosure, "")
	if got := watchEvent(t, ann); got != "offline cat" {
		t.Fatalf("cat left: %q", got)
	}
	// Someone not watched comes and goes unnoticed; bob watches nobody.
	eve := b.connect(t)
	b.signIn(t, eve, `{"id":"eve"}`)
	ann.quiet()
	bob.quiet()
	// Signing in again as another user: the old one goes offline.
	b.signIn(t, bob, `{"id":"dan"}`)
	if got := watchEvent(t, ann); got != "offline bob" && got != "online dan" {
		t.Fatalf("bob became dan: %q", got)
	}
	second := watchEvent(t, ann)
	if second != "offline bob" && second != "online dan" {
		t.Fatalf("bob became dan: %q", second)
	}
}

func TestWatchlistBadInput(t *testing.T) {
	b := setup(t, setupOpts{})
	long := make([]string, realtime.MaxWatchlist+1)
	for i := range long {
		long[i] = fmt.Sprintf("%q", fmt.Sprint(i))
	}
	for _, ud := range []string{
		`{"id":"a","watchlist":"bob"}`,
		`{"id":"a","watchlist":[1]}`,
		`{"id":"a","watchlist":[""]}`,
		`{"id":"a","watchlist":[` + strings.Join(long, ",") + `]}`,
	} {
		c := b.connect(t)
		c.send(map[string]any{"event": "pusher:signin", "data": map[string]any{
			"auth": realtime.UserAuth(b.app.Key, b.app.Secret, c.socketID, ud), "user_data": ud}})
		f := c.expect("pusher:error")
		if !strings.Contains(string(f.Data), "watchlist") {
			t.Errorf("%s: %s", ud, f.Data)
		}
		if got := c.closed(); got != websocket.StatusCode(realtime.CodeUnauthorized) {
			t.Errorf("%s: closed with %d, want 4009", ud, got)
		}
	}
}

// Watchlist events cross nodes.
func TestClusterWatchlist(t *testing.T) {
	t.Run("MemoryBus", func(t *testing.T) { testClusterWatchlist(t, false) })
	t.Run("NATS", func(t *testing.T) { testClusterWatchlist(t, true) })
}

func testClusterWatchlist(t *testing.T, overNATS bool) {
	a, b, _, _ := newCluster(t, overNATS, nil)
	ann := a.connect(t)
	a.signIn(t, ann, `{"id":"ann","watchlist":["bob"]}`)
	bob := b.connect(t)
	b.signIn(t, bob, `{"id":"bob","watchlist":["ann"]}`)
	if got := watchEvent(t, ann); got != "online bob" {
		t.Fatalf("ann saw %q", got)
	}
	// Ann's sign-in may or may not have reached B before bob's.
	bob.c.Close(websocket.StatusNormalClosure, "")
	if got := watchEvent(t, ann); got != "offline bob" {
		t.Fatalf("ann saw %q", got)
	}
}
