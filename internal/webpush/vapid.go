package webpush

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// VAPID (RFC 8292): the application server signs a JWT (ES256) whose aud is
// the push endpoint's origin, and sends it with its public key:
//
//	Authorization: vapid t=<jwt>, k=<base64url uncompressed public key>

const (
	// MaxVAPIDLifetime is how far in the future a JWT's exp may be
	// (RFC 8292 section 2).
	MaxVAPIDLifetime = 24 * time.Hour
	// vapidLifetime is the exp that Client signs: half the maximum, so a
	// push service whose clock is ahead still accepts it.
	vapidLifetime = 12 * time.Hour
	maxAuthHeader = 4096
)

var jwtHeader = b64([]byte(`{"typ":"JWT","alg":"ES256"}`))

type vapidClaims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Sub string `json:"sub,omitempty"`
}

// checkSubject: RFC 8292 section 2.1, a contact URI.
func checkSubject(sub string) error {
	if !strings.HasPrefix(sub, "mailto:") && !strings.HasPrefix(sub, "https:") {
		return fmt.Errorf("webpush: VAPID subject %q must be a mailto: or https: URI", sub)
	}
	if len(sub) <= len("https:") {
		return fmt.Errorf("webpush: VAPID subject %q is empty after its scheme", sub)
	}
	return nil
}

// VAPIDAuthorization signs a VAPID JWT for audience (the endpoint's origin)
// expiring at exp, and returns the Authorization header value.
func VAPIDAuthorization(key *ecdsa.PrivateKey, subject, audience string, exp time.Time) (string, error) {
	if key == nil {
		return "", errors.New("webpush: no VAPID key")
	}
	if err := checkSubject(subject); err != nil {
		return "", err
	}
	claims, err := json.Marshal(vapidClaims{Aud: audience, Exp: exp.Unix(), Sub: subject})
	if err != nil {
		return "", err
	}
	input := jwtHeader + "." + b64(claims)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return "vapid t=" + input + "." + b64(sig) + ", k=" + PublicKey(key), nil
}

// VerifyVAPID is the push service's side of RFC 8292: it checks an
// Authorization header of the vapid scheme — an ES256 JWT signed by the key
// k, with aud equal to audience (the endpoint's origin), an exp after now
// and at most 24 hours ahead, and a mailto: or https: sub — and returns the
// application server's public key (base64url), which a push service compares
// with the applicationServerKey the subscription was made with.
func VerifyVAPID(authHeader, audience string, now time.Time) (pub string, err error) {
	if len(authHeader) > maxAuthHeader {
		return "", errors.New("webpush: Authorization header is too long")
	}
	scheme, params, _ := strings.Cut(strings.TrimSpace(authHeader), " ")
	if !strings.EqualFold(scheme, "vapid") {
		return "", fmt.Errorf("webpush: Authorization scheme %q is not vapid", scheme)
	}
	var t, k string
	for p := range strings.SplitSeq(params, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok {
			if strings.TrimSpace(p) == "" {
				continue
			}
			return "", fmt.Errorf("webpush: Authorization parameter %q has no value", p)
		}
		value = strings.Trim(strings.TrimSpace(value), `"`)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "t":
			t = value
		case "k":
			k = value
		}
	}
	if t == "" {
		return "", errors.New("webpush: Authorization has no t= (the JWT)")
	}
	if k == "" {
		return "", errors.New("webpush: Authorization has no k= (the public key)")
	}
	rawKey, err := decodeB64(k)
	if err != nil || len(rawKey) != pointLen || rawKey[0] != 4 {
		return "", errors.New("webpush: k= is not a base64url uncompressed P-256 public key")
	}
	key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), rawKey)
	if err != nil {
		return "", errors.New("webpush: k= is not a point on P-256")
	}

	parts := strings.Split(t, ".")
	if len(parts) != 3 {
		return "", errors.New("webpush: t= is not a JWT (three dot-separated parts)")
	}
	headJSON, err := decodeB64(parts[0])
	if err != nil {
		return "", errors.New("webpush: JWT header is not base64url")
	}
	var head struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(headJSON, &head); err != nil {
		return "", errors.New("webpush: JWT header is not a JSON object")
	}
	if head.Alg != "ES256" {
		return "", fmt.Errorf("webpush: JWT alg is %q, not ES256", head.Alg)
	}
	if head.Typ != "" && !strings.EqualFold(head.Typ, "JWT") {
		return "", fmt.Errorf("webpush: JWT typ is %q, not JWT", head.Typ)
	}
	sig, err := decodeB64(parts[2])
	if err != nil || len(sig) != 64 {
		return "", errors.New("webpush: JWT signature is not 64 bytes of base64url (ES256 r||s)")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(key, digest[:], r, s) {
		return "", errors.New("webpush: JWT signature does not verify with k=")
	}

	claimsJSON, err := decodeB64(parts[1])
	if err != nil {
		return "", errors.New("webpush: JWT claims are not base64url")
	}
	var claims struct {
		Aud *string  `json:"aud"`
		Exp *float64 `json:"exp"`
		Sub *string  `json:"sub"`
	}
	if err := json.Unmarshal(claimsJSON, &claims); err != nil {
		return "", errors.New("webpush: JWT claims are not a JSON object with string aud and sub and numeric exp")
	}
	switch {
	case claims.Aud == nil:
		return "", errors.New("webpush: JWT has no aud")
	case *claims.Aud != audience:
		return "", fmt.Errorf("webpush: JWT aud %q is not this push service's origin %q", *claims.Aud, audience)
	case claims.Exp == nil:
		return "", errors.New("webpush: JWT has no exp")
	case *claims.Exp <= float64(now.Unix()):
		return "", errors.New("webpush: JWT has expired")
	case *claims.Exp > float64(now.Add(MaxVAPIDLifetime).Unix()):
		return "", errors.New("webpush: JWT exp is more than 24 hours ahead")
	case claims.Sub == nil:
		return "", errors.New("webpush: JWT has no sub (a mailto: or https: contact)")
	}
	if err := checkSubject(*claims.Sub); err != nil {
		return "", err
	}
	return b64(rawKey), nil
}
