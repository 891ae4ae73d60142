package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// eventBehaviours cover recipients' events.
var eventBehaviours = []behaviour{
	{"EventsBatch", testEventsBatch},
	{"ReadReceipts", testReadReceipts},
	{"ConcurrentReadReceipts", testConcurrentReadReceipts},
}

// Deliveries and reads (twice each) of the same messages applied at the
// same moment, in separate transactions, leave every recipient delivered
// with one read.
func testConcurrentReadReceipts(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	var msgs []*message.Message
	for range 10 {
		msgs = append(msgs, newMessage(a, 1))
	}
	accept(t, st, msgs...)
	for i, m := range msgs {
		submit(t, st, m, 0, "wa", fmt.Sprintf("wamid.c%d", i))
	}
	var wg sync.WaitGroup
	for i := range msgs {
		for _, event := range []string{"", store.EventRead, "", store.EventRead} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.ApplyReceipts(ctx, []store.Receipt{{Connector: "wa", Channel: message.ChannelWhatsApp,
					ProviderIDs: []string{fmt.Sprintf("wamid.c%d", i)}, Status: message.Delivered, Event: event, At: time.Now()}}); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
		if r := recipientStatus(t, st, m, 0); r.Status != message.Delivered {
			t.Errorf("recipient of message %d: %s, want delivered", i, r.Status)
		}
	}
	got, err := st.MessageEvents(ctx, a.ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		if len(got[m.ID]) != 1 || got[m.ID][0].Event != store.EventRead {
			t.Errorf("events of message %d: %+v, want one read", i, got[m.ID])
		}
	}
}

// A read receipt (WhatsApp's: delivered with the event read) records the
// read once and delivers a recipient not yet delivered; after delivered,
// in the same batch or a later one, it changes no status.
func testReadReceipts(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m1, m2, m3 := newMessage(a, 1), newMessage(a, 1), newMessage(a, 1)
	accept(t, st, m1, m2, m3)
	submit(t, st, m1, 0, "wa", "wamid.1")
	submit(t, st, m2, 0, "wa", "wamid.2")
	submit(t, st, m3, 0, "wa", "wamid.3")
	now := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Minute) // reports due at once
	rc := func(id string, event string, sec int) store.Receipt {
		return store.Receipt{Connector: "wa", Channel: message.ChannelWhatsApp, ProviderIDs: []string{id}, Status: message.Delivered,
			Event: event, At: now.Add(time.Duration(sec) * time.Second), ReceivedAt: now.Add(time.Duration(sec) * time.Second)}
	}
	if o := receipt(t, st, "wa", message.Delivered, 0, "wamid.3"); !o.Changed {
		t.Fatalf("delivered: %+v", o)
	}
	out, err := st.ApplyReceipts(ctx, []store.Receipt{
		rc("wamid.1", "", 1), rc("wamid.1", store.EventRead, 2), // delivered and read in one batch
		rc("wamid.2", store.EventRead, 3), // read first: it was delivered
		rc("wamid.3", store.EventRead, 4), // read after a delivered of an earlier batch
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each receipt queued a report (the message has a report URL): of its
	// change, its read, or both.
	want := []struct{ changed bool }{{true}, {false}, {true}, {false}}
	for i, o := range out {
		if !o.Matched || o.Changed != want[i].changed || o.Status != message.Delivered || !o.Reported {
			t.Errorf("receipt %d: %+v, want matched, delivered, changed %v, reported", i, o, want[i].changed)
		}
	}
	// A repeated read changes nothing, is not stored again, nor reported.
	if out, err := st.ApplyReceipts(ctx, []store.Receipt{rc("wamid.1", store.EventRead, 5)}); err != nil || out[0].Changed || out[0].Reported {
		t.Fatalf("repeated read: %+v, %v", out, err)
	}
	for _, m := range []*message.Message{m1, m2, m3} {
		if r := recipientStatus(t, st, m, 0); r.Status != message.Delivered {
			t.Errorf("recipient of %s: %s, want delivered", m.ID, r.Status)
		}
	}
	// Each read is reported once, with the recipient's status as the
	// batch left it (delivered), and each delivery once.
	jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 100, For: time.Minute, Owner: "n"})
	if err != nil {
		t.Fatal(err)
	}
	reads, delivered := map[string]int{}, map[string]int{}
	for _, j := range jobs {
		var r store.Report
		if err := json.Unmarshal(j.Payload, &r); err != nil {
			t.Fatal(err)
		}
		switch {
		case r.Event == store.EventRead && r.Status == message.Delivered:
			reads[j.MessageID]++
		case r.Event != "":
			t.Errorf("report of %s: %+v", j.MessageID, r)
		case r.Status == message.Delivered:
			delivered[j.MessageID]++
		}
	}
	for i, m := range []*message.Message{m1, m2, m3} {
		if reads[m.ID] != 1 || delivered[m.ID] != 1 {
			t.Errorf("message %d: %d read and %d delivered reports, want one each", i+1, reads[m.ID], delivered[m.ID])
		}
	}
	got, err := st.MessageEvents(ctx, a.ID, []string{m1.ID, m2.ID, m3.ID})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range []*message.Message{m1, m2, m3} {
		if es := got[m.ID]; len(es) != 1 || es[0].Event != store.EventRead || !es[0].At.Equal(now.Add(time.Duration([]int{2, 3, 4}[i])*time.Second)) {
			t.Errorf("events of message %d: %+v, want its one read", i+1, es)
		}
	}
}

