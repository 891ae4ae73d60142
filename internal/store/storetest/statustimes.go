package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// sentAt records that a connector took recipient seq, with one part, at a
// given time.
func sentAt(t *testing.T, st store.Store, m *message.Message, seq int, part string, at time.Time) {
	t.Helper()
	o := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: m.AccountID, MessageID: m.ID, Seq: seq, Status: message.Sent,
		At: at, Connector: "smsc-a", Parts: []string{part}, Notify: true}}}
	if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
		t.Fatal(err)
	}
}

// pastMessage is newMessage created (and, unless scheduled, sent) at a
// given time.
func pastMessage(a *store.Account, recipients int, created time.Time) *message.Message {
	m := newMessage(a, recipients)
	m.CreatedAt = created
	for i := range m.Recipients {
		m.Recipients[i].StatusAt = created
	}
	return m
}

// reportTimes leases the queued status reports and returns their times by
// message id, recipient and status.
func reportTimes(t *testing.T, st store.Store) map[string]time.Time {
	t.Helper()
	jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 100, For: time.Minute, Owner: "n"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]time.Time{}
	for _, j := range jobs {
		var rep store.Report
		if err := jsonUnmarshal(j.Payload, &rep); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("%s/%d/%s", j.MessageID, rep.Seq, rep.Status)] = rep.At
	}
	return out
}

