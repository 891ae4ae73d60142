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

// fallbackBehaviours cover messages' fallbacks to another channel.
var fallbackBehaviours = []behaviour{
	{"FallbackFiresOnce", testFallbackFiresOnce},
	{"FallbackClaimExpires", testFallbackClaimExpires},
	{"CancelForFallback", testCancelForFallback},
	{"RetryAfterFallbackCancelled", testRetryAfterFallbackCancelled},
}

// acceptWithFallback stores m with a fallback due at due and returns the
// fallback message's id.
func acceptWithFallback(t *testing.T, st store.Store, m *message.Message, due time.Time) string {
	t.Helper()
	fid := ids.New()
	m.Details.Fallback = &message.Fallback{From: "chan", After: "1m", ID: fid, Platform: "sms", Status: store.FallbackWaiting}
	it := &store.Accept{Message: m, Fallback: &store.Fallback{FallbackID: fid, ChannelID: "chan", Spec: []byte(`{"Body":"x"}`), DueAt: due}}
	if err := st.AcceptCharged(ctx, []*store.Accept{it}); err != nil || it.Err != nil {
		t.Fatalf("accepting: %v %v", err, it.Err)
	}
	return fid
}

// A due fallback is claimed by one of many racing runners; the fallback
// message is written only under that claim, and marks the fallback sent
// (shown and reported on the first message) in the same commit.
func testFallbackFiresOnce(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 1)
	now := time.Now().UTC()
	fid := acceptWithFallback(t, st, m, now.Add(-time.Second))
	if later := newMessage(a, 1); acceptWithFallback(t, st, later, now.Add(time.Hour)) == "" {
		t.Fatal("no id")
	}
	due, err := st.DueFallbacks(ctx, now, 10)
	if err != nil || len(due) != 1 || due[0].MessageID != m.ID || due[0].FallbackID != fid || string(due[0].Spec) != `{"Body":"x"}` {
		t.Fatalf("DueFallbacks = %+v, %v", due, err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	winners := []string{}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(owner string) {
			defer wg.Done()
			f, err := st.ClaimFallback(ctx, a.ID, m.ID, owner, now, now.Add(time.Minute))
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, f.ClaimedBy)
				mu.Unlock()
			case !errors.Is(err, store.ErrConflict):
				t.Error(err)
			}
		}(ids.New())
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d runners claimed the fallback", len(winners))
	}
	if _, err := st.ClaimFallback(ctx, a.ID, ids.New(), "x", now, now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claiming none = %v", err)
	}
	fallback := func(owner string) *store.Accept {
		fm := newMessage(a, 1, func(fm *message.Message) { fm.ID, fm.Details.FallbackOf = fid, m.ID })
		return &store.Accept{Message: fm, Charge: 75_000, Currency: "EUR", FallbackOf: &store.FallbackClaim{AccountID: a.ID, MessageID: m.ID, Owner: owner, ID: fid}}
	}
	lost := fallback("someone-else")
	if err := st.AcceptCharged(ctx, []*store.Accept{lost}); err != nil || !errors.Is(lost.Err, store.ErrConflict) {
		t.Fatalf("a fallback without the claim: %v %v", err, lost.Err)
	}
	if _, err := st.GetMessage(ctx, a.ID, fid); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the fallback without the claim was stored: %v", err)
	}
	won := fallback(winners[0])
	if err := st.AcceptCharged(ctx, []*store.Accept{won}); err != nil || won.Err != nil {
		t.Fatalf("the fallback under the claim: %v %v", err, won.Err)
	}
	got, err := st.GetMessage(ctx, a.ID, m.ID)
	if err != nil || got.Details.Fallback == nil || got.Details.Fallback.Status != store.FallbackSent || got.Details.Fallback.ID != fid {
		t.Fatalf("first message: %+v %v", got, err)
	}
	if f, err := st.GetMessage(ctx, a.ID, fid); err != nil || f.Details.FallbackOf != m.ID {
		t.Fatalf("fallback message: %+v %v", f, err)
	}
	evs, err := st.MessageEvents(ctx, a.ID, []string{m.ID})
	if err != nil || len(evs[m.ID]) != 1 || evs[m.ID][0].Event != store.EventFallback || evs[m.ID][0].Detail["id"] != fid {
		t.Fatalf("events: %+v %v", evs, err)
	}
	if q, _ := st.QueueStats(ctx); q.Depth[store.JobReport] != 1 {
		t.Fatalf("report jobs: %v, want the fallback event's", q.Depth)
	}
	if due, _ := st.DueFallbacks(ctx, now.Add(time.Minute), 10); len(due) != 0 {
		t.Fatalf("still due: %+v", due)
	}
	if err := st.SettleFallback(ctx, a.ID, m.ID, winners[0], store.FallbackSkipped, "", now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("settling a sent fallback = %v", err)
	}
	if _, err := st.ClaimFallback(ctx, a.ID, m.ID, "late", now.Add(time.Hour), now.Add(2*time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("claiming a sent fallback = %v", err)
	}
}

