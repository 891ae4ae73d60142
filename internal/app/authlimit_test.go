package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/logging"
	"github.com/omnigate/omnigate/internal/realtime"
)

// fromAddr is an HTTP client whose connections come from ip, a loopback
// address (127.0.0.0/8 is all local on Linux): a client at another address.
func fromAddr(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// call sends a request from client; auth is the whole Authorization value.
func (s *server) callFrom(client *http.Client, method, path, auth, contentType string, body []byte) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		json.Unmarshal(raw, &r.json)
	}
	return r
}

// pusherFrom calls the Pusher HTTP API from client, signed with secret.
func (s *server) pusherFrom(client *http.Client, appID, key, secret string) response {
	s.t.Helper()
	path := "/apps/" + appID + "/channels"
	q := realtime.SignRequest(key, secret, "GET", path, url.Values{}, nil, time.Now())
	return s.callFrom(client, "GET", path+"?"+q.Encode(), "", "", nil)
}

// logBuffer keeps the server's log (the real logger, JSON) for the test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// audit returns the audit records written so far.
func (b *logBuffer) audit() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(b.buf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "audit" {
			out = append(out, m)
		}
	}
	return out
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loggedServer is a server with the admin API and small limits whose log
// the test reads.
func loggedServer(t *testing.T, engine string) (*server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	log, err := logging.New(logs, logging.Config{Format: "json", Level: "info"})
	if err != nil {
		t.Fatal(err)
	}
	s := startLogging(t, engine, log.Handler(), func(c *Config) {
		c.AdminToken = adminToken
		c.AuthLimits.PerAddress, c.AuthLimits.PerPrefix = 5, 8
	})
	return s, logs
}

// wrongKey is a key that does not exist, starting with prefix.
func wrongKey(prefix string) string { return (prefix + ids.Secret(35))[:35] }

