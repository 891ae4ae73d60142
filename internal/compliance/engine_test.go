package compliance_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

var ctx = context.Background()

func setup(t testing.TB) (*sqlstore.Store, *compliance.Engine, string) {
	t.Helper()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "c.db"), Synchronous: sqlite.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := &store.Account{ID: ids.New(), Name: "a", Currency: "EUR", SigningKey: "k", CreatedAt: time.Now()}
	if err := st.CreateAccount(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveSender(ctx, &store.Sender{AccountID: a.ID, Originator: "ACME", Status: store.SenderApproved, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return st, compliance.New(compliance.Config{CacheTTL: time.Nanosecond}, st, metrics.New()), a.ID
}

// noon is a time inside the default window in the Netherlands.
var noon = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

func req(account string, mutate ...func(*compliance.Request)) compliance.Request {
	r := compliance.Request{AccountID: account, Channel: "sms", Sender: "ACME", Content: "Hello",
		Recipients: []compliance.Recipient{{Address: "31612345678", Country: "NL"}}, Time: noon}
	for _, f := range mutate {
		f(&r)
	}
	return r
}

func check(t *testing.T, e *compliance.Engine, r compliance.Request, outcome compliance.Outcome, rule string) compliance.Decision {
	t.Helper()
	d, err := e.Check(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome != outcome || d.Rule != rule {
		t.Fatalf("decision %+v, want %s by %q", d, outcome, rule)
	}
	return d
}

func TestTransactionalAllowed(t *testing.T) {
	_, e, a := setup(t)
	d := check(t, e, req(a), compliance.Allow, "")
	if d.Purpose != compliance.Transactional {
		t.Fatalf("purpose %q", d.Purpose)
	}
}

func TestSenderIdentity(t *testing.T) {
	st, e, a := setup(t)
	check(t, e, req(a, func(r *compliance.Request) { r.Sender = "PayPal" }), compliance.Reject, "sender.identity")
	check(t, e, req(a, func(r *compliance.Request) { r.Sender = "3197010000001" }), compliance.Reject, "sender.identity")
	st.AddNumber(ctx, store.Number{Number: "3197010000001", AccountID: a, CreatedAt: time.Now()})
	check(t, e, req(a, func(r *compliance.Request) { r.Sender = "+3197010000001" }), compliance.Allow, "")
	// Countries without alphanumeric senders.
	check(t, e, req(a, func(r *compliance.Request) {
		r.Recipients = []compliance.Recipient{{Address: "14155552671", Country: "US"}}
	}), compliance.Reject, "sender.country")
	// An operator's relaxation lets anything through (and is on record).
	p, _ := st.GetPolicy(ctx, a)
	p.SenderRelaxed = "operator:ann 2026-11-25: test account"
	st.SetPolicy(ctx, a, p)
	check(t, e, req(a, func(r *compliance.Request) { r.Sender = "PayPal" }), compliance.Allow, "")
}

func TestMarketingNeedsConsent(t *testing.T) {
	st, e, a := setup(t)
	mk := func(r *compliance.Request) { r.Purpose = compliance.Marketing }
	check(t, e, req(a, mk), compliance.Reject, "consent.opt_in")
	st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: "31612345678", Purpose: compliance.Marketing, Action: store.OptIn, Source: store.SourceAPI}})
	check(t, e, req(a, mk), compliance.Allow, "")
	alcohol := func(r *compliance.Request) { r.Categories = []string{"alcohol"} }
	check(t, e, req(a, alcohol), compliance.Reject, "consent.legal_age")
	st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: "31612345678", Purpose: compliance.Marketing, Action: store.OptIn, LegalAge: true, Source: store.SourceAPI}})
	check(t, e, req(a, alcohol), compliance.Allow, "")
	check(t, e, req(a, func(r *compliance.Request) { r.Categories = []string{"weapons"} }), compliance.Reject, "category")
	check(t, e, req(a, func(r *compliance.Request) { r.Purpose = "spam" }), compliance.Reject, "purpose")
	// An opt-out ends it, for marketing and (by default) transactional.
	st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: "31612345678", Purpose: compliance.Marketing, Action: store.OptOut, Source: store.SourceKeyword}})
	check(t, e, req(a, mk), compliance.Reject, "consent.opt_in")
	check(t, e, req(a), compliance.Reject, "suppression")
	// The account may let transactional messages still reach them.
	p, _ := st.GetPolicy(ctx, a)
	p.TransactionalToOptedOut = true
	st.SetPolicy(ctx, a, p)
	check(t, e, req(a), compliance.Allow, "")
	// Replies to keywords always go.
	check(t, e, req(a, func(r *compliance.Request) { r.Reply = true; r.Sender = "3197010000001" }), compliance.Allow, "")
}

