package app

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/store/pgtest"
)

// BenchmarkEndToEnd measures the whole path — HTTP accept, dispatch, SMPP
// submit to the simulator, delivery receipt back, status stored — with the
// connector's window at 10, 50 and 100. Each op is one recipient; the
// figure is delivered recipients per second from the first request to the
// last receipt stored.
//
//	go test -run '^$' -bench BenchmarkEndToEnd -benchtime 5000x ./internal/app/
func BenchmarkEndToEnd(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, window := range []int{10, 50, 100} {
			b.Run(fmt.Sprintf("%s/window=%d", engine, window), func(b *testing.B) {
				benchEndToEnd(b, engine, window)
			})
		}
	}
}

func benchEndToEnd(b *testing.B, engine string, window int) {
	if engine == "postgres" && !pgtest.Available() {
		b.Skip(pgtest.EnvVar + " is not set")
	}
	b.StopTimer()
	s2 := start(b, engine, func(c *Config) { c.SQLiteSync = "FULL"; c.Demo = false })
	srv := s2.useSMSC(smsc.Config{ReceiptDelay: 5 * time.Millisecond, Window: window}, smppconn.Settings{Window: window})
	waitFor(b, "bind", 10*time.Second, func() bool { return s2.app.connectors.Running()["carrier"] > 0 })
	if benchSetup != nil {
		benchSetup(b, s2)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const perRequest = 10
	requests := (b.N + perRequest - 1) / perRequest
	body := []byte(`{"originator":"Bench","body":"Your code is 123456","recipients":["31612345670","31612345671","31612345672","31612345673","31612345674","31612345675","31612345676","31612345677","31612345678","31612345679"]}`)
	delivered := func() int {
		var n int
		s2.app.store.Writer().QueryRow(`SELECT COUNT(*) FROM recipients WHERE status = 'delivered'`).Scan(&n)
		return n
	}
	b.StartTimer()
	start, cpu0 := time.Now(), cpuTime()
	work := make(chan struct{}, requests)
	for i := 0; i < requests; i++ {
		work <- struct{}{}
	}
	close(work)
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				req, _ := http.NewRequest("POST", s2.url+"/messages", bytes.NewReader(body))
				req.Header.Set("Authorization", "AccessKey "+s2.key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	accepted := time.Since(start)
	want := requests * perRequest
	waitFor(b, "every recipient delivered", 5*time.Minute, func() bool { return delivered() >= want })
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	b.ReportMetric(float64(want)/elapsed.Seconds(), "delivered/s")
	// The whole process: the server, the SMSC simulator and the clients.
	b.ReportMetric(float64(cpu.Microseconds())/float64(want), "cpu-µs/msg")
	b.ReportMetric(float64(want)/accepted.Seconds(), "accepted/s")
	b.ReportMetric(float64(srv.Stats().Submits.Load()-int64(want)), "extra-submits")
}
