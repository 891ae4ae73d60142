package storetest

import (
	"database/sql"
	"fmt"
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
	{"ListMessagesPlans", testListMessagesPlans},
	{"DailyCountsAfterErasure", testDailyCountsAfterErasure},
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

// sameAsRecipients folds the roll-up and checks that the Overview's counts
// of the account are its outgoing recipients counted afresh, per day,
// channel and status, with their prices.
func sameAsRecipients(t *testing.T, st store.Store, accountID, when string) {
	t.Helper()
	w, ok := st.(interface{ Writer() *sql.DB })
	if !ok {
		t.Fatalf("%T has no database to count recipients in", st)
	}
	if _, err := st.FoldMessageCounts(ctx); err != nil {
		t.Fatal(err)
	}
	// The account id is the store's own (hex): written into the query, so
	// that it needs no placeholder of either engine.
	rows, err := w.Writer().QueryContext(ctx, `SELECT r.created_at / 86400000000, m.channel, r.status, COUNT(*), SUM(r.price)
		FROM recipients r JOIN messages m ON m.id = r.message_id
		WHERE r.account_id = '`+accountID+`' AND m.direction = 'mt' GROUP BY 1, 2, 3`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string]string{}
	for rows.Next() {
		var day, n, price int64
		var channel, status string
		if err := rows.Scan(&day, &channel, &status, &n, &price); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("%d %s %s", day, channel, status)] = fmt.Sprintf("%d, %d", n, price)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	cs, err := st.DailyCounts(ctx, accountID, now.AddDate(-1, 0, 0), now.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range cs {
		got[fmt.Sprintf("%d %s %s", c.Day.Unix()/86400, c.Channel, c.Status)] = fmt.Sprintf("%d, %d", c.Count, c.Charged)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: the Overview counts %v, the recipients %v", when, got, want)
	}
}

// The roll-up counts what is accepted, follows status changes and
// deletions (once folded), and leaves inbound messages and other
// accounts out.
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
		if _, err := st.FoldMessageCounts(ctx); err != nil {
			t.Fatal(err)
		}
		got, charged := dailyCounts(t, st, a.ID)
		sameCounts(t, when, got, want)
		sameAsRecipients(t, st, a.ID, when)
		n := 0
		for _, v := range want {
			n += v
		}
		if charged != int64(n)*75_000 {
			t.Errorf("%s: charged %d, want %d", when, charged, int64(n)*75_000)
		}
	}
	check("accepted")
	if n, err := st.FoldMessageCounts(ctx); err != nil || n != 0 {
		t.Errorf("a fold with nothing new moved %d (%v)", n, err)
	}
	if got, _ := dailyCounts(t, st, b.ID); got["today sms sent"] != 4 || len(got) != 1 {
		t.Errorf("other account: %v, want 4 sent today", got)
	}

	finish := func(updates ...store.StatusUpdate) {
		t.Helper()
		if err := st.Finish(ctx, []*store.Outcome{{Updates: updates}}); err != nil {
			t.Fatal(err)
		}
	}
	finish(
		store.StatusUpdate{AccountID: a.ID, MessageID: m1.ID, Seq: 0, Status: message.Delivered, At: now},
		store.StatusUpdate{AccountID: a.ID, MessageID: m1.ID, Seq: 1, Status: message.DeliveryFailed, At: now},
	)
	want = map[string]int{"today sms sent": 1, "today sms delivered": 1, "today sms delivery_failed": 1, "yesterday sms sent": 2}
	check("after receipts")

	// A recipient named twice in one batch moves twice, in order; a
	// status it cannot move to (delivered after delivery_failed) moves
	// nothing.
	finish(
		store.StatusUpdate{AccountID: a.ID, MessageID: m1.ID, Seq: 2, Status: message.Buffered, At: now},
		store.StatusUpdate{AccountID: a.ID, MessageID: m1.ID, Seq: 2, Status: message.Expired, At: now},
		store.StatusUpdate{AccountID: a.ID, MessageID: m1.ID, Seq: 1, Status: message.Delivered, At: now},
	)
	want = map[string]int{"today sms expired": 1, "today sms delivered": 1, "today sms delivery_failed": 1, "yesterday sms sent": 2}
	check("after two moves of one recipient in a batch")

	finish(
		store.StatusUpdate{AccountID: a.ID, MessageID: m2.ID, Seq: 0, Status: message.Delivered, At: now},
		store.StatusUpdate{AccountID: a.ID, MessageID: m2.ID, Seq: 1, Status: message.Delivered, At: now},
	)
	if err := st.DeleteMessage(ctx, a.ID, m2.ID); err != nil {
		t.Fatal(err)
	}
	want = map[string]int{"today sms expired": 1, "today sms delivered": 1, "today sms delivery_failed": 1}
	check("after a deletion")
}

