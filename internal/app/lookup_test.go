package app

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/webhook"
)

// hlrServer runs a server whose HLR simulator answers within a few
// milliseconds (the demo seeds 0.05 EUR per SMS segment and 0.01 EUR per
// HLR query).
func hlrServer(t *testing.T, engine string) *server {
	return start(t, engine, func(c *Config) {
		c.HLRSimDelay = 10 * time.Millisecond
		c.HLR.Pool.Poll = 20 * time.Millisecond
	})
}

func (s *server) postHLR(key, path string, v any) response {
	s.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do("POST", path, key, "application/json", b)
}

// waitHLR polls GET /hlr/{id} until the HLR answered.
func (s *server) waitHLR(key, id string) map[string]any {
	s.t.Helper()
	var q map[string]any
	waitFor(s.t, "HLR "+id+" to be answered", 10*time.Second, func() bool {
		r := s.do("GET", "/hlr/"+id, key, "", nil)
		if r.status != 200 {
			s.t.Fatalf("GET /hlr/%s = %d %s", id, r.status, r.raw)
		}
		q = r.json
		return q["status"] != "sent"
	})
	return q
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// GET /lookup/{phoneNumber}: libphonenumber's country, type and formats,
// national numbers with countryCode, MessageBird's errors for the rest.
func TestLookup(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		for _, c := range []struct {
			path, msisdn, country, typ, national string
		}{
			{"/lookup/31612345678", "31612345678", "NL", "mobile", "06 12345678"},
			{"/lookup/+31612345678", "31612345678", "NL", "mobile", "06 12345678"},
			{"/lookup/0612345678?countryCode=NL", "31612345678", "NL", "mobile", "06 12345678"},
			{"/lookup/0201234567?countryCode=nl", "31201234567", "NL", "fixed line", "020 123 4567"},
			{"/lookup/448001234567", "448001234567", "GB", "toll free", "0800 123 4567"},
			{"/lookup/12015550123", "12015550123", "US", "fixed line or mobile", "(201) 555-0123"},
			// The SDKs' examples (PHP, Python): national numbers without the
			// trunk prefix, not Indonesia's +62 nor Australia's +61.
			{"/lookup/624971134?countryCode=NL", "31624971134", "NL", "mobile", "06 24971134"},
			{"/lookup/612345678?countryCode=NL", "31612345678", "NL", "mobile", "06 12345678"},
			// International numbers stay themselves whatever the
			// countryCode, unless the digits are a valid national number too
			// (phone.Lookup's rule).
			{"/lookup/+31612345678?countryCode=AT", "31612345678", "NL", "mobile", "06 12345678"},
			{"/lookup/31612345678?countryCode=GB", "31612345678", "NL", "mobile", "06 12345678"},
			{"/lookup/4915112345678?countryCode=DE", "4915112345678", "DE", "mobile", "01511 2345678"},
		} {
			for _, key := range []string{s.key, s.testKey} {
				r := s.do("GET", c.path, key, "", nil)
				if r.status != 200 {
					t.Fatalf("GET %s = %d %s", c.path, r.status, r.raw)
				}
				j := r.json
				f := j["formats"].(map[string]any)
				if j["phoneNumber"] != mustFloat(c.msisdn) || j["countryCode"] != c.country || j["type"] != c.typ ||
					f["e164"] != "+"+c.msisdn || f["national"] != c.national || j["href"] != s.url+"/lookup/"+c.msisdn || j["hlr"] != nil {
					t.Fatalf("GET %s = %s", c.path, r.raw)
				}
			}
		}
		r := s.get("/lookup/31612345678")
		if f := r.json["formats"].(map[string]any); f["international"] != "+31 6 12345678" || f["rfc3966"] != "tel:+31-6-12345678" ||
			r.json["countryPrefix"] != 31.0 || r.json["valid"] != true {
			t.Fatalf("formats: %s", r.raw)
		}
		for _, path := range []string{"/lookup/abc", "/lookup/0612345678", "/lookup/12", "/lookup/3161234567890123456", "/lookup/%2B%2B31612345678"} {
			r := s.get(path)
			if code, param, _ := errorOf(t, r); r.status != 400 || code != 21 || param != "phoneNumber" {
				t.Fatalf("GET %s = %d %s, want 400 code 21", path, r.status, r.raw)
			}
		}
		for _, path := range []string{"/lookup/0612345678?countryCode=XX", "/lookup/0612345678?countryCode=NLD", "/lookup/31612345678?countryCode=N",
			"/lookup/31612345678?countryCode=001", "/lookup/0612345678/hlr?countryCode=NLD"} {
			r := s.get(path)
			if code, param, _ := errorOf(t, r); r.status != 422 || code != 10 || param != "countryCode" {
				t.Fatalf("GET %s = %d %s, want 422 code 10 on countryCode", path, r.status, r.raw)
			}
		}
		if r := s.do("GET", "/lookup/31612345678", "", "", nil); r.status != 401 {
			t.Fatalf("no key: %d", r.status)
		}
		if r := s.do("DELETE", "/lookup/31612345678", s.key, "", nil); r.status != 405 {
			t.Fatalf("DELETE: %d", r.status)
		}
	})
}

