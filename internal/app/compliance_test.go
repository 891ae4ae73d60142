package app

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/compliance/keywords"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/store"
)

// complianceServer is a server with the operator API.
func complianceServer(t *testing.T, engine string, tune ...func(*Config)) *server {
	return billingServer(t, engine, tune...)
}

// call sends a JSON request with the account's live key.
func (s *server) call(method, path string, body any) response {
	s.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			s.t.Fatal(err)
		}
	}
	return s.do(method, path, s.key, "application/json", b)
}

// refused checks a 403 compliance answer names the rule.
func refused(t *testing.T, r response, rule string) {
	t.Helper()
	code, _, desc := errorOf(t, r)
	if r.status != http.StatusUnprocessableEntity || code != 27 || !strings.Contains(desc, "rule "+rule+":") {
		t.Fatalf("want 422 code 27 by rule %s, got %d %s", rule, r.status, r.raw)
	}
}

func marketing(to, body string) map[string]any {
	// urgent: these tests are not about quiet hours.
	return map[string]any{"originator": "Shop", "recipients": []string{to}, "body": body, "purpose": "marketing", "urgent": true}
}

// The consent ledger through the API: records with evidence, a
// recipient's history, the proof export (JSON and CSV), bulk import with
// row-numbered errors and nothing half-imported.
func TestConsentLedgerAPI(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		r := s.call("POST", "/consents", map[string]any{"recipient": "+31 6 1234 5678", "purpose": "marketing", "action": "opt_in",
			"legalAge": true, "source": "web_form", "actor": "signup form",
			"evidence": map[string]string{"ip": "203.0.113.9", "userAgent": "Mozilla/5.0", "formUrl": "https://shop.example/signup", "text": "Yes, send me offers"}})
		if r.status != 201 || r.json["recipient"] != "31612345678" || r.json["source"] != "web_form" || r.json["legalAge"] != true {
			t.Fatalf("POST /consents: %d %s", r.status, r.raw)
		}
		for _, bad := range []struct {
			body  string
			param string
		}{
			{`{"recipient":"12","purpose":"marketing","action":"opt_in"}`, "recipient"},
			{`{"recipient":"31612345678","purpose":"newsletters","action":"opt_in"}`, "purpose"},
			{`{"recipient":"31612345678","purpose":"marketing","action":"maybe"}`, "action"},
			{`{"recipient":"31612345678","purpose":"marketing","action":"opt_in","categories":["candy"]}`, "categories"},
			{`{"recipient":"31612345678","purpose":"marketing","action":"opt_in","source":"keyword"}`, "source"},
			{`{"recipient":"31612345678","purpose":"marketing","action":"opt_in","evidence":{"ip":"not-an-ip"}}`, "evidence"},
			{`{"recipient":"31612345678","purpose":"marketing","action":"opt_in","evidence":{"colour":"red"}}`, "evidence"},
			{`{"recipient":"31612345678","purpose":"marketing","action":"opt_in","consentDatetime":"2999-01-01T00:00:00Z"}`, "consentDatetime"},
			{`{"purpose":"marketing","action":"opt_in"}`, "recipient"},
		} {
			r := s.do("POST", "/consents", s.key, "application/json", []byte(bad.body))
			if _, param, _ := errorOf(t, r); r.status != 422 || param != bad.param {
				t.Fatalf("%s: %d %s, want 422 on %s", bad.body, r.status, r.raw, bad.param)
			}
		}
		for _, bad := range []string{`{"recipient":"31612345678","purpose":"marketing","action":"opt_in","extra":1}`, `{"recipient":`} {
			if r := s.do("POST", "/consents", s.key, "application/json", []byte(bad)); r.status != 400 {
				t.Fatalf("%s: %d %s, want 400", bad, r.status, r.raw)
			}
		}
		if r := s.call("POST", "/consents", map[string]any{"recipient": "31612345678", "purpose": "marketing", "action": "opt_out"}); r.status != 201 {
			t.Fatalf("opt-out: %d %s", r.status, r.raw)
		}
		r = s.get("/consents?recipient=%2B31612345678")
		if r.status != 200 || r.json["count"] != 2.0 {
			t.Fatalf("history: %d %s", r.status, r.raw)
		}
		first := r.json["items"].([]any)[0].(map[string]any)
		if first["action"] != "opt_in" || first["evidence"].(map[string]any)["ip"] != "203.0.113.9" || !strings.Contains(first["actor"].(string), "signup form") {
			t.Fatalf("first entry %v", first)
		}
		r = s.get("/consents/proof?recipient=31612345678")
		if r.status != 200 || r.json["marketing"] != "opted out" || len(r.json["entries"].([]any)) != 2 {
			t.Fatalf("proof: %d %s", r.status, r.raw)
		}
		r = s.get("/consents/proof?recipient=31612345678&format=csv")
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
			strings.Count(string(r.raw), "\n") != 3 || !strings.Contains(string(r.raw), "ip=203.0.113.9") {
			t.Fatalf("proof CSV: %d %q", r.status, r.raw)
		}
		if r := s.get("/consents?recipient=abc"); r.status != 422 {
			t.Fatalf("history of a non-number: %d", r.status)
		}
		// Another account sees none of it.
		_, other, _, _ := s.newAccount("other")
		if r := s.do("GET", "/consents?recipient=31612345678", other, "", nil); r.json["count"] != 0.0 {
			t.Fatalf("another account's history: %s", r.raw)
		}

		good := "recipient,purpose,action,legal_age,categories,date,evidence\n" +
			"+31612340001,marketing,opt_in,true,alcohol;gambling,2026-01-02T10:00:00Z,paper form 17\n" +
			"31612340002,marketing,opt_out,,,,\n"
		r = s.do("POST", "/consents/import", s.key, "text/csv", []byte(good))
		if r.status != 200 || r.json["imported"] != 2.0 {
			t.Fatalf("import: %d %s", r.status, r.raw)
		}
		bad := "recipient,purpose,action\n31612340003,marketing,opt_in\nnope,marketing,opt_in\n31612340004,sales,opt_in\n"
		r = s.do("POST", "/consents/import", s.key, "text/csv", []byte(bad))
		errs, _ := r.json["errors"].([]any)
		if r.status != 422 || len(errs) != 2 || !strings.HasPrefix(errs[0].(map[string]any)["description"].(string), "line 3:") ||
			!strings.HasPrefix(errs[1].(map[string]any)["description"].(string), "line 4:") {
			t.Fatalf("bad import: %d %s", r.status, r.raw)
		}
		if r := s.get("/consents?recipient=31612340003"); r.json["count"] != 0.0 {
			t.Fatalf("a bad file was half imported: %s", r.raw)
		}
		if r := s.do("POST", "/consents/import", s.key, "application/pdf", []byte("%PDF")); r.status != 415 {
			t.Fatalf("import of a PDF: %d %s", r.status, r.raw)
		}
	})
}

