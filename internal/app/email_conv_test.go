package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/gif"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/email/links"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/webhook"
)

// mailRelay is a connector of the real email channel that the test
// controls: it takes every recipient with its provider id messageID.seq and
// leaves receipts (bounces, delivery notices) to the test. The real smtp
// connector is tested in TestEmailThroughThePipeline.
type mailRelay struct {
	name string
	rx   channel.Receiver
	up   atomic.Bool
	mu   sync.Mutex
	got  []string // "to|subject|body" of every submission
}

func (c *mailRelay) Name() string    { return c.name }
func (c *mailRelay) Channel() string { return message.ChannelEmail }
func (c *mailRelay) Start()          { c.up.Store(true) }
func (c *mailRelay) Stop(context.Context) error {
	c.up.Store(false)
	return nil
}
func (c *mailRelay) Up() int {
	if c.up.Load() {
		return 1
	}
	return 0
}

func (c *mailRelay) Send(_ context.Context, s channel.Submission) (channel.Result, error) {
	c.mu.Lock()
	c.got = append(c.got, s.Recipient.Address+"|"+s.Message.Content.Email.Subject+"|"+s.Message.Body)
	c.mu.Unlock()
	return channel.Result{Status: message.Sent, PartIDs: []string{fmt.Sprintf("%s.%d", s.Message.ID, s.Recipient.Seq)}}, nil
}

// receipt hands the connector's later word on a recipient to the receipt
// path, as a bounce or delivery notice would come.
func (c *mailRelay) receipt(t *testing.T, messageID string, seq int, status message.Status, event string, detail map[string]string) {
	t.Helper()
	if err := c.rx.Receipt(context.Background(), store.Receipt{Connector: c.name, Channel: message.ChannelEmail,
		ProviderIDs: []string{fmt.Sprintf("%s.%d", messageID, seq)}, Status: status, Event: event, Detail: detail}); err != nil {
		t.Fatal(err)
	}
}