func TestDoNotDisturb(t *testing.T) {
	st, e, a := setup(t)
	st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: "31612345678", Purpose: compliance.Marketing, Action: store.OptIn, Source: store.SourceAPI}})
	st.ImportDND(ctx, []store.DNDEntry{{Registry: "NL-test", Prefix: "316123", ListedAt: noon, ImportedAt: noon}})
	check(t, e, req(a, func(r *compliance.Request) { r.Purpose = compliance.Marketing }), compliance.Reject, "dnd")
	check(t, e, req(a), compliance.Allow, "") // transactional is not marketing
}

func TestQuietHours(t *testing.T) {
	st, e, a := setup(t)
	for _, n := range []string{"31612345678", "14155552671", "61892345678"} {
		st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: n, Purpose: compliance.Marketing, Action: store.OptIn, Source: store.SourceAPI}})
	}
	at := func(tm time.Time, address, country string) func(*compliance.Request) {
		return func(r *compliance.Request) {
			r.Purpose, r.Time = compliance.Marketing, tm
			r.Recipients = []compliance.Recipient{{Address: address, Country: country}}
			r.Sender = "3197010000001"
		}
	}
	st.AddNumber(ctx, store.Number{Number: "3197010000001", AccountID: a, CreatedAt: time.Now()})
	// 23:30 in Amsterdam (summer, UTC+2) → deferred to 08:00 local = 06:00 UTC.
	late := time.Date(2026, 6, 15, 21, 30, 0, 0, time.UTC)
	d := check(t, e, req(a, at(late, "31612345678", "NL")), compliance.Defer, "quiet_hours")
	if want := time.Date(2026, 6, 16, 6, 0, 0, 0, time.UTC); !d.Until.Equal(want) {
		t.Fatalf("deferred until %v, want %v", d.Until, want)
	}
	// The same instant in winter (UTC+1): 22:30 local → 07:00 UTC.
	winter := time.Date(2026, 1, 15, 21, 30, 0, 0, time.UTC)
	if d := check(t, e, req(a, at(winter, "31612345678", "NL")), compliance.Defer, "quiet_hours"); !d.Until.Equal(time.Date(2026, 1, 16, 7, 0, 0, 0, time.UTC)) {
		t.Fatalf("winter: until %v", d.Until)
	}
	// The night DST starts in Europe (29 March 2026, 02:00 → 03:00 local):
	// at 01:30 UTC it is 03:30 CEST; 08:00 CEST is 06:00 UTC.
	dst := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	if d := check(t, e, req(a, at(dst, "31612345678", "NL")), compliance.Defer, "quiet_hours"); !d.Until.Equal(time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC)) {
		t.Fatalf("DST night: until %v", d.Until)
	}
	// US: a San Francisco number at 10:00 UTC is 03:00 local → 08:00 PDT = 15:00 UTC.
	if d := check(t, e, req(a, at(noon, "14155552671", "US")), compliance.Defer, "quiet_hours"); !d.Until.Equal(time.Date(2026, 6, 15, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("US: until %v", d.Until)
	}
	// An Australian 08 number spans two zones (Adelaide, Perth): the window
	// must hold in both. At 23:00 UTC it is 08:30 in Adelaide but 07:00 in
	// Perth: deferred to 08:00 in Perth (00:00 UTC).
	au := check(t, e, req(a, at(time.Date(2026, 6, 15, 23, 0, 0, 0, time.UTC), "61892345678", "AU")), compliance.Defer, "quiet_hours")
	if !au.Until.Equal(time.Date(2026, 6, 16, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("AU: until %v", au.Until)
	}
	// At 10:00 UTC it is 19:30 in Adelaide and 18:00 in Perth: allowed.
	check(t, e, req(a, at(noon, "61892345678", "AU")), compliance.Allow, "")
	// Urgent messages and transactional ones are not deferred.
	check(t, e, req(a, at(late, "31612345678", "NL"), func(r *compliance.Request) { r.Urgent = true }), compliance.Allow, "")
	check(t, e, req(a, at(late, "31612345678", "NL"), func(r *compliance.Request) { r.Purpose = compliance.Transactional }), compliance.Allow, "")
}

func TestSuspendedAccount(t *testing.T) {
	st, e, a := setup(t)
	p, _ := st.GetPolicy(ctx, a)
	p.Suspended = "no proof of consent"
	st.SetPolicy(ctx, a, p)
	check(t, e, req(a), compliance.Reject, "account.suspended")
}

func TestContentRules(t *testing.T) {
	_, e, a := setup(t)
	for text, rule := range map[string]string{
		"Your code is 123456. Never share your PIN with anyone.": "",
		"Track your order at https://shop.example/o/17":          "",
		"Win big: bit.ly/free-prize":                             "content.link_shortener",
		"Reply with your PIN to unlock your account":             "content.credentials_request",
		"Please confirm your card number and CVV":                "content.credentials_request",
		"Card 4111 1111 1111 1111 was charged":                   "content.card_number",
		"Pay to NL91ABNA0417164300 today":                        "content.iban",
		"Your SSN 123-45-6789 is on file":                        "content.government_id",
		"Fr\u200bee mon\u200bey":                                 "content.hidden_characters",
		"Log in to Pаypal now":/* Cyrillic а */ "content.lookalike",
		"Привет, hello": "", // two words, two scripts: fine
	} {
		d, err := e.Check(ctx, req(a, func(r *compliance.Request) { r.Content = text }))
		if err != nil {
			t.Fatal(err)
		}
		if d.Rule != rule {
			t.Errorf("%q: rule %q (%s), want %q", text, d.Rule, d.Outcome, rule)
		}
	}
}

// BenchmarkDecision is one decision for a marketing message with the full
// rule set, against an account with 1,000,000 suppressed recipients and a
// registry of 100,000 numbers.
func BenchmarkDecision(b *testing.B) {
	st, _, a := setup(b)
	w := st.Writer()
	tx, _ := w.Begin()
	stmt, _ := tx.Prepare(`INSERT INTO suppressions (account_id, recipient, reason, created_at) VALUES (?, ?, 'opt_out', 0)`)
	for i := 0; i < 1_000_000; i++ {
		stmt.Exec(a, fmt.Sprintf("3161%07d", i))
	}
	dnd, _ := tx.Prepare(`INSERT INTO dnd (registry, prefix, listed_at, imported_at) VALUES ('reg', ?, 0, 0)`)
	for i := 0; i < 100_000; i++ {
		dnd.Exec(fmt.Sprintf("4479%07d", i))
	}
	tx.Commit()
	st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: "31622345678", Purpose: compliance.Marketing, Action: store.OptIn, Source: store.SourceAPI}})
	r := req(a, func(r *compliance.Request) {
		r.Purpose = compliance.Marketing
		r.Recipients = []compliance.Recipient{{Address: "31622345678", Country: "NL"}}
		r.Content = "Summer sale: 20% off everything at https://shop.example/sale until Sunday. Reply STOP to opt out."
	})
	e2 := compliance.New(compliance.Config{}, st, metrics.New()) // cached policy, as in production
	if d, _ := e2.Check(ctx, r); d.Outcome != compliance.Allow {
		b.Fatalf("decision %+v", d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e2.Check(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
