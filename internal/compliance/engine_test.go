package compliance_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

var ctx = context.Background()

func setup(t testing.TB) (*sqlstore.Store, *compliance.Engine, string) {
	t.Helper()
	st, err := sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "c.db"), Synchronous: sqlite.SyncNormal})
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

// Rotating senders (SMS-6): a fourth originator's marketing to a recipient
// within a day is refused; the three already used, and transactional
// messages, are not; an operator's relaxation lifts the check.
func TestRotatingSenders(t *testing.T) {
	st, e, a := setup(t)
	const to = "31612345678"
	st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: to, Purpose: compliance.Marketing, Action: store.OptIn, Source: store.SourceAPI}})
	for _, name := range []string{"Shop", "Sale", "Deals", "Promo"} {
		st.SaveSender(ctx, &store.Sender{AccountID: a, Originator: name, Status: store.SenderApproved, CreatedAt: time.Now()})
	}
	from := func(sender, purpose string) func(*compliance.Request) {
		return func(r *compliance.Request) { r.Sender, r.Purpose, r.Time = sender, purpose, time.Time{} }
	}
	urgent := func(r *compliance.Request) { r.Urgent = true } // not about quiet hours
	for _, sender := range []string{"Shop", "Sale", "Deals"} {
		check(t, e, req(a, from(sender, compliance.Marketing), urgent), compliance.Allow, "")
		m := &message.Message{ID: ids.New(), AccountID: a, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
			Originator: sender, Body: "20% off", Details: message.Details{SMS: &message.SMS{DataCoding: "plain", MClass: 1}}, CreatedAt: time.Now(), Purpose: "marketing",
			Recipients: []message.Recipient{{Address: to, Country: "NL", CountryPrefix: 31, Status: message.Sent, StatusAt: time.Now(), PartCount: 1, Length: 7}}}
		if err := st.AcceptMessages(ctx, []*message.Message{m}); err != nil {
			t.Fatal(err)
		}
	}
	check(t, e, req(a, from("Promo", compliance.Marketing), urgent), compliance.Reject, "sender.rotation")
	check(t, e, req(a, from("Shop", compliance.Marketing), urgent), compliance.Allow, "")
	check(t, e, req(a, from("Promo", compliance.Transactional)), compliance.Allow, "")
	p, _ := st.GetPolicy(ctx, a)
	p.SenderRelaxed = "operator:ann 2026-11-25: one brand per store"
	st.SetPolicy(ctx, a, p)
	check(t, e, req(a, from("Promo", compliance.Marketing), urgent), compliance.Allow, "")
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
	mk := func(r *compliance.Request) { r.Purpose = compliance.Marketing }
	st.ImportDND(ctx, store.DNDImport{Registry: "NL-test", Scope: store.DNDMarketing,
		Entries: []store.DNDEntry{{Registry: "NL-test", Prefix: "316123", ListedAt: noon, ImportedAt: noon}}})
	check(t, e, req(a, mk), compliance.Reject, "dnd")
	check(t, e, req(a), compliance.Allow, "") // a marketing-only registry
	st.ImportDND(ctx, store.DNDImport{Registry: "NL-test", Scope: store.DNDAll})
	check(t, e, req(a), compliance.Reject, "dnd") // now every message
	check(t, e, req(a, mk), compliance.Reject, "dnd")
	check(t, e, req(a, func(r *compliance.Request) { r.Reply = true }), compliance.Allow, "") // the answer to a STOP
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
	// Recipients in the Netherlands and in Perth together (winter in
	// Amsterdam): at 18:00 UTC it is 19:00 in Amsterdam but 02:00 in Perth.
	// The message waits for a time inside both windows: 08:00 in Amsterdam
	// is 15:00 in Perth (07:00 UTC).
	both := func(r *compliance.Request) {
		r.Recipients = []compliance.Recipient{{Address: "31612345678", Country: "NL"}, {Address: "61892345678", Country: "AU"}}
	}
	if d := check(t, e, req(a, at(time.Date(2026, 1, 15, 18, 0, 0, 0, time.UTC), "", ""), both), compliance.Defer, "quiet_hours"); !d.Until.Equal(time.Date(2026, 1, 16, 7, 0, 0, 0, time.UTC)) || d.Recipient != "61892345678" {
		t.Fatalf("NL and AU: until %v for %s", d.Until, d.Recipient)
	}
	// Windows that never overlap cannot be met by one message.
	p, _ := st.GetPolicy(ctx, a)
	p.CountryWindows = "NL=08:00-10:00;AU=08:00-10:00"
	st.SetPolicy(ctx, a, p)
	check(t, e, req(a, at(time.Date(2026, 1, 15, 18, 0, 0, 0, time.UTC), "", ""), both), compliance.Reject, "quiet_hours")
	p.CountryWindows = ""
	st.SetPolicy(ctx, a, p)
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
	// The platform's own answer to a recipient's STOP still goes out.
	check(t, e, req(a, func(r *compliance.Request) { r.Reply = true }), compliance.Allow, "")
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

