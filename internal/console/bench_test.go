package console_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/users"
)

// BenchmarkPages measures the Overview and a Messages search over an
// account with benchMessages messages spread over the last week (SQLite;
// with OMNIGATE_TEST_POSTGRES, PostgreSQL too).
//
//	go test -run XXX -bench Pages -benchtime 50x ./internal/console/
func BenchmarkPages(b *testing.B) {
	const benchMessages = 20000
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
			now := time.Now().UTC()
			batch := make([]*message.Message, 0, 500)
			for i := 0; i < benchMessages; i++ {
				at := now.Add(-time.Duration(i%(7*24*60)) * time.Minute).Truncate(time.Microsecond)
				st := message.Delivered
				if i%10 == 0 {
					st = message.DeliveryFailed
				}
				batch = append(batch, &message.Message{ID: ids.New(), AccountID: a, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
					Originator: "omnigate", Body: "hello", Reference: fmt.Sprintf("ref-%d", i), Validity: 3600, CreatedAt: at, Purpose: "transactional",
					Details:    message.Details{SMS: &message.SMS{DataCoding: "plain"}},
					Recipients: []message.Recipient{{Address: fmt.Sprintf("3161%07d", i), Country: "NL", CountryPrefix: 31, Status: st, StatusAt: at, PartCount: 1, Price: 50_000, PriceCurrency: "EUR"}}})
				if len(batch) == cap(batch) {
					if err := e.st.AcceptMessages(context.Background(), batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			br := e.browser()
			br.signIn(u)
			for _, page := range []string{"/console/overview", "/console/messages", "/console/messages?recipient=316100012&status=delivered",
				"/console/statements", "/console/limits", "/console/senders", "/console/realtime"} {
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
