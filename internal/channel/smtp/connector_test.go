package smtp_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	smtpconn "github.com/omnigate/omnigate/internal/channel/smtp"
	"github.com/omnigate/omnigate/internal/email/compose"
	"github.com/omnigate/omnigate/internal/mailsink"
	"github.com/omnigate/omnigate/internal/mailsink/dnstest"
	"github.com/omnigate/omnigate/internal/message"
)

var loopback = net.ParseIP("127.0.0.1")

func composer(_ context.Context, m *message.Message, r *message.Recipient) (smtpconn.Envelope, []byte, error) {
	b, err := compose.Build(m, r, compose.Options{})
	return smtpconn.Envelope{From: m.Originator}, b, err
}

var ids atomic.Int64

func email(to ...string) *message.Message {
	m := &message.Message{ID: fmt.Sprintf("msg%d", ids.Add(1)), Channel: message.ChannelEmail, Originator: "sender@omnigate.test",
		Body: "hello", CreatedAt: time.Now(), Content: &message.Content{Email: &message.Email{Subject: "Hi"}}}
	for i, a := range to {
		m.Recipients = append(m.Recipients, message.Recipient{Seq: i, Address: a})
	}
	return m
}

type env struct {
	dns  *dnstest.Server
	sink *mailsink.Sink
}

func newEnv(t *testing.T, cfg mailsink.Config) *env {
	t.Helper()
	d, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	s, err := mailsink.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	for _, h := range []string{"mx1.test", "mx2.test", "mx3.test"} {
		d.SetA(h, loopback)
	}
	d.SetMX("a.test", dnstest.MX{Pref: 10, Host: "mx1.test"}, dnstest.MX{Pref: 20, Host: "mx2.test"})
	d.SetMX("b.test", dnstest.MX{Pref: 5, Host: "mx2.test"}, dnstest.MX{Pref: 50, Host: "mx1.test"})
	d.SetMX("c.test", dnstest.MX{Pref: 10, Host: "mx3.test"})
	d.SetA("plain.test", loopback) // no MX: the domain itself
	d.SetMX("nullmx.test", dnstest.MX{Pref: 0, Host: "."})
	return &env{dns: d, sink: s}
}

