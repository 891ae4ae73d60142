package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/realtime"
)

// wsDial connects a Pusher client to the server's /app/{key}.
func wsDial(t *testing.T, s *server, key string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/app/"+key+"?protocol=7", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// wsNext reads the next frame (event, channel, data as sent); an error
// when the connection closes.
func wsNext(c *websocket.Conn) (event, channel string, data json.RawMessage, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		return "", "", nil, err
	}
	var f struct {
		Event   string          `json:"event"`
		Channel string          `json:"channel"`
		Data    json.RawMessage `json:"data"`
	}
	err = json.Unmarshal(b, &f)
	return f.Event, f.Channel, f.Data, err
}

func wsExpect(t *testing.T, c *websocket.Conn, event string) json.RawMessage {
	t.Helper()
	for {
		ev, _, data, err := wsNext(c)
		if err != nil {
			t.Fatalf("waiting for %s: %v", event, err)
		}
		if ev == event {
			return data
		}
		if ev == "pusher:error" || ev == "pusher:subscription_error" {
			t.Fatalf("waiting for %s: %s %s", event, ev, data)
		}
	}
}

// wsClosed reads until the connection closes and returns the close code.
func wsClosed(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	for {
		if _, _, _, err := wsNext(c); err != nil {
			code := websocket.CloseStatus(err)
			if code == -1 {
				t.Fatalf("connection ended without a close frame: %v", err)
			}
			return code
		}
	}
}

// pusherAPI makes a signed request to the Pusher HTTP API.
func pusherAPI(t *testing.T, s *server, appID, key, secret, method, path string, body []byte) response {
	t.Helper()
	full := "/apps/" + appID + path
	q := realtime.SignRequest(key, secret, method, full, url.Values{}, body, time.Now())
	return s.do(method, full+"?"+q.Encode(), "", "application/json", body)
}

