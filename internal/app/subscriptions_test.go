package app

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/subscriptions"
)

// lifecycleServer is a server whose subscriptions run on a clock the test
// moves, with every account's notices going to one sink.
type lifecycleServer struct {
	*server
	clock *testClock
	hook  *noticeSink
}

func startLifecycle(t *testing.T, engine string) *lifecycleServer {
	clock := &testClock{t: time.Now().UTC()}
	s := start(t, engine, func(c *Config) {
		c.AdminToken, c.Demo = adminToken, false
		c.Subscriptions.Now = clock.Now
	})
	ls := &lifecycleServer{server: s, clock: clock, hook: newNoticeSink(t)}
	ls.watch(s.accountID)
	if r := s.admin("PUT", "/admin/plans/team", "application/json",
		`{"name":"Team","currency":"EUR","monthlyFee":"30","includedSeats":2,"seatPrice":"5","addons":[{"code":"sso","name":"Single sign-on","price":"10"}]}`); r.status != 200 {
		t.Fatalf("PUT /admin/plans/team = %d %s", r.status, r.raw)
	}
	if r := s.admin("PUT", "/admin/plans/free", "application/json", `{"name":"Free","currency":"EUR","monthlyFee":"0","includedSeats":1}`); r.status != 200 {
		t.Fatalf("PUT /admin/plans/free = %d %s", r.status, r.raw)
	}
	if r := s.admin("PUT", "/admin/plans/big", "application/json", `{"name":"Enterprise","currency":"EUR","monthlyFee":"5000","includedSeats":50}`); r.status != 200 {
		t.Fatalf("PUT /admin/plans/big = %d %s", r.status, r.raw)
	}
	return ls
}

// watch sends an account's notices to the sink.
func (s *lifecycleServer) watch(accountID string) {
	if r := s.admin("PUT", "/admin/accounts/"+accountID+"/billing", "", `{"alertUrl":"`+s.hook.srv.URL+`"}`); r.status/100 != 2 {
		s.t.Fatalf("alert url: %d %s", r.status, r.raw)
	}
}

// at moves the clock to d after start and makes a pass.
func (s *lifecycleServer) at(start time.Time, d time.Duration) *subscriptions.Pass {
	s.t.Helper()
	s.clock.mu.Lock()
	s.clock.t = start.Add(d)
	s.clock.mu.Unlock()
	p, err := s.app.subs.Pass(context.Background())
	if err != nil {
		s.t.Fatalf("pass at +%v: %v", d, err)
	}
	return p
}

// told waits for a notice of typ to the account.
func (s *lifecycleServer) told(accountID, typ string) map[string]any {
	s.t.Helper()
	var got map[string]any
	waitFor(s.t, "notice "+typ, 15*time.Second, func() bool {
		for _, n := range s.hook.all() {
			if n["type"] == typ && n["accountId"] == accountID {
				got = n
				return true
			}
		}
		return false
	})
	return got
}

func (s *lifecycleServer) countTold(accountID, typ string) int {
	n := 0
	for _, x := range s.hook.all() {
		if x["type"] == typ && x["accountId"] == accountID {
			n++
		}
	}
	return n
}

func (s *lifecycleServer) canSend(key string) bool {
	s.t.Helper()
	r := s.postJSON(key, map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "hi"})
	if r.status == http.StatusCreated {
		return true
	}
	refused(s.t.(*testing.T), r, "account.suspended")
	return false
}

// audited reports whether the audit log has action for the account.
func (s *lifecycleServer) audited(accountID, action string) bool {
	r := s.admin("GET", "/admin/audit?account="+accountID, "", "")
	items, _ := r.json["items"].([]any)
	for _, it := range items {
		if it.(map[string]any)["action"] == action {
			return true
		}
	}
	return false
}

func (s *lifecycleServer) lifecycle(key string) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/subscription", key, "", nil)
	if r.status != 200 {
		s.t.Fatalf("GET /subscription = %d %s", r.status, r.raw)
	}
	l, _ := r.json["subscription"].(map[string]any)["lifecycle"].(map[string]any)
	return l
}

