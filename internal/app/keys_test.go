package app

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/auth"
)

// keyID is the id of a key's record.
func (s *server) keyID(key string) string {
	s.t.Helper()
	k, err := s.app.store.AccessKeyByHash(context.Background(), auth.Hash(key))
	if err != nil {
		s.t.Fatal(err)
	}
	return k.ID
}

// A key revoked from outside the serving process (the CLI, another node)
// is refused at once, not when the server's 30-second authentication cache
// expires; a key in use gets its last use recorded.
func TestRevokedKeyRefusedAtOnce(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		if r := s.get("/balance"); r.status != http.StatusOK { // the key is now in the server's cache
			t.Fatalf("balance: %d %s", r.status, r.raw)
		}
		id := s.keyID(s.key)
		if _, err := s.app.store.RevokeAccessKey(context.Background(), s.accountID, id, "cli", time.Now()); err != nil {
			t.Fatal(err)
		}
		// Far less than the cache's 30 s; the default check is 250 ms.
		waitFor(t, "the revoked key to be refused", 3*time.Second, func() bool { return s.get("/balance").status == http.StatusUnauthorized })
		r := s.get("/balance")
		if code, param, _ := errorOf(t, r); code != 2 || param != "access_key" {
			t.Fatalf("revoked key answered %d %s", r.status, r.raw)
		}
		if r := s.do("GET", "/balance", s.testKey, "", nil); r.status != http.StatusOK {
			t.Fatalf("another key of the account is refused too: %d %s", r.status, r.raw)
		}
		waitFor(t, "the test key's last use to be recorded", 5*time.Second, func() bool {
			keys, err := s.app.store.AccessKeys(context.Background(), s.accountID)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if k.Test && !k.LastUsedAt.IsZero() {
					return true
				}
			}
			return false
		})
	})
}
