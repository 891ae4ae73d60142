package privacy_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/privacy"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// BenchmarkErasure100k erases an identifier that 100,000 delivered
// messages went to, in an account that also sent 20,000 to others (bench/
// results/2026-12-04-privacy.md). Run with -benchtime=1x or 3x: each
// iteration seeds its 100,000 messages first, off the clock.
func BenchmarkErasure100k(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(b.TempDir(), "b.db"), Synchronous: sqlite.SyncNormal})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchErasure(b, st)
	})
	b.Run("postgres", func(b *testing.B) {
		st, err := postgres.Open(ctx, postgres.Config{URL: pgtest.URL(b), MaxConns: 4})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchErasure(b, st)
	})
}

func seedMany(b *testing.B, st store.Store, acct, to string, n int) {
	const batch = 1000
	at := time.Now().UTC().Add(-time.Hour)
	for done := 0; done < n; done += batch {
		msgs := make([]*message.Message, 0, batch)
		for i := 0; i < batch && done+i < n; i++ {
			msgs = append(msgs, &message.Message{ID: ids.New(), AccountID: acct, Channel: message.ChannelSMS, Direction: message.MT,
				Type: message.TypeSMS, Originator: "ACME", Body: "your code is 123456", Purpose: "transactional", CreatedAt: at,
				Recipients: []message.Recipient{{Seq: 0, Address: to, Country: "NL", CountryPrefix: 31, Status: message.Delivered, PartCount: 1, Length: 19}}})
		}
		if err := st.AcceptMessages(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	// Delivered messages have no send job left.
	if _, err := st.(*sqlstore.Store).Writer().ExecContext(ctx, `DELETE FROM jobs`); err != nil {
		b.Fatal(err)
	}
}

func benchErasure(b *testing.B, st *sqlstore.Store) {
	a := &store.Account{ID: ids.New(), Name: "bench", Currency: "EUR", SigningKey: "k", CreatedAt: time.Now().UTC()}
	if err := st.CreateAccount(ctx, a, nil); err != nil {
		b.Fatal(err)
	}
	seedMany(b, st, a.ID, other, 20000)
	svc := &privacy.Service{Store: st}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		seedMany(b, st, a.ID, person, 100000)
		b.StartTimer()
		r, err := svc.Open(ctx, privacy.Open{AccountID: a.ID, Identifier: person, Kind: store.PrivacyErasure, Actor: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if r.Status != store.PrivacyCompleted || !strings.Contains(r.Outcome, "recipients 100000") {
			b.Fatalf("erasure: %s %s", r.Status, r.Outcome)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/erasure")
}
