package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

// hlrBehaviours cover HLR queries and settings.
var hlrBehaviours = []behaviour{
	{"HLRQueries", testHLRQueries},
	{"HLRSettings", testHLRSettings},
}

// testHLRQueries: a query is charged with its creation (or refused whole),
// queued when asked, answered once, refunded when failed, and seen only by
// its account.
func testHLRQueries(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	now := time.Now().UTC().Truncate(time.Microsecond)
	q := &store.HLRQuery{ID: ids.New(), AccountID: a.ID, MSISDN: "31612345678", Country: "NL", Reference: "r", Status: store.HLRSent,
		Price: 10_000, CreatedAt: now}
	if err := st.CreateHLR(ctx, q, true); err != nil {
		t.Fatal(err)
	}
	if q.Currency != "EUR" {
		t.Fatalf("currency %q", q.Currency)
	}
	if acct, _ := st.GetAccount(ctx, a.ID); acct.Balance != 5_000_000-10_000 {
		t.Fatalf("balance %d after the charge", acct.Balance)
	}
	jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobHLR, N: 10, For: time.Minute, Owner: "n1"})
	if err != nil || len(jobs) != 1 || jobs[0].AccountID != a.ID || string(jobs[0].Payload) != `{"hlr":"`+q.ID+`"}` {
		t.Fatalf("jobs %+v %v", jobs, err)
	}
	got, err := st.GetHLR(ctx, a.ID, q.ID)
	if err != nil || got.Status != store.HLRSent || got.MSISDN != q.MSISDN || got.Price != 10_000 || got.Details != nil || !got.CreatedAt.Equal(now) {
		t.Fatalf("GetHLR = %+v, %v", got, err)
	}
	if _, err := st.GetHLR(ctx, b.ID, q.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account read the query: %v", err)
	}
	if _, err := st.LatestHLR(ctx, a.ID, q.MSISDN, time.Time{}, true); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unanswered query counted as answered: %v", err)
	}
	if l, err := st.LatestHLR(ctx, a.ID, q.MSISDN, time.Time{}, false); err != nil || l.ID != q.ID {
		t.Fatalf("LatestHLR = %+v, %v", l, err)
	}
	if err := st.SetHLRSettings(ctx, store.HLRSettings{AccountID: a.ID, ReportURL: "http://127.0.0.1:1/hlr"}); err != nil {
		t.Fatal(err)
	}
	q.Status, q.Network, q.Details = store.HLRActive, 20408, []byte(`{"imsi":"204080000000001"}`)
	if err := st.FinishHLR(ctx, q); err != nil {
		t.Fatal(err)
	}
	reports, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobHLRReport, N: 10, For: time.Minute, Owner: "n1"})
	if err != nil || len(reports) != 1 || string(reports[0].Payload) != `{"hlr":"`+q.ID+`"}` {
		t.Fatalf("report jobs %+v %v", reports, err)
	}
	if err := st.FinishHLR(ctx, q); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("answered twice: %v", err)
	}
	other := *q
	other.AccountID = b.ID
	if err := st.FinishHLR(ctx, &other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account answered the query: %v", err)
	}
	got, _ = st.GetHLR(ctx, a.ID, q.ID)
	if got.Status != store.HLRActive || got.Network != 20408 || string(got.Details) != `{"imsi":"204080000000001"}` || got.StatusAt.IsZero() {
		t.Fatalf("answered query %+v", got)
	}
	if l, err := st.LatestHLR(ctx, a.ID, q.MSISDN, now.Add(-time.Second), true); err != nil || l.ID != q.ID {
		t.Fatalf("LatestHLR answered = %+v, %v", l, err)
	}
	if _, err := st.LatestHLR(ctx, a.ID, q.MSISDN, now.Add(time.Second), true); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an old answer counted as recent: %v", err)
	}

	// A failed query is refunded.
	f := &store.HLRQuery{ID: ids.New(), AccountID: a.ID, MSISDN: "31612345674", Status: store.HLRSent, Price: 10_000, Origin: store.HLROriginPreSend}
	if err := st.CreateHLR(ctx, f, false); err != nil {
		t.Fatal(err)
	}
	f.Status = store.HLRFailed
	if err := st.FinishHLR(ctx, f); err != nil {
		t.Fatal(err)
	}
	if acct, _ := st.GetAccount(ctx, a.ID); acct.Balance != 5_000_000-10_000 {
		t.Fatalf("balance %d after a refunded query", acct.Balance)
	}
	if jobs, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobHLRReport, N: 10, For: time.Minute, Owner: "n1"}); len(jobs) != 0 {
		t.Fatalf("the check's query was reported: %+v", jobs)
	}
	if sum, _ := st.LedgerSum(ctx, a.ID); sum != 5_000_000-10_000 {
		t.Fatalf("ledger sum %d, want the balance", sum)
	}

	// Not enough balance: nothing stored, nothing queued.
	poor := &store.HLRQuery{ID: ids.New(), AccountID: b.ID, MSISDN: "31612345678", Status: store.HLRSent, Price: 6_000_000}
	if err := st.CreateHLR(ctx, poor, true); !errors.Is(err, store.ErrInsufficientBalance) {
		t.Fatalf("an unaffordable query: %v", err)
	}
	if _, err := st.GetHLR(ctx, b.ID, poor.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unaffordable query was stored: %v", err)
	}
	if jobs, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobHLR, N: 10, For: time.Minute, Owner: "n1"}); len(jobs) != 0 {
		t.Fatalf("an unaffordable query was queued: %+v", jobs)
	}

	// The list: the account's own, newest first, counted; none of b's.
	list, total, err := st.ListHLR(ctx, a.ID, 1, 0)
	if err != nil || total < 2 || len(list) != 1 || list[0].AccountID != a.ID || list[0].CreatedAt.Before(now) {
		t.Fatalf("ListHLR = %+v, %d, %v", list, total, err)
	}
	if rest, total2, err := st.ListHLR(ctx, a.ID, 100, 1); err != nil || total2 != total || len(rest) != total-1 || !rest[len(rest)-1].CreatedAt.Equal(now) {
		t.Fatalf("ListHLR offset 1 = %d items, %d, %v", len(rest), total2, err)
	}
	if none, total, err := st.ListHLR(ctx, b.ID, 10, 0); err != nil || total != 0 || len(none) != 0 {
		t.Fatalf("ListHLR of an account with none = %+v, %d, %v", none, total, err)
	}
}

// testHLRSettings: off until set, kept per account.
func testHLRSettings(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	if s, err := st.GetHLRSettings(ctx, a.ID); err != nil || s.CheckBeforeSend || s.MaxAge != 0 {
		t.Fatalf("defaults %+v %v", s, err)
	}
	for _, want := range []store.HLRSettings{{AccountID: a.ID, CheckBeforeSend: true, MaxAge: time.Hour, ReportURL: "https://example.com/hlr"}, {AccountID: a.ID, MaxAge: 0}} {
		if err := st.SetHLRSettings(ctx, want); err != nil {
			t.Fatal(err)
		}
		if got, err := st.GetHLRSettings(ctx, a.ID); err != nil || got != want {
			t.Fatalf("settings %+v %v, want %+v", got, err, want)
		}
	}
	st.SetHLRSettings(ctx, store.HLRSettings{AccountID: a.ID, CheckBeforeSend: true})
	if s, _ := st.GetHLRSettings(ctx, b.ID); s.CheckBeforeSend {
		t.Fatal("another account's settings changed")
	}
}
