package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/api/conversations"
	"github.com/omnigate/omnigate/internal/worker"
)

// A Conversations webhook's settings shape its calls: headers, basic
// authentication and query parameters are sent (the query signed with the
// URL), expected_http_code decides success, retry bounds the attempts; the
// password is masked when read back and kept when the masked settings are
// sent again; bad settings are refused naming the setting.
func TestConversationWebhookSettings(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) {
			c.Webhook.Retry = worker.Backoff{Min: 20 * time.Millisecond, Max: 50 * time.Millisecond}
		})
		sms, err := conversations.AddChannel(context.Background(), s.app.store, s.accountID, "sms", "Shop", "")
		if err != nil {
			t.Fatal(err)
		}
		type call struct {
			path, query, token, user, pass string
			signed                         bool
		}
		var mu sync.Mutex
		var calls []call
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			user, pass, _ := r.BasicAuth()
			mu.Lock()
			calls = append(calls, call{r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Token"), user, pass, verifyJWTBody(r, s.signingKey, body) == nil})
			mu.Unlock()
			if r.URL.Path == "/accepting" {
				w.WriteHeader(http.StatusAccepted)
				return
			}
			w.WriteHeader(http.StatusOK) // not what /strict expects
		}))
		t.Cleanup(srv.Close)
		callsTo := func(path string) []call {
			mu.Lock()
			defer mu.Unlock()
			var out []call
			for _, c := range calls {
				if c.path == path {
					out = append(out, c)
				}
			}
			return out
		}

		for _, c := range []struct {
			settings map[string]any
			param    string
		}{
			{map[string]any{"retry": 11}, "settings.retry"},
			{map[string]any{"timeout": -1}, "settings.timeout"},
			{map[string]any{"expected_http_code": "two hundred"}, "settings.expected_http_code"},
			{map[string]any{"headers": map[string]any{"Content-Type": "text/plain"}}, "settings.headers.Content-Type"},
			{map[string]any{"headers": map[string]any{"X-A": "a\r\nX-B: b"}}, "settings.headers.X-A"},
			{map[string]any{"headers": map[string]any{"X-A": []int{1}}}, "settings.headers.X-A"},
			{map[string]any{"password": "p"}, "settings.username"},
			{map[string]any{"query_params": "a=%zz"}, "settings.query_params"},
			{map[string]any{"colour": "red"}, "settings.colour"},
		} {
			r := s.convDo("POST", "/v1/webhooks", s.key, map[string]any{"url": srv.URL + "/x", "events": []string{"conversation.created"}, "settings": c.settings})
			if _, param, _ := errorOf(t, r); r.status != http.StatusUnprocessableEntity || param != c.param {
				t.Errorf("settings %v = %d %s; want 422 naming %s", c.settings, r.status, r.raw, c.param)
			}
		}

		accepting := s.convDo("POST", "/v1/webhooks", s.key, map[string]any{"url": srv.URL + "/accepting?own=1", "events": []string{"conversation.created", "conversation.updated"},
			"settings": map[string]any{"expected_http_code": "202", "headers": map[string]any{"X-Token": "abc"}, "username": "hooks", "password": "s3cret",
				"query_params": "k=v", "retry": 0, "timeout": 5}})
		if accepting.status != http.StatusCreated {
			t.Fatalf("POST /v1/webhooks = %d %s", accepting.status, accepting.raw)
		}
		if pw := accepting.json["settings"].(map[string]any)["password"]; pw != "********" {
			t.Fatalf("the password read back is %v, want it masked", pw)
		}
		strict := s.convDo("POST", "/v1/webhooks", s.key, map[string]any{"url": srv.URL + "/strict", "events": []string{"conversation.created"},
			"settings": map[string]any{"expected_http_code": "202", "retry": 2}})
		if strict.status != http.StatusCreated {
			t.Fatalf("POST /v1/webhooks = %d %s", strict.status, strict.raw)
		}

		start := s.convDo("POST", "/v1/conversations/start", s.key, map[string]any{"to": "+31612345001", "channelId": sms.ID, "type": "text", "content": map[string]any{"text": "hi"}})
		if start.status != http.StatusCreated {
			t.Fatalf("start = %d %s", start.status, start.raw)
		}
		waitFor(t, "the accepting webhook's call and the strict one's three attempts", 20*time.Second, func() bool {
			return len(callsTo("/accepting")) == 1 && len(callsTo("/strict")) == 3
		})
		got := callsTo("/accepting")[0]
		if got.token != "abc" || got.user != "hooks" || got.pass != "s3cret" || got.query != "k=v&own=1" || !got.signed {
			t.Fatalf("the call with settings: %+v", got)
		}
		// 202 was success for /accepting (called once); 200 was a failure
		// for /strict: the first attempt and two retries, then given up.
		time.Sleep(300 * time.Millisecond)
		if n := len(callsTo("/strict")); n != 3 {
			t.Fatalf("/strict was called %d times, want 3 (retry 2)", n)
		}

		// The settings read back (password masked) and sent again keep the
		// password.
		id := accepting.json["id"].(string)
		back := s.get("/v1/webhooks/" + id).json["settings"]
		if p := s.convDo("PATCH", "/v1/webhooks/"+id, s.key, map[string]any{"settings": back}); p.status != http.StatusOK {
			t.Fatalf("PATCH = %d %s", p.status, p.raw)
		}
		if p := s.convDo("PATCH", "/v1/conversations/"+start.json["id"].(string), s.key, map[string]any{"status": "archived"}); p.status != http.StatusOK {
			t.Fatalf("archive = %d %s", p.status, p.raw)
		}
		waitFor(t, "the conversation.updated call", 20*time.Second, func() bool { return len(callsTo("/accepting")) == 2 })
		if got := callsTo("/accepting")[1]; got.user != "hooks" || got.pass != "s3cret" || !got.signed {
			t.Fatalf("after PATCH with the masked password: %+v", got)
		}
	})
}

// An inbound message joins the channel of the endpoint it came to (a
// whatsapp channel's sender is its phone number id, not the number written
// to), else the channel whose sender is that number, else the account's
// oldest channel of its kind.
func TestInboundChannelChoice(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.Demo = false })
		ctx := context.Background()
		add := func(kind, sender string) string {
			c, err := conversations.AddChannel(ctx, s.app.store, s.accountID, kind, sender, "")
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond) // distinct creation times: "oldest" is defined
			return c.ID
		}
		waOld, waNew := add("whatsapp", "1111"), add("whatsapp", "2222")
		smsAlpha, smsNumber := add("sms", "Shop"), add("sms", "+3197010000009")
		for _, c := range []struct {
			kind, to, endpoint, want string
		}{
			{"whatsapp", "3197010000001", "2222", waNew},
			{"whatsapp", "3197010000001", "1111", waOld},
			{"whatsapp", "3197010000001", "", waOld},
			{"whatsapp", "3197010000001", "9999", waOld},
			{"sms", "3197010000009", "", smsNumber},
			{"sms", "3197010000008", "", smsAlpha},
		} {
			ch, err := inboundChannel(ctx, s.app.store, s.accountID, c.kind, c.to, c.endpoint)
			if err != nil || ch == nil || ch.ID != c.want {
				t.Errorf("inboundChannel(%s, to %s, endpoint %s) = %+v, %v; want %s", c.kind, c.to, c.endpoint, ch, err, c.want)
			}
		}
	})
}
