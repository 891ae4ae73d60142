package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	emailchan "github.com/omnigate/omnigate/internal/channel/email"
	"github.com/omnigate/omnigate/internal/email/rules"
	"github.com/omnigate/omnigate/internal/email/verp"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

const submitted = `From: "Shop News" <news@shop.test>
To: Ann <ann@receiver.test>
Reply-To: help@shop.test
Subject: =?UTF-8?Q?Caf=C3=A9_news?=
X-Campaign: spring
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed"

--mixed
Content-Type: multipart/related; boundary="related"

--related
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 opens at 10.
--alt
Content-Type: text/html; charset=utf-8

<p>Caf&eacute; opens at 10. <img src="cid:logo@shop.test"></p>
--alt--
--related
Content-Type: image/png
Content-Transfer-Encoding: base64
Content-ID: <logo@shop.test>
Content-Disposition: inline

iVBORw0KGgo=
--related--
--mixed
Content-Type: application/pdf; name="menu.pdf"
Content-Disposition: attachment; filename="menu.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--mixed--
`

// submit speaks SMTP to the submission door: STARTTLS when roots is set,
// AUTH with a, MAIL, RCPT, DATA. It returns the DATA reply's text, or the
// first error.
func submit(t *testing.T, addr string, roots *x509.CertPool, a sasl.Client, from string, to []string, data string) (string, error) {
	t.Helper()
	var c *gosmtp.Client
	var err error
	if roots != nil {
		c, err = gosmtp.DialStartTLS(addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	} else {
		c, err = gosmtp.Dial(addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if a != nil {
		if err := c.Auth(a); err != nil {
			return "", err
		}
	}
	return sendData(c, from, to, nil, []byte(strings.ReplaceAll(data, "\n", "\r\n")))
}

func smtpCode(err error) int {
	var e *gosmtp.SMTPError
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// The submission door takes mail after STARTTLS and AUTH (PLAIN or LOGIN,
// an access key as the password), parses it into an email message and
// accepts it through the pipeline; a wrong key gets 535, mail without
// AUTH 530, a test key is validated and not stored.
func TestSMTPSubmission(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		certFile, keyFile, roots := selfSigned(t, t.TempDir())
		s := start(t, engine, func(c *Config) {
			c.TLSCert, c.TLSKey, c.SMTPSubmission = certFile, keyFile, "127.0.0.1:0"
		})
		withTestEmail(t, s, "receiver.test")
		addr := s.app.SMTPSubmissionAddr()
		ctx := context.Background()
		// The compliance engine checks the sender (the DOMAINS work
		// checks the domain); the operator approved this one.
		verifiedEmailDomain(t, s.app.store, s.accountID, "shop.test")

		text, err := submit(t, addr, roots, sasl.NewPlainClient("", "app", s.key), "news@shop.test", []string{"ann@receiver.test", "bob@receiver.test"}, submitted)
		if err != nil {
			t.Fatal(err)
		}
		id, ok := strings.CutPrefix(text, "2.0.0 OK id=")
		if !ok || len(id) != 32 {
			t.Fatalf("reply %q", text)
		}
		m, err := s.app.store.GetMessage(ctx, s.accountID, id)
		if err != nil {
			t.Fatal(err)
		}
		e := m.Content.Email
		if m.Channel != "email" || m.Originator != "news@shop.test" || len(m.Recipients) != 2 || m.Recipients[1].Address != "bob@receiver.test" ||
			m.Body != "Café opens at 10." || e.Subject != "Café news" || e.FromName != "Shop News" || e.ReplyTo != "help@shop.test" ||
			!strings.Contains(e.HTML, "cid:logo@shop.test") || e.Headers["X-Campaign"] != "spring" || len(e.Attachments) != 2 {
			t.Fatalf("message %+v, email %+v", m, e)
		}
		if a := e.Attachments[0]; !a.Inline || a.Name != "logo@shop.test" || a.ContentType != "image/png" || string(a.Data[1:4]) != "PNG" {
			t.Errorf("inline image %+v", a)
		}
		if a := e.Attachments[1]; a.Inline || a.Name != "menu.pdf" || string(a.Data) != "%PDF-1.4\n" {
			t.Errorf("attachment %+v", a)
		}
		waitFor(t, "sent", 10e9, func() bool {
			got, err := s.app.store.GetMessage(ctx, s.accountID, id)
			return err == nil && got.Recipients[0].Status == message.Sent && got.Recipients[1].Status == message.Sent
		})

		// AUTH LOGIN works too.
		if _, err := submit(t, addr, roots, sasl.NewLoginClient("app", s.key), "news@shop.test", []string{"ann@receiver.test"}, submitted); err != nil {
			t.Fatalf("AUTH LOGIN: %v", err)
		}
		// A test key: validated, answered, not stored.
		text, err = submit(t, addr, roots, sasl.NewPlainClient("", "app", s.testKey), "news@shop.test", []string{"ann@receiver.test"}, submitted)
		if err != nil || !strings.Contains(text, "test key") {
			t.Fatalf("test key: %q %v", text, err)
		}
		testID := strings.Fields(strings.TrimPrefix(text, "2.0.0 OK id="))[0]
		if _, err := s.app.store.GetMessage(ctx, s.accountID, testID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a test message was stored: %v", err)
		}
		// A wrong key, no AUTH, bad mail.
		if _, err := submit(t, addr, roots, sasl.NewPlainClient("", "app", "live_wrongwrongwrongwrongwrong"), "news@shop.test", []string{"ann@receiver.test"}, submitted); smtpCode(err) != 535 {
			t.Errorf("wrong key: %v", err)
		}
		if _, err := submit(t, addr, roots, nil, "news@shop.test", []string{"ann@receiver.test"}, submitted); smtpCode(err) != 530 {
			t.Errorf("no AUTH: %v", err)
		}
		injected := "Subject: =?UTF-8?Q?hi=0D=0ABcc:_x@evil.test?=\n\nhello\n"
		if _, err := submit(t, addr, roots, sasl.NewPlainClient("", "app", s.key), "news@shop.test", []string{"ann@receiver.test"}, injected); smtpCode(err) != 550 {
			t.Errorf("header injection: %v", err)
		}
		// (The API is on HTTPS here: the counters are read directly.)
		if n := testutil.ToFloat64(s.app.metrics.Mail.Submissions.WithLabelValues("accepted")); n != 3 {
			t.Errorf("accepted %v", n)
		}
		if n := testutil.ToFloat64(s.app.metrics.Auth.Failures.WithLabelValues("smtp", "unknown_key")); n != 1 {
			t.Errorf("auth failures %v", n)
		}
	})
}

// Without STARTTLS, AUTH is refused from other addresses but taken on
// loopback; this test runs on loopback, so it checks that mail in clear
// works there and that STARTTLS is offered only with a certificate.
func TestSMTPSubmissionLoopbackWithoutTLS(t *testing.T) {
	s := start(t, "sqlite", func(c *Config) { c.SMTPSubmission = "127.0.0.1:0" })
	c, err := gosmtp.Dial(s.app.SMTPSubmissionAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered without a certificate")
	}
	if err := c.Auth(sasl.NewPlainClient("", "app", s.key)); err != nil {
		t.Fatalf("AUTH on loopback: %v", err)
	}
}

// dialSubmission opens an authenticated submission session (STARTTLS,
// AUTH PLAIN with key).
func dialSubmission(t *testing.T, addr string, roots *x509.CertPool, key string) *gosmtp.Client {
	t.Helper()
	c, err := gosmtp.DialStartTLS(addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Auth(sasl.NewPlainClient("", "app", key)); err != nil {
		t.Fatal(err)
	}
	return c
}

// smtpReply is an error's SMTP code and enhanced code ("552 5.3.4").
func smtpReply(err error) string {
	var e *gosmtp.SMTPError
	if !errors.As(err, &e) {
		return fmt.Sprint(err)
	}
	return fmt.Sprintf("%d %d.%d.%d", e.Code, e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2])
}

// sendData sends one mail on an open session and returns the reply to the
// end of DATA (its text, or the error).
func sendData(c *gosmtp.Client, from string, to []string, opts *gosmtp.MailOptions, data []byte) (string, error) {
	if err := c.Mail(from, opts); err != nil {
		return "", err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return "", err
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	w.Write(data)
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	return resp.StatusText, nil
}

// RFC 1870: the SIZE advertised is the limit that applies (the email
// channel's, rules.MaxSize), and every refusal for size is 552 5.3.4:
// at MAIL when SIZE= says too much, at the end of DATA otherwise, and
// when the message is under SIZE on the wire but over the limit once
// composed (8-bit text becomes quoted-printable).
func TestSMTPSubmissionSize(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, roots := submissionServer(t, engine)
		c := dialSubmission(t, s.app.SMTPSubmissionAddr(), roots, s.key)
		if ok, size := c.Extension("SIZE"); !ok || size != strconv.Itoa(rules.MaxSize) {
			t.Fatalf("SIZE %v %q, want %d", ok, size, rules.MaxSize)
		}
		to := []string{"ann@receiver.test"}
		if err := c.Mail("news@shop.test", &gosmtp.MailOptions{Size: rules.MaxSize + 1}); smtpReply(err) != "552 5.3.4" {
			t.Errorf("MAIL SIZE=limit+1: %v", err)
		}
		c.Reset()
		head := "From: news@shop.test\r\nTo: ann@receiver.test\r\nSubject: big\r\n"
		over := []byte(head + "\r\n" + strings.Repeat(strings.Repeat("x", 998)+"\r\n", rules.MaxSize/1000+1))
		if _, err := sendData(c, "news@shop.test", to, nil, over); smtpReply(err) != "552 5.3.4" {
			t.Errorf("over SIZE without SIZE=: %v", err)
		}
		// 4 MiB of 8-bit "é" is 12 MiB in quoted-printable.
		eight := []byte(head + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
			strings.Repeat(strings.Repeat("é", 400)+"\r\n", 4<<20/802))
		if len(eight) >= rules.MaxSize {
			t.Fatal(len(eight))
		}
		if _, err := sendData(c, "news@shop.test", to, nil, eight); smtpReply(err) != "552 5.3.4" {
			t.Errorf("over the limit once composed: %v", err)
		}
		// Just under SIZE, in base64 like a client's attachment: taken.
		data := make([]byte, (rules.MaxSize-64<<10)*57/78)
		for i := range data {
			data[i] = byte(i * 7)
		}
		var b64 strings.Builder
		enc := base64.StdEncoding.EncodeToString(data)
		for len(enc) > 76 {
			b64.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b64.WriteString(enc + "\r\n")
		under := []byte(head + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
			"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=big.bin\r\n\r\n" +
			b64.String() + "--b--\r\n")
		if len(under) >= rules.MaxSize {
			t.Fatal(len(under))
		}
		if text, err := sendData(c, "news@shop.test", to, nil, under); err != nil || !strings.HasPrefix(text, "2.0.0 OK id=") {
			t.Errorf("a %d-octet message under SIZE: %q %v", len(under), text, err)
		}
	})
}

// submissionServer starts a server with the SMTP submission door over TLS,
// mail for receiver.test kept by the test sink, and shop.test verified as
// the account's sending domain; roots trusts its certificate.
func submissionServer(t *testing.T, engine string) (*server, *x509.CertPool) {
	certFile, keyFile, roots := selfSigned(t, t.TempDir())
	s := start(t, engine, func(c *Config) {
		c.TLSCert, c.TLSKey, c.SMTPSubmission = certFile, keyFile, "127.0.0.1:0"
	})
	withTestEmail(t, s, "receiver.test")
	verifiedEmailDomain(t, s.app.store, s.accountID, "shop.test")
	return s, roots
}

// RFC 5321 §3.3: a recipient the email channel would refuse is refused at
// RCPT (553 5.1.3) and the mail goes to the others; a sender it would
// refuse is refused at MAIL (553 5.1.7). Compliance is unchanged: it
// still decides at the end of DATA.
func TestSMTPSubmissionBadRecipientAtRcpt(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, roots := submissionServer(t, engine)
		ctx := context.Background()
		c := dialSubmission(t, s.app.SMTPSubmissionAddr(), roots, s.key)
		if err := c.Mail("news@localhost", nil); smtpReply(err) != "553 5.1.7" {
			t.Errorf("MAIL FROM:<news@localhost>: %v", err)
		}
		c.Reset()
		if err := c.Mail("news@shop.test", nil); err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"ann@receiver.test", "nobody@invalid", "x@y", "bob@Receiver.TEST"} {
			err := c.Rcpt(r, nil)
			want := "<nil>"
			if r == "nobody@invalid" || r == "x@y" {
				want = "553 5.1.3"
			}
			if got := smtpReply(err); got != want {
				t.Errorf("RCPT TO:<%s>: %s, want %s", r, got, want)
			}
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("From: news@shop.test\r\nTo: ann@receiver.test\r\nSubject: hi\r\n\r\nhello\r\n"))
		resp, err := w.CloseWithResponse()
		if err != nil {
			t.Fatalf("DATA: %v", err)
		}
		id, ok := strings.CutPrefix(resp.StatusText, "2.0.0 OK id=")
		if !ok {
			t.Fatalf("reply %q", resp.StatusText)
		}
		m, err := s.app.store.GetMessage(ctx, s.accountID, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Recipients) != 2 || m.Recipients[0].Address != "ann@receiver.test" || m.Recipients[1].Address != "bob@receiver.test" {
			t.Fatalf("recipients %+v", m.Recipients)
		}
	})
}

