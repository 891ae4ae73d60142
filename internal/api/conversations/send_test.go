package conversations

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
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
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/send", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		req, p := decodeSend(httptest.NewRecorder(), r)
		if p != nil {
			return
		}
		m, p := buildEmail(req, "acct")
		if p == nil && (m == nil || len(m.Recipients) == 0 || m.Originator == "") {
			t.Fatalf("built %+v from %q", m, body)
		}
	})
}
