package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/email/domains"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres/postgrestest"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
)

// engines runs f once per storage engine: SQLite always, PostgreSQL when
// OMNIGATE_TEST_POSTGRES is set. The whole API suite is engine-agnostic.
// The test runs in parallel with the package's other tests, and its two
// engines with each other: each starts servers of its own, on ports of
// its own, with a database of its own, and mostly waits on them (a run
// without the race detector took 317 s one test at a time, 218 s with
// go test's default -parallel, 134 s with -parallel 4).
func engines(t *testing.T, f func(t *testing.T, engine string)) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			if engine == "postgres" && !pgtest.Available() {
				t.Skip(pgtest.EnvVar + " is not set")
			}
			t.Parallel()
			f(t, engine)
		})
	}
}

// server is a running omnigate on a loopback port with one account.
type server struct {
	t          testing.TB
	app        *App
	url        string
	accountID  string
	key        string
	testKey    string
	signingKey string
}

// start runs a real server: real listener, real database, real workers.
func start(t testing.TB, engine string, tune ...func(*Config)) *server {
	t.Helper()
	return startLogging(t, engine, nil, tune...)
}

// startLogging is start with the server's log going to h (nil: the test's
// log, warnings and errors only).
func startLogging(t testing.TB, engine string, h slog.Handler, tune ...func(*Config)) *server {
	t.Helper()
	cfg := Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, SQLiteSync: "NORMAL", ShutdownTimeout: 10 * time.Second}
	if engine == "postgres" {
		cfg.DatabaseURL = postgrestest.URL(t)
	} else {
		sqlitetest.Seed(t, cfg.SQLitePath())
	}
	cfg.Dispatch.Pool.Poll = 20 * time.Millisecond
	cfg.Webhook.Pool.Poll = 20 * time.Millisecond
	cfg.DemoReceiptDelay = 20 * time.Millisecond
	cfg.UserPasswordMemory = 1024 // 64 MiB of argon2id is seconds under -race
	for _, f := range tune {
		f(&cfg)
	}
	s := serveLogging(t, cfg, h)
	s.accountID, s.key, s.testKey, s.signingKey = s.newAccount("acme")
	return s
}

// serve runs a real server with cfg until the test ends.
func serve(t testing.TB, cfg Config) *server {
	t.Helper()
	s, _ := serveUntil(t, cfg, nil)
	return s
}

// serveLogging is serve with the server's log going to h (nil: the test's
// log, warnings and errors only).
func serveLogging(t testing.TB, cfg Config, h slog.Handler) *server {
	t.Helper()
	s, _ := serveUntil(t, cfg, h)
	return s
}

// serveUntil is serveLogging, with a function that stops the server sooner
// (the test's end calls it too).
func serveUntil(t testing.TB, cfg Config, h slog.Handler) (*server, func()) {
	t.Helper()
	if h == nil {
		h = slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})
	}
	a, err := New(context.Background(), cfg, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server stopped with %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &server{t: t, app: a, url: "http://" + a.Addr()}, stop
}

// newAccount creates another account and returns its id and keys.
func (s *server) newAccount(name string) (id, key, testKey, signingKey string) {
	c, err := accounts.Create(context.Background(), s.app.store, accounts.New{Name: name, Balance: 1_000_000_000})
	if err != nil {
		s.t.Fatal(err)
	}
	s.approveSenders(c.Account.ID)
	return c.Account.ID, c.LiveKey, c.TestKey, c.Account.SigningKey
}

// testSenders are the originators the tests send from, approved for every
// test account as an operator would approve them.
var testSenders = []string{"Shop", "Other", "omnigate", "Acme", "Bench", "Load"}

func (s *server) approveSenders(accountID string) {
	s.t.Helper()
	for _, o := range testSenders {
		if err := s.app.store.SaveSender(context.Background(), &store.Sender{AccountID: accountID, Originator: o, Status: store.SenderApproved,
			CreatedAt: time.Now(), DecidedAt: time.Now()}); err != nil {
			s.t.Fatal(err)
		}
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// response is an HTTP answer with its decoded JSON.
type response struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

// do sends a request; key "" sends no Authorization header.
func (s *server) do(method, path, key, contentType string, body []byte) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "AccessKey "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.json); err != nil {
			s.t.Fatalf("%s %s answered invalid JSON %q: %v", method, path, raw, err)
		}
	}
	return r
}

func (s *server) postJSON(key string, v any) response {
	s.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do("POST", "/messages", key, "application/json", b)
}

func (s *server) get(path string) response {
	s.t.Helper()
	return s.do("GET", path, s.key, "", nil)
}

// send posts a message with the live key and requires 201.
func (s *server) send(v any) map[string]any {
	s.t.Helper()
	r := s.postJSON(s.key, v)
	if r.status != http.StatusCreated {
		s.t.Fatalf("POST /messages = %d %s", r.status, r.raw)
	}
	return r.json
}

// items returns a message's recipient items.
func items(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, it := range m["recipients"].(map[string]any)["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// waitFor polls until cond holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus polls a message until every recipient has the status.
func (s *server) waitStatus(id, status string) map[string]any {
	s.t.Helper()
	var m map[string]any
	waitFor(s.t, "message "+id+" to be "+status, 20*time.Second, func() bool {
		r := s.get("/messages/" + id)
		if r.status != 200 {
			s.t.Fatalf("GET /messages/%s = %d %s", id, r.status, r.raw)
		}
		m = r.json
		for _, it := range items(m) {
			if it["status"] != status {
				return false
			}
		}
		return true
	})
	return m
}

// errorOf returns the first entry of a MessageBird error body.
func errorOf(t *testing.T, r response) (code float64, param any, description string) {
	t.Helper()
	errs, ok := r.json["errors"].([]any)
	if !ok || len(errs) == 0 {
		t.Fatalf("answer %d has no errors: %s", r.status, r.raw)
	}
	e := errs[0].(map[string]any)
	return e["code"].(float64), e["parameter"], e["description"].(string)
}

func mustJSON(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	return m
}

// startBench starts a server for a benchmark: durable as served
// (synchronous=FULL), accepting only, its idle workers polling as served
// (the tests' 20 ms polls are empty leases, each a write, ~150 a second).
func startBench(b *testing.B, engine string, tune ...func(*Config)) *server {
	if engine == "postgres" && !pgtest.Available() {
		b.Skip(pgtest.EnvVar + " is not set")
	}
	served := func(c *Config) {
		c.SQLiteSync, c.APIOnly = "FULL", true
		c.Dispatch.Pool.Poll, c.Webhook.Pool.Poll = 0, 0 // the defaults
	}
	return start(b, engine, append([]func(*Config){served}, tune...)...)
}

// verifiedEmailDomain gives accountID the sending domain with a new DKIM
// key, marked verified as if its DNS records had been checked; it returns
// the domain with its key (to verify signatures).
func verifiedEmailDomain(t *testing.T, st store.Store, accountID, domain string) *store.EmailDomain {
	t.Helper()
	ctx := context.Background()
	d, err := domains.New(accountID, domain, "ed25519", "", time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddEmailDomain(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordEmailDomainCheck(ctx, accountID, domain, json.RawMessage(`{"test":true}`), true, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	return d
}