// benchFixture is an account with 1,000,000 suppressed recipients, a
// registry of 100,000 numbers and one opted-in recipient, built once for
// all the decision benchmarks.
var benchFixture struct {
	once    sync.Once
	st      *sqlstore.Store
	account string
	dir     string
}

func fixture(b *testing.B) (*sqlstore.Store, string) {
	f := &benchFixture
	f.once.Do(func() {
		dir, err := os.MkdirTemp("", "decision-bench")
		if err != nil {
			b.Fatal(err)
		}
		st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "c.db"), Synchronous: sqlite.SyncNormal})
		if err != nil {
			b.Fatal(err)
		}
		a := &store.Account{ID: ids.New(), Name: "a", Currency: "EUR", SigningKey: "k", CreatedAt: time.Now()}
		st.CreateAccount(ctx, a, nil)
		st.SaveSender(ctx, &store.Sender{AccountID: a.ID, Originator: "ACME", Status: store.SenderApproved, CreatedAt: time.Now()})
		tx, _ := st.Writer().Begin()
		stmt, _ := tx.Prepare(`INSERT INTO suppressions (account_id, recipient, reason, created_at) VALUES (?, ?, 'opt_out', 0)`)
		for i := 0; i < 1_000_000; i++ {
			stmt.Exec(a.ID, fmt.Sprintf("3161%07d", i))
		}
		dnd, _ := tx.Prepare(`INSERT INTO dnd (registry, prefix, listed_at, imported_at) VALUES ('reg', ?, 0, 0)`)
		for i := 0; i < 100_000; i++ {
			dnd.Exec(fmt.Sprintf("4479%07d", i))
		}
		tx.Exec(`INSERT INTO dnd_prefix_lengths (digits) VALUES (11)`) // as the import would note it
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		st.AddConsents(ctx, []*store.Consent{{AccountID: a.ID, Recipient: "31622345678", Purpose: compliance.Marketing, Action: store.OptIn, Source: store.SourceAPI}})
		f.st, f.account, f.dir = st, a.ID, dir
	})
	return f.st, f.account
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchFixture.st != nil {
		benchFixture.st.Close()
		os.RemoveAll(benchFixture.dir)
	}
	os.Exit(code)
}

