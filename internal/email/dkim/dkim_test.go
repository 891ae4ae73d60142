package dkim_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/omnigate/omnigate/internal/email/dkim"
)

const message = "From: Acme <news@example.com>\r\n" +
	"To: bob@example.net\r\n" +
	"Subject: Hello\r\n" +
	"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n" +
	"Message-ID: <abc.0@example.com>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"List-Unsubscribe: <https://example.com/u/1>\r\n" +
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" +
	"X-Not-Signed: 1\r\n" +
	"\r\n" +
	"Hello Bob,\r\n\r\nthis is a test.\r\n"

// verify runs go-msgauth's verifier with DNS answered from records
// (name → TXT) and returns the single verification's error.
func verify(t *testing.T, msg []byte, records map[string]string) error {
	t.Helper()
	vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(msg), &msgdkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if r, ok := records[name]; ok {
				return []string{r}, nil // one record: net.LookupTXT joins its strings
			}
			return nil, errors.New("no such record: " + name)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 {
		t.Fatalf("%d verifications, want 1", len(vs))
	}
	if vs[0].Err == nil && vs[0].Domain != "example.com" {
		t.Errorf("verified domain %q", vs[0].Domain)
	}
	return vs[0].Err
}

func signed(t *testing.T, algorithm string) ([]byte, map[string]string, *dkim.Signer) {
	t.Helper()
	key, err := dkim.GenerateKey(algorithm)
	if err != nil {
		t.Fatal(err)
	}
	s := dkim.Signer{Domain: "example.com", Selector: "og1", Key: key}
	out, err := dkim.Sign([]byte(message), s)
	if err != nil {
		t.Fatal(err)
	}
	return out, map[string]string{"og1._domainkey.example.com": dkim.DNSRecord(key.Public())}, &s
}

