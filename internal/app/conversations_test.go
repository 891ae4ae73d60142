package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/omnigate/omnigate/internal/api/conversations"
	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/webhook"
	"github.com/omnigate/omnigate/internal/worker"
)

// convReceiver is a customer's webhook endpoint: it checks each request's
// MessageBird-Signature-JWT, answers 500 to the first fail requests, and
// keeps the events it took, in the order it took them.
type convReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	fail     int
	failed   []map[string]any
	got      []map[string]any
	badSigns int
}

func newConvReceiver(t *testing.T, key string, fail int) *convReceiver {
	cr := &convReceiver{fail: fail}
	cr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		full := "http://" + r.Host + r.URL.RequestURI()
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(r.Header.Get(webhook.HeaderSignatureJWT), claims, func(*jwt.Token) (any, error) { return []byte(key), nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("MessageBird"), jwt.WithExpirationRequired())
		cr.mu.Lock()
		defer cr.mu.Unlock()
		if err != nil || claims["url_hash"] != sha256hex([]byte(full)) || claims["payload_hash"] != sha256hex(body) || r.Method != "POST" {
			cr.badSigns++
			t.Errorf("webhook %s %s: bad signature or request (%v)", r.Method, full, err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("webhook body is not JSON: %q", body)
		}
		if cr.fail > 0 {
			cr.fail--
			cr.failed = append(cr.failed, ev)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		cr.got = append(cr.got, ev)
	}))
	t.Cleanup(cr.srv.Close)
	return cr
}

// events are the taken events as "type status" lines ("" status for
// conversation events is the conversation's).
func (cr *convReceiver) events() []string {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	var out []string
	for _, ev := range cr.got {
		out = append(out, eventLine(ev))
	}
	return out
}

func eventLine(ev map[string]any) string {
	typ, _ := ev["type"].(string)
	if m, ok := ev["message"].(map[string]any); ok {
		return fmt.Sprintf("%s %s %s %s", typ, m["id"], m["direction"], m["status"])
	}
	c, _ := ev["conversation"].(map[string]any)
	return fmt.Sprintf("%s %s", typ, c["status"])
}

func (s *server) convDo(method, path, key string, v any) response {
	s.t.Helper()
	var body []byte
	ct := ""
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			s.t.Fatal(err)
		}
		ct = "application/json"
	}
	return s.do(method, path, key, ct, body)
}

// smsChannel gives the account the number 3197010000001 and a
// Conversations sms channel on it ("texts").
func (s *server) smsChannel() *store.ConvChannel {
	s.t.Helper()
	ctx := context.Background()
	if err := s.app.store.AddNumber(ctx, store.Number{Number: "3197010000001", AccountID: s.accountID, CreatedAt: time.Now()}); err != nil {
		s.t.Fatal(err)
	}
	sms, err := conversations.AddChannel(ctx, s.app.store, s.accountID, "sms", "+3197010000001", "texts")
	if err != nil {
		s.t.Fatal(err)
	}
	return sms
}