// A claim whose runner died runs out: another runner takes the fallback
// over, and the first can no longer settle it.
func testFallbackClaimExpires(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 1)
	now := time.Now().UTC()
	acceptWithFallback(t, st, m, now)
	if _, err := st.ClaimFallback(ctx, a.ID, m.ID, "dead", now, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if due, _ := st.DueFallbacks(ctx, now, 10); len(due) != 0 {
		t.Fatalf("a held claim is due: %+v", due)
	}
	later := now.Add(2 * time.Second)
	if due, _ := st.DueFallbacks(ctx, later, 10); len(due) != 1 {
		t.Fatalf("an expired claim is not due: %+v", due)
	}
	if _, err := st.ClaimFallback(ctx, a.ID, m.ID, "alive", later, later.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.SettleFallback(ctx, a.ID, m.ID, "dead", store.FallbackRefused, "x", later); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the dead runner settled: %v", err)
	}
	if err := st.SettleFallback(ctx, a.ID, m.ID, "alive", store.FallbackRefused, "no balance", later); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetMessage(ctx, a.ID, m.ID)
	if f := got.Details.Fallback; f == nil || f.Status != store.FallbackRefused || f.Reason != "no balance" {
		t.Fatalf("first message's fallback: %+v", f)
	}
	evs, _ := st.MessageEvents(ctx, a.ID, []string{m.ID})
	if len(evs[m.ID]) != 1 || evs[m.ID][0].Detail["status"] != store.FallbackRefused {
		t.Fatalf("events: %+v", evs)
	}
}

// A message no connector took, whose send job is not running, is
// cancelled and refunded; one whose job runs is left alone.
func testCancelForFallback(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	waiting, running := newMessage(a, 2), newMessage(a, 1)
	now := time.Now().UTC()
	acceptWithFallback(t, st, running, now)
	if _, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Minute, Owner: "node-a"}); err != nil {
		t.Fatal(err)
	}
	acceptWithFallback(t, st, waiting, now)
	if n, err := st.CancelForFallback(ctx, a.ID, running.ID, "cancelled", now); err != nil || n != 0 {
		t.Fatalf("cancelling a message being sent: %d %v", n, err)
	}
	if got, _ := st.GetMessage(ctx, a.ID, running.ID); got.Recipients[0].Status != message.Sent {
		t.Fatalf("the running message changed: %+v", got.Recipients[0])
	}
	if n, err := st.CancelForFallback(ctx, a.ID, waiting.ID, "cancelled: sent on the fallback channel", now); err != nil || n != 2 {
		t.Fatalf("cancelling a waiting message: %d %v", n, err)
	}
	got, _ := st.GetMessage(ctx, a.ID, waiting.ID)
	for _, r := range got.Recipients {
		if r.Status != message.DeliveryFailed || r.StatusReason != "cancelled: sent on the fallback channel" {
			t.Fatalf("recipient %+v", r)
		}
	}
	if f := got.Details.Fallback; f == nil || !f.Cancelled {
		t.Fatalf("fallback %+v", f)
	}
	refund := refunded(t, st, a.ID, waiting.ID)
	if refund != 150_000 {
		t.Fatalf("refunded %d, want both recipients' 150000", refund)
	}
	if q, _ := st.QueueStats(ctx); q.Depth[store.JobSend] != 1 {
		t.Fatalf("send jobs %v: the waiting message's must go, the running one's stay", q.Depth)
	}
	if n, err := st.CancelForFallback(ctx, a.ID, waiting.ID, "again", now); err != nil || n != 0 {
		t.Fatalf("cancelling twice: %d %v", n, err)
	}
}

// A send attempt that was running when its fallback went out, and failed
// to be tried again, is not tried again: its message is cancelled and
// refunded then, as a waiting one is at once.
func testRetryAfterFallbackCancelled(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 1)
	now := time.Now().UTC()
	fid := acceptWithFallback(t, st, m, now.Add(-time.Second))
	jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Minute, Owner: "node-a"})
	if err != nil || len(jobs) != 1 || jobs[0].MessageID != m.ID {
		t.Fatalf("leasing the send: %+v %v", jobs, err)
	}
	owner := ids.New()
	if _, err := st.ClaimFallback(ctx, a.ID, m.ID, owner, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	fm := newMessage(a, 1, func(fm *message.Message) { fm.ID, fm.Details.FallbackOf = fid, m.ID })
	fallback := &store.Accept{Message: fm, Charge: 75_000, Currency: "EUR", FallbackOf: &store.FallbackClaim{AccountID: a.ID, MessageID: m.ID, Owner: owner, ID: fid}}
	if err := st.AcceptCharged(ctx, []*store.Accept{fallback}); err != nil || fallback.Err != nil {
		t.Fatalf("the fallback: %v %v", err, fallback.Err)
	}
	if n, err := st.CancelForFallback(ctx, a.ID, m.ID, store.CancelledForFallback(fid), now); err != nil || n != 0 {
		t.Fatalf("cancelling a message being sent: %d %v", n, err)
	}
	// Its attempt fails and would be due again at once.
	if err := st.Finish(ctx, []*store.Outcome{{JobID: jobs[0].ID, RetryAt: now.Add(-time.Second), LastError: "500 from the platform"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetMessage(ctx, a.ID, m.ID)
	if r := got.Recipients[0]; r.Status != message.DeliveryFailed || r.StatusReason != store.CancelledForFallback(fid) {
		t.Fatalf("recipient after the failed attempt: %+v", r)
	}
	if f := got.Details.Fallback; f == nil || !f.Cancelled {
		t.Fatalf("fallback %+v", f)
	}
	again, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Minute, Owner: "node-b"})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range again {
		if j.MessageID == m.ID {
			t.Fatalf("the cancelled message's send is due again: %+v", j)
		}
	}
	if refund := refunded(t, st, a.ID, m.ID); refund <= 0 {
		t.Fatalf("no refund of the cancelled message: %d", refund)
	}
}

// refunded sums the account's refunds of a message.
func refunded(t *testing.T, st store.Store, accountID, messageID string) int64 {
	t.Helper()
	entries, err := st.Ledger(ctx, accountID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	sum := int64(0)
	for _, e := range entries {
		if e.Kind == store.LedgerRefund && e.Reference == messageID {
			sum += e.Amount
		}
	}
	return sum
}
