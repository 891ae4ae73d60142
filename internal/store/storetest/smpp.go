package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// smppBehaviours cover carrier parts, receipts, inbound messages and routing.
var smppBehaviours = []behaviour{
	{"ReceiptsRollUp", testReceiptsRollUp},
	{"ReceiptBatch", testReceiptBatch},
	{"ReceiptsLeasedReports", testReceiptsLeasedReports},
	{"EarlyReceipt", testEarlyReceipt},
	{"EchoedReceipts", testEchoedReceipts},
	{"EarlyStatusesInAnyOrder", testEarlyStatusesInAnyOrder},
	{"ReceiptTimes", testReceiptTimes},
	{"StatusTimeNeverBackwards", testStatusTimeNeverBackwards},
	{"ConcurrentReceipts", testConcurrentReceipts},
	{"Numbers", testNumbers},
	{"InboundParts", testInboundParts},
	{"ConcurrentInboundParts", testConcurrentInboundParts},
	{"InboundMessageJob", testInboundMessageJob},
	{"Routing", testRouting},
}

// submit records that a connector took recipient seq with the given part ids.
func submit(t *testing.T, st store.Store, m *message.Message, seq int, connector string, parts ...string) {
	t.Helper()
	o := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: m.AccountID, MessageID: m.ID, Seq: seq, Status: message.Sent,
		At: time.Now(), Connector: connector, Parts: parts, Notify: true}}}
	if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
		t.Fatal(err)
	}
}

func receipt(t *testing.T, st store.Store, connector string, status message.Status, code int, ids ...string) store.ReceiptOutcome {
	t.Helper()
	out, err := st.ApplyReceipts(ctx, []store.Receipt{{Connector: connector, ProviderIDs: ids, Status: status, ErrorCode: code, At: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func recipientStatus(t *testing.T, st store.Store, m *message.Message, seq int) message.Recipient {
	t.Helper()
	got, err := st.GetMessage(ctx, m.AccountID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got.Recipients[seq]
}

func testReceiptsRollUp(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 2)
	accept(t, st, m)
	submit(t, st, m, 0, "smsc-a", "a1", "a2")
	submit(t, st, m, 1, "smsc-a", "b1")

	if o := receipt(t, st, "smsc-a", message.Delivered, 0, "a1"); !o.Matched || o.MessageID != m.ID || o.Seq != 0 || !o.Changed || o.Status != message.Buffered || !o.Reported {
		t.Fatalf("first part delivered: %+v (want buffered: one of two parts)", o)
	}
	if o := receipt(t, st, "smsc-a", message.Delivered, 0, "a2"); o.Status != message.Delivered || !o.Changed {
		t.Fatalf("second part delivered: %+v", o)
	}
	if r := recipientStatus(t, st, m, 0); r.Status != message.Delivered {
		t.Fatalf("recipient 0: %+v", r)
	}
	// A failed part fails the recipient with the carrier's code.
	if o := receipt(t, st, "smsc-a", message.DeliveryFailed, 34, "b1"); o.Status != message.DeliveryFailed {
		t.Fatalf("failed part: %+v", o)
	}
	if r := recipientStatus(t, st, m, 1); r.Status != message.DeliveryFailed || r.StatusErrorCode != 34 {
		t.Fatalf("recipient 1: %+v", r)
	}
	// Duplicates and late receipts change nothing.
	if o := receipt(t, st, "smsc-a", message.Buffered, 0, "a1"); !o.Matched || o.Changed || o.Reported {
		t.Fatalf("late receipt: %+v", o)
	}
	// Ids are per connector.
	if o := receipt(t, st, "smsc-b", message.Delivered, 0, "b1"); o.Matched {
		t.Fatalf("another connector's id matched: %+v", o)
	}
	// Every change asked for a status report (the message has a report
	// URL): buffered, delivered, failed.
	reports, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 10, For: time.Minute, Owner: "n"})
	if len(reports) != 3 {
		t.Fatalf("%d reports, want 3", len(reports))
	}
	// Without a report URL anywhere, receipts enqueue no reports.
	quiet := newMessage(a, 1, func(m *message.Message) { m.ReportURL = "" })
	accept(t, st, quiet)
	submit(t, st, quiet, 0, "smsc-a", "q1")
	if o := receipt(t, st, "smsc-a", message.Delivered, 0, "q1"); !o.Changed || o.Reported {
		t.Fatalf("receipt for a quiet message: %+v", o)
	}
	if more, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 10, For: time.Minute, Owner: "n"}); len(more) != 0 {
		t.Fatalf("%d reports for a message without a report URL", len(more))
	}
}

