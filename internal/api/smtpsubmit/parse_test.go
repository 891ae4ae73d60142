package smtpsubmit

import (
	"errors"
	"strings"
	"testing"
)

const sample = "From: A <a@shop.test>\r\nSubject: =?UTF-8?B?w6k=?=\r\nX-Tag: t\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: text/html\r\n\r\n<b>hi</b>\r\n--b--\r\n"

func TestParse(t *testing.T) {
	p, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if p.Body != "hi" || p.Email.HTML != "<b>hi</b>" || p.Email.Subject != "é" || p.Email.FromName != "A" || p.Email.Headers["X-Tag"] != "t" {
		t.Fatalf("%+v", p)
	}
	for _, bad := range []string{
		"",
		"Subject: x\r\n\r\n",                     // no text
		"Subject: =?UTF-8?Q?a=0Ab?=\r\n\r\nbody", // a line break in the subject
		"Content-Type: multipart/mixed\r\n\r\nno boundary",   // no boundary
		"Content-Type: text/plain; charset=nope\r\n\r\nbody", // unknown charset
		"Content-Transfer-Encoding: x-uue\r\n\r\nbody",       // unknown encoding
		"Subject: x\r\n\r\n\xff\xfe",                         // not UTF-8
		"Reply-To: not an address\r\n\r\nbody",               // bad reply-to
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--b\r\n\r\nx\r\n", MaxParts+1) + "--b--\r\n",
	} {
		var pe *ParseError
		if _, err := Parse([]byte(bad)); !errors.As(err, &pe) {
			t.Errorf("%.60q: %v", bad, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("Subject: x\r\n\r\nbody"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\nAAAA\r\n--b--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := Parse(raw)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("an error that is not a ParseError: %v", err)
			}
			return
		}
		if p.Body == "" && p.Email.HTML == "" {
			t.Fatal("parsed without text")
		}
		if strings.ContainsAny(p.Email.Subject, "\r\n") {
			t.Fatalf("subject %q", p.Email.Subject)
		}
	})
}
