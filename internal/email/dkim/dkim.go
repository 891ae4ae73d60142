// Package dkim makes and stores DKIM keys, writes their DNS records and signs
// outgoing messages (RFC 6376; Ed25519 keys per RFC 8463). Signing itself is
// github.com/emersion/go-msgauth's; this package fixes the choices omnigate
// makes for every message: relaxed/relaxed canonicalization, SHA-256, and
// which header fields are signed.
package dkim

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	msgdkim "github.com/emersion/go-msgauth/dkim"
)

// Algorithms a sending domain's key may use.
const (
	RSA     = "rsa"     // RSA 2048: what every verifier understands
	Ed25519 = "ed25519" // RFC 8463: short records, not yet verified everywhere
)

// rsaBits is the RSA key size: 2048 is what RFC 8301 asks signers for and
// still fits a DNS TXT record (split in 255-byte strings).
const rsaBits = 2048

// GenerateKey makes a new private key for algorithm ("rsa" or "ed25519").
func GenerateKey(algorithm string) (crypto.Signer, error) {
	switch algorithm {
	case RSA:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("dkim: unknown algorithm %q (want %q or %q)", algorithm, RSA, Ed25519)
}

// Algorithm names the algorithm of a public or private key ("rsa",
// "ed25519"), or "" for a key DKIM cannot use.
func Algorithm(key any) string {
	if s, ok := key.(crypto.Signer); ok {
		key = s.Public()
	}
	switch key.(type) {
	case *rsa.PublicKey:
		return RSA
	case ed25519.PublicKey:
		return Ed25519
	}
	return ""
}

// MarshalKey writes a private key as a PKCS#8 PEM block, the form the store
// keeps (encrypted) and operators can read with openssl.
func MarshalKey(key crypto.Signer) ([]byte, error) {
	if Algorithm(key) == "" {
		return nil, fmt.Errorf("dkim: unsupported key type %T", key)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKey reads what MarshalKey wrote: one PKCS#8 PEM block holding an RSA
// or Ed25519 private key.
func ParseKey(data []byte) (crypto.Signer, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("dkim: no PEM block in the key")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("dkim: PEM block is %q, want PRIVATE KEY (PKCS#8)", block.Type)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("dkim: data after the key's PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok || Algorithm(s) == "" {
		return nil, fmt.Errorf("dkim: unsupported key type %T", k)
	}
	if r, ok := s.(*rsa.PrivateKey); ok && r.N.BitLen() < 1024 {
		return nil, fmt.Errorf("dkim: RSA key of %d bits is too short (verifiers refuse < 1024)", r.N.BitLen())
	}
	return s, nil
}

// DNSRecord is the TXT record that publishes pub at
// <selector>._domainkey.<domain>: "v=DKIM1; k=rsa; p=<base64 of the
// SubjectPublicKeyInfo>" or, per RFC 8463, "v=DKIM1; k=ed25519; p=<base64 of
// the raw 32-byte key>". It is "" for a key DKIM cannot use.
func DNSRecord(pub crypto.PublicKey) string {
	if s, ok := pub.(crypto.Signer); ok {
		pub = s.Public()
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return ""
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k)
	}
	return ""
}

// RecordName is where a selector's record lives: <selector>._domainkey.<domain>.
func RecordName(selector, domain string) string {
	return selector + "._domainkey." + domain
}

// SplitTXT cuts a record into the strings of at most 255 bytes one TXT
// record is made of (RFC 7208 §3.3, RFC 6376 §3.6.2.2); verifiers join them.
func SplitTXT(record string) []string {
	var out []string
	for len(record) > 255 {
		out = append(out, record[:255])
		record = record[255:]
	}
	return append(out, record)
}

// MatchRecord says whether the published TXT record txt (its strings
// joined) publishes pub: a DKIM1 record of pub's key type whose p= is pub.
// Whitespace inside values is ignored, as verifiers ignore it.
func MatchRecord(txt string, pub crypto.PublicKey) bool {
	want := DNSRecord(pub)
	if want == "" {
		return false
	}
	got, ok := parseTags(txt)
	if !ok {
		return false
	}
	exp, _ := parseTags(want)
	if v, ok := got["v"]; ok && v != "DKIM1" {
		return false
	}
	k, ok := got["k"]
	if !ok {
		k = RSA // RFC 6376 §3.6.1: k defaults to rsa
	}
	return k == exp["k"] && got["p"] != "" && got["p"] == exp["p"]
}

// parseTags reads a tag=value list (RFC 6376 §3.2) with whitespace removed
// from values; ok is false for a malformed list or a repeated tag.
func parseTags(s string) (map[string]string, bool) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, value, found := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !found || name == "" {
			return nil, false
		}
		if _, dup := out[name]; dup {
			return nil, false
		}
		out[name] = strings.Join(strings.Fields(value), "")
	}
	return out, true
}