func mustFloat(s string) float64 {
	var f float64
	json.Unmarshal([]byte(s), &f)
	return f
}

// HLR queries: created sent (charged), answered by the simulator's rules,
// read by id and by number; a failed one is refunded.
func TestHLR(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := hlrServer(t, engine)
		ctx := context.Background()
		r := s.postHLR(s.key, "/hlr", map[string]any{"msisdn": 31612345678, "reference": "first"})
		if r.status != 201 || r.json["status"] != "sent" || r.json["network"] != nil || r.json["details"] != nil ||
			r.json["msisdn"] != 31612345678.0 || r.json["reference"] != "first" {
			t.Fatalf("POST /hlr = %d %s", r.status, r.raw)
		}
		id := r.json["id"].(string)
		if r.json["href"] != s.url+"/hlr/"+id {
			t.Fatalf("href %v", r.json["href"])
		}
		q := s.waitHLR(s.key, id)
		d, _ := q["details"].(map[string]any)
		if q["status"] != "active" || q["network"] != 20408.0 || d["ported"] != 0.0 || d["roaming"] != 0.0 || d["country_iso"] != "NL" ||
			d["country_name"] != "Netherlands" || len(d["imsi"].(string)) != 15 || q["reference"] != "first" {
			t.Fatalf("answered %v", q)
		}
		if b := balanceOf(t, s, s.key); !near(b, 999.99) {
			t.Fatalf("balance %v, want 999.99 (one HLR query at 0.01)", b)
		}
		ledger, err := s.app.store.Ledger(ctx, s.accountID, 5, 0)
		if err != nil || len(ledger) == 0 || ledger[0].Kind != store.LedgerCharge || ledger[0].Amount != -10_000 || ledger[0].Reference != id {
			t.Fatalf("ledger %+v %v", ledger, err)
		}

		// The rules by last digit, through each way of asking.
		for _, c := range []struct {
			path   string
			body   map[string]any
			status string
			check  func(q, d map[string]any) bool
		}{
			{"/lookup/31612345670/hlr", nil, "absent", func(q, d map[string]any) bool { return d["location_msc"] == "" }},
			{"/lookup/0612345672/hlr", map[string]any{"countryCode": "NL", "reference": "ported"}, "active",
				func(q, d map[string]any) bool {
					return q["network"] == 20416.0 && d["ported"] == 1.0 && q["reference"] == "ported"
				}},
			{"/hlr", map[string]any{"msisdn": "+31612345673"}, "active",
				func(q, d map[string]any) bool { return d["roaming"] == 1.0 && d["location_iso"] == "DE" }},
			{"/hlr", map[string]any{"msisdn": "31612345671"}, "unknown", func(q, d map[string]any) bool { return q["network"] == 0.0 }},
		} {
			r := s.postHLR(s.key, c.path, c.body)
			if r.status != 201 || r.json["status"] != "sent" {
				t.Fatalf("POST %s = %d %s", c.path, r.status, r.raw)
			}
			q := s.waitHLR(s.key, r.json["id"].(string))
			if d, _ := q["details"].(map[string]any); q["status"] != c.status || !c.check(q, d) {
				t.Fatalf("POST %s answered %v", c.path, q)
			}
		}
		// A failed query is refunded.
		before := balanceOf(t, s, s.key)
		r = s.postHLR(s.key, "/hlr", map[string]any{"msisdn": "31612345674"})
		failed := r.json["id"].(string)
		if q := s.waitHLR(s.key, failed); q["status"] != "failed" {
			t.Fatalf("failed query: %v", q)
		}
		if b := balanceOf(t, s, s.key); !near(b, before) {
			t.Fatalf("balance %v after a failed query, want %v (refunded)", b, before)
		}
		ledger, _ = s.app.store.Ledger(ctx, s.accountID, 1, 0)
		if ledger[0].Kind != store.LedgerRefund || ledger[0].Amount != 10_000 || ledger[0].Reference != failed {
			t.Fatalf("refund %+v", ledger[0])
		}

		// The latest query of a number, and the lookup that shows it.
		r = s.postHLR(s.key, "/lookup/31612345670/hlr", nil)
		latest := r.json["id"].(string)
		for _, path := range []string{"/lookup/31612345670/hlr", "/lookup/612345670/hlr?countryCode=NL"} {
			if r := s.get(path); r.status != 200 || r.json["id"] != latest {
				t.Fatalf("GET %s = %d %s, want %s", path, r.status, r.raw, latest)
			}
		}
		// countryCode in the body or the query of a POST (a test key's
		// query is not stored).
		for _, c := range []struct {
			path string
			body map[string]any
		}{{"/lookup/612345672/hlr", map[string]any{"countryCode": "NL"}}, {"/lookup/612345672/hlr?countryCode=NL", nil}} {
			if r := s.postHLR(s.testKey, c.path, c.body); r.status != 201 || r.json["msisdn"] != 31612345672.0 {
				t.Fatalf("POST %s %v = %d %s", c.path, c.body, r.status, r.raw)
			}
		}
		s.waitHLR(s.key, latest)
		if r := s.get("/lookup/31612345670"); r.json["hlr"] == nil || r.json["hlr"].(map[string]any)["status"] != "absent" {
			t.Fatalf("lookup with HLR: %s", r.raw)
		}
		if r := s.get("/lookup/31699999999/hlr"); r.status != 404 {
			t.Fatalf("no query of the number: %d %s", r.status, r.raw)
		}
		// The list: newest first, paged in MessageBird's envelope.
		if l := s.get("/hlr?limit=2"); l.status != 200 || l.json["totalCount"] != 7.0 || l.json["count"] != 2.0 ||
			listItems(l.json)[0]["id"] != latest || listItems(l.json)[1]["id"] != failed || l.json["links"].(map[string]any)["next"] == nil {
			t.Fatalf("GET /hlr = %d %s", l.status, l.raw)
		}
		if l := s.get("/hlr?offset=6"); l.status != 200 || l.json["count"] != 1.0 || listItems(l.json)[0]["id"] != id {
			t.Fatalf("GET /hlr?offset=6 = %d %s", l.status, l.raw)
		}

		metrics := string(s.get("/metrics").raw)
		for _, want := range []string{`omnigate_hlr_queries_total{origin="api",status="active"} 3`, `omnigate_hlr_queries_total{origin="api",status="failed"} 1`} {
			if !strings.Contains(metrics, want) {
				t.Fatalf("/metrics has no %s", want)
			}
		}

		// Test keys: answered, never stored or charged; no query to read.
		before = balanceOf(t, s, s.key)
		r = s.postHLR(s.testKey, "/hlr", map[string]any{"msisdn": "31612345678"})
		if r.status != 201 || r.json["status"] != "sent" {
			t.Fatalf("test key: %d %s", r.status, r.raw)
		}
		if r2 := s.get("/hlr/" + r.json["id"].(string)); r2.status != 404 {
			t.Fatalf("a test key's query was stored: %d", r2.status)
		}
		for _, path := range []string{"/hlr/" + id, "/lookup/31612345678/hlr"} {
			if r := s.do("GET", path, s.testKey, "", nil); r.status != 404 {
				t.Fatalf("test key GET %s = %d", path, r.status)
			}
		}
		if b := balanceOf(t, s, s.key); !near(b, before) {
			t.Fatalf("a test key's query was charged: %v, want %v", b, before)
		}

		// Another account sees none of them.
		_, otherKey, _, _ := s.newAccount("other")
		for _, path := range []string{"/hlr/" + id, "/lookup/31612345678/hlr"} {
			if r := s.do("GET", path, otherKey, "", nil); r.status != 404 {
				t.Fatalf("another account GET %s = %d %s", path, r.status, r.raw)
			}
		}
	})
}

