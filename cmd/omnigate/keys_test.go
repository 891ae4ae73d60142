package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func balanceStatus(t *testing.T, url, key string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/balance", nil)
	req.Header.Set("Authorization", "AccessKey "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestKeyCLI: `key list` shows an account's keys without the keys
// themselves; `key revoke`, by id or by the key's text, revokes a key that
// the running server then refuses at once (within its 250 ms check), not
// after its 30-second cache.
func TestKeyCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme")
		var extra struct{ ID, Key string }
		e.run(&extra, "key", "create", "--account", acct.ID)
		if extra.ID == "" || !strings.HasPrefix(extra.Key, "live_") {
			t.Fatalf("key create printed %+v", extra)
		}
		var list []map[string]any
		e.run(&list, "key", "list", "--account", acct.ID)
		if len(list) != 3 || list[2]["id"] != extra.ID || list[2]["hint"] != extra.Key[len(extra.Key)-4:] || list[2]["revokedDatetime"] != nil {
			t.Fatalf("key list printed %v", list)
		}
		p := e.serve(freePort(t))
		for _, key := range []string{acct.Key, extra.Key} {
			if code := balanceStatus(t, p.url, key); code != 200 {
				t.Fatalf("before revoking: %d", code)
			}
		}
		var revoked map[string]any
		e.run(&revoked, "key", "revoke", "--account", acct.ID, "--id", extra.ID)
		if revoked["id"] != extra.ID || revoked["revokedBy"] != "cli" || revoked["revokedDatetime"] == nil {
			t.Fatalf("key revoke printed %v", revoked)
		}
		// The key by its text, from standard input.
		c := e.cmd("key", "revoke", "--key", "-")
		c.Stdin = strings.NewReader(acct.Key + "\n")
		if out, err := c.Output(); err != nil || !strings.Contains(string(out), `"revokedBy": "cli"`) {
			t.Fatalf("key revoke --key -: %v %s", err, out)
		}
		for _, key := range []string{acct.Key, extra.Key} {
			deadline := time.Now().Add(3 * time.Second)
			for balanceStatus(t, p.url, key) != 401 {
				if time.Now().After(deadline) {
					t.Fatalf("the server still takes a revoked key after 3 s")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		if code := balanceStatus(t, p.url, acct.TestKey); code != 200 {
			t.Fatalf("the account's test key: %d", code)
		}
		for _, args := range [][]string{
			{"key", "list"},
			{"key", "revoke", "--id", extra.ID},
			{"key", "revoke", "--account", acct.ID, "--id", "nope"},
			{"key", "revoke", "--key", "live_nope"},
			{"key", "rotate"},
		} {
			var stderr bytes.Buffer
			c := e.cmd(args...)
			c.Stderr = &stderr
			if err := c.Run(); err == nil || stderr.Len() == 0 {
				t.Errorf("omnigate %v: err %v, stderr %q; want a failure with a message", args, err, stderr.String())
			}
		}
	})
}

// TestAdminTokenCLI: serve refuses an admin token shorter than 32
// characters with a message, takes one from a file, and warns when one is
// on the command line.
func TestAdminTokenCLI(t *testing.T) {
	e := newEnv(t, "sqlite")
	var stderr bytes.Buffer
	c := e.cmd("serve", "--http", freePort(t), "--admin-token", "0123456789abcdef")
	c.Stderr = &stderr
	if err := c.Run(); err == nil || !strings.Contains(stderr.String(), "use at least 32") {
		t.Fatalf("serve with a 16-character token: %v, %q", err, stderr.String())
	}
	token := "0123456789abcdef0123456789abcdef"
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := e.serve(freePort(t), "--admin-token-file", file)
	req, _ := http.NewRequest("GET", p.url+"/admin/accounts/nope/settings", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("admin API with the token from a file: %d", resp.StatusCode)
	}
}
