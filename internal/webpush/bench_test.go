package webpush

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func BenchmarkEncrypt(b *testing.B) {
	sub, _, _ := newSub(b, "https://push.example/x")
	payload := make([]byte, 200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encrypt(sub, payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	sub, priv, auth := newSub(b, "https://push.example/x")
	body, _ := Encrypt(sub, make([]byte, 200))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decrypt(body, priv, auth); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVAPIDSign(b *testing.B) {
	key, _ := GenerateVAPIDKey()
	exp := time.Now().Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VAPIDAuthorization(key, "mailto:a@example.com", "https://push.example", exp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorizationReused: what Send pays for VAPID while a signed
// header is reused.
func BenchmarkAuthorizationReused(b *testing.B) {
	key, _ := GenerateVAPIDKey()
	c := &Client{Key: key, Subject: "mailto:a@example.com"}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Authorization("https://push.example/x", now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyVAPID(b *testing.B) {
	key, _ := GenerateVAPIDKey()
	now := time.Now()
	h, _ := VAPIDAuthorization(key, "mailto:a@example.com", "https://push.example", now.Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyVAPID(h, "https://push.example", now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSend: encrypt, sign and POST over loopback to a server that
// answers 201 at once (what one Send costs the sender, keep-alive on).
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	sub, _, _ := newSub(b, srv.URL+"/wp/1")
	key, _ := GenerateVAPIDKey()
	c := &Client{Key: key, Subject: "mailto:a@example.com"}
	m := Message{Payload: make([]byte, 200), TTL: time.Hour}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Send(context.Background(), sub, m); err != nil {
			b.Fatal(err)
		}
	}
}
