package app

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// whatsAppPrices imports a WhatsApp price list (per conversation, by
// category and country) through the CSV the operator imports.
func whatsAppPrices(t *testing.T, s *server) {
	t.Helper()
	ps, err := billing.ParsePricesCSV(strings.NewReader(`channel,unit,country,prefix,currency,price
whatsapp,marketing,,,EUR,0.05
whatsapp,marketing,SA,,EUR,0.04
whatsapp,utility,,,EUR,0.02
whatsapp,utility,SA,,EUR,0.01
whatsapp,authentication,,,EUR,0.02
`), "", time.Now().UTC(), s.app.billing.Channels())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.app.store.UpsertPrices(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	s.app.billing.Pricer().Invalidate()
}

// waTemplate is a WhatsApp template message (category "" for none).
func waTemplate(accountID, to, category, purpose string) *message.Message {
	return &message.Message{AccountID: accountID, Channel: message.ChannelWhatsApp, Originator: "100000000000001", Type: "hsm",
		Purpose: purpose, Recipients: []message.Recipient{{Address: to}},
		Content: &message.Content{Template: &message.Template{Name: "hello_world", Language: "en_US", Category: category}}}
}

// WhatsApp is charged per 24-hour conversation by category and country:
// the first message of a category opens the conversation and pays its
// price, further ones in the window are free, a new window pays again,
// service conversations (free-form inside the user's window) are free by
// default; the ledger names the conversation; concurrent sends open one
// conversation; a cancelled message gives its conversation back.
func TestWhatsAppConversationBilling(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := billingServer(t, engine)
		ctx := context.Background()
		if r := s.do("GET", "/balance", s.key, "", nil); r.status != 200 {
			t.Fatalf("balance: %d %s", r.status, r.raw)
		}
		whatsAppPrices(t, s)
		const to = "966501234567"
		if err := s.app.store.AddConsents(ctx, []*store.Consent{{AccountID: s.accountID, Recipient: to, Purpose: "marketing",
			Action: store.OptIn, Source: store.SourceImport, CreatedAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		balance := func() int64 {
			a, err := s.app.store.GetAccount(ctx, s.accountID)
			if err != nil {
				t.Fatal(err)
			}
			return a.Balance
		}
		accept := func(m *message.Message) int64 {
			t.Helper()
			before := balance()
			if err := s.app.pipeline.Accept(ctx, m, pipeline.Options{}); err != nil {
				t.Fatal(err)
			}
			got, err := s.app.store.GetMessage(ctx, s.accountID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if paid := before - balance(); paid != got.Recipients[0].Price {
				t.Fatalf("balance moved %d, the recipient's price is %d", paid, got.Recipients[0].Price)
			}
			return got.Recipients[0].Price
		}
		// A test key's message shows the conversation's price and costs nothing.
		before := balance()
		test := waTemplate(s.accountID, to, "UTILITY", "transactional")
		if err := s.app.pipeline.Accept(ctx, test, pipeline.Options{Test: true}); err != nil {
			t.Fatal(err)
		}
		if test.Recipients[0].Price != 10000 || balance() != before {
			t.Fatalf("test message priced %d, balance moved %d", test.Recipients[0].Price, before-balance())
		}
		// A utility template to Saudi Arabia opens a utility conversation (0.01).
		first := waTemplate(s.accountID, to, "UTILITY", "transactional")
		if p := accept(first); p != 10000 {
			t.Fatalf("first utility message cost %d, want 10000 (0.01)", p)
		}
		// Within 24 hours, another utility message is free; a template
		// without a category and transactional purpose is utility too.
		if p := accept(waTemplate(s.accountID, to, "", "transactional")); p != 0 {
			t.Fatalf("second utility message cost %d, want 0", p)
		}
		// Marketing is another category: a conversation of its own.
		if p := accept(waTemplate(s.accountID, to, "", "marketing")); p != 40000 {
			t.Fatalf("marketing cost %d, want 40000", p)
		}
		// Free-form inside the window the handset opened: service, free
		// by default (no service row).
		handsetWrote(t, s, s.accountID, to)
		text := &message.Message{AccountID: s.accountID, Channel: message.ChannelWhatsApp, Originator: "100000000000001",
			Body: "Thanks, on its way", Purpose: "transactional", Recipients: []message.Recipient{{Address: to}}}
		if p := accept(text); p != 0 {
			t.Fatalf("service cost %d", p)
		}
		convs, err := s.app.store.BilledConversations(ctx, s.accountID, to)
		if err != nil {
			t.Fatal(err)
		}
		cats := map[string]store.BilledConversation{}
		for _, c := range convs {
			cats[c.Category] = c
		}
		if len(convs) != 3 || cats["utility"].MessageID != first.ID || cats["utility"].Price != 10000 || cats["utility"].Country != "SA" ||
			cats["service"].Price != 0 || !cats["utility"].ExpiresAt.Equal(cats["utility"].OpenedAt.Add(24*time.Hour)) {
			t.Fatalf("conversations %+v", convs)
		}
		// The ledger says which conversation a charge opened.
		entries, err := s.app.store.Ledger(ctx, s.accountID, 20, 0)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range entries {
			if e.Reference == first.ID {
				found = strings.Contains(e.Reason, "conversation "+cats["utility"].ID) && strings.Contains(e.Reason, "utility SA")
				if !found {
					t.Errorf("ledger reason %q", e.Reason)
				}
			}
		}
		if !found {
			t.Fatal("no ledger entry for the first message")
		}

		// A message scheduled past the window opens a new conversation and
		// pays again; cancelling it gives back the money and the
		// conversation, so the next message pays.
		later := waTemplate(s.accountID, to, "utility", "transactional")
		later.ScheduledAt = time.Now().Add(30 * time.Hour)
		if p := accept(later); p != 10000 {
			t.Fatalf("a new window cost %d, want 10000", p)
		}
		before = balance()
		if err := s.app.store.CancelScheduled(ctx, s.accountID, later.ID); err != nil {
			t.Fatal(err)
		}
		if back := balance() - before; back != 10000 {
			t.Fatalf("cancel gave back %d", back)
		}
		again := waTemplate(s.accountID, to, "utility", "transactional")
		again.ScheduledAt = time.Now().Add(30 * time.Hour)
		if p := accept(again); p != 10000 {
			t.Fatalf("after the cancel, the window cost %d, want 10000", p)
		}

		// An authentication template elsewhere: the catch-all row (0.02).
		other := "31612345600"
		if err := s.app.store.AddConsents(ctx, []*store.Consent{{AccountID: s.accountID, Recipient: other, Purpose: "transactional",
			Action: store.OptIn, Source: store.SourceImport, CreatedAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		// Concurrent sends open one conversation: 16 at once, one charge.
		before = balance()
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.app.pipeline.Accept(ctx, waTemplate(s.accountID, other, "authentication", "transactional"), pipeline.Options{})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if paid := before - balance(); paid != 20000 {
			t.Fatalf("16 concurrent messages paid %d, want one conversation (20000)", paid)
		}
		if sum, err := s.app.store.LedgerSum(ctx, s.accountID); err != nil || sum != balance() {
			t.Fatalf("ledger sum %d, balance %d (%v)", sum, balance(), err)
		}
	})
}
