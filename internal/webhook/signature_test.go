package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

func TestSortedQueryEscapesLikeEncodeURIComponent(t *testing.T) {
	q := url.Values{"b": {"x y"}, "a": {"1+2:3/4"}, "c": {"it's (ok)!*~"}}
	if got, want := sortedQuery(q), "a=1%2B2%3A3%2F4&b=x%20y&c=it's%20(ok)!*~"; got != want {
		t.Fatalf("sortedQuery = %q, want %q", got, want)
	}
}

func TestSignLegacy(t *testing.T) {
	q := url.Values{"id": {"abc"}, "status": {"delivered"}}
	body := []byte(`{"x":1}`)
	h := sha256.Sum256(body)
	mac := hmac.New(sha256.New, []byte("key"))
	mac.Write([]byte("1700000000\nid=abc&status=delivered\n"))
	mac.Write(h[:])
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	// Without characters the styles encode differently, every style signs
	// the same string.
	for _, style := range append([]string{""}, LegacyStyles...) {
		if got := SignLegacy("key", style, 1700000000, q, body); got != want {
			t.Fatalf("SignLegacy(%q) = %s, want %s", style, got, want)
		}
	}
	// The reference vector of the PHP SDK's RequestValidatorTest::testVerify
	// (all styles agree on it).
	ref := url.Values{"recipient": {"31612345678"}, "reference": {"FOO"}, "statusDatetime": {"2019-01-11T09:17:11+00:00"},
		"id": {"eef0ab57a9e049be946f3821568c2b2e"}, "status": {"delivered"}, "mccmnc": {"20408"}, "ported": {"1"}}
	for _, style := range LegacyStyles {
		if got := SignLegacy("PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd", style, 1547198231, ref, nil); got != "KVBdcVdz2lYMwcBLZCRITgxUfA/WkwSi+T3Wxl2HL6w=" {
			t.Fatalf("%s: reference vector signed as %s", style, got)
		}
	}
}

// TestLegacyStylesCanonicalQuery is the wire contract of each style: the
// query string the style's verifier rebuilds from the decoded query before
// checking the HMAC — Node's querystring.stringify of the sorted keys, Go's
// url.Values.Encode, PHP's http_build_query after ksort (of $_GET, which
// keeps a repeated key's last value), Ruby's URI.encode_www_form of the
// sorted parameters (Rack's, likewise the last value).
func TestLegacyStylesCanonicalQuery(t *testing.T) {
	q := url.Values{
		"statusReason": {"successfully delivered"},
		"reference":    {"it's *~(ok)! a+b"},
		"note":         {"é €"},
		"tag":          {"1", "2"},
		"path":         {"a/b:c?d=e&f"},
	}
	for style, want := range map[string]string{
		LegacyNode: "note=%C3%A9%20%E2%82%AC&path=a%2Fb%3Ac%3Fd%3De%26f&reference=it's%20*~(ok)!%20a%2Bb&statusReason=successfully%20delivered&tag=1&tag=2",
		LegacyGo:   "note=%C3%A9+%E2%82%AC&path=a%2Fb%3Ac%3Fd%3De%26f&reference=it%27s+%2A~%28ok%29%21+a%2Bb&statusReason=successfully+delivered&tag=1&tag=2",
		LegacyPHP:  "note=%C3%A9+%E2%82%AC&path=a%2Fb%3Ac%3Fd%3De%26f&reference=it%27s+%2A%7E%28ok%29%21+a%2Bb&statusReason=successfully+delivered&tag=2",
		LegacyRuby: "note=%C3%A9+%E2%82%AC&path=a%2Fb%3Ac%3Fd%3De%26f&reference=it%27s+*%7E%28ok%29%21+a%2Bb&statusReason=successfully+delivered&tag=2",
	} {
		if got := canonicalQuery(style, q); got != want {
			t.Errorf("%s:\n got %s\nwant %s", style, got, want)
		}
	}
	if got, want := canonicalQuery("", q), canonicalQuery(LegacyNode, q); got != want {
		t.Errorf("the default style is not node: %s", got)
	}
}

func TestReportURLKeepsCustomerQuery(t *testing.T) {
	m := &message.Message{ID: "m1", Reference: "r 1"}
	r := &message.Recipient{Address: "31612345678", PartCount: 2}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	full, q, err := withQuery("https://example.com/dlr?tenant=acme&note=a+b", reportQuery(m, r, store.Report{Status: message.Delivered, At: at}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(full, "https://example.com/dlr?tenant=acme&note=a+b&id=m1&") {
		t.Fatalf("URL %s does not keep the customer's query first and as written", full)
	}
	if !strings.Contains(full, "statusDatetime=2026-01-02T03%3A04%3A05%2B00%3A00") || !strings.Contains(full, "reference=r%201") {
		t.Fatalf("URL %s", full)
	}
	if q.Get("tenant") != "acme" || q.Get("note") != "a b" || q.Get("messagePartCount") != "2" || q.Get("statusReason") != "successfully delivered" {
		t.Fatalf("values %v", q)
	}
	for _, bad := range []string{"ftp://x/y", "/relative", "http://", "http://x/%zz?a=%zz"} {
		if _, _, err := withQuery(bad, reportQuery(m, r, store.Report{Status: message.Delivered, At: at})); err == nil {
			t.Errorf("withQuery(%q) accepted", bad)
		}
	}
}

// TestSignJWTMatchesLibrary: the hand-written token is byte for byte what
// golang-jwt signs for the same claims, with and without a body, and it
// verifies.
func TestSignJWTMatchesLibrary(t *testing.T) {
	now := time.Unix(1764979200, 0)
	const key, url, jti = "signing-key", "https://example.com:8443/reports?id=1&status=delivered", "01a249e26f8c5b45dbe3d1f865a6d573"
	for _, body := range [][]byte{nil, []byte(`{"type":"message.updated"}`)} {
		urlHash := sha256.Sum256([]byte(url))
		claims := jwt.MapClaims{"iss": "MessageBird", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(jwtLifetime).Unix(),
			"jti": jti, "url_hash": hex.EncodeToString(urlHash[:])}
		if len(body) > 0 {
			h := sha256.Sum256(body)
			claims["payload_hash"] = hex.EncodeToString(h[:])
		}
		want, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		got := signJWT(key, url, body, now, jti)
		if got != want {
			t.Fatalf("body %q:\n got %s\nwant %s", body, got, want)
		}
		parsed, err := jwt.Parse(got, func(*jwt.Token) (any, error) { return []byte(key), nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
		if err != nil || !parsed.Valid {
			t.Fatalf("body %q: token does not verify: %v", body, err)
		}
	}
}
