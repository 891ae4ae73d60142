package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/api/twilio"
)

// BenchmarkTwilioVsMessageBird measures accepted messages per second of
// the Twilio door and the MessageBird door, one recipient each, in the
// same run on the same kind of server (docs/twilio.md has figures).
func BenchmarkTwilioVsMessageBird(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, door := range []string{"messagebird", "twilio"} {
			b.Run(engine+"/"+door, func(b *testing.B) {
				s := startBench(b, engine, func(c *Config) { c.Billing.Disabled = true })
				var path, user, pass, ctype string
				var body []byte
				switch door {
				case "messagebird":
					path, ctype = "/messages", "application/json"
					body = []byte(`{"originator":"Bench","body":"Your code is 123456","recipients":["31612340000"]}`)
				case "twilio":
					c, err := twilio.IssueCredentials(context.Background(), s.app.store, s.accountID, false, false)
					if err != nil {
						b.Fatal(err)
					}
					path, ctype, user, pass = "/2010-04-01/Accounts/"+c.AccountSID+"/Messages.json", "application/x-www-form-urlencoded", c.AccountSID, c.AuthToken
					body = []byte(url.Values{"To": {"+31612340000"}, "From": {"Bench"}, "Body": {"Your code is 123456"}}.Encode())
				}
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
				b.SetParallelism(32)
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req, _ := http.NewRequest("POST", s.url+path, bytes.NewReader(body))
						if user != "" {
							req.SetBasicAuth(user, pass)
						} else {
							req.Header.Set("Authorization", "AccessKey "+s.key)
						}
						req.Header.Set("Content-Type", ctype)
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
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "accepted/s")
			})
		}
	}
}
