package email

import (
	"errors"
	"github.com/omnigate/omnigate/internal/email/rules"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/message"
)

func good() *message.Message {
	return &message.Message{ID: "m1", Channel: message.ChannelEmail, Originator: "news@Example.COM", Body: "hello",
		Content:    &message.Content{Email: &message.Email{Subject: "Hi", Headers: map[string]string{"X-Campaign": "a", "list-id": "<l.example.com>"}}},
		Recipients: []message.Recipient{{Address: "ann@bücher.example"}, {Seq: 1, Address: "bob@example.org", Name: "Bob"}}}
}

func TestPrepare(t *testing.T) {
	m := good()
	if err := Prepare(m); err != nil {
		t.Fatal(err)
	}
	if m.Originator != "news@example.com" || m.Recipients[0].Address != "ann@xn--bcher-kva.example" {
		t.Fatalf("addresses %q %q", m.Originator, m.Recipients[0].Address)
	}
	for _, r := range m.Recipients {
		if r.PartCount != 1 || r.Length < 200 || r.Length > 1000 {
			t.Fatalf("recipient %+v", r)
		}
	}
	if ProviderID("m1", 3) != "m1.3" {
		t.Fatal(ProviderID("m1", 3))
	}
}

func TestPrepareRefuses(t *testing.T) {
	for _, c := range []struct {
		field  string
		change func(m *message.Message)
	}{
		{"originator", func(m *message.Message) { m.Originator = "Ann <ann@example.com>" }},
		{"originator", func(m *message.Message) { m.Originator = "ann@example.com\r\nBcc: x@example.com" }},
		{"originator", func(m *message.Message) { m.Originator = "no-at-sign" }},
		{"recipients", func(m *message.Message) { m.Recipients[1].Address = "bob@localhost" }},
		{"recipients", func(m *message.Message) { m.Recipients[1].Address = "bob@-bad-.com" }},
		{"recipients", func(m *message.Message) { m.Recipients[1].Address = "b\u00a0b@example.com" }},
		{"recipients", func(m *message.Message) { m.Recipients = nil }},
		{"recipients.name", func(m *message.Message) { m.Recipients[1].Name = "Bob\nBcc: x@example.com" }},
		{"subject", func(m *message.Message) { m.Content.Email.Subject = "" }},
		{"subject", func(m *message.Message) { m.Content = nil }},
		{"subject", func(m *message.Message) { m.Content.Email.Subject = "a\r\nBcc: x@example.com" }},
		{"from.name", func(m *message.Message) { m.Content.Email.FromName = "x\ry" }},
		{"content", func(m *message.Message) { m.Body = "" }},
		{"replyTo", func(m *message.Message) { m.Content.Email.ReplyTo = "nope" }},
		{"headers", func(m *message.Message) { m.Content.Email.Headers["Bcc"] = "x@example.com" }},
		{"headers", func(m *message.Message) { m.Content.Email.Headers["content-type"] = "text/html" }},
		{"headers", func(m *message.Message) { m.Content.Email.Headers["DKIM-Signature"] = "v=1" }},
		{"headers", func(m *message.Message) { m.Content.Email.Headers["X-Bad\r\nBcc"] = "v" }},
		{"headers.X-Campaign", func(m *message.Message) { m.Content.Email.Headers["X-Campaign"] = "a\nBcc: x@example.com" }},
		{"attachments[0]", func(m *message.Message) {
			m.Content.Email.Attachments = []message.Attachment{{Name: "a.pdf", URL: "https://example.com/a.pdf"}}
		}},
		{"attachments[0].name", func(m *message.Message) {
			m.Content.Email.Attachments = []message.Attachment{{Name: "a\r\n.pdf", Data: []byte("x")}}
		}},
		{"attachments[0].contentType", func(m *message.Message) {
			m.Content.Email.Attachments = []message.Attachment{{Name: "a.pdf", ContentType: "multipart/mixed", Data: []byte("x")}}
		}},
		{"content", func(m *message.Message) {
			m.Content.Email.Attachments = []message.Attachment{{Name: "big.bin", Data: make([]byte, 8<<20)}}
		}},
	} {
		m := good()
		c.change(m)
		var inv *message.Invalid
		if err := Prepare(m); !errors.As(err, &inv) || inv.Field != c.field {
			t.Errorf("want a refusal of %s, got %v", c.field, err)
		}
	}
}

