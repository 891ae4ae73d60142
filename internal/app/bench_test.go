package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// BenchmarkAccept measures the durable accept path end to end: HTTP, auth,
// validation, number parsing, encoding analysis and the group-committed
// write of message, recipients and job, with 64 concurrent clients. It
// reports accepted recipients per second. Workers are off (APIOnly) so that
// only accepting is measured. SQLite runs with synchronous=FULL, as served.
//
//	go test -run '^$' -bench BenchmarkAccept -benchtime 5s ./internal/app/
//
// charging=on prices every recipient (the demo's catch-all price) and
// charges the balance, the ledger and usage limits in the accept
// transaction; charging=off is the same path with billing disabled. Every
// message passes the compliance engine: purpose=transactional checks the
// sender, the text and the suppression list; purpose=marketing also reads
// the consent ledger (every recipient opted in) and the do-not-disturb
// registries.
func BenchmarkAccept(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, n := range []int{1, 50} {
			for _, mode := range []struct {
				charging bool
				purpose  string
			}{{true, "transactional"}, {false, "transactional"}, {true, "marketing"}} {
				b.Run(fmt.Sprintf("%s/recipients=%d/charging=%v/purpose=%s", engine, n, mode.charging, mode.purpose), func(b *testing.B) {
					benchAccept(b, engine, n, mode.charging, mode.purpose)
				})
			}
		}
	}
}

func benchAccept(b *testing.B, engine string, recipients int, charging bool, purpose string) {
	s := startBench(b, engine, func(c *Config) { c.Billing.Disabled = !charging })
	if charging {
		// Enough money for any run, and a usage limit, as a billed account has.
		if err := s.app.store.AddLedgerEntry(context.Background(), &store.LedgerEntry{AccountID: s.accountID, Kind: store.LedgerTopUp,
			Amount: 1 << 50, Reason: "benchmark"}); err != nil {
			b.Fatal(err)
		}
		if err := s.app.store.SetUsageLimit(context.Background(), store.UsageLimit{AccountID: s.accountID, Metric: store.MetricSpend,
			Period: store.PeriodMonth, Limit: 1 << 60, Policy: store.PolicyBlock}); err != nil {
			b.Fatal(err)
		}
	}
	nums := make([]string, recipients)
	for i := range nums {
		nums[i] = fmt.Sprintf(`"3161234%04d"`, i)
	}
	body := []byte(`{"originator":"Bench","body":"Your code is 123456","recipients":[` + strings.Join(nums, ",") + `]}`)
	if purpose == "marketing" {
		var cs []*store.Consent
		for _, n := range nums {
			cs = append(cs, &store.Consent{AccountID: s.accountID, Recipient: strings.Trim(n, `"`), Purpose: "marketing", Action: store.OptIn,
				Source: store.SourceImport, CreatedAt: time.Now()})
		}
		if err := s.app.store.AddConsents(context.Background(), cs); err != nil {
			b.Fatal(err)
		}
		body = []byte(`{"originator":"Bench","body":"20% off this weekend","purpose":"marketing","urgent":true,"recipients":[` + strings.Join(nums, ",") + `]}`)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", s.url+"/messages", bytes.NewReader(body))
			req.Header.Set("Authorization", "AccessKey "+s.key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N*recipients)/elapsed.Seconds(), "recipients/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "requests/s")
}
