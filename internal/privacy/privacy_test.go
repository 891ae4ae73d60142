package privacy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/privacy"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/postgres/postgrestest"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

var ctx = context.Background()

// engines runs f on SQLite, and on PostgreSQL when OMNIGATE_TEST_POSTGRES
// is set.
func engines(t *testing.T, f func(t *testing.T, st *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "p.db"), Synchronous: sqlite.SyncNormal})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(ctx, postgres.Config{URL: postgrestest.URL(t), MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
}

// clock is a controlled clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock(t time.Time) *clock    { return &clock{t: t} }
func account(t *testing.T, st store.Store) string {
	t.Helper()
	a := &store.Account{ID: ids.New(), Name: "a", Currency: "EUR", SigningKey: "k", CreatedAt: time.Now().UTC()}
	if err := st.CreateAccount(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveSender(ctx, &store.Sender{AccountID: a.ID, Originator: "ACME", Status: store.SenderApproved, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

const (
	person = "31612345678"
	other  = "31687654321"
)

// send stores an outbound message to the addresses, created at at.
func send(t *testing.T, st store.Store, accountID, body string, at time.Time, scheduled time.Time, to ...string) *message.Message {
	t.Helper()
	m := &message.Message{ID: ids.New(), AccountID: accountID, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
		Originator: "ACME", Body: body, Purpose: "transactional", CreatedAt: at.UTC(), ScheduledAt: scheduled}
	st0 := message.Sent
	if !scheduled.IsZero() {
		st0 = message.Scheduled
	}
	for i, a := range to {
		m.Recipients = append(m.Recipients, message.Recipient{Seq: i, Address: a, Country: "NL", CountryPrefix: 31, Status: st0, PartCount: 1, Length: len(body)})
	}
	if err := st.AcceptMessages(ctx, []*message.Message{m}); err != nil {
		t.Fatal(err)
	}
	return m
}

func receive(t *testing.T, st store.Store, accountID, from, body string, at time.Time) *message.Message {
	t.Helper()
	m := &message.Message{ID: ids.New(), AccountID: accountID, Channel: message.ChannelSMS, Direction: message.MO, Type: message.TypeSMS,
		Originator: from, Body: body, CreatedAt: at.UTC(),
		Recipients: []message.Recipient{{Address: "3197000000001", Country: "NL", CountryPrefix: 31, Status: message.Delivered, PartCount: 1}}}
	if err := st.AcceptMessages(ctx, []*message.Message{m}); err != nil {
		t.Fatal(err)
	}
	return m
}

// seed puts the person's data in every kind of table of an account.
func seed(t *testing.T, st store.Store, acct string, at time.Time) (alone, shared *message.Message) {
	t.Helper()
	alone = send(t, st, acct, "your code is 1234", at, time.Time{}, person)
	shared = send(t, st, acct, "team newsletter", at, time.Time{}, person, other)
	receive(t, st, acct, person, "hi, this is Ann", at)
	if err := st.AddConsents(ctx, []*store.Consent{{AccountID: acct, Recipient: person, Purpose: "marketing", Action: store.OptIn,
		Source: "web", Evidence: map[string]string{"ip": "192.0.2.1"}, CreatedAt: at}}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddSuppression(ctx, acct, store.Suppression{Channel: "sms", Recipient: person, Reason: store.SuppressManual, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordDecisions(ctx, []store.Decision{{AccountID: acct, MessageID: alone.ID, Recipient: person, Rule: "quiet_hours",
		Outcome: "defer", Reason: "outside hours for " + person, CreatedAt: at}}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateContact(ctx, &store.Contact{ID: ids.New(), AccountID: acct, MSISDN: person, FirstName: "Ann", LastName: "Smith",
		CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	return alone, shared
}

func readZip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("export is not a zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func rowsOf(t *testing.T, files map[string][]byte, kind string) []map[string]string {
	t.Helper()
	var rows []map[string]string
	if err := json.Unmarshal(files[kind+".json"], &rows); err != nil {
		t.Fatalf("%s.json: %v", kind, err)
	}
	recs, err := csv.NewReader(bytes.NewReader(files[kind+".csv"])).ReadAll()
	if err != nil {
		t.Fatalf("%s.csv: %v", kind, err)
	}
	if len(recs) != len(rows)+1 {
		t.Fatalf("%s.csv has %d lines, want a header and %d rows", kind, len(recs), len(rows))
	}
	return rows
}

func TestAccessThenErasure(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		a, b := account(t, st), account(t, st)
		at := time.Now().UTC().Add(-time.Hour)
		alone, shared := seed(t, st, a, at)
		seed(t, st, b, at) // another account's data about the same person
		svc := &privacy.Service{Store: st}

		// Access: everything account a holds, nothing of b.
		r, err := svc.Open(ctx, privacy.Open{AccountID: a, Identifier: "+31 6 12345678", Kind: store.PrivacyAccess, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != store.PrivacyCompleted || !r.HasExport || r.Identifier != person || r.IDKind != privacy.Phone {
			t.Fatalf("access request %+v", r)
		}
		zb, err := st.PrivacyExport(ctx, a, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		files := readZip(t, zb)
		msgs := rowsOf(t, files, "messages")
		if len(msgs) != 2 {
			t.Fatalf("export has %d messages, want 2: %v", len(msgs), msgs)
		}
		for _, m := range msgs {
			if m["account_id"] != a || m["recipient"] != person {
				t.Fatalf("exported row of another account or person: %v", m)
			}
		}
		for kind, want := range map[string]int{"inbound": 1, "consents": 1, "suppressions": 1, "decisions": 1, "contacts": 1} {
			if got := len(rowsOf(t, files, kind)); got != want {
				t.Errorf("export %s: %d rows, want %d", kind, got, want)
			}
		}
		if ev := rowsOf(t, files, "consents")[0]["evidence"]; !strings.Contains(ev, "192.0.2.1") {
			t.Errorf("consent evidence not exported: %q", ev)
		}
		// Another account's key cannot read the export.
		if _, err := st.PrivacyExport(ctx, b, r.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("account b read a's export: %v", err)
		}

		// Erasure.
		r, err = svc.Open(ctx, privacy.Open{AccountID: a, Identifier: "+31612345678", Kind: store.PrivacyErasure, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != store.PrivacyCompleted || !strings.Contains(r.Outcome, "consents (1)") || !strings.Contains(r.Outcome, "suppressions (1)") ||
			!strings.Contains(r.Outcome, "shared_bodies (1)") {
			t.Fatalf("erasure outcome: %s %s", r.Status, r.Outcome)
		}
		m, err := st.GetMessage(ctx, a, alone.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Body != "" || m.Recipients[0].Address != sqlstore.Erased {
			t.Fatalf("message to the person alone after erasure: body %q, address %q", m.Body, m.Recipients[0].Address)
		}
		m, err = st.GetMessage(ctx, a, shared.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Body != "team newsletter" || m.Recipients[0].Address != sqlstore.Erased || m.Recipients[1].Address != other {
			t.Fatalf("shared message after erasure: body %q, addresses %q %q", m.Body, m.Recipients[0].Address, m.Recipients[1].Address)
		}
		data, err := st.SubjectData(ctx, a, person)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range data {
			keep := tb.Name == "consents" || tb.Name == "suppressions"
			if keep != (len(tb.Rows) > 0) {
				t.Errorf("after erasure %s holds %d rows about the person", tb.Name, len(tb.Rows))
			}
		}
		// Account b is untouched.
		data, _ = st.SubjectData(ctx, b, person)
		for _, tb := range data {
			if tb.Name == "messages" && len(tb.Rows) != 2 {
				t.Fatalf("account b's messages changed: %d", len(tb.Rows))
			}
		}

		// A second erasure is a clear no-op.
		r2, err := svc.Open(ctx, privacy.Open{AccountID: a, Identifier: person, Kind: store.PrivacyErasure, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if r2.Status != store.PrivacyCompleted || !strings.HasPrefix(r2.Outcome, "nothing to erase") {
			t.Fatalf("second erasure: %s %q", r2.Status, r2.Outcome)
		}
		hist, err := st.PrivacyEvents(ctx, r.ID)
		if err != nil || len(hist) != 2 || hist[0].Status != store.PrivacyOpen || hist[1].Status != store.PrivacyCompleted {
			t.Fatalf("history %+v, %v", hist, err)
		}

		// An identifier that holds nothing: an empty export, said so.
		r3, err := svc.Open(ctx, privacy.Open{AccountID: a, Identifier: "nobody@example.com", Kind: store.PrivacyAccess, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r3.Outcome, "nothing is held") {
			t.Fatalf("access for nobody: %q", r3.Outcome)
		}
	})
}

func TestOperatorRequestCoversEveryAccount(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		a, b := account(t, st), account(t, st)
		at := time.Now().UTC().Add(-time.Hour)
		seed(t, st, a, at)
		seed(t, st, b, at)
		svc := &privacy.Service{Store: st}
		r, err := svc.Open(ctx, privacy.Open{Identifier: person, Kind: store.PrivacyAccess, Actor: "operator"})
		if err != nil {
			t.Fatal(err)
		}
		zb, _ := st.PrivacyExport(ctx, "*", r.ID)
		if n := len(rowsOf(t, readZip(t, zb), "messages")); n != 4 {
			t.Fatalf("operator export: %d messages, want 4 over both accounts", n)
		}
		if _, err := st.PrivacyExport(ctx, a, r.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an account read the operator's export: %v", err)
		}
		if _, err := svc.Open(ctx, privacy.Open{Identifier: person, Kind: store.PrivacyErasure, Actor: "operator"}); err != nil {
			t.Fatal(err)
		}
		for _, acct := range []string{a, b} {
			data, _ := st.SubjectData(ctx, acct, person)
			if data[0].Name != "messages" || len(data[0].Rows) != 0 {
				t.Fatalf("account %s still has messages to the person", acct)
			}
		}
	})
}

func TestErasureDuringSend(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		a := account(t, st)
		svc := &privacy.Service{Store: st}
		// A message scheduled for tomorrow is cancelled before erasure.
		later := send(t, st, a, "see you tomorrow", time.Now().UTC(), time.Now().UTC().Add(24*time.Hour), person)
		// A message a worker is sending right now makes erasure wait.
		now := send(t, st, a, "now", time.Now().UTC(), time.Time{}, person)
		jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Minute, Owner: "worker-1"})
		if err != nil {
			t.Fatal(err)
		}
		var held *store.Job
		for _, j := range jobs {
			if j.MessageID == now.ID {
				held = j
			}
		}
		if held == nil {
			t.Fatalf("the immediate message's job was not leased: %d jobs", len(jobs))
		}
		r, err := svc.Open(ctx, privacy.Open{AccountID: a, Identifier: person, Kind: store.PrivacyErasure, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != store.PrivacyInProgress || !strings.Contains(r.Outcome, "being sent right now") {
			t.Fatalf("erasure during a send: %s %q", r.Status, r.Outcome)
		}
		if m, _ := st.GetMessage(ctx, a, later.ID); m.Body == "" {
			t.Fatal("an erasure that waits changed data")
		}
		// The worker hands it to a carrier and finishes.
		out := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: a, MessageID: now.ID, Seq: 0, Status: message.Delivered, At: time.Now().UTC(), Channel: "sms"}},
			JobID: held.ID}
		if err := st.Finish(ctx, []*store.Outcome{out}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Maintain(ctx); err != nil {
			t.Fatal(err)
		}
		r, _ = st.GetPrivacyRequest(ctx, a, r.ID)
		if r.Status != store.PrivacyCompleted || !strings.Contains(r.Outcome, "1 queued messages to this identifier were cancelled") {
			t.Fatalf("erasure after the send settled: %s %q", r.Status, r.Outcome)
		}
		m, _ := st.GetMessage(ctx, a, later.ID)
		if m.Body != "" || m.Recipients[0].Status != message.DeliveryFailed || m.Recipients[0].StatusReason != "privacy.erasure" {
			t.Fatalf("scheduled message after erasure: %+v", m.Recipients[0])
		}
		if left, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Minute, Owner: "worker-2"}); len(left) != 0 {
			t.Fatalf("%d send jobs left after erasure cancelled the queued message", len(left))
		}
	})
}

func TestRestriction(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		a := account(t, st)
		eng := compliance.New(compliance.Config{CacheTTL: time.Nanosecond}, st, metrics.New())
		svc := &privacy.Service{Store: st}
		req := compliance.Request{AccountID: a, Channel: "sms", Sender: "ACME", Content: "hello",
			Recipients: []compliance.Recipient{{Address: person, Country: "NL"}, {Address: other, Country: "NL"}}}
		r, err := svc.Open(ctx, privacy.Open{AccountID: a, Identifier: "+" + person, Kind: store.PrivacyRestriction, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, channel := range []string{"sms", "whatsapp"} {
			req.Channel = channel
			d, err := eng.Check(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != compliance.Allow || len(d.Refused) != 1 || d.Refused[0].Rule != compliance.RulePrivacyRestricted || d.Refused[0].Recipient != person {
				t.Fatalf("%s with a restriction: %+v", channel, d)
			}
		}
		// Even the platform's own replies.
		reply := req
		reply.Channel, reply.Reply, reply.Recipients = "sms", true, req.Recipients[:1]
		if d, _ := eng.Check(ctx, reply); d.Outcome != compliance.Reject || d.Rule != compliance.RulePrivacyRestricted {
			t.Fatalf("reply to a restricted recipient: %+v", d)
		}
		// Another account is not restricted.
		b := account(t, st)
		other := req
		other.AccountID, other.Channel = b, "sms"
		if d, _ := eng.Check(ctx, other); len(d.Refused) != 0 {
			t.Fatalf("account b restricted by a's request: %+v", d)
		}
		if _, err := svc.Close(ctx, a, r.ID, "the person withdrew it", "test"); err != nil {
			t.Fatal(err)
		}
		req.Channel = "sms"
		if d, _ := eng.Check(ctx, req); d.Outcome != compliance.Allow || len(d.Refused) != 0 {
			t.Fatalf("after the restriction was closed: %+v", d)
		}
		// An operator's restriction covers every account.
		if _, err := svc.Open(ctx, privacy.Open{Identifier: person, Kind: store.PrivacyRestriction, Actor: "operator"}); err != nil {
			t.Fatal(err)
		}
		if d, _ := eng.Check(ctx, other); len(d.Refused) != 1 {
			t.Fatalf("operator's restriction did not reach account b: %+v", d)
		}
	})
}

func TestRectification(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		a := account(t, st)
		seed(t, st, a, time.Now().UTC())
		svc := &privacy.Service{Store: st}
		name := "Anne"
		r, err := svc.Open(ctx, privacy.Open{AccountID: a, Identifier: person, Kind: store.PrivacyRectification,
			Changes: &store.ContactChanges{FirstName: &name}, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.Outcome, "1 contact records changed") {
			t.Fatalf("rectification: %q", r.Outcome)
		}
		cs, _ := st.SubjectData(ctx, a, person)
		for _, tb := range cs {
			if tb.Name == "contacts" && tb.Rows[0][2] != "Anne" {
				t.Fatalf("contact after rectification: %v", tb.Rows[0])
			}
		}
		if _, err := svc.Open(ctx, privacy.Open{AccountID: a, Identifier: "ann@example.com", Kind: store.PrivacyRectification,
			Changes: &store.ContactChanges{FirstName: &name}, Actor: "test"}); !errors.Is(err, privacy.ErrInvalid) {
			t.Fatalf("rectifying an email address: %v", err)
		}
	})
}

func TestDeadlinesAndReminders(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		a := account(t, st)
		clk := newClock(time.Now().UTC())
		svc := &privacy.Service{Store: st, Now: clk.Now}
		// A request still in progress (an erasure waiting for a send).
		send(t, st, a, "x", clk.Now(), time.Time{}, person)
		if _, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Hour, Owner: "w"}); err != nil {
			t.Fatal(err)
		}
		r, err := svc.Open(ctx, privacy.Open{AccountID: a, Identifier: person, Kind: store.PrivacyErasure, Actor: "test"})
		if err != nil || r.Status != store.PrivacyInProgress {
			t.Fatalf("%v %+v", err, r)
		}
		if !r.DueAt.Equal(r.CreatedAt.Add(30 * 24 * time.Hour)) {
			t.Fatalf("due %v, created %v", r.DueAt, r.CreatedAt)
		}
		alerts := func() int {
			t.Helper()
			js, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobAlert, N: 10, For: time.Hour, Owner: "n"})
			if err != nil {
				t.Fatal(err)
			}
			return len(js)
		}
		clk.Add(22 * 24 * time.Hour) // 8 days before: nothing yet
		if n, err := svc.Maintain(ctx); err != nil || n != 0 {
			t.Fatalf("8 days before: %d notices, %v", n, err)
		}
		clk.Add(24*time.Hour + time.Minute) // under 7 days before
		if n, _ := svc.Maintain(ctx); n != 1 || alerts() != 1 {
			t.Fatalf("7 days before: %d notices", n)
		}
		if n, _ := svc.Maintain(ctx); n != 0 {
			t.Fatal("reminded twice")
		}
		// Extended once, with a reason.
		if _, err := svc.Extend(ctx, a, r.ID, "", "test"); !errors.Is(err, privacy.ErrInvalid) {
			t.Fatalf("extension without a reason: %v", err)
		}
		r2, err := svc.Extend(ctx, a, r.ID, "the export spans three systems", "test")
		if err != nil || !r2.DueAt.Equal(r.DueAt.Add(60*24*time.Hour)) {
			t.Fatalf("extension: %v %+v", err, r2)
		}
		if _, err := svc.Extend(ctx, a, r.ID, "again", "test"); !errors.Is(err, privacy.ErrInvalid) {
			t.Fatalf("second extension: %v", err)
		}
		clk.Add(59 * 24 * time.Hour) // the new deadline is 8 days away
		if n, _ := svc.Maintain(ctx); n != 0 {
			t.Fatalf("reminded 8 days before the new deadline: %d", n)
		}
		clk.Add(7 * 24 * time.Hour) // 1 day away: reminded again, once
		if n, _ := svc.Maintain(ctx); n != 1 || alerts() != 1 {
			t.Fatalf("reminder before the extended deadline: %d", n)
		}
		clk.Add(2 * 24 * time.Hour)
		if n, _ := svc.Maintain(ctx); n != 1 || alerts() != 1 {
			t.Fatalf("overdue: %d notices", n)
		}
		if n, _ := svc.Maintain(ctx); n != 0 {
			t.Fatal("overdue notice sent twice")
		}
		hist, _ := st.PrivacyEvents(ctx, r.ID)
		var steps []string
		for _, h := range hist {
			steps = append(steps, h.Status)
		}
		if got := strings.Join(steps, ","); got != "open,in_progress,reminded,extended,reminded,overdue" {
			t.Fatalf("history %s", got)
		}
	})
}

func TestBadRequests(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		a := account(t, st)
		svc := &privacy.Service{Store: st}
		for _, o := range []privacy.Open{
			{AccountID: a, Identifier: "", Kind: store.PrivacyAccess},
			{AccountID: a, Identifier: person, Kind: "forget"},
			{AccountID: a, Identifier: "12", Type: privacy.Phone, Kind: store.PrivacyAccess},
			{AccountID: a, Identifier: "not an email@", Type: privacy.Email, Kind: store.PrivacyAccess},
			{AccountID: a, Identifier: person, Kind: store.PrivacyRectification},
		} {
			if _, err := svc.Open(ctx, o); !errors.Is(err, privacy.ErrInvalid) {
				t.Errorf("%+v: %v, want ErrInvalid", o, err)
			}
		}
		if rs, _ := st.ListPrivacyRequests(ctx, store.PrivacyFilter{AccountID: a}); len(rs) != 0 {
			t.Fatalf("bad requests stored: %d", len(rs))
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+31612345678", "0031 6 1234 5678", "Ann@Example.com", "chat-123", "", "a b", "@", "+", "\xff"} {
		f.Add(s, "")
	}
	f.Add("31612345678", "email")
	f.Fuzz(func(t *testing.T, s, kind string) {
		id, k, err := privacy.Normalize(s, kind)
		if err != nil {
			if !errors.Is(err, privacy.ErrInvalid) {
				t.Fatalf("%q: error %v is not ErrInvalid", s, err)
			}
			return
		}
		if id == "" || (k != privacy.Phone && k != privacy.Email && k != privacy.Chat) {
			t.Fatalf("%q → %q %q", s, id, k)
		}
		// Normal forms are fixed points.
		if id2, k2, err := privacy.Normalize(id, k); err != nil || id2 != id || k2 != k {
			t.Fatalf("%q → %q → %q, %v", s, id, id2, err)
		}
	})
}

// A Beams user id is an identifier too: its push devices are in the
// access export and go with an erasure.
func TestBeamsUserAccessAndErasure(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		a := account(t, st)
		now := time.Now().UTC()
		for _, d := range []*store.PushDevice{
			{InstanceID: "inst", ID: "fcm-1", AccountID: a, Platform: store.PushFCM, Token: "tok-1", UserID: "user-42", CreatedAt: now, UpdatedAt: now},
			{InstanceID: "inst", ID: "fcm-2", AccountID: a, Platform: store.PushFCM, Token: "tok-2", UserID: "someone-else", CreatedAt: now, UpdatedAt: now},
		} {
			if err := st.PutPushDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		svc := &privacy.Service{Store: st}
		r, err := svc.Open(ctx, privacy.Open{AccountID: a, Identifier: "user-42", Kind: store.PrivacyAccess, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		zb, err := st.PrivacyExport(ctx, a, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if devs := rowsOf(t, readZip(t, zb), "push_devices"); len(devs) != 1 || devs[0]["id"] != "fcm-1" {
			t.Fatalf("exported push devices %v", devs)
		}
		if _, err := svc.Open(ctx, privacy.Open{AccountID: a, Identifier: "user-42", Kind: store.PrivacyErasure, Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.GetPushDevice(ctx, "inst", "fcm-1"); err == nil {
			t.Fatal("the user's device survived the erasure")
		}
		if _, err := st.GetPushDevice(ctx, "inst", "fcm-2"); err != nil {
			t.Fatalf("another user's device: %v", err)
		}
	})
}
