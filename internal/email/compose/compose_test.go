package compose

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
)

func sample() *message.Message {
	return &message.Message{ID: "abc123", Channel: message.ChannelEmail, Originator: "news@example.com",
		Body: "Hello Ann,\nsee you at 10.\n",
		Content: &message.Content{Email: &message.Email{Subject: "Réunion à 10h", FromName: "Ünïcode Sender",
			HTML: `<p>Hello <img src="cid:logo.png"></p>`, ReplyTo: "help@example.com",
			Headers: map[string]string{"X-Campaign": "spring", "List-Id": "<news.example.com>"},
			Attachments: []message.Attachment{
				{Name: "logo.png", ContentType: "image/png", Data: bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 100), Inline: true},
				{Name: "facture été.pdf", ContentType: "application/pdf", Data: bytes.Repeat([]byte("%PDF-1.4 "), 300)},
			}}},
		Recipients: []message.Recipient{{Seq: 2, Address: "ann@example.org", Name: "Ann O'Neil"}}}
}

// parse reads a composed message back with the standard library, returning
// the leaves: content type -> decoded body.
func parse(t testing.TB, raw []byte) (*mail.Message, map[string][]byte, map[string]textprotoHeader) {
	t.Helper()
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line %d has %d octets", i, len(line))
		}
		if strings.ContainsAny(line, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i, line)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, raw)
	}
	leaves := map[string][]byte{}
	heads := map[string]textprotoHeader{}
	var walk func(ctype, cte string, h textprotoHeader, body io.Reader)
	walk = func(ctype, cte string, h textprotoHeader, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			t.Fatalf("content type %q: %v", ctype, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("part of %s: %v", mt, err)
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), textprotoHeader(p.Header), p)
			}
		}
		switch strings.ToLower(cte) {
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("%s: %v", mt, err)
		}
		key := mt
		if _, dup := leaves[key]; dup {
			key += "#2"
		}
		leaves[key], heads[key] = b, h
	}
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), textprotoHeader(msg.Header), msg.Body)
	return msg, leaves, heads
}

type textprotoHeader map[string][]string