// Marketing needs an opt-in, restricted categories one that records legal
// age; an opt-out suppresses the recipient (transactional too, unless the
// account allows it); manual suppressions; every refusal is a decision.
func TestConsentGatesMarketing(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		const to = "31612345001"
		refused(t, s.postJSON(s.key, marketing(to, "20% off today")), "consent.opt_in")
		s.call("POST", "/consents", map[string]any{"recipient": to, "purpose": "marketing", "action": "opt_in"})
		m := s.send(marketing(to, "20% off today"))
		if m["purpose"] != "marketing" || !strings.Contains(m["compliance"].(string), "allowed as marketing") {
			t.Fatalf("allowed marketing message %v", m)
		}
		wine := marketing(to, "New wines in store")
		wine["categories"] = []string{"alcohol"}
		refused(t, s.postJSON(s.key, wine), "consent.legal_age")
		s.call("POST", "/consents", map[string]any{"recipient": to, "purpose": "marketing", "action": "opt_in", "legalAge": true})
		s.send(wine)
		wine["categories"] = []string{"candy"}
		if r := s.postJSON(s.key, wine); r.status != 422 {
			t.Fatalf("unknown category: %d %s", r.status, r.raw)
		}

		// With the instruction on, marketing carries the opt-out instruction
		// in the language of the recipient's country (Dutch here), once.
		if r := s.call("PATCH", "/compliance/policy", map[string]any{"optOutInstruction": true}); r.status != 200 {
			t.Fatalf("policy: %d %s", r.status, r.raw)
		}
		instruction, lang := keywords.OptOutInstruction("NL")
		if lang != "nl" || instruction == "" {
			t.Fatalf("Dutch instruction %q (%s)", instruction, lang)
		}
		m = s.send(marketing(to, "Weekend sale"))
		if body := m["body"].(string); !strings.HasPrefix(body, "Weekend sale") || strings.Count(body, instruction) != 1 {
			t.Fatalf("marketing body with the instruction: %q", body)
		}
		if got := s.get("/messages/" + m["id"].(string)); !strings.Contains(got.json["body"].(string), instruction) {
			t.Fatalf("stored body: %s", got.raw)
		}
		m = s.send(marketing(to, "Weekend sale. "+instruction))
		if body := m["body"].(string); strings.Count(body, instruction) != 1 {
			t.Fatalf("instruction added twice: %q", body)
		}

		s.call("POST", "/consents", map[string]any{"recipient": to, "purpose": "marketing", "action": "opt_out"})
		refused(t, s.postJSON(s.key, marketing(to, "still there?")), "consent.opt_in")
		receipt := map[string]any{"originator": "Shop", "recipients": []string{to}, "body": "Your order shipped"}
		refused(t, s.postJSON(s.key, receipt), "suppression")
		if r := s.call("PATCH", "/compliance/policy", map[string]any{"transactionalToOptedOut": true}); r.status != 200 || r.json["transactionalToOptedOut"] != true {
			t.Fatalf("policy: %d %s", r.status, r.raw)
		}
		s.send(receipt)

		r := s.get("/suppressions")
		if r.status != 200 || r.json["count"] != 1.0 || r.json["items"].([]any)[0].(map[string]any)["reason"] != "opt_out" {
			t.Fatalf("suppressions: %s", r.raw)
		}
		if r := s.do("DELETE", "/suppressions/"+to, s.key, "", nil); r.status != 409 {
			t.Fatalf("removing an opt-out suppression: %d %s", r.status, r.raw)
		}
		const other = "31612345002"
		if r := s.call("POST", "/suppressions", map[string]any{"recipient": "+" + other}); r.status != 201 {
			t.Fatalf("manual suppression: %d %s", r.status, r.raw)
		}
		refused(t, s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": []string{other}, "body": "hi"}), "suppression")
		if r := s.do("DELETE", "/suppressions/"+other, s.key, "", nil); r.status != 204 {
			t.Fatalf("removing a manual suppression: %d %s", r.status, r.raw)
		}
		s.send(map[string]any{"originator": "Shop", "recipients": []string{other}, "body": "hi"})
		if r := s.do("DELETE", "/suppressions/"+other, s.key, "", nil); r.status != 404 {
			t.Fatalf("removing twice: %d %s", r.status, r.raw)
		}

		r = s.get("/compliance/decisions")
		if r.status != 200 || r.json["count"].(float64) < 5 {
			t.Fatalf("decisions: %s", r.raw)
		}
		if d := r.json["items"].([]any)[0].(map[string]any); d["rule"] != "suppression" || d["outcome"] != "reject" {
			t.Fatalf("latest decision %v", d)
		}
	})
}