// BenchmarkDecision is one decision with the full rule set against the
// fixture's 1M suppressions: a transactional message (suppression list
// only) and a marketing one (consent ledger, suppression list,
// do-not-disturb registry, quiet hours), each to 1 and to 50 recipients.
func BenchmarkDecision(b *testing.B) {
	st, a := fixture(b)
	e := compliance.New(compliance.Config{}, st, metrics.New()) // cached policy, as in production
	text := "Summer sale: 20% off everything at https://shop.example/sale until Sunday. Reply STOP to opt out."
	for _, purpose := range []string{compliance.Transactional, compliance.Marketing} {
		for _, n := range []int{1, 50} {
			r := req(a, func(r *compliance.Request) {
				r.Purpose, r.Content, r.Recipients = purpose, text, nil
				for i := 0; i < n; i++ {
					r.Recipients = append(r.Recipients, compliance.Recipient{Address: "31622345678", Country: "NL"})
				}
			})
			if d, err := e.Check(ctx, r); err != nil || d.Outcome != compliance.Allow {
				b.Fatalf("decision %+v %v", d, err)
			}
			b.Run(fmt.Sprintf("%s/recipients=%d", purpose, n), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if _, err := e.Check(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkContentRules is the text checks alone.
func BenchmarkContentRules(b *testing.B) {
	text := "Summer sale: 20% off everything at https://shop.example/sale until Sunday. Reply STOP to opt out."
	rules := compliance.DefaultContentRules()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, r := range rules {
			if r.Match(text) {
				b.Fatal(r.Name)
			}
		}
	}
}

// A request is decided per recipient: those a rule about them refuses are
// listed with the rule and its code, the others go; only a request whose
// every recipient is refused is rejected, by the first refusal's rule.
func TestPerRecipientRefusals(t *testing.T) {
	st, e, a := setup(t)
	const optedIn, noConsent, suppressed = "31612345671", "31612345672", "31612345673"
	st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: optedIn, Purpose: compliance.Marketing, Action: store.OptIn, Source: store.SourceAPI}})
	st.AddSuppression(ctx, a, store.Suppression{Channel: "sms", Recipient: suppressed, Reason: "manual", CreatedAt: time.Now()})
	three := func(r *compliance.Request) {
		r.Purpose, r.Urgent = compliance.Marketing, true
		r.Recipients = []compliance.Recipient{{Address: noConsent, Country: "NL"}, {Address: optedIn, Country: "NL"}, {Address: suppressed, Country: "NL"}}
	}
	d := check(t, e, req(a, three), compliance.Allow, "")
	if len(d.Refused) != 2 || d.Refused[0].Index != 0 || d.Refused[0].Rule != "consent.opt_in" || d.Refused[0].Code != 4101 ||
		d.Refused[1].Index != 2 || d.Refused[1].Rule != "consent.opt_in" || d.Refused[1].Recipient != suppressed {
		t.Fatalf("refused %+v", d.Refused)
	}
	// Transactional: only the suppressed one is refused, by suppression.
	d = check(t, e, req(a, three, func(r *compliance.Request) { r.Purpose = compliance.Transactional }), compliance.Allow, "")
	if len(d.Refused) != 1 || d.Refused[0].Index != 2 || d.Refused[0].Rule != "suppression" || d.Refused[0].Code != 4103 {
		t.Fatalf("refused %+v", d.Refused)
	}
	// Everyone refused: the request is.
	d = check(t, e, req(a, three, func(r *compliance.Request) { r.Recipients = append(r.Recipients[:1:1], r.Recipients[2]) }), compliance.Reject, "consent.opt_in")
	if d.Recipient != noConsent || len(d.Refused) != 0 {
		t.Fatalf("decision %+v", d)
	}
}

// Rules differ by channel: a channel whose recipients are not phone numbers
// skips the registries and sender identity it was not given, keeps the
// consent rules every channel has, and adds its own.
func TestChannelRules(t *testing.T) {
	st, _, a := setup(t)
	var asked []string
	e := compliance.New(compliance.Config{CacheTTL: time.Nanosecond, Channels: map[string]compliance.ChannelRules{
		"sms": compliance.PhoneRules,
		"chat": {Check: func(ctx context.Context, r compliance.Request) (compliance.Decision, error) {
			asked = asked[:0]
			var d compliance.Decision
			for i, rc := range r.Recipients {
				asked = append(asked, rc.Address)
				if rc.Address == "closed-session" {
					d.Refused = append(d.Refused, compliance.Refusal{Index: i, Rule: "chat.session", Reason: "no open session"})
				}
			}
			return d, nil
		}},
	}}, st, metrics.New())
	st.ImportDND(ctx, store.DNDImport{Registry: "NL-test", Scope: store.DNDAll,
		Entries: []store.DNDEntry{{Registry: "NL-test", Prefix: "316123", ListedAt: noon, ImportedAt: noon}}})
	st.AddSuppression(ctx, a, store.Suppression{Channel: "chat", Recipient: "suppressed-user", Reason: "manual", CreatedAt: time.Now()})
	check(t, e, req(a), compliance.Reject, "dnd")
	chat := func(r *compliance.Request) {
		r.Channel, r.Sender = "chat", "unregistered-channel-id"
		r.Recipients = []compliance.Recipient{{Address: "31612345678"}, {Address: "closed-session"}, {Address: "suppressed-user"}, {Address: "ok"}}
	}
	d := check(t, e, req(a, chat), compliance.Allow, "")
	if len(d.Refused) != 2 || d.Refused[0].Index != 1 || d.Refused[0].Rule != "chat.session" || d.Refused[0].Code != 4199 ||
		d.Refused[1].Index != 2 || d.Refused[1].Rule != "suppression" {
		t.Fatalf("refused %+v", d.Refused)
	}
	// The channel's rule sees only the recipients the common rules let through.
	if fmt.Sprint(asked) != "[31612345678 closed-session ok]" {
		t.Fatalf("the channel rule saw %v", asked)
	}
	// A channel nobody gave rules to gets them all.
	check(t, e, req(a, func(r *compliance.Request) { r.Channel = "fax" }), compliance.Reject, "dnd")
}

// Quiet hours use the recipient's own time zone where it is known, else
// the number's, else the country's.
func TestQuietHoursTimeZone(t *testing.T) {
	st, e, a := setup(t)
	st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: "31612345678", Purpose: compliance.Marketing, Action: store.OptIn, Source: store.SourceAPI}})
	// 12:00 UTC is 14:00 in Amsterdam but 21:00 in Tokyo.
	mk := func(tz string) func(*compliance.Request) {
		return func(r *compliance.Request) {
			r.Purpose, r.Time = compliance.Marketing, time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
			r.Recipients[0].TimeZone = tz
		}
	}
	check(t, e, req(a, mk("")), compliance.Allow, "")
	d := check(t, e, req(a, mk("Asia/Tokyo")), compliance.Defer, "quiet_hours")
	if want := time.Date(2026, 6, 15, 23, 0, 0, 0, time.UTC); !d.Until.Equal(want) { // 08:00 in Tokyo
		t.Fatalf("until %v, want %v", d.Until, want)
	}
	check(t, e, req(a, mk("Not/AZone")), compliance.Allow, "") // unknown: the number's zones
	// A channel whose recipients are not numbers: the country's zones.
	e2 := compliance.New(compliance.Config{CacheTTL: time.Nanosecond, Channels: map[string]compliance.ChannelRules{"email": {QuietHours: true}}}, st, metrics.New())
	st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: "ann@example.jp", Purpose: compliance.Marketing, Action: store.OptIn, Source: store.SourceAPI}})
	email := func(r *compliance.Request) {
		r.Channel, r.Purpose, r.Time = "email", compliance.Marketing, time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
		r.Recipients = []compliance.Recipient{{Address: "ann@example.jp", Country: "JP"}}
	}
	check(t, e2, req(a, email), compliance.Defer, "quiet_hours")
	check(t, e2, req(a, email, func(r *compliance.Request) { r.Recipients[0].Country = "NL" }), compliance.Allow, "")
}