// The Conversations API end to end, on an SMS channel: start → list → get
// → reply (delivered by the SMSC simulator) → an inbound SMS continues the
// conversation → archive → an inbound SMS reopens it; the contact is
// created on first contact; webhook events arrive signed, in order,
// although the receiver fails the first attempt.
func TestConversationsLifecycle(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) {
			c.Demo = false
			c.Webhook.Retry = worker.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}
		})
		ctx := context.Background()
		sms := s.smsChannel()
		other, otherKey, _, _ := s.newAccount("other")
		theirs, err := conversations.AddChannel(ctx, s.app.store, other, "sms", "Other", "")
		if err != nil {
			t.Fatal(err)
		}
		rx := newConvReceiver(t, s.signingKey, 1)
		hook := s.convDo("POST", "/v1/webhooks", s.key, map[string]any{"channelId": sms.ID, "url": rx.srv.URL + "/hook",
			"events": []string{"conversation.created", "conversation.updated", "message.created", "message.updated"}})
		if hook.status != http.StatusCreated || hook.json["status"] != "enabled" || hook.json["channelId"] != sms.ID || len(hook.json["events"].([]any)) != 4 {
			t.Fatalf("POST /v1/webhooks = %d %s", hook.status, hook.raw)
		}

		srv := s.useSMSC(smsc.Config{SystemID: "omnigate"}, smppconn.Settings{})
		waitFor(t, "the connector to bind", 10*time.Second, func() bool { return s.app.connectors.Running()["carrier"] > 0 })

		r := s.convDo("POST", "/v1/conversations/start", s.key, map[string]any{"to": "+31612345678", "channelId": sms.ID, "type": "text",
			"content": map[string]any{"text": "Your parcel ships today"}, "source": map[string]any{"crm": "x"}})
		if r.status != http.StatusCreated || r.json["status"] != "active" || r.json["lastUsedChannelId"] != sms.ID {
			t.Fatalf("POST /v1/conversations/start = %d %s", r.status, r.raw)
		}
		conv := r.json
		convID := conv["id"].(string)
		if l := s.get("/v1/conversations/" + convID + "/messages"); l.status != 200 || fmt.Sprint(listItems(l.json)[0]["source"]) != "map[crm:x]" {
			t.Fatalf("the first message keeps its source: %s", l.raw)
		}
		contact := conv["contact"].(map[string]any)
		if len(convID) != 32 || conv["contactId"] == "" || contact["id"] != conv["contactId"] || contact["msisdn"] != 31612345678.0 ||
			len(conv["channels"].([]any)) != 1 || conv["channels"].([]any)[0].(map[string]any)["id"] != sms.ID ||
			conv["messages"].(map[string]any)["totalCount"] != 1.0 || conv["lastReceivedDatetime"] != nil {
			t.Fatalf("started conversation %s", r.raw)
		}
		// The contact is in the address book (the REST door's /contacts).
		if c := s.get("/contacts?msisdn=31612345678"); c.status != 200 || c.json["totalCount"] != 1.0 || listItems(c.json)[0]["id"] != conv["contactId"] {
			t.Fatalf("GET /contacts = %d %s", c.status, c.raw)
		}
		// Starting again continues the contact's active conversation.
		r = s.convDo("POST", "/v1/conversations/start", s.key, map[string]any{"to": "31612345678", "channelId": sms.ID, "type": "text",
			"content": map[string]any{"text": "Track it at example.com"}})
		if r.status != http.StatusCreated || r.json["id"] != convID || r.json["messages"].(map[string]any)["totalCount"] != 2.0 {
			t.Fatalf("second start = %d %s", r.status, r.raw)
		}
		// POST /v1/send to the contact joins it too.
		r = s.convDo("POST", "/v1/send", s.key, map[string]any{"to": "+31612345678", "from": sms.ID, "type": "text", "content": map[string]any{"text": "via send"}})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /v1/send = %d %s", r.status, r.raw)
		}
		if g := s.get("/v1/messages/" + r.json["id"].(string)); g.json["conversationId"] != convID || g.json["source"] != nil {
			t.Fatalf("a /v1/send message %s", g.raw)
		}

		list := s.get("/v1/conversations")
		if list.status != 200 || list.json["totalCount"] != 1.0 || listItems(list.json)[0]["id"] != convID {
			t.Fatalf("GET /v1/conversations = %d %s", list.status, list.raw)
		}
		for q, want := range map[string]float64{"?status=archived": 0, "?status=active": 1, "?ids=" + convID + ",ffff": 1, "?limit=1&offset=1": 1} {
			if l := s.get("/v1/conversations" + q); l.status != 200 || l.json["totalCount"] != want {
				t.Fatalf("GET /v1/conversations%s = %d %s", q, l.status, l.raw)
			}
		}
		if g := s.get("/v1/conversations/" + convID); g.status != 200 || g.json["id"] != convID {
			t.Fatalf("GET /v1/conversations/{id} = %d %s", g.status, g.raw)
		}

		reply := s.convDo("POST", "/v1/conversations/"+convID+"/messages", s.key, map[string]any{"type": "text", "content": map[string]any{"text": "Reply"}})
		if reply.status != http.StatusAccepted || reply.json["conversationId"] != convID || reply.json["platform"] != "sms" || reply.json["channelId"] != sms.ID ||
			reply.json["direction"] != "sent" || reply.json["to"] != "31612345678" {
			t.Fatalf("reply = %d %s", reply.status, reply.raw)
		}
		replyID := reply.json["id"].(string)
		s.waitConvStatus(replyID, "delivered")

		if err := srv.Inject("", "+31612345678", "3197010000001", "Thanks!"); err != nil {
			t.Fatal(err)
		}
		var msgs response
		waitFor(t, "the inbound SMS in the conversation", 10*time.Second, func() bool {
			msgs = s.get("/v1/conversations/" + convID + "/messages")
			return msgs.status == 200 && msgs.json["totalCount"] == 5.0
		})
		newest := listItems(msgs.json)[0]
		if newest["direction"] != "received" || newest["status"] != "received" || newest["conversationId"] != convID ||
			newest["content"].(map[string]any)["text"] != "Thanks!" || newest["from"] != "31612345678" || newest["channelId"] != sms.ID {
			t.Fatalf("newest conversation message %v", newest)
		}
		if listItems(msgs.json)[1]["id"] != replyID {
			t.Fatalf("conversation messages not newest first: %s", msgs.raw)
		}
		if g := s.get("/v1/conversations/" + convID); g.json["lastReceivedDatetime"] == nil || g.json["messages"].(map[string]any)["lastMessageId"] != newest["id"] {
			t.Fatalf("conversation after inbound %s", g.raw)
		}
		if l := s.get("/v1/conversations/" + convID + "/messages?excludePlatforms=sms"); l.status != 200 || l.json["totalCount"] != 0.0 {
			t.Fatalf("excludePlatforms=sms = %d %s", l.status, l.raw)
		}

		a := s.convDo("PATCH", "/v1/conversations/"+convID, s.key, map[string]any{"status": "archived"})
		if a.status != 200 || a.json["status"] != "archived" {
			t.Fatalf("archive = %d %s", a.status, a.raw)
		}
		if l := s.get("/v1/conversations?status=archived"); l.json["totalCount"] != 1.0 {
			t.Fatalf("archived list %s", l.raw)
		}
		if err := srv.Inject("", "+31612345678", "3197010000001", "Hello again"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "an inbound SMS to reopen the conversation", 10*time.Second, func() bool {
			g := s.get("/v1/conversations/" + convID)
			return g.json["status"] == "active" && g.json["messages"].(map[string]any)["totalCount"] == 6.0
		})
		if l := s.get("/v1/conversations"); l.json["totalCount"] != 1.0 {
			t.Fatalf("a reopened conversation is still one: %s", l.raw)
		}
		// GET /v1/messages lists conversation messages too.
		if l := s.get("/v1/messages"); l.status != 200 || l.json["totalCount"] != 6.0 || listItems(l.json)[0]["direction"] != "received" {
			t.Fatalf("GET /v1/messages = %d %s", l.status, l.raw)
		}
		if l := s.get("/v1/messages?recipient=%2B31612345678"); l.status != 200 || l.json["totalCount"] != 4.0 {
			t.Fatalf("GET /v1/messages?recipient = %d %s", l.status, l.raw)
		}

		// The contact's conversations (the Go SDK's ListByContact).
		if l := s.get("/v1/conversations/contact/" + conv["contactId"].(string)); l.status != 200 || l.json["totalCount"] != 1.0 ||
			l.json["items"].([]any)[0] != convID {
			t.Fatalf("GET /v1/conversations/contact/{id} = %d %s", l.status, l.raw)
		}
		if g := s.get("/v1/conversations/" + convID + "/other"); g.status != http.StatusNotFound {
			t.Fatalf("GET /v1/conversations/{id}/other = %d %s", g.status, g.raw)
		}
		if g := s.do("GET", "/v1/conversations/contact/"+conv["contactId"].(string), otherKey, "", nil); g.json["totalCount"] != 0.0 {
			t.Fatalf("another account's contact list %s", g.raw)
		}

		// Another account sees none of it.
		for _, p := range []string{"/v1/conversations/" + convID, "/v1/conversations/" + convID + "/messages", "/v1/webhooks/" + hook.json["id"].(string)} {
			if g := s.do("GET", p, otherKey, "", nil); g.status != http.StatusNotFound {
				t.Fatalf("another account's GET %s = %d %s", p, g.status, g.raw)
			}
		}
		if g := s.do("GET", "/v1/conversations", otherKey, "", nil); g.json["totalCount"] != 0.0 {
			t.Fatalf("another account's list %s", g.raw)
		}
		if g := s.convDo("PATCH", "/v1/conversations/"+convID, otherKey, map[string]any{"status": "archived"}); g.status != http.StatusNotFound {
			t.Fatalf("another account's PATCH = %d %s", g.status, g.raw)
		}
		if g := s.convDo("POST", "/v1/conversations/"+convID+"/messages", otherKey, map[string]any{"type": "text", "content": map[string]any{"text": "x"}}); g.status != http.StatusNotFound {
			t.Fatalf("another account's reply = %d %s", g.status, g.raw)
		}

		// Bad input: the door's errors, nothing changes.
		for _, c := range []struct {
			method, path string
			body         any
			status       int
			param        string
		}{
			{"POST", "/v1/conversations/start", map[string]any{"to": "+31612345678", "channelId": theirs.ID, "type": "text", "content": map[string]any{"text": "x"}}, 422, "channelId"},
			{"POST", "/v1/conversations/start", map[string]any{"to": "+31612345678", "channelId": "nope", "type": "text", "content": map[string]any{"text": "x"}}, 422, "channelId"},
			{"POST", "/v1/conversations/start", map[string]any{"to": "+31612345678", "type": "text", "content": map[string]any{"text": "x"}}, 422, "channelId"},
			{"POST", "/v1/conversations/start", map[string]any{"to": "shop", "channelId": sms.ID, "type": "text", "content": map[string]any{"text": "x"}}, 422, "to"},
			{"POST", "/v1/conversations/start", map[string]any{"to": "+31612345678", "channelId": sms.ID, "type": "text", "content": map[string]any{"image": map[string]any{"url": "https://x.example/a.png"}}}, 422, "content.image"},
			{"POST", "/v1/conversations/start", map[string]any{"to": "+31612345678", "channelId": sms.ID, "type": "text", "content": map[string]any{"text": "x"}, "colour": "red"}, 422, "colour"},
			{"PATCH", "/v1/conversations/" + convID, map[string]any{"status": "closed"}, 422, "status"},
			{"PATCH", "/v1/conversations/" + convID, map[string]any{}, 422, "status"},
			{"PATCH", "/v1/conversations/ffffffffffffffffffffffffffffffff", map[string]any{"status": "archived"}, 404, ""},
			{"POST", "/v1/conversations/" + convID + "/messages", map[string]any{"type": "text", "content": map[string]any{"text": "x"}, "channelId": theirs.ID}, 422, "channelId"},
			{"POST", "/v1/webhooks", map[string]any{"channelId": theirs.ID, "url": "https://x.example/h", "events": []string{"message.created"}}, 422, "channelId"},
			{"POST", "/v1/webhooks", map[string]any{"channelId": strings.Repeat("0", 32), "url": "https://x.example/h", "events": []string{"message.created"}}, 422, "channelId"},
			{"POST", "/v1/webhooks", map[string]any{"url": "ftp://x.example/h", "events": []string{"message.created"}}, 422, "url"},
			{"POST", "/v1/webhooks", map[string]any{"url": "/h", "events": []string{"message.created"}}, 422, "url"},
			{"POST", "/v1/webhooks", map[string]any{"events": []string{"message.created"}}, 422, "url"},
			{"POST", "/v1/webhooks", map[string]any{"url": "https://x.example/h", "events": []string{"message.created", "message.deleted"}}, 422, "events[1]"},
			{"POST", "/v1/webhooks", map[string]any{"url": "https://x.example/h", "events": []string{}}, 422, "events"},
			{"POST", "/v1/webhooks", map[string]any{"url": "https://x.example/h", "events": []string{"message.created"}, "settings": "x"}, 422, "settings"},
			{"PATCH", "/v1/webhooks/" + hook.json["id"].(string), map[string]any{"status": "paused"}, 422, "status"},
		} {
			g := s.convDo(c.method, c.path, s.key, c.body)
			code, param, _ := errorOf(t, g)
			if g.status != c.status || (c.param != "" && param != c.param) || code == 0 {
				t.Errorf("%s %s %v = %d %s; want %d naming %s", c.method, c.path, c.body, g.status, g.raw, c.status, c.param)
			}
		}
		if l := s.get("/v1/webhooks"); l.json["totalCount"] != 1.0 {
			t.Fatalf("webhooks after bad input: %s", l.raw)
		}
		// A first message the pipeline refuses (an SMS of more than 16
		// parts) leaves no conversation behind, through either endpoint.
		long := strings.Repeat("x", 3000)
		for _, c := range []struct{ path, chField string }{{"/v1/conversations/start", "channelId"}, {"/v1/send", "from"}} {
			g := s.convDo("POST", c.path, s.key, map[string]any{"to": "+31612349999", c.chField: sms.ID, "type": "text", "content": map[string]any{"text": long}})
			if code, param, _ := errorOf(t, g); g.status != 422 || code != 10 || param != "content.text" {
				t.Fatalf("a refused first message on %s = %d %s", c.path, g.status, g.raw)
			}
		}
		if l := s.get("/v1/conversations"); l.json["totalCount"] != 1.0 {
			t.Fatalf("a refused first message left a conversation: %s", l.raw)
		}

		// Webhooks CRUD.
		hookID := hook.json["id"].(string)
		if g := s.get("/v1/webhooks/" + hookID); g.status != 200 || g.json["url"] != rx.srv.URL+"/hook" {
			t.Fatalf("GET /v1/webhooks/{id} = %d %s", g.status, g.raw)
		}
		w2 := s.convDo("POST", "/v1/webhooks", s.key, map[string]any{"url": "https://x.example/h2", "events": []string{"message.created"},
			"settings": map[string]any{"retry": 3}})
		if w2.status != http.StatusCreated || w2.json["channelId"] != "" || w2.json["settings"].(map[string]any)["retry"] != 3.0 {
			t.Fatalf("second webhook = %d %s", w2.status, w2.raw)
		}
		w2id := w2.json["id"].(string)
		if p := s.convDo("PATCH", "/v1/webhooks/"+w2id, s.key, map[string]any{"status": "disabled", "events": []string{"message.updated"}}); p.status != 200 ||
			p.json["status"] != "disabled" || p.json["events"].([]any)[0] != "message.updated" || p.json["updatedDatetime"] == nil {
			t.Fatalf("PATCH webhook = %d %s", p.status, p.raw)
		}
		if l := s.get("/v1/webhooks?limit=1&offset=1"); l.status != 200 || l.json["totalCount"] != 2.0 || l.json["count"] != 1.0 || listItems(l.json)[0]["id"] != w2id {
			t.Fatalf("GET /v1/webhooks = %d %s", l.status, l.raw)
		}
		if d := s.do("DELETE", "/v1/webhooks/"+w2id, otherKey, "", nil); d.status != http.StatusNotFound {
			t.Fatalf("another account's DELETE = %d %s", d.status, d.raw)
		}
		if d := s.do("DELETE", "/v1/webhooks/"+w2id, s.key, "", nil); d.status != http.StatusNoContent {
			t.Fatalf("DELETE webhook = %d %s", d.status, d.raw)
		}
		if g := s.get("/v1/webhooks/" + w2id); g.status != http.StatusNotFound {
			t.Fatalf("deleted webhook = %d %s", g.status, g.raw)
		}

		// The events: the first attempt failed and was retried; then every
		// event of the conversation in order.
		waitFor(t, "the webhook events", 20*time.Second, func() bool {
			evs := rx.events()
			return len(evs) > 0 && evs[len(evs)-1] != "" && countPrefix(evs, "message.created") == 6 && countPrefix(evs, "conversation.updated") == 2 &&
				contains(evs, "message.updated "+replyID+" sent delivered")
		})
		evs := rx.events()
		rx.mu.Lock()
		failed := rx.failed
		rx.mu.Unlock()
		if len(failed) != 1 || eventLine(failed[0]) != "conversation.created active" || evs[0] != "conversation.created active" {
			t.Fatalf("first attempt %v, then %v", failed, evs)
		}
		checkEventOrder(t, evs)
		// The archive comes before the inbound message that reopened it.
		archived, reopened := index(evs, "conversation.updated archived"), index(evs, "conversation.updated active")
		if archived < 0 || reopened < archived {
			t.Fatalf("conversation updates out of order: %v", evs)
		}
		for _, ev := range rx.got {
			if ev["contact"].(map[string]any)["id"] != conv["contactId"] || ev["conversation"].(map[string]any)["id"] != convID {
				t.Fatalf("event %v", ev)
			}
		}
	})
}