// Both algorithms sign what go-msgauth verifies; a changed body, subject or
// an added From does not verify; nor does another key's record.
func TestSignVerify(t *testing.T) {
	for _, alg := range []string{dkim.RSA, dkim.Ed25519} {
		t.Run(alg, func(t *testing.T) {
			out, records, _ := signed(t, alg)
			if !bytes.HasPrefix(out, []byte("DKIM-Signature: ")) || !bytes.HasSuffix(out, []byte(message)) {
				t.Fatalf("signed message:\n%s", out)
			}
			sig := string(out[:len(out)-len(message)])
			for _, want := range []string{"a=" + map[string]string{"rsa": "rsa", "ed25519": "ed25519"}[alg] + "-sha256", "c=relaxed/relaxed", "d=example.com", "s=og1"} {
				if !strings.Contains(sig, want) {
					t.Errorf("signature lacks %q: %s", want, sig)
				}
			}
			h := strings.ToLower(strings.Join(strings.Fields(sig[strings.Index(sig, " h=")+3:]), ""))
			h = h[:strings.Index(h, ";")]
			if want := "from:from:to:subject:date:message-id:mime-version:content-type:list-unsubscribe:list-unsubscribe-post"; h != want {
				t.Errorf("h=%s, want %s", h, want)
			}
			if err := verify(t, out, records); err != nil {
				t.Fatalf("verification failed: %v", err)
			}
			tampered := map[string][]byte{
				"body":        bytes.Replace(out, []byte("a test"), []byte("a tesT"), 1),
				"subject":     bytes.Replace(out, []byte("Subject: Hello"), []byte("Subject: Hellp"), 1),
				"added From":  bytes.Replace(out, []byte("To: bob"), []byte("From: evil@example.org\r\nTo: bob"), 1),
				"unsubscribe": bytes.Replace(out, []byte("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), nil, 1),
			}
			for what, msg := range tampered {
				if err := verify(t, msg, records); err == nil {
					t.Errorf("%s changed: still verifies", what)
				}
			}
			// Whitespace changes survive relaxed canonicalization.
			relaxed := bytes.Replace(out, []byte("Subject: Hello"), []byte("Subject:   Hello "), 1)
			relaxed = bytes.Replace(relaxed, []byte("a test.\r\n"), []byte("a  test.  \r\n\r\n"), 1)
			if err := verify(t, relaxed, records); err != nil {
				t.Errorf("whitespace changes broke the signature: %v", err)
			}
			other, _ := dkim.GenerateKey(alg)
			if err := verify(t, out, map[string]string{"og1._domainkey.example.com": dkim.DNSRecord(other.Public())}); err == nil {
				t.Error("verified with another key's record")
			}
		})
	}
}

// Bare LF line ends are signed as the CRLF SMTP sends.
func TestSignLF(t *testing.T) {
	key, _ := dkim.GenerateKey(dkim.Ed25519)
	out, err := dkim.Sign([]byte(strings.ReplaceAll(message, "\r\n", "\n")), dkim.Signer{Domain: "example.com", Selector: "og1", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ReplaceAll(out, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("bare LF left in the signed message")
	}
	if err := verify(t, out, map[string]string{"og1._domainkey.example.com": dkim.DNSRecord(key.Public())}); err != nil {
		t.Fatal(err)
	}
}

func TestSignRefuses(t *testing.T) {
	key, _ := dkim.GenerateKey(dkim.Ed25519)
	good := dkim.Signer{Domain: "example.com", Selector: "og1", Key: key}
	for name, c := range map[string]struct {
		msg string
		s   dkim.Signer
	}{
		"no domain":    {message, dkim.Signer{Selector: "s", Key: key}},
		"no selector":  {message, dkim.Signer{Domain: "example.com", Key: key}},
		"no key":       {message, dkim.Signer{Domain: "example.com", Selector: "s"}},
		"no From":      {"To: a@b.c\r\n\r\nbody\r\n", good},
		"no separator": {"From: a@b.c\r\nTo: x@y.z", good},
		"bad field":    {"From: a@b.c\r\nnot a field\r\n\r\nbody", good},
	} {
		if out, err := dkim.Sign([]byte(c.msg), c.s); err == nil {
			t.Errorf("%s: signed:\n%s", name, out)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	if _, err := dkim.GenerateKey("dsa"); err == nil {
		t.Error("generated a dsa key")
	}
	rk, err := dkim.GenerateKey(dkim.RSA)
	if err != nil {
		t.Fatal(err)
	}
	if r := rk.(*rsa.PrivateKey); r.N.BitLen() != 2048 {
		t.Errorf("RSA key of %d bits", r.N.BitLen())
	}
	ek, _ := dkim.GenerateKey(dkim.Ed25519)
	if dkim.Algorithm(rk) != dkim.RSA || dkim.Algorithm(ek.Public()) != dkim.Ed25519 || dkim.Algorithm("x") != "" {
		t.Error("Algorithm names keys wrongly")
	}
}

// Records carry the SubjectPublicKeyInfo (RSA) or the raw 32 bytes
// (Ed25519, RFC 8463).
func TestDNSRecord(t *testing.T) {
	rk, _ := dkim.GenerateKey(dkim.RSA)
	rec := dkim.DNSRecord(rk.Public())
	p, ok := strings.CutPrefix(rec, "v=DKIM1; k=rsa; p=")
	if !ok {
		t.Fatalf("RSA record %q", rec)
	}
	der, _ := base64.StdEncoding.DecodeString(p)
	if pub, err := x509.ParsePKIXPublicKey(der); err != nil || !pub.(*rsa.PublicKey).Equal(rk.Public()) {
		t.Errorf("RSA record's key: %v", err)
	}
	if parts := dkim.SplitTXT(rec); len(parts) < 2 || strings.Join(parts, "") != rec || len(parts[0]) != 255 {
		t.Errorf("SplitTXT: %d parts", len(parts))
	}
	ek, _ := dkim.GenerateKey(dkim.Ed25519)
	rec = dkim.DNSRecord(ek)
	p, ok = strings.CutPrefix(rec, "v=DKIM1; k=ed25519; p=")
	raw, _ := base64.StdEncoding.DecodeString(p)
	if !ok || !bytes.Equal(raw, ek.Public().(ed25519.PublicKey)) {
		t.Errorf("Ed25519 record %q", rec)
	}
	if dkim.DNSRecord("x") != "" {
		t.Error("a record for a string")
	}
}

func TestMatchRecord(t *testing.T) {
	rk, _ := dkim.GenerateKey(dkim.RSA)
	ek, _ := dkim.GenerateKey(dkim.Ed25519)
	rrec, erec := dkim.DNSRecord(rk.Public()), dkim.DNSRecord(ek.Public())
	p := rrec[strings.Index(rrec, "p=")+2:]
	for rec, want := range map[string]bool{
		rrec: true,
		erec: false,
		"v=DKIM1;k=rsa;p=" + p[:100] + " " + p[100:]: true, // whitespace ignored
		"p=" + p:                       true,  // k defaults to rsa, v optional
		"v=DKIM1; k=ed25519; p=" + p:   false, // wrong type
		"v=DKIM2; k=rsa; p=" + p:       false,
		"v=DKIM1; k=rsa; p=":           false, // revoked
		"v=DKIM1; p=" + p + "; p=" + p: false,
		"garbage":                      false,
		"":                             false,
	} {
		if got := dkim.MatchRecord(rec, rk.Public()); got != want {
			t.Errorf("MatchRecord(%.40q, rsa) = %v, want %v", rec, got, want)
		}
	}
	if !dkim.MatchRecord(erec, ek.Public()) || dkim.MatchRecord(erec, "x") {
		t.Error("Ed25519 record")
	}
}

func TestKeyPEM(t *testing.T) {
	for _, alg := range []string{dkim.RSA, dkim.Ed25519} {
		k, _ := dkim.GenerateKey(alg)
		pemBytes, err := dkim.MarshalKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pemBytes, []byte("-----BEGIN PRIVATE KEY-----\n")) {
			t.Errorf("%s: not PKCS#8 PEM:\n%s", alg, pemBytes)
		}
		back, err := dkim.ParseKey(pemBytes)
		if err != nil {
			t.Fatal(err)
		}
		if dkim.DNSRecord(back.Public()) != dkim.DNSRecord(k.Public()) {
			t.Errorf("%s: key changed across PEM", alg)
		}
		if _, err := dkim.ParseKey(append(pemBytes, "junk"...)); err == nil {
			t.Errorf("%s: trailing junk accepted", alg)
		}
	}
	for _, bad := range []string{"", "junk", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"} {
		if _, err := dkim.ParseKey([]byte(bad)); err == nil {
			t.Errorf("ParseKey(%q) succeeded", bad)
		}
	}
}
