package realtime_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
)

func TestAPIAuthentication(t *testing.T) {
	b := setup(t, setupOpts{})
	body := map[string]any{"name": "e", "data": "d", "channel": "c"}
	now := time.Now()
	for _, tc := range []struct {
		name   string
		key    string
		secret string
		at     time.Time
		status int
	}{
		{"good", b.app.Key, b.app.Secret, now, 200},
		{"wrong secret", b.app.Key, "wrong", now, 401},
		{"wrong key", "wrongkey", b.app.Secret, now, 401},
		{"old timestamp", b.app.Key, b.app.Secret, now.Add(-11 * time.Minute), 401},
		{"future timestamp", b.app.Key, b.app.Secret, now.Add(11 * time.Minute), 401},
		{"edge of the window", b.app.Key, b.app.Secret, now.Add(-9 * time.Minute), 200},
	} {
		if r := b.apiAs(t, tc.key, tc.secret, "POST", "/events", nil, body, tc.at); r.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.status)
		}
	}
	// A signed request whose body or query was changed afterwards.
	raw := []byte(`{"name":"e","data":"d","channel":"c"}`)
	path := "/apps/" + b.app.ID + "/events"
	q := realtime.SignRequest(b.app.Key, b.app.Secret, "POST", path, nil, raw, now)
	if r := rawRequest(t, "POST", b.http.URL+path+"?"+q.Encode(), []byte(`{"name":"e","data":"EVIL","channel":"c"}`)); r.status != 401 || !strings.Contains(r.body, "body_md5") {
		t.Errorf("tampered body: %d %s", r.status, r.body)
	}
	q2 := realtime.SignRequest(b.app.Key, b.app.Secret, "GET", "/apps/"+b.app.ID+"/channels", url.Values{"filter_by_prefix": {"a"}}, nil, now)
	q2.Set("filter_by_prefix", "b")
	if r := rawRequest(t, "GET", b.http.URL+"/apps/"+b.app.ID+"/channels?"+q2.Encode(), nil); r.status != 401 || !strings.Contains(r.body, "Invalid signature") {
		t.Errorf("tampered query: %d %s", r.status, r.body)
	}
	// The signature covers the method and path.
	q3 := realtime.SignRequest(b.app.Key, b.app.Secret, "GET", "/apps/"+b.app.ID+"/channels", nil, nil, now)
	if r := rawRequest(t, "GET", b.http.URL+"/apps/"+b.app.ID+"/channels/x?"+q3.Encode(), nil); r.status != 401 {
		t.Errorf("signature for another path: %d %s", r.status, r.body)
	}
	// Replaying a captured request within the window is what Pusher allows
	// too; an old one is refused.
	old := realtime.SignRequest(b.app.Key, b.app.Secret, "POST", path, nil, raw, now.Add(-time.Hour))
	if r := rawRequest(t, "POST", b.http.URL+path+"?"+old.Encode(), raw); r.status != 401 || !strings.Contains(r.body, "Timestamp expired") {
		t.Errorf("replayed old request: %d %s", r.status, r.body)
	}
	if r := rawRequest(t, "GET", b.http.URL+"/apps/999/channels?auth_key=x", nil); r.status != 404 {
		t.Errorf("unknown app: %d %s", r.status, r.body)
	}
	if r := rawRequest(t, "GET", b.http.URL+"/apps/"+b.app.ID+"/channels", nil); r.status != 401 {
		t.Errorf("no auth: %d %s", r.status, r.body)
	}
	// A disabled app answers 403 to a well-signed request.
	b.app.Enabled = false
	if err := b.st.UpdateRealtimeApp(context.Background(), b.app); err != nil {
		t.Fatal(err)
	}
	eventually(t, "403 for a disabled app", func() bool { return b.api(t, "GET", "/channels", nil, nil).status == 403 })
}

func TestAPIValidation(t *testing.T) {
	b := setup(t, setupOpts{cfg: realtime.Config{MaxRequestBytes: 64 << 10}})
	var many []string
	for i := 0; i < 101; i++ {
		many = append(many, "c"+strconv.Itoa(i))
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"data over 10 KB", map[string]any{"name": "e", "channel": "c", "data": strings.Repeat("x", 10<<10+1)}, 413},
		{"101 channels", map[string]any{"name": "e", "channels": many, "data": "x"}, 400},
		{"no channel", map[string]any{"name": "e", "data": "x"}, 400},
		{"no name", map[string]any{"channel": "c", "data": "x"}, 400},
		{"bad channel", map[string]any{"name": "e", "channel": "a b", "data": "x"}, 400},
		{"bad socket_id", map[string]any{"name": "e", "channel": "c", "data": "x", "socket_id": "abc"}, 400},
		{"bad info", map[string]any{"name": "e", "channel": "c", "data": "x", "info": "everything"}, 400},
		{"body over the limit", map[string]any{"name": "e", "channel": "c", "data": strings.Repeat("x", 70<<10)}, 413},
		{"not JSON", "just a string", 400},
	} {
		if r := b.api(t, "POST", "/events", nil, tc.body); r.status != tc.status || r.body == "" {
			t.Errorf("%s: %d %q, want %d", tc.name, r.status, r.body, tc.status)
		}
	}
	// Exactly 100 channels and 10 KB of data are fine.
	if r := b.api(t, "POST", "/events", nil, map[string]any{"name": "e", "channels": many[:100], "data": strings.Repeat("x", 10<<10)}); r.status != 200 {
		t.Errorf("100 channels and 10 KB: %d %s", r.status, r.body)
	}
}