// RFC 6531: the door offers SMTPUTF8; a UTF-8 local part is taken in a
// mail whose MAIL says SMTPUTF8 and refused (553 5.6.7) in one that does
// not; the author's UTF-8 To (RFC 6532) is shown in the copy.
func TestSMTPSubmissionUTF8Address(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, roots := submissionServer(t, engine)
		ctx := context.Background()
		c := dialSubmission(t, s.app.SMTPSubmissionAddr(), roots, s.key)
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			t.Fatal("SMTPUTF8 not offered")
		}
		if err := c.Mail("news@shop.test", nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt("jörg@receiver.test", nil); smtpReply(err) != "553 5.6.7" {
			t.Errorf("RCPT TO:<jörg@receiver.test> without SMTPUTF8: %v", err)
		}
		// A domain in U-labels is sent as its A-labels: no SMTPUTF8 needed.
		if err := c.Rcpt("ann@rëceiver.test", nil); err != nil {
			t.Errorf("RCPT TO:<ann@rëceiver.test> without SMTPUTF8: %v", err)
		}
		c.Reset()
		text, err := sendData(c, "news@shop.test", []string{"jörg@receiver.test"}, &gosmtp.MailOptions{UTF8: true},
			[]byte("From: news@shop.test\r\nTo: Jörg <jörg@receiver.test>\r\nSubject: Grüße\r\n\r\nhallo\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.app.store.GetMessage(ctx, s.accountID, strings.TrimPrefix(text, "2.0.0 OK id="))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Recipients) != 1 || m.Recipients[0].Address != "jörg@receiver.test" {
			t.Fatalf("recipients %+v", m.Recipients)
		}
		_, raw, err := s.app.composer.compose(ctx, m, &m.Recipients[0])
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		to, err := msg.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Name != "Jörg" || to[0].Address != "jörg@receiver.test" {
			t.Errorf("To %q: %v %v", msg.Header.Get("To"), to, err)
		}
	})
}

