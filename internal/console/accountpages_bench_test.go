package console_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// BenchmarkAccountPages measures the Webhooks, Consents and Cases pages
// over an account with benchAttempts logged webhook attempts (a month's
// worth, a tenth failed) and benchSuppressions suppressions (SQLite; with
// OMNIGATE_TEST_POSTGRES, PostgreSQL too).
//
//	go test -run XXX -bench AccountPages -benchtime 50x ./internal/console/
func BenchmarkAccountPages(b *testing.B) {
	const benchAttempts, benchSuppressions = 200000, 50000
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			e, closer := newEnv(b, engine)
			if e == nil {
				b.Skip("no PostgreSQL")
			}
			defer closer()
			ctx := context.Background()
			a := e.account("bench")
			u, err := e.users.Create(ctx, users.NewUser{AccountID: a, Email: ids.New()[20:] + "@bench.example", Role: users.RoleOwner, Password: pw})
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now().UTC()
			batch := make([]*store.WebhookAttempt, 0, 5000)
			for i := 0; i < benchAttempts; i++ {
				outcome, code := store.AttemptOK, 200
				if i%10 == 0 {
					outcome, code = store.AttemptRetry, 503
				}
				batch = append(batch, &store.WebhookAttempt{AccountID: a, Kind: store.AttemptReport, MessageID: fmt.Sprintf("msg-%d", i/3), Event: "delivered",
					Payload: `{"seq":0,"status":"delivered"}`, URL: "https://hooks.example/report", Code: code, Outcome: outcome, Attempt: 1,
					Duration: 20 * time.Millisecond, At: now.Add(-time.Duration(i) * 13 * time.Second)})
				if len(batch) == cap(batch) {
					if err := e.st.RecordWebhookAttempts(ctx, batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			sups := make([]store.Suppression, 0, benchSuppressions)
			for i := 0; i < benchSuppressions; i++ {
				sups = append(sups, store.Suppression{Channel: "sms", Recipient: fmt.Sprintf("3161%07d", i), Reason: store.SuppressManual, Actor: "bench", CreatedAt: now})
			}
			if _, err := e.st.AddSuppressions(ctx, a, sups); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < 10; i++ {
				e.proofCase(a, "", time.Duration(i+1)*24*time.Hour)
			}
			br := e.browser()
			br.signIn(u)
			for _, page := range []string{"/console/webhooks", "/console/webhooks?outcome=failed", "/console/webhooks?message=msg-4242",
				"/console/webhooks?from=" + now.AddDate(0, 0, -20).Format("2006-01-02") + "&until=" + now.AddDate(0, 0, -19).Format("2006-01-02"),
				"/console/consents", "/console/consents?recipient=%2B31610004242", "/console/consents?contains=61000424", "/console/cases"} {
				b.Run(page, func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						if st, _ := br.do("GET", page, nil); st != http.StatusOK {
							b.Fatalf("%s: %d", page, st)
						}
					}
				})
			}
		})
	}
}
