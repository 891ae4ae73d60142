package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Requests as MessageBird's PHP, Python and Ruby SDKs send them, where they
// differ from the Go and Node SDKs': the Conversations API at its host's
// root (no /v1), channel_id, limit=0 for "the default", a webhook updated
// with PUT and its whole object, a conversation PATCHed with its whole
// object, contacts added to a group with GET …?_method=PUT, and a JSON
// body labelled a form.
func TestSDKRequestVariants(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.Demo = false })
		sms := s.smsChannel()

		// Webhooks at the root, channel_id (Ruby), PUT with the whole object (PHP).
		hook := s.convDo("POST", "/webhooks", s.key, map[string]any{"channel_id": sms.ID, "url": "https://hooks.example/a", "events": []string{"message.created"}})
		if hook.status != http.StatusCreated || hook.json["channelId"] != sms.ID {
			t.Fatalf("POST /webhooks = %d %s", hook.status, hook.raw)
		}
		id := hook.json["id"].(string)
		whole := hook.json
		whole["url"] = "https://hooks.example/b"
		if r := s.convDo("PUT", "/webhooks/"+id, s.key, whole); r.status != 200 || r.json["url"] != "https://hooks.example/b" {
			t.Fatalf("PUT /webhooks/{id} = %d %s", r.status, r.raw)
		}
		if r := s.get("/v1/webhooks/" + id); r.json["url"] != "https://hooks.example/b" {
			t.Fatalf("after PUT: %s", r.raw)
		}
		if r := s.get("/webhooks?limit=0&offset=0"); r.status != 200 || r.json["totalCount"] != 1.0 {
			t.Fatalf("GET /webhooks?limit=0 = %d %s", r.status, r.raw)
		}
		// A provider's webhook path is not taken for a Conversations one.
		if r := s.do("POST", "/webhooks/whatsapp/none", "", "application/json", []byte(`{}`)); r.status == 200 || strings.Contains(string(r.raw), "channelId") {
			t.Fatalf("POST /webhooks/whatsapp/none = %d %s", r.status, r.raw)
		}

		// Conversations at the root.
		r := s.convDo("POST", "/conversations/start", s.key, map[string]any{"to": "+31612345678", "channel_id": sms.ID, "type": "text",
			"content": map[string]any{"text": "Your parcel ships today"}})
		if r.status != http.StatusCreated || r.json["lastUsedChannelId"] != sms.ID {
			t.Fatalf("POST /conversations/start = %d %s", r.status, r.raw)
		}
		convID := r.json["id"].(string)
		if l := s.get("/conversations?limit=0&offset=0"); l.status != 200 || l.json["limit"] != 20.0 || l.json["totalCount"] != 1.0 {
			t.Fatalf("GET /conversations?limit=0 = %d %s", l.status, l.raw)
		}
		conv := s.get("/conversations/" + convID)
		if conv.status != 200 {
			t.Fatalf("GET /conversations/{id} = %d %s", conv.status, conv.raw)
		}
		conv.json["status"] = "archived"
		if u := s.convDo("PATCH", "/conversations/"+convID, s.key, conv.json); u.status != 200 || u.json["status"] != "archived" {
			t.Fatalf("PATCH the whole conversation = %d %s", u.status, u.raw)
		}
		if u := s.convDo("PATCH", "/v1/conversations/"+convID, s.key, map[string]any{"status": "active", "color": "red"}); u.status != 422 || !strings.Contains(string(u.raw), `"color"`) {
			t.Fatalf("an unknown field: %d %s", u.status, u.raw)
		}
		if m := s.convDo("POST", "/send", s.key, map[string]any{"to": "+31612345678", "from": sms.ID, "type": "text", "content": map[string]any{"text": "via /send"}}); m.status != http.StatusAccepted {
			t.Fatalf("POST /send = %d %s", m.status, m.raw)
		}
		if c := s.get("/channels"); c.status != 200 {
			t.Fatalf("GET /channels = %d %s", c.status, c.raw)
		}

		// Contacts and groups: limit=0, and GET …?_method=PUT (Ruby).
		if l := s.get("/contacts?limit=0&offset=0"); l.status != 200 || l.json["limit"] != 20.0 {
			t.Fatalf("GET /contacts?limit=0 = %d %s", l.status, l.raw)
		}
		g := s.do("POST", "/groups", s.key, "application/json", []byte(`{"name":"friends"}`))
		c := s.do("POST", "/contacts", s.key, "application/json", []byte(`{"msisdn":"31612345679"}`))
		if g.status != 201 || c.status != 201 {
			t.Fatalf("group %d %s, contact %d %s", g.status, g.raw, c.status, c.raw)
		}
		gid, cid := g.json["id"].(string), c.json["id"].(string)
		if a := s.do("GET", "/groups/"+gid+"?_method=PUT&ids[]="+cid, s.key, "", nil); a.status != 204 {
			t.Fatalf("GET ?_method=PUT = %d %s", a.status, a.raw)
		}
		if l := s.get("/groups/" + gid + "/contacts"); l.json["totalCount"] != 1.0 {
			t.Fatalf("the group's contacts after ?_method=PUT: %s", l.raw)
		}
		// Without credentials nothing is rewritten: a plain 401.
		if a := s.do("GET", "/groups/"+gid+"?_method=DELETE", "", "", nil); a.status != 401 {
			t.Fatalf("GET ?_method=DELETE without a key = %d", a.status)
		}
		if d := s.do("GET", "/groups/"+gid+"?_method=DELETE", s.key, "", nil); d.status != 204 || s.get("/groups/"+gid).status != 404 {
			t.Fatalf("GET ?_method=DELETE = %d %s", d.status, d.raw)
		}

		// A JSON body labelled a form (Ruby's Net::HTTP default).
		body, _ := json.Marshal(map[string]any{"name": "labelled"})
		if r := s.do("POST", "/groups", s.key, "application/x-www-form-urlencoded", body); r.status != 201 || r.json["name"] != "labelled" {
			t.Fatalf("JSON as a form = %d %s", r.status, r.raw)
		}
	})
}