// testReceiptsLeasedReports stores the status reports that receipts queue
// leased, up to the lease's N (ApplyReceiptsLeased): those come back with
// their ids, as LeaseJobs would give them, and no other node can lease
// them; the others are queued due, and counted.
func testReceiptsLeasedReports(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 3)
	accept(t, st, m)
	for seq := range 3 {
		submit(t, st, m, seq, "smsc-a", fmt.Sprintf("lr%d", seq))
	}
	var rs []store.Receipt
	for seq := range 3 {
		rs = append(rs, store.Receipt{Connector: "smsc-a", ProviderIDs: []string{fmt.Sprintf("lr%d", seq)}, Status: message.Delivered, At: time.Now()})
	}
	lease := &store.Lease{Kind: store.JobReport, N: 2, For: time.Minute, Owner: "node-a"}
	outs, leased, queued, err := st.ApplyReceiptsLeased(ctx, rs, lease)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outs {
		if !o.Matched || !o.Changed || !o.Reported || o.Status != message.Delivered {
			t.Fatalf("receipt %d: %+v", i, o)
		}
	}
	if len(leased) != 2 || queued != 1 {
		t.Fatalf("%d reports leased and %d queued, want 2 and 1", len(leased), queued)
	}
	seqOf := func(j *store.Job) int {
		var rep store.Report
		if err := json.Unmarshal(j.Payload, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Status != message.Delivered {
			t.Fatalf("report %+v", rep)
		}
		return rep.Seq
	}
	seen := map[int]bool{}
	for _, j := range leased {
		if j.ID == 0 || j.Kind != store.JobReport || j.MessageID != m.ID || j.AccountID != a.ID || j.Attempts != 1 || !j.RunAt.After(time.Now()) {
			t.Fatalf("leased report %+v", j)
		}
		seen[seqOf(j)] = true
	}
	// Another node leases the one queued due, not the two leased to node-a.
	other, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 10, For: time.Minute, Owner: "node-b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(other) != 1 || seen[seqOf(other[0])] {
		t.Fatalf("node-b leased %d reports (want the one not leased)", len(other))
	}
	seen[seqOf(other[0])] = true
	if len(seen) != 3 {
		t.Fatalf("reports on recipients %v, want 0, 1 and 2", seen)
	}
	// Finishing the leased ones deletes them, as with LeaseJobs' jobs.
	var done []*store.Outcome
	for _, j := range append(leased, other...) {
		done = append(done, &store.Outcome{JobID: j.ID})
	}
	if err := st.Finish(ctx, done); err != nil {
		t.Fatal(err)
	}
	if q, err := st.QueueStats(ctx); err != nil || q.Depth[store.JobReport] != 0 {
		t.Fatalf("report jobs left after finishing: %+v, %v", q.Depth, err)
	}
	// A lease larger than the reports leases them all; none leases none.
	m2 := newMessage(a, 2)
	accept(t, st, m2)
	submit(t, st, m2, 0, "smsc-a", "lr-x")
	submit(t, st, m2, 1, "smsc-a", "lr-y")
	if _, leased, queued, err := st.ApplyReceiptsLeased(ctx, []store.Receipt{{Connector: "smsc-a", ProviderIDs: []string{"lr-x"},
		Status: message.Delivered, At: time.Now()}}, &store.Lease{Kind: store.JobReport, N: 10, For: time.Minute, Owner: "node-a"}); err != nil || len(leased) != 1 || queued != 0 {
		t.Fatalf("lease of 10 for one report: %d leased, %d queued, %v", len(leased), queued, err)
	}
	if _, leased, queued, err := st.ApplyReceiptsLeased(ctx, []store.Receipt{{Connector: "smsc-a", ProviderIDs: []string{"lr-y"},
		Status: message.Delivered, At: time.Now()}}, nil); err != nil || len(leased) != 0 || queued != 1 {
		t.Fatalf("no lease: %d leased, %d queued, %v", len(leased), queued, err)
	}
}