// Content rules reject or hold; an operator releases held messages (sent)
// or rejects them (failed, refunded); an operator may change a rule.
func TestContentRulesAndReview(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		r := s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "Pay with 4111 1111 1111 1111 now"})
		refused(t, r, "content.card_number")
		if _, param, _ := errorOf(t, r); param != "body" {
			t.Fatalf("card number refusal names %v", param)
		}
		refused(t, s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "Fr\u200bee gift"}), "content.hidden_characters")

		before := balanceOf(t, s, s.key)
		held := s.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "Track it: https://bit.ly/3xyz"})
		other := s.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345679"}, "body": "Track it: https://tinyurl.com/abc"})
		if !strings.Contains(held["compliance"].(string), "held for review by content.link_shortener") {
			t.Fatalf("held message %v", held)
		}
		time.Sleep(300 * time.Millisecond) // the dispatcher would have sent it by now
		if st := items(s.get("/messages/" + held["id"].(string)).json)[0]["status"]; st != "scheduled" {
			t.Fatalf("held message is %v", st)
		}
		r = s.admin("GET", "/admin/reviews", "", "")
		if r.status != 200 || len(r.json["items"].([]any)) != 2 {
			t.Fatalf("review queue: %d %s", r.status, r.raw)
		}
		if r := s.admin("POST", "/admin/reviews/"+held["id"].(string)+"/release", "", ""); r.status != 200 || r.json["status"] != "released" {
			t.Fatalf("release: %d %s", r.status, r.raw)
		}
		s.waitStatus(held["id"].(string), "delivered")
		if r := s.admin("POST", "/admin/reviews/"+other["id"].(string)+"/reject", "", ""); r.status != 200 {
			t.Fatalf("reject: %d %s", r.status, r.raw)
		}
		s.waitStatus(other["id"].(string), "delivery_failed")
		if r := s.admin("POST", "/admin/reviews/"+other["id"].(string)+"/release", "", ""); r.status != 409 {
			t.Fatalf("deciding twice: %d %s", r.status, r.raw)
		}
		if after := balanceOf(t, s, s.key); math.Abs(after-(before-0.05)) > 1e-9 {
			t.Fatalf("balance %v → %v: the released message is paid, the rejected one refunded", before, after)
		}

		// Customers cannot change content rules; operators can.
		if r := s.call("PATCH", "/compliance/policy", map[string]any{"contentRules": map[string]string{"content.link_shortener": "off"}}); r.status != 422 {
			t.Fatalf("customer content rules: %d %s", r.status, r.raw)
		}
		r = s.admin("PATCH", "/admin/accounts/"+s.accountID+"/compliance", "application/json", `{"contentRules":{"content.link_shortener":"off","content.iban":"reject"}}`)
		if r.status != 200 || r.json["contentRules"].(map[string]any)["content.iban"] != "reject" || r.json["contentRules"].(map[string]any)["content.link_shortener"] != nil {
			t.Fatalf("operator content rules: %d %s", r.status, r.raw)
		}
		m := s.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "Track it: https://bit.ly/3xyz"})
		s.waitStatus(m["id"].(string), "delivered")
		refused(t, s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "Pay to NL91ABNA0417164300"}), "content.iban")
		if r := s.admin("PATCH", "/admin/accounts/"+s.accountID+"/compliance", "application/json", `{"contentRules":{"content.nope":"off"}}`); r.status != 422 {
			t.Fatalf("unknown rule: %d %s", r.status, r.raw)
		}
	})
}

