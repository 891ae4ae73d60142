package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/chatsim"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// sendJSON posts a JSON body to path with the live key.
func (s *server) sendJSON(method, path string, v any) response {
	s.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do(method, path, s.key, "application/json", b)
}

// wantParam requires a 422 (or want) naming param.
func wantParam(t *testing.T, r response, status int, param string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("answer %d, want %d naming %s: %s", r.status, status, param, r.raw)
	}
	if _, p, _ := errorOf(t, r); p != param {
		t.Fatalf("error names %v, want %s: %s", p, param, r.raw)
	}
}

// The WhatsApp template registry: a template submitted through
// /v2/platforms/whatsapp/templates reaches the provider (the demo's
// simulator) as PENDING; a send of it is refused until the provider's
// message_template_status_update webhook approves it; then a send with
// the wrong language or number of parameters is refused naming the
// field, and a right one goes out with the template's category.
func TestWhatsAppTemplateRegistry(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		ctx := context.Background()
		// The demo account has the demo's WhatsApp channel and number.
		s.accountID, s.key = s.app.Demo.ID, s.app.Demo.Key
		sim, ch := s.app.DemoWhatsApp(), s.app.demoWhatsAppChannel
		const base = "/v2/platforms/whatsapp/templates"
		body := map[string]any{"name": "order_shipped", "language": "en_US", "category": "utility", "components": []any{
			map[string]any{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
			map[string]any{"type": "BODY", "text": "Your order {{1}} ships on {{2}}."},
			map[string]any{"type": "BUTTONS", "buttons": []any{map[string]any{"type": "QUICK_REPLY", "text": "Thanks"}}}}}
		r := s.sendJSON("POST", base, body)
		if r.status != http.StatusCreated || r.json["status"] != "PENDING" || r.json["category"] != "UTILITY" ||
			r.json["params"] != 3.0 || r.json["channelId"] != ch || r.json["providerId"] == "" {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		wantParam(t, s.sendJSON("POST", base, body), http.StatusConflict, "language")
		// The provider has it, pending review.
		req, _ := http.NewRequest("GET", sim.URL()+"/v21.0/"+demoWhatsAppWABA+"/message_templates?name=order_shipped", nil)
		req.Header.Set("Authorization", "Bearer test-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var listed struct {
			Data []struct{ Name, Language, Status string }
		}
		json.NewDecoder(resp.Body).Decode(&listed)
		resp.Body.Close()
		if len(listed.Data) != 1 || listed.Data[0].Status != "PENDING" || listed.Data[0].Language != "en_US" {
			t.Fatalf("provider's templates: %+v", listed)
		}
		// Bad templates change nothing.
		for _, c := range []struct {
			patch map[string]any
			param string
		}{
			{map[string]any{"name": "Order Shipped"}, "name"},
			{map[string]any{"language": "english"}, "language"},
			{map[string]any{"category": "PROMO"}, "category"},
			{map[string]any{"components": []any{map[string]any{"type": "FOOTER", "text": "bye"}}}, "components"},
			{map[string]any{"components": []any{map[string]any{"type": "BODY", "text": "Hi {{2}}"}}}, "components[0].text"},
			{map[string]any{"channelId": "0123456789abcdef0123456789abcdef"}, "channelId"},
		} {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			b["name"] = "other"
			for k, v := range c.patch {
				b[k] = v
			}
			wantParam(t, s.sendJSON("POST", base, b), http.StatusUnprocessableEntity, c.param)
		}

		if err := s.app.store.AddConsents(ctx, []*store.Consent{{AccountID: s.accountID, Recipient: DemoHandset,
			Purpose: "transactional", Action: store.OptIn, Source: store.SourceImport, CreatedAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		hsm := func(name, lang string, params ...string) map[string]any {
			ps := []any{}
			for _, p := range params {
				ps = append(ps, map[string]any{"default": p})
			}
			return map[string]any{"to": "+" + DemoHandset, "from": ch, "type": "hsm", "content": map[string]any{"hsm": map[string]any{
				"templateName": name, "language": map[string]any{"policy": "deterministic", "code": lang}, "params": ps}}}
		}
		wantParam(t, s.sendJSON("POST", "/v1/send", hsm("order_shipped", "en_US", "A-17", "A-17", "Monday")), http.StatusUnprocessableEntity, "content.hsm.templateName")

		if err := sim.Review("", "order_shipped", "en_US", "APPROVED", ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the approval webhook", 10*time.Second, func() bool {
			return s.get(base + "/order_shipped/en_US").json["status"] == "APPROVED"
		})
		vreq, _ := http.NewRequest("GET", s.url+base+"/order_shipped", nil)
		vreq.Header.Set("Authorization", "AccessKey "+s.key)
		vresp, err := http.DefaultClient.Do(vreq)
		if err != nil {
			t.Fatal(err)
		}
		var variants []map[string]any
		if err := json.NewDecoder(vresp.Body).Decode(&variants); err != nil || vresp.StatusCode != 200 || len(variants) != 1 || variants[0]["language"] != "en_US" {
			t.Errorf("variants: %d %v %v", vresp.StatusCode, variants, err)
		}
		vresp.Body.Close()
		if r := s.get(base); r.json["totalCount"] != 2.0 { // the demo's hello_world and this one
			t.Errorf("list: %s", r.raw)
		}
		if r := s.get(base + "?limit=1&offset=1"); r.json["totalCount"] != 2.0 || r.json["count"] != 1.0 || r.json["offset"] != 1.0 {
			t.Errorf("list's second page: %s", r.raw)
		}
		wantParam(t, s.get(base+"?limit=201"), http.StatusUnprocessableEntity, "limit")
		wantParam(t, s.get(base+"?offset=-1"), http.StatusUnprocessableEntity, "offset")
		wantParam(t, s.sendJSON("POST", "/v1/send", hsm("order_shipped", "en_US", "A-17")), http.StatusUnprocessableEntity, "content.hsm.params")
		wantParam(t, s.sendJSON("POST", "/v1/send", hsm("order_shipped", "de", "A-17", "A-17", "Monday")), http.StatusUnprocessableEntity, "content.hsm.language.code")
		wantParam(t, s.sendJSON("POST", "/v1/send", hsm("no_such", "en_US")), http.StatusUnprocessableEntity, "content.hsm.templateName")
		before := len(sim.Sent())
		r = s.sendJSON("POST", "/v1/send", hsm("order_shipped", "en_US", "A-17", "A-17", "Monday"))
		if r.status != http.StatusAccepted {
			t.Fatalf("send: %d %s", r.status, r.raw)
		}
		id := r.json["id"].(string)
		// Components, Cloud API style, beside params: a quick reply's
		// payload is no placeholder.
		r = s.sendJSON("POST", "/v1/send", map[string]any{"to": "+" + DemoHandset, "from": ch, "type": "hsm", "content": map[string]any{"hsm": map[string]any{
			"templateName": "order_shipped", "language": map[string]any{"code": "en_US"}, "components": []any{
				map[string]any{"type": "header", "parameters": []any{map[string]any{"type": "text", "text": "A-18"}}},
				map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "text", "text": "A-18"},
					map[string]any{"type": "date_time", "dateTime": "2026-12-07T10:00:00Z"}}},
				map[string]any{"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": []any{map[string]any{"type": "payload", "payload": "thanks-A-18"}}}}}}})
		if r.status != http.StatusAccepted {
			t.Fatalf("send with components: %d %s", r.status, r.raw)
		}
		waitFor(t, "both templates at the simulator", 10*time.Second, func() bool { return len(sim.Sent()) >= before+2 })
		for _, m := range sim.Sent()[before:] {
			if m.Type != "template" {
				t.Errorf("simulator got %s: %s", m.Type, m.Body)
			}
		}
		m, err := s.app.store.GetMessage(ctx, s.accountID, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Content.Template.Category != "UTILITY" {
			t.Errorf("category at accept: %+v", m.Content.Template)
		}
		// Paused by the provider: refused again.
		if err := sim.Review("", "order_shipped", "en_US", "PAUSED", "low quality"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the pause webhook", 10*time.Second, func() bool {
			return s.get(base + "/order_shipped/en_US").json["status"] == "PAUSED"
		})
		wantParam(t, s.sendJSON("POST", "/v1/send", hsm("order_shipped", "en_US", "A-17", "A-17", "Monday")), http.StatusUnprocessableEntity, "content.hsm.templateName")
		// A review whose webhook was lost is caught up by the sync with the
		// provider's list (maintenance runs it every 15 minutes).
		hookURL, n := sim.WebhookURL(), len(sim.Delivered())
		sim.SetWebhook("")
		if err := sim.Review("", "order_shipped", "en_US", "APPROVED", ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the lost webhook", 10*time.Second, func() bool { return len(sim.Delivered()) > n })
		sim.SetWebhook(hookURL)
		if got := s.get(base + "/order_shipped/en_US").json["status"]; got != "PAUSED" {
			t.Fatalf("before the sync: %v", got)
		}
		s.app.syncWATemplates(ctx, true)
		if got := s.get(base + "/order_shipped/en_US").json; got["status"] != "APPROVED" || got["rejectedReason"] != nil {
			t.Errorf("after the sync: %v", got)
		}
		if r := s.do("DELETE", base+"/order_shipped/en_US", s.key, "", nil); r.status != http.StatusNoContent {
			t.Errorf("delete: %d %s", r.status, r.raw)
		}
		if r := s.get(base + "/order_shipped/en_US"); r.status != http.StatusNotFound {
			t.Errorf("after delete: %d", r.status)
		}
	})
}