// testReceiptBatch applies receipts in one batch — first parts of two-part
// recipients, a part named twice, a failure — and checks, with later
// receipts that roll up from the stored parts, that every part was written.
func testReceiptBatch(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	var two []*message.Message
	for i := range 6 {
		m := newMessage(a, 1)
		accept(t, st, m)
		submit(t, st, m, 0, "smsc-a", fmt.Sprintf("x%d-1", i), fmt.Sprintf("x%d-2", i))
		two = append(two, m)
	}
	m := newMessage(a, 2)
	accept(t, st, m)
	submit(t, st, m, 0, "smsc-a", "b1")
	submit(t, st, m, 1, "smsc-a", "c1")
	now := time.Now()
	batch := []store.Receipt{
		{Connector: "smsc-a", ProviderIDs: []string{"b1"}, Status: message.Buffered, At: now},
		{Connector: "smsc-a", ProviderIDs: []string{"c1"}, Status: message.DeliveryFailed, ErrorCode: 34, At: now},
		{Connector: "smsc-a", ProviderIDs: []string{"b1"}, Status: message.Delivered, At: now},
	}
	for i := range two {
		batch = append(batch, store.Receipt{Connector: "smsc-a", ProviderIDs: []string{fmt.Sprintf("x%d-1", i)}, Status: message.Delivered, At: now})
	}
	out, err := st.ApplyReceipts(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if !o.Matched || !o.Changed {
			t.Fatalf("receipt %d (%v %s): %+v", i, batch[i].ProviderIDs, batch[i].Status, o)
		}
	}
	if out[0].Status != message.Buffered || out[2].Status != message.Delivered || out[1].Status != message.DeliveryFailed || out[3].Status != message.Buffered {
		t.Fatalf("outcomes %+v", out)
	}
	if r := recipientStatus(t, st, m, 0); r.Status != message.Delivered {
		t.Fatalf("recipient named twice: %+v", r)
	}
	if r := recipientStatus(t, st, m, 1); r.Status != message.DeliveryFailed || r.StatusErrorCode != 34 {
		t.Fatalf("failed recipient: %+v", r)
	}
	for i, tm := range two {
		if r := recipientStatus(t, st, tm, 0); r.Status != message.Buffered {
			t.Fatalf("two-part recipient %d after its first part: %+v", i, r)
		}
		// Delivered only if the batch stored the first part as delivered.
		if o := receipt(t, st, "smsc-a", message.Delivered, 0, fmt.Sprintf("x%d-2", i)); o.Status != message.Delivered || !o.Changed {
			t.Fatalf("two-part recipient %d after its second part: %+v", i, o)
		}
	}
	// The failed part stays failed: a late delivered receipt changes nothing.
	if o := receipt(t, st, "smsc-a", message.Delivered, 0, "c1"); o.Changed || o.Status != message.DeliveryFailed {
		t.Fatalf("late receipt for a failed part: %+v", o)
	}
}