// Suppressions are per channel: an address suppressed on email is refused
// on email alone (matched whatever its case), a number suppressed on SMS
// on SMS alone, and an SMS opt-out (STOP) suppresses SMS.
func TestSuppressionByChannel(t *testing.T) {
	st, _, a := setup(t)
	e := compliance.New(compliance.Config{CacheTTL: time.Nanosecond, Channels: map[string]compliance.ChannelRules{
		"sms": compliance.PhoneRules, "email": {}, "whatsapp": {}}}, st, metrics.New())
	st.AddSuppression(ctx, a, store.Suppression{Channel: "email", Recipient: "Ann@Example.com", Reason: store.SuppressBounce})
	st.AddConsents(ctx, []*store.Consent{{AccountID: a, Recipient: "31612345678", Purpose: compliance.Marketing, Action: store.OptOut,
		Source: store.SourceKeyword, Evidence: map[string]string{"text": "STOP"}}})
	email := func(to ...string) func(r *compliance.Request) {
		return func(r *compliance.Request) {
			r.Channel, r.Sender, r.Recipients = "email", "shop@example.com", nil
			for _, a := range to {
				r.Recipients = append(r.Recipients, compliance.Recipient{Address: a})
			}
		}
	}
	d := check(t, e, req(a, email("ANN@example.COM")), compliance.Reject, "suppression")
	if d.Reason != "the recipient is on the account's suppression list (bounce)" {
		t.Fatalf("reason %q", d.Reason)
	}
	if d := check(t, e, req(a, email("bob@example.com", "ann@example.com")), compliance.Allow, ""); len(d.Refused) != 1 || d.Refused[0].Index != 1 {
		t.Fatalf("refused %+v", d.Refused)
	}
	check(t, e, req(a), compliance.Reject, "suppression") // SMS: the STOP
	check(t, e, req(a, func(r *compliance.Request) { r.Channel = "whatsapp" }), compliance.Allow, "")
}
