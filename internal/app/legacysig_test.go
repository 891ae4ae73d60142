package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestLegacySignatureGoStyle checks the wire contract of an account whose
// report receiver uses the Go SDK's legacy verifier (legacy signature
// "go"): the MessageBird-Signature of its status reports is the HMAC of the
// timestamp, the received query as Go's net/url re-encodes it
// (url.Values.Encode: space as +, ' ( ) * ! percent-encoded) and the body
// hash — also when the reference and the report URL's own query hold
// spaces, +, *, ~, ' and non-ASCII text, and statusReason its space.
func TestLegacySignatureGoStyle(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.AdminToken = adminToken })
		var mu sync.Mutex
		var checked []string
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ts := r.Header.Get("MessageBird-Request-Timestamp")
			sig, err := base64.StdEncoding.DecodeString(r.Header.Get("MessageBird-Signature"))
			bodyHash := sha256.Sum256(nil)
			mac := hmac.New(sha256.New, []byte(s.signingKey))
			mac.Write([]byte(ts + "\n" + r.URL.Query().Encode() + "\n"))
			mac.Write(bodyHash[:])
			if _, perr := strconv.ParseInt(ts, 10, 64); perr != nil || err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
				t.Errorf("report %s: legacy signature does not cover the query as Go encodes it", r.URL.RawQuery)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			mu.Lock()
			checked = append(checked, r.URL.Query().Get("status"))
			mu.Unlock()
		}))
		t.Cleanup(sink.Close)

		// An operator sets the account's style through the admin API.
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/settings", "application/json", `{"legacySignature":"java"}`); r.status != 422 {
			t.Fatalf("an unknown style: %d %s", r.status, r.raw)
		}
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/settings", "application/json", `{"legacySignature":"go"}`); r.status != 200 ||
			r.json["legacySignature"] != "go" || r.json["strictNumbers"] != false {
			t.Fatalf("PUT settings: %d %s", r.status, r.raw)
		}
		s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x",
			"reference": "order 17/b +1 *~'(x)! ü €", "reportUrl": sink.URL + "/dlr?note=a+b&x=%2A%7E%27%28%29%21&name=J%C3%BCrgen%20%C3%96"})
		waitFor(t, "a delivered report", 10*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, st := range checked {
				if st == "delivered" {
					return true
				}
			}
			return false
		})
	})
}