func testEarlyReceipt(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 1)
	accept(t, st, m)
	// The receipt arrives before the submit response is recorded, with its
	// id in decimal where the submit response will say hex.
	if o := receipt(t, st, "smsc-a", message.Delivered, 0, "255", "ff"); o.Matched {
		t.Fatalf("matched before the part exists: %+v", o)
	}
	submit(t, st, m, 0, "smsc-a", "ff")
	if r := recipientStatus(t, st, m, 0); r.Status != message.Delivered || r.Connector != "smsc-a" {
		t.Fatalf("early receipt not applied when the part was recorded: %+v", r)
	}
	if n, err := st.PurgePendingReceipts(ctx, time.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("pending receipts left after matching: %d, %v", n, err)
	}
	// Receipts that never match are purged.
	receipt(t, st, "smsc-a", message.Delivered, 0, "nothing")
	if n, err := st.PurgePendingReceipts(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
}

// testEchoedReceipts covers parts whose provider echoes the message id in
// its receipts (store.StatusUpdate.PartsEchoed, WhatsApp): a receipt naming
// the message finds them, early or late, and only among that message's
// parts; one naming the carrier id alone does not (they are kept out of the
// carrier-id index). Parts sent without it are found either way.
func testEchoedReceipts(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	echoed := func(m *message.Message, seq int, parts ...string) {
		t.Helper()
		o := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: m.AccountID, MessageID: m.ID, Seq: seq, Status: message.Sent,
			At: time.Now(), Connector: "wa", Parts: parts, PartsEchoed: true, Notify: true}}}
		if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
			t.Fatal(err)
		}
	}
	echo := func(messageID string, status message.Status, id string) store.ReceiptOutcome {
		t.Helper()
		out, err := st.ApplyReceipts(ctx, []store.Receipt{{Connector: "wa", MessageID: messageID, ProviderIDs: []string{id}, Status: status, At: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	m, other := newMessage(a, 2), newMessage(a, 1)
	accept(t, st, m)
	accept(t, st, other)
	echoed(m, 0, "wamid.A")
	echoed(m, 1, "wamid.B")
	if o := receipt(t, st, "wa", message.Delivered, 0, "wamid.A"); o.Matched {
		t.Fatalf("an echoed part matched by its carrier id alone: %+v", o)
	}
	if o := echo(other.ID, message.Delivered, "wamid.A"); o.Matched {
		t.Fatalf("an echoed part matched through another message: %+v", o)
	}
	if o := echo(m.ID, message.Delivered, "wamid.B"); !o.Matched || o.MessageID != m.ID || o.Seq != 1 || o.Status != message.Delivered || !o.Changed {
		t.Fatalf("echoed receipt: %+v", o)
	}
	if r := recipientStatus(t, st, m, 1); r.Status != message.Delivered {
		t.Fatalf("recipient 1: %+v", r)
	}
	// In one batch, with receipts of other messages and of carrier ids.
	submit(t, st, other, 0, "smsc-a", "s1")
	out, err := st.ApplyReceipts(ctx, []store.Receipt{
		{Connector: "wa", MessageID: m.ID, ProviderIDs: []string{"wamid.A"}, Status: message.Delivered, At: time.Now()},
		{Connector: "smsc-a", ProviderIDs: []string{"s1"}, Status: message.Delivered, At: time.Now()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Matched || out[0].Seq != 0 || !out[1].Matched || out[1].MessageID != other.ID {
		t.Fatalf("mixed batch: %+v", out)
	}
	// A status that beats the send's answer is kept and applied when the
	// part is recorded.
	early := newMessage(a, 1)
	accept(t, st, early)
	if o := echo(early.ID, message.Delivered, "wamid.C"); o.Matched {
		t.Fatalf("matched before the part exists: %+v", o)
	}
	echoed(early, 0, "wamid.C")
	if r := recipientStatus(t, st, early, 0); r.Status != message.Delivered || r.Connector != "wa" {
		t.Fatalf("early echoed receipt not applied when the part was recorded: %+v", r)
	}
	if n, err := st.PurgePendingReceipts(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		// The two unmatched receipts above (by carrier id alone, and
		// through the other message) were kept, in one row: pending
		// receipts are kept by carrier id.
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
}

// testEarlyStatusesInAnyOrder covers WhatsApp's statuses all beating the
// send's answer, in the worst order: read (delivered, with the read event),
// then delivered, then sent. Once the part is recorded the recipient is
// delivered, not sent, and read: the event is kept with the receipt,
// recorded once and reported once.
func testEarlyStatusesInAnyOrder(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 1)
	accept(t, st, m)
	for _, r := range []store.Receipt{
		{Status: message.Delivered, Event: store.EventRead},
		{Status: message.Delivered},
		{Status: message.Sent},
	} {
		r.Connector, r.MessageID, r.ProviderIDs, r.At = "wa", m.ID, []string{"wamid.E"}, time.Now()
		out, err := st.ApplyReceipts(ctx, []store.Receipt{r})
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Matched {
			t.Fatalf("matched before the part exists: %+v", out[0])
		}
	}
	o := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: m.AccountID, MessageID: m.ID, Seq: 0, Status: message.Sent,
		At: time.Now(), Connector: "wa", Parts: []string{"wamid.E"}, PartsEchoed: true, Notify: true}}}
	if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
		t.Fatal(err)
	}
	if r := recipientStatus(t, st, m, 0); r.Status != message.Delivered {
		t.Fatalf("recipient after its early statuses: %s, want delivered", r.Status)
	}
	// The caller learns what the early receipts applied, to count it.
	if len(o.Early) != 1 || o.Early[0].Status != message.Delivered || !o.Early[0].Applied || o.Early[0].Connector != "wa" || o.Early[0].MessageID != m.ID {
		t.Fatalf("Finish's early updates: %+v", o.Early)
	}
	got, err := st.MessageEvents(ctx, a.ID, []string{m.ID})
	if err != nil {
		t.Fatal(err)
	}
	if es := got[m.ID]; len(es) != 1 || es[0].Event != store.EventRead {
		t.Fatalf("events after an early read: %+v, want one read", es)
	}
	jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 1000, For: time.Minute, Owner: "early"})
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, j := range jobs {
		var r store.Report
		if err := json.Unmarshal(j.Payload, &r); err != nil {
			t.Fatal(err)
		}
		if j.MessageID == m.ID && r.Event == store.EventRead {
			reads++
		}
	}
	if reads != 1 {
		t.Fatalf("%d read reports of the early read, want 1", reads)
	}
	// A read repeated once the part is known changes nothing.
	out, err := st.ApplyReceipts(ctx, []store.Receipt{{Connector: "wa", MessageID: m.ID, ProviderIDs: []string{"wamid.E"},
		Status: message.Delivered, Event: store.EventRead, At: time.Now()}})
	if err != nil || !out[0].Matched || out[0].Changed || out[0].Reported {
		t.Fatalf("read again: %+v, %v", out, err)
	}
}

