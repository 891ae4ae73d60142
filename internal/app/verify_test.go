package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/api/twilio"
	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/mailsink"
	"github.com/omnigate/omnigate/internal/mailsink/dnstest"
	"github.com/omnigate/omnigate/internal/message"
	codec "github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/smstext"
	"github.com/omnigate/omnigate/internal/store"
)

// testClock is a clock a test moves; the verify service reads it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// handsets is what the SMSC simulator was given to deliver: the texts by
// recipient number, in order.
type handsets struct {
	s     *server // for what to show when a code does not come
	mu    sync.Mutex
	texts map[string][]string
}

func (h *handsets) take(p *codec.SubmitSM) {
	text := smstext.DecodeGSM7(p.ShortMessage)
	if p.DataCoding == 8 {
		text, _ = smstext.DecodeUCS2(p.ShortMessage)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.texts[strings.TrimPrefix(p.DestAddr, "+")] = append(h.texts[strings.TrimPrefix(p.DestAddr, "+")], text)
}

var codeRE = regexp.MustCompile(`\d{6,10}`)

// code waits for the n-th text to number and returns the code in it.
func (h *handsets) code(t *testing.T, number string, n int) string {
	t.Helper()
	var text string
	got := func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.texts[number]) < n {
			return false
		}
		text = h.texts[number][n-1]
		return true
	}
	for deadline := time.Now().Add(20 * time.Second); !got(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			r := h.s.get("/messages?limit=3")
			demo := "none"
			if d := h.s.app.demoSMSC; d != nil {
				// A submit the demo's SMSC took went there by the demo's
				// fallback route, not to this test's simulator.
				demo = fmt.Sprint(d.Stats().Submits.Load())
			}
			t.Fatalf("timed out waiting for text %d to reach %s; submits to the demo's SMSC: %s; the last messages: %s", n, number, demo, r.raw)
		}
	}
	c := codeRE.FindString(text)
	if c == "" {
		t.Fatalf("no code in %q", text)
	}
	return c
}

// verifyServer is a server whose SMS go to an SMSC simulator the test
// reads, with the verify service on the test's clock.
func verifyServer(t *testing.T, engine string, tune ...func(*Config)) (*server, *handsets, *testClock) {
	clk := &testClock{t: time.Now().UTC()}
	s := billingServer(t, engine, append([]func(*Config){func(c *Config) {
		c.Verify.Now = clk.Now
		c.Dispatch.Retry.Min, c.Dispatch.Retry.Max = 50*time.Millisecond, 500*time.Millisecond // a send that failed under load comes back soon
	}}, tune...)...)
	h := &handsets{s: s, texts: map[string][]string{}}
	s.useSMSC(smsc.Config{OnMessage: h.take, ReceiptDelay: 10 * time.Millisecond}, smppconn.Settings{})
	waitFor(t, "the connector to bind", 10*time.Second, func() bool { return s.app.connectors.Running()["carrier"] > 0 })
	return s, h, clk
}

func (s *server) createVerify(body map[string]any) response {
	s.t.Helper()
	b, _ := json.Marshal(body)
	return s.do("POST", "/verify", s.key, "application/json", b)
}

// A code goes out as an SMS through the pipeline (charged), the handset's
// code verifies it once; a verified one cannot be checked again.
func TestVerifyFlow(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, h, _ := verifyServer(t, engine)
		before := balanceOf(t, s, s.key)
		r := s.createVerify(map[string]any{"recipient": "+31612345678", "originator": "Shop", "reference": "signup", "template": "Shop code: %token"})
		if r.status != 201 || r.json["status"] != "sent" || r.json["recipient"] != 31612345678.0 || r.json["reference"] != "signup" {
			t.Fatalf("POST /verify = %d %s", r.status, r.raw)
		}
		id := r.json["id"].(string)
		if r.json["href"] != s.url+"/verify/"+id {
			t.Fatalf("href %v", r.json["href"])
		}
		created, _ := time.Parse(time.RFC3339, r.json["createdDatetime"].(string))
		until, _ := time.Parse(time.RFC3339, r.json["validUntilDatetime"].(string))
		if until.Sub(created) != 30*time.Second {
			t.Fatalf("valid for %v, want the default 30 s", until.Sub(created))
		}
		msgHref := r.json["messages"].(map[string]any)["href"].(string)
		msgID := msgHref[strings.LastIndex(msgHref, "/")+1:]
		code := h.code(t, "31612345678", 1)
		if len(code) != 6 {
			t.Fatalf("code %q, want 6 digits", code)
		}
		m := s.waitStatus(msgID, "delivered")
		if m["body"] != "Shop code: "+code || m["originator"] != "Shop" {
			t.Fatalf("message %v", m)
		}
		if b := balanceOf(t, s, s.key); b >= before {
			t.Fatalf("balance %v, was %v: the code message was not charged", b, before)
		}
		if r := s.get("/verify/" + id); r.status != 200 || r.json["status"] != "sent" {
			t.Fatalf("GET /verify/{id} = %d %s", r.status, r.raw)
		}
		r = s.get("/verify/" + id + "?token=" + code)
		if r.status != 200 || r.json["status"] != "verified" {
			t.Fatalf("check the right code: %d %s", r.status, r.raw)
		}
		r = s.get("/verify/" + id + "?token=" + code)
		if code, param, _ := errorOf(t, r); r.status != 422 || code != 10 || param != "token" {
			t.Fatalf("check a verified one again: %d %s", r.status, r.raw)
		}
		if r := s.get("/verify/" + id); r.json["status"] != "verified" {
			t.Fatalf("after verifying: %s", r.raw)
		}
		// Another account cannot see it.
		_, otherKey, _, _ := s.newAccount("other")
		if r := s.do("GET", "/verify/"+id, otherKey, "", nil); r.status != 404 {
			t.Fatalf("another account's GET = %d %s", r.status, r.raw)
		}
		// A longer code, flash, form-encoded as the Node SDK's peers send it.
		r = s.do("POST", "/verify", s.key, "application/x-www-form-urlencoded",
			[]byte("recipient=31612345679&originator=Shop&type=flash&tokenLength=8&timeout=120"))
		if r.status != 201 {
			t.Fatalf("flash: %d %s", r.status, r.raw)
		}
		if c := h.code(t, "31612345679", 1); len(c) != 8 {
			t.Fatalf("code %q, want 8 digits", c)
		}
		// The code is stored only as a hash.
		v, err := s.app.store.GetVerification(t.Context(), s.accountID, id)
		if err != nil || len(v.CodeHash) != 32 || strings.Contains(string(v.CodeHash), code) {
			t.Fatalf("stored %+v, %v", v, err)
		}
	})
}

