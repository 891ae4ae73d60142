package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

// subscriptionBehaviours cover plans, invoices (numbering, charging,
// disputes) and account deletion.
var subscriptionBehaviours = []behaviour{
	{"Invoices", testInvoices},
	{"InvoiceDispute", testInvoiceDispute},
	{"DeleteAccount", testDeleteAccount},
}

func alertJobs(t *testing.T, st store.Store, accountID string) int {
	t.Helper()
	leased, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobAlert, N: 100, For: time.Minute, Owner: ids.New()})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, j := range leased {
		if j.AccountID == accountID {
			n++
		}
	}
	return n
}

// testInvoices: invoices are numbered per account without gaps, charged
// from the balance in the transaction that stores them (with their
// notices and the subscription's new period), stored failed when the
// balance cannot cover them and paid by a later retry.
func testInvoices(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st) // 5 EUR each
	now := time.Now().UTC().Truncate(time.Microsecond)
	p := &store.Plan{ID: "team", Name: "Team", Currency: "EUR", MonthlyFee: 3_000_000, IncludedSeats: 2, SeatPrice: 1_000_000,
		Addons: []store.Addon{{Code: "sso", Name: "SSO", Price: 500_000}}, CreatedAt: now, UpdatedAt: now}
	if err := st.PutPlan(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetPlan(ctx, "team"); err != nil || got.MonthlyFee != 3_000_000 || len(got.Addons) != 1 || got.Addons[0].Price != 500_000 {
		t.Fatalf("GetPlan = %+v, %v", got, err)
	}
	if _, err := st.GetPlan(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetPlan(nope): %v", err)
	}
	issue := func(acct *store.Account, start time.Time, total int64) *store.Invoice {
		t.Helper()
		inv := &store.Invoice{ID: ids.New(), AccountID: acct.ID, PlanID: "team", PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0), Currency: "EUR",
			Total: total, Lines: []store.InvoiceLine{{Text: "Team", Quantity: 1, Price: total, Amount: total}}, IssuedAt: now, DueAt: now}
		sub := &store.Subscription{AccountID: acct.ID, PlanID: "team", Status: store.SubActive, PeriodStart: inv.PeriodStart, PeriodEnd: inv.PeriodEnd,
			CreatedAt: now, UpdatedAt: now}
		seats := &store.Seats{AccountID: acct.ID, Seats: 2, TermStart: inv.PeriodStart, TermEnd: inv.PeriodEnd, SeatPrice: 1_000_000}
		if err := st.IssueInvoice(ctx, inv, sub, seats, func(inv *store.Invoice) []*store.Job {
			return []*store.Job{{Kind: store.JobAlert, AccountID: acct.ID, Payload: []byte(`{"type":"invoice.` + inv.Status + `"}`), RunAt: now, CreatedAt: now}}
		}); err != nil {
			t.Fatal(err)
		}
		return inv
	}
	first := issue(a, now, 3_000_000)
	if first.Seq != 1 || first.Status != store.InvoicePaid || first.LedgerID == 0 || first.Number == "" {
		t.Fatalf("first invoice = %+v", first)
	}
	if acct, _ := st.GetAccount(ctx, a.ID); acct.Balance != 2_000_000 {
		t.Fatalf("balance after the invoice = %d", acct.Balance)
	}
	if sub, err := st.GetSubscription(ctx, a.ID); err != nil || !sub.PeriodEnd.Equal(first.PeriodEnd) {
		t.Fatalf("subscription = %+v, %v", sub, err)
	}
	if seats, err := st.GetSeats(ctx, a.ID); err != nil || seats.Seats != 2 || !seats.TermEnd.Equal(first.PeriodEnd) || seats.SeatPrice != 1_000_000 {
		t.Fatalf("seats = %+v, %v", seats, err)
	}
	if n := alertJobs(t, st, a.ID); n != 1 {
		t.Fatalf("notices of the invoice: %d", n)
	}
	// The same period again is refused; another account numbers from 1.
	dup := &store.Invoice{ID: ids.New(), AccountID: a.ID, PlanID: "team", PeriodStart: now, PeriodEnd: now.AddDate(0, 1, 0), Currency: "EUR", Total: 1, IssuedAt: now}
	if err := st.IssueInvoice(ctx, dup, nil, nil, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("invoicing a period twice: %v", err)
	}
	if other := issue(b, now, 1_000_000); other.Seq != 1 {
		t.Fatalf("another account's first invoice: %+v", other)
	}
	// The next period is more than the balance: stored failed, no charge.
	second := issue(a, first.PeriodEnd, 3_000_000)
	if second.Seq != 2 || second.Status != store.InvoiceFailed || !second.FailedAt.Equal(now) || second.LedgerID != 0 {
		t.Fatalf("second invoice = %+v", second)
	}
	if acct, _ := st.GetAccount(ctx, a.ID); acct.Balance != 2_000_000 {
		t.Fatalf("a failed invoice moved the balance: %d", acct.Balance)
	}
	if paid, err := st.RetryInvoice(ctx, a.ID, second.ID, now.Add(time.Hour), now.Add(25*time.Hour), nil); err != nil || paid {
		t.Fatalf("retry without money = %v, %v", paid, err)
	}
	got, _ := st.GetInvoice(ctx, a.ID, second.ID)
	if got.Attempts != 2 || !got.RetryAt.Equal(now.Add(25*time.Hour)) || got.Status != store.InvoiceFailed {
		t.Fatalf("after a failed retry: %+v", got)
	}
	if err := st.AddLedgerEntry(ctx, &store.LedgerEntry{AccountID: a.ID, Kind: store.LedgerTopUp, Amount: 5_000_000, Reason: "top-up"}); err != nil {
		t.Fatal(err)
	}
	if paid, err := st.RetryInvoice(ctx, a.ID, second.ID, now.Add(2*time.Hour), now.Add(26*time.Hour), nil); err != nil || !paid {
		t.Fatalf("retry after a top-up = %v, %v", paid, err)
	}
	if acct, _ := st.GetAccount(ctx, a.ID); acct.Balance != 4_000_000 {
		t.Fatalf("balance after paying = %d", acct.Balance)
	}
	if _, err := st.RetryInvoice(ctx, a.ID, second.ID, now, now, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("retrying a paid invoice: %v", err)
	}
	if sum, _ := st.LedgerSum(ctx, a.ID); sum != 4_000_000 {
		t.Fatalf("the ledger sums to %d", sum)
	}
	list, err := st.Invoices(ctx, a.ID, "")
	if err != nil || len(list) != 2 || list[0].Seq != 2 {
		t.Fatalf("Invoices = %+v, %v", list, err)
	}
	if _, err := st.GetInvoice(ctx, b.ID, first.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's invoice: %v", err)
	}
}