// Interactive (buttons, lists) and reaction messages go out through
// /v1/send within the 24-hour window, the Cloud API's limits refused at
// accept naming the field; inbound replies, reactions and media keep their
// structure and GET /v1/messages/{id} renders them by type.
func TestWhatsAppInteractiveAndInbound(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		ctx := context.Background()
		// The demo account has the demo's WhatsApp channel and number.
		s.accountID, s.key = s.app.Demo.ID, s.app.Demo.Key
		sim, ch := s.app.DemoWhatsApp(), s.app.demoWhatsAppChannel
		handsetWrote(t, s, s.accountID, DemoHandset)
		buttons := func(n int) []any {
			out := []any{}
			for i := range n {
				out = append(out, map[string]any{"type": "reply", "reply": map[string]any{"id": fmt.Sprint("b", i), "title": fmt.Sprint("Option ", i)}})
			}
			return out
		}
		send := func(typ string, content map[string]any) response {
			return s.sendJSON("POST", "/v1/send", map[string]any{"to": "+" + DemoHandset, "from": ch, "type": typ, "content": content})
		}
		inter := func(action map[string]any, typ string) map[string]any {
			return map[string]any{"interactive": map[string]any{"type": typ, "header": map[string]any{"type": "text", "text": "Your order"},
				"body": map[string]any{"text": "Deliver when?"}, "footer": map[string]any{"text": "omnigate"}, "action": action}}
		}
		wantParam(t, send("interactive", inter(map[string]any{"buttons": buttons(4)}, "button")), 422, "content.interactive.action.buttons")
		rows := []any{}
		for i := range 11 {
			rows = append(rows, map[string]any{"id": fmt.Sprint("r", i), "title": fmt.Sprint("Slot ", i)})
		}
		wantParam(t, send("interactive", inter(map[string]any{"button": "Pick", "sections": []any{map[string]any{"title": "Slots", "rows": rows}}}, "list")), 422, "content.interactive.action.sections")
		wantParam(t, send("interactive", inter(map[string]any{"buttons": []any{map[string]any{"id": "x", "type": "reply", "title": "A title far longer than twenty"}}}, "button")), 422, "content.interactive.action.buttons[0].title")
		// Free-form: a number that never wrote is outside the window.
		outside := s.sendJSON("POST", "/v1/send", map[string]any{"to": "+966500000001", "from": ch, "type": "interactive",
			"content": inter(map[string]any{"buttons": buttons(2)}, "button")})
		if code, _, desc := errorOf(t, outside); outside.status != http.StatusUnprocessableEntity || code != 27 || !strings.Contains(desc, "24 hours") {
			t.Errorf("interactive outside the window: %d %s", outside.status, outside.raw)
		}
		before := len(sim.Sent())
		// MessageBird's flat buttons and the Cloud API's nested ones.
		if r := send("interactive", inter(map[string]any{"buttons": []any{map[string]any{"id": "am", "type": "reply", "title": "Morning"}, buttons(1)[0]}}, "button")); r.status != 202 {
			t.Fatalf("buttons: %d %s", r.status, r.raw)
		}
		r := send("interactive", inter(map[string]any{"button": "Pick", "sections": []any{map[string]any{"title": "Slots", "rows": rows[:10]}}}, "list"))
		if r.status != 202 {
			t.Fatalf("list: %d %s", r.status, r.raw)
		}
		listID := r.json["id"].(string)
		waitFor(t, "the interactive messages at the simulator", 10*time.Second, func() bool { return len(sim.Sent()) >= before+2 })
		if got := sim.Sent()[before:]; got[0].Type != "interactive" || got[1].Type != "interactive" {
			t.Fatalf("simulator got %+v", got)
		}
		if r := s.get("/v1/messages/" + listID); r.json["type"] != "interactive" ||
			len(r.json["content"].(map[string]any)["interactive"].(map[string]any)["action"].(map[string]any)["sections"].([]any)) != 1 {
			t.Errorf("GET the list: %s", r.raw)
		}

		// The handset answers from the list, reacts, and sends a photo.
		inboundOf := func(wamid string) *message.Message {
			var found *message.Message
			waitFor(t, "inbound "+wamid, 10*time.Second, func() bool {
				list, _, err := s.app.store.ListMessages(ctx, s.accountID, store.MessageFilter{Channel: message.ChannelWhatsApp, Direction: message.MO, Limit: 50})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range list {
					if m.Content != nil && m.Content.ProviderID == wamid {
						found = m
						return true
					}
				}
				return false
			})
			return found
		}
		wamid, err := sim.HandsetReply(chatsimReply(demoWhatsAppNumberID, "list", "Slot 3", "r3"))
		if err != nil {
			t.Fatal(err)
		}
		in := inboundOf(wamid)
		if in.Body != "Slot 3" || in.Type != "interactive" {
			t.Errorf("inbound list reply: body %q type %q", in.Body, in.Type)
		}
		got := s.get("/v1/messages/" + in.ID)
		c := got.json["content"].(map[string]any)
		if got.json["type"] != "interactive" || got.json["direction"] != "received" ||
			c["interactive"].(map[string]any)["type"] != "list_reply" || c["interactive"].(map[string]any)["reply"].(map[string]any)["id"] != "r3" {
			t.Errorf("GET inbound list reply: %s", got.raw)
		}
		// React to it by omnigate's id: the platform sends its wamid.
		before = len(sim.Sent())
		if r := send("reaction", map[string]any{"reaction": map[string]any{"messageId": in.ID, "emoji": "👍"}}); r.status != 202 {
			t.Fatalf("reaction: %d %s", r.status, r.raw)
		}
		wantParam(t, send("reaction", map[string]any{"reaction": map[string]any{"messageId": "0123456789abcdef0123456789abcdef", "emoji": "👍"}}), 422, "content.reaction.messageId")
		waitFor(t, "the reaction at the simulator", 10*time.Second, func() bool { return len(sim.Sent()) > before })
		var sent struct {
			Reaction struct {
				MessageID string `json:"message_id"`
				Emoji     string `json:"emoji"`
			} `json:"reaction"`
		}
		json.Unmarshal(sim.Sent()[before].Body, &sent)
		if sent.Reaction.MessageID != wamid || sent.Reaction.Emoji != "👍" {
			t.Errorf("reaction sent: %s", sim.Sent()[before].Body)
		}
		// React to a message the platform sent, by its id: its wamid.
		var listWamid string
		for _, m := range sim.Sent() {
			if m.Type == "interactive" && strings.Contains(string(m.Body), `"list"`) {
				listWamid = m.ID
			}
		}
		waitFor(t, "the list sent", 10*time.Second, func() bool {
			st := s.get("/v1/messages/" + listID).json["status"]
			return st != "accepted" && st != "pending"
		})
		before = len(sim.Sent())
		if r := send("reaction", map[string]any{"reaction": map[string]any{"messageId": listID, "emoji": "✅"}}); r.status != 202 {
			t.Fatalf("reaction to a sent message: %d %s", r.status, r.raw)
		}
		waitFor(t, "the second reaction at the simulator", 10*time.Second, func() bool { return len(sim.Sent()) > before })
		json.Unmarshal(sim.Sent()[before].Body, &sent)
		if sent.Reaction.MessageID != listWamid || listWamid == "" {
			t.Errorf("reaction to the sent list: %s (its wamid %q)", sim.Sent()[before].Body, listWamid)
		}
		photo, err := sim.HandsetReply(chatsimPhoto(demoWhatsAppNumberID))
		if err != nil {
			t.Fatal(err)
		}
		pm := inboundOf(photo)
		got = s.get("/v1/messages/" + pm.ID)
		img, _ := got.json["content"].(map[string]any)["image"].(map[string]any)
		if got.json["type"] != "image" || img["caption"] != "the parcel" || img["id"] == "" || img["mimeType"] != "image/jpeg" {
			t.Errorf("GET inbound image: %s", got.raw)
		}
		react, err := sim.HandsetReply(chatsimReact(demoWhatsAppNumberID, "❤️", wamid))
		if err != nil {
			t.Fatal(err)
		}
		rm := inboundOf(react)
		got = s.get("/v1/messages/" + rm.ID)
		if rc, _ := got.json["content"].(map[string]any)["reaction"].(map[string]any); got.json["type"] != "reaction" || rc["emoji"] != "❤️" || rc["messageId"] != wamid {
			t.Errorf("GET inbound reaction: %s", got.raw)
		}
	})
}

func chatsimReply(pnid, kind, title, id string) chatsim.Reply {
	return chatsim.Reply{From: DemoHandset, PhoneNumberID: pnid, List: title, ListID: id}
}

func chatsimPhoto(pnid string) chatsim.Reply {
	return chatsim.Reply{From: DemoHandset, PhoneNumberID: pnid, Image: "the parcel", ImageData: []byte("jpeg bytes")}
}

func chatsimReact(pnid, emoji, to string) chatsim.Reply {
	return chatsim.Reply{From: DemoHandset, PhoneNumberID: pnid, Reaction: emoji, ReactTo: to}
}