// Plans and bad input: a bad plan is refused naming the parameter; a
// trial starts with its credit in the ledger; the account API shows the
// subscription and invoices; test keys see none of it.
func TestSubscriptionsPlansAndTrial(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := startLifecycle(t, engine)
		for _, c := range []struct{ path, body, param string }{
			{"/admin/plans/Bad%20Id", `{"name":"x","currency":"EUR","includedSeats":1}`, "id"},
			{"/admin/plans/x", `{"name":"","currency":"EUR","includedSeats":1}`, "name"},
			{"/admin/plans/x", `{"name":"x","currency":"euro","includedSeats":1}`, "currency"},
			{"/admin/plans/x", `{"name":"x","currency":"EUR","includedSeats":0}`, "includedSeats"},
			{"/admin/plans/x", `{"name":"x","currency":"EUR","includedSeats":1,"monthlyFee":"-1"}`, "monthlyFee"},
			{"/admin/plans/x", `{"name":"x","currency":"EUR","includedSeats":1,"addons":[{"code":"a","name":"A"},{"code":"a","name":"B"}]}`, "addons[1].code"},
		} {
			if r := s.admin("PUT", c.path, "application/json", c.body); r.status != 422 || !strings.Contains(string(r.raw), `"parameter":"`+c.param+`"`) {
				t.Errorf("PUT %s %s = %d %s", c.path, c.body, r.status, r.raw)
			}
		}
		if r := s.admin("PUT", "/admin/plans/x", "application/json", `{"name":"x","currency":"EUR","includedSeats":1,"monthlyFee":"ten"}`); r.status != 400 {
			t.Errorf("a fee that is no number = %d %s", r.status, r.raw)
		}
		if r := s.admin("GET", "/admin/plans", "", ""); len(r.json["items"].([]any)) != 3 {
			t.Fatalf("GET /admin/plans = %s", r.raw)
		}
		id, key, testKey, _ := s.newAccount("trial")
		s.watch(id)
		for _, body := range []string{`{"plan":"nope","credit":"10","days":14}`, `{"plan":"team","credit":"10","days":0}`, `{"plan":"team","credit":"-1","days":14}`} {
			if r := s.admin("POST", "/admin/accounts/"+id+"/trial", "application/json", body); r.status != 422 {
				t.Errorf("trial %s = %d %s", body, r.status, r.raw)
			}
		}
		before := s.do("GET", "/balance", key, "", nil).json["amount"].(float64)
		tr := s.admin("POST", "/admin/accounts/"+id+"/trial", "application/json", `{"plan":"team","credit":"10","days":14}`)
		if tr.status != 201 || tr.json["status"] != "trial" || tr.json["trialCredit"] != 10.0 {
			t.Fatalf("trial = %d %s", tr.status, tr.raw)
		}
		if after := s.do("GET", "/balance", key, "", nil).json["amount"].(float64); after != before+10 {
			t.Fatalf("balance %v after the trial's credit, %v before", after, before)
		}
		if r := s.admin("POST", "/admin/accounts/"+id+"/trial", "application/json", `{"plan":"team","credit":"10","days":14}`); r.status != 422 {
			t.Fatalf("a second trial = %d %s", r.status, r.raw)
		}
		s.told(id, subscriptions.NoticeTrialStarted)
		g := s.do("GET", "/subscription", key, "", nil)
		if g.status != 200 || g.json["subscription"].(map[string]any)["status"] != "trial" || g.json["plan"].(map[string]any)["includedSeats"] != 2.0 {
			t.Fatalf("GET /subscription = %d %s", g.status, g.raw)
		}
		if r := s.do("GET", "/subscription", testKey, "", nil); r.status != 404 {
			t.Fatalf("a test key's GET /subscription = %d %s", r.status, r.raw)
		}
		if r := s.do("GET", "/subscription", s.key, "", nil); r.status != 404 {
			t.Fatalf("an account without a subscription = %d %s", r.status, r.raw)
		}
		// Converted during the trial: the first month is invoiced (30 +
		// the add-on 10) and paid from the balance.
		sub := s.admin("PUT", "/admin/accounts/"+id+"/subscription", "application/json", `{"plan":"team","addons":["sso"]}`)
		inv, _ := sub.json["invoice"].(map[string]any)
		if sub.status != 200 || inv["status"] != "paid" || inv["total"] != 40.0 || len(inv["lines"].([]any)) != 2 {
			t.Fatalf("subscribe = %d %s", sub.status, sub.raw)
		}
		if r := s.admin("PUT", "/admin/accounts/"+id+"/subscription", "application/json", `{"plan":"team","addons":["nope"]}`); r.status != 422 {
			t.Fatalf("an unknown add-on = %d %s", r.status, r.raw)
		}
		list := s.do("GET", "/invoices", key, "", nil)
		items, _ := list.json["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["number"] != inv["number"] {
			t.Fatalf("GET /invoices = %s", list.raw)
		}
		if r := s.do("GET", "/invoices", testKey, "", nil); len(r.json["items"].([]any)) != 0 {
			t.Fatalf("a test key's invoices: %s", r.raw)
		}
		if r := s.do("GET", "/invoices/"+inv["id"].(string), key, "", nil); r.status != 200 || r.json["total"] != 40.0 {
			t.Fatalf("GET /invoices/{id} = %d %s", r.status, r.raw)
		}
		if r := s.do("GET", "/invoices/"+inv["id"].(string), s.key, "", nil); r.status != 404 {
			t.Fatalf("another account's invoice = %d %s", r.status, r.raw)
		}
		s.told(id, subscriptions.NoticeInvoiceIssued)
		// Renewal a month on: invoiced in advance for the next month; a
		// second pass invoices nothing more.
		start := s.clock.Now()
		if p := s.at(start, 32*subscriptions.Day); p.Renewed != 1 {
			t.Fatalf("renewal pass = %+v", p)
		}
		if p := s.at(start, 32*subscriptions.Day); p.Renewed != 0 {
			t.Fatalf("a second pass renewed again: %+v", p)
		}
		if r := s.do("GET", "/invoices", key, "", nil); len(r.json["items"].([]any)) != 2 {
			t.Fatalf("invoices after the renewal: %s", r.raw)
		}
		if !s.audited(id, "subscription.renewed") || !s.audited(id, "PUT /admin/accounts/{id}/subscription") {
			t.Fatal("the renewal or the subscription is not in the audit log")
		}
		// The maintenance loop's Run: one pass per lease period, over all
		// nodes (here two calls stand for two nodes).
		s.clock.Add(time.Hour)
		if p, err := s.app.subs.Run(context.Background()); err != nil || p == nil {
			t.Fatalf("the first Run = %v, %v", p, err)
		}
		if p, err := s.app.subs.Run(context.Background()); err != nil || p != nil {
			t.Fatalf("a second Run within the lease = %v, %v", p, err)
		}
		s.clock.Add(2 * time.Minute)
		if p, err := s.app.subs.Run(context.Background()); err != nil || p == nil {
			t.Fatalf("a Run after the lease = %v, %v", p, err)
		}
	})
}