// A batch of events is recorded as if one at a time: a once-only event
// (read) is stored once, the first of repeats in the batch or across
// batches wins, an event of a recipient that does not exist or of another
// account is not recorded, opens are all kept and only the first reported,
// and each recorded event of a message with a report URL is reported.
func testEventsBatch(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	m1 := newMessage(a, 3)
	m2 := newMessage(a, 1)
	quiet := newMessage(a, 1, func(m *message.Message) { m.ReportURL = "" }) // no report URL anywhere
	accept(t, st, m1, m2, quiet)
	at := time.Now().UTC().Truncate(time.Microsecond)
	ev := func(acc, msg string, seq int, event string, sec int) store.Event {
		return store.Event{AccountID: acc, MessageID: msg, Seq: seq, Event: event, At: at.Add(time.Duration(sec) * time.Second)}
	}
	es := []store.Event{
		ev(a.ID, m1.ID, 0, store.EventRead, 1),
		ev(a.ID, m1.ID, 2, store.EventRead, 2),
		ev(a.ID, m1.ID, 0, store.EventRead, 3), // a repeat in the batch
		ev(a.ID, m1.ID, 9, store.EventRead, 4), // no such recipient
		ev(b.ID, m2.ID, 0, store.EventRead, 5), // another account's message
		ev(a.ID, m2.ID, 0, store.EventOpened, 6),
		ev(a.ID, m2.ID, 0, store.EventOpened, 7), // opens are all kept, the first reported
		ev(a.ID, quiet.ID, 0, store.EventRead, 8),
		ev(a.ID, m2.ID, 0, store.EventRead, 9),
	}
	out, err := st.RecordEvents(ctx, es)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.EventOutcome{
		{Recorded: true, Reported: true}, {Recorded: true, Reported: true}, {}, {}, {},
		{Recorded: true, Reported: true}, {Recorded: true}, {Recorded: true}, {Recorded: true, Reported: true},
	}
	for i := range want {
		if out[i] != want[i] {
			t.Errorf("event %d (%s of %s/%d): %+v, want %+v", i, es[i].Event, es[i].MessageID, es[i].Seq, out[i], want[i])
		}
	}
	// Across batches a once-only event stays recorded once.
	out, err = st.RecordEvents(ctx, []store.Event{ev(a.ID, m1.ID, 2, store.EventRead, 10), ev(a.ID, m1.ID, 1, store.EventRead, 11)})
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != (store.EventOutcome{}) || out[1] != (store.EventOutcome{Recorded: true, Reported: true}) {
		t.Errorf("second batch: %+v", out)
	}
	got, err := st.MessageEvents(ctx, a.ID, []string{m1.ID, m2.ID, quiet.ID})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		seq   int
		event string
		at    time.Time
	}
	check := func(id string, want []row) {
		t.Helper()
		if len(got[id]) != len(want) {
			t.Fatalf("events of %s: %+v, want %+v", id, got[id], want)
		}
		for i, e := range got[id] {
			if e.Seq != want[i].seq || e.Event != want[i].event || !e.At.Equal(want[i].at) {
				t.Errorf("event %d of %s: %+v, want %+v", i, id, e, want[i])
			}
		}
	}
	check(m1.ID, []row{{0, store.EventRead, at.Add(time.Second)}, {2, store.EventRead, at.Add(2 * time.Second)},
		{1, store.EventRead, at.Add(11 * time.Second)}})
	check(m2.ID, []row{{0, store.EventOpened, at.Add(6 * time.Second)}, {0, store.EventOpened, at.Add(7 * time.Second)},
		{0, store.EventRead, at.Add(9 * time.Second)}})
	check(quiet.ID, []row{{0, store.EventRead, at.Add(8 * time.Second)}})
	if other, err := st.MessageEvents(ctx, b.ID, []string{m2.ID}); err != nil || len(other[m2.ID]) != 0 {
		t.Errorf("another account sees %+v (%v)", other, err)
	}
}