// Bad HLR requests get MessageBird's errors and change nothing.
func TestHLRBadInput(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := hlrServer(t, engine)
		for _, c := range []struct {
			path   string
			body   string
			status int
			code   float64
			param  any
		}{
			{"/hlr", `{}`, 422, 9, "msisdn"},
			{"/hlr", `{"msisdn":"abc"}`, 422, 10, "msisdn"},
			{"/hlr", `{"msisdn":{"number":"31612345678"}}`, 422, 9, "msisdn"},
			{"/hlr", `{"msisdn":"31612345678"`, 400, 10, nil},
			{"/hlr", `{"msisdn":"31612345678","reference":"x\u0000"}`, 422, 10, "reference"},
			{"/lookup/abc/hlr", `{}`, 400, 21, "phoneNumber"},
			{"/lookup/0612345678/hlr", `{"countryCode":"ZZ"}`, 422, 10, "countryCode"},
		} {
			r := s.do("POST", c.path, s.key, "application/json", []byte(c.body))
			code, param, _ := errorOf(t, r)
			if r.status != c.status || code != c.code || param != c.param {
				t.Errorf("POST %s %s = %d %s", c.path, c.body, r.status, r.raw)
			}
		}
		if r := s.get("/hlr/nosuchid"); r.status != 404 {
			t.Fatalf("unknown id: %d", r.status)
		}
		if b := balanceOf(t, s, s.key); b != 1000 {
			t.Fatalf("balance %v after refused requests, want 1000", b)
		}
		// Without balance: refused, nothing stored.
		poorID, poor := s.accountWith(0)
		r := s.postHLR(poor, "/hlr", map[string]any{"msisdn": "31612345678"})
		if code, _, _ := errorOf(t, r); r.status != 422 || code != 25 {
			t.Fatalf("no balance: %d %s", r.status, r.raw)
		}
		if _, err := s.app.store.LatestHLR(context.Background(), poorID, "31612345678", time.Time{}, false); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a refused query was stored: %v", err)
		}
	})
}

