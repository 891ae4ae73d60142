package dkim_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/omnigate/omnigate/internal/email/dkim"
)

// Whatever message Sign accepts, go-msgauth verifies; nothing panics.
func FuzzSign(f *testing.F) {
	f.Add([]byte(message))
	f.Add([]byte("From: a@b\n\n"))
	f.Add([]byte("From: a@b\r\nFrom: c@d\r\n Subject:x\r\n\r\n\r\n\r\n"))
	f.Add([]byte("\r\n"))
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	records := map[string]string{"og1._domainkey.example.com": dkim.DNSRecord(key.Public())}
	f.Fuzz(func(t *testing.T, msg []byte) {
		out, err := dkim.Sign(msg, dkim.Signer{Domain: "example.com", Selector: "og1", Key: key})
		if err != nil {
			return
		}
		if err := verify(t, out, records); err != nil {
			t.Fatalf("signed %q does not verify: %v", msg, err)
		}
	})
}

// Any TXT record and PEM text is read without panicking.
func FuzzParse(f *testing.F) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	pemBytes, _ := dkim.MarshalKey(key)
	f.Add(dkim.DNSRecord(key.Public()), pemBytes)
	f.Add("v=DKIM1;;=;p", []byte("-----BEGIN PRIVATE KEY-----\n\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, txt string, pemText []byte) {
		dkim.MatchRecord(txt, key.Public())
		if k, err := dkim.ParseKey(pemText); err == nil && dkim.Algorithm(k) == "" {
			t.Fatalf("ParseKey gave an unusable %T", k)
		}
	})
}
