package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// billedConversationBehaviours cover WhatsApp's billing per conversation
// (store.Accept.Conversations) and connector suspension.
var billedConversationBehaviours = []behaviour{
	{"ConversationOpenedOnce", testConversationOpenedOnce},
	{"ConversationNotOpenedWhenRefused", testConversationNotOpenedWhenRefused},
	{"SuspendConnector", testSuspendConnector},
}

// inConversation is a one-recipient message that opens (or continues) the
// utility conversation with to, priced price.
func inConversation(a *store.Account, to string, price int64, at time.Time) *store.Accept {
	m := newMessage(a, 1, func(m *message.Message) { m.Channel = message.ChannelWhatsApp })
	m.Recipients[0].Address, m.Recipients[0].Price, m.Recipients[0].PriceCurrency = to, price, "EUR"
	return &store.Accept{Message: m, Currency: "EUR", Units: 1, Conversations: []*store.ConversationCharge{{
		Recipient: 0, Channel: message.ChannelWhatsApp, Sender: "1055", Address: to, Category: "utility", Country: "SA",
		Price: price, OpenedAt: at, Window: 24 * time.Hour}}}
}

// Concurrent messages, and messages of one batch, open one conversation
// and pay once; one after the window opens another.
func testConversationOpenedOnce(t *testing.T, st store.Store) {
	a := newAccount(t, st) // 5 EUR
	now := time.Now().UTC()
	var wg sync.WaitGroup
	items := make([]*store.Accept, 20)
	for i := range items {
		items[i] = inConversation(a, "966500000001", 100_000, now)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := st.AcceptCharged(ctx, []*store.Accept{items[i]}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	opened, id := 0, ""
	for _, it := range items {
		if it.Err != nil {
			t.Fatal(it.Err)
		}
		c := it.Conversations[0]
		if id == "" {
			id = c.ID
		}
		if c.ID != id {
			t.Fatalf("two conversations: %s and %s", id, c.ID)
		}
		if c.Opened {
			opened++
			if it.Charge != 100_000 || it.Message.Recipients[0].Price != 100_000 {
				t.Fatalf("the opener was charged %d (recipient %d)", it.Charge, it.Message.Recipients[0].Price)
			}
		} else if it.Charge != 0 || it.Message.Recipients[0].Price != 0 {
			t.Fatalf("a message in the open conversation was charged %d", it.Charge)
		}
	}
	if opened != 1 {
		t.Fatalf("%d messages opened the conversation, want 1", opened)
	}
	if b := checkLedger(t, st, a.ID); b != 4_900_000 {
		t.Fatalf("balance %d, want 4.9 EUR", b)
	}
	// One batch: the first item opens a new key's conversation, the second continues it.
	one, two := inConversation(a, "966500000002", 100_000, now), inConversation(a, "966500000002", 100_000, now)
	if err := st.AcceptCharged(ctx, []*store.Accept{one, two}); err != nil {
		t.Fatal(err)
	}
	if !one.Conversations[0].Opened || two.Conversations[0].Opened || two.Conversations[0].ID != one.Conversations[0].ID {
		t.Fatalf("batch: %+v %+v", one.Conversations[0], two.Conversations[0])
	}
	// After 24 hours the key opens again.
	later := inConversation(a, "966500000001", 100_000, now.Add(25*time.Hour))
	if err := st.AcceptCharged(ctx, []*store.Accept{later}); err != nil || later.Err != nil {
		t.Fatal(err, later.Err)
	}
	if !later.Conversations[0].Opened || later.Conversations[0].ID == id {
		t.Fatalf("after the window: %+v", later.Conversations[0])
	}
	cs, err := st.BilledConversations(ctx, a.ID, "966500000001")
	if err != nil || len(cs) != 1 || cs[0].ID != later.Conversations[0].ID || cs[0].MessageID != later.Message.ID ||
		!cs[0].ExpiresAt.Equal(now.Add(49*time.Hour).Truncate(time.Microsecond)) {
		t.Fatalf("conversations %+v %v", cs, err)
	}
	entries, _ := st.Ledger(ctx, a.ID, 1, 0)
	if want := "message; opened whatsapp conversation " + later.Conversations[0].ID + " (utility SA)"; entries[0].Reason != want {
		t.Fatalf("ledger reason %q, want %q", entries[0].Reason, want)
	}
}

// A message refused for its balance opens nothing: the next one opens the
// conversation and pays.
func testConversationNotOpenedWhenRefused(t *testing.T, st store.Store) {
	a := newAccount(t, st) // 5 EUR
	now := time.Now().UTC()
	// Alone, and in a batch that cannot be charged together.
	poor := inConversation(a, "966500000003", 6_000_000, now)
	if err := st.AcceptCharged(ctx, []*store.Accept{poor}); err != nil || !errors.Is(poor.Err, store.ErrInsufficientBalance) {
		t.Fatalf("%v %v", err, poor.Err)
	}
	big, small := inConversation(a, "966500000004", 6_000_000, now), inConversation(a, "966500000004", 1_000_000, now)
	if err := st.AcceptCharged(ctx, []*store.Accept{big, small}); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(big.Err, store.ErrInsufficientBalance) || small.Err != nil || !small.Conversations[0].Opened || small.Charge != 1_000_000 {
		t.Fatalf("big %v %+v, small %v %+v charge %d", big.Err, big.Conversations[0], small.Err, small.Conversations[0], small.Charge)
	}
	if b := checkLedger(t, st, a.ID); b != 4_000_000 {
		t.Fatalf("balance %d, want 4 EUR", b)
	}
	if cs, _ := st.BilledConversations(ctx, a.ID, "966500000003"); len(cs) != 0 {
		t.Fatalf("a refused message opened %+v", cs)
	}
}

// Suspending a connector is recorded once, with its notices in the same
// transaction; activating it clears it.
func testSuspendConnector(t *testing.T, st store.Store) {
	if err := st.SaveConnector(ctx, store.ConnectorConfig{Name: "wa", Kind: "whatsapp", Settings: []byte(`{}`), Enabled: true, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	before, _ := st.QueueStats(ctx)
	notice := &store.Job{Kind: store.JobAlert, AccountID: "acct", Payload: []byte(`{"type":"channel.suspended"}`), RunAt: time.Now(), CreatedAt: time.Now()}
	for i, want := range []bool{true, false} {
		changed, err := st.SuspendConnector(ctx, "wa", "Business account locked", 131031, time.Now(), []*store.Job{notice})
		if err != nil || changed != want {
			t.Fatalf("suspend #%d: %v %v", i+1, changed, err)
		}
	}
	after, _ := st.QueueStats(ctx)
	if after.Depth[store.JobAlert]-before.Depth[store.JobAlert] != 1 {
		t.Fatalf("notices enqueued: %d, want 1", after.Depth[store.JobAlert]-before.Depth[store.JobAlert])
	}
	cs, _ := st.ListConnectors(ctx)
	var got store.ConnectorConfig
	for _, c := range cs {
		if c.Name == "wa" {
			got = c
		}
	}
	if got.Suspended != "Business account locked" || got.SuspendedCode != 131031 || got.SuspendedAt.IsZero() {
		t.Fatalf("connector %+v", got)
	}
	if changed, err := st.SuspendConnector(ctx, "wa", "", 0, time.Now(), nil); err != nil || !changed {
		t.Fatalf("activate: %v %v", changed, err)
	}
	if _, err := st.SuspendConnector(ctx, "nope", "x", 1, time.Now(), nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown connector: %v", err)
	}
}