// Sender identity: a customer registers a sender, an operator approves it;
// numbers must be the account's; countries without alphanumeric senders
// reject, or take the account's fallback number.
func TestSenderIdentity(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		ctx := context.Background()
		if r := s.call("POST", "/senders", map[string]any{"originator": "NewBrand"}); r.status != 201 || r.json["status"] != "pending" {
			t.Fatalf("register: %d %s", r.status, r.raw)
		}
		if r := s.call("POST", "/senders", map[string]any{"originator": "NewBrand"}); r.status != 200 {
			t.Fatalf("register again: %d %s", r.status, r.raw)
		}
		if r := s.call("POST", "/senders", map[string]any{"originator": "FarTooLongASender"}); r.status != 422 {
			t.Fatalf("register a 17-character sender: %d %s", r.status, r.raw)
		}
		brand := map[string]any{"originator": "NewBrand", "recipients": []string{"31612345678"}, "body": "hi"}
		r := s.postJSON(s.key, brand)
		refused(t, r, "sender.identity")
		if _, param, _ := errorOf(t, r); param != "originator" {
			t.Fatalf("spoofing refusal names %v", param)
		}
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/senders/NewBrand", "application/json", `{"status":"approved","note":"KvK checked"}`); r.status != 200 {
			t.Fatalf("approve: %d %s", r.status, r.raw)
		}
		s.send(brand) // at once: the operator API clears the policy cache

		number := map[string]any{"originator": "+3197010000001", "recipients": []string{"31612345678"}, "body": "hi"}
		refused(t, s.postJSON(s.key, number), "sender.identity")
		if err := s.app.store.AddNumber(ctx, store.Number{Number: "3197010000001", AccountID: s.accountID, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		s.app.compliance.Invalidate(s.accountID)
		s.send(number)

		us := map[string]any{"originator": "Shop", "recipients": []string{"12025550123"}, "body": "hi"}
		refused(t, s.postJSON(s.key, us), "sender.country")
		if r := s.call("PATCH", "/compliance/policy", map[string]any{"senderFallback": "3197099999999"}); r.status != 422 {
			t.Fatalf("a fallback the account does not own: %d %s", r.status, r.raw)
		}
		if r := s.call("PATCH", "/compliance/policy", map[string]any{"senderFallback": "3197010000001"}); r.status != 200 {
			t.Fatalf("fallback: %d %s", r.status, r.raw)
		}
		m := s.send(us)
		if m["originator"] != "3197010000001" || !strings.Contains(m["compliance"].(string), "replaced") {
			t.Fatalf("replaced sender %v", m)
		}
		// An operator may relax the rule for an account; it is recorded.
		r = s.admin("PATCH", "/admin/accounts/"+s.accountID+"/compliance", "application/json", `{"sendersRelaxed":"internal test account"}`)
		if r.status != 200 || !strings.Contains(r.json["sendersRelaxed"].(string), "internal test account (operator:ann") {
			t.Fatalf("relax: %d %s", r.status, r.raw)
		}
		s.send(map[string]any{"originator": "Anything", "recipients": []string{"31612345678"}, "body": "hi"})
	})
}