// checkEventOrder checks each message's events: created first, then its
// statuses as they happened (sent before delivered).
func checkEventOrder(t *testing.T, evs []string) {
	t.Helper()
	created := map[string]int{}
	rank := map[string]int{"accepted": 0, "sent": 1, "delivered": 2, "read": 3}
	last := map[string]int{}
	for i, e := range evs {
		f := strings.Fields(e)
		if len(f) < 4 {
			continue
		}
		switch f[0] {
		case "message.created":
			created[f[1]] = i
			last[f[1]] = -1
		case "message.updated":
			if _, ok := created[f[1]]; !ok {
				t.Fatalf("message.updated before message.created: %v", evs)
			}
			if r, ok := rank[f[3]]; ok {
				if r < last[f[1]] {
					t.Fatalf("statuses out of order: %v", evs)
				}
				last[f[1]] = r
			}
		}
	}
}

func countPrefix(ss []string, p string) int {
	n := 0
	for _, s := range ss {
		if strings.HasPrefix(s, p) {
			n++
		}
	}
	return n
}

func contains(ss []string, s string) bool { return index(ss, s) >= 0 }

func index(ss []string, s string) int {
	for i, x := range ss {
		if strings.HasPrefix(x, s) {
			return i
		}
	}
	return -1
}

// waitConvStatus waits for a Conversations message to reach status.
func (s *server) waitConvStatus(id, status string) {
	s.t.Helper()
	waitFor(s.t, "message "+id+" "+status, 20*time.Second, func() bool {
		g := s.get("/v1/messages/" + id)
		return g.json["status"] == status
	})
}

