package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
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

// keyItems lists the account's keys through the API with key.
func (s *server) keyItems(key string) map[string]map[string]any {
	s.t.Helper()
	r := s.do("GET", "/keys", key, "", nil)
	if r.status != http.StatusOK {
		s.t.Fatalf("GET /keys = %d %s", r.status, r.raw)
	}
	out := map[string]map[string]any{}
	for _, it := range r.json["items"].([]any) {
		k := it.(map[string]any)
		out[k["id"].(string)] = k
	}
	return out
}

// An account lists its keys (never the keys themselves) and revokes them
// through the API: the revoking node refuses the key at once, another node
// sharing the database within its revocation check; a key cannot revoke
// itself, and revoking twice changes nothing.
func TestKeysListAndRevoke(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		second, err := accounts.CreateKey(context.Background(), s.app.store, s.accountID, false)
		if err != nil {
			t.Fatal(err)
		}
		r := s.get("/keys")
		for _, secret := range []string{s.key, s.testKey, second} {
			if strings.Contains(string(r.raw), secret) || strings.Contains(string(r.raw), secret[5:20]) {
				t.Fatalf("GET /keys shows a key: %s", r.raw)
			}
		}
		keys := s.keyItems(s.key)
		secondID := s.keyID(second)
		k := keys[secondID]
		if len(keys) != 3 || k == nil || k["test"] != false || k["hint"] != second[len(second)-4:] || k["revokedDatetime"] != nil ||
			k["createdDatetime"] == nil {
			t.Fatalf("keys: %v", keys)
		}
		if own := s.do("DELETE", "/keys/"+s.keyID(s.key), s.key, "", nil); own.status != http.StatusConflict {
			t.Fatalf("a key revoking itself: %d %s", own.status, own.raw)
		}
		if r := s.do("DELETE", "/keys/nope", s.key, "", nil); r.status != http.StatusNotFound {
			t.Fatalf("unknown key: %d %s", r.status, r.raw)
		}
		_, otherKey, _, _ := s.newAccount("other")
		if r := s.do("DELETE", "/keys/"+s.keyID(otherKey), s.key, "", nil); r.status != http.StatusNotFound {
			t.Fatalf("another account's key: %d %s", r.status, r.raw)
		}
		if r := s.do("GET", "/balance", otherKey, "", nil); r.status != http.StatusOK {
			t.Fatalf("the other account's key: %d %s", r.status, r.raw)
		}

		// A second node on the same PostgreSQL database keeps the key in
		// memory too.
		var node2 *server
		if engine == "postgres" {
			cfg := s.app.cfg
			// The second node shares the database, so it needs the
			// master key that encrypts the database's secrets.
			cfg.MasterKeyFile = cfg.masterKeyPath()
			cfg.DataDir, cfg.HTTPAddr, cfg.Demo = t.TempDir(), "127.0.0.1:0", false
			node2 = serve(t, cfg)
			if r := node2.do("GET", "/balance", second, "", nil); r.status != http.StatusOK {
				t.Fatalf("node 2: %d %s", r.status, r.raw)
			}
		}
		if r := s.do("GET", "/balance", second, "", nil); r.status != http.StatusOK {
			t.Fatalf("the second key: %d %s", r.status, r.raw)
		}
		if r := s.do("DELETE", "/keys/"+secondID, s.key, "", nil); r.status != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", r.status, r.raw)
		}
		if r := s.do("GET", "/balance", second, "", nil); r.status != http.StatusUnauthorized {
			t.Fatalf("the revoking node still takes the key: %d %s", r.status, r.raw)
		}
		if node2 != nil {
			waitFor(t, "node 2 to refuse the revoked key", 3*time.Second, func() bool {
				return node2.do("GET", "/balance", second, "", nil).status == http.StatusUnauthorized
			})
		}
		k = s.keyItems(s.key)[secondID]
		if k["revokedDatetime"] == nil || k["revokedBy"] != "api key "+s.keyID(s.key) {
			t.Fatalf("revoked key listed as %v", k)
		}
		if r := s.do("DELETE", "/keys/"+secondID, s.key, "", nil); r.status != http.StatusNoContent {
			t.Fatalf("revoking twice: %d %s", r.status, r.raw)
		}
		if again := s.keyItems(s.key)[secondID]; again["revokedDatetime"] != k["revokedDatetime"] {
			t.Fatalf("revoking twice changed the key: %v, was %v", again, k)
		}
		// A test key revokes test keys only, and sees only them.
		testID := s.keyID(s.testKey)
		spare, err := accounts.CreateKey(context.Background(), s.app.store, s.accountID, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.keyItems(s.testKey); len(got) != 2 || got[testID] == nil || got[s.keyID(spare)] == nil {
			t.Fatalf("the test key lists %v", got)
		}
		if r := s.do("DELETE", "/keys/"+s.keyID(spare), s.testKey, "", nil); r.status != http.StatusNoContent {
			t.Fatalf("test key revoking a test key: %d %s", r.status, r.raw)
		}
	})
}