// Quiet hours through the API: marketing outside the recipient's local
// window is scheduled for the window's start, unless urgent.
func TestQuietHoursDefer(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		const to = "31612345003"
		s.call("POST", "/consents", map[string]any{"recipient": to, "purpose": "marketing", "action": "opt_in"})
		ams, _ := time.LoadLocation("Europe/Amsterdam")
		now := time.Now().In(ams)
		from := now.Add(2 * time.Hour).Truncate(time.Hour)
		window := from.Format("15:04") + "-" + from.Add(time.Hour).Format("15:04")
		if r := s.admin("PATCH", "/admin/accounts/"+s.accountID+"/compliance", "application/json", `{"countryQuietHours":{"NL":"`+window+`"}}`); r.status != 200 {
			t.Fatalf("country window: %d %s", r.status, r.raw)
		}
		req := marketing(to, "Weekend sale")
		delete(req, "urgent")
		m := s.send(req)
		at, err := time.Parse(time.RFC3339, m["scheduledDatetime"].(string))
		if err != nil || !at.Equal(from) || items(m)[0]["status"] != "scheduled" || !strings.Contains(m["compliance"].(string), "deferred by quiet_hours") {
			t.Fatalf("deferred message (window %s): %v", window, m)
		}
		req["urgent"] = true
		s.waitStatus(s.send(req)["id"].(string), "delivered")
		// Customers may narrow the daytime window, never widen it.
		if r := s.call("PATCH", "/compliance/policy", map[string]any{"quietHours": "07:00-22:00"}); r.status != 422 {
			t.Fatalf("widening: %d %s", r.status, r.raw)
		}
		if r := s.call("PATCH", "/compliance/policy", map[string]any{"quietHours": "09:00-20:00"}); r.status != 200 || r.json["quietHours"] != "09:00-20:00" {
			t.Fatalf("narrowing: %d %s", r.status, r.raw)
		}
	})
}

