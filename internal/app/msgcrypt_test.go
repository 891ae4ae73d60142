package app

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/store"
)

// Message bodies go into the database encrypted with the account's data
// key and come back in clear through the API; once the account is
// shredded they read as "[erased]", the request still succeeding.
func TestMessagesEncryptedAtRest(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		const body = "your code is 424242"
		m := s.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": body})
		id := m["id"].(string)
		raw := rawColumn(t, s.app.store.Writer(), engine, `SELECT body FROM messages WHERE id = ?`, id)
		if !keyring.Sealed(raw) || strings.Contains(raw, "424242") {
			t.Fatalf("the body is stored as %q", raw)
		}
		if addr := rawColumn(t, s.app.store.Writer(), engine, `SELECT address FROM recipients WHERE message_id = ?`, id); !keyring.Sealed(addr) || strings.Contains(addr, "3161") {
			t.Fatalf("the recipient is stored as %q", addr)
		}
		if r := s.do("GET", "/messages?recipient=31612345678", s.key, "", nil); r.status != http.StatusOK || !strings.Contains(string(r.raw), id) {
			t.Fatalf("searching by recipient: %d %s", r.status, r.raw)
		}
		r := s.do("GET", "/messages/"+id, s.key, "", nil)
		if r.status != http.StatusOK || r.json["body"] != body {
			t.Fatalf("reading the message: %d %s", r.status, r.raw)
		}
		if n, err := s.app.store.ShredAccount(context.Background(), s.accountID); err != nil || n.DataKeys != 1 {
			t.Fatalf("ShredAccount = %d, %v", n, err)
		}
		r = s.do("GET", "/messages/"+id, s.key, "", nil)
		if r.status != http.StatusOK || r.json["body"] != store.Erased || !strings.Contains(string(r.raw), `"recipient":"`+store.Erased+`"`) {
			t.Fatalf("reading a shredded message: %d %s", r.status, r.raw)
		}
		r = s.do("GET", "/messages", s.key, "", nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.raw), store.Erased) {
			t.Fatalf("listing shredded messages: %d %s", r.status, r.raw)
		}
	})
}