// Dunning (ACCT-3): an invoice the balance cannot cover is retried daily
// with notices on day 7 and 14, the account is suspended on day 15 (the
// compliance suspension: sending is refused), reactivated by a payment;
// a disputed invoice pauses suspension; unpaid, the account is deleted
// 15 days after suspension, after a notice offering the export, and its
// archive is kept 45 days.
func TestSubscriptionsDunning(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := startLifecycle(t, engine)
		acct := s.accountID
		start := s.clock.Now()
		sub := s.admin("PUT", "/admin/accounts/"+acct+"/subscription", "application/json", `{"plan":"big"}`)
		inv, _ := sub.json["invoice"].(map[string]any)
		if sub.status != 200 || inv["status"] != "failed" || inv["attempts"] != 1.0 {
			t.Fatalf("subscribe beyond the balance = %d %s", sub.status, sub.raw)
		}
		invID := inv["id"].(string)
		s.told(acct, subscriptions.NoticePaymentFailed)
		if p := s.at(start, 12*time.Hour); p.Retried != 0 {
			t.Fatalf("retried before a day: %+v", p)
		}
		if p := s.at(start, subscriptions.Day); p.Retried != 1 || p.Paid != 0 {
			t.Fatalf("day 1 = %+v", p)
		}
		if p := s.at(start, subscriptions.Day+time.Hour); p.Retried != 0 {
			t.Fatalf("retried twice a day: %+v", p)
		}
		s.at(start, 7*subscriptions.Day)
		s.told(acct, subscriptions.NoticeDunningReminder)
		s.at(start, 14*subscriptions.Day)
		s.told(acct, subscriptions.NoticeDunningFinal)
		if !s.canSend(s.key) {
			t.Fatal("suspended before day 15")
		}
		if p := s.at(start, 15*subscriptions.Day); p.Suspended != 1 {
			t.Fatalf("day 15 = %+v", p)
		}
		s.told(acct, subscriptions.NoticeSuspended)
		s.told(acct, "compliance.suspended")
		if s.canSend(s.key) {
			t.Fatal("a suspended account sent")
		}
		if l := s.lifecycle(s.key); l["state"] != "suspended" || l["deleteAt"] != start.Add(30*subscriptions.Day).Truncate(time.Second).Format(time.RFC3339) {
			t.Fatalf("lifecycle after suspension = %v", l)
		}
		if !s.audited(acct, "account.suspended") {
			t.Fatal("the suspension is not in the audit log")
		}
		// Paid: a top-up, then paying now (the account's key) reactivates.
		if r := s.do("POST", "/invoices/"+invID+"/pay", s.key, "", nil); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("paying without money = %d %s", r.status, r.raw)
		}
		if r := s.admin("POST", "/admin/accounts/"+acct+"/ledger", "application/json", `{"kind":"topup","amount":"5000","reason":"bank transfer"}`); r.status != 201 {
			t.Fatalf("top-up = %d %s", r.status, r.raw)
		}
		if r := s.do("POST", "/invoices/"+invID+"/pay", s.key, "", nil); r.status != 200 || r.json["status"] != "paid" {
			t.Fatalf("paying = %d %s", r.status, r.raw)
		}
		s.told(acct, subscriptions.NoticeReactivated)
		if l := s.lifecycle(s.key); l != nil || !s.canSend(s.key) {
			t.Fatalf("after payment: lifecycle %v", l)
		}
		if r := s.do("POST", "/invoices/"+invID+"/pay", s.key, "", nil); r.status != 409 {
			t.Fatalf("paying a paid invoice = %d %s", r.status, r.raw)
		}

		// Next month the balance is short again; the account disputes the
		// invoice on day 10, the operator closes the dispute on day 20:
		// ten days paused, so suspension comes on day 25, not 15.
		renewal := start.AddDate(0, 1, 0)
		if p := s.at(renewal, 0); p.Renewed != 1 {
			t.Fatalf("renewal = %+v", p)
		}
		inv2 := s.do("GET", "/invoices?status=failed", s.key, "", nil).json["items"].([]any)
		if len(inv2) != 1 {
			t.Fatalf("failed invoices after the renewal: %v", inv2)
		}
		inv2ID := inv2[0].(map[string]any)["id"].(string)
		s.at(renewal, 10*subscriptions.Day)
		if r := s.do("POST", "/invoices/"+inv2ID+"/dispute", s.key, "application/json", []byte(`{"note":""}`)); r.status != 422 {
			t.Fatalf("a dispute without a reason = %d %s", r.status, r.raw)
		}
		if r := s.do("POST", "/invoices/"+inv2ID+"/dispute", s.testKey, "application/json", []byte(`{"note":"x"}`)); r.status != 403 {
			t.Fatalf("a test key's dispute = %d %s", r.status, r.raw)
		}
		if r := s.do("POST", "/invoices/"+inv2ID+"/dispute", s.key, "application/json", []byte(`{"note":"we cancelled in time"}`)); r.status != 200 || r.json["status"] != "disputed" {
			t.Fatalf("dispute = %d %s", r.status, r.raw)
		}
		s.told(acct, subscriptions.NoticeInvoiceDisputed)
		if p := s.at(renewal, 16*subscriptions.Day); p.Suspended != 0 || p.Retried != 0 {
			t.Fatalf("a disputed invoice suspended or was charged: %+v", p)
		}
		s.at(renewal, 20*subscriptions.Day)
		if r := s.admin("POST", "/admin/accounts/"+acct+"/invoices/"+inv2ID+"/undispute", "application/json", `{"note":"cancelled too late"}`); r.status != 200 ||
			r.json["suspendsAt"] != renewal.Add(25*subscriptions.Day).Truncate(time.Second).Format(time.RFC3339) {
			t.Fatalf("closing the dispute = %d %s", r.status, r.raw)
		}
		if p := s.at(renewal, 25*subscriptions.Day-time.Hour); p.Suspended != 0 {
			t.Fatalf("suspended before the paused day 15: %+v", p)
		}
		if p := s.at(renewal, 25*subscriptions.Day); p.Suspended != 1 {
			t.Fatalf("not suspended on the paused day 15: %+v", p)
		}
		// Unpaid: told 3 days ahead with the export, deleted on day 15 of
		// the suspension.
		suspended := renewal.Add(25 * subscriptions.Day)
		export := s.do("GET", "/account/export", s.key, "", nil)
		if export.status != 200 || export.header.Get("Content-Type") != "application/zip" {
			t.Fatalf("GET /account/export = %d %s", export.status, export.header)
		}
		if files := zipNames(t, export.raw); !files["messages.json"] || !files["invoices.csv"] || !files["export.json"] || files["access_keys.json"] {
			t.Fatalf("export files = %v", files)
		}
		if r := s.do("GET", "/account/export", s.testKey, "", nil); r.status != 403 {
			t.Fatalf("a test key's export = %d", r.status)
		}
		if p := s.at(suspended, 12*subscriptions.Day); p.Warned != 1 || p.Deleted != 0 {
			t.Fatalf("the deletion notice = %+v", p)
		}
		soon := s.told(acct, subscriptions.NoticeDeletionSoon)
		if !strings.Contains(soon["text"].(string), "/account/export") {
			t.Fatalf("the deletion notice offers no export: %v", soon)
		}
		if p := s.at(suspended, 15*subscriptions.Day); p.Deleted != 1 {
			t.Fatalf("deletion = %+v", p)
		}
		s.told(acct, subscriptions.NoticeDeleted)
		waitFor(t, "the deleted account's key to stop working", 15*time.Second, func() bool {
			return s.do("GET", "/balance", s.key, "", nil).status == 401
		})
		if !s.audited(acct, "account.deleted") {
			t.Fatal("the deletion is not in the audit log")
		}
		arch := s.admin("GET", "/admin/accounts/"+acct+"/archive", "", "")
		if arch.status != 200 || !zipNames(t, arch.raw)["messages.json"] {
			t.Fatalf("the archive = %d", arch.status)
		}
		// Billing records stay.
		if r := s.admin("GET", "/admin/accounts/"+acct+"/invoices", "", ""); len(r.json["items"].([]any)) != 2 {
			t.Fatalf("invoices after deletion: %s", r.raw)
		}
		if p := s.at(suspended, 15*subscriptions.Day+44*subscriptions.Day); p.Purged != 0 {
			t.Fatalf("purged early: %+v", p)
		}
		if p := s.at(suspended, 15*subscriptions.Day+45*subscriptions.Day); p.Purged != 1 {
			t.Fatalf("archive purge = %+v", p)
		}
		if r := s.admin("GET", "/admin/accounts/"+acct+"/archive", "", ""); r.status != 404 {
			t.Fatalf("the archive after the purge = %d", r.status)
		}
	})
}

