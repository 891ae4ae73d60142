package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// numberBehaviours cover the numbers inventory, purchases and history.
var numberBehaviours = []behaviour{
	{"NumberInventory", testNumberInventory},
	{"NumberLifecycle", testNumberLifecycle},
}

func stock(number, country, typ string, price int64, features ...string) store.StockNumber {
	return store.StockNumber{Number: number, Country: country, Type: typ, Features: features, MonthlyPrice: price, CreatedAt: time.Now().UTC()}
}

// testNumberInventory: import adds or updates; search filters by country,
// type, every feature, a placed pattern and availability.
func testNumberInventory(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	added, err := st.ImportStock(ctx, []store.StockNumber{stock("31612345671", "NL", "mobile", 1_500_000, "sms", "voice"),
		stock("31612345672", "NL", "mobile", 1_500_000, "sms"), stock("31201234567", "NL", "landline", 750_000, "voice"),
		stock("447700900123", "GB", "mobile", 2_000_000, "sms")})
	if err != nil || added != 4 {
		t.Fatalf("import: %d %v", added, err)
	}
	if added, err := st.ImportStock(ctx, []store.StockNumber{stock("31612345672", "NL", "mobile", 1_000_000, "sms", "whatsapp")}); err != nil || added != 0 {
		t.Fatalf("re-import: %d %v", added, err)
	}
	if err := st.AddNumber(ctx, store.Number{Number: "31612345671", AccountID: a.ID, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	numbersOf := func(ns []store.StockNumber) string {
		var out []string
		for _, n := range ns {
			out = append(out, n.Number)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		f    store.StockFilter
		want string
	}{
		{store.StockFilter{Country: "NL"}, "31201234567,31612345671,31612345672"},
		{store.StockFilter{Country: "NL", Available: true}, "31201234567,31612345672"},
		{store.StockFilter{Country: "NL", Features: []string{"whatsapp", "sms"}}, "31612345672"},
		{store.StockFilter{Country: "NL", Features: []string{"sm"}}, ""},
		{store.StockFilter{Country: "NL", Type: "landline"}, "31201234567"},
		{store.StockFilter{Pattern: "31612", Match: "start"}, "31612345671,31612345672"},
		{store.StockFilter{Pattern: "612", Match: "start"}, ""},
		{store.StockFilter{Pattern: "72", Match: "end"}, "31612345672"},
		{store.StockFilter{Pattern: "%"}, ""},
		{store.StockFilter{Limit: 2}, "31201234567,31612345671"},
	} {
		got, err := st.SearchStock(ctx, c.f)
		if err != nil || numbersOf(got) != c.want {
			t.Errorf("SearchStock(%+v) = %s %v, want %s", c.f, numbersOf(got), err, c.want)
		}
	}
	got, _ := st.SearchStock(ctx, store.StockFilter{Pattern: "31612345672", Match: "end"})
	if len(got) != 1 || got[0].MonthlyPrice != 1_000_000 || strings.Join(got[0].Features, ",") != "sms,whatsapp" {
		t.Fatalf("after re-import: %+v", got)
	}
	got, _ = st.SearchStock(ctx, store.StockFilter{Pattern: "31612345671", Match: "end"})
	if len(got) != 1 || got[0].AccountID != a.ID {
		t.Fatalf("assigned number: %+v", got)
	}
}

// testNumberLifecycle: a purchase charges and assigns in one transaction
// (or does neither), renewals charge each period once, notices are marked
// once, traffic withdraws a notice, an idle release does not take a used
// number, and each step is in the history.
func testNumberLifecycle(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	if _, err := st.ImportStock(ctx, []store.StockNumber{stock("31612345671", "NL", "mobile", 1_500_000, "sms")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	p := store.NumberPurchase{Number: "31612345671", AccountID: a.ID, IntervalMonths: 1, Price: 9_000_000, RenewalAt: now.AddDate(0, 1, 0), At: now}
	if err := st.PurchaseNumber(ctx, p); !errors.Is(err, store.ErrInsufficientBalance) {
		t.Fatalf("purchase over the balance: %v", err)
	}
	if _, err := st.NumberOwner(ctx, p.Number); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("assigned without the charge: %v", err)
	}
	if err := st.PurchaseNumber(ctx, store.NumberPurchase{Number: "31699999999", AccountID: a.ID, Price: 1, At: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("purchase outside the inventory: %v", err)
	}
	p.Price = 1_500_000
	if err := st.PurchaseNumber(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.AccountID = b.ID
	if err := st.PurchaseNumber(ctx, p); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second purchase: %v", err)
	}
	if acct, _ := st.GetAccount(ctx, b.ID); acct.Balance != 5_000_000 {
		t.Fatalf("the refused buyer was charged: %d", acct.Balance)
	}
	if acct, _ := st.GetAccount(ctx, a.ID); acct.Balance != 3_500_000 {
		t.Fatalf("buyer's balance %d", acct.Balance)
	}
	o, err := st.OwnedNumber(ctx, a.ID, p.Number)
	if err != nil || o.IntervalMonths != 1 || !o.RenewalAt.Equal(now.AddDate(0, 1, 0)) || o.Stock.Country != "NL" || o.Stock.MonthlyPrice != 1_500_000 {
		t.Fatalf("OwnedNumber = %+v %v", o, err)
	}
	if _, err := st.OwnedNumber(ctx, b.ID, p.Number); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's number: %v", err)
	}
	tags, url := []string{"a", "b"}, "https://example.com/in"
	if err := st.UpdateNumber(ctx, b.ID, p.Number, store.NumberUpdate{Tags: &tags}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update by another account: %v", err)
	}
	if err := st.UpdateNumber(ctx, a.ID, p.Number, store.NumberUpdate{Tags: &tags, InboundURL: &url}); err != nil {
		t.Fatal(err)
	}
	// Renewal: once per period.
	next := o.RenewalAt.AddDate(0, 1, 0)
	if err := st.RenewNumber(ctx, o, 1_500_000, next, now); err != nil {
		t.Fatal(err)
	}
	if err := st.RenewNumber(ctx, o, 1_500_000, next, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second renewal of one period: %v", err)
	}
	o, _ = st.OwnedNumber(ctx, a.ID, p.Number)
	if acct, _ := st.GetAccount(ctx, a.ID); acct.Balance != 2_000_000 || !o.RenewalAt.Equal(next) || strings.Join(o.Tags, ",") != "a,b" || o.InboundURL != url {
		t.Fatalf("after renewal: balance %d, %+v", acct.Balance, o)
	}
	if err := st.RenewNumber(ctx, o, 9_000_000, next.AddDate(0, 1, 0), now); !errors.Is(err, store.ErrInsufficientBalance) {
		t.Fatalf("renewal over the balance: %v", err)
	}
	if err := st.MarkNumberUnpaid(ctx, o, now, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkNumberUnpaid(ctx, o, now, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second unpaid mark: %v", err)
	}
	// Idle notice, withdrawn by traffic; an idle release spares a used number.
	if err := st.MarkNumberIdle(ctx, o, now, &store.Job{Kind: store.JobAlert, AccountID: a.ID, Payload: []byte(`{}`), RunAt: now, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchNumber(ctx, p.Number, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if o, _ = st.OwnedNumber(ctx, a.ID, p.Number); !o.IdleNoticeAt.IsZero() || !o.LastTrafficAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("after traffic: %+v", o)
	}
	if err := st.ReleaseNumber(ctx, a.ID, p.Number, store.NumberEvent{Event: store.NumberReclaimed}, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("idle release of a used number: %v", err)
	}
	if err := st.ReleaseNumber(ctx, b.ID, p.Number, store.NumberEvent{Event: store.NumberCancelled}, time.Time{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("release by another account: %v", err)
	}
	if err := st.ReleaseNumber(ctx, a.ID, p.Number, store.NumberEvent{Event: store.NumberCancelled, Actor: "api", CreatedAt: now}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	h, err := st.NumberHistory(ctx, p.Number)
	var events []string
	for _, e := range h {
		if e.AccountID != a.ID {
			t.Fatalf("event of %s", e.AccountID)
		}
		events = append(events, e.Event)
	}
	if err != nil || strings.Join(events, ",") != "purchased,renewed,renewal_failed,idle_notice,cancelled" {
		t.Fatalf("history %v %v", events, err)
	}
	if got, _ := st.SearchStock(ctx, store.StockFilter{Available: true}); len(got) != 1 {
		t.Fatalf("the released number is not available: %+v", got)
	}
}