// addMailRelay plugs the test connector into s and routes every
// domain to it; the account may send from shop.example addresses.
func addMailRelay(t *testing.T, s *server) *mailRelay {
	t.Helper()
	conn := &mailRelay{}
	s.app.channels.AddKind(channel.Kind{Name: "mail-test", Channel: message.ChannelEmail,
		Check: func(settings []byte) error { return json.Unmarshal(settings, new(map[string]any)) },
		New: func(name string, _ []byte, rx channel.Receiver, _ *slog.Logger) (channel.Connector, error) {
			conn.name, conn.rx = name, rx
			return conn, nil
		}})
	ctx := context.Background()
	if err := s.app.store.SaveConnector(ctx, store.ConnectorConfig{Name: "mail", Kind: "mail-test", Settings: []byte(`{}`),
		Enabled: true, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.app.store.AddRoute(ctx, &store.Route{Channel: message.ChannelEmail, Pattern: destination.Pattern{},
		Connectors: []string{"mail"}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.app.connectors.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	// Every email goes to this relay, never to the demo's mail sink (the
	// fallback) when a first attempt finds the relay busy for a moment.
	if c, ok := s.app.connectors.Connector("mail"); ok {
		s.app.router.SetFallback(c)
	}
	verifiedEmailDomain(t, s.app.store, s.accountID, "shop.example")
	for _, from := range []string{"news@shop.example", "orders@shop.example"} {
		if err := s.app.store.SaveSender(ctx, &store.Sender{AccountID: s.accountID, Originator: from, Status: store.SenderApproved,
			CreatedAt: time.Now(), DecidedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

// sendEmail posts to /v1/send with key.
func (s *server) sendEmail(key string, v any) response {
	s.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do("POST", "/v1/send", key, "application/json", b)
}

func emailSend(to []map[string]any, extra map[string]any) map[string]any {
	email := map[string]any{"to": to, "from": map[string]any{"email": "orders@shop.example", "name": "Shop"},
		"subject": "Order {{order}}", "content": map[string]any{"text": "Hello {{name}}, order {{order}} ships.", "html": "<p>Hello {{name}}</p>"}}
	for k, v := range extra {
		email[k] = v
	}
	return map[string]any{"type": "email", "content": map[string]any{"email": email}}
}

// jsonSink is a report URL for the Conversations door's JSON reports: it
// checks each one's signature, URL and payload hashes with an independent
// JWT library.
type jsonSink struct {
	mu  sync.Mutex
	got []map[string]any
	srv *httptest.Server
}

func newJSONSink(t *testing.T, key string) *jsonSink {
	js := &jsonSink{}
	js.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		full := "http://" + r.Host + r.URL.RequestURI()
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(r.Header.Get(webhook.HeaderSignatureJWT), claims, func(*jwt.Token) (any, error) { return []byte(key), nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("MessageBird"), jwt.WithExpirationRequired())
		if err != nil || claims["url_hash"] != sha256hex([]byte(full)) || claims["payload_hash"] != sha256hex(body) ||
			r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("report %s %s: bad signature or request (%v, claims %v)", r.Method, full, err, claims)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("report is not JSON: %q", body)
		}
		js.mu.Lock()
		js.got = append(js.got, m)
		js.mu.Unlock()
	}))
	t.Cleanup(js.srv.Close)
	return js
}

// changes are the reports' "recipient status event" lines.
func (js *jsonSink) changes() []string {
	js.mu.Lock()
	defer js.mu.Unlock()
	var out []string
	for _, m := range js.got {
		r := m["report"].(map[string]any)
		ev, _ := r["event"].(string)
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s", r["recipient"], r["status"], ev)))
	}
	return out
}

func (js *jsonSink) has(line string) bool {
	for _, c := range js.changes() {
		if c == line {
			return true
		}
	}
	return false
}

// An email goes in through POST /v1/send, through the pipeline and the
// connector, reads back in the Conversations shape, and every status and
// event reaches the report URL as a signed JSON POST.
func TestEmailSendReadAndReports(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		relay := addMailRelay(t, s)
		sink := newJSONSink(t, s.signingKey)
		req := emailSend([]map[string]any{
			{"email": "ann@example.com", "name": "Ann", "variables": map[string]any{"name": "Ann", "order": "A1"}},
			{"email": "bob@example.org", "variables": map[string]any{"name": "Bob", "order": "B2"}},
			{"email": "ANN@example.com"}, // the same address: sent once
		}, map[string]any{"performSubstitutions": true, "reportUrl": sink.srv.URL + "/reports?x=1",
			"tracking":    map[string]any{"open": true, "click": true},
			"attachments": []map[string]any{{"name": "invoice.pdf", "type": "application/pdf", "content": "JVBERi0xLjQK"}},
			"headers":     map[string]any{"X-Campaign": "spring"}})
		r := s.sendEmail(s.key, req)
		if r.status != http.StatusAccepted || r.json["status"] != "accepted" {
			t.Fatalf("POST /v1/send = %d %s", r.status, r.raw)
		}
		id := r.json["id"].(string)
		var msg map[string]any
		waitFor(t, "both recipients sent", 10*time.Second, func() bool {
			g := s.get("/v1/messages/" + id)
			if g.status != 200 {
				t.Fatalf("GET /v1/messages/%s = %d %s", id, g.status, g.raw)
			}
			msg = g.json
			return msg["status"] == "sent"
		})
		email := msg["content"].(map[string]any)["email"].(map[string]any)
		to := email["to"].([]any)
		if msg["platform"] != "email" || msg["type"] != "email" || msg["from"] != "orders@shop.example" || len(to) != 2 ||
			to[0].(map[string]any)["name"] != "Ann" || email["subject"] != "Order {{order}}" ||
			email["attachments"].([]any)[0].(map[string]any)["length"] != 9.0 || email["performSubstitutions"] != true {
			t.Fatalf("message %s", mustMarshal(msg))
		}
		// The stored message keeps each recipient's variables; compose
		// substitutes per recipient (internal/email/personal).
		relay.mu.Lock()
		got := strings.Join(relay.got, "; ")
		relay.mu.Unlock()
		if !strings.Contains(got, "ann@example.com|Order {{order}}|") || !strings.Contains(got, "bob@example.org|") {
			t.Fatalf("the connector got %q", got)
		}

		relay.receipt(t, id, 0, message.Delivered, "", nil)
		relay.receipt(t, id, 1, message.DeliveryFailed, store.EventBounced, map[string]string{"category": "bad_mailbox"})
		relay.receipt(t, id, 1, "", store.EventBounced, map[string]string{"category": "bad_mailbox"}) // a second DSN: kept once
		relay.receipt(t, id, 0, "", store.EventComplained, nil)
		// Opens and clicks through the public endpoints, from the links
		// compose would put in the mail.
		l := s.app.EmailLinks()
		for range 2 {
			if r := get(t, l.OpenPixelURL(s.accountID, id, 0)); r.status != 200 {
				t.Fatalf("open pixel: %d", r.status)
			}
		}
		click := l.ClickURL(s.accountID, id, 0, "https://shop.example/track?o=A1")
		resp := noRedirect(t, click)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://shop.example/track?o=A1" {
			t.Fatalf("click: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		oneClick(t, l.UnsubscribeURL(s.accountID, id, 0), http.StatusOK)

		// Being taken by the connector (accepted → sent) is reported once
		// per recipient, then each status and event.
		want := []string{"ann@example.com sent", "bob@example.org sent", "ann@example.com delivered", "bob@example.org failed",
			"bob@example.org failed bounced", "ann@example.com delivered complained", "ann@example.com delivered opened",
			"ann@example.com delivered clicked", "ann@example.com delivered unsubscribed"}
		defer func() {
			if t.Failed() {
				t.Logf("reports: %q", sink.changes())
			}
		}()
		waitFor(t, "every report", 10*time.Second, func() bool {
			for _, w := range want {
				if !sink.has(w) {
					return false
				}
			}
			return true
		})
		// One report per event: the second bounce and the second open are
		// recorded (opens) or not (bounces) but not reported again.
		time.Sleep(200 * time.Millisecond)
		if n := len(sink.changes()); n != len(want) {
			t.Fatalf("reports %q", sink.changes())
		}
		g := s.get("/v1/messages/" + id)
		recips := g.json["recipients"].([]any)
		ann, bob := recips[0].(map[string]any), recips[1].(map[string]any)
		if g.json["status"] != "delivered" || ann["status"] != "delivered" || bob["status"] != "failed" ||
			len(ann["events"].([]any)) != 5 || len(bob["events"].([]any)) != 1 {
			t.Fatalf("message after events %s", g.raw)
		}
		// The unsubscribe is an opt-out in the consent ledger, which
		// suppresses the address.
		cs, err := s.app.store.Consents(context.Background(), s.accountID, "ann@example.com")
		if err != nil || len(cs) != 1 || cs[0].Action != store.OptOut || cs[0].Source != "email_one_click" || cs[0].Evidence["messageId"] != id {
			t.Fatalf("consents %+v %v", cs, err)
		}
		// The list shows email messages only.
		s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "an SMS"})
		lst := s.get("/v1/messages?limit=5")
		if lst.status != 200 || lst.json["totalCount"] != 1.0 || lst.json["items"].([]any)[0].(map[string]any)["id"] != id {
			t.Fatalf("list %s", lst.raw)
		}
		if r := s.get("/v1/messages?ids=" + id + ",nope"); r.json["count"] != 1.0 {
			t.Fatalf("list by ids %s", r.raw)
		}
	})
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func get(t *testing.T, u string) response {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, raw: raw}
}

func noRedirect(t *testing.T, u string) *http.Response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// oneClick POSTs as mail clients do (RFC 8058): form-encoded
// List-Unsubscribe=One-Click, no cookies, no credentials.
func oneClick(t *testing.T, u string, status int) {
	t.Helper()
	resp, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("one-click POST %s = %d, want %d", u, resp.StatusCode, status)
	}
}

// The public endpoints: a confirmation page that does not unsubscribe by
// itself, a real GIF, refusals of altered tokens, and curl — a client that
// is not ours — making the one-click POST.
func TestEmailLinksEndpoints(t *testing.T) {
	s := start(t, "sqlite")
	addMailRelay(t, s)
	r := s.sendEmail(s.key, emailSend([]map[string]any{{"email": "cat@example.com"}}, map[string]any{"subject": "Hi", "content": map[string]any{"text": "x"}}))
	if r.status != 202 {
		t.Fatalf("send %d %s", r.status, r.raw)
	}
	id := r.json["id"].(string)
	l := s.app.EmailLinks()
	unsub := l.UnsubscribeURL(s.accountID, id, 0)
	page := get(t, unsub)
	if page.status != 200 || !strings.Contains(string(page.raw), `method="post"`) || !strings.Contains(string(page.raw), "cat@example.com") {
		t.Fatalf("confirmation page %d %s", page.status, page.raw)
	}
	if cs, _ := s.app.store.Consents(context.Background(), s.accountID, "cat@example.com"); len(cs) != 0 {
		t.Fatal("GET unsubscribed")
	}
	px := get(t, l.OpenPixelURL(s.accountID, id, 0))
	if img, err := gif.Decode(bytes.NewReader(px.raw)); err != nil || img.Bounds().Dx() != 1 || px.header.Get("Content-Type") != "image/gif" {
		t.Fatalf("pixel: %v", err)
	}
	for _, bad := range []string{unsub + "x", strings.Replace(unsub, "/unsubscribe/", "/unsubscribe/A", 1), s.url + links.UnsubscribePath + "garbage"} {
		oneClick(t, bad, http.StatusNotFound)
	}
	if r := noRedirect(t, s.url+links.ClickPath+"abc.def"); r.StatusCode != 404 {
		t.Fatalf("a forged click: %d", r.StatusCode)
	}
	// Without the RFC 8058 body, nothing happens.
	resp, err := http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("x=y"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("POST without List-Unsubscribe=One-Click: %d", resp.StatusCode)
	}
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	out, err := exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
		"-H", "Content-Type: application/x-www-form-urlencoded", "--data", "List-Unsubscribe=One-Click", unsub).CombinedOutput()
	if err != nil || string(out) != "200" {
		t.Fatalf("curl: %s %v", out, err)
	}
	cs, _ := s.app.store.Consents(context.Background(), s.accountID, "cat@example.com")
	if len(cs) != 1 || cs[0].Action != store.OptOut {
		t.Fatalf("consents after curl %+v", cs)
	}
	oneClick(t, unsub, http.StatusOK) // again: no second ledger entry
	if cs, _ := s.app.store.Consents(context.Background(), s.accountID, "cat@example.com"); len(cs) != 1 {
		t.Fatalf("a repeated one-click added %d entries", len(cs))
	}
}