// Wrong codes count: the fifth fails the verification, and then even the
// right code is refused. Expiry and deletion end a verification too.
func TestVerifyWrongExpiredDeleted(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, h, clk := verifyServer(t, engine)
		r := s.createVerify(map[string]any{"recipient": "31612345670", "originator": "Shop"})
		id := r.json["id"].(string)
		code := h.code(t, "31612345670", 1)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := 1; i <= 5; i++ {
			r := s.get("/verify/" + id + "?token=" + wrong)
			c, param, desc := errorOf(t, r)
			if r.status != 422 || c != 10 || param != "token" {
				t.Fatalf("wrong code %d: %d %s", i, r.status, r.raw)
			}
			if i < 5 && !strings.Contains(desc, fmt.Sprintf("%d attempts left", 5-i)) {
				t.Fatalf("wrong code %d: %s", i, desc)
			}
		}
		if r := s.get("/verify/" + id); r.json["status"] != "failed" {
			t.Fatalf("after 5 wrong codes: %s", r.raw)
		}
		if r := s.get("/verify/" + id + "?token=" + code); r.status != 422 {
			t.Fatalf("right code after failing: %d %s", r.status, r.raw)
		}
		// Malformed tokens are refused without counting.
		r = s.createVerify(map[string]any{"recipient": "31612345671", "originator": "Shop", "timeout": 60})
		id = r.json["id"].(string)
		code = h.code(t, "31612345671", 1)
		for _, bad := range []string{"", "12ab56", "12345678901"} {
			if r := s.get("/verify/" + id + "?token=" + bad); r.status != 422 {
				t.Fatalf("token %q: %d %s", bad, r.status, r.raw)
			}
		}
		// Expired: the clock passes the timeout.
		clk.Add(61 * time.Second)
		if r := s.get("/verify/" + id); r.json["status"] != "expired" {
			t.Fatalf("after the timeout: %s", r.raw)
		}
		if r := s.get("/verify/" + id + "?token=" + code); r.status != 422 || !strings.Contains(string(r.raw), "expired") {
			t.Fatalf("right code after expiry: %d %s", r.status, r.raw)
		}
		// Deleted: 204, then its code is refused, a second delete is 404.
		r = s.createVerify(map[string]any{"recipient": "31612345672", "originator": "Shop"})
		id = r.json["id"].(string)
		code = h.code(t, "31612345672", 1)
		if r := s.do("DELETE", "/verify/"+id, s.key, "", nil); r.status != 204 {
			t.Fatalf("DELETE = %d %s", r.status, r.raw)
		}
		if r := s.get("/verify/" + id); r.json["status"] != "deleted" {
			t.Fatalf("after delete: %s", r.raw)
		}
		if r := s.get("/verify/" + id + "?token=" + code); r.status != 422 {
			t.Fatalf("code of a deleted one: %d %s", r.status, r.raw)
		}
		if r := s.do("DELETE", "/verify/"+id, s.key, "", nil); r.status != 404 {
			t.Fatalf("DELETE twice = %d %s", r.status, r.raw)
		}
		if r := s.get("/verify/nope?token=123456"); r.status != 404 {
			t.Fatalf("unknown id: %d %s", r.status, r.raw)
		}
	})
}

