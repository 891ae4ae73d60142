package subscriptions_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/postgres/postgrestest"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
	"github.com/omnigate/omnigate/internal/subscriptions"
)

var ctx = context.Background()

// engines runs f on SQLite, and on PostgreSQL when OMNIGATE_TEST_POSTGRES
// is set.
func engines(t *testing.T, f func(t *testing.T, st *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "s.db"), Synchronous: sqlite.SyncNormal})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		if !pgtest.Available() {
			t.Skip(pgtest.EnvVar + " is not set")
		}
		st, err := postgres.Open(ctx, postgres.Config{URL: postgrestest.URL(t), MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func send(t testing.TB, st store.Store, accountID string, at time.Time, n int) {
	t.Helper()
	var ms []*message.Message
	for i := 0; i < n; i++ {
		ms = append(ms, &message.Message{ID: ids.New(), AccountID: accountID, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
			Originator: "ACME", Body: fmt.Sprintf("message %d", i), Purpose: "transactional", CreatedAt: at.UTC(),
			Recipients: []message.Recipient{{Address: fmt.Sprintf("3161%07d", i), Country: "NL", CountryPrefix: 31, Status: message.Sent, PartCount: 1, Length: 9}}})
	}
	for len(ms) > 0 {
		b := ms[:min(500, len(ms))]
		ms = ms[len(b):]
		if err := st.AcceptMessages(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
}

// An inactive free account that is used again before its deletion is
// not deleted: the notice is withdrawn (account.reactivated), and the 60
// days count from the new use.
func TestInactiveUsedAgain(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		t0 := time.Now().UTC().Truncate(time.Second).Add(-365 * subscriptions.Day)
		clk := &clock{t: t0}
		svc := subscriptions.New(subscriptions.Config{Store: st, Now: clk.Now, Node: "n1", Audit: audit.NewLog(st, nil)})
		c, err := accounts.Create(ctx, st, accounts.New{Name: "free", Balance: 0})
		if err != nil {
			t.Fatal(err)
		}
		id := c.Account.ID
		if _, err := svc.PutPlan(ctx, store.Plan{ID: "free", Name: "Free", Currency: c.Account.Currency, IncludedSeats: 1}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Subscribe(ctx, id, "free", nil, audit.Operator("t")); err != nil {
			t.Fatal(err)
		}
		send(t, st, id, t0.Add(subscriptions.Day), 1)
		pass := func(at time.Duration) *subscriptions.Pass {
			t.Helper()
			clk.Set(t0.Add(at))
			p, err := svc.Pass(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		if p := pass(53 * subscriptions.Day); p.Inactive != 0 {
			t.Fatalf("told a day early (the message of day 1 counts): %+v", p)
		}
		if p := pass(54 * subscriptions.Day); p.Inactive != 1 {
			t.Fatalf("day 54 = %+v", p)
		}
		keys, _ := st.AccessKeys(ctx, id)
		if err := st.TouchAccessKeys(ctx, []string{keys[0].ID}, t0.Add(55*subscriptions.Day)); err != nil {
			t.Fatal(err)
		}
		pass(56 * subscriptions.Day)
		if _, err := st.GetLifecycle(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("used again, the account is still on its way out: %v", err)
		}
		if p := pass(61 * subscriptions.Day); p.Deleted != 0 || p.Inactive != 0 {
			t.Fatalf("deleted or told although used on day 55: %+v", p)
		}
		if p := pass(108 * subscriptions.Day); p.Inactive != 1 {
			t.Fatalf("53 days after the new use = %+v", p)
		}
		entries, err := st.AuditEntries(ctx, store.AuditFilter{AccountID: id, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, e := range entries {
			seen[e.Action]++
		}
		if seen["account.inactive"] != 2 || seen["account.reactivated"] != 1 {
			t.Fatalf("audit log: %v", seen)
		}
	})
}

// TestDeletionCost measures exporting and deleting an account with
// OMNIGATE_DELETE_MESSAGES messages (default 2000; the note's numbers
// came from 20000), next to another account of the same size that stays.
func TestDeletionCost(t *testing.T) {
	n := 2000
	if v := testingEnvInt("OMNIGATE_DELETE_MESSAGES"); v > 0 {
		n = v
	}
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		now := time.Now().UTC().Truncate(time.Second)
		var idsOf []string
		for _, name := range []string{"gone", "stays"} {
			c, err := accounts.Create(ctx, st, accounts.New{Name: name, Balance: 0})
			if err != nil {
				t.Fatal(err)
			}
			idsOf = append(idsOf, c.Account.ID)
			send(t, st, c.Account.ID, now, n)
		}
		svc := subscriptions.New(subscriptions.Config{Store: st})
		start := time.Now()
		zip, err := svc.Export(ctx, idsOf[0])
		if err != nil {
			t.Fatal(err)
		}
		exported := time.Since(start)
		start = time.Now()
		d, err := st.DeleteAccount(ctx, &store.Lifecycle{AccountID: idsOf[0], State: store.LifeDeleted, DeletedAt: now,
			ArchiveUntil: now.Add(subscriptions.ArchiveFor), UpdatedAt: now}, zip, nil)
		if err != nil {
			t.Fatal(err)
		}
		deleted := time.Since(start)
		if d.Deleted["messages"] != n || d.Deleted["recipients"] != n {
			t.Fatalf("deleted %v", d.Deleted)
		}
		left, err := st.AccountExport(ctx, idsOf[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range left {
			if tb.Name == "messages" && len(tb.Rows) != n {
				t.Fatalf("the other account has %d messages left", len(tb.Rows))
			}
		}
		t.Logf("%d messages: export %v (%d bytes zipped), deletion %v", n, exported.Round(time.Millisecond), len(zip), deleted.Round(time.Millisecond))
	})
}

func testingEnvInt(name string) int {
	var v int
	fmt.Sscan(os.Getenv(name), &v)
	return v
}