// Inactivity and ended trials (ACCT-4): a trial that ends without a
// subscription suspends the account, its data is deleted 12 days later
// after notice; a free account unused for 60 days is told 7 days ahead
// and deleted.
func TestSubscriptionsTrialEndAndInactivity(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := startLifecycle(t, engine)
		start := s.clock.Now()
		trial, trialKey, _, _ := s.newAccount("trial")
		s.watch(trial)
		if r := s.admin("POST", "/admin/accounts/"+trial+"/trial", "application/json", `{"plan":"team","credit":"5","days":14}`); r.status != 201 {
			t.Fatalf("trial = %d %s", r.status, r.raw)
		}
		free, freeKey, _, _ := s.newAccount("free")
		s.watch(free)
		if r := s.admin("PUT", "/admin/accounts/"+free+"/subscription", "application/json", `{"plan":"free"}`); r.status != 200 {
			t.Fatalf("free = %d %s", r.status, r.raw)
		}
		if p := s.at(start, 14*subscriptions.Day-time.Minute); p.TrialsEnded != 0 {
			t.Fatalf("trial ended early: %+v", p)
		}
		if p := s.at(start, 14*subscriptions.Day); p.TrialsEnded != 1 {
			t.Fatalf("trial end = %+v", p)
		}
		ended := s.told(trial, subscriptions.NoticeTrialEnded)
		if !strings.Contains(ended["text"].(string), start.Add(26*subscriptions.Day).Format(time.RFC3339)) {
			t.Fatalf("the trial's end notice does not say when its data goes: %v", ended["text"])
		}
		if s.canSend(trialKey) {
			t.Fatal("an ended trial sent")
		}
		s.at(start, 23*subscriptions.Day)
		s.told(trial, subscriptions.NoticeDeletionSoon)
		if p := s.at(start, 26*subscriptions.Day-time.Minute); p.Deleted != 0 {
			t.Fatalf("trial data deleted early: %+v", p)
		}
		if p := s.at(start, 26*subscriptions.Day); p.Deleted != 1 {
			t.Fatalf("trial data deletion = %+v", p)
		}
		waitFor(t, "the deleted trial's key to stop working", 15*time.Second, func() bool {
			return s.do("GET", "/balance", trialKey, "", nil).status == 401
		})
		// The free account was subscribed at the start and never used:
		// told on day 53, deleted on day 60.
		// Its key's last use is real time, a little after start: the
		// steps are checked a few minutes after each day.
		const drift = 5 * time.Minute
		if p := s.at(start, 53*subscriptions.Day-drift); p.Inactive != 0 {
			t.Fatalf("told of inactivity early: %+v", p)
		}
		s.at(start, 53*subscriptions.Day+drift)
		s.told(free, subscriptions.NoticeInactive)
		if l := s.lifecycle(freeKey); l["state"] != "inactive" {
			t.Fatalf("the free account's lifecycle = %v", l)
		}
		s.at(start, 57*subscriptions.Day+drift)
		s.told(free, subscriptions.NoticeDeletionSoon)
		if p := s.at(start, 60*subscriptions.Day-drift); p.Deleted != 0 {
			t.Fatalf("deleted early: %+v", p)
		}
		if p := s.at(start, 60*subscriptions.Day+drift); p.Deleted != 1 {
			t.Fatalf("inactive deletion = %+v", p)
		}
		if !s.audited(free, "account.inactive") || !s.audited(free, "account.deleted") || !s.audited(trial, "subscription.trial_ended") {
			t.Fatal("the steps are not in the audit log")
		}
		// The paying account is untouched by all of it.
		if s.countTold(s.accountID, subscriptions.NoticeDeleted) != 0 || !s.canSend(s.key) {
			t.Fatal("an account without a subscription was touched")
		}
	})
}

func zipNames(t *testing.T, b []byte) map[string]bool {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string]bool{}
	for _, f := range zr.File {
		out[f.Name] = true
	}
	return out
}
