package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// termsBehaviours cover terms of service versions, acceptances and the
// sub-processor list.
var termsBehaviours = []behaviour{
	{"TermsAcceptance", testTermsAcceptance},
	{"Subprocessors", testSubprocessors},
}

// testTermsAcceptance: a version is published once with its notices, an
// acceptance is kept (the first one), an unknown version is refused.
func testTermsAcceptance(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	now := time.Now().UTC().Truncate(time.Microsecond)
	v := store.TermsVersion{Version: "2026-12", URL: "https://example.com/terms/2026-12", Summary: "retention shortened", EffectiveAt: now.Add(30 * 24 * time.Hour), PublishedAt: now}
	jobs := []*store.Job{{Kind: store.JobAlert, AccountID: a.ID, Payload: []byte(`{"type":"terms.published"}`), RunAt: now, CreatedAt: now}}
	if err := st.PublishTerms(ctx, v, jobs); err != nil {
		t.Fatal(err)
	}
	if err := st.PublishTerms(ctx, v, jobs); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("publishing a version twice: %v", err)
	}
	if leased, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobAlert, N: 10, For: time.Minute, Owner: "n1"}); err != nil || len(leased) != 1 || leased[0].AccountID != a.ID {
		t.Fatalf("the announcement: %+v %v", leased, err)
	}
	list, err := st.ListTerms(ctx)
	if err != nil || len(list) != 1 || list[0].Version != "2026-12" || !list[0].EffectiveAt.Equal(v.EffectiveAt) || list[0].Summary != v.Summary {
		t.Fatalf("ListTerms = %+v, %v", list, err)
	}
	if err := st.AcceptTerms(ctx, store.TermsAcceptance{AccountID: a.ID, Version: "nope", AcceptedAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("accepting an unknown version: %v", err)
	}
	first := store.TermsAcceptance{AccountID: a.ID, Version: "2026-12", AcceptedBy: "key:k1", IP: "192.0.2.1", AcceptedAt: now}
	if err := st.AcceptTerms(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := first
	again.IP, again.AcceptedAt = "192.0.2.2", now.Add(time.Hour)
	if err := st.AcceptTerms(ctx, again); err != nil {
		t.Fatal(err)
	}
	got, err := st.TermsAcceptances(ctx, a.ID, "")
	if err != nil || len(got) != 1 || got[0].IP != "192.0.2.1" || !got[0].AcceptedAt.Equal(now) || got[0].AcceptedBy != "key:k1" {
		t.Fatalf("acceptances of a = %+v, %v", got, err)
	}
	if got, err := st.TermsAcceptances(ctx, b.ID, "2026-12"); err != nil || len(got) != 0 {
		t.Fatalf("acceptances of b = %+v, %v", got, err)
	}
	if got, err := st.TermsAcceptances(ctx, "", "2026-12"); err != nil || len(got) != 1 || got[0].AccountID != a.ID {
		t.Fatalf("acceptances of the version = %+v, %v", got, err)
	}
}

// testSubprocessors: empty until set, replaced whole, the change's time kept.
func testSubprocessors(t *testing.T, st store.Store) {
	if list, at, err := st.Subprocessors(ctx); err != nil || len(list) != 0 || !at.IsZero() {
		t.Fatalf("before any = %+v, %v, %v", list, at, err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	one := []store.Subprocessor{{Name: "Carrier A", Purpose: "SMS delivery", Location: "NL"}, {Name: "Relay B", Purpose: "email", Location: "DE"}}
	if err := st.SetSubprocessors(ctx, one, now, nil); err != nil {
		t.Fatal(err)
	}
	two := []store.Subprocessor{{Name: "Relay B", Purpose: "email", Location: "DE"}}
	if err := st.SetSubprocessors(ctx, two, now.Add(time.Second), nil); err != nil {
		t.Fatal(err)
	}
	list, at, err := st.Subprocessors(ctx)
	if err != nil || len(list) != 1 || list[0] != two[0] || !at.Equal(now.Add(time.Second)) {
		t.Fatalf("after two changes = %+v, %v, %v", list, at, err)
	}
}