// listItems are a list answer's items.
func listItems(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, it := range m["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// Webhook deliveries under a receiver that fails every third request: a
// conversation's later event never overtakes an earlier one that failed
// (it is retried first), while other conversations go on; every event
// arrives once the receiver takes them, each message's statuses in order.
func TestConversationWebhooksOrderedUnderFailures(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) {
			c.Webhook.Retry = worker.Backoff{Min: 30 * time.Millisecond, Max: 120 * time.Millisecond}
		})
		ctx := context.Background()
		sms, err := conversations.AddChannel(ctx, s.app.store, s.accountID, "sms", "Shop", "")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		n := 0
		pending := map[string]string{} // conversation → the event that failed last
		got := map[string][]string{}   // conversation → events taken, in order
		overtaken := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if err := verifyJWTBody(r, s.signingKey, body); err != nil {
				t.Errorf("webhook signature: %v", err)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			var ev map[string]any
			if err := json.Unmarshal(body, &ev); err != nil {
				t.Errorf("webhook body %q", body)
				return
			}
			conv := ev["conversation"].(map[string]any)["id"].(string)
			line := eventLine(ev)
			mu.Lock()
			defer mu.Unlock()
			n++
			if p := pending[conv]; p != "" && p != line {
				overtaken++
				t.Errorf("conversation %s: %q delivered while %q had failed and was not retried yet", conv, line, p)
			}
			if n%3 == 0 {
				pending[conv] = line
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			delete(pending, conv)
			got[conv] = append(got[conv], line)
		}))
		t.Cleanup(srv.Close)
		if r := s.convDo("POST", "/v1/webhooks", s.key, map[string]any{"url": srv.URL + "/events",
			"events": []string{"conversation.created", "message.created", "message.updated"}}); r.status != http.StatusCreated {
			t.Fatalf("POST /v1/webhooks = %d %s", r.status, r.raw)
		}
		const convs, replies = 4, 3
		var ids []string
		for i := 0; i < convs; i++ {
			r := s.convDo("POST", "/v1/conversations/start", s.key, map[string]any{"to": fmt.Sprintf("+3161234560%d", i), "channelId": sms.ID,
				"type": "text", "content": map[string]any{"text": "start"}})
			if r.status != http.StatusCreated {
				t.Fatalf("start = %d %s", r.status, r.raw)
			}
			id := r.json["id"].(string)
			ids = append(ids, id)
			for j := 0; j < replies; j++ {
				if r := s.convDo("POST", "/v1/conversations/"+id+"/messages", s.key, map[string]any{"type": "text",
					"content": map[string]any{"text": fmt.Sprintf("reply %d", j)}}); r.status != http.StatusAccepted {
					t.Fatalf("reply = %d %s", r.status, r.raw)
				}
			}
		}
		waitFor(t, "every conversation's events", 30*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				evs := got[id]
				if countPrefix(evs, "message.created") != 1+replies || countWith(evs, " delivered") != 1+replies {
					return false
				}
			}
			return true
		})
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			evs := got[id]
			if evs[0] != "conversation.created active" {
				t.Fatalf("conversation %s began with %q: %v", id, evs[0], evs)
			}
			checkEventOrder(t, evs)
		}
		if overtaken != 0 || n < 3 {
			t.Fatalf("%d requests, %d overtaken", n, overtaken)
		}
		// Every call is in the log of webhook attempts, with its code.
		failures := n / 3
		waitFor(t, "the attempts logged", 10*time.Second, func() bool {
			list, err := s.app.store.WebhookAttempts(ctx, s.accountID, store.WebhookAttemptFilter{Kind: store.AttemptConversation, Limit: 100000})
			if err != nil {
				t.Fatal(err)
			}
			ok, failed := 0, 0
			for _, a := range list {
				switch {
				case a.Code == http.StatusServiceUnavailable && a.Outcome == store.AttemptRetry && a.URL == srv.URL+"/events":
					failed++
				case a.Code == http.StatusOK && a.Outcome == store.AttemptOK && a.WebhookID != "" && a.Event != "":
					ok++
				}
				// What the console's re-send queues again: the conversation.
				var rd store.ResentDelivery
				if json.Unmarshal([]byte(a.Payload), &rd) != nil || rd.ConversationID == "" {
					t.Fatalf("attempt %d keeps no delivery to re-send: %q", a.ID, a.Payload)
				}
			}
			return failed == failures && ok == n-failures
		})
	})
}