// A proof request reaches the account by webhook; an answered case closes
// the matter; an unanswered one suspends the account when it falls due,
// with an error that says why, until an operator lifts it. Complaints past
// the threshold open a case.
func TestProofCasesAndSuspension(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		hook := newNoticeSink(t)
		noticed := func(kind string) bool { return hook.has(kind, nil) }
		s := complianceServer(t, engine)
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/billing", "application/json", `{"alertUrl":"`+hook.srv.URL+`"}`); r.status != 200 {
			t.Fatalf("alert URL: %d %s", r.status, r.raw)
		}
		r := s.admin("POST", "/admin/accounts/"+s.accountID+"/cases", "application/json", `{"reason":"complaint from a carrier","recipient":"+31612345678"}`)
		if r.status != 201 || r.json["status"] != "open" || r.json["recipient"] != "31612345678" {
			t.Fatalf("open case: %d %s", r.status, r.raw)
		}
		answered := r.json["id"].(string)
		waitFor(t, "the proof request notice", 10*time.Second, func() bool { return noticed("compliance.proof_requested") })
		r = s.get("/compliance/cases")
		if r.status != 200 || len(r.json["items"].([]any)) != 1 {
			t.Fatalf("cases: %s", r.raw)
		}
		proof := s.get("/consents/proof?recipient=31612345678&format=csv").raw
		if r := s.do("POST", "/compliance/cases/"+answered+"/proof", s.key, "text/csv", proof); r.status != 200 || r.json["status"] != "answered" {
			t.Fatalf("answer: %d %s", r.status, r.raw)
		}
		if r := s.do("POST", "/compliance/cases/"+answered+"/proof", s.key, "text/csv", proof); r.status != 409 {
			t.Fatalf("answer twice: %d %s", r.status, r.raw)
		}
		if r := s.call("POST", "/compliance/cases/nope/proof", map[string]any{"proof": "x"}); r.status != 404 {
			t.Fatalf("answer an unknown case: %d %s", r.status, r.raw)
		}

		r = s.admin("POST", "/admin/accounts/"+s.accountID+"/cases", "application/json", `{"reason":"audit"}`)
		if r.status != 201 {
			t.Fatalf("second case: %d %s", r.status, r.raw)
		}
		balance := s.get("/balance").json["amount"]
		// The maintenance loop runs this every minute; here, 25 hours on.
		expired, err := s.app.desk.ExpireCases(context.Background(), time.Now().Add(25*time.Hour))
		if err != nil || len(expired) != 1 || expired[0].ID != r.json["id"] {
			t.Fatalf("expired %v, %v", expired, err)
		}
		r = s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "hi"})
		refused(t, r, "account.suspended")
		if _, _, desc := errorOf(t, r); !strings.Contains(desc, "no proof of consent") {
			t.Fatalf("suspension does not say why: %s", desc)
		}
		waitFor(t, "the suspension notice", 10*time.Second, func() bool { return noticed("compliance.suspended") })
		// Suspension stops sending; it neither refunds nor charges.
		if after := s.get("/balance").json["amount"]; after != balance {
			t.Fatalf("balance %v after the suspension, %v before", after, balance)
		}
		if r := s.admin("DELETE", "/admin/accounts/"+s.accountID+"/suspension", "", ""); r.status != 200 || r.json["suspended"] != "" {
			t.Fatalf("lift: %d %s", r.status, r.raw)
		}
		s.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "hi"})

		for i := 1; i <= 5; i++ {
			r := s.admin("POST", "/admin/accounts/"+s.accountID+"/complaints", "application/json", `{"recipient":"31612345678","source":"carrier","note":"spam"}`)
			if r.status != 201 || r.json["complaints"] != float64(i) || (i < 5) != (r.json["case"] == nil) {
				t.Fatalf("complaint %d: %d %s", i, r.status, r.raw)
			}
		}
		if r := s.admin("GET", "/admin/cases?account="+s.accountID+"&status=open", "", ""); len(r.json["items"].([]any)) != 1 {
			t.Fatalf("open cases after the complaints: %s", r.raw)
		}
	})
}

