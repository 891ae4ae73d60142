package app

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/compliance/keywords"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// handsetSays makes a handset write to the demo's business number through
// the simulator's control API (POST /_control/reply).
func handsetSays(t *testing.T, s *server, from, text string) {
	t.Helper()
	body := `{"from":"` + from + `","phoneNumberId":"` + demoWhatsAppNumberID + `","text":"` + text + `"}`
	resp, err := http.Post(s.app.DemoWhatsApp().URL()+"/_control/reply", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("control reply: %d", resp.StatusCode)
	}
}

// STOP sent over WhatsApp (here in Arabic, توقف, from a Saudi handset,
// through the simulator's control API) opts the number out of WhatsApp
// only: the consent entry is for the whatsapp channel, the confirmation
// goes back on WhatsApp in Arabic, a later WhatsApp message is refused by
// the suppression rule, and SMS still goes. START over WhatsApp lifts it.
func TestWhatsAppStop(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		ctx := context.Background()
		if r := s.do("GET", "/balance", s.key, "", nil); r.status != 200 {
			t.Fatalf("balance: %d %s", r.status, r.raw)
		}
		const from = "966501234567"
		demo := s.app.Demo.ID // the demo account has the simulator's business number
		if err := s.app.store.AddConsents(ctx, []*store.Consent{{AccountID: demo, Recipient: from, Purpose: "marketing",
			Action: store.OptIn, Source: store.SourceImport, CreatedAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		template := func() *message.Message {
			return waTemplate(demo, from, "marketing", "marketing")
		}
		latest := func() store.Consent {
			cs, err := s.app.store.Consents(ctx, demo, from)
			if err != nil || len(cs) == 0 {
				t.Fatalf("consents %v %v", cs, err)
			}
			return cs[len(cs)-1]
		}
		handsetSays(t, s, from, "توقف")
		waitFor(t, "the opt-out recorded", 10*time.Second, func() bool { return latest().Action == store.OptOut })
		if c := latest(); c.Channel != message.ChannelWhatsApp || c.Source != store.SourceKeyword || c.Evidence["language"] != "ar" {
			t.Fatalf("consent %+v", c)
		}
		// The confirmation, on WhatsApp, in Arabic, to the handset.
		want := keywords.Confirmation(keywords.OptOut, "ar")
		waitFor(t, "the confirmation sent on WhatsApp", 10*time.Second, func() bool {
			for _, m := range s.app.DemoWhatsApp().Sent() {
				if m.To == from && m.Type == "text" && strings.Contains(string(m.Body), want) {
					return true
				}
			}
			return false
		})
		// WhatsApp is refused now: marketing by the consent rule (the
		// latest WhatsApp entry is the opt-out), anything else by the
		// suppression.
		for purpose, rule := range map[string]string{"marketing": "consent.opt_in", "transactional": "suppression"} {
			m := template()
			m.Purpose = purpose
			err := s.app.pipeline.Accept(ctx, m, pipeline.Options{})
			var rej *compliance.Rejection
			if !errors.As(err, &rej) || rej.Decision.Rule != rule {
				t.Fatalf("a %s WhatsApp template after STOP: %v, want %s", purpose, err, rule)
			}
		}
		for ch, want := range map[string]int{message.ChannelSMS: 0, message.ChannelWhatsApp: 1} {
			sup, err := s.app.store.Suppressions(ctx, demo, store.SuppressionFilter{Channel: ch, Prefix: from})
			if err != nil || len(sup) != want {
				t.Fatalf("%s suppressions after a WhatsApp STOP: %+v %v", ch, sup, err)
			}
		}
		// SMS still goes: an SMS to the number is accepted and not refused.
		s.approveSenders(demo)
		s.app.compliance.Invalidate(demo)
		sms := s.postJSON(s.app.Demo.Key, map[string]any{"originator": "Shop", "recipients": from, "body": "Your parcel is at the door"})
		if sms.status != 201 || items(sms.json)[0]["status"] == "delivery_failed" {
			t.Fatalf("SMS after a WhatsApp STOP: %d %s", sms.status, sms.raw)
		}
		// START over WhatsApp opts back in to WhatsApp.
		handsetSays(t, s, from, "START")
		waitFor(t, "the opt-in recorded", 10*time.Second, func() bool { return latest().Action == store.OptIn })
		if err := s.app.pipeline.Accept(ctx, template(), pipeline.Options{}); err != nil {
			t.Fatalf("a WhatsApp template after START: %v", err)
		}
	})
}