// testReceiptTimes checks the time a receipt's status gets: the carrier's
// own time (an SMPP receipt's minute-precision done date, in the SMSC's time
// zone) only when it is plausible, the receipt's arrival otherwise, and
// never a time before the recipient's previous status; the status report
// says the time stored.
func testReceiptTimes(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	// An hour ago, so that the reports (due at their status time) are due.
	created := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Hour)
	m := pastMessage(a, 6, created)
	accept(t, st, m)
	// Accepted as sent at created; the parts recorded a little later.
	sent := created
	for i := range 6 {
		sentAt(t, st, m, i, fmt.Sprintf("t%d", i), sent.Add(time.Second))
	}
	// Recipient 5 got a later status, later than the receipts below arrive
	// (another node's clock runs ahead).
	later := sent.Add(10 * time.Minute)
	o := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: a.ID, MessageID: m.ID, Seq: 5, Status: message.Buffered, At: later}}}
	if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
		t.Fatal(err)
	}
	reportTimes(t, st) // the "sent" reports

	arrived := sent.Add(90 * time.Second)
	cases := []struct {
		name     string
		done     time.Time // the carrier's time; zero: none given
		received time.Time
		want     time.Time
	}{
		{"done date an hour before it was sent (SMSC behind UTC)", sent.Add(-time.Hour), arrived, arrived},
		{"done date hours ahead (SMSC ahead of UTC)", sent.Add(3 * time.Hour), arrived, arrived},
		{"plausible done date", sent.Add(30 * time.Second), arrived, sent.Add(30 * time.Second)},
		{"no done date", time.Time{}, arrived, arrived},
		{"arrival before the previous status", time.Time{}, sent.Add(-10 * time.Second), sent},
		{"plausible for others, before this one's previous status", sent.Add(30 * time.Second), arrived, later},
	}
	batch := make([]store.Receipt, len(cases))
	for i, c := range cases {
		batch[i] = store.Receipt{Connector: "smsc-a", ProviderIDs: []string{fmt.Sprintf("t%d", i)}, Status: message.Delivered, At: c.done, ReceivedAt: c.received}
	}
	// One batch (the delivered updates are applied as one group), then each
	// alone on a fresh message.
	if _, err := st.ApplyReceipts(ctx, batch); err != nil {
		t.Fatal(err)
	}
	reports := reportTimes(t, st)
	got, err := st.GetMessage(ctx, a.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		r := got.Recipients[i]
		if r.Status != message.Delivered {
			t.Fatalf("%s: status %s", c.name, r.Status)
		}
		if r.StatusAt.Before(c.want) {
			t.Errorf("%s (batch): status time %s, before %s", c.name, r.StatusAt.Format(time.RFC3339Nano), c.want.Format(time.RFC3339Nano))
		}
		if r.StatusAt.After(arrived.Add(store.ReceiptClockSkew)) && !c.want.After(arrived) {
			t.Errorf("%s (batch): status time %s, after the arrival", c.name, r.StatusAt.Format(time.RFC3339Nano))
		}
		if rep := reports[fmt.Sprintf("%s/%d/%s", m.ID, i, message.Delivered)]; !rep.Equal(r.StatusAt) {
			t.Errorf("%s (batch): report says %s, stored %s", c.name, rep.Format(time.RFC3339Nano), r.StatusAt.Format(time.RFC3339Nano))
		}
	}
	for i, c := range cases {
		one := pastMessage(a, 1, created)
		accept(t, st, one)
		if i == len(cases)-1 {
			o := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: a.ID, MessageID: one.ID, Status: message.Buffered, At: later}}}
			if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
				t.Fatal(err)
			}
		}
		id := fmt.Sprintf("one-%d", i)
		sentAt(t, st, one, 0, id, sent.Add(time.Second))
		r := batch[i]
		r.ProviderIDs = []string{id}
		if _, err := st.ApplyReceipts(ctx, []store.Receipt{r}); err != nil {
			t.Fatal(err)
		}
		rec := recipientStatus(t, st, one, 0)
		if !rec.StatusAt.Equal(c.want) {
			t.Errorf("%s: status time %s, want %s", c.name, rec.StatusAt.Format(time.RFC3339Nano), c.want.Format(time.RFC3339Nano))
		}
		if rep := reportTimes(t, st)[fmt.Sprintf("%s/0/%s", one.ID, message.Delivered)]; !rep.Equal(rec.StatusAt) {
			t.Errorf("%s: report says %s, stored %s", c.name, rep.Format(time.RFC3339Nano), rec.StatusAt.Format(time.RFC3339Nano))
		}
	}

	// A receipt that beats the submit response is kept, and applied when
	// the part is recorded with the time it arrived.
	early := pastMessage(a, 1, created)
	accept(t, st, early)
	if _, err := st.ApplyReceipts(ctx, []store.Receipt{{Connector: "smsc-a", ProviderIDs: []string{"early"}, Status: message.Delivered,
		At: sent.Add(-time.Hour), ReceivedAt: sent.Add(5 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	sentAt(t, st, early, 0, "early", sent.Add(6*time.Second))
	if r := recipientStatus(t, st, early, 0); r.Status != message.Delivered || !r.StatusAt.Equal(sent.Add(5*time.Second)) {
		t.Fatalf("early receipt: %s at %s, want delivered at its arrival %s", r.Status, r.StatusAt.Format(time.RFC3339Nano), sent.Add(5*time.Second).Format(time.RFC3339Nano))
	}
}

// testStatusTimeNeverBackwards checks that a status update with a time
// before the recipient's previous status, or before the message was
// created, records the previous time instead — alone or in a group — and
// that its report says so.
func testStatusTimeNeverBackwards(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 3)
	accept(t, st, m)
	earlier := m.CreatedAt.Add(-time.Hour)
	// Recipient 0 named twice in one batch (its updates are applied one by
	// one); 1 and 2 in one group of the same status.
	batches := [][]store.StatusUpdate{
		{{Seq: 0, Status: message.Buffered}, {Seq: 0, Status: message.Delivered}},
		{{Seq: 1, Status: message.Buffered}, {Seq: 2, Status: message.Buffered}},
	}
	want := []message.Status{message.Delivered, message.Buffered, message.Buffered}
	for _, updates := range batches {
		o := &store.Outcome{}
		for _, u := range updates {
			u.AccountID, u.MessageID, u.At, u.Notify = a.ID, m.ID, earlier, true
			o.Updates = append(o.Updates, u)
		}
		if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
			t.Fatal(err)
		}
		for _, u := range o.Updates {
			if !u.Applied || !u.At.Equal(m.CreatedAt) {
				t.Errorf("recipient %d %s: applied %v at %s, want at the creation time %s", u.Seq, u.Status, u.Applied, u.At.Format(time.RFC3339Nano), m.CreatedAt.Format(time.RFC3339Nano))
			}
		}
	}
	reports := reportTimes(t, st)
	got, _ := st.GetMessage(ctx, a.ID, m.ID)
	for i, r := range got.Recipients {
		if r.Status != want[i] || !r.StatusAt.Equal(m.CreatedAt) {
			t.Errorf("recipient %d: %s at %s, want %s at %s", i, r.Status, r.StatusAt.Format(time.RFC3339Nano), want[i], m.CreatedAt.Format(time.RFC3339Nano))
		}
	}
	if len(reports) != 4 {
		t.Errorf("%d reports, want 4", len(reports))
	}
	for k, at := range reports {
		if !at.Equal(m.CreatedAt) {
			t.Errorf("report %s at %s", k, at.Format(time.RFC3339Nano))
		}
	}

	// A scheduled recipient has no status time yet: its creation bounds it.
	s := newMessage(a, 1, func(m *message.Message) { m.ScheduledAt = m.CreatedAt.Add(time.Hour) })
	accept(t, st, s)
	o := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: a.ID, MessageID: s.ID, Status: message.Sent, At: earlier}}}
	if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
		t.Fatal(err)
	}
	if r := recipientStatus(t, st, s, 0); r.Status != message.Sent || !r.StatusAt.Equal(s.CreatedAt) {
		t.Fatalf("scheduled recipient: %s at %s, want sent at %s", r.Status, r.StatusAt.Format(time.RFC3339Nano), s.CreatedAt.Format(time.RFC3339Nano))
	}
}
