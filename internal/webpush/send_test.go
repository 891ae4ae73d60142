package webpush

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSendToPushService(t *testing.T) {
	key, err := GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		header http.Header
		plain  []byte
		pub    string
		err    error
	}
	gotc := make(chan got, 1)
	var status atomic.Int32
	status.Store(http.StatusCreated)
	sub, subPriv, subAuth := newSub(t, "http://127.0.0.1/")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g := got{header: r.Header}
		g.pub, g.err = VerifyVAPID(r.Header.Get("Authorization"), "http://"+r.Host, time.Now())
		if g.err == nil && len(body) > 0 {
			g.plain, g.err = Decrypt(body, subPriv, subAuth)
		}
		gotc <- g
		if status.Load() == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "7")
		}
		w.WriteHeader(int(status.Load()))
		io.WriteString(w, "answer\n")
	}))
	defer srv.Close()
	sub.Endpoint = srv.URL + "/wp/1"

	c := &Client{Key: key, Subject: "mailto:ops@example.com"}
	res, err := c.Send(context.Background(), sub, Message{Payload: []byte("hello"), TTL: 90 * time.Second, Urgency: "high", Topic: "news_1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 201 || res.Gone {
		t.Fatalf("result %+v", res)
	}
	g := <-gotc
	if g.err != nil {
		t.Fatal(g.err)
	}
	if string(g.plain) != "hello" || g.pub != PublicKey(key) {
		t.Fatalf("push service got %q from %s", g.plain, g.pub)
	}
	for h, want := range map[string]string{"TTL": "90", "Urgency": "high", "Topic": "news_1", "Content-Encoding": "aes128gcm"} {
		if v := g.header.Get(h); v != want {
			t.Errorf("%s: %q, want %q", h, v, want)
		}
	}

	for _, tc := range []struct {
		status int
		gone   bool
		retry  time.Duration
	}{{410, true, 0}, {404, true, 0}, {429, false, 7 * time.Second}, {413, false, 0}, {500, false, 0}} {
		status.Store(int32(tc.status))
		res, err := c.Send(context.Background(), sub, Message{Payload: []byte("x")})
		<-gotc
		if res.Status != tc.status || res.Gone != tc.gone || res.RetryAfter != tc.retry {
			t.Errorf("%d: result %+v", tc.status, res)
		}
		var se *StatusError
		if tc.gone != (err == nil) || (!tc.gone && !errors.As(err, &se)) {
			t.Errorf("%d: error %v", tc.status, err)
		}
		if se != nil && !strings.Contains(se.Error(), "answer") {
			t.Errorf("%d: error %q leaves out the body", tc.status, se)
		}
	}

	for _, m := range []Message{{Urgency: "urgent"}, {Topic: "a b"}, {Topic: strings.Repeat("a", 33)}, {TTL: -time.Second}} {
		if _, err := c.Send(context.Background(), sub, m); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%+v: %v, want ErrInvalidMessage", m, err)
		}
	}
	if _, err := c.Send(context.Background(), sub, Message{Payload: make([]byte, MaxPlaintext+1)}); err != ErrTooLarge {
		t.Errorf("oversized: %v", err)
	}
	bad := sub
	bad.Keys.Auth = "AAAA"
	if _, err := c.Send(context.Background(), bad, Message{Payload: []byte("x")}); !errors.Is(err, ErrInvalidSubscription) {
		t.Errorf("bad subscription: %v, want ErrInvalidSubscription", err)
	}
	if _, err := Encrypt(bad, []byte("x")); !errors.Is(err, ErrInvalidSubscription) {
		t.Errorf("Encrypt for a bad subscription: %v", err)
	}
}
