package webhook

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// A report job's message may hold only the recipients its batch reports on
// (worker.PreloadRecipients): the report goes to the recipient at its seq,
// not to whichever recipient sits at that position, and a recipient not
// held is gone rather than another's.
func TestReportOfSomeRecipients(t *testing.T) {
	m := &message.Message{ID: "m1", Reference: "ref", ReportURL: "http://127.0.0.1:1/dlr",
		Recipients: []message.Recipient{{Seq: 2, Address: "31600000002", PartCount: 1}, {Seq: 7, Address: "31600000007", PartCount: 2}}}
	job := func(seq int) *store.Job {
		payload, _ := json.Marshal(store.Report{Seq: seq, Status: message.Delivered, At: time.Unix(1700000000, 0)})
		return &store.Job{Kind: store.JobReport, MessageID: m.ID, Payload: payload}
	}
	for _, seq := range []int{2, 7} {
		if got := reportRecipient(job(seq)); len(got) != 1 || got[0] != seq {
			t.Fatalf("reportRecipient of a report on %d = %v", seq, got)
		}
		_, q, err := reportTarget(job(seq), &store.Account{}, m)
		if err != nil {
			t.Fatal(err)
		}
		if want := m.Recipient(seq); q.Get("recipient") != want.Address || q.Get("messagePartCount") != map[int]string{2: "1", 7: "2"}[seq] {
			t.Fatalf("report on recipient %d: %v", seq, q)
		}
	}
	for _, seq := range []int{0, 1, 3, -1} {
		var drop *dropError
		if _, _, err := reportTarget(job(seq), &store.Account{}, m); !errors.As(err, &drop) || drop.reason != "recipient gone" {
			t.Fatalf("report on recipient %d, not held: %v", seq, err)
		}
	}
	if got := reportRecipient(&store.Job{Payload: []byte(`{"status":"delivered"}`)}); got != nil {
		t.Fatalf("reportRecipient without a seq = %v, want nil (every recipient)", got)
	}
}