// testInvoiceDispute: a dispute pauses dunning — closing it moves the
// failure time on by the dispute's length; paid and void invoices do not
// move.
func testInvoiceDispute(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	now := time.Now().UTC().Truncate(time.Microsecond)
	inv := &store.Invoice{ID: ids.New(), AccountID: a.ID, PlanID: "x", PeriodStart: now, PeriodEnd: now.AddDate(0, 1, 0), Currency: "EUR",
		Total: 50_000_000, IssuedAt: now, DueAt: now}
	if err := st.IssueInvoice(ctx, inv, nil, nil, nil); err != nil || inv.Status != store.InvoiceFailed {
		t.Fatalf("issue = %v, %+v", err, inv)
	}
	d, err := st.SetInvoiceStatus(ctx, a.ID, inv.ID, store.InvoiceDisputed, "wrong seats", now.Add(2*24*time.Hour), nil)
	if err != nil || d.Status != store.InvoiceDisputed || !d.DisputedAt.Equal(now.Add(48*time.Hour)) {
		t.Fatalf("dispute = %+v, %v", d, err)
	}
	f, err := st.SetInvoiceStatus(ctx, a.ID, inv.ID, store.InvoiceFailed, "seats were right", now.Add(5*24*time.Hour), nil)
	if err != nil || f.Status != store.InvoiceFailed || !f.FailedAt.Equal(now.Add(3*24*time.Hour)) || !f.DisputedAt.IsZero() {
		t.Fatalf("closing the dispute = %+v, %v", f, err)
	}
	v, err := st.SetInvoiceStatus(ctx, a.ID, inv.ID, store.InvoiceVoid, "goodwill", now, nil)
	if err != nil || v.Status != store.InvoiceVoid {
		t.Fatalf("void = %+v, %v", v, err)
	}
	if _, err := st.SetInvoiceStatus(ctx, a.ID, inv.ID, store.InvoiceFailed, "", now, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("moving a void invoice: %v", err)
	}
	if _, err := st.SetInvoiceStatus(ctx, a.ID, "nope", store.InvoiceVoid, "", now, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown invoice: %v", err)
	}
}

