package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// BenchmarkWhatsAppSends measures accepted WhatsApp sends per second
// through POST /v1/send by type, in the same run: text, a template
// checked against the registry (one more indexed read) and an
// interactive list (docs/whatsapp.md has figures).
func BenchmarkWhatsAppSends(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, typ := range []string{"text", "hsm", "interactive"} {
			b.Run(engine+"/"+typ, func(b *testing.B) {
				s := startBench(b, engine, func(c *Config) { c.Billing.Disabled = true })
				s.accountID, s.key = s.app.Demo.ID, s.app.Demo.Key
				ctx := context.Background()
				if err := s.app.pipeline.AcceptInbound(ctx, &message.Message{AccountID: s.accountID, Channel: message.ChannelWhatsApp,
					Originator: DemoHandset, Body: "Hi", Recipients: []message.Recipient{{Address: demoWhatsAppNumberID}}}); err != nil {
					b.Fatal(err)
				}
				if err := s.app.store.AddConsents(ctx, []*store.Consent{{AccountID: s.accountID, Recipient: DemoHandset,
					Purpose: "transactional", Action: store.OptIn, Source: store.SourceImport, CreatedAt: time.Now()}}); err != nil {
					b.Fatal(err)
				}
				content := map[string]string{
					"text": `{"text":"Your order A-17 has shipped"}`,
					"hsm":  `{"hsm":{"templateName":"hello_world","language":{"policy":"deterministic","code":"en_US"}}}`,
					"interactive": `{"interactive":{"type":"list","body":{"text":"Pick a slot"},"action":{"button":"Slots","sections":[{"title":"Morning",` +
						`"rows":[{"id":"m1","title":"09:00"},{"id":"m2","title":"10:00"},{"id":"m3","title":"11:00"}]}]}}}`,
				}[typ]
				body := []byte(`{"to":"+` + DemoHandset + `","from":"` + s.app.demoWhatsAppChannel + `","type":"` + typ + `","content":` + content + `}`)
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
				b.SetParallelism(32)
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req, _ := http.NewRequest("POST", s.url+"/v1/send", bytes.NewReader(body))
						req.Header.Set("Authorization", "AccessKey "+s.key)
						req.Header.Set("Content-Type", "application/json")
						resp, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						raw, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusAccepted {
							b.Errorf("status %d %s", resp.StatusCode, raw)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "accepted/s")
			})
		}
	}
}