func (h textprotoHeader) get(k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func TestBuildRoundTrip(t *testing.T) {
	m := sample()
	date := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	raw, err := Build(m, &m.Recipients[0], Options{Date: date, Boundary: "b",
		ListUnsubscribe: []string{"https://example.com/u/1", "mailto:unsub@example.com?subject=u1"}, OneClick: true})
	if err != nil {
		t.Fatal(err)
	}
	msg, leaves, heads := parse(t, raw)
	dec := new(mime.WordDecoder)
	subj, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	from, _ := msg.Header.AddressList("From")
	to, _ := msg.Header.AddressList("To")
	if subj != "Réunion à 10h" || len(from) != 1 || from[0].Name != "Ünïcode Sender" || from[0].Address != "news@example.com" ||
		len(to) != 1 || to[0].Name != "Ann O'Neil" || to[0].Address != "ann@example.org" {
		t.Fatalf("subject %q from %v to %v", subj, from, to)
	}
	want := map[string]string{
		"Message-Id":            "<abc123.2@example.com>",
		"Date":                  "Sun, 01 Mar 2026 10:00:00 +0000",
		"Mime-Version":          "1.0",
		"Reply-To":              "<help@example.com>",
		"X-Campaign":            "spring",
		"List-Id":               "<news.example.com>",
		"List-Unsubscribe":      "<https://example.com/u/1>, <mailto:unsub@example.com?subject=u1>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	}
	for k, v := range want {
		if got := msg.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if !strings.HasPrefix(msg.Header.Get("Content-Type"), "multipart/mixed") {
		t.Fatalf("top %q", msg.Header.Get("Content-Type"))
	}
	if string(leaves["text/plain"]) != "Hello Ann,\r\nsee you at 10.\r\n" {
		t.Errorf("text %q", leaves["text/plain"])
	}
	if string(leaves["text/html"]) != m.Content.Email.HTML {
		t.Errorf("html %q", leaves["text/html"])
	}
	if !bytes.Equal(leaves["image/png"], m.Content.Email.Attachments[0].Data) || heads["image/png"].get("Content-Id") != "<logo.png>" {
		t.Errorf("inline image %v", heads["image/png"])
	}
	if !bytes.Equal(leaves["application/pdf"], m.Content.Email.Attachments[1].Data) {
		t.Errorf("attachment differs")
	}
	_, params, _ := mime.ParseMediaType(heads["application/pdf"].get("Content-Disposition"))
	if params["filename"] != "facture été.pdf" {
		t.Errorf("filename %q", params["filename"])
	}
	// The same options give the same bytes.
	again, _ := Build(m, &m.Recipients[0], Options{Date: date, Boundary: "b",
		ListUnsubscribe: []string{"https://example.com/u/1", "mailto:unsub@example.com?subject=u1"}, OneClick: true})
	if !bytes.Equal(raw, again) {
		t.Fatal("not deterministic")
	}
}

func TestBuildShapes(t *testing.T) {
	for _, c := range []struct {
		name, text, html, top string
	}{
		{"text only", "hi", "", "text/plain"},
		{"html only", "", "<b>hi</b>", "text/html"},
		{"both", "hi", "<b>hi</b>", "multipart/alternative"},
		{"empty", "", "", "text/plain"},
	} {
		m := &message.Message{ID: "m", Originator: "a@example.com", Body: c.text,
			Content:    &message.Content{Email: &message.Email{Subject: "s", HTML: c.html}},
			Recipients: []message.Recipient{{Address: "b@example.com"}}}
		raw, err := Build(m, &m.Recipients[0], Options{})
		if err != nil {
			t.Fatal(err)
		}
		msg, _, _ := parse(t, raw)
		if mt, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); mt != c.top {
			t.Errorf("%s: %s", c.name, mt)
		}
	}
}

func TestLongLinesAndHeaders(t *testing.T) {
	m := sample()
	m.Body = strings.Repeat("x", 5000) + "\n" + strings.Repeat("é", 3000)
	m.Content.Email.Subject = strings.Repeat("word ", 150) + strings.Repeat("y", 2000)
	m.Content.Email.Headers = map[string]string{"X-Long": strings.Repeat("z", 1500)}
	raw, err := Build(m, &m.Recipients[0], Options{})
	if err != nil {
		t.Fatal(err)
	}
	msg, leaves, _ := parse(t, raw)
	subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subj != m.Content.Email.Subject {
		t.Fatalf("subject came back as %q (%v)", subj, err)
	}
	if got := strings.ReplaceAll(string(leaves["text/plain"]), "\r\n", "\n"); got != m.Body {
		t.Fatal("long body changed")
	}
}

// FuzzBuild: whatever the subject, names, headers and bodies, the result
// parses, keeps its header set (no injected header) and its lines short.
func FuzzBuild(f *testing.F) {
	f.Add("hello", "Ann", "Sender", "body\n", "<p>x</p>", "v")
	f.Add("a\r\nBcc: evil@example.com", "x\nTo: y@example.com", "=?utf-8?q?x?=", "\r\n.\r\n", "", "a\rb")
	f.Add(strings.Repeat("é", 400), "\"quoted\" <a@b>", "", "", "", "\x00\x7f")
	f.Fuzz(func(t *testing.T, subject, toName, fromName, text, html, hv string) {
		m := &message.Message{ID: "fz", Originator: "a@example.com", Body: text,
			Content: &message.Content{Email: &message.Email{Subject: subject, FromName: fromName, HTML: html,
				Headers: map[string]string{"X-Fuzz": hv, "X-Other\r\nBcc": hv}}},
			Recipients: []message.Recipient{{Address: "b@example.com", Name: toName}}}
		raw, err := Build(m, &m.Recipients[0], Options{Boundary: "fz"})
		if err != nil {
			t.Fatal(err)
		}
		msg, _, _ := parse(t, raw)
		for k := range msg.Header {
			switch k {
			case "From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type",
				"Content-Transfer-Encoding", "X-Fuzz", "X-Otherbcc":
			default:
				t.Fatalf("injected header %q in\n%s", k, raw)
			}
		}
		if tos, err := msg.Header.AddressList("To"); err != nil || len(tos) != 1 || tos[0].Address != "b@example.com" {
			t.Fatalf("To is %q (%v)", msg.Header.Get("To"), err)
		}
	})
}

func BenchmarkBuild(b *testing.B) {
	m := sample()
	m.Body = strings.Repeat("A plain-text line of a typical newsletter, about seventy chars.\n", 60)
	m.Content.Email.HTML = strings.Repeat("<p>A paragraph of <b>HTML</b> with a <a href=\"https://example.com\">link</a>.</p>\n", 50)
	m.Content.Email.Attachments = nil
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(m, &m.Recipients[0], Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// Tracking rewrites http(s) links and adds the pixel and the footer before
// </body>; other links and a text-only email are left alone.
func TestDecorateHTML(t *testing.T) {
	o := Options{Footer: "Shop & Co\n1 Main St", OpenPixel: "https://t.example/o/1",
		ClickURL: func(u string) string { return "https://t.example/c?u=" + u }}
	got := decorateHTML(`<html><body><a href="https://shop.example/a?x=1&amp;y=2">a</a> <a href='mailto:x@y'>m</a></body></html>`, o)
	for _, want := range []string{
		`href="https://t.example/c?u=https://shop.example/a?x=1&amp;y=2"`,
		`href='mailto:x@y'`,
		`Shop &amp; Co<br>1 Main St</p><img src="https://t.example/o/1" width="1" height="1" alt="" style="display:none"></body></html>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in %s", want, got)
		}
	}
	if decorateHTML("", o) != "" {
		t.Error("text-only email decorated")
	}
}

// The author's To and Cc (SMTP submission) replace the recipient's own To
// in every copy, display names included; the author's Message-ID replaces
// the made one; msg-id lists are written as they are, never as encoded
// words, however long their ids.
func TestBuildAuthored(t *testing.T) {
	m := sample()
	long := "<" + strings.Repeat("CAHk", 20) + "@mail.example.com>"
	e := m.Content.Email
	e.To = []message.Mailbox{{Name: "Ann O'Neil", Address: "ann@example.org"}, {Name: "Zöe", Address: "zoe@example.org"}}
	e.Cc = []message.Mailbox{{Address: "bob@example.org"}}
	e.MessageID = "t.1@client.example"
	e.Headers = map[string]string{"In-Reply-To": long, "References": "<root@client.example> " + long}
	raw, err := Build(m, &m.Recipients[0], Options{Boundary: "b"})
	if err != nil {
		t.Fatal(err)
	}
	msg, _, _ := parse(t, raw)
	h := msg.Header
	to, _ := h.AddressList("To")
	cc, _ := h.AddressList("Cc")
	if len(to) != 2 || to[0].Name != "Ann O'Neil" || to[1].Name != "Zöe" || to[1].Address != "zoe@example.org" ||
		len(cc) != 1 || cc[0].Address != "bob@example.org" || h.Get("Message-Id") != "<t.1@client.example>" ||
		h.Get("In-Reply-To") != long || h.Get("References") != "<root@client.example> "+long {
		t.Fatalf("headers:\n%s", raw[:bytes.Index(raw, []byte("\r\n\r\n"))])
	}
}

// FuzzBuildAuthored: whatever the author's To, Cc, Message-ID and
// threading fields hold, no header is injected and lines stay short.
func FuzzBuildAuthored(f *testing.F) {
	f.Add("Ann", "ann@example.org", "t.1@client.example", "<q@client.example>")
	f.Add("a\r\nBcc: x@evil.test", "b@example.org>\r\nBcc: y@evil.test", "x>\r\nBcc: z@evil.test", "<a@b>\nBcc: w@evil.test")
	f.Add(strings.Repeat("é", 300), "", strings.Repeat("a", 300), strings.Repeat("<a@b> ", 150))
	f.Fuzz(func(t *testing.T, name, addr, id, refs string) {
		m := &message.Message{ID: "fz", Originator: "a@example.com", Body: "x",
			Content: &message.Content{Email: &message.Email{Subject: "s", MessageID: id,
				To: []message.Mailbox{{Name: name, Address: addr}}, Cc: []message.Mailbox{{Name: name, Address: "c@example.com"}},
				Headers: map[string]string{"References": refs, "In-Reply-To": refs}}},
			Recipients: []message.Recipient{{Address: "b@example.com"}}}
		raw, err := Build(m, &m.Recipients[0], Options{Boundary: "fz"})
		if err != nil {
			t.Fatal(err)
		}
		msg, _, _ := parse(t, raw)
		for k := range msg.Header {
			switch k {
			case "From", "To", "Cc", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type",
				"Content-Transfer-Encoding", "References", "In-Reply-To":
			default:
				t.Fatalf("injected header %q in\n%s", k, raw)
			}
		}
	})
}
