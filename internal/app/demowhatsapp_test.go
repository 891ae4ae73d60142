package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"
)

// The demo sends WhatsApp as a new user would: the banner's /v1/send from
// the demo account's WhatsApp channel reaches the built-in Cloud API
// simulator, whose handset reads it: the message ends "read".
func TestDemoWhatsApp(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		var banner bytes.Buffer
		s.app.PrintDemo(&banner)
		if !strings.Contains(banner.String(), `"from":"`+s.app.demoWhatsAppChannel+`"`) {
			t.Fatalf("banner: %s", banner.String())
		}
		// The demo's handset writes in as the server starts (through the
		// simulator): its 24-hour window is open once that is stored.
		waitFor(t, "the demo handset's message", 15*time.Second, func() bool {
			last, err := s.app.store.LastInbound(context.Background(), s.app.Demo.ID, "whatsapp", []string{DemoHandset})
			return err == nil && !last[DemoHandset].IsZero()
		})
		r := s.sendEmail(s.app.Demo.Key, map[string]any{"to": "+31612345678", "from": s.app.demoWhatsAppChannel, "type": "text",
			"content": map[string]any{"text": "Hello from omnigate"}})
		if r.status != 202 {
			t.Fatalf("send: %d %s", r.status, r.raw)
		}
		id := r.json["id"].(string)
		waitFor(t, "the message read", 15*time.Second, func() bool {
			g := s.do("GET", "/v1/messages/"+id, s.app.Demo.Key, "", nil)
			return g.status == 200 && g.json["status"] == "read" && g.json["platform"] == "whatsapp"
		})
	})
}

// Served over TLS with a self-signed certificate, the demo's simulator
// still reaches the server: its webhooks trust exactly the server's own
// certificate (the demo handset's first message is stored).
func TestDemoWhatsAppOverTLS(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t, t.TempDir())
	s := start(t, "sqlite", func(c *Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	if !strings.HasPrefix(s.app.DemoWhatsApp().WebhookURL(), "https://") {
		t.Fatalf("webhook %s", s.app.DemoWhatsApp().WebhookURL())
	}
	waitFor(t, "the demo handset's message over https", 15*time.Second, func() bool {
		last, err := s.app.store.LastInbound(context.Background(), s.app.Demo.ID, "whatsapp", []string{DemoHandset})
		return err == nil && !last[DemoHandset].IsZero()
	})
	// The pin holds that certificate alone.
	mine, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	otherCert, otherKey, _ := selfSigned(t, t.TempDir())
	other, err := tls.LoadX509KeyPair(otherCert, otherKey)
	if err != nil {
		t.Fatal(err)
	}
	check := pinned(mine).VerifyPeerCertificate
	if check([][]byte{mine.Certificate[0]}, nil) != nil || check([][]byte{other.Certificate[0]}, nil) == nil || check(nil, nil) == nil {
		t.Fatal("the pin takes another certificate, or refuses the server's own")
	}
}
