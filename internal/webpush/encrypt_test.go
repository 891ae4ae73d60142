package webpush

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return b
}

// rfc8291 is the example of RFC 8291 Appendix A.
var rfc8291 = struct {
	plaintext, asPriv, asPub, uaPriv, uaPub, salt, auth, body string
}{
	plaintext: "When I grow up, I want to be a watermelon",
	asPriv:    "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
	asPub:     "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
	uaPriv:    "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
	uaPub:     "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
	salt:      "DGv6ra1nlYgDCS1FRnbzlw",
	auth:      "BTBZMqHH6r4Tts7J_aSIgg",
	body:      "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
}

func TestDecryptRFC8291Example(t *testing.T) {
	v := rfc8291
	ua, err := ecdh.P256().NewPrivateKey(unb64(t, v.uaPriv))
	if err != nil {
		t.Fatal(err)
	}
	if got := b64(ua.PublicKey().Bytes()); got != v.uaPub {
		t.Fatalf("user agent public key %s, want %s", got, v.uaPub)
	}
	got, err := Decrypt(unb64(t, v.body), ua, unb64(t, v.auth))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != v.plaintext {
		t.Fatalf("plaintext %q, want %q", got, v.plaintext)
	}
}

func TestEncryptRFC8291Example(t *testing.T) {
	v := rfc8291
	as, err := ecdh.P256().NewPrivateKey(unb64(t, v.asPriv))
	if err != nil {
		t.Fatal(err)
	}
	sub := Subscription{Endpoint: "https://push.example.net/p/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV", Keys: Keys{P256dh: v.uaPub, Auth: v.auth}}
	body, err := encrypt(sub, []byte(v.plaintext), unb64(t, v.salt), as)
	if err != nil {
		t.Fatal(err)
	}
	if got := b64(body); got != v.body {
		t.Fatalf("body\n %s\nwant\n %s", got, v.body)
	}
}

// newSub is what PushManager.subscribe makes: a key pair and an auth secret.
func newSub(t testing.TB, endpoint string) (Subscription, *ecdh.PrivateKey, []byte) {
	t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	return Subscription{Endpoint: endpoint, Keys: Keys{P256dh: b64(priv.PublicKey().Bytes()), Auth: b64(auth)}}, priv, auth
}

func TestEncryptRoundTrip(t *testing.T) {
	sub, priv, auth := newSub(t, "https://push.example/x")
	for _, n := range []int{0, 1, 100, MaxPlaintext} {
		msg := bytes.Repeat([]byte{'a' + byte(n%26)}, n)
		body, err := Encrypt(sub, msg)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if len(body) > MaxBody {
			t.Fatalf("%d bytes: body of %d bytes is over %d", n, len(body), MaxBody)
		}
		got, err := Decrypt(body, priv, auth)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes: round trip changed the payload", n)
		}
		// Another key or auth secret must not decrypt it.
		other, _, otherAuth := newSub(t, sub.Endpoint)
		_ = other
		if _, err := Decrypt(body, priv, otherAuth); err == nil {
			t.Fatalf("%d bytes: decrypted with the wrong auth secret", n)
		}
		body[len(body)-1] ^= 1
		if _, err := Decrypt(body, priv, auth); err == nil {
			t.Fatalf("%d bytes: decrypted a damaged body", n)
		}
	}
	if _, err := Encrypt(sub, make([]byte, MaxPlaintext+1)); err != ErrTooLarge {
		t.Fatalf("oversized payload: %v, want ErrTooLarge", err)
	}
}

func TestSubscriptionValidate(t *testing.T) {
	good, _, _ := newSub(t, "https://fcm.googleapis.com/fcm/send/abc")
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, ep := range []string{"http://127.0.0.1:8080/wp/1", "http://[::1]:9/wp", "http://localhost/x"} {
		s := good
		s.Endpoint = ep
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", ep, err)
		}
	}
	bad := map[string]func(*Subscription){
		"no endpoint":       func(s *Subscription) { s.Endpoint = "" },
		"http remote":       func(s *Subscription) { s.Endpoint = "http://push.example/x" },
		"ftp":               func(s *Subscription) { s.Endpoint = "ftp://push.example/x" },
		"no host":           func(s *Subscription) { s.Endpoint = "https:///x" },
		"user info":         func(s *Subscription) { s.Endpoint = "https://u:p@push.example/x" },
		"short key":         func(s *Subscription) { s.Keys.P256dh = s.Keys.P256dh[:40] },
		"compressed key":    func(s *Subscription) { s.Keys.P256dh = b64(append([]byte{2}, make([]byte, 32)...)) },
		"off-curve key":     func(s *Subscription) { s.Keys.P256dh = b64(append([]byte{4}, make([]byte, 64)...)) },
		"not base64":        func(s *Subscription) { s.Keys.P256dh = "!!!" },
		"short auth":        func(s *Subscription) { s.Keys.Auth = b64(make([]byte, 8)) },
		"missing auth":      func(s *Subscription) { s.Keys.Auth = "" },
		"endpoint too long": func(s *Subscription) { s.Endpoint = "https://p.example/" + strings.Repeat("a", 3000) },
	}
	for name, spoil := range bad {
		s := good
		spoil(&s)
		if err := s.Validate(); !errors.Is(err, ErrInvalidSubscription) {
			t.Errorf("%s: Validate: %v, want ErrInvalidSubscription", name, err)
		}
	}
	// Padded and standard base64 as some libraries write it.
	s := good
	raw := unb64(t, s.Keys.Auth)
	s.Keys.Auth = base64.StdEncoding.EncodeToString(raw)
	if err := s.Validate(); err != nil {
		t.Errorf("padded auth: %v", err)
	}
}

func TestKeysRoundTrip(t *testing.T) {
	k, err := GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParsePrivateKey(PrivateKeyString(k))
	if err != nil {
		t.Fatal(err)
	}
	if !k.Equal(k2) || PublicKey(k) != PublicKey(k2) {
		t.Fatal("key changed in a round trip through PrivateKeyString")
	}
	if len(unb64(t, PublicKey(k))) != 65 {
		t.Fatal("public key is not 65 bytes")
	}
	// The RFC 8291 example's sender key in web-push's format.
	as, err := ParsePrivateKey(rfc8291.asPriv)
	if err != nil {
		t.Fatal(err)
	}
	if PublicKey(as) != rfc8291.asPub {
		t.Fatalf("public key %s, want %s", PublicKey(as), rfc8291.asPub)
	}
	for _, bad := range []string{"", "abc", b64(make([]byte, 32)), b64(make([]byte, 31))} {
		if _, err := ParsePrivateKey(bad); err == nil {
			t.Errorf("ParsePrivateKey(%q) accepted it", bad)
		}
	}
}