func TestMessageQuota(t *testing.T) {
	var mu sync.Mutex
	var alerts []realtime.Alert
	notifier := realtime.NotifierFunc(func(_ context.Context, a realtime.Alert) error {
		mu.Lock()
		alerts = append(alerts, a)
		mu.Unlock()
		return nil
	})
	b := setup(t, setupOpts{notifier: notifier, app: func(a *store.RealtimeApp) { a.MaxMessagesPerDay = 10 }})
	c := b.connect(t)
	c.subscribe("news", "", "")
	// Each event is 2 messages here: the publish and one delivery.
	for i := 0; i < 4; i++ {
		b.trigger(t, []string{"news"}, "e", "x", nil)
	}
	eventually(t, "the 80 % alert", func() bool { mu.Lock(); defer mu.Unlock(); return len(alerts) == 1 })
	b.trigger(t, []string{"news"}, "e", "x", nil)
	eventually(t, "413 over the quota", func() bool {
		return b.api(t, "POST", "/events", nil, map[string]any{"name": "e", "channel": "news", "data": "x"}).status == 413
	})
	eventually(t, "the 100 % alert", func() bool { mu.Lock(); defer mu.Unlock(); return len(alerts) == 2 })
	mu.Lock()
	a80, a100 := alerts[0], alerts[1]
	mu.Unlock()
	if a80.Threshold != 80 || a80.Limit != store.RealtimeLimitMessages || a80.AppID != b.app.ID || a80.AccountID != b.acct.ID || a80.Max != 10 || a80.Used < 8 {
		t.Fatalf("80 %% alert %+v", a80)
	}
	if a100.Threshold != 100 || a100.Used < 10 {
		t.Fatalf("100 %% alert %+v", a100)
	}
	// Client events stop too.
	c.subscribe("private-x", b.auth(c, "private-x", ""), "")
	c.send(map[string]any{"event": "client-x", "channel": "private-x", "data": 1})
	c.expect("pusher:error")
	// No alert twice in a day, even from a restarted node.
	b2 := setup(t, setupOpts{st: b.st, acct: b.acct, appRow: b.app, notifier: notifier})
	eventually(t, "the second node to see the quota", func() bool {
		return b2.api(t, "POST", "/events", nil, map[string]any{"name": "e", "channel": "news", "data": "x"}).status == 413
	})
	b.api(t, "POST", "/events", nil, map[string]any{"name": "e", "channel": "news", "data": "x"})
	mu.Lock()
	defer mu.Unlock()
	if len(alerts) != 2 {
		t.Fatalf("%d alerts, want 2", len(alerts))
	}
}

func TestConnectionQuota(t *testing.T) {
	var mu sync.Mutex
	var alerts []realtime.Alert
	notifier := realtime.NotifierFunc(func(_ context.Context, a realtime.Alert) error {
		mu.Lock()
		alerts = append(alerts, a)
		mu.Unlock()
		return nil
	})
	b := setup(t, setupOpts{notifier: notifier, app: func(a *store.RealtimeApp) { a.MaxConnections = 5 }})
	var clients []*client
	for i := 0; i < 5; i++ {
		clients = append(clients, b.connect(t))
	}
	c := dial(t, b.ws+"/app/"+b.app.Key+"?protocol=7")
	c.expect("pusher:error")
	if got := c.closed(); int(got) != int(realtime.CodeOverConnectionQuota) {
		t.Fatalf("sixth connection closed with %d, want 4004", got)
	}
	eventually(t, "alerts at 80 and 100 %", func() bool { mu.Lock(); defer mu.Unlock(); return len(alerts) == 2 })
	// Room again after one leaves; reaching the limit again alerts no more.
	clients[0].c.CloseNow()
	eventually(t, "a free slot", func() bool { return b.srv.Stats().Connections == 4 })
	b.connect(t)
	mu.Lock()
	defer mu.Unlock()
	if len(alerts) != 2 || alerts[0].Threshold != 80 || alerts[1].Threshold != 100 || alerts[0].Limit != store.RealtimeLimitConnections {
		t.Fatalf("alerts %+v", alerts)
	}
	eventually(t, "4004 in the error log", func() bool {
		errs, _ := b.st.ListRealtimeErrors(context.Background(), b.acct.ID, b.app.ID)
		return len(errs) == 1 && errs[0].Code == 4004 && errs[0].IP == "127.0.0.1"
	})
}