// Signer is who signs: the domain (d=), the selector (s=) its record lives
// under, and the private key.
type Signer struct {
	Domain, Selector string
	Key              crypto.Signer
}

// signedFields are the header fields signed when present (RFC 6376 §5.4.1's
// advice plus the one-click unsubscribe fields of RFC 8058, which must be
// signed for receivers to honour them).
var signedFields = []string{"From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To",
	"MIME-Version", "Content-Type", "List-Unsubscribe", "List-Unsubscribe-Post"}

// Sign returns msg with a DKIM-Signature field prepended. msg is a whole
// RFC 5322 message; bare LF line ends are made CRLF first, as SMTP would
// send them. Every field of signedFields that is present is signed, each
// occurrence; From once more than it occurs, so that a From added in transit
// breaks the signature.
func Sign(msg []byte, s Signer) ([]byte, error) {
	if s.Domain == "" || s.Selector == "" || s.Key == nil {
		return nil, errors.New("dkim: a signer needs a domain, a selector and a key")
	}
	if Algorithm(s.Key) == "" {
		return nil, fmt.Errorf("dkim: unsupported key type %T", s.Key)
	}
	msg = toCRLF(msg)
	present, ok := headerCounts(msg)
	if !ok {
		return nil, errors.New("dkim: the message has no header/body separator")
	}
	if present["from"] == 0 {
		return nil, errors.New("dkim: the message has no From field")
	}
	var keys []string
	for _, f := range signedFields {
		n := present[strings.ToLower(f)]
		if f == "From" {
			n++
		}
		for i := 0; i < n; i++ {
			keys = append(keys, f)
		}
	}
	signer, err := msgdkim.NewSigner(&msgdkim.SignOptions{
		Domain: s.Domain, Selector: s.Selector, Signer: s.Key, Hash: crypto.SHA256,
		HeaderCanonicalization: msgdkim.CanonicalizationRelaxed,
		BodyCanonicalization:   msgdkim.CanonicalizationRelaxed,
		HeaderKeys:             keys,
	})
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	if _, err := signer.Write(msg); err != nil {
		signer.Close()
		return nil, fmt.Errorf("dkim: %w", err)
	}
	if err := signer.Close(); err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	sig := signer.Signature()
	out := make([]byte, 0, len(sig)+len(msg))
	out = append(out, sig...)
	return append(out, msg...), nil
}

// toCRLF makes every line end CRLF.
func toCRLF(msg []byte) []byte {
	if !bytes.Contains(msg, []byte("\n")) {
		return msg
	}
	out := make([]byte, 0, len(msg)+64)
	for i, c := range msg {
		if c == '\n' && (i == 0 || msg[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// fieldName says whether name is an RFC 5322 field name: printable ASCII
// without colon or space.
func fieldName(name []byte) bool {
	for _, c := range name {
		if c < 33 || c > 126 {
			return false
		}
	}
	return len(name) > 0
}

// headerCounts counts the fields of msg's header by lower-case name; ok is
// false when the header does not end with an empty line or a line is not a
// field.
func headerCounts(msg []byte) (map[string]int, bool) {
	counts := map[string]int{}
	for len(msg) > 0 {
		i := bytes.Index(msg, []byte("\r\n"))
		if i < 0 {
			return nil, false
		}
		line := msg[:i]
		msg = msg[i+2:]
		if len(line) == 0 {
			return counts, true
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(counts) == 0 {
				return nil, false // a continuation of nothing
			}
			continue // a folded continuation
		}
		name, _, found := bytes.Cut(line, []byte(":"))
		if !found || !fieldName(name) {
			return nil, false
		}
		counts[strings.ToLower(string(name))]++
	}
	return nil, false
}
