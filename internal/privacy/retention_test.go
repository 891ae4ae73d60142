package privacy_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/privacy"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// retained are a row per kind of the schedule, and how to count them.
var retained = map[string]string{
	store.RetainTraffic:   `SELECT COUNT(*) FROM messages WHERE direction = 'mt' AND body = 'old'`,
	store.RetainInbound:   `SELECT COUNT(*) FROM messages WHERE direction = 'mo'`,
	store.RetainReceipts:  `SELECT COUNT(*) FROM message_events WHERE message_id = 'receipt-of-nothing'`,
	store.RetainLookups:   `SELECT COUNT(*) FROM hlr_queries`,
	store.RetainMarketing: `SELECT COUNT(*) FROM contacts`,
	store.RetainDecisions: `SELECT COUNT(*) FROM compliance_decisions`,
	store.RetainWebhooks:  `SELECT COUNT(*) FROM webhook_deliveries`,
	store.RetainConsent:   `SELECT COUNT(*) FROM consents`,
	store.RetainBilling:   `SELECT COUNT(*) FROM ledger`,
}

func TestRetentionSchedule(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		a := account(t, st)
		t0 := time.Date(2020, 1, 1, 12, 0, 0, 0, time.UTC)
		us := t0.UnixMicro()
		send(t, st, a, "old", t0, time.Time{}, person)
		receive(t, st, a, person, "hello", t0)
		if err := st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: person, Purpose: "marketing", Action: store.OptIn, Source: "web", CreatedAt: t0}}); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordDecisions(ctx, []store.Decision{{AccountID: a, Recipient: person, Rule: "dnd", Outcome: "reject", Reason: "r", CreatedAt: t0}}); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateContact(ctx, &store.Contact{ID: ids.New(), AccountID: a, MSISDN: person, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			fmt.Sprintf(`INSERT INTO message_events (account_id, message_id, seq, event, detail, at) VALUES ('%s', 'receipt-of-nothing', 0, 'delivered', '', %d)`, a, us),
			fmt.Sprintf(`INSERT INTO hlr_queries (id, account_id, msisdn, status, created_at) VALUES ('h1', '%s', '%s', 'active', %d)`, a, person, us),
			fmt.Sprintf(`INSERT INTO webhook_deliveries (account_id, webhook_id, conversation_id, event, state, next_at, created_at) VALUES ('%s', 'w', 'c', 'message.created', 'done', %d, %d)`, a, us, us),
			fmt.Sprintf(`INSERT INTO ledger (account_id, kind, amount, currency, balance_after, created_at) VALUES ('%s', 'topup', 1, 'EUR', 1, %d)`, a, us),
		} {
			if _, err := st.Writer().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		// Traffic sent later is not purged with the old.
		fresh := send(t, st, a, "fresh", t0.Add(100*privacy.Day), time.Time{}, person)

		clk := newClock(t0)
		ret := &privacy.Retention{Store: st, Node: "n1", Now: clk.Now, Batch: 1}
		// The operator keeps webhook logs forever; the config shortens
		// decisions to a year.
		if err := st.SetRetention(ctx, store.RetainWebhooks, 0, "operator", t0); err != nil {
			t.Fatal(err)
		}
		ret.Config = map[string]int{store.RetainDecisions: 365}
		periods, err := ret.Periods(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if periods[store.RetainWebhooks] != 0 || periods[store.RetainDecisions] != 365 || periods[store.RetainTraffic] != 183 {
			t.Fatalf("periods %v", periods)
		}
		count := func(kind string) int {
			t.Helper()
			var n int
			if err := st.Writer().QueryRowContext(ctx, retained[kind]).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		var days []int
		seen := map[int]bool{}
		for _, d := range periods {
			if d > 0 && !seen[d] {
				seen[d] = true
				days = append(days, d)
			}
		}
		sort.Ints(days)
		runs := 0
		for _, d := range days {
			for _, at := range []time.Duration{time.Duration(d)*privacy.Day - time.Hour, time.Duration(d)*privacy.Day + time.Hour} {
				clk.t = t0.Add(at)
				run, err := ret.Run(ctx)
				if err != nil || run == nil {
					t.Fatalf("run at day %d: %v %v", d, run, err)
				}
				runs++
				for kind, p := range periods {
					want := 1
					if p > 0 && at > time.Duration(p)*privacy.Day {
						want = 0
					}
					if got := count(kind); got != want {
						t.Fatalf("%s (kept %d days) at %s after: %d rows, want %d (run counts %v)", kind, p, at, got, want, run.Counts)
					}
					if p == d && at > time.Duration(p)*privacy.Day && run.Counts[kind] == 0 {
						t.Fatalf("run purging %s counted nothing: %v", kind, run.Counts)
					}
				}
				if d == 183 {
					// Traffic from day 100 outlives the old by 100 days.
					if m, err := st.GetMessage(ctx, a, fresh.ID); err != nil || m.Body != "fresh" {
						t.Fatalf("traffic of day 100 purged at day %s: %v", at, err)
					}
				}
			}
		}
		// A second node within the pass's hour does nothing.
		other := &privacy.Retention{Store: st, Node: "n2", Now: clk.Now}
		if run, err := other.Run(ctx); err != nil || run != nil {
			t.Fatalf("a second node ran the same pass: %v %v", run, err)
		}
		list, err := st.RetentionRuns(ctx, 100)
		if err != nil || len(list) != runs {
			t.Fatalf("%d runs recorded, want %d: %v", len(list), runs, err)
		}
		if list[0].Node != "n1" || list[0].Counts == nil {
			t.Fatalf("newest run %+v", list[0])
		}
	})
}

func TestRetentionBatches(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		a := account(t, st)
		t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < 25; i++ {
			send(t, st, a, "old", t0, time.Time{}, person)
		}
		clk := newClock(t0.Add(200 * privacy.Day))
		// 2 batches of 10 per pass: 20 go, 5 wait for the next pass.
		ret := &privacy.Retention{Store: st, Node: "n1", Now: clk.Now, Batch: 10, Batches: 2}
		run, err := ret.Run(ctx)
		if err != nil || run.Counts[store.RetainTraffic] != 20 {
			t.Fatalf("first pass %+v %v", run, err)
		}
		clk.Add(2 * time.Hour)
		run, err = ret.Run(ctx)
		if err != nil || run.Counts[store.RetainTraffic] != 5 {
			t.Fatalf("second pass %+v %v", run, err)
		}
	})
}
