package webpush

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Message is one push message (RFC 8030 section 5).
type Message struct {
	// Payload is encrypted for the subscription; empty sends a push
	// message without a body (the service worker gets an event with no data).
	Payload []byte
	// TTL is how long the push service keeps the message for a device
	// that is offline; 0 means deliver now or never. Whole seconds.
	TTL time.Duration
	// Urgency is very-low, low, normal or high; empty leaves it out
	// (services take normal).
	Urgency string
	// Topic replaces an undelivered message with the same topic: at most
	// 32 characters of the base64url alphabet.
	Topic string
}

// Result is what the push service answered.
type Result struct {
	Status int
	// Gone: 404 or 410, the subscription is expired or unsubscribed;
	// remove the device.
	Gone bool
	// RetryAfter is the push service's Retry-After (on 429 and 503).
	RetryAfter time.Duration
}

// Client sends push messages signed with a VAPID key.
type Client struct {
	HTTP    *http.Client      // nil: a client with a 30 s timeout
	Key     *ecdsa.PrivateKey // the VAPID key; nil sends without Authorization
	Subject string            // the VAPID sub: mailto:… or https:…
}

// defaultHTTP is the client of a Client without one: push services answer
// in well under a second; a stuck one must not hold a worker forever.
var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

// StatusError is Send's error for an answer that is neither 2xx nor Gone.
type StatusError struct {
	Status     int
	RetryAfter time.Duration
	Body       string // the start of the push service's answer
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("webpush: push service answered %d %s", e.Status, http.StatusText(e.Status))
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Urgency values (RFC 8030 section 5.3).
var urgencies = map[string]bool{"very-low": true, "low": true, "normal": true, "high": true}

// Check reports whether the message's headers are valid (RFC 8030): its
// errors match ErrInvalidMessage, or are ErrTooLarge.
func (m Message) Check() error {
	if m.TTL < 0 {
		return invalid(ErrInvalidMessage, errors.New("webpush: TTL must not be negative"))
	}
	if m.Urgency != "" && !urgencies[m.Urgency] {
		return invalid(ErrInvalidMessage, fmt.Errorf("webpush: urgency %q is not very-low, low, normal or high", m.Urgency))
	}
	if m.Topic != "" {
		if len(m.Topic) > 32 {
			return invalid(ErrInvalidMessage, errors.New("webpush: topic is longer than 32 characters"))
		}
		for _, c := range m.Topic {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return invalid(ErrInvalidMessage, fmt.Errorf("webpush: topic %q has a character outside the base64url alphabet", m.Topic))
			}
		}
	}
	if len(m.Payload) > MaxPlaintext {
		return ErrTooLarge
	}
	return nil
}

// Authorization is the VAPID header value for a request to endpoint: a JWT
// that expires 12 hours after it was signed. A header signed for the same
// key, subject and origin is reused while it has more than 6 hours left, so
// a busy sender signs once per push service every 6 hours, not per message.
func (c *Client) Authorization(endpoint string, now time.Time) (string, error) {
	aud, err := endpointOrigin(endpoint)
	if err != nil {
		return "", err
	}
	k := vapidCacheKey{key: c.Key, subject: c.Subject, aud: aud}
	vapidCache.Lock()
	e, ok := vapidCache.m[k]
	vapidCache.Unlock()
	if left := e.exp.Sub(now); ok && left > vapidLifetime/2 && left <= vapidLifetime {
		return e.header, nil
	}
	exp := now.Add(vapidLifetime)
	h, err := VAPIDAuthorization(c.Key, c.Subject, aud, exp)
	if err != nil {
		return "", err
	}
	vapidCache.Lock()
	if len(vapidCache.m) >= vapidCacheMax {
		clear(vapidCache.m)
	}
	vapidCache.m[k] = vapidCacheEntry{header: h, exp: exp}
	vapidCache.Unlock()
	return h, nil
}

type vapidCacheKey struct {
	key          *ecdsa.PrivateKey
	subject, aud string
}

type vapidCacheEntry struct {
	header string
	exp    time.Time
}

// vapidCacheMax bounds the cache: push services are a handful of origins,
// so it fills only with many keys (one per app); then it starts again.
const vapidCacheMax = 4096

var vapidCache = struct {
	sync.Mutex
	m map[vapidCacheKey]vapidCacheEntry
}{m: map[vapidCacheKey]vapidCacheEntry{}}

// Send encrypts m for sub and POSTs it to the subscription's endpoint. A
// 2xx answer (201 Created) and 404/410 (Gone set: remove the device) return
// no error; any other answer is a *StatusError (429 and 503 with RetryAfter
// set, 413 when the service refuses the size), and a failed request is the
// transport's error.
func (c *Client) Send(ctx context.Context, sub Subscription, m Message) (Result, error) {
	if err := sub.Validate(); err != nil {
		return Result{}, err
	}
	if err := m.Check(); err != nil {
		return Result{}, err
	}
	var body []byte
	if len(m.Payload) > 0 {
		var err error
		if body, err = Encrypt(sub, m.Payload); err != nil {
			return Result{}, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("webpush: %w", err)
	}
	req.Header.Set("TTL", strconv.FormatInt(int64(m.TTL/time.Second), 10))
	if m.Urgency != "" {
		req.Header.Set("Urgency", m.Urgency)
	}
	if m.Topic != "" {
		req.Header.Set("Topic", m.Topic)
	}
	if body != nil {
		req.Header.Set("Content-Encoding", "aes128gcm")
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	if c.Key != nil {
		auth, err := c.Authorization(sub.Endpoint, time.Now())
		if err != nil {
			return Result{}, err
		}
		req.Header.Set("Authorization", auth)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	res := Result{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return res, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		res.Gone = true
		return res, nil
	}
	return res, &StatusError{Status: resp.StatusCode, RetryAfter: res.RetryAfter, Body: printable(snippet)}
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP-date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now).Round(time.Second), 24*time.Hour)
	}
	return 0
}

func printable(b []byte) string {
	s := strings.TrimSpace(string(b))
	if !utf8.ValidString(s) {
		return fmt.Sprintf("(%d bytes)", len(b))
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 {
			return ' '
		}
		return r
	}, s)
}
