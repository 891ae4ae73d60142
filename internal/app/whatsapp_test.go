package app

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/chatsim"
	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// A WhatsApp message goes through the pipeline like an SMS: a whatsapp
// connector and a route carry it to the Cloud API simulator, whose signed
// webhooks, taken on the API server's /webhooks/whatsapp/{connector}, make
// the recipient sent, delivered, and then read (the "read" event) when the
// handset reads it through the simulator's control API.
func TestWhatsAppThroughThePipeline(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		sim, err := chatsim.Start(chatsim.Config{WebhookURL: s.url + "/webhooks/whatsapp/wa"})
		if err != nil {
			t.Fatal(err)
		}
		defer sim.Stop()
		ctx := context.Background()
		settings, _ := json.Marshal(map[string]any{"baseUrl": sim.URL() + "/v21.0", "phoneNumberId": "1055",
			"accessToken": "test-token", "appSecret": "test-secret", "verifyToken": "test-verify", "wabaId": "waba1"})
		if err := s.app.store.SaveConnector(ctx, store.ConnectorConfig{Name: "wa", Kind: "whatsapp", Settings: settings,
			Enabled: true, UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.app.store.AddRoute(ctx, &store.Route{Channel: message.ChannelWhatsApp, Pattern: destination.Pattern{Prefix: "966"},
			Connectors: []string{"wa"}, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.app.connectors.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if err := sim.Verify(ctx); err != nil {
			t.Fatalf("the hub.challenge handshake through the API server: %v", err)
		}
		handsetWrote(t, s, s.accountID, "966501234567")
		m := &message.Message{AccountID: s.accountID, Channel: message.ChannelWhatsApp, Originator: "966110000000",
			Body: "Your order A-17 has shipped.", Purpose: "transactional",
			Recipients: []message.Recipient{{Address: "+966501234567"}}}
		if err := s.app.pipeline.Accept(ctx, m, pipeline.Options{}); err != nil {
			t.Fatal(err)
		}
		get := func() message.Recipient {
			got, err := s.app.store.GetMessage(ctx, s.accountID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Recipients[0]
		}
		waitFor(t, "delivered", 10*time.Second, func() bool { return get().Status == message.Delivered })
		if r := get(); r.Connector != "wa" || r.PartCount != 1 {
			t.Errorf("recipient %+v", r)
		}
		sent := sim.Sent()
		if len(sent) != 1 || sent[0].To != "966501234567" || sent[0].Type != "text" {
			t.Fatalf("simulator got %+v", sent)
		}
		if err := sim.Read(sent[0].ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the read event", 10*time.Second, func() bool {
			evs, err := s.app.store.MessageEvents(ctx, s.accountID, []string{m.ID})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs[m.ID] {
				if e.Event == store.EventRead {
					return true
				}
			}
			return false
		})
		if r := get(); r.Status != message.Delivered {
			t.Errorf("after read: %s", r.Status)
		}
	})
}

// With --demo a WhatsApp message needs no connector: the built-in one
// carries it to the in-process simulator, and it reaches read.
func TestWhatsAppDemo(t *testing.T) {
	s := start(t, "sqlite")
	ctx := context.Background()
	handsetWrote(t, s, s.accountID, "31612345678")
	m := &message.Message{AccountID: s.accountID, Channel: message.ChannelWhatsApp, Originator: "100000000000001",
		Body: "Hello from the demo", Purpose: "transactional", Recipients: []message.Recipient{{Address: "31612345678"}}}
	if err := s.app.pipeline.Accept(ctx, m, pipeline.Options{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "read", 10*time.Second, func() bool {
		evs, err := s.app.store.MessageEvents(ctx, s.accountID, []string{m.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs[m.ID] {
			if e.Event == store.EventRead {
				return true
			}
		}
		return false
	})
	got, _ := s.app.store.GetMessage(ctx, s.accountID, m.ID)
	if r := got.Recipients[0]; r.Status != message.Delivered || r.Connector != DemoWhatsAppConnector {
		t.Errorf("recipient %+v", r)
	}
}