// The check before sending: absent and unknown recipients fail at once,
// uncharged; answers are reused; a message no recipient of which can be
// reached is refused.
func TestHLRCheckBeforeSend(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := hlrServer(t, engine)
		if r := s.get("/settings/hlr"); r.status != 200 || r.json["checkBeforeSend"] != false {
			t.Fatalf("GET /settings/hlr = %d %s", r.status, r.raw)
		}
		r := s.do("PUT", "/settings/hlr", s.key, "application/json", []byte(`{"checkBeforeSend":true}`))
		if r.status != 200 || r.json["checkBeforeSend"] != true {
			t.Fatalf("PUT /settings/hlr = %d %s", r.status, r.raw)
		}
		for _, body := range []string{`{"maxAge":-1}`, `{"maxAge":99999999}`, `{"checkBeforeSend":"perhaps"}`} {
			r := s.do("PUT", "/settings/hlr", s.key, "application/json", []byte(body))
			if code, _, _ := errorOf(t, r); r.status != 422 || code != 10 {
				t.Fatalf("PUT %s = %d %s", body, r.status, r.raw)
			}
		}
		if r := s.do("PUT", "/settings/hlr", s.testKey, "application/json", []byte(`{"checkBeforeSend":false}`)); r.status != 403 {
			t.Fatalf("test key changed settings: %d", r.status)
		}

		to := "31612345678,31612345670,31612345671"
		m := s.send(map[string]any{"originator": "Shop", "recipients": to, "body": "hello"})
		byNumber := map[float64]map[string]any{}
		for _, it := range items(m) {
			byNumber[it["recipient"].(float64)] = it
		}
		if it := byNumber[31612345678]; it["status"] != "sent" || it["price"].(map[string]any)["amount"] != 0.05 {
			t.Fatalf("reachable recipient: %v", it)
		}
		for n, code := range map[float64]float64{31612345670: 27, 31612345671: 1} {
			it := byNumber[n]
			if it["status"] != "delivery_failed" || it["statusErrorCode"] != code || it["price"].(map[string]any)["amount"] != 0.0 {
				t.Fatalf("unreachable recipient %v: %v", n, it)
			}
		}
		// Each refusal is in the decision log under its rule.
		d := s.get("/compliance/decisions")
		if !strings.Contains(string(d.raw), `"rule":"hlr.absent"`) || !strings.Contains(string(d.raw), `"rule":"hlr.unknown"`) {
			t.Fatalf("decisions: %s", d.raw)
		}
		if m := string(s.get("/metrics").raw); !strings.Contains(m, `omnigate_compliance_decisions_total{outcome="reject",rule="hlr.absent"} 1`) {
			t.Fatalf("/metrics counts no hlr.absent decision")
		}
		// One SMS and three HLR queries.
		if b := balanceOf(t, s, s.key); !near(b, 1000-0.05-0.03) {
			t.Fatalf("balance %v, want %v", b, 1000-0.05-0.03)
		}
		// The answers are reused: only the SMS is charged.
		s.send(map[string]any{"originator": "Shop", "recipients": to, "body": "hello again"})
		if b := balanceOf(t, s, s.key); !near(b, 1000-0.10-0.03) {
			t.Fatalf("balance %v, want %v (cached answers)", b, 1000-0.10-0.03)
		}
		// Nobody to send to: refused, nothing charged.
		r = s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": "31612345670", "body": "hello"})
		if code, param, _ := errorOf(t, r); r.status != 422 || code != 10 || param != "recipients" {
			t.Fatalf("only unreachable recipients: %d %s", r.status, r.raw)
		}
		if b := balanceOf(t, s, s.key); !near(b, 1000-0.10-0.03) {
			t.Fatalf("balance %v after a refused message", b)
		}
		// The reachable recipient is still delivered.
		id := m["id"].(string)
		waitFor(t, "the reachable recipient to be delivered", 20*time.Second, func() bool {
			for _, it := range items(s.get("/messages/" + id).json) {
				if it["recipient"] == 31612345678.0 {
					return it["status"] == "delivered"
				}
			}
			return false
		})

		// Without the check, the same message costs three SMS.
		_, plain := s.accountWith(1_000_000_000)
		if r := s.postJSON(plain, map[string]any{"originator": "Shop", "recipients": to, "body": "hello"}); r.status != 201 {
			t.Fatalf("unchecked send: %d %s", r.status, r.raw)
		}
		if b := balanceOf(t, s, plain); !near(b, 1000-0.15) {
			t.Fatalf("unchecked balance %v, want %v", b, 1000-0.15)
		}
	})
}