// Bad input gets MessageBird's errors and sends nothing.
func TestVerifyBadInput(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, h, _ := verifyServer(t, engine)
		cases := []struct {
			body   map[string]any
			status int
			param  string
		}{
			{map[string]any{"originator": "Shop"}, 422, "recipient"},
			{map[string]any{"recipient": "hello"}, 422, "recipient"},
			{map[string]any{"recipient": "31612345678", "type": "tts"}, 422, "type"},
			{map[string]any{"recipient": "31612345678", "type": "fax"}, 422, "type"},
			{map[string]any{"recipient": "31612345678", "tokenLength": 5}, 422, "tokenLength"},
			{map[string]any{"recipient": "31612345678", "tokenLength": 11}, 422, "tokenLength"},
			{map[string]any{"recipient": "31612345678", "timeout": 10}, 422, "timeout"},
			{map[string]any{"recipient": "31612345678", "timeout": "soon"}, 422, "timeout"},
			{map[string]any{"recipient": "31612345678", "template": "no placeholder"}, 422, "template"},
			{map[string]any{"recipient": "31612345678", "originator": "ThisIsFarTooLong"}, 422, "originator"},
			{map[string]any{"recipient": "31612345678", "datacoding": "ebcdic"}, 422, "datacoding"},
			{map[string]any{"recipient": "31612345678", "reportUrl": "ftp://x"}, 422, "reportUrl"},
			{map[string]any{"recipient": "31612345678", "language": "english!"}, 422, "language"},
			{map[string]any{"recipient": "not-an-email", "type": "email", "originator": "a@example.com"}, 422, "recipient"},
			// One mailbox only, with or without a display name.
			{map[string]any{"recipient": "Client Name", "type": "email", "originator": "a@example.com"}, 422, "recipient"},
			{map[string]any{"recipient": "a@example.test, b@example.test", "type": "email", "originator": "a@example.com"}, 422, "recipient"},
			{map[string]any{"recipient": "Team: a@example.test;", "type": "email", "originator": "a@example.com"}, 422, "recipient"},
			{map[string]any{"recipient": "Client\r\nBcc: x@evil.test <a@example.test>", "type": "email", "originator": "a@example.com"}, 422, "recipient"},
			{map[string]any{"recipient": "a@example.test", "type": "email", "originator": "Email Verification"}, 422, "originator"},
			{map[string]any{"recipient": "a@example.test", "type": "email", "originator": "A <a@example.com>, b@example.com"}, 422, "originator"},
			{map[string]any{"recipient": "a@example.test", "type": "email", "originator": "=?utf-8?q?V=0D=0ABcc:_x@evil.test?= <a@example.com>"}, 422, "originator"},
			{map[string]any{"recipient": "31612345678", "originator": "Unapproved"}, 422, "originator"},
		}
		for _, c := range cases {
			r := s.createVerify(c.body)
			_, param, _ := errorOf(t, r)
			if r.status != c.status || param != c.param {
				t.Errorf("%v: %d %s, want %d on %s", c.body, r.status, r.raw, c.status, c.param)
			}
		}
		if r := s.do("POST", "/verify", s.key, "application/json", []byte(`{"recipient":`)); r.status != 400 {
			t.Errorf("malformed JSON: %d %s", r.status, r.raw)
		}
		if r := s.do("PUT", "/verify", s.key, "", nil); r.status != 405 {
			t.Errorf("PUT /verify: %d %s", r.status, r.raw)
		}
		if r := s.do("POST", "/verify", "", "application/json", []byte(`{"recipient":"31612345678"}`)); r.status != 401 {
			t.Errorf("no key: %d %s", r.status, r.raw)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.texts) != 0 {
			t.Errorf("bad requests sent %v", h.texts)
		}
	})
}