func testNumbers(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	if err := st.AddNumber(ctx, store.Number{Number: "3197010000001", AccountID: a.ID, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddNumber(ctx, store.Number{Number: "3197010000001", AccountID: a.ID, CreatedAt: time.Now()}); err != nil {
		t.Fatalf("re-adding to the same account: %v", err)
	}
	if err := st.AddNumber(ctx, store.Number{Number: "3197010000001", AccountID: b.ID, CreatedAt: time.Now()}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taking another account's number = %v, want ErrConflict", err)
	}
	if err := st.AddNumber(ctx, store.Number{Number: "3197010000002", AccountID: "nobody", CreatedAt: time.Now()}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("number for an unknown account = %v, want ErrNotFound", err)
	}
	if owner, err := st.NumberOwner(ctx, "3197010000001"); err != nil || owner != a.ID {
		t.Fatalf("owner %q, %v", owner, err)
	}
	if _, err := st.NumberOwner(ctx, "3197010000009"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("owner of an unknown number: %v", err)
	}
	if ns, _ := st.ListNumbers(ctx, b.ID); len(ns) != 0 {
		t.Fatalf("b has %v", ns)
	}
	if ns, _ := st.ListNumbers(ctx, ""); len(ns) != 1 || ns[0].AccountID != a.ID {
		t.Fatalf("all numbers: %v", ns)
	}
	if err := st.RemoveNumber(ctx, "3197010000001"); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveNumber(ctx, "3197010000001"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	if err := st.SetInboundURL(ctx, a.ID, "https://example.com/in"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetAccount(ctx, a.ID); got.InboundURL != "https://example.com/in" {
		t.Fatalf("inbound URL %q", got.InboundURL)
	}
}

func testInboundParts(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	var assembled []string
	part := func(n int, body string) *message.Message {
		t.Helper()
		got, err := st.AddInboundPart(ctx, store.InboundPart{Connector: "c", Source: "31612345678", Destination: "3197010000001",
			Ref: 7, Total: 3, Part: n, Body: body, ReceivedAt: time.Now()}, func(bodies []string) (*message.Message, error) {
			assembled = bodies
			return newMessage(a, 1, func(m *message.Message) {
				m.Direction, m.Body = message.MO, strings.Join(bodies, "")
			}), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := part(3, "C"); got != nil {
		t.Fatalf("complete after 1 of 3: %v", got)
	}
	if got := part(1, "A"); got != nil {
		t.Fatalf("complete after 2 of 3: %v", got)
	}
	part(1, "A") // a resent part does not count twice
	m := part(2, "B")
	if m == nil || !slices.Equal(assembled, []string{"A", "B", "C"}) {
		t.Fatalf("assembled %v", assembled)
	}
	// The message was stored with the parts' removal, with its inbound job.
	if got, err := st.GetMessage(ctx, a.ID, m.ID); err != nil || got.Body != "ABC" || got.Direction != message.MO {
		t.Fatalf("assembled message %+v, %v", got, err)
	}
	if jobs, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobInbound, N: 5, For: time.Minute, Owner: "n"}); len(jobs) != 1 {
		t.Fatalf("%d inbound jobs", len(jobs))
	}
	if got := part(1, "X"); got != nil { // a new message with the same ref starts afresh
		t.Fatalf("old parts left: %v", got)
	}
	if n, err := st.PurgeInboundParts(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if _, err := st.AddInboundPart(ctx, store.InboundPart{Connector: "c", Total: 2, Part: 3}, nil); err == nil {
		t.Fatal("part 3 of 2 accepted")
	}
}

func testInboundMessageJob(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	mo := newMessage(a, 1, func(m *message.Message) { m.Direction = message.MO })
	accept(t, st, mo)
	jobs, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobInbound, N: 5, For: time.Minute, Owner: "n"})
	if len(jobs) != 1 || jobs[0].MessageID != mo.ID {
		t.Fatalf("inbound jobs %+v, want one for the MO message", jobs)
	}
	if send, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 5, For: time.Minute, Owner: "n"}); len(send) != 0 {
		t.Fatalf("an inbound message got a send job")
	}
}

func testRouting(t *testing.T, st store.Store) {
	c := store.ConnectorConfig{Name: "smsc-a", Kind: "smpp", Settings: []byte(`{"host":"127.0.0.1"}`), Enabled: true, UpdatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := st.SaveConnector(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Enabled, c.Settings = false, []byte(`{"host":"10.0.0.1"}`)
	if err := st.SaveConnector(ctx, c); err != nil {
		t.Fatal(err)
	}
	list, err := st.ListConnectors(ctx)
	if err != nil || len(list) != 1 || list[0].Enabled || string(list[0].Settings) != `{"host":"10.0.0.1"}` {
		t.Fatalf("connectors %+v, %v", list, err)
	}
	nl := destination.Pattern{Prefix: "31"}
	r := &store.Route{Channel: "sms", Pattern: nl, Connectors: []string{"smsc-a", "smsc-b"}, CreatedAt: time.Now()}
	if err := st.AddRoute(ctx, r); err != nil || r.ID == 0 {
		t.Fatalf("AddRoute: %v (id %d)", err, r.ID)
	}
	if err := st.AddRoute(ctx, &store.Route{Channel: "sms", Pattern: nl, Connectors: []string{"x"}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate route = %v", err)
	}
	if err := st.AddRoute(ctx, &store.Route{AccountID: "acct", Channel: "sms", Pattern: nl, Connectors: []string{"x"}}); err != nil {
		t.Fatalf("account override: %v", err)
	}
	// The same destination on another channel, or for one sender, is
	// another route.
	if err := st.AddRoute(ctx, &store.Route{Channel: "email", Pattern: destination.Pattern{Domain: "example.com"}, Connectors: []string{"mx"}}); err != nil {
		t.Fatalf("email route: %v", err)
	}
	if err := st.AddRoute(ctx, &store.Route{Channel: "sms", Sender: "Acme", Pattern: nl, Connectors: []string{"y"}}); err != nil {
		t.Fatalf("sender route: %v", err)
	}
	routes, _ := st.ListRoutes(ctx)
	if len(routes) != 4 || !slices.Equal(routes[0].Connectors, []string{"mx"}) || routes[0].Domain != "example.com" ||
		!slices.Equal(routes[1].Connectors, []string{"smsc-a", "smsc-b"}) || routes[2].Sender != "Acme" {
		t.Fatalf("routes %+v", routes)
	}
	if err := st.DeleteRoute(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteRoute(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	if err := st.DeleteConnector(ctx, "smsc-a"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteConnector(ctx, "smsc-a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

// Receipts for the parts of one recipient applied at the same moment, in
// separate transactions, still roll up to delivered (no lost update).
func testConcurrentReceipts(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	var msgs []*message.Message
	for i := 0; i < 20; i++ {
		m := newMessage(a, 1)
		msgs = append(msgs, m)
	}
	accept(t, st, msgs...)
	for i, m := range msgs {
		submit(t, st, m, 0, "smsc-a", fmt.Sprintf("m%d-1", i), fmt.Sprintf("m%d-2", i))
	}
	var wg sync.WaitGroup
	for i := range msgs {
		for _, part := range []string{"1", "2"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.ApplyReceipts(ctx, []store.Receipt{{Connector: "smsc-a", ProviderIDs: []string{fmt.Sprintf("m%d-%s", i, part)},
					Status: message.Delivered, At: time.Now()}}); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	for _, m := range msgs {
		if r := recipientStatus(t, st, m, 0); r.Status != message.Delivered {
			t.Fatalf("both parts delivered concurrently, recipient %s", r.Status)
		}
	}
}

// The parts of a concatenated inbound message arriving at the same moment,
// in separate transactions, still assemble into exactly one message.
func testConcurrentInboundParts(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	for ref := 1; ref <= 10; ref++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var done []*message.Message
		for part := 1; part <= 3; part++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, err := st.AddInboundPart(ctx, store.InboundPart{Connector: "c", Source: "31612345678", Destination: "3197010000001",
					Ref: ref, Total: 3, Part: part, Body: strconv.Itoa(part), ReceivedAt: time.Now()}, func(bodies []string) (*message.Message, error) {
					return newMessage(a, 1, func(m *message.Message) { m.Direction, m.Body = message.MO, strings.Join(bodies, "") }), nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if m != nil {
					mu.Lock()
					done = append(done, m)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(done) != 1 || done[0].Body != "123" {
			t.Fatalf("ref %d: %d messages assembled (want exactly one, body 123)", ref, len(done))
		}
	}
}
