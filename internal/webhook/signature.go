// Package webhook delivers status reports to customers' URLs, signed the way
// MessageBird signs them, with retries and backoff from the durable queue.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/omnigate/omnigate/internal/ids"
)

// Header names MessageBird uses for request signatures.
const (
	HeaderSignatureJWT = "MessageBird-Signature-JWT"
	HeaderSignature    = "MessageBird-Signature"
	HeaderTimestamp    = "MessageBird-Request-Timestamp"
)

// jwtLifetime is how long a signature stays valid (the SDKs' vectors use 60 s).
const jwtLifetime = 60 * time.Second

// SignJWT makes the MessageBird-Signature-JWT value for a request to rawURL
// (exactly as requested, port and query included) with the given body (nil
// or empty for none): HS256 over the issuer, validity window, a unique id,
// and SHA-256 hashes of the URL and body.
func SignJWT(key, rawURL string, body []byte, now time.Time) (string, error) {
	urlHash := sha256.Sum256([]byte(rawURL))
	claims := jwt.MapClaims{
		"iss":      "MessageBird",
		"iat":      now.Unix(),
		"nbf":      now.Unix(),
		"exp":      now.Add(jwtLifetime).Unix(),
		"jti":      ids.New(),
		"url_hash": hex.EncodeToString(urlHash[:]),
	}
	if len(body) > 0 {
		h := sha256.Sum256(body)
		claims["payload_hash"] = hex.EncodeToString(h[:])
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
}

// SignLegacy makes MessageBird's older MessageBird-Signature value:
// base64(HMAC-SHA256(key, timestamp + "\n" + sorted query + "\n" + sha256(body))).
func SignLegacy(key string, timestamp int64, query url.Values, body []byte) string {
	bodyHash := sha256.Sum256(body)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10) + "\n" + sortedQuery(query) + "\n"))
	mac.Write(bodyHash[:])
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// sortedQuery encodes a query with keys in order, escaping as the
// receivers' verifiers do (JavaScript's encodeURIComponent set: everything
// but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is percent-encoded, space as %20).
func sortedQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escape(k))
			b.WriteByte('=')
			b.WriteString(escape(v))
		}
	}
	return b.String()
}

func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