func countWith(ss []string, sub string) int {
	k := 0
	for _, s := range ss {
		if strings.Contains(s, sub) {
			k++
		}
	}
	return k
}

// verifyJWTBody checks a request's MessageBird-Signature-JWT against its
// URL and body.
func verifyJWTBody(r *http.Request, key string, body []byte) error {
	full := "http://" + r.Host + r.URL.RequestURI()
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(r.Header.Get(webhook.HeaderSignatureJWT), claims, func(*jwt.Token) (any, error) { return []byte(key), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("MessageBird"), jwt.WithExpirationRequired()); err != nil {
		return err
	}
	if claims["url_hash"] != sha256hex([]byte(full)) || claims["payload_hash"] != sha256hex(body) {
		return errString("url_hash or payload_hash does not match")
	}
	return nil
}

// An inbound WhatsApp message (the demo handset's, through the Cloud API
// simulator and the connector's signed webhook) opens a conversation on the
// account's whatsapp channel; a reply in it goes out on WhatsApp and
// reaches read.
func TestConversationsWhatsApp(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		key := s.app.Demo.Key
		var conv map[string]any
		waitFor(t, "the demo handset's conversation", 15*time.Second, func() bool {
			l := s.do("GET", "/v1/conversations", key, "", nil)
			if l.status != 200 || l.json["totalCount"] != 1.0 {
				return false
			}
			conv = listItems(l.json)[0]
			return conv["messages"].(map[string]any)["totalCount"] == 1.0
		})
		if conv["lastUsedChannelId"] != s.app.demoWhatsAppChannel || conv["lastUsedPlatformId"] != "whatsapp" || conv["lastReceivedDatetime"] == nil ||
			conv["contact"].(map[string]any)["msisdn"] != mustNumber(t, DemoHandset) {
			t.Fatalf("conversation %s", mustMarshal(conv))
		}
		id := conv["id"].(string)
		r := s.convDo("POST", "/v1/conversations/"+id+"/messages", key, map[string]any{"type": "text", "content": map[string]any{"text": "How can we help?"}})
		if r.status != http.StatusAccepted || r.json["platform"] != "whatsapp" || r.json["conversationId"] != id {
			t.Fatalf("reply = %d %s", r.status, r.raw)
		}
		msgID := r.json["id"].(string)
		waitFor(t, "the reply read", 15*time.Second, func() bool {
			g := s.do("GET", "/v1/messages/"+msgID, key, "", nil)
			return g.status == 200 && g.json["status"] == "read"
		})
		l := s.do("GET", "/v1/conversations/"+id+"/messages", key, "", nil)
		if l.status != 200 || l.json["totalCount"] != 2.0 || listItems(l.json)[0]["id"] != msgID || listItems(l.json)[1]["direction"] != "received" ||
			listItems(l.json)[1]["platform"] != "whatsapp" {
			t.Fatalf("conversation messages = %d %s", l.status, l.raw)
		}
	})
}

