package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// BenchmarkAcceptEncryption measures what encrypting message bodies at
// rest costs on the accept path (as BenchmarkAccept, one recipient,
// charging on) and on reads (GET /messages/{id}, and GET /messages listing
// 20), with encryption on and off in alternating rounds of the same run
// (bench/results/2026-12-04-encryption.md):
//
//	go test -run '^$' -bench BenchmarkAcceptEncryption -benchtime 3s -timeout 30m ./internal/app/
//
// Besides requests per second it reports the process's CPU time per
// request (cpu-µs/op: server and clients, which share the process), which
// a machine shared with other work disturbs less.
func BenchmarkAcceptEncryption(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for round := 1; round <= 3; round++ {
			for _, enc := range []bool{true, false} {
				name := fmt.Sprintf("%s/round=%d/encryption=%v", engine, round, enc)
				b.Run(name+"/op=accept", func(b *testing.B) { benchEncAccept(b, engine, enc) })
				b.Run(name+"/op=get", func(b *testing.B) { benchEncRead(b, engine, enc, false) })
				b.Run(name+"/op=list", func(b *testing.B) { benchEncRead(b, engine, enc, true) })
			}
		}
	}
}

func startEncBench(b *testing.B, engine string, enc bool) *server {
	s := startBench(b, engine)
	s.app.store.MessagesInClear(!enc)
	if err := s.app.store.AddLedgerEntry(context.Background(), &store.LedgerEntry{AccountID: s.accountID, Kind: store.LedgerTopUp,
		Amount: 1 << 50, Reason: "benchmark"}); err != nil {
		b.Fatal(err)
	}
	return s
}

var encBenchBody = []byte(`{"originator":"Bench","body":"Your code is 123456. Do not share it with anyone.","recipients":["31612345678"]}`)

func benchEncAccept(b *testing.B, engine string, enc bool) {
	s := startEncBench(b, engine, enc)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	b.SetParallelism(32)
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code := benchDo(client, s, "POST", "/messages", encBenchBody); code != http.StatusCreated {
				b.Errorf("status %d", code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

func benchEncRead(b *testing.B, engine string, enc, list bool) {
	s := startEncBench(b, engine, enc)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	var id string
	for i := 0; i < 100; i++ {
		id = s.send(map[string]any{"originator": "Bench", "recipients": []string{"31612345678"}, "body": "Your code is 123456. Do not share it with anyone."})["id"].(string)
	}
	path := "/messages/" + id
	if list {
		path = "/messages?limit=20"
	}
	b.SetParallelism(8)
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code := benchDo(client, s, "GET", path, nil); code != http.StatusOK {
				b.Errorf("status %d", code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

func benchDo(client *http.Client, s *server, method, path string, body []byte) int {
	req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "AccessKey "+s.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
