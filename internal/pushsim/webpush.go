package pushsim

// The Web Push service simulator: an HTTP server that plays both the push
// service (RFC 8030: it checks the request and the VAPID header as a real
// service does) and the browser behind it (RFC 8291: it decrypts the
// message with the subscription's private key and records the plaintext).

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/webpush"
)

// WebPushMessage is one push message the simulator accepted.
type WebPushMessage struct {
	Endpoint  string        // the subscription's endpoint
	Plaintext []byte        // the decrypted payload (nil for a message without a body)
	Err       string        // why the "browser" could not decrypt it; empty when it could
	TTL       time.Duration // the TTL header
	Urgency   string        // the Urgency header (normal when absent)
	Topic     string        // the Topic header
	VAPIDKey  string        // the application server's public key (k=)
	Received  time.Time
}

// WebPushFault makes the simulator answer the next Count requests with
// Status (429 with RetryAfter, 500, 413 …) instead of accepting them.
type WebPushFault struct {
	Status     int
	RetryAfter time.Duration
	Count      int
}

type webPushSub struct {
	sub       webpush.Subscription
	priv      *ecdh.PrivateKey
	auth      []byte
	serverKey string // the applicationServerKey the subscription was made with; "" accepts any
	gone      bool
	messages  []WebPushMessage
}

// WebPush is the Web Push service simulator. Make it with StartWebPush.
type WebPush struct {
	srv *http.Server
	ln  net.Listener
	url string

	mu      sync.Mutex
	subs    map[string]*webPushSub // by id
	faults  []WebPushFault
	changed chan struct{} // closed and replaced whenever a message is recorded
	now     func() time.Time
}

// StartWebPush starts the simulator on addr ("127.0.0.1:0" picks a free
// port). Endpoints are http://ADDR/wp/{id}.
func StartWebPush(addr string) (*WebPush, error) {
	return StartWebPushTLS(addr, nil)
}

// StartWebPushTLS is StartWebPush over TLS (endpoints https://ADDR/wp/{id}),
// as real push services are and as clients that only speak https (the
// web-push npm library) need; cfg nil is plain HTTP.
func StartWebPushTLS(addr string, cfg *tls.Config) (*WebPush, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	scheme := "http://"
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
		scheme = "https://"
	}
	s := &WebPush{
		ln:      ln,
		url:     scheme + ln.Addr().String(),
		subs:    map[string]*webPushSub{},
		changed: make(chan struct{}),
		now:     time.Now,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /wp/{id}", s.push)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the simulator's base URL (http://127.0.0.1:PORT).
func (s *WebPush) URL() string { return s.url }

// Close stops the simulator.
func (s *WebPush) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// NewSubscription does what PushManager.subscribe does in a browser: a
// fresh P-256 key pair and auth secret, and an endpoint on this service.
// Any VAPID key may send to it (it must still sign a valid JWT).
func (s *WebPush) NewSubscription() webpush.Subscription {
	return s.NewSubscriptionFor("")
}

// NewSubscriptionFor is NewSubscription with an applicationServerKey
// (base64url): only that VAPID key may send to it, others get 403.
func (s *WebPush) NewSubscriptionFor(applicationServerKey string) webpush.Subscription {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	auth := make([]byte, 16)
	idb := make([]byte, 16)
	_, _ = rand.Read(auth)
	_, _ = rand.Read(idb)
	id := base64.RawURLEncoding.EncodeToString(idb)
	sub := webpush.Subscription{
		Endpoint: s.url + "/wp/" + id,
		Keys: webpush.Keys{
			P256dh: base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
			Auth:   base64.RawURLEncoding.EncodeToString(auth),
		},
	}
	s.mu.Lock()
	s.subs[id] = &webPushSub{sub: sub, priv: priv, auth: auth, serverKey: applicationServerKey}
	s.mu.Unlock()
	return sub
}

// Unsubscribe does what PushSubscription.unsubscribe does: the endpoint
// answers 410 Gone from now on.
func (s *WebPush) Unsubscribe(endpoint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ws := s.subs[subID(endpoint)]; ws != nil {
		ws.gone = true
	}
}

// SubscriptionKey is the subscription's private key and auth secret, for a
// test that wants to decrypt by itself.
func (s *WebPush) SubscriptionKey(endpoint string) (*ecdh.PrivateKey, []byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.subs[subID(endpoint)]
	if ws == nil {
		return nil, nil, false
	}
	return ws.priv, ws.auth, true
}

// Fail queues a fault: the next f.Count requests (1 when Count is 0) get
// f.Status. Faults queued earlier are served first.
func (s *WebPush) Fail(f WebPushFault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// Messages are the messages the subscription got, oldest first.
func (s *WebPush) Messages(endpoint string) []WebPushMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.subs[subID(endpoint)]
	if ws == nil {
		return nil
	}
	return append([]WebPushMessage(nil), ws.messages...)
}

// Wait waits until the subscription has at least n messages and returns
// them, or returns the context's error.
func (s *WebPush) Wait(ctx context.Context, endpoint string, n int) ([]WebPushMessage, error) {
	for {
		s.mu.Lock()
		changed := s.changed
		var msgs []WebPushMessage
		if ws := s.subs[subID(endpoint)]; ws != nil {
			msgs = ws.messages
		}
		if len(msgs) >= n {
			msgs = append([]WebPushMessage(nil), msgs...)
			s.mu.Unlock()
			return msgs, nil
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("pushsim: %d of %d web push messages for %s: %w", len(msgs), n, endpoint, ctx.Err())
		}
	}
}

func subID(endpoint string) string {
	i := strings.LastIndex(endpoint, "/wp/")
	if i < 0 {
		return ""
	}
	return endpoint[i+len("/wp/"):]
}

// webPushError is the answer body for an error, in the shape Mozilla's push
// service (autopush) uses.
func webPushError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code":    status,
		"error":   http.StatusText(status),
		"message": msg,
	})
}