// An erasure cancels the person's sends not handed to a carrier yet
// (delivery_failed) before it erases their messages: the Overview follows
// both.
func testDailyCountsAfterErasure(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 3)
	accept(t, st, m)
	sameAsRecipients(t, st, a.ID, "accepted")
	e, err := st.EraseSubject(ctx, a.ID, m.Recipients[1].Address, time.Now())
	if err != nil || e.Cancelled != 1 {
		t.Fatalf("erasure: %+v, %v", e, err)
	}
	sameAsRecipients(t, st, a.ID, "after an erasure")
}

// Folds running at once (several nodes) count every change once.
func testDailyCountsConcurrentFolds(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	var msgs []*message.Message
	for i := 0; i < 200; i++ {
		msgs = append(msgs, newMessage(a, 2))
	}
	accept(t, st, msgs...)
	foldConcurrently(t, st, 4)
	got, _ := dailyCounts(t, st, a.ID)
	sameCounts(t, "after concurrent folds", got, map[string]int{"today sms sent": 400})
}

// The Messages search finds the same messages however it runs: from a
// rare status's recipients or testing each message, from a recipient,
// and with its count bounded.
func testListMessagesPlans(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	var msgs []*message.Message
	for i := 0; i < 30; i++ {
		m := newMessage(a, 2, func(m *message.Message) { m.CreatedAt = m.CreatedAt.Add(-time.Duration(i) * time.Minute) })
		msgs = append(msgs, m)
	}
	accept(t, st, append(msgs, newMessage(b, 2))...)
	// Messages 0, 7, 14, 21, 28: one recipient failed.
	var ups []store.StatusUpdate
	for i := 0; i < 30; i += 7 {
		ups = append(ups, store.StatusUpdate{AccountID: a.ID, MessageID: msgs[i].ID, Seq: 1, Status: message.DeliveryFailed, At: time.Now()})
	}
	o := &store.Outcome{Updates: ups}
	if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
		t.Fatal(err)
	}
	ids := func(f store.MessageFilter) ([]string, int) {
		t.Helper()
		f.Limit = 50
		list, total, err := st.ListMessages(ctx, a.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range list {
			out = append(out, m.ID)
		}
		return out, total
	}
	want := []string{msgs[0].ID, msgs[7].ID, msgs[14].ID, msgs[21].ID, msgs[28].ID}
	for _, rare := range []bool{false, true} {
		got, total := ids(store.MessageFilter{Status: message.DeliveryFailed, StatusRare: rare})
		if total != 5 || len(got) != 5 {
			t.Fatalf("rare %v: %d of %d, want 5", rare, len(got), total)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("rare %v: #%d is %s, want %s (newest first)", rare, i, got[i], want[i])
			}
		}
		if _, total := ids(store.MessageFilter{Status: message.DeliveryFailed, StatusRare: rare, CountLimit: 3}); total != 3 {
			t.Errorf("rare %v, counting to 3: %d", rare, total)
		}
	}
	if got, total := ids(store.MessageFilter{Recipient: "31612340001", Status: message.DeliveryFailed}); total != 5 || len(got) != 5 {
		t.Errorf("recipient and status: %d of %d", len(got), total)
	}
	if got, total := ids(store.MessageFilter{Recipient: "31612340000"}); total != 30 || len(got) != 30 || got[0] != msgs[0].ID {
		t.Errorf("recipient: %d of %d", len(got), total)
	}
	if _, total := ids(store.MessageFilter{CountLimit: 10}); total != 10 {
		t.Errorf("all, counting to 10: %d", total)
	}
}

// foldConcurrently runs n FoldMessageCounts at once, as n nodes would.
func foldConcurrently(t *testing.T, st store.Store, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
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
}
