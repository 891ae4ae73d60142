package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// complianceBehaviours cover consent, suppression, registries, senders,
// reviews and proof cases.
var complianceBehaviours = []behaviour{
	{"ConsentLedger", testConsentLedger},
	{"DoNotDisturb", testDoNotDisturb},
	{"SendersAndPolicy", testSendersAndPolicy},
	{"ReviewQueue", testReviewQueue},
	{"ProofCases", testProofCases},
}

func testConsentLedger(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	r := "31612345678"
	in := &store.Consent{AccountID: a.ID, Recipient: r, Purpose: "marketing", Action: store.OptIn, LegalAge: true, Categories: []string{"alcohol"},
		Source: store.SourceWebForm, Evidence: map[string]string{"ip": "192.0.2.7", "formUrl": "https://shop.example/join"}, Actor: "api"}
	if err := st.AddConsents(ctx, []*store.Consent{in}); err != nil || in.ID == 0 {
		t.Fatalf("opt-in: %v", err)
	}
	latest, _ := st.LatestConsents(ctx, a.ID, "marketing", []string{r, "31600000000"})
	if c := latest[r]; c.Action != store.OptIn || !c.LegalAge || c.Evidence["ip"] != "192.0.2.7" || c.Categories[0] != "alcohol" || len(latest) != 1 {
		t.Fatalf("latest %+v", latest)
	}
	out := &store.Consent{AccountID: a.ID, Recipient: r, Purpose: "marketing", Action: store.OptOut, Source: store.SourceKeyword, Evidence: map[string]string{"text": "STOP"}}
	if err := st.AddConsents(ctx, []*store.Consent{out}); err != nil {
		t.Fatal(err)
	}
	if sup, _ := st.Suppressed(ctx, a.ID, "sms", []string{r}); sup[r] != store.OptOut {
		t.Fatalf("an opt-out did not suppress: %v", sup)
	}
	// A manual entry on top keeps the opt-out.
	st.AddSuppression(ctx, a.ID, store.Suppression{Channel: "sms", Recipient: r, Reason: "manual", CreatedAt: time.Now()})
	if sup, _ := st.Suppressed(ctx, a.ID, "sms", []string{r}); sup[r] != store.OptOut {
		t.Fatalf("a manual entry replaced an opt-out: %v", sup)
	}
	if latest, _ := st.LatestConsents(ctx, a.ID, "marketing", []string{r}); latest[r].Action != store.OptOut {
		t.Fatalf("latest after opt-out %+v", latest[r])
	}
	// Opting in again lifts an opt-out suppression, but not a manual one.
	again := &store.Consent{AccountID: a.ID, Recipient: r, Purpose: "marketing", Action: store.OptIn, Source: store.SourceKeyword}
	st.AddConsents(ctx, []*store.Consent{again})
	if sup, _ := st.Suppressed(ctx, a.ID, "sms", []string{r}); len(sup) != 0 {
		t.Fatalf("opt-in kept the suppression: %v", sup)
	}
	st.AddSuppression(ctx, a.ID, store.Suppression{Channel: "sms", Recipient: r, Reason: "manual", CreatedAt: time.Now()})
	st.AddConsents(ctx, []*store.Consent{{AccountID: a.ID, Recipient: r, Purpose: "marketing", Action: store.OptIn, Source: store.SourceAPI}})
	if sup, _ := st.Suppressed(ctx, a.ID, "sms", []string{r}); sup[r] != "manual" {
		t.Fatalf("an opt-in lifted a manual suppression: %v", sup)
	}
	history, _ := st.Consents(ctx, a.ID, r)
	if len(history) != 4 || history[0].ID != in.ID || history[3].Action != store.OptIn {
		t.Fatalf("history %+v", history)
	}
	if list, _ := st.Suppressions(ctx, a.ID, store.SuppressionFilter{Limit: 10}); len(list) != 1 {
		t.Fatalf("suppressions %+v", list)
	}
	if _, err := st.RemoveSuppression(ctx, a.ID, store.SuppressionRemoval{Suppression: store.Suppression{Channel: "sms", Recipient: r},
		RemovedBy: "test", RemovalReason: "asked to"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RemoveSuppression(ctx, a.ID, store.SuppressionRemoval{Suppression: store.Suppression{Channel: "sms", Recipient: r},
		RemovedBy: "test", RemovalReason: "again"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	// Another account knows nothing of it.
	b := newAccount(t, st)
	if h, _ := st.Consents(ctx, b.ID, r); len(h) != 0 {
		t.Fatalf("another account sees consents: %+v", h)
	}
}

func testDoNotDisturb(t *testing.T, st store.Store) {
	now := time.Now().UTC()
	// India's registry stops marketing only; the Dutch one every message.
	if err := st.ImportDND(ctx, store.DNDImport{Registry: "IN-NCPR", Scope: store.DNDMarketing, Entries: []store.DNDEntry{
		{Registry: "IN-NCPR", Prefix: "919812345678", ListedAt: now, ImportedAt: now},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := st.ImportDND(ctx, store.DNDImport{Registry: "NL-Bel-me-niet", Scope: store.DNDAll, Entries: []store.DNDEntry{
		{Registry: "NL-Bel-me-niet", Prefix: "3120", ListedAt: now, ImportedAt: now},
	}}); err != nil {
		t.Fatal(err)
	}
	got, err := st.DNDListed(ctx, []string{"919812345678", "919812345679", "31201234567", "31612345678"})
	if err != nil || len(got) != 2 || got["919812345678"] != "IN-NCPR" || got["31201234567"] != "NL-Bel-me-niet" {
		t.Fatalf("listed %v, %v", got, err)
	}

	// Screen answers the same questions as LatestConsents, Suppressed and
	// DNDListed, in one statement.
	a := newAccount(t, st)
	recipients := []string{"919812345678", "31201234567", "31612345678", "31612345679"}
	st.AddConsents(ctx, []*store.Consent{
		{AccountID: a.ID, Recipient: "31612345678", Purpose: "marketing", Action: store.OptIn, LegalAge: true, Source: store.SourceAPI},
		{AccountID: a.ID, Recipient: "31612345679", Purpose: "marketing", Action: store.OptIn, Source: store.SourceAPI},
		{AccountID: a.ID, Recipient: "31612345679", Purpose: "marketing", Action: store.OptOut, Source: store.SourceKeyword},
		{AccountID: a.ID, Recipient: "31201234567", Purpose: "transactional", Action: store.OptIn, Source: store.SourceAPI},
	})
	st.AddSuppression(ctx, a.ID, store.Suppression{Channel: "sms", Recipient: "919812345678", Reason: "manual", CreatedAt: now})
	sc, err := st.Screen(ctx, a.ID, "sms", recipients, true, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Latest) != 2 || sc.Latest["31612345678"].Action != store.OptIn || !sc.Latest["31612345678"].LegalAge ||
		sc.Latest["31612345679"].Action != store.OptOut || sc.Latest["31612345679"].LegalAge {
		t.Fatalf("screened consents %+v", sc.Latest)
	}
	if len(sc.Suppressed) != 2 || sc.Suppressed["919812345678"] != "manual" || sc.Suppressed["31612345679"] != store.OptOut {
		t.Fatalf("screened suppressions %v", sc.Suppressed)
	}
	if len(sc.Listed) != 2 || sc.Listed["919812345678"] != "IN-NCPR" || sc.Listed["31201234567"] != "NL-Bel-me-niet" {
		t.Fatalf("screened listings %v", sc.Listed)
	}
	if sc, err := st.Screen(ctx, a.ID, "sms", recipients, false, now.Add(-time.Hour)); err != nil || len(sc.Latest) != 0 ||
		len(sc.Listed) != 1 || sc.Listed["31201234567"] != "NL-Bel-me-niet" || len(sc.Suppressed) != 2 {
		t.Fatalf("transactional screening %+v, %v", sc, err)
	}
	if len(sc.Originators) != 0 {
		t.Fatalf("originators without a time: %v", sc.Originators)
	}

	// The senders of the account's marketing to a recipient since a time
	// (rotating senders): not transactional, not older, not another account's.
	b := newAccount(t, st)
	to := "31612340000"
	sent := func(acct *store.Account, from, purpose string, age time.Duration) {
		accept(t, st, newMessage(acct, 1, func(m *message.Message) {
			m.Originator, m.Purpose, m.CreatedAt = from, purpose, m.CreatedAt.Add(-age)
		}))
	}
	sent(a, "Shop", "marketing", time.Hour)
	sent(a, "Shop", "marketing", time.Minute)
	sent(a, "Sale", "marketing", 2*time.Hour)
	sent(a, "Bank", "transactional", time.Minute)
	sent(a, "Old", "marketing", 48*time.Hour)
	sent(b, "Other", "marketing", time.Minute)
	sc, err = st.Screen(ctx, a.ID, "sms", []string{to, "31699999999"}, true, time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	senders := sc.Originators[to]
	slices.Sort(senders)
	if len(sc.Originators) != 1 || !slices.Equal(senders, []string{"Sale", "Shop"}) {
		t.Fatalf("marketing originators %v", sc.Originators)
	}
	// Maintenance drops what the check no longer reads ("Old", at least).
	if n, err := st.PurgeMarketingSenders(ctx, time.Now().Add(-24*time.Hour)); err != nil || n < 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if sc, _ := st.Screen(ctx, a.ID, "sms", []string{to}, true, time.Now().Add(-72*time.Hour)); len(sc.Originators[to]) != 2 {
		t.Fatalf("after the purge: %v", sc.Originators)
	}

	// A new full edition replaces the registry: numbers taken off it are
	// gone, and a scope given again applies to every entry.
	if err := st.ImportDND(ctx, store.DNDImport{Registry: "IN-NCPR", Scope: store.DNDAll, Replace: true, Entries: []store.DNDEntry{
		{Registry: "IN-NCPR", Prefix: "919800000000", ListedAt: now, ImportedAt: now},
	}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.DNDListed(ctx, []string{"919812345678", "919800000000"}); len(got) != 1 || got["919800000000"] != "IN-NCPR" {
		t.Fatalf("after the new edition: %v", got)
	}
	if sc, _ := st.Screen(ctx, a.ID, "sms", []string{"919800000000"}, false, time.Time{}); sc.Listed["919800000000"] != "IN-NCPR" {
		t.Fatalf("scope all after the new edition: %v", sc.Listed)
	}
	// Adding to a registry with another scope changes it for the old entries too.
	if err := st.ImportDND(ctx, store.DNDImport{Registry: "NL-Bel-me-niet", Scope: store.DNDMarketing, Entries: []store.DNDEntry{
		{Registry: "NL-Bel-me-niet", Prefix: "3130", ListedAt: now, ImportedAt: now},
	}}); err != nil {
		t.Fatal(err)
	}
	if sc, _ := st.Screen(ctx, a.ID, "sms", []string{"31201234567"}, false, time.Time{}); len(sc.Listed) != 0 {
		t.Fatalf("marketing-only registry stopped a transactional message: %v", sc.Listed)
	}
}

func testSendersAndPolicy(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	s := &store.Sender{AccountID: a.ID, Originator: "ACME", Status: store.SenderPending, RequestedBy: "api", CreatedAt: time.Now()}
	if err := st.SaveSender(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Status, s.DecidedBy, s.DecidedAt = store.SenderApproved, "operator:ann", time.Now()
	if err := st.SaveSender(ctx, s); err != nil {
		t.Fatal(err)
	}
	list, _ := st.Senders(ctx, a.ID)
	if len(list) != 1 || list[0].Status != store.SenderApproved || list[0].RequestedBy != "api" {
		t.Fatalf("senders %+v", list)
	}
	p, err := st.GetPolicy(ctx, a.ID)
	if err != nil || p.DefaultPurpose != "transactional" || p.WindowStart != 480 || p.WindowEnd != 1260 || p.Suspended != "" {
		t.Fatalf("default policy %+v, %v", p, err)
	}
	p.DefaultPurpose, p.HelpText, p.Suspended = "marketing", "Acme: help at acme.example", "fraud"
	p.CountryWindows, p.SenderFallback, p.ContentRules = "FR=08:00-20:00", "15551234567", "content.iban=off"
	p.PostalAddress, p.RoleAddresses = "Acme BV, Keizersgracht 1, 1015 CJ Amsterdam, NL", "info,sales"
	if err := st.SetPolicy(ctx, a.ID, p); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetPolicy(ctx, a.ID); *got != *p {
		t.Fatalf("policy %+v, want %+v", got, p)
	}
	if err := st.RecordDecisions(ctx, []store.Decision{{AccountID: a.ID, Recipient: "x", Rule: "consent", Outcome: "reject", Reason: "no opt-in", CreatedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if ds, _ := st.Decisions(ctx, a.ID, 10); len(ds) != 1 || ds[0].Rule != "consent" {
		t.Fatalf("decisions %+v", ds)
	}
}

func testReviewQueue(t *testing.T, st store.Store) {
	a := newAccount(t, st) // 5 EUR
	held := charged(newMessage(a, 2), 500_000)
	held.Hold = &store.Review{Rule: "content.card_number", Reason: "looks like a card number"}
	other := charged(newMessage(a, 1), 500_000)
	other.Hold = &store.Review{Rule: "content.shortener", Reason: "link shortener"}
	if err := st.AcceptCharged(ctx, []*store.Accept{held, other}); err != nil || held.Err != nil {
		t.Fatal(err, held.Err)
	}
	if jobs, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Minute, Owner: "n"}); len(jobs) != 0 {
		t.Fatalf("a held message's job was leased: %+v", jobs)
	}
	pending, _ := st.Reviews(ctx, store.ReviewPending, 10)
	if len(pending) != 2 {
		t.Fatalf("pending reviews %+v", pending)
	}
	if _, err := st.DecideReview(ctx, held.Message.ID, store.ReviewReleased, "operator:ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DecideReview(ctx, held.Message.ID, store.ReviewRejected, "operator:ann"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("deciding twice: %v", err)
	}
	if jobs, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Minute, Owner: "n"}); len(jobs) != 1 || jobs[0].MessageID != held.Message.ID {
		t.Fatalf("released message's job: %+v", jobs)
	}
	before := checkLedger(t, st, a.ID)
	if _, err := st.DecideReview(ctx, other.Message.ID, store.ReviewRejected, "operator:ann"); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetMessage(ctx, a.ID, other.Message.ID)
	if got.Recipients[0].Status != message.DeliveryFailed {
		t.Fatalf("rejected message's recipient %+v", got.Recipients[0])
	}
	if after := checkLedger(t, st, a.ID); after != before+500_000 {
		t.Fatalf("rejection refunded %d, want 0.5", after-before)
	}
	sameAsRecipients(t, st, a.ID, "after a rejection in review")
	// The account hears of the rejection as of any other failure.
	reports, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 10, For: time.Minute, Owner: "n"})
	if len(reports) != 1 || reports[0].MessageID != other.Message.ID {
		t.Fatalf("report jobs after the rejection: %+v", reports)
	}
	if _, err := st.DecideReview(ctx, "nothing", store.ReviewReleased, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown review: %v", err)
	}
}

func testProofCases(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	now := time.Now().UTC()
	answered := &store.ProofCase{ID: ids.New(), AccountID: a.ID, Reason: "complaint", OpenedBy: "operator:ann", Status: store.CaseOpen, DueAt: now.Add(time.Hour), CreatedAt: now}
	late := &store.ProofCase{ID: ids.New(), AccountID: b.ID, Reason: "complaint", OpenedBy: "operator:ann", Status: store.CaseOpen, DueAt: now.Add(-time.Minute), CreatedAt: now}
	for _, c := range []*store.ProofCase{answered, late} {
		if err := st.OpenProofCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.AnswerProofCase(ctx, b.ID, answered.ID, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account answered: %v", err)
	}
	if c, err := st.AnswerProofCase(ctx, a.ID, answered.ID, `{"consents":3}`); err != nil || c.Status != store.CaseAnswered {
		t.Fatalf("answer: %+v, %v", c, err)
	}
	expired, err := st.ExpireProofCases(ctx, now)
	if err != nil || len(expired) != 1 || expired[0].ID != late.ID {
		t.Fatalf("expired %+v, %v", expired, err)
	}
	if p, _ := st.GetPolicy(ctx, b.ID); p.Suspended == "" {
		t.Fatal("an unanswered case did not suspend the account")
	}
	if p, _ := st.GetPolicy(ctx, a.ID); p.Suspended != "" {
		t.Fatalf("an answered case suspended the account: %s", p.Suspended)
	}
	if n, err := st.AddComplaint(ctx, a.ID, "31612345678", "carrier", "spam", now.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("complaints %d, %v", n, err)
	}
}
