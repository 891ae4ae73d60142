package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/webhook"
	"github.com/omnigate/omnigate/internal/worker"
)

// reportSink is a customer's status-report endpoint.
type reportSink struct {
	mu      sync.Mutex
	got     []url.Values
	failFor int // answer 500 to this many requests first
	srv     *httptest.Server
}

func newReportSink(t *testing.T, signingKey *string, failFor int) *reportSink {
	rs := &reportSink{failFor: failFor}
	rs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		full := "http://" + r.Host + r.URL.RequestURI()
		if err := verifyJWT(r.Header.Get(webhook.HeaderSignatureJWT), *signingKey, full); err != nil {
			t.Errorf("report %s: %v", full, err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		rs.mu.Lock()
		defer rs.mu.Unlock()
		if rs.failFor > 0 {
			rs.failFor--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		rs.got = append(rs.got, r.URL.Query())
	}))
	t.Cleanup(rs.srv.Close)
	return rs
}

func (rs *reportSink) reports() []url.Values {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]url.Values(nil), rs.got...)
}

// verifyJWT checks a MessageBird-Signature-JWT with an independent JWT
// library, the way a customer would.
func verifyJWT(token, key, fullURL string) error {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return []byte(key), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("MessageBird"), jwt.WithExpirationRequired())
	if err != nil {
		return err
	}
	h := sha256.Sum256([]byte(fullURL))
	if claims["url_hash"] != hex.EncodeToString(h[:]) {
		return errString("url_hash does not match " + fullURL)
	}
	if jti, _ := claims["jti"].(string); jti == "" {
		return errString("no jti")
	}
	if _, ok := claims["payload_hash"]; ok {
		return errString("payload_hash on a request without a body")
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

func TestStatusReports(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		var key string
		sink := newReportSink(t, &key, 1)
		s := start(t, engine, func(c *Config) {
			c.Webhook.Retry = worker.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}
		})
		key = s.signingKey
		m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678,31612345679", "body": "x",
			"reference": "order 17/b", "reportUrl": sink.srv.URL + "/dlr?secret=a%20b"})
		waitFor(t, "two delivered reports", 10*time.Second, func() bool { return len(sink.reports()) >= 2 })
		seen := map[string]bool{}
		for _, q := range sink.reports() {
			if q.Get("id") != m["id"] || q.Get("status") != "delivered" || q.Get("reference") != "order 17/b" ||
				q.Get("secret") != "a b" || q.Get("statusReason") != "successfully delivered" || q.Get("messagePartCount") != "1" {
				t.Fatalf("report %v", q)
			}
			if _, err := time.Parse(time.RFC3339, q.Get("statusDatetime")); err != nil {
				t.Fatalf("statusDatetime %q: %v", q.Get("statusDatetime"), err)
			}
			seen[q.Get("recipient")] = true
		}
		if !seen["31612345678"] || !seen["31612345679"] {
			t.Fatalf("reports for %v", seen)
		}
		// A wrong key or another URL must not verify (the check above is not vacuous).
		if err := verifyJWT(webhook.SignJWT("other-key", sink.srv.URL, nil, time.Now()), s.signingKey, sink.srv.URL); err == nil {
			t.Fatal("a token signed with another key verified")
		}
		if err := verifyJWT(webhook.SignJWT(s.signingKey, sink.srv.URL+"/a", nil, time.Now()), s.signingKey, sink.srv.URL+"/b"); err == nil {
			t.Fatal("a token for another URL verified")
		}
	})
}

// The account's default report URL is used when a message has none.
func TestAccountDefaultReportURL(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		var key string
		sink := newReportSink(t, &key, 0)
		s := start(t, engine)
		key = s.signingKey
		if err := accounts.SetReportURL(context.Background(), s.app.store, s.accountID, sink.srv.URL+"/default"); err != nil {
			t.Fatal(err)
		}
		m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x"})
		waitFor(t, "a report at the account's URL", 10*time.Second, func() bool { return len(sink.reports()) == 1 })
		if q := sink.reports()[0]; q.Get("id") != m["id"] || q.Get("status") != "delivered" {
			t.Fatalf("report %v", q)
		}
	})
}

// Without a connector for its destination a message is retried until its
// validity passes, then it ends as expired.
func TestExpiresWithoutRoute(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.Demo = false })
		m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x", "validity": 1})
		if m["validity"] != 1.0 {
			t.Fatalf("validity %v", m["validity"])
		}
		done := s.waitStatus(m["id"].(string), "expired")
		if items(done)[0]["statusReason"] != "expired" {
			t.Fatalf("expired recipient: %v", items(done)[0])
		}
	})
}