// Failed authentication is limited per address and per credential prefix,
// for access keys, the admin token and Pusher signatures: past the limit
// the answer is 429 in each door's own format, with Retry-After, before
// the credential is checked; clients that authenticated from the address
// with their credential keep working; the failures and refusals are
// counted in the metrics.
func TestFailedAuthenticationLimited(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, _ := loggedServer(t, engine)
		app := s.call("POST", "/realtime/apps", map[string]any{"name": "limits"})
		appID, appKey, secret := app.json["app_id"].(string), app.json["key"].(string), app.json["secret"].(string)

		// Access keys, one address: 5 failures, then 429.
		attacker := fromAddr("127.0.0.2")
		if r := s.callFrom(attacker, "GET", "/balance", "AccessKey "+s.key, "", nil); r.status != 200 {
			t.Fatalf("the live key from the shared address: %d %s", r.status, r.raw)
		}
		for i := 0; i < 5; i++ {
			if r := s.callFrom(attacker, "GET", "/balance", "AccessKey "+wrongKey("live_"), "", nil); r.status != 401 {
				t.Fatalf("failure %d: %d %s", i, r.status, r.raw)
			}
		}
		r := s.callFrom(attacker, "GET", "/balance", "AccessKey "+wrongKey("live_"), "", nil)
		if code, param, desc := errorOf(t, r); r.status != 429 || code != 28 || param != "access_key" || r.header.Get("Retry-After") == "" ||
			!strings.Contains(desc, "try again in") {
			t.Fatalf("past the limit: %d %v %s", r.status, r.header, r.raw)
		}
		if r := s.callFrom(attacker, "GET", "/balance", "AccessKey "+s.testKey, "", nil); r.status != 429 {
			t.Fatalf("a key never used from the address is checked: %d %s", r.status, r.raw)
		}
		if r := s.callFrom(attacker, "GET", "/balance", "AccessKey "+s.key, "", nil); r.status != 200 {
			t.Fatalf("the key used from the address before is locked out: %d %s", r.status, r.raw)
		}
		if r := s.callFrom(fromAddr("127.0.0.3"), "GET", "/balance", "AccessKey "+s.testKey, "", nil); r.status != 200 {
			t.Fatalf("another address is held back: %d %s", r.status, r.raw)
		}

		// Access keys, one prefix from many addresses: 8 failures, then 429
		// for that prefix only.
		prefix := "live_" + ids.Secret(7)
		for i := 1; i <= 8; i++ {
			if r := s.callFrom(fromAddr("127.0.1."+strconv.Itoa(i)), "GET", "/balance", "AccessKey "+wrongKey(prefix), "", nil); r.status != 401 {
				t.Fatalf("prefix failure %d: %d %s", i, r.status, r.raw)
			}
		}
		fresh := fromAddr("127.0.1.9")
		if r := s.callFrom(fresh, "GET", "/balance", "AccessKey "+wrongKey(prefix), "", nil); r.status != 429 {
			t.Fatalf("an exhausted prefix from a fresh address: %d %s", r.status, r.raw)
		}
		if r := s.callFrom(fresh, "GET", "/balance", "AccessKey "+wrongKey("live_"), "", nil); r.status != 401 {
			t.Fatalf("another prefix from that address: %d %s", r.status, r.raw)
		}

		// The admin token.
		admin := fromAddr("127.0.0.4")
		for i := 0; i < 5; i++ {
			if r := s.callFrom(admin, "GET", "/admin/accounts/"+s.accountID+"/settings", "Bearer "+ids.Secret(40), "", nil); r.status != 401 {
				t.Fatalf("admin failure %d: %d %s", i, r.status, r.raw)
			}
		}
		r = s.callFrom(admin, "GET", "/admin/accounts/"+s.accountID+"/settings", "Bearer "+adminToken, "", nil)
		if code, param, _ := errorOf(t, r); r.status != 429 || code != 28 || param != "token" || r.header.Get("Retry-After") == "" {
			t.Fatalf("admin past the limit: %d %s", r.status, r.raw)
		}
		if r := s.callFrom(fromAddr("127.0.0.5"), "GET", "/admin/accounts/"+s.accountID+"/settings", "Bearer "+adminToken, "", nil); r.status != 200 {
			t.Fatalf("the admin token from another address: %d %s", r.status, r.raw)
		}

		// Pusher signatures.
		pusher := fromAddr("127.0.0.6")
		for i := 0; i < 5; i++ {
			if r := s.pusherFrom(pusher, appID, appKey, ids.Secret(40)); r.status != 401 {
				t.Fatalf("pusher failure %d: %d %s", i, r.status, r.raw)
			}
		}
		r = s.pusherFrom(pusher, appID, appKey, secret)
		if r.status != 429 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || r.header.Get("Retry-After") == "" ||
			!strings.Contains(string(r.raw), "Too many failed authentications") {
			t.Fatalf("pusher past the limit: %d %v %s", r.status, r.header, r.raw)
		}
		if r := s.pusherFrom(fromAddr("127.0.0.7"), appID, appKey, secret); r.status != 200 {
			t.Fatalf("pusher from another address: %d %s", r.status, r.raw)
		}

		metrics := string(s.get("/metrics").raw)
		for _, want := range []string{
			`omnigate_auth_failures_total{door="api",reason="unknown_key"} 14`,
			`omnigate_auth_limited_total{door="api",scope="address"} 2`,
			`omnigate_auth_limited_total{door="api",scope="prefix"} 1`,
			`omnigate_auth_failures_total{door="admin",reason="bad_token"} 5`,
			`omnigate_auth_limited_total{door="admin",scope="address"} 1`,
			`omnigate_auth_failures_total{door="pusher",reason="bad_signature"} 5`,
			`omnigate_auth_limited_total{door="pusher",scope="address"} 1`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

// The audit trail: successful authentications (once per key, source and
// minute, with a count), every failure with its reason and the revoked
// key's id, revocations, and every admin request — in the server's log,
// with ids and fingerprints, never a key, token or secret.
func TestAuditTrail(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, logs := loggedServer(t, engine)
		liveID := s.keyID(s.key)
		for i := 0; i < 3; i++ {
			if r := s.get("/balance"); r.status != 200 {
				t.Fatalf("balance: %d %s", r.status, r.raw)
			}
		}
		wrong := []string{wrongKey("live_"), wrongKey("test_")}
		for _, k := range wrong {
			if r := s.do("GET", "/balance", k, "", nil); r.status != 401 {
				t.Fatalf("wrong key: %d", r.status)
			}
		}
		second, err := accounts.CreateKey(context.Background(), s.app.store, s.accountID, false)
		if err != nil {
			t.Fatal(err)
		}
		secondID := s.keyID(second)
		if r := s.do("DELETE", "/keys/"+secondID, s.key, "", nil); r.status != 204 {
			t.Fatalf("revoke: %d %s", r.status, r.raw)
		}
		if r := s.do("GET", "/balance", second, "", nil); r.status != 401 {
			t.Fatalf("revoked key: %d", r.status)
		}
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/settings", "application/json", `{"strictNumbers":true}`); r.status != 200 {
			t.Fatalf("admin: %d %s", r.status, r.raw)
		}
		if r := s.callFrom(http.DefaultClient, "GET", "/admin/accounts/"+s.accountID+"/settings", "Bearer "+wrongKey("nope"), "", nil); r.status != 401 {
			t.Fatalf("wrong admin token: %d", r.status)
		}
		app := s.call("POST", "/realtime/apps", map[string]any{"name": "audited"})
		appID, appKey, secret := app.json["app_id"].(string), app.json["key"].(string), app.json["secret"].(string)
		if r := s.pusherFrom(http.DefaultClient, appID, appKey, "not-the-secret"); r.status != 401 {
			t.Fatalf("bad signature: %d", r.status)
		}

		find := func(match func(map[string]any) bool) []map[string]any {
			var out []map[string]any
			for _, l := range logs.audit() {
				if match(l) {
					out = append(out, l)
				}
			}
			return out
		}
		var pusherFailed []map[string]any
		waitFor(t, "the audit trail", 5*time.Second, func() bool {
			pusherFailed = find(func(l map[string]any) bool { return l["event"] == "auth.failed" && l["door"] == "pusher" })
			return len(pusherFailed) == 1
		})
		if l := pusherFailed[0]; l["app_id"] != appID || l["reason"] != "bad_signature" || l["source"] != "127.0.0.1" || l["level"] != "WARN" {
			t.Errorf("pusher failure: %v", l)
		}
		ok := find(func(l map[string]any) bool { return l["event"] == "auth.ok" && l["key_id"] == liveID })
		if len(ok) != 1 || ok[0]["account"] != s.accountID || ok[0]["source"] != "127.0.0.1" || ok[0]["door"] != "api" || ok[0]["test"] != false {
			t.Errorf("successes of the live key: %v (want one line a minute)", ok)
		}
		unknown := find(func(l map[string]any) bool { return l["event"] == "auth.failed" && l["reason"] == "unknown_key" })
		if len(unknown) != 2 || unknown[0]["credential"] == unknown[1]["credential"] || len(unknown[0]["credential"].(string)) != 8 {
			t.Errorf("unknown keys: %v", unknown)
		}
		if revoked := find(func(l map[string]any) bool { return l["event"] == "auth.failed" && l["reason"] == "revoked_key" }); len(revoked) != 1 ||
			revoked[0]["key_id"] != secondID || revoked[0]["account"] != s.accountID {
			t.Errorf("revoked key used: %v", revoked)
		}
		if rv := find(func(l map[string]any) bool { return l["event"] == "key.revoked" }); len(rv) != 1 || rv[0]["key_id"] != secondID ||
			rv[0]["by_key_id"] != liveID || rv[0]["account"] != s.accountID {
			t.Errorf("revocation: %v", rv)
		}
		admin := find(func(l map[string]any) bool { return l["event"] == "admin.action" })
		if len(admin) != 1 || admin[0]["route"] != "PUT /admin/accounts/{id}/settings" || admin[0]["status"] != 200.0 ||
			admin[0]["operator"] != "operator:ann" || admin[0]["path"] != "/admin/accounts/"+s.accountID+"/settings" {
			t.Errorf("admin actions: %v", admin)
		}
		if bad := find(func(l map[string]any) bool { return l["event"] == "auth.failed" && l["door"] == "admin" }); len(bad) != 1 ||
			bad[0]["reason"] != "bad_token" {
			t.Errorf("wrong admin token: %v", bad)
		}
		all := logs.String()
		for _, leak := range append(wrong, s.key, s.testKey, second, adminToken, secret, s.key[:authguard.PrefixLen]) {
			if strings.Contains(all, leak) {
				t.Errorf("the log shows a secret %q", leak)
			}
		}
	})
}
