package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// BenchmarkHLR measures HLR requests end to end with 32 concurrent
// clients, workers off (APIOnly) so that only accepting is measured:
//
//	go test -run '^$' -bench BenchmarkHLR -benchtime 3s ./internal/app/
//
// create: POST /hlr — priced, charged and queued in one transaction per
// query. send/check=off and send/check=cached: POST /messages to one
// recipient without the check before sending, and with it when the
// recipient's answer is cached (one indexed read per recipient).
func BenchmarkHLR(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine+"/create", func(b *testing.B) {
			s := hlrBench(b, engine)
			benchPost(b, s, "/hlr", []byte(`{"msisdn":"31612345678","reference":"bench"}`), "queries/s")
		})
		for _, check := range []string{"off", "cached"} {
			b.Run(engine+"/send/check="+check, func(b *testing.B) {
				s := hlrBench(b, engine)
				if check == "cached" {
					ctx := context.Background()
					if err := s.app.store.SetHLRSettings(ctx, store.HLRSettings{AccountID: s.accountID, CheckBeforeSend: true}); err != nil {
						b.Fatal(err)
					}
					// The first message asks the HLR; the rest reuse the answer.
					if r := s.postJSON(s.key, map[string]any{"originator": "Bench", "recipients": "31612345678", "body": "warm"}); r.status != 201 {
						b.Fatalf("warm-up: %d %s", r.status, r.raw)
					}
				}
				benchPost(b, s, "/messages", []byte(`{"originator":"Bench","body":"Your code is 123456","recipients":["31612345678"]}`), "messages/s")
			})
		}
	}
}

func hlrBench(b *testing.B, engine string) *server {
	s := startBench(b, engine, func(c *Config) { c.HLRSimDelay = -1 })
	if err := s.app.store.AddLedgerEntry(context.Background(), &store.LedgerEntry{AccountID: s.accountID, Kind: store.LedgerTopUp,
		Amount: 1 << 50, Reason: "benchmark"}); err != nil {
		b.Fatal(err)
	}
	return s
}

func benchPost(b *testing.B, s *server, path string, body []byte, unit string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", s.url+path, bytes.NewReader(body))
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
				b.Errorf("POST %s: status %d", path, resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), unit)
}