func TestAllowedHeader(t *testing.T) {
	for h, ok := range map[string]bool{"X-Foo": true, "x-foo": true, "List-Id": true, "in-reply-to": true, "References": true,
		"From": false, "To": false, "Cc": false, "Bcc": false, "Subject": false, "Date": false, "Message-ID": false,
		"DKIM-Signature": false, "Return-Path": false, "Received": false, "MIME-Version": false, "Content-Type": false,
		"Content-Transfer-Encoding": false, "List-Unsubscribe": false, "X-": false, "X Y": false, "": false} {
		if rules.AllowedHeader(h) != ok {
			t.Errorf("%q: want %v", h, ok)
		}
	}
}

func FuzzAddress(f *testing.F) {
	for _, s := range []string{"a@example.com", "a@b", "\"a b\"@example.com", "a@bücher.de", "<a@b.c>", "a@b.c\r\n", "jörg@bücher.de", "a\u200bb@b.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := rules.Address(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(a, "\r\n <>") {
			t.Fatalf("%q accepted as %q", s, a)
		}
		if again, err := rules.Address(a); err != nil || again != a {
			t.Fatalf("%q normalised to %q, which gives %q, %v", s, a, again, err)
		}
	})
}

// UTF-8 local parts (RFC 6531) are addresses; spaces, invisible and
// control characters in them are not.
func TestAddressUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"jörg@Bücher.example":                          "jörg@xn--bcher-kva.example",
		"مستخدم@example.com":                           "مستخدم@example.com",
		"用户@例子.广告":                                     "用户@xn--fsqu00a.xn--4rr70v",
		"b\u00a0b@example.com":                         "",
		"b\u200bb@example.com":                         "",
		"b\u0085b@example.com":                         "",
		"b\u2028b@example.com":                         "",
		"\xffb@example.com":                            "",
		"ö" + strings.Repeat("x", 63) + "@example.com": "", // 65 octets
	} {
		got, err := rules.Address(in)
		if want == "" && err == nil || want != "" && (err != nil || got != want) {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestMessageID(t *testing.T) {
	for in, want := range map[string]string{
		"<a.b@c.example>":           "a.b@c.example",
		" <x$1@[127.0.0.1]> ":       "x$1@[127.0.0.1]",
		"a@b.example":               "", // no angle brackets
		"<a b@c>":                   "",
		"<@c>":                      "",
		"<a@>":                      "",
		"<a@b@c>":                   "",
		"<a@b>\r\nBcc: x@evil.test": "",
		"<\"q\"@b>":                 "",
		"<" + strings.Repeat("a", rules.MaxMessageID) + "@b>": "",
	} {
		got, ok := rules.MessageID(in)
		if got != want || ok != (want != "") {
			t.Errorf("MessageID(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

// The author's To, Cc and Message-ID (SMTP submission) are checked like
// the other addresses and headers; a message over MaxSize is refused with
// ErrTooLarge, which the SMTP door answers 552.
func TestPrepareAuthored(t *testing.T) {
	m := good()
	e := m.Content.Email
	e.To = []message.Mailbox{{Name: "Ann", Address: "ann@Bücher.example"}}
	e.Cc = []message.Mailbox{{Address: "bob@example.org"}}
	e.MessageID = "t.1@client.example"
	if err := Prepare(m); err != nil {
		t.Fatal(err)
	}
	if e.To[0].Address != "ann@xn--bcher-kva.example" || m.Recipients[0].Length != m.Recipients[1].Length {
		t.Fatalf("to %+v, recipients %+v", e.To, m.Recipients)
	}
	for name, mutate := range map[string]func(e *message.Email){
		"to": func(e *message.Email) { e.To = []message.Mailbox{{Address: "nobody@invalid"}} },
		"cc.name": func(e *message.Email) {
			e.Cc = []message.Mailbox{{Name: "a\r\nBcc: x@evil.test", Address: "a@example.org"}}
		},
		"messageId": func(e *message.Email) { e.MessageID = "a b@c" },
		"to ":       func(e *message.Email) { e.To = make([]message.Mailbox, rules.MaxShown+1) },
	} {
		m := good()
		mutate(m.Content.Email)
		var inv *message.Invalid
		if err := Prepare(m); !errors.As(err, &inv) || !strings.HasPrefix(inv.Field, strings.TrimSpace(name)) {
			t.Errorf("%s: %v", name, err)
		}
	}
	m = good()
	m.Content.Email.Attachments = []message.Attachment{{Name: "big.bin", Data: make([]byte, rules.MaxSize*3/4+1)}}
	if err := Prepare(m); !errors.Is(err, rules.ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
}