// Fraud protection: premium-rate and shared-cost numbers, geo
// permissions, velocity per number and per IP, each a decision with its
// rule in the log and the metrics.
func TestVerifyFraudRules(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, h, clk := verifyServer(t, engine)
		fraud := func(r response, status int, rule string) {
			t.Helper()
			code, param, desc := errorOf(t, r)
			if r.status != status || code != 27 || param != "recipient" || !strings.Contains(desc, "rule "+rule+":") {
				t.Fatalf("want %d code 27 by %s, got %d %s", status, rule, r.status, r.raw)
			}
		}
		fraud(s.createVerify(map[string]any{"recipient": "319001234567", "originator": "Shop"}), 422, "verify.premium_number")
		fraud(s.createVerify(map[string]any{"recipient": "33810123456", "originator": "Shop"}), 422, "verify.premium_number")

		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/verify", "application/json", `{"countries":["nl","BE"],"perIp":2}`); r.status != 200 {
			t.Fatalf("settings: %d %s", r.status, r.raw)
		}
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/verify", "application/json", `{"countries":["XX"]}`); r.status != 422 {
			t.Fatalf("bad settings: %d %s", r.status, r.raw)
		}
		fraud(s.createVerify(map[string]any{"recipient": "4915112345678", "originator": "Shop"}), 422, "verify.geo")
		if r := s.createVerify(map[string]any{"recipient": "32470123456", "originator": "Shop"}); r.status != 201 {
			t.Fatalf("BE is allowed: %d %s", r.status, r.raw)
		}
		// Per number: 5 an hour (default).
		for i := 0; i < 5; i++ {
			if r := s.createVerify(map[string]any{"recipient": "31611111111", "originator": "Shop"}); r.status != 201 {
				t.Fatalf("verification %d: %d %s", i, r.status, r.raw)
			}
		}
		fraud(s.createVerify(map[string]any{"recipient": "31611111111", "originator": "Shop"}), 429, "verify.velocity.number")
		// Per IP: 2 (the account's setting).
		for i := 0; i < 2; i++ {
			if r := s.createVerify(map[string]any{"recipient": fmt.Sprintf("3162222%04d", i), "originator": "Shop", "ip": "198.51.100.7"}); r.status != 201 {
				t.Fatalf("ip verification %d: %d %s", i, r.status, r.raw)
			}
		}
		fraud(s.createVerify(map[string]any{"recipient": "31633333333", "originator": "Shop", "ip": "198.51.100.7"}), 429, "verify.velocity.ip")
		if r := s.createVerify(map[string]any{"recipient": "31633333333", "originator": "Shop", "ip": "198.51.100.8"}); r.status != 201 {
			t.Fatalf("another IP: %d %s", r.status, r.raw)
		}
		// The window slides: an hour on, the number may verify again.
		clk.Add(61 * time.Minute)
		if r := s.createVerify(map[string]any{"recipient": "31611111111", "originator": "Shop"}); r.status != 201 {
			t.Fatalf("an hour later: %d %s", r.status, r.raw)
		}
		r := s.get("/compliance/decisions")
		for _, rule := range []string{"verify.premium_number", "verify.geo", "verify.velocity.number", "verify.velocity.ip"} {
			if !strings.Contains(string(r.raw), `"rule":"`+rule+`"`) {
				t.Errorf("decision log has no %s: %s", rule, r.raw)
			}
		}
		metrics := string(s.get("/metrics").raw)
		if !strings.Contains(metrics, `omnigate_compliance_decisions_total{outcome="reject",rule="verify.geo"} 1`) {
			t.Errorf("metrics have no verify.geo rejection")
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, n := range []string{"319001234567", "33810123456", "4915112345678"} {
			if len(h.texts[n]) != 0 {
				t.Errorf("a refused number got %v", h.texts[n])
			}
		}
	})
}

// SMS pumping: verifications to one prefix are sent and never completed;
// once enough have settled (expired) the conversion watch blocks the
// prefix, tells the account and logs the decision. Legitimate
// verifications to other prefixes, completed, are never refused. An
// operator lifts the block.
func TestVerifyPumpingBlocksPrefix(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		hook := newNoticeSink(t)
		s, h, clk := verifyServer(t, engine)
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/billing", "application/json", `{"alertUrl":"`+hook.srv.URL+`"}`); r.status != 200 {
			t.Fatalf("alert URL: %d %s", r.status, r.raw)
		}
		res := pump(t, s, h, clk, 100)
		t.Logf("pumping: %d messages sent before the block, %d legitimate refused", res.sentBeforeBlock, res.legitRefused)
		if res.sentBeforeBlock == 0 || res.sentBeforeBlock > 20 || res.legitRefused != 0 {
			t.Fatalf("pumping: %+v", res)
		}
		waitFor(t, "the block notice", 10*time.Second, func() bool {
			return hook.has("verify.blocked", nil)
		})
		r := s.admin("GET", "/admin/verify/blocks?account="+s.accountID, "", "")
		list := r.json["items"].([]any)
		if r.status != 200 || len(list) != 1 || list[0].(map[string]any)["value"] != "31699999" {
			t.Fatalf("blocks: %d %s", r.status, r.raw)
		}
		if !strings.Contains(string(s.get("/compliance/decisions").raw), `"rule":"verify.conversion.prefix","outcome":"block"`) {
			t.Errorf("decision log has no block")
		}
		if !strings.Contains(string(s.get("/metrics").raw), `omnigate_compliance_decisions_total{outcome="block",rule="verify.conversion.prefix"} 1`) {
			t.Errorf("metrics have no block")
		}
		id := list[0].(map[string]any)["id"].(string)
		if r := s.admin("DELETE", "/admin/verify/blocks/"+id, "", ""); r.status != 200 || r.json["liftedBy"] != "operator:ann" {
			t.Fatalf("lift: %d %s", r.status, r.raw)
		}
		if r := s.admin("DELETE", "/admin/verify/blocks/"+id, "", ""); r.status != 404 {
			t.Fatalf("lift twice: %d %s", r.status, r.raw)
		}
		// Lifted, and past the window of the old traffic: the prefix works.
		clk.Add(2 * time.Hour)
		if r := s.createVerify(map[string]any{"recipient": "31699999000", "originator": "Shop"}); r.status != 201 {
			t.Fatalf("after the lift: %d %s", r.status, r.raw)
		}
	})
}