// An HLR provider too slow to answer: the check before sending lets the
// recipient through (charged as without the check) and records the query
// failed and refunded; a queued query is retried, then failed and refunded.
func TestHLRProviderTooSlow(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) {
			c.HLRSimDelay = 2 * time.Second // answers in 1–3 s
			c.HLR.CheckTimeout = 50 * time.Millisecond
			c.HLR.QueryTimeout = 50 * time.Millisecond
			c.HLR.MaxAttempts = 2
			c.HLR.Retry.Min, c.HLR.Retry.Max = 10*time.Millisecond, 20*time.Millisecond
			c.HLR.Pool.Poll = 20 * time.Millisecond
		})
		if r := s.do("PUT", "/settings/hlr", s.key, "application/json", []byte(`{"checkBeforeSend":true}`)); r.status != 200 {
			t.Fatalf("PUT /settings/hlr = %d %s", r.status, r.raw)
		}
		m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345670", "body": "hello"})
		if it := items(m)[0]; it["status"] != "sent" {
			t.Fatalf("a recipient the check could not settle: %v", it)
		}
		if b := balanceOf(t, s, s.key); !near(b, 1000-0.05) {
			t.Fatalf("balance %v, want %v (the SMS; the HLR query refunded)", b, 1000-0.05)
		}
		q, err := s.app.store.LatestHLR(context.Background(), s.accountID, "31612345670", time.Time{}, false)
		if err != nil || q.Status != store.HLRFailed || q.Origin != store.HLROriginPreSend {
			t.Fatalf("the check's query: %+v %v", q, err)
		}

		r := s.postHLR(s.key, "/hlr", map[string]any{"msisdn": "31612345678"})
		if r.status != 201 {
			t.Fatalf("POST /hlr = %d %s", r.status, r.raw)
		}
		if q := s.waitHLR(s.key, r.json["id"].(string)); q["status"] != "failed" || q["network"] != 0.0 {
			t.Fatalf("a query the provider never answered: %v", q)
		}
		if b := balanceOf(t, s, s.key); !near(b, 1000-0.05) {
			t.Fatalf("balance %v after a failed query, want it refunded", b)
		}
	})
}

