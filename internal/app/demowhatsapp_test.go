package app

import (
	"bytes"
	"context"
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
