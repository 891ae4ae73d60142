// Command signer writes messages signed by omnigate's DKIM package for an
// independent verifier (interop/dkim/verify.py, dkimpy): for each algorithm
// a signed message, a copy with its body changed after signing, and the
// DNS record, as files in the directory given as the only argument.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/omnigate/omnigate/internal/email/dkim"
)

const message = "From: \"Acme News\" <news@example.com>\r\n" +
	"To: bob@example.net\r\n" +
	"Cc: ann@example.net\r\n" +
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
	"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n" +
	"Message-ID: <0123456789abcdef.0@example.com>\r\n" +
	"Reply-To: help@example.com\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"List-Unsubscribe: <https://example.com/u/abc>, <mailto:unsub@example.com>\r\n" +
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" +
	"\r\n" +
	"Hello Bob,  \r\n\r\nthis line has trailing spaces and\ttabs.   \r\n\r\n\r\n"

// Case is one message for the verifier.
type Case struct {
	Name       string `json:"name"`
	File       string `json:"file"`
	RecordName string `json:"record_name"` // <selector>._domainkey.<domain>
	Record     string `json:"record"`
	Valid      bool   `json:"valid"` // whether it must verify
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: signer DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "signer:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	var cases []Case
	for _, alg := range []string{dkim.RSA, dkim.Ed25519} {
		key, err := dkim.GenerateKey(alg)
		if err != nil {
			return err
		}
		selector := "og-" + alg
		signed, err := dkim.Sign([]byte(message), dkim.Signer{Domain: "example.com", Selector: selector, Key: key})
		if err != nil {
			return err
		}
		rec := Case{RecordName: dkim.RecordName(selector, "example.com"), Record: dkim.DNSRecord(key.Public())}
		tampered := []byte(strings.Replace(string(signed), "Hello Bob", "Hello Eve", 1))
		for _, c := range []struct {
			name  string
			msg   []byte
			valid bool
		}{{alg, signed, true}, {alg + "-tampered", tampered, false}} {
			file := c.name + ".eml"
			if err := os.WriteFile(filepath.Join(dir, file), c.msg, 0o600); err != nil {
				return err
			}
			rec.Name, rec.File, rec.Valid = c.name, file, c.valid
			cases = append(cases, rec)
		}
	}
	b, err := json.MarshalIndent(cases, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "cases.json"), b, 0o600)
}
