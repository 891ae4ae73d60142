package pushsim

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/webpush"
)

func startWebPush(t *testing.T) *WebPush {
	t.Helper()
	sim, err := StartWebPush("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func vapidClient(t *testing.T) *webpush.Client {
	t.Helper()
	key, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	return &webpush.Client{Key: key, Subject: "mailto:ops@example.com"}
}

func TestWebPushSimulatorDelivers(t *testing.T) {
	sim := startWebPush(t)
	c := vapidClient(t)
	sub := sim.NewSubscriptionFor(webpush.PublicKey(c.Key))
	if err := sub.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	payloads := [][]byte{[]byte(`{"title":"hi"}`), nil, bytes.Repeat([]byte("x"), webpush.MaxPlaintext)}
	for i, p := range payloads {
		res, err := c.Send(ctx, sub, webpush.Message{Payload: p, TTL: time.Minute, Urgency: "low", Topic: "t1"})
		if err != nil || res.Status != http.StatusCreated {
			t.Fatalf("message %d: %+v %v", i, res, err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msgs, err := sim.Wait(wctx, sub.Endpoint, len(payloads))
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		if m.Err != "" || !bytes.Equal(m.Plaintext, payloads[i]) {
			t.Errorf("message %d: %q (err %q)", i, m.Plaintext, m.Err)
		}
		if m.TTL != time.Minute || m.Urgency != "low" || m.Topic != "t1" || m.VAPIDKey != webpush.PublicKey(c.Key) {
			t.Errorf("message %d: %+v", i, m)
		}
	}
	if n := len(sim.Messages(sub.Endpoint)); n != len(payloads) {
		t.Errorf("Messages: %d", n)
	}

	// Another application server's key: 403, as the subscription was made
	// for c's key.
	other := vapidClient(t)
	_, err = other.Send(ctx, sub, webpush.Message{Payload: []byte("x")})
	var se *webpush.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusForbidden {
		t.Errorf("foreign VAPID key: %v", err)
	}
	// A subscription without an applicationServerKey takes any valid one.
	open := sim.NewSubscription()
	if _, err := other.Send(ctx, open, webpush.Message{}); err != nil {
		t.Errorf("open subscription: %v", err)
	}
	// No VAPID at all: 401.
	_, err = (&webpush.Client{}).Send(ctx, open, webpush.Message{Payload: []byte("x")})
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Errorf("no VAPID: %v", err)
	}
}

func TestWebPushSimulatorGoneAndFaults(t *testing.T) {
	sim := startWebPush(t)
	c := vapidClient(t)
	sub := sim.NewSubscription()
	ctx := context.Background()

	unknown := sub
	unknown.Endpoint = sim.URL() + "/wp/nosuch"
	if res, err := c.Send(ctx, unknown, webpush.Message{Payload: []byte("x")}); err != nil || !res.Gone || res.Status != http.StatusGone {
		t.Errorf("unknown subscription: %+v %v", res, err)
	}

	sim.Fail(WebPushFault{Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second})
	sim.Fail(WebPushFault{Status: http.StatusInternalServerError, Count: 2})
	sim.Fail(WebPushFault{Status: http.StatusRequestEntityTooLarge})
	want := []struct {
		status int
		retry  time.Duration
	}{{429, 30 * time.Second}, {500, 0}, {500, 0}, {413, 0}, {201, 0}}
	for i, w := range want {
		res, err := c.Send(ctx, sub, webpush.Message{Payload: []byte("x")})
		if res.Status != w.status || res.RetryAfter != w.retry || res.Gone || (err == nil) != (w.status == 201) {
			t.Errorf("request %d: %+v %v, want %d", i, res, err, w.status)
		}
	}

	sim.Unsubscribe(sub.Endpoint)
	if res, err := c.Send(ctx, sub, webpush.Message{Payload: []byte("x")}); err != nil || !res.Gone {
		t.Errorf("after unsubscribe: %+v %v", res, err)
	}
	if n := len(sim.Messages(sub.Endpoint)); n != 1 {
		t.Errorf("%d messages recorded, want 1", n)
	}
}

// Requests a conforming client never makes: the service answers each
// with its error.
func TestWebPushSimulatorRejects(t *testing.T) {
	sim := startWebPush(t)
	c := vapidClient(t)
	sub := sim.NewSubscription()
	body, err := webpush.Encrypt(sub, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good, err := c.Authorization(sub.Endpoint, now)
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := webpush.VAPIDAuthorization(c.Key, c.Subject, sim.URL(), now.Add(-time.Minute))
	tooLong, _ := webpush.VAPIDAuthorization(c.Key, c.Subject, sim.URL(), now.Add(25*time.Hour))
	wrongAud, _ := webpush.VAPIDAuthorization(c.Key, c.Subject, "https://other.example", now.Add(time.Hour))
	forged := strings.Replace(good, "k="+webpush.PublicKey(c.Key), "k="+webpush.PublicKey(vapidClient(t).Key), 1)

	for _, tc := range []struct {
		name   string
		header map[string]string
		body   []byte
		status int
	}{
		{"no TTL", map[string]string{"Authorization": good}, body, 400},
		{"bad TTL", map[string]string{"TTL": "soon", "Authorization": good}, body, 400},
		{"bad urgency", map[string]string{"TTL": "0", "Urgency": "now", "Authorization": good}, body, 400},
		{"no VAPID", map[string]string{"TTL": "0"}, body, 401},
		{"expired JWT", map[string]string{"TTL": "0", "Authorization": expired}, body, 401},
		{"exp over 24 h", map[string]string{"TTL": "0", "Authorization": tooLong}, body, 401},
		{"wrong aud", map[string]string{"TTL": "0", "Authorization": wrongAud}, body, 401},
		{"forged k", map[string]string{"TTL": "0", "Authorization": forged}, body, 401},
		{"old aesgcm", map[string]string{"TTL": "0", "Authorization": good, "Content-Encoding": "aesgcm"}, body, 415},
		{"too large", map[string]string{"TTL": "0", "Authorization": good, "Content-Encoding": "aes128gcm"}, make([]byte, webpush.MaxBody+1), 413},
		{"good", map[string]string{"TTL": "0", "Authorization": good, "Content-Encoding": "aes128gcm"}, body, 201},
	} {
		req, _ := http.NewRequest(http.MethodPost, sub.Endpoint, bytes.NewReader(tc.body))
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
	// A body encrypted for another subscription reaches the service but
	// the browser cannot read it: recorded with the reason.
	stranger := sim.NewSubscription()
	foreign, _ := webpush.Encrypt(stranger, []byte("y"))
	req, _ := http.NewRequest(http.MethodPost, sub.Endpoint, bytes.NewReader(foreign))
	req.Header.Set("TTL", "0")
	req.Header.Set("Authorization", good)
	req.Header.Set("Content-Encoding", "aes128gcm")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	msgs := sim.Messages(sub.Endpoint)
	if len(msgs) != 2 || msgs[0].Err != "" || string(msgs[0].Plaintext) != "x" || msgs[1].Err == "" {
		t.Errorf("messages %+v", msgs)
	}
}

// Over TLS, as real push services (and clients that speak only https).
func TestWebPushSimulatorTLS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	sim, err := StartWebPushTLS("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if !strings.HasPrefix(sim.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s", sim.URL())
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c := vapidClient(t)
	c.HTTP = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	sub := sim.NewSubscription()
	if res, err := c.Send(context.Background(), sub, webpush.Message{Payload: []byte("over tls")}); err != nil || res.Status != 201 {
		t.Fatalf("%+v %v", res, err)
	}
	msgs := sim.Messages(sub.Endpoint)
	if len(msgs) != 1 || string(msgs[0].Plaintext) != "over tls" {
		t.Fatalf("%+v", msgs)
	}
	// Wait gives up with the context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sim.Wait(ctx, sub.Endpoint, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %v", err)
	}
}
