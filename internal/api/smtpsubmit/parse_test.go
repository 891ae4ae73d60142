package smtpsubmit

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/email/rules"
	"github.com/omnigate/omnigate/internal/message"
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

// The author's To and Cc (display names decoded), a valid Message-ID and
// the allowed fields (In-Reply-To, References, X-*) are kept; Bcc never;
// an invalid Message-ID is dropped (compose makes one); a References too
// long keeps its first and last ids.
func TestParseAuthorsHeaders(t *testing.T) {
	refs := "<root@c.example>"
	for i := range 60 {
		refs += fmt.Sprintf(" <reply-%02d@c.example>", i)
	}
	raw := "From: A <a@shop.test>\r\nTo: Ann <ann@r.test>, =?UTF-8?Q?Z=C3=B6e?= <zoe@r.test>\r\nCc: bob@r.test\r\nBcc: carl@r.test\r\n" +
		"Message-ID: <t.1@client.test>\r\nIn-Reply-To: <q@client.test>\r\nReferences: " + refs + "\r\nKeywords: k\r\nReceived: x\r\nSubject: s\r\n\r\nhi\r\n"
	p, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	e := p.Email
	got := e.Headers["References"]
	if len(e.To) != 2 || e.To[0] != (message.Mailbox{Name: "Ann", Address: "ann@r.test"}) || e.To[1].Name != "Zöe" ||
		len(e.Cc) != 1 || e.Cc[0].Address != "bob@r.test" || e.MessageID != "t.1@client.test" ||
		e.Headers["In-Reply-To"] != "<q@client.test>" || e.Headers["Keywords"] != "k" || len(e.Headers) != 3 ||
		len(got) > rules.MaxHeaderValue || !strings.HasPrefix(got, "<root@c.example> <reply-") || !strings.HasSuffix(got, " <reply-59@c.example>") {
		t.Fatalf("%+v", e)
	}
	p, err = Parse([]byte("Message-ID: not-an-id\r\n\r\nhi"))
	if err != nil || p.Email.MessageID != "" {
		t.Fatalf("%+v %v", p, err)
	}
	// To and Cc are display only: what cannot be shown as written is not
	// shown at all (each copy then shows its own recipient), and the mail
	// is not refused for it.
	for _, unshown := range []string{
		"To: =?UTF-8?Q?a=0D=0ABcc:_x@evil.test?= <a@b.test>\r\n\r\nhi", // injection in a display name
		"To: ann@b.test\r\nCc: not an address\r\n\r\nhi",
		"To: root\r\n\r\nhi",
		"To: team@localhost, ann@b.test\r\n\r\nhi",
	} {
		p, err := Parse([]byte(unshown))
		if err != nil || p.Email.To != nil || p.Email.Cc != nil {
			t.Errorf("%q: %+v %+v %v; want To and Cc not shown, the mail taken", unshown, p.Email.To, p.Email.Cc, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("Subject: x\r\n\r\nbody"))
	f.Add([]byte("To: Ann <a@b.test>, c@d.test\r\nCc: =?utf-8?q?Z=C3=B6e?= <z@b.test>\r\nMessage-ID: <a@b>\r\nReferences: <r@b> <s@b>\r\n\r\nbody"))
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
		for k, v := range p.Email.Headers {
			if !rules.AllowedHeader(k) || strings.ContainsAny(v, "\r\n") {
				t.Fatalf("header %q: %q", k, v)
			}
		}
		if id := p.Email.MessageID; id != "" {
			if _, ok := rules.MessageID("<" + id + ">"); !ok {
				t.Fatalf("Message-ID %q", id)
			}
		}
	})
}
