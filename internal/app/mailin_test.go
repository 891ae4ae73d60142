package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/email/verp"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// testMX is an email connector that exists only in these tests, until the
// email channel (internal/channel/email, internal/channel/smtp) is merged:
// it takes every recipient as the real one does after a 250, with the
// email channel's provider id (message id "." seq), and sends nothing.
type testMX struct {
	name string
	mu   sync.Mutex
	got  []*message.Message
}

func (c *testMX) Name() string                   { return c.name }
func (c *testMX) Channel() string                { return "email" }
func (c *testMX) Start()                         {}
func (c *testMX) Up() int                        { return 1 }
func (c *testMX) Stop(ctx context.Context) error { return nil }
func (c *testMX) Send(ctx context.Context, s channel.Submission) (channel.Result, error) {
	c.mu.Lock()
	c.got = append(c.got, s.Message)
	c.mu.Unlock()
	return channel.Result{Status: message.Sent, PartIDs: []string{fmt.Sprintf("%s.%d", s.Message.ID, s.Recipient.Seq)}}, nil
}

// withTestEmail registers a test connector kind of the email channel and a
// route for domain to it.
func withTestEmail(t *testing.T, s *server, domain string) *testMX {
	t.Helper()
	conn := &testMX{}
	s.app.channels.AddKind(channel.Kind{Name: "email-test", Channel: "email",
		Check: func(settings []byte) error { return json.Unmarshal(settings, new(map[string]any)) },
		New: func(name string, _ []byte, _ channel.Receiver, _ *slog.Logger) (channel.Connector, error) {
			conn.name = name
			return conn, nil
		}})
	ctx := context.Background()
	if err := s.app.store.SaveConnector(ctx, store.ConnectorConfig{Name: "mx-test", Kind: "email-test", Settings: []byte(`{}`),
		Enabled: true, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.app.store.AddRoute(ctx, &store.Route{Channel: "email", Pattern: destination.Pattern{Domain: domain},
		Connectors: []string{"mx-test"}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.app.connectors.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	return conn
}

// mailTo speaks SMTP to addr: MAIL FROM from, RCPT TO each of to, DATA
// data. It returns the first error and the reply code it carried.
func mailTo(t *testing.T, addr, from string, to []string, data string) (int, error) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fail := func(err error) (int, error) {
		var te *textproto.Error
		if errors.As(err, &te) {
			return te.Code, err
		}
		return 0, err
	}
	if err := c.Hello("mx.sender.test"); err != nil {
		return fail(err)
	}
	if err := c.Mail(from); err != nil {
		return fail(err)
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return fail(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fail(err)
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(data, "\n", "\r\n"))); err != nil {
		return fail(err)
	}
	if err := w.Close(); err != nil {
		return fail(err)
	}
	return 250, c.Quit()
}

func dsn(to, rcpt, action, status, diag string) string {
	return `From: MAILER-DAEMON@mx.sender.test
To: ` + to + `
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.test

Final-Recipient: rfc822; ` + rcpt + `
Action: ` + action + `
Status: ` + status + `
Remote-MTA: dns; mx.receiver.test
Diagnostic-Code: smtp; ` + diag + `

--b1--
`
}

func arf(to, rcpt string) string {
	return `From: fbl@receiver.test
To: ` + to + `
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="f1"

--f1
Content-Type: text/plain

A recipient marked your message as spam.
--f1
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ReceiverFBL/1.0
Version: 1
Original-Rcpt-To: ` + rcpt + `
Reported-Domain: shop.test

--f1
Content-Type: text/rfc822-headers

From: omnigate@shop.test
To: ` + rcpt + `
Subject: News

--f1--
`
}

// The inbound SMTP listener records what comes back: a hard bounce fails
// the recipient and suppresses the address, a delay changes nothing, a
// complaint suppresses and counts towards the threshold (here 1, so a
// proof case opens), a mailto unsubscribe is an opt-out; forged and
// unknown addresses are refused at RCPT.
func TestMailInbound(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.Compliance.ComplaintThreshold = 1 })
		addr := s.app.SMTPInboundAddr()
		if addr == "" {
			t.Fatal("the demo runs no inbound SMTP listener")
		}
		withTestEmail(t, s, "receiver.test")
		verifiedEmailDomain(t, s.app.store, s.accountID, "shop.test")
		ctx := context.Background()
		m := &message.Message{AccountID: s.accountID, Channel: "email", Type: "email", Originator: "news@shop.test", Body: "Hello",
			Content: &message.Content{Email: &message.Email{Subject: "News"}}}
		rcpts := []string{"gone@receiver.test", "slow@receiver.test", "reader@receiver.test", "ann@receiver.test", "full@receiver.test"}
		for _, a := range rcpts {
			m.Recipients = append(m.Recipients, message.Recipient{Address: a})
		}
		if err := s.app.pipeline.Accept(ctx, m, pipeline.Options{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "every recipient sent", 30*time.Second, func() bool {
			got, err := s.app.store.GetMessage(ctx, s.accountID, m.ID)
			if err != nil {
				return false
			}
			for _, r := range got.Recipients {
				if r.Status != message.Sent || r.Connector == "" {
					return false
				}
			}
			return true
		})
		secret := s.app.VERPSecret()
		rp := func(seq int) string { return verp.Encode(secret, m.ID, seq) + "@bounces.shop.test" }

		// A hard bounce.
		if code, err := mailTo(t, addr, "", []string{rp(0)}, dsn(rp(0), rcpts[0], "failed", "5.1.1", "550 5.1.1 <gone@receiver.test>: User unknown")); err != nil {
			t.Fatalf("bounce: %d %v", code, err)
		}
		// A delay, upper-cased by the reporting MTA.
		if code, err := mailTo(t, addr, "", []string{strings.ToUpper(rp(1))}, dsn(rp(1), rcpts[1], "delayed", "4.7.1", "451 4.7.1 greylisted")); err != nil {
			t.Fatalf("delay: %d %v", code, err)
		}
		// A complaint.
		if code, err := mailTo(t, addr, "fbl@receiver.test", []string{rp(2)}, arf(rp(2), rcpts[2])); err != nil {
			t.Fatalf("complaint: %d %v", code, err)
		}
		// A mailto unsubscribe.
		unsub := verp.Unsubscribe(secret, m.ID, 3) + "@bounces.shop.test"
		if code, err := mailTo(t, addr, rcpts[3], []string{unsub}, "From: "+rcpts[3]+"\nTo: "+unsub+"\nSubject: unsubscribe\n\nunsubscribe\n"); err != nil {
			t.Fatalf("unsubscribe: %d %v", code, err)
		}
		// A soft bounce: failed, not suppressed.
		if code, err := mailTo(t, addr, "", []string{rp(4)}, dsn(rp(4), rcpts[4], "failed", "5.2.2", "552 5.2.2 Mailbox full")); err != nil {
			t.Fatalf("soft bounce: %d %v", code, err)
		}
		// Forged, unknown and other addresses are refused at RCPT.
		forged := strings.Replace(rp(0), "-0-", "-1-", 1)
		for _, bad := range []string{forged, "postmaster@bounces.shop.test", "b-" + m.ID + "-0-aaaaaaaaaaaaaaaa@bounces.shop.test",
			verp.Encode(secret, "0190aa01bc3d4e5f6a7b8c9d0e1f2a3b", 0) + "@bounces.shop.test", "nobody@bounces.shop.test"} {
			if code, err := mailTo(t, addr, "", []string{bad}, "x"); code != 550 {
				t.Errorf("RCPT %s: %d %v", bad, code, err)
			}
		}

		waitFor(t, "the bounces recorded", 10*time.Second, func() bool {
			got, err := s.app.store.GetMessage(ctx, s.accountID, m.ID)
			if err != nil {
				t.Log(err)
				return false
			}
			return got.Recipients[0].Status == message.DeliveryFailed && got.Recipients[4].Status == message.DeliveryFailed
		})
		got, _ := s.app.store.GetMessage(ctx, s.accountID, m.ID)
		r0 := got.Recipients[0]
		if r0.StatusErrorCode != 5001 || r0.StatusReason != "bounced: bad_mailbox: 550 5.1.1 <gone@receiver.test>: User unknown" {
			t.Errorf("hard bounce: %+v", r0)
		}
		if r := got.Recipients[4]; r.StatusErrorCode != 5003 || !strings.HasPrefix(r.StatusReason, "bounced: mailbox_full: ") {
			t.Errorf("soft bounce: %+v", r)
		}
		for _, i := range []int{1, 2, 3} {
			if got.Recipients[i].Status != message.Sent {
				t.Errorf("recipient %d changed status: %+v", i, got.Recipients[i])
			}
		}
		sup, err := s.app.store.Suppressed(ctx, s.accountID, message.ChannelEmail, rcpts)
		if err != nil {
			t.Fatal(err)
		}
		if sup[rcpts[0]] != "bounce" || sup[rcpts[2]] != "complaint" || sup[rcpts[3]] != store.OptOut || sup[rcpts[1]] != "" || sup[rcpts[4]] != "" {
			t.Errorf("suppressions %v", sup)
		}
		cs, err := s.app.store.Consents(ctx, s.accountID, rcpts[3])
		if err != nil || len(cs) != 1 || cs[0].Action != store.OptOut || cs[0].Source != "email_unsubscribe" ||
			cs[0].Evidence["messageId"] != m.ID || !strings.Contains(cs[0].Evidence["headers"], "Subject: unsubscribe") {
			t.Errorf("consents %+v, %v", cs, err)
		}
		cases, err := s.app.store.ProofCases(ctx, s.accountID)
		if err != nil || len(cases) != 1 || !strings.Contains(cases[0].Reason, "complaints") {
			t.Errorf("proof cases %+v, %v", cases, err)
		}
		r := s.do("GET", "/metrics", "", "", nil)
		for _, want := range []string{`omnigate_mail_inbound_total{result="bounce"} 2`, `omnigate_mail_inbound_total{result="complaint"} 1`,
			`omnigate_mail_bounces_total{category="bad_mailbox"} 1`, `omnigate_mail_inbound_total{result="refused_rcpt"} 4`} {
			if !strings.Contains(string(r.raw), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

// Garbage on the inbound listener gets SMTP errors, never a crash; the
// listener still serves the next client.
func TestMailInboundGarbage(t *testing.T) {
	s := start(t, "sqlite")
	addr := s.app.SMTPInboundAddr()
	for _, junk := range []string{
		"\x00\x01\x02\xff\r\n",
		strings.Repeat("A", 100000) + "\r\n",
		"EHLO x\r\nMAIL FROM:<>\r\nDATA\r\n.\r\n",
		"EHLO x\r\nRCPT TO:<b-\xff@x>\r\nAUTH PLAIN AAAA\r\nSTARTTLS\r\nBDAT 10 LAST\r\n",
		"HELO\r\nMAIL FROM:\r\nRCPT TO:\r\nQUIT\r\n",
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(junk))
		buf := make([]byte, 4096)
		c.Read(buf) // the greeting, or more
		c.Close()
	}
	if code, err := mailTo(t, addr, "", []string{"someone@bounces.shop.test"}, "x"); code != 550 {
		t.Fatalf("after garbage: %d %v", code, err)
	}
}