// pumpResult is what a pumping simulation measured.
type pumpResult struct {
	sentBeforeBlock int    // attack verifications accepted (messages sent) until the attack was stopped
	stoppedBy       string // the rule that stopped it
	legitRefused    int    // legitimate verifications refused meanwhile
	legitVerified   int
}

// pump runs an attack of up to n verifications to the prefix 31699999
// (never completed), one every 5 s of the test's clock.
func pump(t *testing.T, s *server, h *handsets, clk *testClock, n int) pumpResult {
	return pumpEvery(t, s, h, clk, n, 5*time.Second)
}

// pumpEvery is pump with an attack verification every step of the test's
// clock, from a different IP address each time, each followed by a
// legitimate verification to another prefix, which is completed with the
// code its handset got.
func pumpEvery(t *testing.T, s *server, h *handsets, clk *testClock, n int, step time.Duration) pumpResult {
	var res pumpResult
	for i := 0; i < n && res.stoppedBy == ""; i++ {
		r := s.do("POST", "/verify", s.key, "application/json",
			fmt.Appendf(nil, `{"recipient":"31699999%03d","originator":"Shop","ip":"203.0.113.%d"}`, i, i%200))
		switch {
		case r.status == 201:
			res.sentBeforeBlock++
		case r.status == 422 && strings.Contains(string(r.raw), "verify.blocked"):
			res.stoppedBy = "verify.blocked"
		case r.status == 429 && strings.Contains(string(r.raw), "verify.velocity.prefix"):
			res.stoppedBy = "verify.velocity.prefix"
		default:
			t.Fatalf("attack verification %d: %d %s", i, r.status, r.raw)
		}
		num := fmt.Sprintf("3161%07d", 1000*i+i%1000) // a different prefix each time
		r = s.do("POST", "/verify", s.key, "application/json", fmt.Appendf(nil, `{"recipient":"%s","originator":"Shop"}`, num))
		if r.status != 201 {
			t.Logf("legitimate verification refused: %d %s", r.status, r.raw)
			res.legitRefused++
		} else {
			code := h.code(t, num, 1)
			if c := s.get("/verify/" + r.json["id"].(string) + "?token=" + code); c.status == 200 {
				res.legitVerified++
			}
		}
		clk.Add(step)
	}
	return res
}

// The pumping report (bench/results/2026-12-03-verify.md): attacks at
// several rates are stopped within a bounded number of messages, and no
// legitimate verification to another prefix is refused.
//
//	go test -v -run TestVerifyPumpingScenarios ./internal/app/
func TestVerifyPumpingScenarios(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		for _, step := range []time.Duration{10 * time.Second, 5 * time.Second, time.Second, 200 * time.Millisecond} {
			s, h, clk := verifyServer(t, engine)
			res := pumpEvery(t, s, h, clk, 200, step)
			t.Logf("REPORT engine=%s attack-every=%v sent-before-stop=%d stopped-by=%s legit-verified=%d legit-refused=%d",
				engine, step, res.sentBeforeBlock, res.stoppedBy, res.legitVerified, res.legitRefused)
			if res.stoppedBy == "" || res.sentBeforeBlock > 30 || res.legitRefused != 0 {
				t.Errorf("attack every %v: %+v", step, res)
			}
		}
	})
}