// Bad input at the door: each in MessageBird's error format, naming the
// parameter, nothing stored.
func TestEmailSendBadInput(t *testing.T) {
	s := start(t, "sqlite")
	addMailRelay(t, s)
	to := []map[string]any{{"email": "ann@example.com"}}
	cases := []struct {
		name  string
		body  any
		param string
	}{
		{"no type", map[string]any{"content": map[string]any{"email": map[string]any{}}}, "type"},
		{"text without a channel", map[string]any{"type": "text", "content": map[string]any{"text": "hi"}}, "from"},
		{"unknown type", map[string]any{"type": "sticker", "content": map[string]any{"text": "hi"}}, "type"},
		{"bad address", emailSend([]map[string]any{{"email": "not an address"}}, nil), "content.email.to[0].email"},
		{"display name in address", emailSend([]map[string]any{{"email": "Ann <ann@example.com>"}}, nil), "content.email.to[0].email"},
		{"no dot in domain", emailSend([]map[string]any{{"email": "ann@localhost"}}, nil), "content.email.to[0].email"},
		{"subject injection", emailSend(to, map[string]any{"subject": "Hi\r\nBcc: all@example.com"}), "content.email.subject"},
		{"name injection", emailSend([]map[string]any{{"email": "ann@example.com", "name": "Ann\nBcc: x@example.com"}}, nil), "content.email.to.name"},
		{"header injection", emailSend(to, map[string]any{"headers": map[string]any{"X-A": "1\r\nBcc: x@example.com"}}), "content.email.headers.X-A"},
		{"reserved header", emailSend(to, map[string]any{"headers": map[string]any{"Bcc": "x@example.com"}}), "content.email.headers.Bcc"},
		{"bad header name", emailSend(to, map[string]any{"headers": map[string]any{"X A": "1"}}), "content.email.headers"},
		{"unknown field", emailSend(to, map[string]any{"bcc": "x@example.com"}), "bcc"},
		{"attachment by URL", emailSend(to, map[string]any{"attachments": []map[string]any{{"name": "a.pdf", "URL": "http://10.0.0.1/a.pdf"}}}), "content.email.attachments[0].url"},
		{"attachment not base64", emailSend(to, map[string]any{"attachments": []map[string]any{{"name": "a.pdf", "content": "!!"}}}), "content.email.attachments[0].content"},
		{"inline image without id", emailSend(to, map[string]any{"inlineImages": []map[string]any{{"name": "a.png", "content": "iVBO"}}}), "content.email.inlineImages[0].contentId"},
		{"unknown template", emailSend(to, map[string]any{"subject": "", "content": nil, "template": map[string]any{"name": "welcome"}}), "content.email.template.name"},
		{"wrong JSON type", emailSend(to, map[string]any{"subject": 5}), "content.email.subject"},
		{"bad variable name", emailSend([]map[string]any{{"email": "ann@example.com", "variables": map[string]any{"a b": "x"}}}, nil), "content.email.to[0].variables"},
		{"bad report URL", emailSend(to, map[string]any{"reportUrl": "ftp://x"}), "reportUrl"},
		{"channel's own check", emailSend(to, map[string]any{"subject": strings.Repeat("s", 999)}), "content.email.subject"},
		{"no sender", map[string]any{"type": "email", "content": map[string]any{"email": map[string]any{"to": to, "subject": "x", "content": map[string]any{"text": "y"}}}}, "content.email.from"},
	}
	for _, c := range cases {
		r := s.sendEmail(s.key, c.body)
		if r.status != 422 {
			t.Errorf("%s: %d %s", c.name, r.status, r.raw)
			continue
		}
		if _, param, _ := errorOf(t, r); param != c.param {
			t.Errorf("%s: parameter %v, want %s (%s)", c.name, param, c.param, r.raw)
		}
	}
	if r := s.do("POST", "/v1/send", s.key, "application/json", []byte(`{"type":"email"`)); r.status != 400 {
		t.Errorf("truncated JSON: %d %s", r.status, r.raw)
	}
	if r := s.do("POST", "/v1/send", s.key, "application/json", bytes.Repeat([]byte(" "), 16<<20)); r.status != 413 {
		t.Errorf("oversized body: %d", r.status)
	}
	if r := s.do("POST", "/v1/send", "", "application/json", []byte(`{}`)); r.status != 401 {
		t.Errorf("no key: %d", r.status)
	}
	if r := s.get("/v1/messages?color=red"); r.status != 422 {
		t.Errorf("unknown list parameter: %d", r.status)
	}
	if r := s.get("/v1/messages"); r.json["totalCount"] != 0.0 {
		t.Errorf("something was stored: %s", r.raw)
	}
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
