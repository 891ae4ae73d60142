package console_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// BenchmarkPages measures every console page an account's users or an
// operator open (the Overview, Messages searches, a message's timeline,
// balance, statements and their CSV, users, keys, and the operator's
// accounts, queues, imports, connectors and cases) over an account with
// OMNIGATE_BENCH_MESSAGES messages (20,000 unless set; the figures in
// docs/console.md are for 1,000,000) spread over the last week, on SQLite
// and, with OMNIGATE_TEST_POSTGRES, PostgreSQL. Besides the mean it
// reports the 50th and 99th percentiles of the page times. The operator
// pages are opened by an operator signed in with a browser of its own.
// The CSV downloads are named download/console/...: a pattern whose third
// level is ^$ leaves them out (at a million charges a month's ledger CSV
// is hundreds of thousands of lines):
//
//	-bench '^BenchmarkPages$/.*/^$/console/^(billing|operator)$'
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
			u, err := e.users.Create(context.Background(), users.NewUser{AccountID: a, Email: ids.New()[20:] + "@bench.example", Role: users.RoleOwner, Password: pw})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			some := fillMessages(b, e.st, a, n)
			fillLedger(b, e, a, n)
			b.Logf("%s: %d messages stored in %s", engine, n, time.Since(start).Round(time.Second))
			// What the operator's queues hold besides the million: a few
			// senders waiting for approval and messages held for review.
			other := e.account("other")
			for i := 0; i < 5; i++ {
				e.pendingSender(other, fmt.Sprintf("BENCH%d", i))
				e.held(other, "card-number")
			}
			op := e.browser()
			op.signIn(e.user("", users.RoleOperator))
			br := e.browser()
			br.signIn(u)
			month := time.Now().UTC().Format("2006-01")
			pages := []string{"/console/overview", "/console/messages",
				"/console/messages?recipient=3161" + fmt.Sprintf("%07d", n/2) + "&status=delivered",
				"/console/messages?status=delivery_failed", "/console/messages?status=expired", "/console/messages?reference=ref-12345",
				"/console/statements", "/console/limits", "/console/senders", "/console/realtime",
				"/console/messages/" + some[0], "/console/messages/" + some[1], "/console/messages/" + some[2],
				"/console/billing", "/console/billing/statement.csv?month=" + month, "/console/statements/" + month + ".csv",
				"/console/users", "/console/keys",
				"/console/operator/accounts", "/console/operator/senders", "/console/operator/reviews", "/console/operator/reviews?status=released",
				"/console/operator/imports", "/console/operator/connectors", "/console/operator/queue",
				"/console/operator/cases", "/console/operator/cases?status=all"}
			for _, page := range pages {
				br := br
				if strings.HasPrefix(page, "/console/operator/") {
					br = op
				}
				name := page
				if strings.Contains(page, ".csv") {
					// Downloads grow with the month (a million charges
					// make a CSV of hundreds of thousands of lines): their
					// own level, so that a pattern with an empty level
					// ("Pages/.*//console/") leaves them out.
					name = "download" + page
				}
				b.Run(name, func(b *testing.B) {
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
// roll-up as the maintenance loop would. It returns the ids of the newest,
// the middle and the oldest message (for their detail pages).
func fillMessages(b *testing.B, st store.Store, account string, n int) []string {
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
	some := make([]string, 0, 3)
	for i := 0; i < n; i++ {
		at := now.Add(-time.Duration(int64(i)*int64(week)/int64(n)) * time.Second).Truncate(time.Microsecond)
		status := message.Delivered
		if i%10 == 0 {
			status = message.DeliveryFailed
		}
		id := ids.New()
		if i == 0 || i == n/2 || i == n-1 {
			some = append(some, id)
		}
		batch = append(batch, &message.Message{ID: id, AccountID: account, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
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
	for len(some) < 3 {
		some = append(some, some[len(some)-1])
	}
	return some
}

// fillLedger gives the account what charging the n messages would have
// written to its ledger: an opening top-up, then one charge a message,
// oldest first, in one INSERT ... SELECT on the store's database (the
// store writes charges only with the messages, through AcceptCharged,
// which would also queue a million send jobs).
func fillLedger(b *testing.B, e *env, account string, n int) {
	db, err := sql.Open(e.driver, e.dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const price = 50_000
	now := time.Now().UTC()
	week := int64(7 * 24 * time.Hour / time.Microsecond)
	first := now.UnixMicro() - week - 1
	opening := int64(n)*price + 5_000_000
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, rebindBench(e.driver, `INSERT INTO ledger (account_id, kind, amount, currency, balance_after, reference, reason, actor, idempotency_key, created_at)
		VALUES (?, 'topup', ?, 'EUR', ?, 'bench', 'opening', 'bench', '', ?)`), account, opening, opening, first); err != nil {
		b.Fatal(err)
	}
	series := `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?) SELECT i FROM k`
	if e.driver == "pgx" {
		series = `SELECT i FROM generate_series(1, $1::bigint) AS k(i)`
	}
	q := `INSERT INTO ledger (account_id, kind, amount, currency, balance_after, reference, reason, actor, idempotency_key, created_at)
		SELECT ?, 'charge', -` + strconv.Itoa(price) + `, 'EUR', ? - i * ` + strconv.Itoa(price) + `, 'msg-' || i, 'SMS to NL', 'api', '', ? - (? - i) * ? / ?
		FROM (` + series + `) AS s`
	args := []any{account, opening, now.UnixMicro(), n, week, n, n}
	if e.driver == "pgx" {
		args = append([]any{n}, args[:6]...)
	}
	if _, err := db.ExecContext(ctx, rebindBench(e.driver, q), args...); err != nil {
		b.Fatal(err)
	}
}

// rebindBench numbers the placeholders for PostgreSQL; the series'
// bound comes first there ($1) as it does in the SQLite text.
func rebindBench(driver, q string) string {
	if driver != "pgx" {
		return q
	}
	var sb strings.Builder
	n := 1
	if strings.Contains(q, "$1::bigint") {
		n = 2
	}
	for _, r := range q {
		if r == '?' {
			sb.WriteString("$" + strconv.Itoa(n))
			n++
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
