package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/store"
)

// BenchmarkGroupReports sends messages to a group of 1,000 contacts
// (groupIds) with a report URL, through the SMSC simulator, until every
// recipient's delivered report has come. Each op is one recipient. The
// receipts of a message come over the time its thousand submits take, so
// its reports go out in many small batches: what matters is what each
// batch reads of the message (worker.PreloadRecipients). It reports
// reports/s and the process's CPU per report.
//
//	go test -run '^$' -bench BenchmarkGroupReports -benchtime 5000x ./internal/app/
func BenchmarkGroupReports(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			b.StopTimer()
			s := startBench(b, engine, func(c *Config) { c.APIOnly = false; c.Demo = false })
			s.useSMSC(smsc.Config{ReceiptDelay: 5 * time.Millisecond, Window: 10}, smppconn.Settings{Window: 10})
			waitFor(b, "bind", 10*time.Second, func() bool { return s.app.connectors.Running()["carrier"] > 0 })
			var reports atomic.Int64
			sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("status") == "delivered" {
					reports.Add(1)
				}
			}))
			defer sink.Close()
			const members = 1000
			ctx := context.Background()
			g := &store.Group{ID: ids.New(), AccountID: s.accountID, Name: "bench"}
			if err := s.app.store.CreateGroup(ctx, g); err != nil {
				b.Fatal(err)
			}
			contacts := make([]string, members)
			for i := range contacts {
				c := &store.Contact{ID: ids.New(), AccountID: s.accountID, MSISDN: fmt.Sprintf("3161%07d", i)}
				if err := s.app.store.CreateContact(ctx, c); err != nil {
					b.Fatal(err)
				}
				contacts[i] = c.ID
			}
			if err := s.app.store.AddGroupContacts(ctx, s.accountID, g.ID, contacts); err != nil {
				b.Fatal(err)
			}
			messages := (b.N + members - 1) / members
			b.StartTimer()
			start, cpu0 := time.Now(), cpuTime()
			for range messages {
				s.send(map[string]any{"originator": "Bench", "body": "Your parcel is on its way", "groupIds": []string{g.ID},
					"reportUrl": sink.URL + "/dlr"})
			}
			want := int64(messages * members)
			waitFor(b, "every recipient's report", 5*time.Minute, func() bool { return reports.Load() >= want })
			elapsed, cpu := time.Since(start), cpuTime()-cpu0
			b.StopTimer()
			b.ReportMetric(float64(want)/elapsed.Seconds(), "reports/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(want), "cpu-µs/report")
		})
	}
}