const authored = `From: "Shop News" <news@shop.test>
To: Ann <ann@receiver.test>, =?UTF-8?Q?Z=C3=B6e?= <zoe@receiver.test>
Cc: bob@receiver.test
Bcc: carl@receiver.test
Message-ID: <token.reply@client.test>
In-Reply-To: <question-1@client.test>
References: <root@client.test> <question-1@client.test>
Subject: Re: your question
X-Campaign: spring

answer
`

// RFC 6409 §8: the submission door keeps the author's To and Cc (display
// names included), Message-ID and threading fields; Bcc is in no copy;
// each recipient still gets its own copy with its own VERP return path,
// which is what bounces and complaints are matched by.
func TestSMTPSubmissionKeepsAuthorsHeaders(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, roots := submissionServer(t, engine)
		ctx := context.Background()
		addr := s.app.SMTPSubmissionAddr()
		rcpts := []string{"ann@receiver.test", "zoe@receiver.test", "bob@receiver.test", "carl@receiver.test"}
		text, err := submit(t, addr, roots, sasl.NewPlainClient("", "app", s.key), "news@shop.test", rcpts, authored)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimPrefix(text, "2.0.0 OK id=")
		m, err := s.app.store.GetMessage(ctx, s.accountID, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Recipients) != 4 {
			t.Fatalf("recipients %+v", m.Recipients)
		}
		for _, r := range m.Recipients {
			env, raw, err := s.app.composer.compose(ctx, m, &r)
			if err != nil {
				t.Fatal(err)
			}
			local, _, _ := strings.Cut(env.From, "@")
			if gotID, seq, ok := verp.Decode(s.app.VERPSecret(), local); !ok || gotID != m.ID || seq != r.Seq {
				t.Errorf("%s: return path %q", r.Address, env.From)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			h := msg.Header
			to, _ := h.AddressList("To")
			cc, _ := h.AddressList("Cc")
			if len(to) != 2 || to[0].String() != "\"Ann\" <ann@receiver.test>" || to[1].Name != "Zöe" || to[1].Address != "zoe@receiver.test" ||
				len(cc) != 1 || cc[0].Address != "bob@receiver.test" || h.Get("Bcc") != "" ||
				h.Get("Message-Id") != "<token.reply@client.test>" || h.Get("In-Reply-To") != "<question-1@client.test>" ||
				h.Get("References") != "<root@client.test> <question-1@client.test>" || h.Get("X-Campaign") != "spring" {
				t.Errorf("%s's copy:\n%s", r.Address, raw[:bytes.Index(raw, []byte("\r\n\r\n"))])
			}
		}
		// annsCopy submits data to ann@receiver.test and composes her copy.
		annsCopy := func(data string) (*message.Message, []byte, *mail.Message) {
			t.Helper()
			text, err := submit(t, addr, roots, sasl.NewPlainClient("", "app", s.key), "news@shop.test", []string{"ann@receiver.test"}, data)
			if err != nil {
				t.Fatalf("%q: %v", data, err)
			}
			m, err := s.app.store.GetMessage(ctx, s.accountID, strings.TrimPrefix(text, "2.0.0 OK id="))
			if err != nil {
				t.Fatal(err)
			}
			_, raw, err := s.app.composer.compose(ctx, m, &m.Recipients[0])
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := mail.ReadMessage(bytes.NewReader(raw))
			return m, raw, msg
		}
		// A Message-ID that is not one is replaced by omnigate's own
		// (RFC 6409 §8.3); a mail without To or Cc shows each recipient
		// its own address, as before.
		m, _, msg := annsCopy("From: news@shop.test\nMessage-ID: not an id\nSubject: hi\n\nhello\n")
		if got := msg.Header.Get("Message-Id"); got != "<"+emailchan.ProviderID(m.ID, 0)+"@shop.test>" || msg.Header.Get("To") != "<ann@receiver.test>" {
			t.Errorf("Message-ID %q, To %q", got, msg.Header.Get("To"))
		}
		// To and Cc are display only: a line break smuggled into a To
		// display name, or an address no one could be sent to (To: root,
		// as cron writes it), is not shown, and the mail still goes to its
		// envelope recipients, each copy showing its own address.
		for _, to := range []string{"=?UTF-8?Q?Ann=0D=0ABcc:_x@evil.test?= <ann@receiver.test>", "root", "team@localhost"} {
			_, raw, msg := annsCopy("From: news@shop.test\nTo: " + to + "\nSubject: hi\n\nhello\n")
			if msg.Header.Get("To") != "<ann@receiver.test>" || msg.Header.Get("Bcc") != "" || strings.Contains(string(raw), "evil.test") {
				t.Errorf("To: %s: shown as %q", to, msg.Header.Get("To"))
			}
		}
	})
}