// Without an HLR provider (no demo, no simulator) Lookup works and the HLR
// endpoints say HLR is not available; the demo banner shows both.
func TestHLRUnavailable(t *testing.T) {
	s := serve(t, Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), SQLiteSync: "NORMAL", ShutdownTimeout: 10 * time.Second})
	_, key, _, _ := s.newAccount("plain")
	if r := s.do("GET", "/lookup/31612345678", key, "", nil); r.status != 200 || r.json["type"] != "mobile" {
		t.Fatalf("lookup: %d %s", r.status, r.raw)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/hlr", `{"msisdn":"31612345678"}`},
		{"POST", "/lookup/31612345678/hlr", `{}`},
		{"PUT", "/settings/hlr", `{"checkBeforeSend":true}`},
	} {
		r := s.do(c.method, c.path, key, "application/json", []byte(c.body))
		if code, _, desc := errorOf(t, r); r.status != 403 || code != 2 || !strings.Contains(desc, "not available") {
			t.Fatalf("%s %s = %d %s", c.method, c.path, r.status, r.raw)
		}
	}
	if r := s.do("GET", "/settings/hlr", key, "", nil); r.status != 200 || r.json["checkBeforeSend"] != false {
		t.Fatalf("GET /settings/hlr = %d %s", r.status, r.raw)
	}

	demo := start(t, "sqlite")
	var banner strings.Builder
	demo.app.PrintDemo(&banner)
	if !strings.Contains(banner.String(), "/lookup/31612345678") || !strings.Contains(banner.String(), "/hlr -d msisdn=") {
		t.Fatalf("the demo banner shows no lookup or HLR:\n%s", banner.String())
	}
}

