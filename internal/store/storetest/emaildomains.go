package storetest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/email/dkim"
	"github.com/omnigate/omnigate/internal/store"
)

// emailDomainBehaviours cover sending domains and their daily counts.
var emailDomainBehaviours = []behaviour{
	{"EmailDomains", testEmailDomains},
	{"EmailDomainQuota", testEmailDomainQuota},
}

func newEmailDomain(t *testing.T, st store.Store, accountID, domain, algorithm string) *store.EmailDomain {
	t.Helper()
	key, err := dkim.GenerateKey(algorithm)
	if err != nil {
		t.Fatal(err)
	}
	d := &store.EmailDomain{AccountID: accountID, Domain: domain, Selector: "og1", Algorithm: algorithm, Key: key,
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := st.AddEmailDomain(ctx, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// Domains are stored per account with their key, checked, suspended,
// capped and removed; another account's domain is not found.
func testEmailDomains(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	d := newEmailDomain(t, st, a.ID, "example.com", dkim.Ed25519)
	newEmailDomain(t, st, a.ID, "alpha.example", dkim.RSA)
	newEmailDomain(t, st, b.ID, "example.com", dkim.Ed25519) // another account may claim it too
	if err := st.AddEmailDomain(ctx, &store.EmailDomain{AccountID: a.ID, Domain: "example.com", Selector: "x", Algorithm: "ed25519", Key: d.Key}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second add: %v, want ErrConflict", err)
	}
	got, err := st.EmailDomain(ctx, a.ID, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.Domain != "example.com" || got.Selector != "og1" || got.Algorithm != dkim.Ed25519 || !got.CreatedAt.Equal(d.CreatedAt) ||
		got.Verified() || got.Suspended() || got.DailyCap != 0 || got.LastCheck != nil || !got.CheckedAt.IsZero() {
		t.Fatalf("read back %+v", got)
	}
	if dkim.DNSRecord(got.Key.Public()) != dkim.DNSRecord(d.Key.Public()) {
		t.Fatal("the key changed in the store")
	}
	list, err := st.EmailDomains(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].Domain != "alpha.example" || list[1].Domain != "example.com" || dkim.Algorithm(list[0].Key) != dkim.RSA {
		t.Fatalf("EmailDomains = %+v, %v", list, err)
	}
	if owners, err := st.EmailDomainOwners(ctx, "example.com"); err != nil || len(owners) != 2 {
		t.Fatalf("owners %v, %v", owners, err)
	}
	if _, err := st.EmailDomain(ctx, b.ID, "alpha.example"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's domain: %v", err)
	}

	// A passing check verifies; a second one keeps the first time; a
	// failing one unverifies.
	t1 := time.Now().UTC().Truncate(time.Microsecond)
	check := json.RawMessage(`{"dkim":{"ok":true}}`)
	if err := st.RecordEmailDomainCheck(ctx, a.ID, "example.com", check, true, t1); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordEmailDomainCheck(ctx, a.ID, "example.com", check, true, t1.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = st.EmailDomain(ctx, a.ID, "example.com")
	if !got.VerifiedAt.Equal(t1) || !got.CheckedAt.Equal(t1.Add(time.Hour)) || string(got.LastCheck) != string(check) {
		t.Fatalf("after checks: verified %v checked %v last %s", got.VerifiedAt, got.CheckedAt, got.LastCheck)
	}
	if err := st.RecordEmailDomainCheck(ctx, a.ID, "example.com", json.RawMessage(`{"dkim":{"ok":false}}`), false, t1.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ = st.EmailDomain(ctx, a.ID, "example.com"); got.Verified() {
		t.Fatal("still verified after a failed check")
	}
	if err := st.RecordEmailDomainCheck(ctx, a.ID, "example.com", json.RawMessage(`{`), true, t1); err == nil {
		t.Error("stored a check that is not JSON")
	}
	if err := st.RecordEmailDomainCheck(ctx, b.ID, "alpha.example", check, true, t1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("check of another account's domain: %v", err)
	}

	if err := st.SuspendEmailDomain(ctx, a.ID, "example.com", "phishing reports", "cli", t1); err != nil {
		t.Fatal(err)
	}
	got, _ = st.EmailDomain(ctx, a.ID, "example.com")
	if !got.Suspended() || !got.SuspendedAt.Equal(t1) || got.SuspendedReason != "phishing reports" || got.SuspendedBy != "cli" {
		t.Fatalf("suspended %+v", got)
	}
	if other, _ := st.EmailDomain(ctx, b.ID, "example.com"); other.Suspended() {
		t.Fatal("the suspension reached another account's domain")
	}
	if err := st.ResumeEmailDomain(ctx, a.ID, "example.com"); err != nil {
		t.Fatal(err)
	}
	if got, _ = st.EmailDomain(ctx, a.ID, "example.com"); got.Suspended() || got.SuspendedReason != "" {
		t.Fatalf("resumed %+v", got)
	}
	if err := st.SetEmailDomainCap(ctx, a.ID, "example.com", 500); err != nil {
		t.Fatal(err)
	}
	if got, _ = st.EmailDomain(ctx, a.ID, "example.com"); got.DailyCap != 500 {
		t.Fatalf("cap %d", got.DailyCap)
	}
	if err := st.SetEmailDomainCap(ctx, a.ID, "example.com", -1); err == nil {
		t.Error("a negative cap was set")
	}
	for name, err := range map[string]error{
		"suspend": st.SuspendEmailDomain(ctx, b.ID, "alpha.example", "x", "cli", t1),
		"resume":  st.ResumeEmailDomain(ctx, a.ID, "nope.example"),
		"cap":     st.SetEmailDomainCap(ctx, b.ID, "alpha.example", 1),
		"delete":  st.DeleteEmailDomain(ctx, b.ID, "alpha.example"),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of a domain the account lacks: %v", name, err)
		}
	}
	if err := st.DeleteEmailDomain(ctx, a.ID, "example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.EmailDomain(ctx, a.ID, "example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := st.EmailDomain(ctx, b.ID, "example.com"); err != nil {
		t.Fatalf("the other account's domain went too: %v", err)
	}
}

// Daily counts stop at the limit, per domain and UTC day, also when many
// take at once.
func testEmailDomainQuota(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	newEmailDomain(t, st, a.ID, "example.com", dkim.Ed25519)
	day := time.Date(2026, 12, 7, 23, 59, 0, 0, time.UTC)
	if ok, used, err := st.TakeEmailDomainQuota(ctx, a.ID, "example.com", 3, 5, day); !ok || used != 3 || err != nil {
		t.Fatalf("take 3 of 5: %v %d %v", ok, used, err)
	}
	if ok, used, err := st.TakeEmailDomainQuota(ctx, a.ID, "example.com", 3, 5, day); ok || used != 3 || err != nil {
		t.Fatalf("take 3 more of 5: %v %d %v", ok, used, err)
	}
	if ok, used, _ := st.TakeEmailDomainQuota(ctx, a.ID, "example.com", 2, 5, day); !ok || used != 5 {
		t.Fatalf("take the last 2: %v %d", ok, used)
	}
	if ok, used, _ := st.TakeEmailDomainQuota(ctx, a.ID, "example.com", 9, 5, day.Add(time.Minute)); ok || used != 0 {
		t.Fatalf("more than the limit on a new day: %v %d", ok, used)
	}
	if ok, used, _ := st.TakeEmailDomainQuota(ctx, a.ID, "example.com", 1, 5, day.Add(time.Minute)); !ok || used != 1 {
		t.Fatalf("next UTC day: %v %d", ok, used)
	}
	if n, err := st.EmailDomainSent(ctx, a.ID, "example.com", day); n != 5 || err != nil {
		t.Fatalf("EmailDomainSent = %d, %v", n, err)
	}
	if n, _ := st.EmailDomainSent(ctx, a.ID, "other.example", day); n != 0 {
		t.Fatalf("another domain's count %d", n)
	}

	// 20 takers of one at once against a limit of 12: exactly 12 succeed.
	later := day.Add(72 * time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	took := 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := st.TakeEmailDomainQuota(ctx, a.ID, "example.com", 1, 12, later)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				took++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n, _ := st.EmailDomainSent(ctx, a.ID, "example.com", later); took != 12 || n != 12 {
		t.Fatalf("%d takes succeeded, count %d; want 12", took, n)
	}
}
