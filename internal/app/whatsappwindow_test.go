package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// handsetWrote stores an inbound WhatsApp message from the number to the
// account, as the whatsapp connector's webhook does: the number's 24-hour
// window opens.
func handsetWrote(t testing.TB, s *server, accountID, number string) {
	t.Helper()
	m := &message.Message{AccountID: accountID, Channel: message.ChannelWhatsApp, Originator: number, Body: "Hi",
		Recipients: []message.Recipient{{Address: "100000000000001"}}}
	if err := s.app.pipeline.AcceptInbound(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// The platform enforces WhatsApp's 24-hour customer-service window: a
// free-form message goes only to recipients who wrote in the last 24 hours
// (others refused one by one, 4107); a template goes to anyone who opted
// in (others refused, 4108).
func TestWhatsAppSessionWindow(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		ctx := context.Background()
		// The server serves (its workers run) before messages go.
		if r := s.do("GET", "/balance", s.key, "", nil); r.status != 200 {
			t.Fatalf("balance: %d %s", r.status, r.raw)
		}
		text := func(to ...string) *message.Message {
			m := &message.Message{AccountID: s.accountID, Channel: message.ChannelWhatsApp, Originator: "100000000000001",
				Body: "Your order A-17 has shipped.", Purpose: "transactional"}
			for _, a := range to {
				m.Recipients = append(m.Recipients, message.Recipient{Address: a})
			}
			return m
		}
		refusedAs := func(err error, rule string) {
			t.Helper()
			var rej *compliance.Rejection
			if !errors.As(err, &rej) || rej.Decision.Rule != rule {
				t.Fatalf("want refused by %s, got %v", rule, err)
			}
		}
		// Nobody wrote: the free-form message is refused, naming the rule.
		refusedAs(s.app.pipeline.Accept(ctx, text("966501234567"), pipeline.Options{}), compliance.RuleWhatsAppWindow)

		// After the handset writes, it goes; a recipient who never wrote is
		// refused alone, uncharged, with 4107.
		handsetWrote(t, s, s.accountID, "966501234567")
		m := text("966501234567", "966509999999")
		if err := s.app.pipeline.Accept(ctx, m, pipeline.Options{}); err != nil {
			t.Fatal(err)
		}
		got, err := s.app.store.GetMessage(ctx, s.accountID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r := got.Recipients[0]; r.Status == message.DeliveryFailed {
			t.Errorf("inside the window: %+v", r)
		}
		if r := got.Recipients[1]; r.Status != message.DeliveryFailed || r.StatusErrorCode != 4107 || r.Price != 0 {
			t.Errorf("outside the window: %+v", r)
		}

		// Scheduled two days on, the window has closed by then.
		later := text("966501234567")
		later.ScheduledAt = time.Now().Add(48 * time.Hour)
		refusedAs(s.app.pipeline.Accept(ctx, later, pipeline.Options{}), compliance.RuleWhatsAppWindow)

		// A template needs no window, but the recipient's opt-in.
		hsm := func(to string) *message.Message {
			m := text(to)
			m.Body, m.Type = "", "hsm"
			m.Content = &message.Content{Template: &message.Template{Name: "order_shipped", Language: "en_US", Params: []string{"A-17"}}}
			return m
		}
		refusedAs(s.app.pipeline.Accept(ctx, hsm("966507777777"), pipeline.Options{}), compliance.RuleWhatsAppOptIn)
		if err := s.app.store.AddConsents(ctx, []*store.Consent{{AccountID: s.accountID, Recipient: "966507777777",
			Purpose: "transactional", Action: store.OptIn, Source: store.SourceImport, CreatedAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		if err := s.app.pipeline.Accept(ctx, hsm("966507777777"), pipeline.Options{}); err != nil {
			t.Fatalf("template with opt-in: %v", err)
		}
		// Two recipients, one opted in: the other is refused with 4108.
		two := hsm("966507777777")
		two.Recipients = append(two.Recipients, message.Recipient{Address: "966508888888"})
		if err := s.app.pipeline.Accept(ctx, two, pipeline.Options{}); err != nil {
			t.Fatal(err)
		}
		got, err = s.app.store.GetMessage(ctx, s.accountID, two.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r := got.Recipients[1]; r.Status != message.DeliveryFailed || r.StatusErrorCode != 4108 {
			t.Errorf("template without opt-in: %+v", r)
		}
	})
}
