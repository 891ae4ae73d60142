package webhook

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// BenchmarkSignJWT is the MessageBird-Signature-JWT of one status report.
//
//	go test -run '^$' -bench . -benchmem ./internal/webhook/
func BenchmarkSignJWT(b *testing.B) {
	now := time.Now()
	url := "https://example.com/reports?id=01a249e26f8c5b45dbe3d1f865a6d573&recipient=31612345678&status=delivered"
	b.ReportAllocs()
	for b.Loop() {
		SignJWT("signing-key-0123456789abcdefghij", url, nil, now)
	}
}

// BenchmarkReportJob is what a status report's job costs before and after
// its call: the target URL with its query, and the attempt's log row.
func BenchmarkReportJob(b *testing.B) {
	payload, _ := json.Marshal(store.Report{Seq: 0, Status: message.Delivered, At: time.Now().UTC()})
	j := &store.Job{ID: 1, Kind: store.JobReport, AccountID: "a", MessageID: "01a249e26f8c5b45dbe3d1f865a6d573", Payload: payload, Attempts: 1}
	acct := &store.Account{ID: "a", ReportURL: "https://example.com/reports"}
	m := &message.Message{ID: j.MessageID, Recipients: []message.Recipient{{Address: "31612345678", PartCount: 1}}}
	t := &trace{url: "https://example.com/reports", code: 200}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := reportTarget(j, acct, m); err != nil {
			b.Fatal(err)
		}
		if a := reportAttempt(j, t, nil, false, time.Millisecond); a == nil {
			b.Fatal("no attempt")
		}
	}
}
