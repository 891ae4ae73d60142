package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus/testutil"

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
	if err := c.Mail(from, nil); err != nil {
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
	w.Write([]byte(strings.ReplaceAll(data, "\n", "\r\n")))
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	return resp.StatusText, nil
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
