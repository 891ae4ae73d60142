package conversations

import (
	"context"
	"testing"

	"github.com/omnigate/omnigate/internal/store"
)

// FuzzConversationRequests: any body of POST /v1/conversations/start,
// POST /v1/conversations/{id}/messages, PATCH /v1/conversations/{id} and
// the webhook endpoints is decoded and checked, or refused with a
// problem, never a crash.
func FuzzConversationRequests(f *testing.F) {
	f.Add([]byte(`{"to":"+31612345678","channelId":"0123456789abcdef0123456789abcdef","type":"text","content":{"text":"hi"},"source":{"a":1}}`))
	f.Add([]byte(`{"type":"hsm","content":{"hsm":{"namespace":"n","templateName":"t","language":{"policy":"deterministic","code":"en"}}},"tag":"x","trackId":"y"}`))
	f.Add([]byte(`{"status":"archived"}`))
	f.Add([]byte(`{"contactId":"0123456789abcdef0123456789abcdef"}`))
	f.Add([]byte(`{"channelId":"0123456789abcdef0123456789abcdef","events":["conversation.created","message.updated"],"url":"https://x.example/h","settings":{"retry":3}}`))
	f.Add([]byte(`{"events":[],"url":"ftp://x","status":"paused","settings":[1]}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`{"url":"https://x.example/h"} {}`))
	ch := &store.ConvChannel{ID: "0123456789abcdef0123456789abcdef", Kind: "sms", Sender: "Shop", Status: store.ChannelActive}
	f.Fuzz(func(t *testing.T, body []byte) {
		var start startRequest
		if p := parseJSON(body, &start); p == nil {
			req := &sendRequest{To: start.To, From: ch.ID, Type: start.Type, Content: start.Content, ReportURL: start.ReportURL, Source: start.Source}
			if m, p := buildChat(req, ch, "acct"); p == nil && (m == nil || len(m.Recipients) != 1) {
				t.Fatalf("built %+v from %q", m, body)
			}
		}
		var reply replyRequest
		_ = parseJSON(body, &reply)
		var upd updateRequest
		_ = parseJSON(body, &upd)
		var create createRequest
		_ = parseJSON(body, &create)
		var wr webhookRequest
		if p := parseJSON(body, &wr); p == nil {
			a := &API{}
			wh := &store.ConvWebhook{AccountID: "acct"}
			if wr.ChannelID != nil {
				wr.ChannelID = nil // no store here: the channel is checked against one in the app's tests
			}
			if p := a.checkWebhook(context.Background(), &wr, wh, true); p == nil {
				if wh.URL == "" || len(wh.Events) == 0 {
					t.Fatalf("accepted a webhook without url or events from %q", body)
				}
			}
		}
	})
}
