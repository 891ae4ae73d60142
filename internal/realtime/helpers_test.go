package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/realtime/fanout"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// testStore opens a fresh SQLite store with one account.
func testStore(t testing.TB) (*sqlstore.Store, *store.Account) {
	t.Helper()
	st, err := sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "rt.db"), Synchronous: sqlite.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := &store.Account{ID: ids.New(), Name: "acme", Currency: "EUR", SigningKey: "k", CreatedAt: time.Now().UTC()}
	if err := st.CreateAccount(context.Background(), a, nil); err != nil {
		t.Fatal(err)
	}
	return st, a
}

// testBundle is a running server with an app.
type testBundle struct {
	srv  *realtime.Server
	st   *sqlstore.Store
	acct *store.Account
	app  *store.RealtimeApp
	http *httptest.Server
	ws   string // ws://127.0.0.1:port
}

type setupOpts struct {
	cfg      realtime.Config
	app      func(*store.RealtimeApp)
	broker   fanout.Broker
	notifier realtime.Notifier
	st       *sqlstore.Store // shared store (cluster tests)
	acct     *store.Account
	appRow   *store.RealtimeApp // existing app (cluster tests)
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// setup starts a server on a loopback port with a fresh app.
func setup(t testing.TB, o setupOpts) *testBundle {
	t.Helper()
	ctx := context.Background()
	st, acct := o.st, o.acct
	if st == nil {
		st, acct = testStore(t)
	}
	app := o.appRow
	if app == nil {
		var err error
		app, err = realtime.CreateApp(ctx, st, acct.ID, "test", o.app)
		if err != nil {
			t.Fatal(err)
		}
	}
	if o.cfg.Webhook.RetryMin == 0 {
		o.cfg.Webhook.RetryMin, o.cfg.Webhook.RetryMax = 20*time.Millisecond, 100*time.Millisecond
	}
	if o.cfg.Webhook.BatchWait == 0 {
		o.cfg.Webhook.BatchWait = 50 * time.Millisecond
	}
	if o.cfg.UsageFlushInterval == 0 {
		o.cfg.UsageFlushInterval = 50 * time.Millisecond
	}
	if o.cfg.ErrorLogFlushInterval == 0 {
		o.cfg.ErrorLogFlushInterval = 20 * time.Millisecond
	}
	if o.cfg.AppCacheTTL == 0 {
		o.cfg.AppCacheTTL = 100 * time.Millisecond
	}
	srv, err := realtime.New(o.cfg, realtime.Deps{Store: st, Broker: o.broker, Notifier: o.notifier, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	b := &testBundle{srv: srv, st: st, acct: acct, app: app, http: hs, ws: "ws" + strings.TrimPrefix(hs.URL, "http")}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		hs.Close()
	})
	return b
}

// frame is a message the server sent.
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	UserID  string          `json:"user_id"`
	// DeltaSeq is set on events to connections with delta compression.
	DeltaSeq uint64 `json:"__delta_seq"`
	Size     int    `json:"-"` // the frame's length in bytes
}

// dataString decodes data that the protocol sends as a JSON string.
func (f frame) dataString(t *testing.T) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(f.Data, &s); err != nil {
		t.Fatalf("data %s of %s is not a string: %v", f.Data, f.Event, err)
	}
	return s
}

// decode decodes data (a string holding JSON, or JSON) into v.
func (f frame) decode(t *testing.T, v any) {
	t.Helper()
	if err := realtime.DecodeData(f.Data, v); err != nil {
		t.Fatalf("data %s of %s: %v", f.Data, f.Event, err)
	}
}

// client is a WebSocket client that reads in the background.
type client struct {
	t        *testing.T
	c        *websocket.Conn
	frames   chan frame
	mu       sync.Mutex
	closeErr error
	done     chan struct{}
	socketID string
}

// dial connects without waiting for anything.
func dial(t *testing.T, rawURL string) *client {
	t.Helper()
	return dialFrom(t, rawURL, "")
}

// dialFrom connects from a local address of its own ("": any).
func dialFrom(t *testing.T, rawURL, from string) *client {
	t.Helper()
	c, resp, err := wsDial(rawURL, from)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: HTTP %d, %v", rawURL, status, err)
	}
	c.SetReadLimit(1 << 20)
	cl := &client{t: t, c: c, frames: make(chan frame, 10000), done: make(chan struct{})}
	go func() {
		defer close(cl.done)
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				cl.mu.Lock()
				cl.closeErr = err
				cl.mu.Unlock()
				return
			}
			var f frame
			if err := json.Unmarshal(b, &f); err != nil {
				t.Errorf("server sent invalid JSON %q", b)
				continue
			}
			f.Size = len(b)
			cl.frames <- f
		}
	}()
	t.Cleanup(func() { c.CloseNow(); <-cl.done })
	return cl
}

// wsDial opens a WebSocket from a local address of its own ("": any).
func wsDial(rawURL, from string) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var opts *websocket.DialOptions
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		opts = &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}}
	}
	return websocket.Dial(ctx, rawURL, opts)
}

// connect dials the app and waits for connection_established.
func (b *testBundle) connect(t *testing.T) *client {
	t.Helper()
	cl := dial(t, b.ws+"/app/"+b.app.Key+"?protocol=7&client=js&version=8.4.0")
	f := cl.expect("pusher:connection_established")
	var d struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}
	f.decode(t, &d)
	if d.SocketID == "" || d.ActivityTimeout <= 0 {
		t.Fatalf("connection_established %s", f.Data)
	}
	cl.socketID = d.SocketID
	return cl
}