func (s *WebPush) push(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	ws := s.subs[id]
	var fault *WebPushFault
	if len(s.faults) > 0 {
		f := s.faults[0]
		fault = &f
		if s.faults[0].Count--; s.faults[0].Count == 0 {
			s.faults = s.faults[1:]
		}
	}
	s.mu.Unlock()

	if fault != nil {
		if fault.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((fault.RetryAfter+time.Second-1)/time.Second)))
		}
		webPushError(w, fault.Status, "fault injected by the simulator")
		return
	}
	if ws == nil || ws.gone {
		webPushError(w, http.StatusGone, "no such subscription (expired or unsubscribed)")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, webpush.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			webPushError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", webpush.MaxBody))
			return
		}
		webPushError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}

	// RFC 8030 section 5.2: TTL is required.
	ttlHeader := r.Header.Get("TTL")
	ttl, err := strconv.ParseInt(strings.TrimSpace(ttlHeader), 10, 64)
	if err != nil || ttl < 0 {
		webPushError(w, http.StatusBadRequest, fmt.Sprintf("TTL header %q is missing or not a number of seconds", ttlHeader))
		return
	}
	m := webpush.Message{
		TTL:     time.Duration(min(ttl, 1<<32)) * time.Second,
		Urgency: r.Header.Get("Urgency"),
		Topic:   r.Header.Get("Topic"),
	}
	if err := m.Check(); err != nil {
		webPushError(w, http.StatusBadRequest, err.Error())
		return
	}
	if m.Urgency == "" {
		m.Urgency = "normal"
	}

	// RFC 8292: the VAPID header is checked against this origin.
	authz := r.Header.Get("Authorization")
	if authz == "" {
		webPushError(w, http.StatusUnauthorized, "no VAPID Authorization header")
		return
	}
	pub, err := webpush.VerifyVAPID(authz, s.url, s.now())
	if err != nil {
		webPushError(w, http.StatusUnauthorized, err.Error())
		return
	}
	if ws.serverKey != "" && pub != strings.TrimRight(ws.serverKey, "=") {
		webPushError(w, http.StatusForbidden, "the VAPID key is not the applicationServerKey of the subscription")
		return
	}

	if len(body) > 0 {
		if ce := r.Header.Get("Content-Encoding"); !strings.EqualFold(ce, "aes128gcm") {
			webPushError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q is not aes128gcm", ce))
			return
		}
	}

	msg := WebPushMessage{
		Endpoint: ws.sub.Endpoint,
		TTL:      m.TTL,
		Urgency:  m.Urgency,
		Topic:    m.Topic,
		VAPIDKey: pub,
		Received: s.now(),
	}
	if len(body) > 0 {
		// The browser's part: a body it cannot decrypt is dropped there,
		// after the push service accepted it; the simulator records why.
		if plain, err := webpush.Decrypt(body, ws.priv, ws.auth); err != nil {
			msg.Err = err.Error()
		} else {
			msg.Plaintext = plain
		}
	}

	s.mu.Lock()
	// RFC 8030 section 5.4: a topic replaces an undelivered message of the
	// same topic; this browser is always online, so nothing waits to be
	// replaced and each message is recorded.
	ws.messages = append(ws.messages, msg)
	close(s.changed)
	s.changed = make(chan struct{})
	n := len(ws.messages)
	s.mu.Unlock()

	w.Header().Set("Location", fmt.Sprintf("%s/m/%s/%d", s.url, id, n))
	w.Header().Set("TTL", strconv.FormatInt(ttl, 10))
	w.WriteHeader(http.StatusCreated)
}