// Type email: the code goes out through the email channel (a verified
// sending domain, an smtp connector) to the mailbox, which verifies it;
// GET /verify/messages/email/{id} shows the email.
func TestVerifyEmail(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		dns, err := dnstest.Start()
		if err != nil {
			t.Fatal(err)
		}
		defer dns.Close()
		sink, err := mailsink.Start(mailsink.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Stop()
		dns.SetMX("example.test", dnstest.MX{Pref: 10, Host: "mx.example.test"})
		dns.SetA("mx.example.test", net.ParseIP("127.0.0.1"))
		s := billingServer(t, engine)
		ctx := context.Background()
		settings, _ := json.Marshal(map[string]any{"port": sink.Port(), "resolver": dns.Addr(), "heloName": "omnigate.test"})
		if err := s.app.store.SaveConnector(ctx, store.ConnectorConfig{Name: "mta", Kind: "smtp", Settings: settings, Enabled: true, UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.app.store.AddRoute(ctx, &store.Route{Channel: message.ChannelEmail, Pattern: destination.Pattern{Domain: "example.test"},
			Connectors: []string{"mta"}, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.app.connectors.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		// The code must reach this test's sink, not the demo's mail sink,
		// every email's fallback, should a first attempt find the MTA
		// connector busy for a moment (as useSMSC does for SMS).
		mta, ok := s.app.connectors.Connector("mta")
		if !ok {
			t.Fatal("no mta connector")
		}
		s.app.router.SetFallback(mta)
		verifiedEmailDomain(t, s.app.store, s.accountID, "omnigate.test")
		r := s.createVerify(map[string]any{"recipient": "Ann@Example.test", "originator": "codes@omnigate.test", "type": "email",
			"subject": "Your Shop code", "template": "Your Shop code is %token."})
		if r.status != 201 || r.json["recipient"] != "ann@example.test" {
			t.Fatalf("POST /verify (email) = %d %s", r.status, r.raw)
		}
		id := r.json["id"].(string)
		href := r.json["messages"].(map[string]any)["href"].(string)
		if !strings.HasPrefix(href, s.url+"/verify/messages/email/") {
			t.Fatalf("messages href %q", href)
		}
		var raws [][]byte
		waitFor(t, "the email", 10*time.Second, func() bool {
			raws, _ = sink.Mailbox("ann@example.test")
			return len(raws) == 1
		})
		got, err := mail.ReadMessage(bytes.NewReader(raws[0]))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(got.Body)
		code := codeRE.FindString(string(body))
		if got.Header.Get("Subject") != "Your Shop code" || code == "" {
			t.Fatalf("email %v %q", got.Header, body)
		}
		if r := s.get(strings.TrimPrefix(href, s.url)); r.status != 200 || r.json["status"] == nil || r.json["id"] == nil {
			t.Fatalf("GET %s = %d %s", href, r.status, r.raw)
		}
		if r := s.get("/verify/" + id + "?token=" + code); r.status != 200 || r.json["status"] != "verified" {
			t.Fatalf("check: %d %s", r.status, r.raw)
		}
		if r := s.get("/verify/messages/email/nope"); r.status != 404 {
			t.Fatalf("unknown email message: %d %s", r.status, r.raw)
		}
		// The PHP SDK's example: name-addr forms. The code goes to the
		// address alone, which is what the verification keeps; the
		// originator's name is the From's.
		r = s.createVerify(map[string]any{"recipient": "Client Name <Client@Example.test>", "type": "email",
			"originator": "Email Verification <codes@omnigate.test>"})
		if r.status != 201 || r.json["recipient"] != "client@example.test" {
			t.Fatalf("POST /verify (email, name-addr) = %d %s", r.status, r.raw)
		}
		id = r.json["id"].(string)
		waitFor(t, "the email to client", 10*time.Second, func() bool {
			raws, _ = sink.Mailbox("client@example.test")
			return len(raws) == 1
		})
		if got, err = mail.ReadMessage(bytes.NewReader(raws[0])); err != nil {
			t.Fatal(err)
		}
		from, err := got.Header.AddressList("From")
		if err != nil || len(from) != 1 || from[0].Name != "Email Verification" || from[0].Address != "codes@omnigate.test" {
			t.Fatalf("From %q: %v %v", got.Header.Get("From"), from, err)
		}
		if to := got.Header.Get("To"); to != "client@example.test" && to != "<client@example.test>" {
			t.Fatalf("To %q", to)
		}
		body, _ = io.ReadAll(got.Body)
		if code = codeRE.FindString(string(body)); code == "" {
			t.Fatalf("no code in %q", body)
		}
		if r := s.get("/verify/" + id); r.status != 200 || r.json["recipient"] != "client@example.test" {
			t.Fatalf("GET /verify/%s = %d %s", id, r.status, r.raw)
		}
		if r := s.get("/verify/" + id + "?token=" + code); r.status != 200 || r.json["status"] != "verified" {
			t.Fatalf("check (name-addr): %d %s", r.status, r.raw)
		}
	})
}

// Guesses sent at once count one by one: of 20 concurrent wrong codes
// exactly 5 are checked (the last fails the verification) and the rest
// are refused as checks of a failed verification; none errs.
func TestVerifyConcurrentGuesses(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, h, _ := verifyServer(t, engine)
		r := s.createVerify(map[string]any{"recipient": "31612345673", "originator": "Shop"})
		id := r.json["id"].(string)
		code := h.code(t, "31612345673", 1)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		var mu sync.Mutex
		descs := map[string]int{}
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.get("/verify/" + id + "?token=" + wrong)
				var e struct {
					Errors []struct{ Description string } `json:"errors"`
				}
				json.Unmarshal(r.raw, &e)
				mu.Lock()
				defer mu.Unlock()
				if r.status != 422 || len(e.Errors) != 1 {
					descs[fmt.Sprintf("status %d %s", r.status, r.raw)]++
					return
				}
				d := e.Errors[0].Description
				switch {
				case strings.Contains(d, "attempts left"):
					descs["wrong"]++
				case strings.Contains(d, "Too many wrong tokens"):
					descs["failed now"]++
				case strings.Contains(d, "is failed"):
					descs["failed before"]++
				default:
					descs[d]++
				}
			}()
		}
		wg.Wait()
		if len(descs) != 3 || descs["wrong"] != 4 || descs["failed now"] != 1 || descs["failed before"] != 15 {
			t.Fatalf("answers %v", descs)
		}
		v, err := s.app.store.GetVerification(t.Context(), s.accountID, id)
		if err != nil || v.Attempts != 5 || v.Status != "failed" {
			t.Fatalf("stored %+v %v", v, err)
		}
	})
}

