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
func SignJWT(key, rawURL string, body []byte, now time.Time) string {
	return signJWT(key, rawURL, body, now, ids.New())
}

// jwtHeader is the encoded JOSE header of every signature: HS256, JWT.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// signJWT is SignJWT with the token's id given. The claims are written
// out by hand, in the order a JSON encoder writes a map (sorted keys): every
// value is a number or a string of hex digits and letters, so nothing needs
// escaping, and a status report is signed without building a map and
// encoding it by reflection (it was a sixth of a status report's CPU).
func signJWT(key, rawURL string, body []byte, now time.Time, jti string) string {
	urlHash := sha256.Sum256([]byte(rawURL))
	claims := make([]byte, 0, 256)
	claims = append(claims, `{"exp":`...)
	claims = strconv.AppendInt(claims, now.Add(jwtLifetime).Unix(), 10)
	claims = append(claims, `,"iat":`...)
	claims = strconv.AppendInt(claims, now.Unix(), 10)
	claims = append(claims, `,"iss":"MessageBird","jti":"`...)
	claims = append(claims, jti...)
	claims = append(claims, `","nbf":`...)
	claims = strconv.AppendInt(claims, now.Unix(), 10)
	if len(body) > 0 {
		h := sha256.Sum256(body)
		claims = append(claims, `,"payload_hash":"`...)
		claims = hex.AppendEncode(claims, h[:])
		claims = append(claims, '"')
	}
	claims = append(claims, `,"url_hash":"`...)
	claims = hex.AppendEncode(claims, urlHash[:])
	claims = append(claims, `"}`...)

	enc := base64.RawURLEncoding
	out := make([]byte, 0, len(jwtHeader)+1+enc.EncodedLen(len(claims))+1+enc.EncodedLen(sha256.Size))
	out = append(out, jwtHeader...)
	out = append(out, '.')
	out = enc.AppendEncode(out, claims)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(out)
	out = append(out, '.')
	out = enc.AppendEncode(out, mac.Sum(nil))
	return string(out)
}

// Legacy signature styles: how the receiver's verifier canonicalises the
// query before it checks a MessageBird-Signature. Every official SDK
// decodes the query and encodes it again its own way, and they differ on a
// space (%20 or +) and on ! ' ( ) * ~, so one signature can match only one
// of them when a value holds such a character — and statusReason
// ("successfully delivered") always holds a space. An account chooses its
// receiver's style (store.Account.LegacySignature).
const (
	// LegacyNode is the Node SDK's lib/signature.js (querystring.stringify
	// of the sorted keys: space as %20, A-Z a-z 0-9 - _ . ! ~ * ' ( ) kept;
	// every value of a repeated key). The default.
	LegacyNode = "node"
	// LegacyGo is the Go SDK's signature package (url.Values.Encode: sorted
	// keys, space as +, A-Z a-z 0-9 - _ . ~ kept, every value).
	LegacyGo = "go"
	// LegacyPHP is the PHP SDK's RequestValidator::verify (ksort and
	// http_build_query: space as +, A-Z a-z 0-9 - _ . kept, the last value
	// of a repeated key, as in $_GET).
	LegacyPHP = "php"
	// LegacyRuby is the Ruby SDK's SignedRequest#verify
	// (URI.encode_www_form of the sorted parameters: space as +, A-Z a-z
	// 0-9 * - . _ kept, the last value of a repeated key, as in Rack).
	LegacyRuby = "ruby"
)

// LegacyStyles are the styles an account can choose, the default first.
var LegacyStyles = []string{LegacyNode, LegacyGo, LegacyPHP, LegacyRuby}

// SignLegacy makes MessageBird's older MessageBird-Signature value:
// base64(HMAC-SHA256(key, timestamp + "\n" + canonical query + "\n" +
// sha256(body))), the query canonicalised as the style's verifier does
// ("" is LegacyNode).
func SignLegacy(key, style string, timestamp int64, query url.Values, body []byte) string {
	bodyHash := sha256.Sum256(body)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10) + "\n" + canonicalQuery(style, query) + "\n"))
	mac.Write(bodyHash[:])
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// canonicalQuery encodes a query as the style's verifier re-encodes it.
func canonicalQuery(style string, q url.Values) string {
	switch style {
	case LegacyGo:
		return q.Encode()
	case LegacyPHP:
		return encodeSorted(lastValues(q), "-_.", "+")
	case LegacyRuby:
		return encodeSorted(lastValues(q), "*-._", "+")
	}
	return sortedQuery(q)
}

// lastValues keeps the last value of each key, as PHP's $_GET and Rack's
// params do.
func lastValues(q url.Values) url.Values {
	last := make(url.Values, len(q))
	for k, vs := range q {
		if len(vs) > 0 {
			last[k] = vs[len(vs)-1:]
		}
	}
	return last
}

// sortedQuery encodes a query with keys in order, escaping as
// encodeURIComponent does (everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is
// percent-encoded, space as %20): the form of the query omnigate appends to
// a report URL, and what the Node SDK's verifier signs.
func sortedQuery(q url.Values) string { return encodeSorted(q, "-_.!~*'()", "%20") }

// encodeSorted encodes q with sorted keys, each value in order, keeping
// letters, digits and the characters in keep and writing space as space.
func encodeSorted(q url.Values, keep, space string) string {
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
			escape(&b, k, keep, space)
			b.WriteByte('=')
			escape(&b, v, keep, space)
		}
	}
	return b.String()
}

func escape(b *strings.Builder, s, keep, space string) {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(keep, c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteString(space)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
}
