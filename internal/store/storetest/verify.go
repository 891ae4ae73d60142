package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

var verifyBehaviours = []behaviour{
	{"Verifications", testVerifications},
	{"VerifyFraudState", testVerifyFraudState},
}

// testVerifications: writes in one batch, conditional updates that report
// conflicts per item, account scoping, the pending lookup, bounded counts
// and the settled conversion.
func testVerifications(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	now := time.Now().UTC().Truncate(time.Microsecond)
	mk := func(acct, recipient, prefix, ip string, created time.Time) *store.Verification {
		return &store.Verification{ID: ids.New(), AccountID: acct, Recipient: recipient, Type: "sms", Status: store.VerifySent,
			CodeHash: []byte("hash"), Salt: []byte("salt"), Prefix: prefix, Country: "NL", IP: ip, CreatedAt: created,
			ValidUntil: created.Add(30 * time.Second), Service: "svc"}
	}
	v1 := mk(a.ID, "31612345001", "31612345", "192.0.2.1", now.Add(-time.Minute))
	v2 := mk(a.ID, "31612345002", "31612345", "192.0.2.1", now)
	v3 := mk(b.ID, "31612345001", "31612345", "192.0.2.1", now)
	ws := []*store.VerifyWrite{{V: v1, Insert: true}, {V: v2, Insert: true}, {V: v3, Insert: true}}
	if err := st.WriteVerifications(ctx, ws); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetVerification(ctx, a.ID, v1.ID)
	if err != nil || got.Recipient != v1.Recipient || string(got.CodeHash) != "hash" || !got.CreatedAt.Equal(v1.CreatedAt) || got.Service != "svc" {
		t.Fatalf("get %+v %v", got, err)
	}
	if _, err := st.GetVerification(ctx, b.ID, v1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's: %v", err)
	}
	// Conditional updates: the first applies, a stale one conflicts, an
	// unknown one is not found; the batch still commits.
	upd := *got
	upd.Status, upd.Attempts, upd.VerifiedAt = store.VerifyVerified, 0, now
	stale := *got
	stale.Attempts = 1
	ghost := *got
	ghost.ID = ids.New()
	ws = []*store.VerifyWrite{
		{V: &upd, FromStatus: store.VerifySent, FromAttempts: 0},
		{V: &stale, FromStatus: store.VerifySent, FromAttempts: 0},
		{V: &ghost, FromStatus: store.VerifySent, FromAttempts: 0},
	}
	if err := st.WriteVerifications(ctx, ws); err != nil {
		t.Fatal(err)
	}
	if ws[0].Err != nil || !errors.Is(ws[1].Err, store.ErrConflict) || !errors.Is(ws[2].Err, store.ErrNotFound) {
		t.Fatalf("update errors %v, %v, %v", ws[0].Err, ws[1].Err, ws[2].Err)
	}
	if got, _ := st.GetVerification(ctx, a.ID, v1.ID); got.Status != store.VerifyVerified || !got.VerifiedAt.Equal(now) {
		t.Fatalf("after update %+v", got)
	}
	// Pending: v2 (sent, valid), not v1 (verified), not after expiry.
	if p, err := st.PendingVerification(ctx, a.ID, "svc", "31612345002", now); err != nil || p.ID != v2.ID {
		t.Fatalf("pending %+v %v", p, err)
	}
	if _, err := st.PendingVerification(ctx, a.ID, "svc", "31612345001", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pending of a verified one: %v", err)
	}
	if _, err := st.PendingVerification(ctx, a.ID, "svc", "31612345002", now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pending after expiry: %v", err)
	}
	// Counts: per key, within the account, since the time, up to the cap.
	c, err := st.CountVerifications(ctx, a.ID, v2, now.Add(-time.Hour), store.VerifyCounts{Number: 10, Prefix: 10, IP: 10, Account: 10})
	if err != nil || c != (store.VerifyCounts{Number: 1, Prefix: 2, IP: 2, Account: 2}) {
		t.Fatalf("counts %+v %v", c, err)
	}
	c, _ = st.CountVerifications(ctx, a.ID, v2, now.Add(-time.Hour), store.VerifyCounts{Number: 0, Prefix: 1, IP: 1, Account: 1})
	if c != (store.VerifyCounts{Number: 0, Prefix: 1, IP: 1, Account: 1}) {
		t.Fatalf("capped counts %+v", c)
	}
	c, _ = st.CountVerifications(ctx, a.ID, v2, now.Add(-30*time.Second), store.VerifyCounts{Number: 10, Prefix: 10, IP: 10, Account: 10})
	if c.Account != 1 {
		t.Fatalf("counts since 30 s ago %+v", c)
	}
	// Conversion: v1 settled (verified); v2 settles once it expired.
	conv, err := st.VerifyConversion(ctx, a.ID, "31612345", "NL", now.Add(-time.Hour), now)
	if err != nil || conv != (store.VerifyConversion{PrefixSent: 1, PrefixVerified: 1, CountrySent: 1, CountryVerified: 1}) {
		t.Fatalf("conversion %+v %v", conv, err)
	}
	conv, _ = st.VerifyConversion(ctx, a.ID, "31612345", "NL", now.Add(-time.Hour), now.Add(time.Minute))
	if conv != (store.VerifyConversion{PrefixSent: 2, PrefixVerified: 1, CountrySent: 2, CountryVerified: 1}) {
		t.Fatalf("conversion after expiry %+v", conv)
	}
	// Services.
	svc := &store.VerifyService{ID: ids.New(), AccountID: a.ID, FriendlyName: "Shop", CodeLength: 8, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateVerifyService(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetVerifyService(ctx, a.ID, svc.ID); err != nil || got.FriendlyName != "Shop" || got.CodeLength != 8 {
		t.Fatalf("service %+v %v", got, err)
	}
	if _, err := st.GetVerifyService(ctx, b.ID, svc.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's service: %v", err)
	}
	newer := &store.VerifyService{ID: ids.New(), AccountID: a.ID, FriendlyName: "Bank", CodeLength: 6, CreatedAt: now.Add(time.Second), UpdatedAt: now}
	if err := st.CreateVerifyService(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if l, err := st.ListVerifyServices(ctx, a.ID); err != nil || len(l) != 2 || l[0].ID != newer.ID || l[1].FriendlyName != "Shop" || l[1].CodeLength != 8 {
		t.Fatalf("list %+v %v", l, err)
	}
	if l, err := st.ListVerifyServices(ctx, b.ID); err != nil || len(l) != 0 {
		t.Fatalf("another account's list %+v %v", l, err)
	}
	changed := *svc
	changed.FriendlyName, changed.CodeLength, changed.UpdatedAt = "Shop 2", 10, now.Add(time.Minute)
	if err := st.UpdateVerifyService(ctx, &changed); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetVerifyService(ctx, a.ID, svc.ID); got.FriendlyName != "Shop 2" || got.CodeLength != 10 || !got.UpdatedAt.Equal(changed.UpdatedAt.Truncate(time.Microsecond)) || !got.CreatedAt.Equal(svc.CreatedAt.Truncate(time.Microsecond)) {
		t.Fatalf("after update %+v", got)
	}
	other := changed
	other.AccountID = b.ID
	if err := st.UpdateVerifyService(ctx, &other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update through another account: %v", err)
	}
	if err := st.DeleteVerifyService(ctx, b.ID, svc.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete through another account: %v", err)
	}
	if err := st.DeleteVerifyService(ctx, a.ID, svc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetVerifyService(ctx, a.ID, svc.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted service: %v", err)
	}
	if err := st.DeleteVerifyService(ctx, a.ID, svc.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if l, _ := st.ListVerifyServices(ctx, a.ID); len(l) != 1 || l[0].ID != newer.ID {
		t.Fatalf("list after delete %+v", l)
	}
}

// testVerifyFraudState: settings per account with defaults, blocks with
// their notice job in one transaction, one active block per value, lifts.
func testVerifyFraudState(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	s, err := st.GetVerifySettings(ctx, a.ID)
	if err != nil || s.Disabled || len(s.Countries) != 0 || s.PerNumber != 0 {
		t.Fatalf("defaults %+v %v", s, err)
	}
	if err := st.SetVerifySettings(ctx, a.ID, &store.VerifySettings{Countries: []string{"NL"}, PerNumber: 3}); err != nil {
		t.Fatal(err)
	}
	if s, _ := st.GetVerifySettings(ctx, a.ID); len(s.Countries) != 1 || s.PerNumber != 3 {
		t.Fatalf("after set %+v", s)
	}
	if s, _ := st.GetVerifySettings(ctx, b.ID); s.PerNumber != 0 {
		t.Fatalf("another account's %+v", s)
	}
	if err := st.SetVerifySettings(ctx, ids.New(), &store.VerifySettings{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
	now := time.Now().UTC()
	blk := &store.VerifyBlock{AccountID: a.ID, Kind: "prefix", Value: "31699999", Rule: "verify.conversion.prefix", Reason: "r", CreatedAt: now}
	job := &store.Job{Kind: store.JobAlert, AccountID: a.ID, Payload: []byte(`{"type":"verify.blocked"}`), RunAt: now, CreatedAt: now}
	if err := st.AddVerifyBlock(ctx, blk, job); err != nil {
		t.Fatal(err)
	}
	if err := st.AddVerifyBlock(ctx, &store.VerifyBlock{AccountID: a.ID, Kind: "prefix", Value: "31699999", Rule: "x", Reason: "r", CreatedAt: now}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second active block: %v", err)
	}
	jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobAlert, Owner: "t", For: time.Minute, N: 10})
	if err != nil || len(jobs) != 1 || string(jobs[0].Payload) != `{"type":"verify.blocked"}` {
		t.Fatalf("notice job %v %v", jobs, err)
	}
	if list, _ := st.VerifyBlocks(ctx, "", false); len(list) != 1 || list[0].ID != blk.ID {
		t.Fatalf("blocks %+v", list)
	}
	if list, _ := st.VerifyBlocks(ctx, b.ID, false); len(list) != 0 {
		t.Fatalf("another account's blocks %+v", list)
	}
	lifted, err := st.LiftVerifyBlock(ctx, blk.ID, "operator:ann", now)
	if err != nil || lifted.LiftedBy != "operator:ann" || lifted.LiftedAt.IsZero() {
		t.Fatalf("lift %+v %v", lifted, err)
	}
	if _, err := st.LiftVerifyBlock(ctx, blk.ID, "operator:ann", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("lift twice: %v", err)
	}
	if list, _ := st.VerifyBlocks(ctx, a.ID, false); len(list) != 0 {
		t.Fatalf("active blocks after the lift %+v", list)
	}
	if list, _ := st.VerifyBlocks(ctx, a.ID, true); len(list) != 1 {
		t.Fatalf("all blocks %+v", list)
	}
	if err := st.AddVerifyBlock(ctx, &store.VerifyBlock{AccountID: a.ID, Kind: "prefix", Value: "31699999", Rule: "x", Reason: "r", CreatedAt: now}); err != nil {
		t.Fatalf("block again after the lift: %v", err)
	}
}