// next returns the next frame, failing after the deadline.
func (c *client) next() frame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-time.After(5 * time.Second):
		c.t.Fatal("no frame within 5 s")
	}
	return frame{}
}

// expect returns the next frame, which must be the event.
func (c *client) expect(event string) frame {
	c.t.Helper()
	f := c.next()
	if f.Event != event {
		c.t.Fatalf("got %s %s %s, want %s", f.Event, f.Channel, f.Data, event)
	}
	return f
}

// quiet checks that no frame arrives before a ping round trip completes.
func (c *client) quiet() {
	c.t.Helper()
	c.send(map[string]any{"event": "pusher:ping", "data": map[string]any{}})
	c.expect("pusher:pong")
}

func (c *client) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(websocket.MessageText, b)
}

func (c *client) sendRaw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, typ, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// sendRawMayFail writes a frame the server may refuse before it is all
// written; a write error is logged, not failed.
func (c *client) sendRawMayFail(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, typ, b); err != nil {
		c.t.Logf("write (the server may have closed first): %v", err)
	}
}

// closed waits until the server closed the connection and returns the code.
func (c *client) closed() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.t.Fatal("connection not closed within 10 s")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return websocket.CloseStatus(c.closeErr)
}

// subscribe subscribes and waits for success.
func (c *client) subscribe(channel, auth, channelData string) frame {
	c.t.Helper()
	d := map[string]any{"channel": channel}
	if auth != "" {
		d["auth"] = auth
	}
	if channelData != "" {
		d["channel_data"] = channelData
	}
	c.send(map[string]any{"event": "pusher:subscribe", "data": d})
	for {
		f := c.next()
		if f.Event == "pusher_internal:subscription_succeeded" && f.Channel == channel {
			return f
		}
		if f.Event == "pusher:subscription_error" || f.Event == "pusher:error" {
			c.t.Fatalf("subscribing to %s: %s %s", channel, f.Event, f.Data)
		}
	}
}

// privateAuth signs a private or presence subscription for the client.
func (b *testBundle) auth(c *client, channel, channelData string) string {
	return realtime.ChannelAuth(b.app.Key, b.app.Secret, c.socketID, channel, channelData)
}

// apiResult is an HTTP API answer.
type apiResult struct {
	status int
	body   string
}

// api calls the HTTP API signed with the app's credentials.
func (b *testBundle) api(t testing.TB, method, path string, params url.Values, body any) apiResult {
	t.Helper()
	return b.apiAs(t, b.app.Key, b.app.Secret, method, path, params, body, time.Now())
}

func (b *testBundle) apiAs(t testing.TB, key, secret, method, path string, params url.Values, body any, now time.Time) apiResult {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	full := "/apps/" + b.app.ID + path
	q := realtime.SignRequest(key, secret, method, full, params, raw, now)
	return rawRequest(t, method, b.http.URL+full+"?"+q.Encode(), raw)
}

func rawRequest(t testing.TB, method, u string, body []byte) apiResult {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return apiResult{resp.StatusCode, string(out)}
}

// trigger publishes an event through the API and checks the answer.
func (b *testBundle) trigger(t testing.TB, channels []string, name, data string, extra map[string]any) apiResult {
	t.Helper()
	body := map[string]any{"name": name, "data": data, "channels": channels}
	for k, v := range extra {
		body[k] = v
	}
	r := b.api(t, "POST", "/events", nil, body)
	if r.status != 200 {
		t.Fatalf("trigger: %d %s", r.status, r.body)
	}
	return r
}

// eventually polls cond until it holds, failing after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hookRecorder is a webhook endpoint that keeps valid deliveries.
type hookRecorder struct {
	t      *testing.T
	secret func() string
	key    func() string
	srv    *httptest.Server
	mu     sync.Mutex
	events []map[string]any
	fail   int // answer 500 to this many requests first
	calls  int
}

func newHookRecorder(t *testing.T) *hookRecorder {
	h := &hookRecorder{t: t}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.calls++
		if h.fail > 0 {
			h.fail--
			http.Error(w, "try later", 500)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook content type %q", r.Header.Get("Content-Type"))
		}
		if got := r.Header.Get(realtime.HeaderWebhookKey); got != h.key() {
			t.Errorf("webhook key %q, want %q", got, h.key())
		}
		if got, want := r.Header.Get(realtime.HeaderWebhookSignature), realtime.Sign(h.secret(), string(body)); got != want {
			t.Errorf("webhook signature %q, want %q", got, want)
		}
		var wb struct {
			TimeMS int64            `json:"time_ms"`
			Events []map[string]any `json:"events"`
		}
		if err := json.Unmarshal(body, &wb); err != nil || wb.TimeMS == 0 {
			t.Errorf("webhook body %s: %v", body, err)
		}
		if len(wb.Events) > realtime.DefaultWebhookBatchSize {
			t.Errorf("webhook batch of %d events", len(wb.Events))
		}
		h.events = append(h.events, wb.Events...)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// named lists the received events as "name channel [user_id]".
func (h *hookRecorder) named() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		s := e["name"].(string) + " " + e["channel"].(string)
		if u, ok := e["user_id"].(string); ok {
			s += " " + u
		}
		out = append(out, s)
	}
	return out
}

func (h *hookRecorder) count(s string) int {
	n := 0
	for _, e := range h.named() {
		if e == s {
			n++
		}
	}
	return n
}
