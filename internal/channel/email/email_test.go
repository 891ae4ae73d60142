package email

import (
	"errors"
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
		{"recipients", func(m *message.Message) { m.Recipients[1].Address = "bøb@example.com" }},
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
		if AllowedHeader(h) != ok {
			t.Errorf("%q: want %v", h, ok)
		}
	}
}

func FuzzAddress(f *testing.F) {
	for _, s := range []string{"a@example.com", "a@b", "\"a b\"@example.com", "a@bücher.de", "<a@b.c>", "a@b.c\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Address(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(a, "\r\n <>") {
			t.Fatalf("%q accepted as %q", s, a)
		}
		if again, err := Address(a); err != nil || again != a {
			t.Fatalf("%q normalised to %q, which gives %q, %v", s, a, again, err)
		}
	})
}