func (e *env) connector(t *testing.T, extra map[string]any) *smtpconn.Connector {
	t.Helper()
	set := map[string]any{"port": e.sink.Port(), "resolver": e.dns.Addr(), "heloName": "omnigate.test", "connectTimeout": "5s"}
	for k, v := range extra {
		set[k] = v
	}
	raw, _ := json.Marshal(set)
	c, err := smtpconn.New("mta", raw, composer, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(func() { c.Stop(context.Background()) })
	return c
}

func send(c *smtpconn.Connector, m *message.Message, seq int) (channel.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return c.Send(ctx, channel.Submission{Message: m, Recipient: &m.Recipients[seq]})
}

func mustSend(t *testing.T, c *smtpconn.Connector, m *message.Message, seq int) {
	t.Helper()
	res, err := send(c, m, seq)
	if err != nil {
		t.Fatalf("sending to %s: %v", m.Recipients[seq].Address, err)
	}
	if res.Status != message.Sent || len(res.PartIDs) != 1 || res.PartIDs[0] != fmt.Sprintf("%s.%d", m.ID, seq) {
		t.Fatalf("result %+v", res)
	}
}

func (e *env) inbox(t *testing.T, addr string) []*mail.Message {
	t.Helper()
	raws, err := e.sink.Mailbox(addr)
	if err != nil {
		t.Fatal(err)
	}
	var out []*mail.Message
	for _, raw := range raws {
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestMXDeliveryAndRollup(t *testing.T) {
	e := newEnv(t, mailsink.Config{})
	c := e.connector(t, nil)
	m := email("ann@a.test", "bob@B.test", "cid@c.test", "dan@plain.test")
	for i := range m.Recipients {
		mustSend(t, c, m, i)
	}
	for i, a := range []string{"ann@a.test", "bob@b.test", "cid@c.test", "dan@plain.test"} {
		got := e.inbox(t, a)
		if len(got) != 1 || got[0].Header.Get("Message-Id") != fmt.Sprintf("<%s.%d@omnigate.test>", m.ID, i) ||
			got[0].Header.Get("Return-Path") != "<sender@omnigate.test>" {
			t.Fatalf("%s has %d messages", a, len(got))
		}
	}
	// a.test and b.test are served by the same MX hosts (in other
	// preferences): one queue. c.test and plain.test have their own.
	qs := c.Queues()
	if len(qs) != 3 {
		t.Fatalf("queues %+v", qs)
	}
	want := map[string]string{"mx:mx1.test,mx2.test": "a.test,b.test", "mx:mx3.test": "c.test", "mx:plain.test": "plain.test"}
	for _, q := range qs {
		if want[q.Key] != strings.Join(q.Domains, ",") {
			t.Fatalf("queue %s has domains %v", q.Key, q.Domains)
		}
	}
	if qs[0].Key != "mx:mx1.test,mx2.test" || qs[0].Sent != 2 || qs[0].Open > 5 {
		t.Fatalf("shared queue %+v", qs[0])
	}
}

func TestPermanentDestinations(t *testing.T) {
	e := newEnv(t, mailsink.Config{})
	c := e.connector(t, nil)
	for addr, code := range map[string]int{"x@nullmx.test": smtpconn.CodeNullMX, "x@nowhere.test": smtpconn.CodeNoDomain,
		"bounce@a.test": 5550, "full@a.test": 5552, "blocked@a.test": 5554} {
		m := email(addr)
		_, err := send(c, m, 0)
		var pe *channel.PermanentError
		if !errors.As(err, &pe) || pe.Code != code {
			t.Errorf("%s: %v, want a permanent %d", addr, err, code)
		}
		if addr == "bounce@a.test" && !strings.Contains(pe.Reason, "550 5.1.1") {
			t.Errorf("reason %q", pe.Reason)
		}
	}
	if n := e.sink.Stats().Delivered; n != 0 {
		t.Fatalf("%d delivered", n)
	}
}

func TestDeferThenAccept(t *testing.T) {
	e := newEnv(t, mailsink.Config{DeferTimes: 2})
	c := e.connector(t, nil)
	m := email("defer@a.test")
	for i := 0; i < 2; i++ {
		_, err := send(c, m, 0)
		var te *channel.TemporaryError
		if !errors.As(err, &te) || !strings.Contains(te.Reason, "451") {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	mustSend(t, c, m, 0)
	if len(e.inbox(t, "defer@a.test")) != 1 {
		t.Fatal("not delivered after the deferrals")
	}
	// Past retryFor, a 4xx fails the recipient.
	old := email("defer-late@a.test")
	old.CreatedAt = time.Now().Add(-6 * 24 * time.Hour)
	_, err := send(c, old, 0)
	var pe *channel.PermanentError
	if !errors.As(err, &pe) || pe.Code != 5451 || !strings.Contains(pe.Reason, "gave up") {
		t.Fatalf("past retryFor: %v", err)
	}
}

func TestConnectionReuse(t *testing.T) {
	e := newEnv(t, mailsink.Config{})
	c := e.connector(t, map[string]any{"messagesPerConnection": 3})
	m := email("a1@a.test", "a2@b.test", "a3@a.test", "a4@a.test", "a5@b.test", "bounce@a.test", "a6@a.test")
	for i := range m.Recipients {
		if m.Recipients[i].Address == "bounce@a.test" {
			send(c, m, i) // a refusal keeps the connection
			continue
		}
		mustSend(t, c, m, i)
	}
	st := e.sink.Stats()
	if st.Connections != 2 || st.MaxPerConn != 3 || st.Delivered != 6 {
		t.Fatalf("stats %+v: want 2 connections of at most 3 messages", st)
	}
}

// A non-ASCII address (RFC 6531) goes with SMTPUTF8 to a server that
// offers it (the sink refuses one without), and fails at once, naming why,
// where it is not offered: in the envelope, or only in the header (RFC
// 6532). It is not a bounce, and the connection stays for the next
// message.
func TestSMTPUTF8(t *testing.T) {
	e := newEnv(t, mailsink.Config{})
	c := e.connector(t, nil)
	mustSend(t, c, email("jörg@a.test"), 0)
	if got := e.inbox(t, "jörg@a.test"); len(got) != 1 || got[0].Header.Get("To") != "<jörg@a.test>" {
		t.Fatalf("jörg's inbox: %v", got)
	}

	plain := newEnv(t, mailsink.Config{NoSMTPUTF8: true})
	pc := plain.connector(t, nil)
	mustSend(t, pc, email("ann@a.test"), 0)
	authored := email("ann@a.test")
	authored.Content.Email.To = []message.Mailbox{{Name: "Jörg", Address: "jörg@b.test"}, {Address: "ann@a.test"}}
	for _, m := range []*message.Message{email("jörg@a.test"), authored} {
		_, err := send(pc, m, 0)
		var pe *channel.PermanentError
		if !errors.As(err, &pe) || pe.Code != smtpconn.CodeNoSMTPUTF8 || !strings.HasPrefix(pe.Reason, "553 5.6.7 ") {
			t.Errorf("to %s, To %v: %v, want a permanent %d", m.Recipients[0].Address, m.Content.Email.To, err, smtpconn.CodeNoSMTPUTF8)
		}
	}
	mustSend(t, pc, email("bob@a.test"), 0)
	if st := plain.sink.Stats(); st.Connections != 1 || st.Delivered != 2 || st.Refused != 0 {
		t.Fatalf("stats %+v: want one connection, two delivered, nothing refused by the server", st)
	}
}

// A message over the server's SIZE fails at once, before MAIL, and the
// connection stays for the next message.
func TestOverSize(t *testing.T) {
	e := newEnv(t, mailsink.Config{MaxMessageBytes: 4000})
	c := e.connector(t, nil)
	mustSend(t, c, email("ann@a.test"), 0)
	big := email("bob@a.test")
	big.Body = strings.Repeat("x", 5000)
	_, err := send(c, big, 0)
	var pe *channel.PermanentError
	if !errors.As(err, &pe) || pe.Code != smtpconn.CodeTooLarge || !strings.HasPrefix(pe.Reason, "552 5.3.4 ") {
		t.Fatalf("over SIZE: %v, want a permanent %d", err, smtpconn.CodeTooLarge)
	}
	mustSend(t, c, email("cid@a.test"), 0)
	if st := e.sink.Stats(); st.Connections != 1 || st.Delivered != 2 {
		t.Fatalf("stats %+v: want one connection, two delivered", st)
	}
}

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx1.test"},
		DNSNames: []string{"mx1.test", "mx2.test", "mx3.test"}, IPAddresses: []net.IP{loopback},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func TestSTARTTLS(t *testing.T) {
	e := newEnv(t, mailsink.Config{TLS: selfSigned(t)})
	// Opportunistic: the self-signed certificate is taken.
	c := e.connector(t, nil)
	mustSend(t, c, email("ann@a.test"), 0)
	if st := e.sink.Stats(); st.TLS != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Required: an unverifiable certificate is a temporary failure.
	req := e.connector(t, map[string]any{"tls": "required"})
	_, err := send(req, email("bob@a.test"), 0)
	var te *channel.TemporaryError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("required TLS with a self-signed certificate: %v", err)
	}
	// Off: plain text.
	off := e.connector(t, map[string]any{"tls": "off"})
	mustSend(t, off, email("cid@a.test"), 0)
	if st := e.sink.Stats(); st.TLS != 1 || st.Delivered != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRelayWithAuth(t *testing.T) {
	e := newEnv(t, mailsink.Config{TLS: selfSigned(t), Users: map[string]string{"omnigate": "s3cret"}})
	c := e.connector(t, map[string]any{"relay": e.sink.Addr(), "username": "omnigate", "password": "s3cret"})
	// The relay takes mail for any domain, even one without DNS.
	mustSend(t, c, email("ann@elsewhere.example"), 0)
	if got := e.inbox(t, "ann@elsewhere.example"); len(got) != 1 {
		t.Fatal("not relayed")
	}
	if qs := c.Queues(); len(qs) != 1 || qs[0].Key != "relay:"+e.sink.Addr() {
		t.Fatalf("queues %+v", qs)
	}
	bad := e.connector(t, map[string]any{"relay": e.sink.Addr(), "username": "omnigate", "password": "wrong"})
	_, err := send(bad, email("bob@elsewhere.example"), 0)
	var te *channel.TemporaryError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "535") {
		t.Fatalf("wrong password: %v", err)
	}
	// Without a user the relay refuses MAIL (go-smtp answers 502 5.7.0): permanent.
	anon := e.connector(t, map[string]any{"relay": e.sink.Addr()})
	_, err = send(anon, email("cid@elsewhere.example"), 0)
	var pe *channel.PermanentError
	if !errors.As(err, &pe) || pe.Code != 5502 {
		t.Fatalf("no AUTH: %v", err)
	}
}

func TestCheck(t *testing.T) {
	for _, s := range []string{`{"relay":"nohost"}`, `{"username":"u","password":"p"}`, `{"relay":"h:25","username":"u"}`,
		`{"relay":"h:25","username":"u","password":"p","tls":"off"}`, `{"tls":"maybe"}`, `{"port":70000}`,
		`{"retryFor":"-1h"}`, `{"retryFor":5}`, `{"maxConnections":-1}`, `{"unknown":1}`, `{"resolver":"x"}`, `{"heloName":"a b"}`, `nope`} {
		if err := smtpconn.Check([]byte(s)); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
	for _, s := range []string{`{}`, `{"relay":"smtp.example.com:587","username":"u","password":"p","tls":"required"}`,
		`{"port":2525,"resolver":"127.0.0.1:53","retryFor":"72h","ratePerSecond":10,"maxConnections":2}`} {
		if err := smtpconn.Check([]byte(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// Servers that speak garbage, close at once or mid-session, or never
// answer: every send is a temporary failure, nothing crashes.
func TestBadServers(t *testing.T) {
	behaviours := map[string]func(net.Conn){
		"garbage": func(c net.Conn) { c.Write([]byte("\x00\xff garbage without a code\r\nmore\r\n")) },
		"close":   func(c net.Conn) {},
		"close after EHLO": func(c net.Conn) {
			c.Write([]byte("220 hi\r\n"))
			bufio.NewReader(c).ReadString('\n')
		},
		"554 greeting": func(c net.Conn) { c.Write([]byte("554 no service\r\n")) },
		"close in DATA": func(c net.Conn) {
			r := bufio.NewReader(c)
			c.Write([]byte("220 hi\r\n"))
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				switch {
				case strings.HasPrefix(line, "EHLO"):
					c.Write([]byte("250-hi\r\n250 SIZE\r\n"))
				case strings.HasPrefix(line, "DATA"):
					c.Write([]byte("354 go\r\n"))
					return
				default:
					c.Write([]byte("250 ok\r\n"))
				}
			}
		},
		"huge multiline": func(c net.Conn) {
			c.Write([]byte("220-" + strings.Repeat("x", 100000) + "\r\n220 ok\r\n"))
			r := bufio.NewReader(c)
			r.ReadString('\n')
			c.Write([]byte("250-" + strings.Repeat("y", 5000) + "\r\n251 wrong code\r\n"))
		},
	}
	for name, behave := range behaviours {
		t.Run(name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					go func() { defer c.Close(); behave(c) }()
				}
			}()
			c := (&env{}).bare(t, map[string]any{"relay": l.Addr().String(), "connectTimeout": "2s"})
			_, err = send(c, email("ann@a.test"), 0)
			var te *channel.TemporaryError
			if !errors.As(err, &te) {
				t.Fatalf("%v, want a temporary error", err)
			}
		})
	}
	// Nothing listening.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c := (&env{}).bare(t, map[string]any{"relay": addr})
	if _, err := send(c, email("ann@a.test"), 0); !channel.IsTemporary(err) {
		t.Fatalf("connection refused: %v", err)
	}
}

func (e *env) bare(t *testing.T, set map[string]any) *smtpconn.Connector {
	raw, _ := json.Marshal(set)
	c, err := smtpconn.New("mta", raw, composer, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(func() { c.Stop(context.Background()) })
	return c
}

// The sink's asynchronous bounces and complaints reach the report address
// as RFC 3464 and RFC 5965 reports.
func TestSinkReports(t *testing.T) {
	reports, err := mailsink.Start(mailsink.Config{Dir: t.TempDir(), Hostname: "bounces.omnigate.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer reports.Stop()
	e := newEnv(t, mailsink.Config{ReportRelay: reports.Addr(), FeedbackTo: "fbl@omnigate.test"})
	c := e.connector(t, nil)
	mustSend(t, c, email("asyncbounce@a.test", "complain@b.test"), 0)
	mustSend(t, c, email("asyncbounce@a.test", "complain@b.test"), 1)
	e.sink.Stop() // waits for the reports in flight
	for addr, want := range map[string]string{"sender@omnigate.test": "delivery-status", "fbl@omnigate.test": "feedback-report"} {
		raws, err := reports.Mailbox(addr)
		if err != nil || len(raws) != 1 {
			t.Fatalf("%s: %d reports (%v), stats %+v", addr, len(raws), err, e.sink.Stats())
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raws[0]))
		if err != nil {
			t.Fatal(err)
		}
		mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/report" || params["report-type"] != want {
			t.Fatalf("%s: %s %v", addr, mt, params)
		}
		if want == "delivery-status" && (msg.Header.Get("Return-Path") != "<>" || !bytes.Contains(raws[0], []byte("Status: 5.1.1"))) {
			t.Fatalf("DSN %s", raws[0])
		}
		if want == "feedback-report" && !bytes.Contains(raws[0], []byte("Feedback-Type: abuse")) {
			t.Fatalf("ARF %s", raws[0])
		}
	}
}

// BenchmarkSendToSink: compose and deliver over loopback SMTP (reused
// connections, up to 5 per destination) into the sink's maildir.
func BenchmarkSendToSink(b *testing.B) {
	d, err := dnstest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	sink, err := mailsink.Start(mailsink.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Stop()
	d.SetMX("a.test", dnstest.MX{Pref: 10, Host: "mx1.test"})
	d.SetA("mx1.test", loopback)
	raw, _ := json.Marshal(map[string]any{"port": sink.Port(), "resolver": d.Addr(), "heloName": "omnigate.test", "messagesPerConnection": 1000})
	c, err := smtpconn.New("mta", raw, composer, nil)
	if err != nil {
		b.Fatal(err)
	}
	c.Start()
	defer c.Stop(context.Background())
	m := email("ann@a.test")
	m.Body = strings.Repeat("A line of a typical transactional email, about seventy characters.\n", 70) // ~5 KiB
	b.ReportAllocs()
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := send(c, m, 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