// The answers of an account's HLR queries go to its HLR report URL as
// signed GETs, retried when the receiver fails; the check before sending
// reports nothing.
func TestHLRReports(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		type call struct {
			query  url.Values
			header http.Header
		}
		calls := make(chan call, 16)
		var failed atomic.Bool
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !failed.Swap(true) {
				http.Error(w, "not now", http.StatusServiceUnavailable) // the first call fails
				return
			}
			calls <- call{r.URL.Query(), r.Header.Clone()}
		}))
		defer recv.Close()
		s := start(t, engine, func(c *Config) {
			c.HLRSimDelay = 10 * time.Millisecond
			c.HLR.Pool.Poll = 20 * time.Millisecond
			c.HLR.Reports.Pool.Poll = 20 * time.Millisecond
			c.HLR.Reports.Retry.Min, c.HLR.Reports.Retry.Max = 10*time.Millisecond, 20*time.Millisecond
		})
		body := `{"checkBeforeSend":true,"reportUrl":"` + recv.URL + `/hlr?tenant=acme"}`
		if r := s.do("PUT", "/settings/hlr", s.key, "application/json", []byte(body)); r.status != 200 || r.json["reportUrl"] != recv.URL+"/hlr?tenant=acme" {
			t.Fatalf("PUT /settings/hlr = %d %s", r.status, r.raw)
		}
		if r := s.do("PUT", "/settings/hlr", s.key, "application/json", []byte(`{"reportUrl":"ftp://example.com/"}`)); r.status != 422 {
			t.Fatalf("an ftp report URL: %d %s", r.status, r.raw)
		}
		// The check's query is not reported.
		s.send(map[string]any{"originator": "Shop", "recipients": "31612345678,31612345670", "body": "hi"})
		r := s.postHLR(s.key, "/hlr", map[string]any{"msisdn": "31612345673", "reference": "r1"})
		id := r.json["id"].(string)
		var c call
		select {
		case c = <-calls:
		case <-time.After(15 * time.Second):
			t.Fatal("no HLR report")
		}
		q := c.query
		if q.Get("id") != id || q.Get("reference") != "r1" || q.Get("msisdn") != "31612345673" || q.Get("status") != "active" ||
			q.Get("network") != "20408" || q.Get("tenant") != "acme" || q.Get("statusDatetime") == "" || q.Get("createdDatetime") == "" {
			t.Fatalf("report %v", q)
		}
		ts, _ := strconv.ParseInt(c.header.Get(webhook.HeaderTimestamp), 10, 64)
		if want := webhook.SignLegacy(s.signingKey, "node", ts, q, nil); c.header.Get(webhook.HeaderSignature) != want || c.header.Get(webhook.HeaderSignatureJWT) == "" {
			t.Fatalf("signature %q, want %q", c.header.Get(webhook.HeaderSignature), want)
		}
		if !failed.Load() {
			t.Fatal("the failed first call was not retried")
		}
		select {
		case c := <-calls:
			t.Fatalf("another report: %v", c.query)
		default:
		}
	})
}

// HLR prices come from the price lists' hlr channel: an account's own
// price overrides the default list's.
func TestHLRPrices(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := billingServer(t, engine, func(c *Config) { c.HLRSimDelay = 10 * time.Millisecond })
		r := s.admin("POST", "/admin/prices?account="+s.accountID, "text/csv", "channel,country,prefix,currency,price\nhlr,NL,,EUR,0.02\nhlr,,3161234,EUR,0.005\n")
		if r.status != 200 {
			t.Fatalf("importing HLR prices: %d %s", r.status, r.raw)
		}
		for _, c := range []struct {
			msisdn string
			price  float64
		}{{"31612345678", 0.005}, {"31687654321", 0.02}, {"4915112345678", 0.01}} {
			before := balanceOf(t, s, s.key)
			if r := s.postHLR(s.key, "/hlr", map[string]any{"msisdn": c.msisdn}); r.status != 201 {
				t.Fatalf("POST /hlr %s = %d %s", c.msisdn, r.status, r.raw)
			}
			if b := balanceOf(t, s, s.key); !near(before-b, c.price) {
				t.Fatalf("%s cost %v, want %v", c.msisdn, before-b, c.price)
			}
		}
	})
}

// Messages sent at once to the same unchecked number share one HLR query.
func TestHLRCheckShared(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.HLRSimDelay = 300 * time.Millisecond })
		if r := s.do("PUT", "/settings/hlr", s.key, "application/json", []byte(`{"checkBeforeSend":true}`)); r.status != 200 {
			t.Fatalf("PUT /settings/hlr = %d %s", r.status, r.raw)
		}
		const n = 5
		errs := make(chan error, n)
		for range n {
			go func() {
				b, _ := json.Marshal(map[string]any{"originator": "Shop", "recipients": "31612345679", "body": "hi"})
				req, _ := http.NewRequest("POST", s.url+"/messages", strings.NewReader(string(b)))
				req.Header.Set("Authorization", "AccessKey "+s.key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != 201 {
						err = errors.New(resp.Status)
					}
				}
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if b := balanceOf(t, s, s.key); !near(b, 1000-n*0.05-0.01) {
			t.Fatalf("balance %v, want %v (%d SMS, one HLR query)", b, 1000-n*0.05-0.01, n)
		}
	})
}