func mustNumber(t *testing.T, digits string) float64 {
	t.Helper()
	n, err := json.Number(strings.TrimPrefix(digits, "+")).Float64()
	if err != nil {
		t.Fatalf("%q is not a number: %v", digits, err)
	}
	return n
}

// benchSetup, when set, prepares benchEndToEnd's server before the run.
var benchSetup func(b *testing.B, s *server)

// BenchmarkEndToEndConvWebhook is BenchmarkEndToEnd (SQLite, window 50)
// while another account has a Conversations webhook: every status change
// then also looks for a conversation to report to (none here), the cost
// that webhooks put on SMS traffic outside conversations.
//
//	go test -run '^$' -bench 'BenchmarkEndToEndConvWebhook|BenchmarkEndToEnd/sqlite/window=50' -benchtime 5000x ./internal/app/
func BenchmarkEndToEndConvWebhook(b *testing.B) {
	benchSetup = func(b *testing.B, s *server) {
		_, key, _, _ := s.newAccount("hooked")
		r := s.convDo("POST", "/v1/webhooks", key, map[string]any{"url": "http://127.0.0.1:9/h", "events": []string{"message.updated"}})
		if r.status != http.StatusCreated {
			b.Fatalf("POST /v1/webhooks = %d %s", r.status, r.raw)
		}
	}
	defer func() { benchSetup = nil }()
	benchEndToEnd(b, "sqlite", 50)
}

