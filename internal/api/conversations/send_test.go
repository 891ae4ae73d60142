package conversations

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/omnigate/omnigate/internal/store"
)

func TestAddress(t *testing.T) {
	for s, ok := range map[string]bool{
		"ann@example.com": true, "a.b+c@sub.example.co.uk": true,
		"ann@localhost": false, "Ann <ann@example.com>": false, "ann@example.com,bob@example.com": false,
		"ann@.example.com": false, "ann@example.com.": false, "": false, "ann@exa\nmple.com": false,
	} {
		if _, p := address("to", s); (p == nil) != ok {
			t.Errorf("address(%q): %v", s, p)
		}
	}
}

// FuzzSend: any body is decoded and built into a message or refused with a
// problem, never a crash.
func FuzzSend(f *testing.F) {
	f.Add([]byte(`{"type":"email","content":{"email":{"to":[{"email":"a@b.co","variables":{"x":"1"}}],"from":{"email":"s@b.co"},"subject":"s","content":{"text":"t"},"attachments":[{"name":"a","content":"QQ=="}]}}}`))
	f.Add([]byte(`{"type":"email","to":"a@b.co","from":"s@b.co","content":{"email":{"subject":"x","content":{"html":"<p>"}}}}`))
	f.Add([]byte(`{"content":{"email":{"headers":{"X":"\r\n"}}}}`))
	f.Add([]byte(`{"type":"text","to":"+31612345678","from":"0123456789abcdef0123456789abcdef","content":{"text":"hi"},"reportUrl":"https://x.example/r"}`))
	f.Add([]byte(`{"type":"location","to":"31612345678","content":{"location":{"latitude":52.1,"longitude":4.3}}}`))
	f.Add([]byte(`{"type":"hsm","to":"31612345678","content":{"hsm":{"namespace":"n","templateName":"t","language":{"policy":"deterministic","code":"en"},"params":[{"default":"1"}]}}}`))
	f.Add([]byte(`{"type":"image","to":"31612345678","content":{"image":{"url":"https://x.example/a.png","caption":"c"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/send", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		req, p := decodeSend(httptest.NewRecorder(), r)
		if p != nil {
			return
		}
		if req.Type != "email" {
			for _, kind := range []string{"sms", "whatsapp"} {
				ch := &store.ConvChannel{ID: "0123456789abcdef0123456789abcdef", Kind: kind, Sender: "123"}
				m, p := buildChat(req, ch, "acct")
				if p == nil && (m == nil || len(m.Recipients) != 1 || m.Originator != "123" || m.Details.ChannelID != ch.ID ||
					(m.Body == "" && m.Content == nil)) {
					t.Fatalf("built %+v from %q", m, body)
				}
			}
			return
		}
		m, p := buildEmail(req, "acct")
		if p == nil && (m == nil || len(m.Recipients) == 0 || m.Originator == "") {
			t.Fatalf("built %+v from %q", m, body)
		}
	})
}
