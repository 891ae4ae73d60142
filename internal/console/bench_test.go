package console_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// BenchmarkPages measures the Overview and Messages searches over an
// account with OMNIGATE_BENCH_MESSAGES messages (20,000 unless set; the
// figures in docs/console.md are for 1,000,000) spread over the last week,
// on SQLite and, with OMNIGATE_TEST_POSTGRES, PostgreSQL. Besides the mean
// it reports the 50th and 99th percentiles of the page times.
//
//	OMNIGATE_BENCH_MESSAGES=1000000 go test -run XXX -bench Pages -benchtime 200x -timeout 2h ./internal/console/
func BenchmarkPages(b *testing.B) {
	n := 20000
	if s := os.Getenv("OMNIGATE_BENCH_MESSAGES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("OMNIGATE_BENCH_MESSAGES=%q: a positive number", s)
		}
		n = v
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			e, closer := newEnv(b, engine)
			if e == nil {
				b.Skip("no PostgreSQL")
			}
			defer closer()
			a := e.account("bench")
			u, err := e.users.Create(context.Background(), users.NewUser{AccountID: a, Email: ids.New()[:12] + "@bench.example", Role: users.RoleOwner, Password: pw})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			fillMessages(b, e.st, a, n)
			b.Logf("%s: %d messages stored in %s", engine, n, time.Since(start).Round(time.Second))
			br := e.browser()
			br.signIn(u)
			pages := []string{"/console/overview", "/console/messages",
				"/console/messages?recipient=3161" + fmt.Sprintf("%07d", n/2) + "&status=delivered",
				"/console/messages?status=delivery_failed", "/console/messages?status=expired", "/console/messages?reference=ref-12345",
				"/console/statements", "/console/limits", "/console/senders", "/console/realtime"}
			for _, page := range pages {
				b.Run(page, func(b *testing.B) {
					times := make([]time.Duration, 0, b.N)
					for i := 0; i < b.N; i++ {
						t0 := time.Now()
						if st, _ := br.do("GET", page, nil); st != http.StatusOK {
							b.Fatalf("%s: %d", page, st)
						}
						times = append(times, time.Since(t0))
					}
					sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
					b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(times[(len(times)*99)/100].Microseconds())/1000, "p99-ms")
				})
			}
		})
	}
}

// fillMessages stores n delivered (one in ten failed) SMS of one recipient
// each for the account, spread over the last week, straight into the
// store in large transactions (not through the API), then folds the
// roll-up as the maintenance loop would.
func fillMessages(b *testing.B, st store.Store, account string, n int) {
	const batchSize = 2000
	now := time.Now().UTC()
	batch := make([]*message.Message, 0, batchSize)
	flush := func() {
		if err := st.AcceptMessages(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
		if _, err := st.FoldMessageCounts(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	week := 7 * 24 * 60 * 60
	for i := 0; i < n; i++ {
		at := now.Add(-time.Duration(int64(i)*int64(week)/int64(n)) * time.Second).Truncate(time.Microsecond)
		status := message.Delivered
		if i%10 == 0 {
			status = message.DeliveryFailed
		}
		batch = append(batch, &message.Message{ID: ids.New(), AccountID: account, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
			Originator: "omnigate", Body: "hello", Reference: fmt.Sprintf("ref-%d", i), Validity: 3600, CreatedAt: at, Purpose: "transactional",
			Details:    message.Details{SMS: &message.SMS{DataCoding: "plain"}},
			Recipients: []message.Recipient{{Address: fmt.Sprintf("3161%07d", i), Country: "NL", CountryPrefix: 31, Status: status, StatusAt: at, PartCount: 1, Price: 50_000, PriceCurrency: "EUR"}}})
		if len(batch) == batchSize {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}
