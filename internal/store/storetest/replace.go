package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// testReplaceScheduled: a scheduled message is written anew in place (same
// id, new body, parts and schedule, one send job), the price difference is
// charged or given back, a difference the balance cannot pay changes
// nothing, and a sent message, another account's or an unknown one cannot
// be replaced.
func testReplaceScheduled(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	sched := newMessage(a, 2, func(m *message.Message) { m.ScheduledAt = m.CreatedAt.Add(time.Hour) })
	sent := newMessage(a, 1)
	accept(t, st, sched, sent)
	balance := func() int64 {
		t.Helper()
		acct, err := st.GetAccount(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return acct.Balance
	}
	b0 := balance()
	replacement := func(body string, parts int, at time.Time) *store.Accept {
		m := *sched
		m.Body, m.ScheduledAt = body, at
		m.Recipients = append([]message.Recipient(nil), sched.Recipients...)
		it := &store.Accept{Message: &m, Units: int64(2 * parts)}
		for i := range m.Recipients {
			r := &m.Recipients[i]
			r.PartCount, r.Price = parts, int64(75_000*parts)
			it.Charge += r.Price
		}
		return it
	}

	// Two parts each: 2 × 75,000 more.
	later := sched.CreatedAt.Add(2 * time.Hour)
	if err := st.ReplaceScheduled(ctx, replacement("a longer text", 2, later)); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetMessage(ctx, a.ID, sched.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Body != "a longer text" || !got.ScheduledAt.Equal(later) || got.Recipients[0].PartCount != 2 || got.Recipients[1].Price != 150_000 ||
		got.Recipients[0].Status != message.Scheduled {
		t.Fatalf("replaced message %+v", got)
	}
	if n := balance(); n != b0-150_000 {
		t.Fatalf("balance %d after the longer text, want %d", n, b0-150_000)
	}
	// More than the balance: refused, nothing changes.
	big := replacement("far too long", 100, later)
	if err := st.ReplaceScheduled(ctx, big); !errors.Is(err, store.ErrInsufficientBalance) {
		t.Fatalf("replacing beyond the balance = %v, want ErrInsufficientBalance", err)
	}
	if got, _ := st.GetMessage(ctx, a.ID, sched.ID); got.Body != "a longer text" || balance() != b0-150_000 {
		t.Fatalf("a refused replacement changed the message (%q) or the balance (%d)", got.Body, balance())
	}
	// Back to one part: the difference comes back.
	if err := st.ReplaceScheduled(ctx, replacement("short", 1, later)); err != nil {
		t.Fatal(err)
	}
	if n := balance(); n != b0 {
		t.Fatalf("balance %d after the shorter text, want %d", n, b0)
	}
	stats, _ := st.QueueStats(ctx)
	if stats.Depth[store.JobSend] != 2 {
		t.Fatalf("%d send jobs, want 2 (one per message)", stats.Depth[store.JobSend])
	}

	// A recipient refused at accept stays refused: reported once, and the
	// message can be replaced again (and cancelled).
	mixed := newMessage(a, 2, func(m *message.Message) { m.ScheduledAt = m.CreatedAt.Add(time.Hour) })
	mixed.Recipients[1].Status, mixed.Recipients[1].StatusAt, mixed.Recipients[1].Price = message.DeliveryFailed, mixed.CreatedAt, 0
	accept(t, st, mixed)
	reports := func() int {
		t.Helper()
		jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 100, For: time.Millisecond, Owner: "count"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, j := range jobs {
			if j.MessageID == mixed.ID {
				n++
			}
		}
		time.Sleep(5 * time.Millisecond) // the leases end
		return n
	}
	if n := reports(); n != 1 {
		t.Fatalf("%d report jobs for the refused recipient, want 1", n)
	}
	for _, body := range []string{"first", "second"} {
		m := *mixed
		m.Body = body
		m.Recipients = append([]message.Recipient(nil), mixed.Recipients...)
		if err := st.ReplaceScheduled(ctx, &store.Accept{Message: &m, Charge: 75_000, Units: 1}); err != nil {
			t.Fatalf("replacing with %q: %v", body, err)
		}
	}
	if n := reports(); n != 1 {
		t.Fatalf("%d report jobs for the refused recipient after replacing, want 1", n)
	}
	if err := st.CancelScheduled(ctx, a.ID, mixed.ID); err != nil {
		t.Fatalf("cancelling the replaced message: %v", err)
	}

	other := *sent
	if err := st.ReplaceScheduled(ctx, &store.Accept{Message: &other}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("replacing a sent message = %v, want ErrConflict", err)
	}
	theirs := *sched
	theirs.AccountID = b.ID
	if err := st.ReplaceScheduled(ctx, &store.Accept{Message: &theirs}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replacing another account's message = %v, want ErrNotFound", err)
	}
}
