package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/api/conversations"
	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/chatsim"
	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/store"
)

// BenchmarkWhatsAppVsSMS sends one-recipient messages through the same
// door (POST /v1/send, the Conversations API) on the same server, in the
// same run: SMS to the SMSC simulator over SMPP, until every recipient is
// delivered (its receipt stored), and WhatsApp to the Cloud API simulator,
// until every recipient is read (the simulator's sent, delivered and read
// webhooks taken, signed, by the API server). Each op is one message. It
// reports messages/s and CPU per message (the whole process: server and
// simulator). bench/results/2026-12-03-whatsapp-vs-sms.md has a run.
//
//	go test -run '^$' -bench BenchmarkWhatsAppVsSMS -benchtime 3000x ./internal/app/
func BenchmarkWhatsAppVsSMS(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			s := startBench(b, engine, func(c *Config) { c.APIOnly = false; c.Demo = false })
			ctx := context.Background()
			s.useSMSC(smsc.Config{ReceiptDelay: 5 * time.Millisecond, Window: 100}, smppconn.Settings{Window: 100})
			waitFor(b, "bind", 10*time.Second, func() bool { return s.app.connectors.Running()["carrier"] > 0 })
			sim, err := chatsim.Start(chatsim.Config{WebhookURL: s.url + "/webhooks/whatsapp/wa", AutoRead: true, ReadAfter: 50 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			defer sim.Stop()
			settings, _ := json.Marshal(map[string]any{"baseUrl": sim.URL() + "/v21.0", "phoneNumberId": "1055",
				"accessToken": "test-token", "appSecret": "test-secret", "verifyToken": "test-verify"})
			if err := s.app.store.SaveConnector(ctx, store.ConnectorConfig{Name: "wa", Kind: "whatsapp", Settings: settings,
				Enabled: true, UpdatedAt: time.Now()}); err != nil {
				b.Fatal(err)
			}
			if err := s.app.store.AddRoute(ctx, &store.Route{Channel: message.ChannelWhatsApp, Pattern: destination.Pattern{},
				Connectors: []string{"wa"}, CreatedAt: time.Now()}); err != nil {
				b.Fatal(err)
			}
			if err := s.app.connectors.Reload(ctx); err != nil {
				b.Fatal(err)
			}
			smsChan, err := conversations.AddChannel(ctx, s.app.store, s.accountID, message.ChannelSMS, "Bench", "bench sms")
			if err != nil {
				b.Fatal(err)
			}
			waChan, err := conversations.AddChannel(ctx, s.app.store, s.accountID, message.ChannelWhatsApp, "1055", "bench whatsapp")
			if err != nil {
				b.Fatal(err)
			}
			// The handsets wrote, so free-form WhatsApp passes the 24-hour window.
			const handsets = 100
			to := make([]string, handsets)
			for i := range to {
				to[i] = fmt.Sprintf("3161234%04d", i)
				handsetWrote(b, s, s.accountID, to[i])
			}
			for _, kind := range []struct {
				name, channel string
				done          func() int
			}{
				{"sms", smsChan.ID, func() int {
					var n int
					s.app.store.Writer().QueryRow(`SELECT COUNT(*) FROM recipients r JOIN messages m ON m.id = r.message_id
						WHERE m.channel = 'sms' AND m.direction = 'mt' AND r.status = 'delivered'`).Scan(&n)
					return n
				}},
				{"whatsapp", waChan.ID, func() int {
					var n int
					s.app.store.Writer().QueryRow(`SELECT COUNT(*) FROM message_events WHERE event = 'read'`).Scan(&n)
					return n
				}},
			} {
				b.Run(kind.name, func(b *testing.B) {
					benchSend(b, s, kind.channel, to, kind.done)
				})
			}
		})
	}
}

// benchSend posts b.N messages to /v1/send from 32 clients and waits until
// done counts them all; it reports messages/s and CPU µs per message.
func benchSend(b *testing.B, s *server, from string, to []string, done func() int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	base := done()
	want := base + b.N
	cpu0 := cpuTime()
	start := time.Now()
	work := make(chan int, b.N)
	for i := 0; i < b.N; i++ {
		work <- i
	}
	close(work)
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				body, _ := json.Marshal(map[string]any{"to": to[i%len(to)], "from": from, "type": "text",
					"content": map[string]any{"text": "Your order A-17 has shipped."}})
				req, _ := http.NewRequest("POST", s.url+"/v1/send", bytes.NewReader(body))
				req.Header.Set("Authorization", "AccessKey "+s.key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				if resp.StatusCode != http.StatusAccepted {
					raw, _ := io.ReadAll(resp.Body)
					b.Errorf("send: %d %s", resp.StatusCode, raw)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	accepted := time.Since(start)
	waitFor(b, "every message at its final state", 5*time.Minute, func() bool { return done() >= want })
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N)/accepted.Seconds(), "accepted/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