// Twilio Verify v2 over the same machinery: a service, a verification by
// SMS, a wrong code (200, pending), the right one (approved), a check with
// nothing pending (404), cancel, and fraud protection in Twilio's codes.
func TestTwilioVerify(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, h, _ := verifyServer(t, engine)
		creds, c := s.twilioCredentials(false)
		c.base = s.url + "/v2"
		st, svc := c.call("POST", "/Services", url.Values{"FriendlyName": {"Shop"}, "CodeLength": {"8"}})
		if st != 201 || !strings.HasPrefix(svc["sid"].(string), "VA") || svc["account_sid"] != creds.AccountSID || svc["code_length"] != 8.0 {
			t.Fatalf("create service: %d %v", st, svc)
		}
		sid := svc["sid"].(string)
		if st, got := c.call("GET", "/Services/"+sid, nil); st != 200 || got["friendly_name"] != "Shop" {
			t.Fatalf("fetch service: %d %v", st, got)
		}
		// The code goes from the default originator, which must be approved.
		if err := s.app.store.SaveSender(t.Context(), &store.Sender{AccountID: s.accountID, Originator: "Code", Status: store.SenderApproved,
			CreatedAt: time.Now(), DecidedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		st, v := c.call("POST", "/Services/"+sid+"/Verifications", url.Values{"To": {"+31612345674"}, "Channel": {"sms"}})
		if st != 201 || v["status"] != "pending" || v["to"] != "+31612345674" || v["channel"] != "sms" || v["valid"] != false {
			t.Fatalf("create verification: %d %v", st, v)
		}
		code := h.code(t, "31612345674", 1)
		if len(code) != 8 {
			t.Fatalf("code %q, want 8 digits", code)
		}
		wrong := "00000000"
		if code == wrong {
			wrong = "11111111"
		}
		st, chk := c.call("POST", "/Services/"+sid+"/VerificationCheck", url.Values{"To": {"+31612345674"}, "Code": {wrong}})
		if st != 200 || chk["status"] != "pending" || chk["valid"] != false {
			t.Fatalf("wrong code: %d %v", st, chk)
		}
		st, chk = c.call("POST", "/Services/"+sid+"/VerificationCheck", url.Values{"To": {"+31612345674"}, "Code": {code}})
		if st != 200 || chk["status"] != "approved" || chk["valid"] != true || chk["sid"] != v["sid"] {
			t.Fatalf("right code: %d %v", st, chk)
		}
		if st, got := c.call("POST", "/Services/"+sid+"/VerificationCheck", url.Values{"To": {"+31612345674"}, "Code": {code}}); st != 404 || got["code"] != 20404.0 {
			t.Fatalf("nothing pending: %d %v", st, got)
		}
		if st, got := c.call("GET", "/Services/"+sid+"/Verifications/"+v["sid"].(string), nil); st != 200 || got["status"] != "approved" {
			t.Fatalf("fetch: %d %v", st, got)
		}
		// Cancel.
		_, v = c.call("POST", "/Services/"+sid+"/Verifications", url.Values{"To": {"+31612345675"}, "Channel": {"sms"}})
		if st, got := c.call("POST", "/Services/"+sid+"/Verifications/"+v["sid"].(string), url.Values{"Status": {"canceled"}}); st != 200 || got["status"] != "canceled" {
			t.Fatalf("cancel: %d %v", st, got)
		}
		// Bad input and fraud protection.
		for _, bad := range []struct {
			path   string
			form   url.Values
			status int
			code   float64
		}{
			{"/Services/" + sid + "/Verifications", url.Values{"To": {"+319001234567"}, "Channel": {"sms"}}, 403, 21408},
			{"/Services/" + sid + "/Verifications", url.Values{"To": {"+31612345676"}, "Channel": {"call"}}, 400, 60200},
			{"/Services/" + sid + "/Verifications", url.Values{"To": {"nope"}, "Channel": {"sms"}}, 400, 60200},
			{"/Services/" + sid + "/Verifications", url.Values{"Channel": {"sms"}}, 400, 20001},
			{"/Services/VA0123456789abcdef0123456789abcdef/Verifications", url.Values{"To": {"+31612345676"}, "Channel": {"sms"}}, 404, 20404},
			{"/Services/" + sid + "/VerificationCheck", url.Values{"To": {"+31612345676"}, "Code": {"12ab"}}, 400, 20001},
			{"/Services", url.Values{"FriendlyName": {"x"}, "CodeLength": {"3"}}, 400, 60200},
		} {
			if st, got := c.call("POST", bad.path, bad.form); st != bad.status || got["code"] != bad.code {
				t.Errorf("POST %s %v: %d %v, want %d code %v", bad.path, bad.form, st, got, bad.status, bad.code)
			}
		}
		// Another account's credentials see nothing of this service.
		id2, _, _, _ := s.newAccount("other")
		c2creds, err := twilio.IssueCredentials(t.Context(), s.app.store, id2, false, false)
		if err != nil {
			t.Fatal(err)
		}
		c2 := &twilioClient{t: t, base: s.url + "/v2", user: c2creds.AccountSID, pass: c2creds.AuthToken, sid: c2creds.AccountSID}
		if st, _ := c2.call("GET", "/Services/"+sid, nil); st != 404 {
			t.Fatalf("another account's service: %d", st)
		}
		if st, got := c2.call("GET", "/Services", nil); st != 200 || len(got["services"].([]any)) != 0 {
			t.Fatalf("another account's list: %d %v", st, got)
		}
		for _, m := range []string{"POST", "DELETE"} {
			if st, got := c2.call(m, "/Services/"+sid, url.Values{"FriendlyName": {"Theirs"}}); st != 404 || got["code"] != 20404.0 {
				t.Fatalf("%s another account's service: %d %v", m, st, got)
			}
		}
		// The services: listed newest first and paged, updated, deleted.
		_, other := c.call("POST", "/Services", url.Values{"FriendlyName": {"Bank"}})
		st, page := c.call("GET", "/Services?PageSize=1", nil)
		meta, _ := page["meta"].(map[string]any)
		if items, _ := page["services"].([]any); st != 200 || len(items) != 1 || items[0].(map[string]any)["sid"] != other["sid"] || meta["key"] != "services" || meta["next_page_url"] == nil {
			t.Fatalf("first page: %d %v", st, page)
		}
		if _, page := c.call("GET", "/Services?PageSize=1&Page=1&PageToken=PO1", nil); page["services"].([]any)[0].(map[string]any)["sid"] != sid {
			t.Fatalf("second page: %v", page)
		}
		st, upd := c.call("POST", "/Services/"+sid, url.Values{"CodeLength": {"6"}})
		if st != 200 || upd["friendly_name"] != "Shop" || upd["code_length"] != 6.0 {
			t.Fatalf("update: %d %v", st, upd)
		}
		if st, got := c.call("POST", "/Services/"+sid, url.Values{"FriendlyName": {""}}); st != 400 || got["code"] != 20001.0 {
			t.Fatalf("update to no name: %d %v", st, got)
		}
		_, v = c.call("POST", "/Services/"+sid+"/Verifications", url.Values{"To": {"+31612345677"}, "Channel": {"sms"}})
		if code := h.code(t, "31612345677", 1); len(code) != 6 {
			t.Fatalf("code %q after the update, want 6 digits", code)
		}
		// MessageBird's ?_method= is not Twilio's: a GET with Basic
		// credentials (which a browser may have cached) changes nothing.
		if st, got := c.call("GET", "/Services/"+sid+"?_method=DELETE", nil); st != 200 || got["sid"] != sid {
			t.Fatalf("GET ?_method=DELETE with Basic credentials: %d %v", st, got)
		}
		if st, _ := c.call("DELETE", "/Services/"+sid, nil); st != 204 {
			t.Fatalf("delete: %d", st)
		}
		for _, p := range []string{"/Services/" + sid, "/Services/" + sid + "/Verifications/" + v["sid"].(string)} {
			if st, got := c.call("GET", p, nil); st != 404 || got["code"] != 20404.0 {
				t.Fatalf("GET %s after delete: %d %v", p, st, got)
			}
		}
		if st, _ := c.call("DELETE", "/Services/"+sid, nil); st != 404 {
			t.Fatalf("second delete: %d", st)
		}
		if _, page := c.call("GET", "/Services", nil); len(page["services"].([]any)) != 1 {
			t.Fatalf("list after delete: %v", page)
		}
	})
}

// A fast attack is held at the prefix's velocity limit; the requests it
// keeps sending run the conversion watch, which blocks the prefix once
// its codes have expired unverified.
func TestVerifyFastPumpingBlocked(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, _, clk := verifyServer(t, engine)
		refused := map[string]int{}
		for i := 0; i < 60; i++ {
			r := s.do("POST", "/verify", s.key, "application/json", fmt.Appendf(nil, `{"recipient":"31699999%03d","originator":"Shop"}`, i))
			switch {
			case r.status == 201:
			case strings.Contains(string(r.raw), "verify.velocity.prefix"):
				refused["velocity"]++
			case strings.Contains(string(r.raw), "verify.blocked"):
				refused["blocked"]++
			default:
				t.Fatalf("attack %d: %d %s", i, r.status, r.raw)
			}
			clk.Add(time.Second)
		}
		if refused["velocity"] == 0 || refused["blocked"] == 0 {
			t.Fatalf("refusals %v: want the velocity limit, then the block", refused)
		}
		if r := s.admin("GET", "/admin/verify/blocks?account="+s.accountID, "", ""); len(r.json["items"].([]any)) != 1 {
			t.Fatalf("blocks %s", r.raw)
		}
	})
}
