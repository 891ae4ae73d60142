package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// countBehaviours cover the Overview's roll-up (DailyCounts and its fold).
var countBehaviours = []behaviour{
	{"DailyCountsRollUp", testDailyCountsRollUp},
	{"DailyCountsConcurrentFolds", testDailyCountsConcurrentFolds},
}

// dailyCounts reads an account's counts of the last two days as
// "day channel status" → count and the charged total.
func dailyCounts(t *testing.T, st store.Store, accountID string) (map[string]int, int64) {
	t.Helper()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	cs, err := st.DailyCounts(ctx, accountID, today.Add(-24*time.Hour), today.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	out, charged := map[string]int{}, int64(0)
	for _, c := range cs {
		day := "today"
		if c.Day.Before(today) {
			day = "yesterday"
		}
		out[day+" "+c.Channel+" "+c.Status] += c.Count
		charged += c.Charged
	}
	return out, charged
}

func sameCounts(t *testing.T, when string, got, want map[string]int) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %d, want %d (all: %v)", when, k, got[k], v, got)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s = %d", when, k, v)
		}
	}
}

// The roll-up counts what is accepted, follows status changes and
// deletions, leaves inbound messages and other accounts out, and reads
// the same before and after a fold.
func testDailyCountsRollUp(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	now := time.Now().UTC().Truncate(time.Microsecond)
	yesterday := now.Add(-24 * time.Hour)
	m1 := newMessage(a, 3)
	m2 := newMessage(a, 2, func(m *message.Message) { m.CreatedAt = yesterday })
	mo := newMessage(a, 1, func(m *message.Message) { m.Direction = message.MO })
	other := newMessage(b, 4)
	accept(t, st, m1, m2, mo, other)

	want := map[string]int{"today sms sent": 3, "yesterday sms sent": 2}
	check := func(when string) {
		t.Helper()
		for _, fold := range []bool{false, true} {
			if fold {
				if _, err := st.FoldMessageCounts(ctx); err != nil {
					t.Fatal(err)
				}
			}
			got, charged := dailyCounts(t, st, a.ID)
			sameCounts(t, when, got, want)
			n := 0
			for _, v := range want {
				n += v
			}
			if charged != int64(n)*75_000 {
				t.Errorf("%s: charged %d, want %d", when, charged, int64(n)*75_000)
			}
		}
	}
	check("accepted")
	if got, _ := dailyCounts(t, st, b.ID); got["today sms sent"] != 4 || len(got) != 1 {
		t.Errorf("other account: %v, want 4 sent today", got)
	}

	o := &store.Outcome{Updates: []store.StatusUpdate{
		{AccountID: a.ID, MessageID: m1.ID, Seq: 0, Status: message.Delivered, At: now},
		{AccountID: a.ID, MessageID: m1.ID, Seq: 1, Status: message.DeliveryFailed, At: now},
	}}
	if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
		t.Fatal(err)
	}
	want = map[string]int{"today sms sent": 1, "today sms delivered": 1, "today sms delivery_failed": 1, "yesterday sms sent": 2}
	check("after receipts")

	o = &store.Outcome{Updates: []store.StatusUpdate{
		{AccountID: a.ID, MessageID: m2.ID, Seq: 0, Status: message.Delivered, At: now},
		{AccountID: a.ID, MessageID: m2.ID, Seq: 1, Status: message.Delivered, At: now},
	}}
	if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMessage(ctx, a.ID, m2.ID); err != nil {
		t.Fatal(err)
	}
	want = map[string]int{"today sms sent": 1, "today sms delivered": 1, "today sms delivery_failed": 1}
	check("after a deletion")
}

// Folds running at once (several nodes) count every change once.
func testDailyCountsConcurrentFolds(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	var msgs []*message.Message
	for i := 0; i < 200; i++ {
		msgs = append(msgs, newMessage(a, 2))
	}
	accept(t, st, msgs...)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.FoldMessageCounts(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, _ := dailyCounts(t, st, a.ID)
	sameCounts(t, "after concurrent folds", got, map[string]int{"today sms sent": 400})
}
