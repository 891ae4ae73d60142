package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// billingBehaviours cover the ledger, prices, charging and usage limits.
var billingBehaviours = []behaviour{
	{"Ledger", testLedger},
	{"LedgerBefore", testLedgerBefore},
	{"ChargeOnAccept", testChargeOnAccept},
	{"ConcurrentCharges", testConcurrentCharges},
	{"UsageLimits", testUsageLimits},
	{"AutoTopUp", testAutoTopUp},
	{"Postpaid", testPostpaid},
	{"BatchOfOneAccount", testBatchOfOneAccount},
	{"PricesAndStatement", testPricesAndStatement},
}

// checkLedger requires the balance to equal the sum of the ledger.
func checkLedger(t *testing.T, st store.Store, accountID string) int64 {
	t.Helper()
	a, err := st.GetAccount(ctx, accountID)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := st.LedgerSum(ctx, accountID)
	if err != nil {
		t.Fatal(err)
	}
	if sum != a.Balance {
		t.Fatalf("balance %d, ledger sums to %d", a.Balance, sum)
	}
	return a.Balance
}

func testLedger(t *testing.T, st store.Store) {
	a := newAccount(t, st) // 5.000000 EUR opening balance
	if b := checkLedger(t, st, a.ID); b != 5_000_000 {
		t.Fatalf("opening balance %d", b)
	}
	e := &store.LedgerEntry{AccountID: a.ID, Kind: store.LedgerTopUp, Amount: 2_500_000, Reason: "wire", Actor: "operator:ann", IdempotencyKey: "tx-1"}
	if err := st.AddLedgerEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	if e.BalanceAfter != 7_500_000 || e.Currency != "EUR" || e.ID == 0 {
		t.Fatalf("entry %+v", e)
	}
	dup := *e
	dup.ID = 0
	if err := st.AddLedgerEntry(ctx, &dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("repeated idempotency key = %v, want ErrConflict", err)
	}
	if err := st.AddLedgerEntry(ctx, &store.LedgerEntry{AccountID: a.ID, Kind: store.LedgerAdjustment, Amount: -8_000_000, Reason: "x"}); !errors.Is(err, store.ErrInsufficientBalance) {
		t.Fatalf("adjusting below zero = %v", err)
	}
	if err := st.AddLedgerEntry(ctx, &store.LedgerEntry{AccountID: "nobody", Kind: store.LedgerTopUp, Amount: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown account = %v", err)
	}
	if b := checkLedger(t, st, a.ID); b != 7_500_000 {
		t.Fatalf("balance %d after a top-up and two refusals", b)
	}
	entries, err := st.Ledger(ctx, a.ID, 10, 0)
	if err != nil || len(entries) != 2 || entries[0].Kind != store.LedgerTopUp || entries[1].Reason != "opening balance" {
		t.Fatalf("ledger %+v, %v", entries, err)
	}
}

// testLedgerBefore reads a ledger page by page from the newest: every
// entry of the account once, newest first, none of another account's.
func testLedgerBefore(t *testing.T, st store.Store) {
	a, other := newAccount(t, st), newAccount(t, st)
	for i := 0; i < 6; i++ {
		for _, acc := range []string{a.ID, other.ID} {
			if err := st.AddLedgerEntry(ctx, &store.LedgerEntry{AccountID: acc, Kind: store.LedgerTopUp, Amount: int64(i + 1), Reason: "wire"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want, err := st.Ledger(ctx, a.ID, 100, 0)
	if err != nil || len(want) != 7 { // the opening balance and six top-ups
		t.Fatalf("ledger %d entries, %v", len(want), err)
	}
	var got []store.LedgerEntry
	for before := int64(0); ; {
		page, err := st.LedgerBefore(ctx, a.ID, before, 3)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 3 {
			break
		}
		before = page[len(page)-1].ID
	}
	if len(got) != len(want) {
		t.Fatalf("paged %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].AccountID != a.ID || got[i].Amount != want[i].Amount {
			t.Fatalf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if page, err := st.LedgerBefore(ctx, a.ID, want[len(want)-1].ID, 3); err != nil || len(page) != 0 {
		t.Fatalf("before the oldest: %+v, %v", page, err)
	}
}

// charged wraps a message with its charge.
func charged(m *message.Message, price int64, limits ...store.UsageLimit) *store.Accept {
	var units int64
	for i := range m.Recipients {
		m.Recipients[i].Price, m.Recipients[i].PriceCurrency = price, "EUR"
		units += int64(m.Recipients[i].PartCount)
	}
	return &store.Accept{Message: m, Charge: price * int64(len(m.Recipients)), Currency: "EUR", Units: units, Limits: limits}
}

func testChargeOnAccept(t *testing.T, st store.Store) {
	a := newAccount(t, st) // 5 EUR
	ok1, tooBig, ok2 := charged(newMessage(a, 2), 1_000_000), charged(newMessage(a, 4), 1_000_000), charged(newMessage(a, 1), 1_000_000)
	if err := st.AcceptCharged(ctx, []*store.Accept{ok1, tooBig, ok2}); err != nil {
		t.Fatal(err)
	}
	if ok1.Err != nil || ok2.Err != nil || !errors.Is(tooBig.Err, store.ErrInsufficientBalance) {
		t.Fatalf("errors %v, %v, %v", ok1.Err, tooBig.Err, ok2.Err)
	}
	if _, err := st.GetMessage(ctx, a.ID, tooBig.Message.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("a message without enough balance was stored")
	}
	got, _ := st.GetMessage(ctx, a.ID, ok1.Message.ID)
	if got.Recipients[0].Price != 1_000_000 || got.Recipients[0].PriceCurrency != "EUR" {
		t.Fatalf("recipient price %+v", got.Recipients[0])
	}
	if b := checkLedger(t, st, a.ID); b != 2_000_000 {
		t.Fatalf("balance %d, want 2 EUR left", b)
	}
	entries, _ := st.Ledger(ctx, a.ID, 10, 0)
	if entries[0].Kind != store.LedgerCharge || entries[0].Reference != ok2.Message.ID || entries[0].Amount != -1_000_000 {
		t.Fatalf("charge entry %+v", entries[0])
	}
}

// Hundreds of concurrent sends against a small balance never overdraw it.
func testConcurrentCharges(t *testing.T, st store.Store) {
	a := newAccount(t, st) // 5 EUR: room for exactly 50 messages at 0.10
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, refused := 0, 0
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			it := charged(newMessage(a, 1), 100_000)
			if err := st.AcceptCharged(ctx, []*store.Accept{it}); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if it.Err == nil {
				accepted++
			} else if errors.Is(it.Err, store.ErrInsufficientBalance) {
				refused++
			}
		}()
	}
	wg.Wait()
	if accepted != 50 || refused != 250 {
		t.Fatalf("%d accepted, %d refused; want 50 and 250", accepted, refused)
	}
	if b := checkLedger(t, st, a.ID); b != 0 {
		t.Fatalf("balance %d, want 0", b)
	}
	_, total, _ := st.ListMessages(ctx, a.ID, store.MessageFilter{Limit: 1})
	if total != 50 {
		t.Fatalf("%d messages stored, want 50", total)
	}
}

func testUsageLimits(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	block := store.UsageLimit{AccountID: a.ID, Metric: store.MetricMessages, Channel: message.ChannelSMS, Period: store.PeriodMonth, Limit: 10, Policy: store.PolicyBlock}
	spend := store.UsageLimit{AccountID: a.ID, Metric: store.MetricSpend, Period: store.PeriodDay, Limit: 100_000, Policy: store.PolicyAllow}
	for _, l := range []store.UsageLimit{block, spend} {
		if err := st.SetUsageLimit(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	limits, _ := st.UsageLimits(ctx, a.ID)
	if len(limits) != 2 {
		t.Fatalf("limits %+v", limits)
	}
	send := func(recipients int) *store.Accept {
		t.Helper()
		it := charged(newMessage(a, recipients), 10_000, limits...)
		if err := st.AcceptCharged(ctx, []*store.Accept{it}); err != nil {
			t.Fatal(err)
		}
		return it
	}
	thresholds := func(it *store.Accept) map[string]int {
		out := map[string]int{}
		for _, al := range it.Alerts {
			out[al.Limit.Metric] = al.Threshold
		}
		return out
	}
	if it := send(7); it.Err != nil || len(it.Alerts) != 0 {
		t.Fatalf("7 of 10: %v, alerts %+v", it.Err, it.Alerts)
	}
	// 8 of 10 messages (80 %) and 0.08 of 0.10 spend (80 %).
	if it := send(1); it.Err != nil || thresholds(it)[store.MetricMessages] != 80 || thresholds(it)[store.MetricSpend] != 80 {
		t.Fatalf("8 of 10: %v, alerts %+v", it.Err, it.Alerts)
	}
	// 3 more would be 11: blocked, nothing charged or counted.
	before := checkLedger(t, st, a.ID)
	if it := send(3); !errors.As(it.Err, new(*store.LimitError)) {
		t.Fatalf("over the block limit: %v", it.Err)
	}
	if after := checkLedger(t, st, a.ID); after != before {
		t.Fatalf("a blocked message changed the balance: %d → %d", before, after)
	}
	if it := send(2); it.Err != nil || thresholds(it)[store.MetricMessages] != 100 || thresholds(it)[store.MetricSpend] != 100 {
		t.Fatalf("10 of 10: %v, alerts %+v", it.Err, it.Alerts)
	}
	if it := send(1); it.Err == nil {
		t.Fatal("an 11th message passed a blocking limit")
	}
	usage, _ := st.Usage(ctx, a.ID, time.Now())
	for _, u := range usage {
		switch u.Metric {
		case store.MetricMessages:
			if u.Used != 10 {
				t.Fatalf("messages used %d", u.Used)
			}
		case store.MetricSpend:
			if u.Used != 100_000 {
				t.Fatalf("spend used %d", u.Used)
			}
		}
	}
	alerts, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobAlert, N: 10, For: time.Minute, Owner: "n"})
	if len(alerts) != 4 {
		t.Fatalf("%d alert jobs, want 4 (80 and 100 %% of two limits), once each", len(alerts))
	}
	if err := st.DeleteUsageLimit(ctx, block); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteUsageLimit(ctx, block); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func testAutoTopUp(t *testing.T, st store.Store) {
	a := newAccount(t, st) // 5 EUR
	a.TopUpEnabled, a.TopUpThreshold, a.TopUpAmount, a.TopUpConsent = true, 3_000_000, 10_000_000, "api 2026-11-25"
	if err := st.SetBilling(ctx, a); err != nil {
		t.Fatal(err)
	}
	var requested []*store.TopUp
	for i := 0; i < 4; i++ { // 5 → 4 → 3 → 2 (below 3: ask) → 1 (already asked)
		it := charged(newMessage(a, 1), 1_000_000)
		if err := st.AcceptCharged(ctx, []*store.Accept{it}); err != nil || it.Err != nil {
			t.Fatal(err, it.Err)
		}
		if it.TopUp != nil {
			requested = append(requested, it.TopUp)
		}
	}
	if len(requested) != 1 || requested[0].Amount != 10_000_000 || !requested[0].Automatic {
		t.Fatalf("top-ups requested %+v, want one of 10 EUR", requested)
	}
	if jobs, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobTopUp, N: 10, For: time.Minute, Owner: "n"}); len(jobs) != 1 {
		t.Fatalf("%d top-up jobs", len(jobs))
	}
	done, err := st.SettleTopUp(ctx, requested[0].ID, store.TopUpConfirmed, "operator:ann")
	if err != nil || done.Status != store.TopUpConfirmed {
		t.Fatalf("confirm: %+v, %v", done, err)
	}
	if _, err := st.SettleTopUp(ctx, requested[0].ID, store.TopUpConfirmed, "operator:ann"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("confirming twice: %v", err)
	}
	if b := checkLedger(t, st, a.ID); b != 11_000_000 {
		t.Fatalf("balance %d after the top-up, want 11 EUR", b)
	}
	manual := &store.TopUp{ID: ids.New(), AccountID: a.ID, Amount: 1, Currency: "EUR", Status: store.TopUpPending, Provider: "invoice", IdempotencyKey: "k1", CreatedAt: time.Now()}
	if err := st.CreateTopUp(ctx, manual); err != nil {
		t.Fatal(err)
	}
	again := *manual
	again.ID = ids.New()
	if err := st.CreateTopUp(ctx, &again); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("repeated top-up key: %v", err)
	}
	if list, _ := st.TopUps(ctx, a.ID); len(list) != 2 {
		t.Fatalf("top-ups %+v", list)
	}
}

func testPostpaid(t *testing.T, st store.Store) {
	a := newAccount(t, st) // 5 EUR
	a.Payment, a.CreditLimit = "postpaid", 2_000_000
	if err := st.SetBilling(ctx, a); err != nil {
		t.Fatal(err)
	}
	it := charged(newMessage(a, 7), 1_000_000) // 7 EUR: 2 EUR into credit
	if err := st.AcceptCharged(ctx, []*store.Accept{it}); err != nil || it.Err != nil {
		t.Fatal(err, it.Err)
	}
	over := charged(newMessage(a, 1), 1_000_000) // beyond the credit limit
	if err := st.AcceptCharged(ctx, []*store.Accept{over}); err != nil || !errors.Is(over.Err, store.ErrInsufficientBalance) {
		t.Fatal(err, over.Err)
	}
	if b := checkLedger(t, st, a.ID); b != -2_000_000 {
		t.Fatalf("balance %d, want -2 EUR", b)
	}
}

func testPricesAndStatement(t *testing.T, st store.Store) {
	now := time.Now().UTC()
	ps := []store.Price{
		{Channel: "sms", Currency: "EUR", Price: 50_000, UpdatedAt: now},
		{Channel: "sms", Country: "NL", Currency: "EUR", Price: 70_000, UpdatedAt: now},
		{AccountID: "acct", Channel: "sms", Prefix: "316", Currency: "EUR", Price: 60_000, UpdatedAt: now},
	}
	if err := st.UpsertPrices(ctx, ps); err != nil {
		t.Fatal(err)
	}
	ps[1].Price = 75_000
	if err := st.UpsertPrices(ctx, ps[1:2]); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Prices(ctx)
	if len(got) != 3 || got[1].Price != 75_000 {
		t.Fatalf("prices %+v", got)
	}
	a := newAccount(t, st)
	for i := 0; i < 3; i++ {
		m := newMessage(a, 2)
		it := charged(m, 70_000)
		if err := st.AcceptCharged(ctx, []*store.Accept{it}); err != nil || it.Err != nil {
			t.Fatal(err, it.Err)
		}
	}
	lines, messages, err := st.Statement(ctx, a.ID, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil || len(lines) != 1 || messages != 3 {
		t.Fatalf("statement %+v, %v", lines, err)
	}
	l := lines[0]
	if l.Messages != 3 || l.Recipients != 6 || l.Segments != 6 || l.Amount != 420_000 || l.Country != "NL" || l.Channel != "sms" || l.Currency != "EUR" {
		t.Fatalf("statement line %+v", l)
	}
	if !l.Day.Equal(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("day %v", l.Day)
	}
}

// A batch of one account's messages is charged together: each ledger entry
// still shows the balance after it, and an alert goes with the message
// that crossed its threshold.
func testBatchOfOneAccount(t *testing.T, st store.Store) {
	a := newAccount(t, st) // 5 EUR
	l := store.UsageLimit{AccountID: a.ID, Metric: store.MetricMessages, Channel: message.ChannelSMS, Period: store.PeriodDay, Limit: 10, Policy: store.PolicyBlock}
	if err := st.SetUsageLimit(ctx, l); err != nil {
		t.Fatal(err)
	}
	var batch []*store.Accept
	for i := 0; i < 5; i++ {
		batch = append(batch, charged(newMessage(a, 2), 100_000, l)) // 2 units, 0.20 each
	}
	if err := st.AcceptCharged(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for i, it := range batch {
		if it.Err != nil {
			t.Fatalf("item %d: %v", i, it.Err)
		}
		want := 0
		if i == 3 || i == 4 { // 8 of 10, then 10 of 10
			want = 1
		}
		if len(it.Alerts) != want {
			t.Fatalf("item %d has %d alerts, want %d", i, len(it.Alerts), want)
		}
	}
	if batch[3].Alerts[0].Threshold != 80 || batch[4].Alerts[0].Threshold != 100 {
		t.Fatalf("alerts %+v %+v", batch[3].Alerts, batch[4].Alerts)
	}
	entries, _ := st.Ledger(ctx, a.ID, 10, 0)
	for i, want := range []int64{4_000_000, 4_200_000, 4_400_000, 4_600_000, 4_800_000} {
		if entries[i].BalanceAfter != want || entries[i].Amount != -200_000 {
			t.Fatalf("entry %d: %+v, want balance after %d", i, entries[i], want)
		}
	}
	checkLedger(t, st, a.ID)
	// The limit is used up: a batch that does not fit is charged item by
	// item, and each is refused without moving money.
	one, two := charged(newMessage(a, 1), 100_000, l), charged(newMessage(a, 1), 100_000, l)
	if err := st.AcceptCharged(ctx, []*store.Accept{one, two}); err != nil {
		t.Fatal(err)
	}
	if !errors.As(one.Err, new(*store.LimitError)) || !errors.As(two.Err, new(*store.LimitError)) {
		t.Fatalf("over the limit: %v, %v", one.Err, two.Err)
	}
	if b := checkLedger(t, st, a.ID); b != 4_000_000 {
		t.Fatalf("balance %d, want 4 EUR (5 minus five charges of 0.20)", b)
	}
}
