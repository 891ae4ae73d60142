package webpush

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestVAPIDRoundTrip(t *testing.T) {
	key, err := GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	c := &Client{Key: key, Subject: "mailto:ops@example.com"}
	h, err := c.Authorization("https://push.example.net:8443/wp/abc?x=1", now)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := VerifyVAPID(h, "https://push.example.net:8443", now)
	if err != nil {
		t.Fatal(err)
	}
	if pub != PublicKey(key) {
		t.Fatalf("key %s, want %s", pub, PublicKey(key))
	}
	// Scheme case, spacing and quoting vary between libraries.
	alt := strings.Replace(strings.Replace(h, "vapid ", "VAPID  ", 1), ", k=", ",k=", 1)
	if _, err := VerifyVAPID(alt, "https://push.example.net:8443", now); err != nil {
		t.Errorf("variant %q: %v", alt, err)
	}
	// Expiry: 12 h ahead, so valid until then and not after.
	if _, err := VerifyVAPID(h, "https://push.example.net:8443", now.Add(12*time.Hour-time.Second)); err != nil {
		t.Errorf("before exp: %v", err)
	}
	if _, err := VerifyVAPID(h, "https://push.example.net:8443", now.Add(12*time.Hour)); err == nil {
		t.Error("accepted at exp")
	}
	if _, err := VerifyVAPID(h, "https://push.example.net", now); err == nil {
		t.Error("accepted for another origin")
	}
	if _, err := (&Client{Key: key, Subject: "ops@example.com"}).Authorization("https://p.example/x", now); err == nil {
		t.Error("signed with a subject that is not mailto: or https:")
	}
}

// signJWT signs arbitrary header and claims, for the cases a conforming
// signer never makes.
func signJWT(t *testing.T, key *ecdsa.PrivateKey, header string, claims any) string {
	t.Helper()
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64([]byte(header)) + "." + b64(c)
	d := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return "vapid t=" + input + "." + b64(sig) + ", k=" + PublicKey(key)
}

func TestVerifyVAPIDRejects(t *testing.T) {
	key, _ := GenerateVAPIDKey()
	other, _ := GenerateVAPIDKey()
	now := time.Unix(1_800_000_000, 0)
	aud := "https://push.example"
	exp := now.Add(time.Hour).Unix()
	es256 := `{"typ":"JWT","alg":"ES256"}`
	good := signJWT(t, key, es256, map[string]any{"aud": aud, "exp": exp, "sub": "mailto:a@example.com"})
	if _, err := VerifyVAPID(good, aud, now); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimPrefix(strings.Split(good, ",")[0], "vapid t=")
	parts := strings.Split(tok, ".")
	sig := unb64(t, parts[2])
	// A signature with s replaced by n−s is also valid ECDSA; flip a bit instead.
	sig[10] ^= 1
	for name, h := range map[string]string{
		"empty":          "",
		"bearer":         "Bearer " + tok,
		"webpush scheme": "WebPush " + tok,
		"no k":           "vapid t=" + tok,
		"no t":           "vapid k=" + PublicKey(key),
		"bad k":          "vapid t=" + tok + ", k=AAAA",
		"other k":        "vapid t=" + tok + ", k=" + PublicKey(other),
		"bad signature":  "vapid t=" + parts[0] + "." + parts[1] + "." + b64(sig) + ", k=" + PublicKey(key),
		"two parts":      "vapid t=" + parts[0] + "." + parts[1] + ", k=" + PublicKey(key),
		"alg none":       signJWT(t, key, `{"typ":"JWT","alg":"none"}`, map[string]any{"aud": aud, "exp": exp, "sub": "mailto:a@example.com"}),
		"alg HS256":      signJWT(t, key, `{"alg":"HS256"}`, map[string]any{"aud": aud, "exp": exp, "sub": "mailto:a@example.com"}),
		"no aud":         signJWT(t, key, es256, map[string]any{"exp": exp, "sub": "mailto:a@example.com"}),
		"aud array":      signJWT(t, key, es256, map[string]any{"aud": []string{aud}, "exp": exp, "sub": "mailto:a@example.com"}),
		"other aud":      signJWT(t, key, es256, map[string]any{"aud": aud + ":444", "exp": exp, "sub": "mailto:a@example.com"}),
		"no exp":         signJWT(t, key, es256, map[string]any{"aud": aud, "sub": "mailto:a@example.com"}),
		"expired":        signJWT(t, key, es256, map[string]any{"aud": aud, "exp": now.Unix() - 1, "sub": "mailto:a@example.com"}),
		"exp 25 h":       signJWT(t, key, es256, map[string]any{"aud": aud, "exp": now.Add(25 * time.Hour).Unix(), "sub": "mailto:a@example.com"}),
		"exp string":     signJWT(t, key, es256, map[string]any{"aud": aud, "exp": "soon", "sub": "mailto:a@example.com"}),
		"no sub":         signJWT(t, key, es256, map[string]any{"aud": aud, "exp": exp}),
		"sub not a URI":  signJWT(t, key, es256, map[string]any{"aud": aud, "exp": exp, "sub": "a@example.com"}),
		"sub http":       signJWT(t, key, es256, map[string]any{"aud": aud, "exp": exp, "sub": "http://example.com"}),
		"too long":       good + strings.Repeat(" ", 5000),
	} {
		if _, err := VerifyVAPID(h, aud, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Exactly 24 h ahead is allowed.
	edge := signJWT(t, key, es256, map[string]any{"aud": aud, "exp": now.Add(24 * time.Hour).Unix(), "sub": "https://example.com/contact"})
	if _, err := VerifyVAPID(edge, aud, now); err != nil {
		t.Errorf("exp at 24 h: %v", err)
	}
}

func TestAuthorizationReused(t *testing.T) {
	key, _ := GenerateVAPIDKey()
	c := &Client{Key: key, Subject: "mailto:ops@example.com"}
	now := time.Unix(1_900_000_000, 0)
	h1, err := c.Authorization("https://push.example/a", now)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := c.Authorization("https://push.example/b", now.Add(5*time.Hour))
	if h2 != h1 {
		t.Error("a header with 7 h left was signed again")
	}
	if _, err := VerifyVAPID(h2, "https://push.example", now.Add(5*time.Hour)); err != nil {
		t.Error(err)
	}
	h3, _ := c.Authorization("https://push.example/c", now.Add(7*time.Hour))
	if h3 == h1 {
		t.Error("a header with 5 h left was reused")
	}
	if _, err := VerifyVAPID(h3, "https://push.example", now.Add(7*time.Hour+11*time.Hour)); err != nil {
		t.Errorf("the new header does not last 12 h: %v", err)
	}
	h4, _ := c.Authorization("https://other.example/c", now.Add(7*time.Hour))
	if h4 == h3 {
		t.Error("a header for another origin was reused")
	}
	h5, _ := (&Client{Key: key, Subject: "mailto:x@example.com"}).Authorization("https://push.example/c", now.Add(7*time.Hour))
	if h5 == h3 {
		t.Error("a header for another subject was reused")
	}
	// An earlier now (a clock set back) never gets a header lasting over 12 h.
	h6, _ := c.Authorization("https://push.example/c", now)
	if _, err := VerifyVAPID(h6, "https://push.example", now); err != nil {
		t.Errorf("after the clock went back: %v", err)
	}
}
