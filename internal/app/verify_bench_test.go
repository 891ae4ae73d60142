package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// BenchmarkVerify measures verifications created and checked: POST /verify
// (fraud checks, a code from crypto/rand, the code's message through
// compliance, billing and the group-committed accept, the verification
// stored, the conversion watch) then GET /verify/{id}?token= with the
// right code, by 32 concurrent clients. The code is read from the stored
// message (the body the handset would get). Workers are off (APIOnly), so
// dispatch is not measured. Velocity limits are lifted for the run (the
// counting queries still run); the conversion watch stays on.
//
//	go test -run '^$' -bench BenchmarkVerify -benchtime 5s ./internal/app/
func BenchmarkVerify(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			s := startBench(b, engine)
			ctx := context.Background()
			if err := s.app.store.AddLedgerEntry(ctx, &store.LedgerEntry{AccountID: s.accountID, Kind: store.LedgerTopUp, Amount: 1 << 50, Reason: "benchmark"}); err != nil {
				b.Fatal(err)
			}
			if err := s.app.store.SetVerifySettings(ctx, s.accountID, &store.VerifySettings{PerNumber: -1, PerPrefix: -1, PerIP: -1, PerAccount: -1}); err != nil {
				b.Fatal(err)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
			do := func(method, path string, body []byte) (int, map[string]any) {
				req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(body))
				req.Header.Set("Authorization", "AccessKey "+s.key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return 0, nil
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				var m map[string]any
				json.Unmarshal(raw, &m)
				if resp.StatusCode >= 300 {
					b.Errorf("%s %s = %d %s", method, path, resp.StatusCode, raw)
				}
				return resp.StatusCode, m
			}
			var n atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					num := fmt.Sprintf("3161%07d", n.Add(1)%10_000_000)
					st, v := do("POST", "/verify", fmt.Appendf(nil, `{"recipient":"%s","originator":"Bench"}`, num))
					if st != 201 {
						return
					}
					v2, err := s.app.store.GetVerification(ctx, s.accountID, v["id"].(string))
					if err != nil {
						b.Error(err)
						return
					}
					m, err := s.app.store.GetMessage(ctx, s.accountID, v2.MessageID)
					if err != nil {
						b.Error(err)
						return
					}
					code := codeRE.FindString(m.Body)
					if st, v := do("GET", "/verify/"+v2.ID+"?token="+code, nil); st != 200 || v["status"] != "verified" {
						b.Errorf("check: %d %v", st, v)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "verifications/s")
		})
	}
}
