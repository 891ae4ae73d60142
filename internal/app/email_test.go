package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	msgauth "github.com/emersion/go-msgauth/dkim"
	"github.com/omnigate/omnigate/internal/email/dkim"
	"github.com/omnigate/omnigate/internal/email/verp"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/mailsink"
	"github.com/omnigate/omnigate/internal/mailsink/dnstest"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// An email goes through the pipeline like an SMS: an smtp connector and a
// route for the email channel carry it, via the MX the test DNS server
// names, to the mail sink's maildir. The recipient is sent when the sink
// answers 250 and delivered once no bounce came within the settle window;
// a recipient the sink refuses with 550 fails with 5550 and the answer.
func TestEmailThroughThePipeline(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		dns, err := dnstest.Start()
		if err != nil {
			t.Fatal(err)
		}
		defer dns.Close()
		sink, err := mailsink.Start(mailsink.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Stop()
		dns.SetMX("example.test", dnstest.MX{Pref: 10, Host: "mx.example.test"})
		dns.SetA("mx.example.test", net.ParseIP("127.0.0.1"))

		s := start(t, engine, func(c *Config) {
			c.EmailSettle = time.Second
			c.MaintenanceEvery = 20 * time.Millisecond
		})
		ctx := context.Background()
		settings, _ := json.Marshal(map[string]any{"port": sink.Port(), "resolver": dns.Addr(), "heloName": "omnigate.test"})
		if err := s.app.store.SaveConnector(ctx, store.ConnectorConfig{Name: "mta", Kind: "smtp", Settings: settings,
			Enabled: true, UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.app.store.AddRoute(ctx, &store.Route{Channel: message.ChannelEmail, Pattern: destination.Pattern{Domain: "example.test"},
			Connectors: []string{"mta"}, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.app.connectors.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		dom := verifiedEmailDomain(t, s.app.store, s.accountID, "omnigate.test")
		m := &message.Message{AccountID: s.accountID, Channel: message.ChannelEmail, Originator: "news@omnigate.test",
			Body: "Your order has shipped.", Content: &message.Content{Email: &message.Email{Subject: "Commande expédiée",
				FromName: "Shop", HTML: "<p>Your order has <b>shipped</b>.</p>"}},
			Recipients: []message.Recipient{{Address: "ann@example.test"}, {Address: "bounce@example.test"}}}
		if err := s.app.pipeline.Accept(ctx, m, pipeline.Options{}); err != nil {
			t.Fatal(err)
		}
		status := func(seq int) message.Recipient {
			got, err := s.app.store.GetMessage(ctx, s.accountID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Recipients[seq]
		}
		// Sent, then delivered once the settle window has passed. A test
		// stalled for longer than the window (CI under load) sees only the
		// second, so the window is checked on the status time.
		waitFor(t, "ann handed to the mta", 10*time.Second, func() bool {
			r := status(0)
			return r.Connector == "mta" && (r.Status == message.Sent || r.Status == message.Delivered)
		})
		waitFor(t, "ann delivered", 10*time.Second, func() bool { return status(0).Status == message.Delivered })
		if stored, err := s.app.store.GetMessage(ctx, s.accountID, m.ID); err != nil || stored.Recipients[0].StatusAt.Sub(stored.CreatedAt) < time.Second {
			t.Fatalf("ann delivered before the settle window: %+v, %v", stored, err)
		}
		waitFor(t, "bounce failed", 10*time.Second, func() bool { return status(1).Status == message.DeliveryFailed })
		if r := status(1); r.StatusErrorCode != 5550 || !bytes.Contains([]byte(r.StatusReason), []byte("550 5.1.1")) {
			t.Fatalf("refused recipient %+v", r)
		}
		raws, err := sink.Mailbox("ann@example.test")
		if err != nil || len(raws) != 1 {
			t.Fatalf("maildir: %d messages, %v", len(raws), err)
		}
		got, err := mail.ReadMessage(bytes.NewReader(raws[0]))
		if err != nil {
			t.Fatal(err)
		}
		// The return path names the message and recipient (VERP) at the
		// domain's bounces host.
		rp := got.Header.Get("Return-Path")
		local, host, _ := strings.Cut(strings.Trim(rp, "<>"), "@")
		if id, seq, ok := verp.Decode(s.app.VERPSecret(), local); !ok || id != m.ID || seq != 0 || host != "bounces.omnigate.test" {
			t.Fatalf("return path %q", rp)
		}
		if got.Header.Get("Message-Id") != fmt.Sprintf("<%s.0@omnigate.test>", m.ID) {
			t.Fatalf("headers %v", got.Header)
		}
		// Signed with the domain's key, checked by go-msgauth's verifier.
		record := dkim.DNSRecord(dom.Key.Public())
		vs, err := msgauth.VerifyWithOptions(bytes.NewReader(raws[0]), &msgauth.VerifyOptions{
			LookupTXT: func(name string) ([]string, error) {
				if name != dom.Selector+"._domainkey.omnigate.test" {
					return nil, fmt.Errorf("no record at %s", name)
				}
				return []string{record}, nil
			}})
		if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "omnigate.test" {
			t.Fatalf("DKIM: %v %+v", err, vs)
		}
		// A synchronous 550 5.1.1 is a hard bounce: the address is
		// suppressed on the email channel.
		sup, err := s.app.store.Suppressed(ctx, s.accountID, message.ChannelEmail, []string{"bounce@example.test"})
		if err != nil || sup["bounce@example.test"] != store.SuppressBounce {
			t.Fatalf("suppressed %v %v", sup, err)
		}
	})
}