// testDeleteAccount: deletion removes the account's rows from every table
// but billing and the lifecycle, leaves other accounts alone, keeps the
// archive until it is purged, and the account's keys stop working.
func testDeleteAccount(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	now := time.Now().UTC().Truncate(time.Microsecond)
	var aMsg string
	for _, acct := range []*store.Account{a, b} {
		m := newMessage(acct, 2)
		if acct == a {
			aMsg = m.ID
		}
		if err := st.AcceptCharged(ctx, []*store.Accept{{Message: m, Charge: 100_000, Currency: "EUR", Units: 2}}); err != nil {
			t.Fatal(err)
		}
	}
	tables, err := st.AccountExport(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int{}
	for _, tb := range tables {
		rows[tb.Name] = len(tb.Rows)
		for _, c := range tb.Columns {
			if c == "hash" || c == "signing_key" {
				t.Errorf("the export of %s has the secret column %s", tb.Name, c)
			}
		}
	}
	if rows["account"] != 1 || rows["messages"] != 1 || rows["recipients"] != 2 || rows["ledger"] == 0 {
		t.Fatalf("export rows = %v", rows)
	}
	keys, _ := st.AccessKeys(ctx, a.ID)
	life := &store.Lifecycle{AccountID: a.ID, State: store.LifeDeleted, Reason: "test", DeletedAt: now, ArchiveUntil: now.Add(45 * 24 * time.Hour), UpdatedAt: now}
	d, err := st.DeleteAccount(ctx, life, []byte("the archive"), []*store.Job{{Kind: store.JobAlert, AccountID: a.ID, Payload: []byte(`{}`), RunAt: now, CreatedAt: now}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Deleted["messages"] != 1 || d.Deleted["recipients"] != 2 || d.Deleted["access_keys"] != len(keys) || d.Kept["ledger"] != rows["ledger"] {
		t.Fatalf("deletion = %+v", d)
	}
	if k, err := st.AccessKeyByHash(ctx, keys[0].Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted account's key still found: %+v %v", k, err)
	}
	if _, err := st.GetMessage(ctx, a.ID, aMsg); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the deleted account's message: %v", err)
	}
	if l, err := st.GetLifecycle(ctx, a.ID); err != nil || l.State != store.LifeDeleted || !l.ArchiveUntil.Equal(life.ArchiveUntil) {
		t.Fatalf("lifecycle = %+v, %v", l, err)
	}
	if acct, err := st.GetAccount(ctx, a.ID); err != nil || acct.Name != "[deleted]" {
		t.Fatalf("the account row = %+v, %v", acct, err)
	}
	if sum, _ := st.LedgerSum(ctx, a.ID); sum == 0 {
		t.Fatal("the ledger went with the account")
	}
	// The other account is untouched.
	if bt, _ := st.AccountExport(ctx, b.ID); len(bt) == 0 {
		t.Fatal("no export of the other account")
	} else {
		for _, tb := range bt {
			if tb.Name == "recipients" && len(tb.Rows) != 2 {
				t.Fatalf("the other account's recipients: %d", len(tb.Rows))
			}
		}
	}
	arch, until, err := st.AccountArchive(ctx, a.ID)
	if err != nil || string(arch) != "the archive" || !until.Equal(life.ArchiveUntil) {
		t.Fatalf("archive = %q %v %v", arch, until, err)
	}
	if err := st.PurgeArchive(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AccountArchive(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the archive after purging: %v", err)
	}
	if acct, _ := st.GetAccount(ctx, a.ID); acct.AlertURL != "" || len(acct.AlertEmails) != 0 {
		t.Fatalf("alert contacts after purging: %+v", acct)
	}
}
