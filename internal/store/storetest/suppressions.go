package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

var suppressionBehaviours = []behaviour{
	{"SuppressionsByChannel", testSuppressionsByChannel},
	{"SuppressionImportAndRemovals", testSuppressionImportAndRemovals},
}

// One address may be suppressed on one channel and not another; email
// addresses match whatever their case; the engine's screening reads the
// message's channel only.
func testSuppressionsByChannel(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	t0 := time.Now().UTC().Add(-time.Hour)
	for _, sp := range []store.Suppression{
		{Channel: "sms", Recipient: "31612345678", Reason: store.SuppressManual, CreatedAt: t0},
		{Channel: "email", Recipient: "Ann.Smith@Example.COM", Reason: store.SuppressBounce, Actor: "bounce", CreatedAt: t0.Add(time.Minute)},
		{Channel: "whatsapp", Recipient: "31612345678", Reason: store.SuppressComplaint, CreatedAt: t0.Add(2 * time.Minute)},
	} {
		if err := st.AddSuppression(ctx, a.ID, sp); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := st.Suppressed(ctx, a.ID, "email", []string{"ann.smith@example.com", "ANN.SMITH@EXAMPLE.COM", "bob@example.com"}); err != nil ||
		len(got) != 2 || got["ANN.SMITH@EXAMPLE.COM"] != store.SuppressBounce {
		t.Fatalf("email suppressed %v, %v", got, err)
	}
	if got, _ := st.Suppressed(ctx, a.ID, "sms", []string{"31612345678", "ann.smith@example.com"}); len(got) != 1 || got["31612345678"] != "manual" {
		t.Fatalf("sms suppressed %v", got)
	}
	if got, _ := st.Suppressed(ctx, a.ID, "voice", []string{"31612345678"}); len(got) != 0 {
		t.Fatalf("another channel suppressed %v", got)
	}
	sc, err := st.Screen(ctx, a.ID, "email", []string{"Ann.Smith@example.com", "31612345678"}, false, time.Time{})
	if err != nil || len(sc.Suppressed) != 1 || sc.Suppressed["Ann.Smith@example.com"] != store.SuppressBounce {
		t.Fatalf("email screening %v, %v", sc, err)
	}
	// An email address's opt-out suppresses email, a number's SMS.
	if err := st.AddConsents(ctx, []*store.Consent{
		{AccountID: a.ID, Recipient: "carl@example.com", Purpose: "marketing", Action: store.OptOut, Source: store.SourceAPI,
			CreatedAt: time.Now().UTC().Add(-2 * time.Second)},
		{AccountID: a.ID, Recipient: "31600000001", Purpose: "marketing", Action: store.OptOut, Source: store.SourceKeyword,
			CreatedAt: time.Now().UTC().Add(-time.Second)},
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Suppressed(ctx, a.ID, "email", []string{"carl@example.com"}); got["carl@example.com"] != store.OptOut {
		t.Fatalf("email opt-out %v", got)
	}
	if got, _ := st.Suppressed(ctx, a.ID, "sms", []string{"31600000001", "carl@example.com"}); len(got) != 1 || got["31600000001"] != store.OptOut {
		t.Fatalf("sms opt-out %v", got)
	}
	// Adding again keeps the first reason.
	st.AddSuppression(ctx, a.ID, store.Suppression{Channel: "email", Recipient: "ann.smith@example.com", Reason: store.SuppressManual})
	if got, _ := st.Suppressed(ctx, a.ID, "email", []string{"ann.smith@example.com"}); got["ann.smith@example.com"] != store.SuppressBounce {
		t.Fatalf("re-adding changed the reason: %v", got)
	}

	all, err := st.Suppressions(ctx, a.ID, store.SuppressionFilter{})
	if err != nil || len(all) != 5 {
		t.Fatalf("all %+v, %v", all, err)
	}
	for _, c := range []struct {
		f    store.SuppressionFilter
		want []string
	}{
		{store.SuppressionFilter{Channel: "email"}, []string{"carl@example.com", "ann.smith@example.com"}},
		{store.SuppressionFilter{Reason: store.OptOut}, []string{"31600000001", "carl@example.com"}},
		{store.SuppressionFilter{Contains: "SMITH"}, []string{"ann.smith@example.com"}},
		{store.SuppressionFilter{Prefix: "316"}, []string{"31600000001", "31612345678", "31612345678"}},
		{store.SuppressionFilter{Contains: "%"}, nil},
		{store.SuppressionFilter{Channel: "sms", Since: t0.Add(time.Second)}, []string{"31600000001"}},
		{store.SuppressionFilter{Limit: 2, Offset: 4}, []string{"31612345678"}},
		{store.SuppressionFilter{Offset: 3}, []string{"ann.smith@example.com", "31612345678"}},
	} {
		got, err := st.Suppressions(ctx, a.ID, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var addrs []string
		for _, sp := range got {
			addrs = append(addrs, sp.Recipient)
		}
		if len(addrs) != len(c.want) {
			t.Errorf("filter %+v: %v, want %v", c.f, addrs, c.want)
			continue
		}
		for i := range addrs {
			if addrs[i] != c.want[i] {
				t.Errorf("filter %+v: %v, want %v", c.f, addrs, c.want)
				break
			}
		}
	}
	if got, _ := st.Suppressions(ctx, newAccount(t, st).ID, store.SuppressionFilter{}); len(got) != 0 {
		t.Fatalf("another account sees %v", got)
	}
}

// An import is all or nothing; a removal is kept with who, when and why.
func testSuppressionImportAndRemovals(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	st.AddSuppression(ctx, a.ID, store.Suppression{Channel: "email", Recipient: "old@example.com", Reason: store.SuppressComplaint})
	n, err := st.AddSuppressions(ctx, a.ID, []store.Suppression{
		{Channel: "email", Recipient: "a@example.com", Reason: "manual", Actor: "import"},
		{Channel: "email", Recipient: "OLD@example.com", Reason: "manual", Actor: "import"},
		{Channel: "email", Recipient: "A@example.com", Reason: "manual", Actor: "import"},
		{Channel: "sms", Recipient: "31612345678", Reason: "manual", Actor: "import"},
	})
	if err != nil || n != 2 {
		t.Fatalf("imported %d, %v", n, err)
	}
	if got, _ := st.Suppressed(ctx, a.ID, "email", []string{"old@example.com"}); got["old@example.com"] != store.SuppressComplaint {
		t.Fatalf("an import replaced a reason: %v", got)
	}
	removedAt := time.Now().UTC().Truncate(time.Millisecond)
	rm, err := st.RemoveSuppression(ctx, a.ID, store.SuppressionRemoval{Suppression: store.Suppression{Channel: "email", Recipient: "Old@Example.com"},
		RemovedBy: "api key k1", RemovalReason: "the customer asked to be mailed again", RemovedAt: removedAt})
	if err != nil || rm.Reason != store.SuppressComplaint || rm.Recipient != "old@example.com" || rm.CreatedAt.IsZero() {
		t.Fatalf("removed %+v, %v", rm, err)
	}
	if got, _ := st.Suppressed(ctx, a.ID, "email", []string{"old@example.com"}); len(got) != 0 {
		t.Fatalf("still suppressed: %v", got)
	}
	if _, err := st.RemoveSuppression(ctx, a.ID, store.SuppressionRemoval{Suppression: store.Suppression{Channel: "sms", Recipient: "old@example.com"},
		RemovedBy: "x", RemovalReason: "y"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removing what is not there: %v", err)
	}
	// Suppressed again and removed again: both removals are kept.
	st.AddSuppression(ctx, a.ID, store.Suppression{Channel: "email", Recipient: "old@example.com", Reason: store.SuppressBounce})
	st.RemoveSuppression(ctx, a.ID, store.SuppressionRemoval{Suppression: store.Suppression{Channel: "email", Recipient: "old@example.com"},
		RemovedBy: "operator", RemovalReason: "mailbox fixed"})
	hist, err := st.SuppressionRemovals(ctx, a.ID, "email", "OLD@example.com", 10)
	if err != nil || len(hist) != 2 || hist[0].RemovalReason != "mailbox fixed" || hist[0].Reason != store.SuppressBounce ||
		hist[1].RemovedBy != "api key k1" || !hist[1].RemovedAt.Equal(removedAt) || hist[1].Reason != store.SuppressComplaint {
		t.Fatalf("history %+v, %v", hist, err)
	}
	if all, _ := st.SuppressionRemovals(ctx, a.ID, "", "", 0); len(all) != 2 {
		t.Fatalf("all removals %+v", all)
	}
	if other, _ := st.SuppressionRemovals(ctx, newAccount(t, st).ID, "", "", 0); len(other) != 0 {
		t.Fatalf("another account sees removals %+v", other)
	}
}
