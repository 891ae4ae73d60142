package webpush

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Keys are a subscription's keys as a browser's PushSubscription.toJSON()
// gives them: base64url, usually without padding.
type Keys struct {
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

// Subscription is what the browser's PushManager.subscribe returns: where to
// POST and the keys to encrypt for.
type Subscription struct {
	Endpoint string `json:"endpoint"`
	Keys     Keys   `json:"keys"`
}

const (
	authLen     = 16 // RFC 8291 section 3.2: the auth secret
	pointLen    = 65 // an uncompressed P-256 point: 0x04 || X || Y
	scalarLen   = 32 // a P-256 private scalar
	maxEndpoint = 2048
)

// Validate checks that a subscription can be sent to: an https endpoint (or
// http to a loopback host, for simulators and tests), a 65-byte uncompressed
// P-256 public key that is on the curve, and a 16-byte auth secret.
//
// Its errors match ErrInvalidSubscription (errors.Is): a subscription that
// fails never will pass, so the device can be dropped.
func (s Subscription) Validate() error {
	if _, err := endpointOrigin(s.Endpoint); err != nil {
		return invalid(ErrInvalidSubscription, err)
	}
	if _, err := s.publicKey(); err != nil {
		return invalid(ErrInvalidSubscription, err)
	}
	if _, err := s.authSecret(); err != nil {
		return invalid(ErrInvalidSubscription, err)
	}
	return nil
}

// ErrInvalidSubscription is matched (errors.Is) by the errors of
// Subscription.Validate, and so of Send and Encrypt for such a subscription.
var ErrInvalidSubscription = errors.New("webpush: invalid subscription")

// ErrInvalidMessage is matched by the errors of Message.Check other than
// ErrTooLarge: a negative TTL, an unknown urgency, a bad topic.
var ErrInvalidMessage = errors.New("webpush: invalid message")

// invalidError keeps the precise message and matches a sentinel.
type invalidError struct {
	kind error
	err  error
}

func invalid(kind, err error) error          { return &invalidError{kind: kind, err: err} }
func (e *invalidError) Error() string        { return e.err.Error() }
func (e *invalidError) Is(target error) bool { return target == e.kind }
func (e *invalidError) Unwrap() error        { return e.err }

// endpointOrigin checks an endpoint and returns its origin (scheme://host),
// the audience of the VAPID JWT.
func endpointOrigin(endpoint string) (string, error) {
	if endpoint == "" {
		return "", errors.New("webpush: endpoint is missing")
	}
	if len(endpoint) > maxEndpoint {
		return "", fmt.Errorf("webpush: endpoint is longer than %d bytes", maxEndpoint)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("webpush: endpoint is not a URL: %w", err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", errors.New("webpush: endpoint has no host")
	}
	if u.User != nil {
		return "", errors.New("webpush: endpoint must not carry user information")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", errors.New("webpush: endpoint must be https (http only to a loopback address)")
		}
	default:
		return "", fmt.Errorf("webpush: endpoint scheme %q is not https", u.Scheme)
	}
	// The origin as browsers serialise it (and web-push's url.origin): the
	// host in lower case, without the scheme's default port.
	host := strings.ToLower(u.Host)
	if u.Port() == map[string]string{"https": "443", "http": "80"}[u.Scheme] {
		host = strings.TrimSuffix(host, ":"+u.Port())
	}
	return u.Scheme + "://" + host, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s Subscription) publicKey() (*ecdh.PublicKey, error) {
	raw, err := decodeB64(s.Keys.P256dh)
	if err != nil {
		return nil, fmt.Errorf("webpush: keys.p256dh is not base64url: %w", err)
	}
	if len(raw) != pointLen || raw[0] != 4 {
		return nil, fmt.Errorf("webpush: keys.p256dh must be a 65-byte uncompressed P-256 point, got %d bytes", len(raw))
	}
	pub, err := ecdh.P256().NewPublicKey(raw)
	if err != nil {
		return nil, errors.New("webpush: keys.p256dh is not a point on P-256")
	}
	return pub, nil
}

func (s Subscription) authSecret() ([]byte, error) {
	raw, err := decodeB64(s.Keys.Auth)
	if err != nil {
		return nil, fmt.Errorf("webpush: keys.auth is not base64url: %w", err)
	}
	if len(raw) != authLen {
		return nil, fmt.Errorf("webpush: keys.auth must be %d bytes, got %d", authLen, len(raw))
	}
	return raw, nil
}

// decodeB64 decodes base64url with or without padding; browsers and
// libraries differ, and some send standard base64.
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// GenerateVAPIDKey makes a new P-256 key for signing VAPID JWTs.
func GenerateVAPIDKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// PublicKey is the key's public half as base64url of the uncompressed
// point: the applicationServerKey a page passes to PushManager.subscribe,
// and the k= of the Authorization header.
func PublicKey(k *ecdsa.PrivateKey) string {
	raw, err := k.PublicKey.Bytes()
	if err != nil {
		return ""
	}
	return b64(raw)
}

// ParsePrivateKey reads a VAPID private key as the web-push npm library
// writes it: base64url of the raw 32-byte scalar.
func ParsePrivateKey(s string) (*ecdsa.PrivateKey, error) {
	raw, err := decodeB64(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("webpush: VAPID private key is not base64url: %w", err)
	}
	if len(raw) != scalarLen {
		return nil, fmt.Errorf("webpush: VAPID private key must be %d bytes, got %d", scalarLen, len(raw))
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	if err != nil {
		return nil, fmt.Errorf("webpush: VAPID private key: %w", err)
	}
	return k, nil
}

// PrivateKeyString is the inverse of ParsePrivateKey.
func PrivateKeyString(k *ecdsa.PrivateKey) string {
	raw, err := k.Bytes()
	if err != nil {
		return ""
	}
	return b64(raw)
}
