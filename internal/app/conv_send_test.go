package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/api/conversations"
)

// Conversations channels: an account lists only its own; POST /v1/send
// with type text from an sms channel goes out as an SMS through the
// pipeline, reads back in the Conversations shape and reports as a signed
// JSON POST; an email channel's id works as the email path's from.
func TestConversationsChannelsAndTextSend(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		ctx := context.Background()
		sms, err := conversations.AddChannel(ctx, s.app.store, s.accountID, "sms", "Shop", "texts")
		if err != nil {
			t.Fatal(err)
		}
		other, _, _, _ := s.newAccount("other")
		theirs, err := conversations.AddChannel(ctx, s.app.store, other, "sms", "Other", "")
		if err != nil {
			t.Fatal(err)
		}
		r := s.get("/v1/channels")
		list, _ := r.json["items"].([]any)
		if r.status != 200 || r.json["totalCount"] != 1.0 || len(list) != 1 || list[0].(map[string]any)["id"] != sms.ID ||
			list[0].(map[string]any)["platformId"] != "sms" || list[0].(map[string]any)["name"] != "texts" {
			t.Fatalf("GET /v1/channels = %d %s", r.status, r.raw)
		}
		if r := s.get("/v1/channels/" + theirs.ID); r.status != http.StatusNotFound {
			t.Fatalf("another account's channel = %d %s", r.status, r.raw)
		}

		sink := newJSONSink(t, s.signingKey)
		r = s.sendEmail(s.key, map[string]any{"to": "+31612345678", "from": sms.ID, "type": "text",
			"content": map[string]any{"text": "Your code is 1234"}, "reportUrl": sink.srv.URL + "/r", "source": map[string]any{"agent": "x"}})
		if r.status != http.StatusAccepted || r.json["status"] != "accepted" {
			t.Fatalf("POST /v1/send text = %d %s", r.status, r.raw)
		}
		id := r.json["id"].(string)
		var msg map[string]any
		waitFor(t, "the SMS delivered", 20*time.Second, func() bool {
			g := s.get("/v1/messages/" + id)
			if g.status != 200 {
				t.Fatalf("GET /v1/messages/%s = %d %s", id, g.status, g.raw)
			}
			msg = g.json
			return msg["status"] == "delivered"
		})
		if msg["platform"] != "sms" || msg["type"] != "text" || msg["channelId"] != sms.ID || msg["from"] != "Shop" ||
			msg["to"] != "31612345678" || msg["content"].(map[string]any)["text"] != "Your code is 1234" {
			t.Fatalf("message %s", mustMarshal(msg))
		}
		// The REST door sees the same SMS.
		if g := s.get("/messages/" + id); g.status != 200 || g.json["body"] != "Your code is 1234" {
			t.Fatalf("GET /messages/%s = %d %s", id, g.status, g.raw)
		}
		waitFor(t, "the delivered report", 10*time.Second, func() bool { return sink.has("31612345678 delivered") })

		// Errors in the door's format, nothing sent.
		for _, c := range []struct {
			body   map[string]any
			status int
			param  string
		}{
			{map[string]any{"to": "+31612345678", "from": theirs.ID, "type": "text", "content": map[string]any{"text": "x"}}, 422, "from"},
			{map[string]any{"to": "+31612345678", "from": strings.Repeat("ab", 16), "type": "text", "content": map[string]any{"text": "x"}}, 422, "from"},
			{map[string]any{"to": "+31612345678", "from": "not-an-id", "type": "text", "content": map[string]any{"text": "x"}}, 422, "from"},
			{map[string]any{"to": "+31612345678", "type": "text", "content": map[string]any{"text": "x"}}, 422, "from"},
			{map[string]any{"to": "+31612345678", "from": sms.ID, "type": "text", "content": map[string]any{"image": map[string]any{"url": "https://x.example/a.png"}}}, 422, "content.image"},
			{map[string]any{"to": "+31612345678", "from": sms.ID, "type": "text", "content": map[string]any{}}, 422, "content.text"},
			{map[string]any{"to": "+31612345678", "from": sms.ID, "type": "image", "content": map[string]any{"image": map[string]any{"url": "https://x.example/a.png"}}}, 422, "type"},
			{map[string]any{"to": "+31612345678", "from": sms.ID, "type": "sticker", "content": map[string]any{"text": "x"}}, 422, "sticker"},
			{map[string]any{"to": "hello", "from": sms.ID, "type": "text", "content": map[string]any{"text": "x"}}, 422, "to"},
			{map[string]any{"to": "+31612345678", "from": sms.ID, "type": "text", "content": map[string]any{"text": "x"}, "reportUrl": "ftp://x"}, 422, "reportUrl"},
			{map[string]any{"to": "+31612345678", "from": sms.ID, "type": "text", "content": map[string]any{"text": strings.Repeat("long ", 1000)}}, 422, "content.text"},
			{map[string]any{"to": "+31612345678", "from": sms.ID, "type": "email", "content": map[string]any{"email": map[string]any{}}}, 422, "type"},
		} {
			r := s.sendEmail(s.key, c.body)
			if r.status != c.status {
				t.Fatalf("%s = %d %s", mustMarshal(c.body), r.status, r.raw)
			}
			_, param, _ := errorOf(t, r)
			if c.param == "sticker" {
				c.param = "type"
			}
			if param != c.param {
				t.Fatalf("%s: parameter %v, want %s (%s)", mustMarshal(c.body), param, c.param, r.raw)
			}
		}
		if g := s.get("/v1/channels?limit=-1"); g.status != 422 {
			t.Fatalf("limit=-1: %d", g.status)
		}

		// An email channel's id is an email send's from.
		relay := addMailRelay(t, s)
		mail, err := conversations.AddChannel(ctx, s.app.store, s.accountID, "email", "news@shop.example", "")
		if err != nil {
			t.Fatal(err)
		}
		r = s.sendEmail(s.key, map[string]any{"from": mail.ID, "type": "email", "content": map[string]any{"email": map[string]any{
			"to": []map[string]any{{"email": "ann@example.com"}}, "subject": "Hi", "content": map[string]any{"text": "Hello"}}}})
		if r.status != http.StatusAccepted {
			t.Fatalf("email from a channel = %d %s", r.status, r.raw)
		}
		eid := r.json["id"].(string)
		waitFor(t, "the email sent", 10*time.Second, func() bool {
			g := s.get("/v1/messages/" + eid)
			return g.json["status"] == "sent" && g.json["from"] == "news@shop.example" && g.json["channelId"] == mail.ID
		})
		relay.mu.Lock()
		got := strings.Join(relay.got, ";")
		relay.mu.Unlock()
		if got != "ann@example.com|Hi|Hello" {
			t.Fatalf("relay got %q", got)
		}
	})
}