// Accounts manage realtime apps through the REST API; the apps work on the
// same address (WebSocket and Pusher HTTP API), with limits, usage alerts
// through the account notifier, rotation, the error log, disabling and
// deletion.
func TestRealtimeApps(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		var mu sync.Mutex
		var notices []map[string]any
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var a map[string]any
			json.NewDecoder(r.Body).Decode(&a)
			mu.Lock()
			notices = append(notices, a)
			mu.Unlock()
		}))
		t.Cleanup(hook.Close)
		s := billingServer(t, engine, func(c *Config) {
			c.Realtime.AppCacheTTL = 100 * time.Millisecond
			c.Realtime.ErrorLogFlushInterval = 50 * time.Millisecond
		})
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/billing", "application/json", `{"alertUrl":"`+hook.URL+`"}`); r.status != 200 {
			t.Fatalf("alert URL: %d %s", r.status, r.raw)
		}
		js := func(v string) []byte { return []byte(v) }

		// Test keys read, never change; bad settings are refused.
		if r := s.do("POST", "/realtime/apps", s.testKey, "application/json", js(`{"name":"x"}`)); r.status != 403 {
			t.Fatalf("create with a test key: %d %s", r.status, r.raw)
		}
		for body, param := range map[string]string{
			`{"webhook_url":"ftp://example.com/x"}`:       "webhook_url",
			`{"max_connections":-1}`:                      "max_connections",
			`{"webhook_events":["channel_occupied","x"]}`: "webhook_events",
			`{"client_event_rate":"many"}`:                "client_event_rate",
			`{"subscription_count":"yes"}`:                "subscription_count",
		} {
			r := s.do("POST", "/realtime/apps", s.key, "application/json", js(body))
			if code, p, _ := errorOf(t, r); r.status != 422 || code != 10 || p != param {
				t.Errorf("%s: %d %s, want 422 naming %s", body, r.status, r.raw, param)
			}
		}
		if r := s.do("POST", "/realtime/apps", s.key, "application/json", js(`{"nmae":"typo"}`)); r.status != 400 {
			t.Errorf("unknown field: %d %s", r.status, r.raw)
		}
		if r := s.get("/realtime/apps"); r.status != 200 || len(r.json["items"].([]any)) != 0 {
			t.Fatalf("refused creates made apps: %s", r.raw)
		}

		r := s.do("POST", "/realtime/apps", s.key, "application/json", js(`{"name":"chat","max_connections":1}`))
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		appID, key, secret := r.json["app_id"].(string), r.json["key"].(string), r.json["secret"].(string)
		if len(appID) != 9 || len(key) != 20 || len(secret) != 40 || r.json["name"] != "chat" || r.json["enabled"] != true {
			t.Fatalf("created %s", r.raw)
		}
		if r := s.get("/realtime/apps"); len(r.json["items"].([]any)) != 1 || strings.Contains(string(r.raw), secret) {
			t.Fatalf("list (secrets are not listed): %s", r.raw)
		}
		if r := s.get("/realtime/apps/" + appID); r.status != 200 || r.json["secret"] != secret {
			t.Fatalf("get: %d %s", r.status, r.raw)
		}
		_, otherKey, _, _ := s.newAccount("other")
		for _, req := range [][2]string{{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/rotate"}, {"GET", "/errors"}} {
			if r := s.do(req[0], "/realtime/apps/"+appID+req[1], otherKey, "application/json", js(`{}`)); r.status != 404 {
				t.Errorf("another account's %s %s: %d %s", req[0], req[1], r.status, r.raw)
			}
		}

		// The app works on the API's address.
		c := wsDial(t, s, key)
		wsExpect(t, c, "pusher:connection_established")
		c.Write(context.Background(), websocket.MessageText, js(`{"event":"pusher:subscribe","data":{"channel":"news"}}`))
		wsExpect(t, c, "pusher_internal:subscription_succeeded")
		if r := pusherAPI(t, s, appID, key, secret, "POST", "/events", js(`{"name":"hi","channel":"news","data":"{\"n\":1}"}`)); r.status != 200 {
			t.Fatalf("trigger: %d %s", r.status, r.raw)
		}
		if data := wsExpect(t, c, "hi"); string(data) != `"{\"n\":1}"` {
			t.Fatalf("event data %s", data)
		}

		// At max_connections: the next client is refused with 4004, and
		// the account is told (80 % and 100 % notices).
		if code := wsClosed(t, wsDial(t, s, key)); code != 4004 {
			t.Fatalf("over the connection quota: close %d, want 4004", code)
		}
		waitFor(t, "realtime usage notices", 10*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(notices) >= 2
		})
		mu.Lock()
		for _, n := range notices {
			if n["type"] != RealtimeNoticeType || n["accountId"] != s.accountID || !strings.Contains(n["subject"].(string), "chat") {
				t.Errorf("notice %v", n)
			}
		}
		mu.Unlock()

		// The refusal is in the error log, with the client's address.
		waitFor(t, "the error log", 10*time.Second, func() bool {
			r := s.get("/realtime/apps/" + appID + "/errors")
			for _, e := range r.json["items"].([]any) {
				if e := e.(map[string]any); e["code"] == 4004.0 && e["ip"] == "127.0.0.1" {
					return true
				}
			}
			return false
		})

		// Rotation: the old secret stays valid for the grace period.
		r = s.do("POST", "/realtime/apps/"+appID+"/rotate", s.key, "application/json", js(`{"grace_seconds":60}`))
		newSecret, _ := r.json["secret"].(string)
		if r.status != 200 || len(newSecret) != 40 || newSecret == secret || r.json["previous_secret_valid_until"] == nil {
			t.Fatalf("rotate: %d %s", r.status, r.raw)
		}
		// (servers re-read the app within AppCacheTTL)
		waitFor(t, "the new secret to work", 10*time.Second, func() bool {
			return pusherAPI(t, s, appID, key, newSecret, "GET", "/channels", nil).status == 200
		})
		if r := pusherAPI(t, s, appID, key, secret, "GET", "/channels", nil); r.status != 200 {
			t.Fatalf("API with the previous secret in its grace period: %d %s", r.status, r.raw)
		}
		if r := pusherAPI(t, s, appID, key, strings.Repeat("0", 40), "GET", "/channels", nil); r.status != 401 {
			t.Fatalf("API with a wrong secret: %d %s", r.status, r.raw)
		}

		// Disabling closes live connections with 4003.
		if r := s.do("PATCH", "/realtime/apps/"+appID, s.key, "application/json", js(`{"enabled":false,"name":"chat 2"}`)); r.status != 200 || r.json["enabled"] != false || r.json["name"] != "chat 2" {
			t.Fatalf("patch: %d %s", r.status, r.raw)
		}
		if code := wsClosed(t, c); code != 4003 {
			t.Fatalf("disabled app: close %d, want 4003", code)
		}

		if r := s.do("DELETE", "/realtime/apps/"+appID, s.key, "", nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		if r := s.get("/realtime/apps/" + appID); r.status != 404 {
			t.Fatalf("deleted app: %d %s", r.status, r.raw)
		}
		if r := s.do("PUT", "/realtime/apps", s.key, "", nil); r.status != 405 {
			t.Fatalf("PUT /realtime/apps: %d", r.status)
		}
	})
}

