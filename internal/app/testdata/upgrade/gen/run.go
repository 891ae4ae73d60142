package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/smsc"
)

// adminToken is the operator token the fixture's servers run with; it is
// fixture data like the account's key.
const adminToken = "fixture-admin-token-0123456789abcdef"

// baseConfig is how the generator (and the upgrade test) run omnigate: a
// real server on a loopback port with the demo SMSC in the process (SMS
// without a route go to it) and the operator API on.
func baseConfig(dataDir, databaseURL string) app.Config {
	cfg := app.Config{
		HTTPAddr: "127.0.0.1:0", DataDir: dataDir, DatabaseURL: databaseURL,
		Demo: true, AdminToken: adminToken, ShutdownTimeout: 20 * time.Second,
		DemoReceiptDelay: 20 * time.Millisecond,
	}
	cfg.Dispatch.Pool.Poll = 20 * time.Millisecond
	cfg.Webhook.Pool.Poll = 20 * time.Millisecond
	cfg.Notifier.Pool.Poll = 20 * time.Millisecond
	return cfg
}

// server is a running omnigate.
type server struct {
	app    *app.App
	base   string // http://127.0.0.1:port
	cancel context.CancelFunc
	done   chan error
}

// startServer runs app.New and app.Run, as `omnigate serve` does, and waits
// until it is ready.
func startServer(cfg app.Config, log *slog.Logger) (*server, error) {
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{app: a, base: "http://" + a.Addr(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- a.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("the server at %s did not become ready", s.base)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop stops the server gracefully, as SIGTERM does.
func (s *server) stop() error {
	s.cancel()
	return <-s.done
}

// reply is an HTTP answer.
type reply struct {
	status      int
	contentType string
	body        []byte
}

func (r reply) json() map[string]any {
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		fail("answer %d is not a JSON object: %s", r.status, r.body)
	}
	return m
}

var client = &http.Client{Timeout: 30 * time.Second}

// call sends a request. auth is "AccessKey …", "Bearer …" or "".
func call(method, url, auth, contentType string, body []byte) reply {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		fail("%s %s: %v", method, url, err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		fail("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		fail("%s %s: reading the answer: %v", method, url, err)
	}
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

// jsonBody marshals v, or passes a string or bytes through.
func jsonBody(v any) []byte {
	switch b := v.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	case []byte:
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		fail("marshalling %v: %v", v, err)
	}
	return b
}

// must requires an answer's status.
func must(r reply, want int, what string) reply {
	if r.status != want {
		fail("%s: answered %d, want %d: %s", what, r.status, want, r.body)
	}
	return r
}

// waitUntil polls cond until it holds.
func waitUntil(what string, timeout time.Duration, cond func() bool) {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			fail("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func fail(format string, a ...any) {
	panic(fmt.Sprintf(format, a...))
}

// sink is the customer's web server on loopback: status reports, inbound
// messages and billing alerts are delivered to it and answered 200.
type sink struct {
	srv *httptest.Server
	mu  sync.Mutex
	got map[string]int // path → requests
}

func newSink() *sink {
	s := &sink{got: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.got[r.URL.Path]++
		s.mu.Unlock()
	}))
	return s
}

func (s *sink) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[path]
}

// carrier is an SMSC simulator standing in for a carrier, reached through
// a connector the generator configures as an operator would.
type carrier struct {
	name string
	srv  *smsc.Server
}

// startCarrier runs a simulator answering every submit with the given
// receipt outcome after delay.
func startCarrier(name string, outcomes smsc.Outcomes, delay time.Duration) *carrier {
	srv, err := smsc.Start(smsc.Config{Listen: "127.0.0.1:0", ReceiptDelay: delay, Outcomes: outcomes})
	if err != nil {
		fail("starting the %s simulator: %v", name, err)
	}
	return &carrier{name: name, srv: srv}
}

// settings are the connector settings `omnigate connector add` would store
// for the simulator.
func (c *carrier) settings() smppconn.Settings {
	host, port, _ := net.SplitHostPort(c.srv.Addr())
	p, _ := strconv.Atoi(port)
	return smppconn.Settings{Host: host, Port: p, SystemID: carrierSystemID, Window: 10,
		ReconnectMin: smppconn.Duration(200 * time.Millisecond), ReconnectMax: smppconn.Duration(5 * time.Second)}
}

// carrierSystemID is the system_id every fixture connector binds with.
const carrierSystemID = "fixture"

// logger writes the servers' warnings to stderr (everything with -v).
func logger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// step prints what the generator does.
func step(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "gen: "+format+"\n", a...)
}

// trimBase replaces the server's scheme and host in a body by {{BASE}}.
func trimBase(body []byte, base string) []byte {
	return []byte(strings.ReplaceAll(string(body), base, basePlaceholder))
}

// basePlaceholder stands for the server's scheme and host in golden bodies.
const basePlaceholder = "{{BASE}}"
