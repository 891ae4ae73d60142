// Package links makes and checks the signed links an email carries: the
// one-click unsubscribe URL (RFC 8058), the open-tracking pixel and
// rewritten click-tracking links. Compose (internal/email/compose) puts
// them in the message through compose.Options; the public endpoints
// (internal/api/emaillinks) verify them. A token holds the account,
// message, recipient and (for clicks) the original URL, signed with
// HMAC-SHA256 under a key derived from the keyring's master key, so any
// node can verify it and nobody can forge or alter one. Tokens do not
// expire: an unsubscribe link must keep working for as long as the mail
// sits in a mailbox.
package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Kinds of links; each is signed for its kind alone, so an open token is no
// unsubscribe token.
const (
	Unsubscribe = "u"
	Open        = "o"
	Click       = "c"
)

// Paths of the public endpoints, under the public URL; the token follows.
const (
	UnsubscribePath = "/email/unsubscribe/"
	OpenPath        = "/email/open/"
	ClickPath       = "/email/click/"
)

// KeyPurpose is the purpose the app derives the signing key for
// (keyring.Master.Derive).
const KeyPurpose = "email links"

// MaxToken bounds a token's length: a click token carries its URL.
const MaxToken = 4096

// Target is what a token names.
type Target struct {
	AccountID string `json:"a"`
	MessageID string `json:"m"`
	Seq       int    `json:"s"`
	URL       string `json:"u,omitempty"` // a click's original URL
}

// Signer makes and checks links.
type Signer struct {
	key  []byte
	base string // public URL without a trailing slash
}

// New makes a signer with a secret of at least 32 bytes and the public
// URL (scheme and host, maybe a path prefix) the endpoints are reached at.
func New(secret []byte, publicURL string) *Signer {
	if len(secret) < 32 {
		panic("links: the secret must have at least 32 bytes")
	}
	return &Signer{key: append([]byte(nil), secret...), base: strings.TrimRight(publicURL, "/")}
}

// WithBase is the signer with another public URL (the app knows its
// listener's address only once it listens).
func (s *Signer) WithBase(publicURL string) *Signer {
	c := *s
	c.base = strings.TrimRight(publicURL, "/")
	return &c
}

// UnsubscribeURL is the https (or http) one-click unsubscribe link of a
// recipient, for List-Unsubscribe and the message's footer.
func (s *Signer) UnsubscribeURL(accountID, messageID string, seq int) string {
	return s.base + UnsubscribePath + s.Token(Unsubscribe, Target{AccountID: accountID, MessageID: messageID, Seq: seq})
}

// OpenPixelURL is the URL of a recipient's 1×1 open-tracking image.
func (s *Signer) OpenPixelURL(accountID, messageID string, seq int) string {
	return s.base + OpenPath + s.Token(Open, Target{AccountID: accountID, MessageID: messageID, Seq: seq})
}

// ClickURL is the tracking link that records a click and redirects to
// target, an absolute http(s) URL.
func (s *Signer) ClickURL(accountID, messageID string, seq int, target string) string {
	return s.base + ClickPath + s.Token(Click, Target{AccountID: accountID, MessageID: messageID, Seq: seq, URL: target})
}

// Token signs t for kind: base64url(JSON) "." base64url(first 16 bytes of
// the HMAC of kind and the JSON).
func (s *Signer) Token(kind string, t Target) string {
	payload, _ := json.Marshal(t) // strings and an int: never fails
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.mac(kind, payload))
}

// ErrInvalid is any token that is not one this signer made for the kind.
var ErrInvalid = errors.New("invalid or altered link")

// Verify checks a token of kind and returns what it names.
func (s *Signer) Verify(kind, token string) (Target, error) {
	var t Target
	if len(token) > MaxToken {
		return t, ErrInvalid
	}
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return t, ErrInvalid
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac(kind, payload)) {
		return t, ErrInvalid
	}
	if err := json.Unmarshal(payload, &t); err != nil || t.AccountID == "" || t.MessageID == "" || t.Seq < 0 {
		return Target{}, ErrInvalid
	}
	if kind == Click && !webURL(t.URL) {
		return Target{}, ErrInvalid
	}
	return t, nil
}

func (s *Signer) mac(kind string, payload []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(payload)
	return h.Sum(nil)[:16]
}

// webURL reports whether u is an absolute http(s) URL: a click never
// redirects anywhere else (javascript:, data:, a relative path).
func webURL(u string) bool {
	l := strings.ToLower(u)
	return (strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")) && len(u) > len("https://")
}
