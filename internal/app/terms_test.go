package app

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Terms of service (ACCT-7) and sub-processors (PRIV-7): an operator
// publishes a version, every account is told, an account reads and
// accepts it (recorded with its key and address, the first acceptance
// kept); a change of the sub-processor list is announced with what was
// added and removed; bad input is refused naming the parameter.
func TestTermsAndSubprocessors(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.AdminToken = adminToken; c.Demo = false })
		other, otherKey, _, _ := s.newAccount("other")
		hook := newNoticeSink(t)
		for _, id := range []string{s.accountID, other} {
			if r := s.admin("PUT", "/admin/accounts/"+id+"/billing", "", `{"alertUrl":"`+hook.srv.URL+`"}`); r.status/100 != 2 {
				t.Fatalf("alert url: %d %s", r.status, r.raw)
			}
		}
		told := func(typ string) map[string]bool {
			accounts := map[string]bool{}
			for _, n := range hook.all() {
				if n["type"] == typ {
					accounts[n["accountId"].(string)] = true
				}
			}
			return accounts
		}
		if r := s.do("GET", "/terms", s.key, "", nil); r.status != http.StatusNotFound {
			t.Fatalf("GET /terms before any = %d %s", r.status, r.raw)
		}
		for _, c := range []struct{ body, param string }{
			{`{"version":"v 1","url":"https://x.example/t","summary":"s"}`, "version"},
			{`{"version":"v1","url":"ftp://x.example/t","summary":"s"}`, "url"},
			{`{"version":"v1","url":"https://x.example/t","summary":""}`, "summary"},
		} {
			if r := s.admin("POST", "/admin/terms", "application/json", c.body); r.status != 422 || !strings.Contains(string(r.raw), `"parameter":"`+c.param+`"`) {
				t.Errorf("POST /admin/terms %s = %d %s", c.body, r.status, r.raw)
			}
		}
		pub := s.admin("POST", "/admin/terms", "application/json", `{"version":"2026-12","url":"https://x.example/terms","summary":"Message content is kept 6 months.","effectiveAt":"2027-01-01T00:00:00Z"}`)
		if pub.status != http.StatusCreated || pub.json["effectiveAt"] != "2027-01-01T00:00:00Z" {
			t.Fatalf("POST /admin/terms = %d %s", pub.status, pub.raw)
		}
		if r := s.admin("POST", "/admin/terms", "application/json", `{"version":"2026-12","url":"https://x.example/terms","summary":"again"}`); r.status != 422 {
			t.Fatalf("publishing a version twice = %d %s", r.status, r.raw)
		}
		// Every account is told.
		waitFor(t, "the announcement to both accounts", 15*time.Second, func() bool {
			accts := told("terms.published")
			return accts[s.accountID] && accts[other]
		})

		g := s.do("GET", "/terms", s.key, "", nil)
		if g.status != 200 || g.json["version"] != "2026-12" || g.json["accepted"] != false {
			t.Fatalf("GET /terms = %d %s", g.status, g.raw)
		}
		if r := s.do("POST", "/terms/accept", s.key, "application/json", []byte(`{"version":"2025-01"}`)); r.status != 422 {
			t.Fatalf("accepting an unknown version = %d %s", r.status, r.raw)
		}
		if r := s.do("POST", "/terms/accept", s.testKey, "application/json", []byte(`{"version":"2026-12"}`)); r.status != 403 {
			t.Fatalf("a test key accepting = %d %s", r.status, r.raw)
		}
		acc := s.do("POST", "/terms/accept", s.key, "application/json", []byte(`{"version":"2026-12"}`))
		if acc.status != 200 || acc.json["accepted"] != true {
			t.Fatalf("POST /terms/accept = %d %s", acc.status, acc.raw)
		}
		time.Sleep(1100 * time.Millisecond) // a second acceptance would have another time
		if again := s.do("POST", "/terms/accept", s.key, "application/json", []byte(`{"version":"2026-12"}`)); again.json["acceptedAt"] != acc.json["acceptedAt"] {
			t.Fatalf("a second acceptance replaced the first: %s then %s", acc.raw, again.raw)
		}
		if g := s.do("GET", "/terms", s.key, "", nil); g.json["accepted"] != true {
			t.Fatalf("GET /terms after accepting: %s", g.raw)
		}
		if g := s.do("GET", "/terms", otherKey, "", nil); g.json["accepted"] != false {
			t.Fatalf("another account's acceptance: %s", g.raw)
		}
		list := s.admin("GET", "/admin/terms/2026-12/acceptances", "", "")
		items, _ := list.json["items"].([]any)
		if list.status != 200 || len(items) != 1 || items[0].(map[string]any)["accountId"] != s.accountID ||
			!strings.HasPrefix(items[0].(map[string]any)["acceptedBy"].(string), "key:") || items[0].(map[string]any)["ip"] != "127.0.0.1" {
			t.Fatalf("acceptances = %d %s", list.status, list.raw)
		}

		// Sub-processors.
		if r := s.admin("PUT", "/admin/subprocessors", "application/json", `{"subprocessors":[{"name":"A","purpose":"","location":"NL"}]}`); r.status != 422 ||
			!strings.Contains(string(r.raw), `subprocessors[0].purpose`) {
			t.Fatalf("a sub-processor without a purpose = %d %s", r.status, r.raw)
		}
		set := s.admin("PUT", "/admin/subprocessors", "application/json", `{"subprocessors":[{"name":"Carrier A","purpose":"SMS delivery","location":"NL"},{"name":"Relay B","purpose":"email","location":"DE"}]}`)
		if set.status != 200 || set.json["changed"] != true {
			t.Fatalf("PUT /admin/subprocessors = %d %s", set.status, set.raw)
		}
		if same := s.admin("PUT", "/admin/subprocessors", "application/json", `{"subprocessors":[{"name":"Carrier A","purpose":"SMS delivery","location":"NL"},{"name":"Relay B","purpose":"email","location":"DE"}]}`); same.json["changed"] != false {
			t.Fatalf("setting the same list = %s", same.raw)
		}
		s.admin("PUT", "/admin/subprocessors", "application/json", `{"subprocessors":[{"name":"Relay B","purpose":"email","location":"DE"},{"name":"Chat C","purpose":"WhatsApp","location":"IE"}]}`)
		got := s.do("GET", "/subprocessors", otherKey, "", nil)
		if subs, _ := got.json["subprocessors"].([]any); got.status != 200 || len(subs) != 2 || subs[1].(map[string]any)["name"] != "Chat C" || got.json["changedAt"] == nil {
			t.Fatalf("GET /subprocessors = %d %s", got.status, got.raw)
		}
		// Notices are delivered concurrently: find the second change's.
		waitFor(t, "the sub-processor notices", 15*time.Second, func() bool {
			n, second := 0, 0
			for _, x := range hook.all() {
				if x["type"] != "subprocessors.changed" {
					continue
				}
				n++
				if text, _ := x["text"].(string); strings.Contains(text, "Added: Chat C") && strings.Contains(text, "Removed: Carrier A") {
					second++
				}
			}
			return n == 4 && second == 2 // two changes, two accounts; the unchanged list told no one
		})
	})
}