// Concurrent starts to one number make one conversation and one contact.
func TestConversationsConcurrentStarts(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		sms, err := conversations.AddChannel(context.Background(), s.app.store, s.accountID, "sms", "Shop", "")
		if err != nil {
			t.Fatal(err)
		}
		const n = 12
		ids := make(chan string, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, _ := json.Marshal(map[string]any{"to": "+31612340077", "channelId": sms.ID, "type": "text", "content": map[string]any{"text": "hi"}})
				req, _ := http.NewRequest("POST", s.url+"/v1/conversations/start", strings.NewReader(string(b)))
				req.Header.Set("Authorization", "AccessKey "+s.key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				var c map[string]any
				if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&c) != nil {
					t.Errorf("start = %d", resp.StatusCode)
					return
				}
				ids <- c["id"].(string)
			}()
		}
		wg.Wait()
		close(ids)
		seen := map[string]bool{}
		for id := range ids {
			seen[id] = true
		}
		if len(seen) != 1 {
			t.Fatalf("%d concurrent starts made %d conversations", n, len(seen))
		}
		for id := range seen {
			if g := s.get("/v1/conversations/" + id); g.json["messages"].(map[string]any)["totalCount"] != float64(n) {
				t.Fatalf("conversation %s", g.raw)
			}
		}
		if c := s.get("/contacts?msisdn=31612340077"); c.json["totalCount"] != 1.0 {
			t.Fatalf("contacts %s", c.raw)
		}
	})
}

