// Command gohelper is the Go side of interop/webpush/run.sh.
//
//	gohelper sim K CERT KEY  runs the Web Push simulator (internal/pushsim)
//	                         over TLS (CERT, KEY: PEM files) on a free
//	                         loopback port and prints one JSON line: a
//	                         subscription bound to the VAPID public key K,
//	                         and one open to any key. Then it answers
//	                         commands on stdin, one JSON line each:
//	                           messages ENDPOINT   what the subscription got
//	                           fail STATUS SECONDS the next request gets STATUS
//	                           unsubscribe ENDPOINT
//	gohelper encrypt         prints one JSON object: a fresh subscription
//	                         with its private key, bodies that
//	                         webpush.Encrypt made for it, and a VAPID
//	                         Authorization header for its endpoint, for
//	                         independent libraries to decrypt and verify.
package main

import (
	"bufio"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/pushsim"
	"github.com/omnigate/omnigate/internal/webpush"
)

func main() {
	if len(os.Args) < 2 {
		fatal("usage: gohelper sim KEY CERT KEYFILE | gohelper encrypt")
	}
	switch os.Args[1] {
	case "sim":
		if len(os.Args) != 5 {
			fatal("usage: gohelper sim APPLICATION_SERVER_KEY CERT_FILE KEY_FILE")
		}
		sim(os.Args[2], os.Args[3], os.Args[4])
	case "encrypt":
		encrypt()
	default:
		fatal("unknown mode " + os.Args[1])
	}
}

func fatal(msg string) {
	fmt.Fprintln(os.Stderr, "gohelper:", msg)
	os.Exit(2)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

type message struct {
	Plaintext string `json:"plaintext"` // base64url
	Err       string `json:"err,omitempty"`
	TTL       int64  `json:"ttl"`
	Urgency   string `json:"urgency"`
	Topic     string `json:"topic"`
	VAPIDKey  string `json:"vapidKey"`
}

func sim(serverKey, certFile, keyFile string) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		fatal(err.Error())
	}
	s, err := pushsim.StartWebPushTLS("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		fatal(err.Error())
	}
	defer s.Close()
	out := json.NewEncoder(os.Stdout)
	emit := func(v any) {
		if err := out.Encode(v); err != nil {
			os.Exit(1)
		}
	}
	emit(map[string]any{
		"bound": s.NewSubscriptionFor(serverKey),
		"open":  s.NewSubscription(),
	})
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 2 && f[0] == "messages":
			msgs := []message{}
			for _, m := range s.Messages(f[1]) {
				msgs = append(msgs, message{Plaintext: b64(m.Plaintext), Err: m.Err, TTL: int64(m.TTL / time.Second),
					Urgency: m.Urgency, Topic: m.Topic, VAPIDKey: m.VAPIDKey})
			}
			emit(map[string]any{"messages": msgs})
		case len(f) == 3 && f[0] == "fail":
			status, err1 := strconv.Atoi(f[1])
			secs, err2 := strconv.Atoi(f[2])
			if err1 != nil || err2 != nil {
				emit(map[string]any{"error": "fail STATUS SECONDS"})
				continue
			}
			s.Fail(pushsim.WebPushFault{Status: status, RetryAfter: time.Duration(secs) * time.Second})
			emit(map[string]any{"ok": true})
		case len(f) == 2 && f[0] == "unsubscribe":
			s.Unsubscribe(f[1])
			emit(map[string]any{"ok": true})
		default:
			emit(map[string]any{"error": "unknown command " + strconv.Quote(in.Text())})
		}
	}
}

func encrypt() {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		fatal(err.Error())
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	sub := webpush.Subscription{
		Endpoint: "https://push.example.net/wp/interop",
		Keys:     webpush.Keys{P256dh: b64(priv.PublicKey().Bytes()), Auth: b64(auth)},
	}
	type sample struct {
		Plaintext string `json:"plaintext"`
		Body      string `json:"body"`
	}
	var samples []sample
	for _, n := range []int{0, 1, 41, 1000, webpush.MaxPlaintext} {
		p := make([]byte, n)
		_, _ = rand.Read(p)
		body, err := webpush.Encrypt(sub, p)
		if err != nil {
			fatal(err.Error())
		}
		samples = append(samples, sample{Plaintext: b64(p), Body: b64(body)})
	}
	key, err := webpush.GenerateVAPIDKey()
	if err != nil {
		fatal(err.Error())
	}
	c := &webpush.Client{Key: key, Subject: "mailto:interop@example.com"}
	authz, err := c.Authorization(sub.Endpoint, time.Now())
	if err != nil {
		fatal(err.Error())
	}
	privRaw := priv.Bytes()
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"subscription": sub,
		"privateKey":   b64(privRaw),
		"samples":      samples,
		"vapid": map[string]any{
			"authorization": authz,
			"audience":      "https://push.example.net",
			"publicKey":     webpush.PublicKey(key),
			"subject":       c.Subject,
		},
	})
}
