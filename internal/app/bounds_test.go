package app

import (
	"fmt"
	"testing"
)

// TestNumbersBounded: every number a client gives has documented bounds,
// and a number outside them is refused with 422 naming it — never
// accepted to overflow later (a validity of 10^10 seconds overflowed
// time.Duration and the message expired at once) — and changes nothing.
func TestNumbersBounded(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := billingServer(t, engine)
		sms := func(extra string) string {
			return `{"originator":"Shop","recipients":["31612345678"],"body":"x"` + extra + `}`
		}
		r := s.do("POST", "/realtime/apps", s.key, "application/json", []byte(`{"name":"chat"}`))
		if r.status != 201 {
			t.Fatalf("creating a realtime app: %d %s", r.status, r.raw)
		}
		appID := r.json["app_id"].(string)
		acct := "/admin/accounts/" + s.accountID
		for _, tc := range []struct {
			door, method, path, body, param string
		}{
			{"key", "POST", "/messages", sms(`,"validity":10000000000`), "validity"},
			{"key", "POST", "/messages", sms(`,"validity":9223372036854775807`), "validity"},
			{"key", "POST", "/messages", sms(`,"validity":2592001`), "validity"},
			{"key", "POST", "/messages", sms(`,"validity":"99999999999999999999"`), "validity"},
			{"key", "POST", "/messages", sms(`,"gateway":2147483648`), "gateway"},
			{"key", "POST", "/messages", sms(`,"mclass":4`), "mclass"},
			{"key", "PUT", "/billing/autotopup", `{"enabled":true,"threshold":"10","amount":"1000000000"}`, "amount"},
			{"key", "PUT", "/billing/autotopup", `{"enabled":true,"threshold":"1000000000","amount":"10"}`, "threshold"},
			{"key", "POST", "/topups", `{"amount":"1000000000"}`, "amount"},
			{"key", "POST", "/topups", `{"amount":"999999999999.999999"}`, "amount"},
			{"key", "POST", "/realtime/apps", `{"max_connections":10000000000}`, "max_connections"},
			{"key", "POST", "/realtime/apps", `{"max_messages_per_day":100000000000000000}`, "max_messages_per_day"},
			{"key", "PATCH", "/realtime/apps/" + appID, `{"max_connections":1000000001}`, "max_connections"},
			{"key", "POST", "/realtime/apps/" + appID + "/rotate", `{"grace_seconds":2592001}`, "grace_seconds"},
			{"key", "GET", "/messages?offset=2147483648", "", "offset"},
			{"key", "GET", "/ledger?limit=201", "", "limit"},
			{"admin", "POST", acct + "/ledger", `{"kind":"topup","amount":"1000000000","reason":"r"}`, "amount"},
			{"admin", "POST", acct + "/ledger", `{"kind":"adjustment","amount":"-1000000000","reason":"r"}`, "amount"},
			{"admin", "PUT", acct + "/billing", `{"payment":"postpaid","creditLimit":"1000000000"}`, "creditLimit"},
			{"admin", "PUT", acct + "/limits", `{"metric":"spend","period":"day","limit":"1000000000"}`, "limit"},
			{"admin", "PUT", acct + "/limits", `{"metric":"messages","period":"day","limit":"1000000000"}`, "limit"},
			{"admin", "POST", acct + "/cases", `{"reason":"audit","dueHours":2161}`, "dueHours"},
			{"admin", "POST", acct + "/cases", `{"reason":"audit","dueHours":-1}`, "dueHours"},
			{"admin", "GET", acct + "/decisions?limit=1001", "", "limit"},
			{"admin", "POST", "/admin/prices", "channel,country,prefix,currency,price\nsms,NL,,EUR,1000000000\n", "file"},
		} {
			what := fmt.Sprintf("%s %s %s", tc.method, tc.path, tc.body)
			var r response
			if tc.door == "admin" {
				ct := "application/json"
				if tc.param == "file" {
					ct = "text/csv"
				}
				r = s.admin(tc.method, tc.path, ct, tc.body)
			} else {
				r = s.do(tc.method, tc.path, s.key, "application/json", []byte(tc.body))
			}
			if r.status != 422 {
				t.Errorf("%s: %d %s, want 422", what, r.status, r.raw)
				continue
			}
			if code, param, _ := errorOf(t, r); code != 10 || param != tc.param {
				t.Errorf("%s: code %v parameter %v, want 10 %s", what, code, param, tc.param)
			}
		}
		if r := s.get("/messages"); r.json["totalCount"] != 0.0 {
			t.Fatalf("refused messages were stored: %s", r.raw)
		}
		if b := balanceOf(t, s, s.key); b != 1000 {
			t.Fatalf("refused movements changed the balance: %v", b)
		}
		// The largest values are accepted, and a validity at the bound does
		// not expire the message.
		m := s.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "x", "validity": 2592000, "gateway": 2147483647})
		if m["validity"] != 2592000.0 {
			t.Fatalf("validity at the bound: %v", m)
		}
		s.waitStatus(m["id"].(string), "delivered")
		if r := s.admin("POST", acct+"/ledger", "application/json", `{"kind":"topup","amount":"999999999.999999","reason":"largest"}`); r.status != 201 {
			t.Fatalf("largest amount: %d %s", r.status, r.raw)
		}
		if r := s.do("PATCH", "/realtime/apps/"+appID, s.key, "application/json", []byte(`{"max_connections":1000000000,"max_messages_per_day":1000000000}`)); r.status != 200 {
			t.Fatalf("largest realtime limits: %d %s", r.status, r.raw)
		}
	})
}