// POST /v1/conversations {contactId} (the PHP SDK's conversations->create)
// opens the contact's conversation without a message; its first message
// names the channel, and opening it again continues it on that channel.
func TestConversationCreateForContact(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.Demo = false })
		sms := s.smsChannel()
		rx := newConvReceiver(t, s.signingKey, 0)
		if hook := s.convDo("POST", "/v1/webhooks", s.key, map[string]any{"channelId": sms.ID, "url": rx.srv.URL + "/hook",
			"events": []string{"conversation.created"}}); hook.status != http.StatusCreated {
			t.Fatalf("POST /v1/webhooks = %d %s", hook.status, hook.raw)
		}
		c := s.convDo("POST", "/contacts", s.key, map[string]any{"msisdn": "31612340000", "firstName": "Noor"})
		if c.status != http.StatusCreated {
			t.Fatalf("POST /contacts = %d %s", c.status, c.raw)
		}
		contactID := c.json["id"].(string)
		r := s.convDo("POST", "/v1/conversations", s.key, map[string]any{"contactId": contactID})
		if r.status != http.StatusCreated || r.json["status"] != "active" || r.json["contactId"] != contactID ||
			len(r.json["channels"].([]any)) != 0 || r.json["messages"].(map[string]any)["totalCount"] != 0.0 {
			t.Fatalf("POST /v1/conversations = %d %s", r.status, r.raw)
		}
		convID := r.json["id"].(string)
		// Its first message needs a channel: it has none yet.
		if m := s.convDo("POST", "/v1/conversations/"+convID+"/messages", s.key, map[string]any{"type": "text",
			"content": map[string]any{"text": "Hello"}}); m.status != http.StatusUnprocessableEntity || !strings.Contains(string(m.raw), "channelId") {
			t.Fatalf("a first reply without channelId = %d %s", m.status, m.raw)
		}
		if m := s.convDo("POST", "/v1/conversations/"+convID+"/messages", s.key, map[string]any{"type": "text", "channelId": sms.ID,
			"content": map[string]any{"text": "Hello"}}); m.status != http.StatusAccepted || m.json["to"] != "31612340000" {
			t.Fatalf("a first reply = %d %s", m.status, m.raw)
		}
		// Its conversation.created waited for a channel: it goes to the
		// webhooks of the channel its first message took.
		waitFor(t, "conversation.created", 10*time.Second, func() bool { return slices.Contains(rx.events(), "conversation.created active") })
		// Opened again (at the root too, as the SDK sends it on one base
		// URL): the same conversation, its channel kept.
		r = s.convDo("POST", "/conversations", s.key, map[string]any{"contactId": contactID})
		if r.status != http.StatusCreated || r.json["id"] != convID || r.json["lastUsedChannelId"] != sms.ID ||
			r.json["messages"].(map[string]any)["totalCount"] != 1.0 {
			t.Fatalf("POST /conversations again = %d %s", r.status, r.raw)
		}
		for _, bad := range []struct {
			body any
			want int
			says string
		}{
			{map[string]any{}, http.StatusUnprocessableEntity, "contactId"},
			{map[string]any{"contactId": "ffffffffffffffffffffffffffffffff"}, http.StatusUnprocessableEntity, "no contact"},
			{map[string]any{"contactId": contactID, "to": "31612340000"}, http.StatusUnprocessableEntity, "to"},
			{"not an object", http.StatusBadRequest, "JSON object"},
		} {
			if r := s.convDo("POST", "/v1/conversations", s.key, bad.body); r.status != bad.want || !strings.Contains(string(r.raw), bad.says) {
				t.Errorf("POST /v1/conversations %v = %d %s, want %d naming %q", bad.body, r.status, r.raw, bad.want, bad.says)
			}
		}
		if r := s.convDo("POST", "/v1/conversations", s.testKey, map[string]any{"contactId": contactID}); r.status == http.StatusCreated {
			t.Fatalf("a test key opened a conversation: %s", r.raw)
		}
		if l := s.get("/v1/conversations"); l.json["totalCount"] != 1.0 {
			t.Fatalf("conversations after the refusals: %s", l.raw)
		}
	})
}