// National do-not-disturb registries: imported as CSV (all rows or none),
// they stop every message to listed numbers and prefixes, or only
// marketing when imported with scope=marketing; a new edition replaces one.
func TestDoNotDisturbRegistry(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		for _, to := range []string{"919812345678", "919912345678"} {
			s.call("POST", "/consents", map[string]any{"recipient": to, "purpose": "marketing", "action": "opt_in"})
		}
		bad := "number,listed\n9198,2026-01-01\n12x4,2026-01-01\n9199,yesterday\n"
		r := s.admin("POST", "/admin/dnd/IN-NCPR", "text/csv", bad)
		if errs, _ := r.json["errors"].([]any); r.status != 422 || len(errs) != 2 {
			t.Fatalf("bad registry file: %d %s", r.status, r.raw)
		}
		s.send(marketing("919812345678", "Diwali offers")) // nothing of the bad file was stored
		if r := s.admin("POST", "/admin/dnd/IN-NCPR?scope=promotional", "text/csv", "9198\n"); r.status != 422 {
			t.Fatalf("unknown scope: %d %s", r.status, r.raw)
		}
		r = s.admin("POST", "/admin/dnd/IN-NCPR?scope=marketing", "text/csv", "number,listed\n9198,2026-01-01\n")
		if r.status != 200 || r.json["imported"] != 1.0 || r.json["scope"] != "marketing" {
			t.Fatalf("registry import: %d %s", r.status, r.raw)
		}
		refused(t, s.postJSON(s.key, marketing("919812345678", "Diwali offers")), "dnd")
		s.send(marketing("919912345678", "Diwali offers"))
		otp := map[string]any{"originator": "Shop", "recipients": []string{"919812345678"}, "body": "Your OTP is 123456"}
		s.send(otp) // a marketing-only registry
		// A new full edition for every message: 9198 is off it, 9199 on it.
		r = s.admin("POST", "/admin/dnd/IN-NCPR?replace=true", "text/csv", "9199\n")
		if r.status != 200 || r.json["scope"] != "all" || r.json["replaced"] != true {
			t.Fatalf("new edition: %d %s", r.status, r.raw)
		}
		s.send(otp)
		refused(t, s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": []string{"919912345678"}, "body": "Your OTP is 123456"}), "dnd")
	})
}

// Keywords from handsets: an opt-out in the recipient's language is
// recorded and confirmed in that language from the number they wrote to;
// an opt-in undoes it; HELP answers with the account's help text.
func TestKeywordOptOut(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine, func(c *Config) { c.Demo = false })
		ctx := context.Background()
		const ours, handset = "3197010000001", "33612345678"
		if err := s.app.store.AddNumber(ctx, store.Number{Number: ours, AccountID: s.accountID, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if r := s.call("PATCH", "/compliance/policy", map[string]any{"helpText": "Shop: help at shop.example"}); r.status != 200 {
			t.Fatalf("help text: %d %s", r.status, r.raw)
		}
		s.call("POST", "/consents", map[string]any{"recipient": handset, "purpose": "marketing", "action": "opt_in"})
		srv := s.useSMSC(smsc.Config{SystemID: "omnigate"}, smppconn.Settings{})
		waitFor(t, "the connector to bind", 10*time.Second, func() bool { return s.app.connectors.Running()["carrier"] > 0 })

		// reply waits for the platform's answer to the n-th keyword.
		reply := func(n int) map[string]any {
			var m map[string]any
			waitFor(t, "the keyword reply", 10*time.Second, func() bool {
				r := s.get("/messages?direction=mt&originator=" + ours)
				list := r.json["items"].([]any)
				if len(list) < n {
					return false
				}
				m = list[0].(map[string]any)
				return true
			})
			if items(m)[0]["recipient"] != 33612345678.0 || m["originator"] != ours {
				t.Fatalf("reply %v", m)
			}
			return m
		}
		if err := srv.Inject("", "+"+handset, ours, "  Arrêt ! "); err != nil {
			t.Fatal(err)
		}
		if m := reply(1); m["body"] != keywords.Confirmation(keywords.OptOut, "fr") {
			t.Fatalf("opt-out confirmation %q, want the French one", m["body"])
		}
		r := s.get("/consents?recipient=" + handset)
		list := r.json["items"].([]any)
		last := list[len(list)-1].(map[string]any)
		if last["action"] != "opt_out" || last["source"] != "keyword" || last["evidence"].(map[string]any)["language"] != "fr" {
			t.Fatalf("ledger after ARRÊT: %s", r.raw)
		}
		refused(t, s.postJSON(s.key, marketing(handset, "Soldes")), "consent.opt_in")

		if err := srv.Inject("", handset, ours, "start"); err != nil {
			t.Fatal(err)
		}
		reply(2)
		waitFor(t, "the opt-in", 10*time.Second, func() bool {
			return s.postJSON(s.key, marketing(handset, "Soldes")).status == 201
		})
		if err := srv.Inject("", handset, ours, "aide"); err != nil {
			t.Fatal(err)
		}
		if m := reply(3); !strings.HasPrefix(m["body"].(string), "Shop: help at shop.example") {
			t.Fatalf("help reply %q", m["body"])
		}
	})
}