// An unknown key is refused with the protocol's 4001; the REST API's
// catch-all still answers unknown paths in MessageBird's format.
func TestRealtimeUnknownApp(t *testing.T) {
	s := start(t, "sqlite")
	c := wsDial(t, s, "nope")
	ev, _, data, err := wsNext(c)
	if err != nil || ev != "pusher:error" || !strings.Contains(string(data), "4001") {
		t.Fatalf("unknown key: %s %s %v", ev, data, err)
	}
	var ce websocket.CloseError
	if _, _, _, err := wsNext(c); !errors.As(err, &ce) || ce.Code != 4001 {
		t.Fatalf("unknown key: %v, want close 4001", err)
	}
	if r := s.get("/no/such/path"); r.status != 404 || r.json["errors"] == nil {
		t.Fatalf("unknown path: %d %s", r.status, r.raw)
	}
}

// With RealtimeHTTPAddr, realtime clients have a listener of their own:
// the WebSocket endpoint and the Pusher HTTP API are served there (with
// /healthz) and not on the API's, where the account still manages its
// apps.
func TestRealtimeListener(t *testing.T) {
	s := start(t, "sqlite", func(c *Config) { c.RealtimeHTTPAddr = "127.0.0.1:0" })
	rt := *s
	rt.url = "http://" + s.app.RealtimeAddr()
	if rt.url == s.url {
		t.Fatalf("realtime on the API's address %s", s.url)
	}
	r := s.do("POST", "/realtime/apps", s.key, "application/json", []byte(`{"name":"chat"}`))
	if r.status != 201 {
		t.Fatalf("create on the API's address: %d %s", r.status, r.raw)
	}
	appID, key, secret := r.json["app_id"].(string), r.json["key"].(string), r.json["secret"].(string)

	c := wsDial(t, &rt, key)
	wsExpect(t, c, "pusher:connection_established")
	c.Write(context.Background(), websocket.MessageText, []byte(`{"event":"pusher:subscribe","data":{"channel":"news"}}`))
	wsExpect(t, c, "pusher_internal:subscription_succeeded")
	if r := pusherAPI(t, &rt, appID, key, secret, "POST", "/events", []byte(`{"name":"hi","channel":"news","data":"x"}`)); r.status != 200 {
		t.Fatalf("trigger on the realtime listener: %d %s", r.status, r.raw)
	}
	wsExpect(t, c, "hi")
	if r := rt.do("GET", "/healthz", "", "", nil); r.status != 200 {
		t.Fatalf("/healthz on the realtime listener: %d", r.status)
	}
	if r := rt.get("/balance"); r.status != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/balance on the realtime listener: %d %s, want a plain-text 404", r.status, r.raw)
	}

	// Not on the API's address: unknown paths there, in its format.
	if r := s.do("GET", "/app/"+key+"?protocol=7", "", "", nil); r.status != 404 || r.json["errors"] == nil {
		t.Fatalf("/app/{key} on the API's address: %d %s", r.status, r.raw)
	}
	if r := pusherAPI(t, s, appID, key, secret, "GET", "/channels", nil); r.status != 404 {
		t.Fatalf("the Pusher HTTP API on the API's address: %d %s", r.status, r.raw)
	}

	cfg := Config{HTTPAddr: "127.0.0.1:7777", RealtimeHTTPAddr: "127.0.0.1:7777", DataDir: t.TempDir()}
	if _, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "realtime-http") {
		t.Fatalf("the API's own address as realtime's: %v", err)
	}
}
