package app

import (
	"context"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// TestPossibleNumbers: numbers libphonenumber finds possible but not valid —
// fictional ranges (UK 07700 900xxx, +1 555 01xx) and ranges its metadata
// has not caught up with — are accepted with their country, and the
// carrier decides; an account with strict numbers (set by an operator
// through the admin API) accepts only valid numbers.
func TestPossibleNumbers(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.AdminToken = adminToken })
		possible := []string{"+44 7700 900123", "+1 555 010 1234", "+33 6 39 98 00 00"}
		// From a number the account owns: alphanumeric senders are not
		// carried in the US.
		const own = "3197010000001"
		if err := s.app.store.AddNumber(context.Background(), store.Number{Number: own, AccountID: s.accountID, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		m := s.send(map[string]any{"originator": own, "recipients": possible, "body": "x"})
		want := map[float64][2]any{447700900123: {"United Kingdom", 44.0}, 15550101234: {"United States", 1.0}, 33639980000: {"France", 33.0}}
		for _, it := range items(m) {
			w, ok := want[it["recipient"].(float64)]
			if !ok || it["recipientCountry"] != w[0] || it["recipientCountryPrefix"] != w[1] || it["status"] != "sent" {
				t.Fatalf("recipient %v", it)
			}
		}
		// Still refused: not possible anywhere.
		for _, bad := range []string{"+1 555 0100", "+44 12345", "999123456789"} {
			r := s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": []string{bad}, "body": "x"})
			if code, param, _ := errorOf(t, r); r.status != 422 || code != 10 || param != "recipients" {
				t.Fatalf("%s: %d %s", bad, r.status, r.raw)
			}
		}

		// An operator turns strict numbers on for another account.
		id, key, _, _ := s.newAccount("strict")
		if r := s.admin("GET", "/admin/accounts/"+id+"/settings", "", ""); r.status != 200 || r.json["strictNumbers"] != false {
			t.Fatalf("settings: %d %s", r.status, r.raw)
		}
		if r := s.admin("PUT", "/admin/accounts/"+id+"/settings", "application/json", `{"strictNumbers":true}`); r.status != 200 || r.json["strictNumbers"] != true {
			t.Fatalf("PUT settings: %d %s", r.status, r.raw)
		}
		if r := s.admin("PUT", "/admin/accounts/"+id+"/settings", "application/json", `{"strictNumbers":"yes"}`); r.status != 400 {
			t.Fatalf("PUT settings with a string: %d %s", r.status, r.raw)
		}
		if r := s.admin("PUT", "/admin/accounts/nope/settings", "application/json", `{"strictNumbers":true}`); r.status != 404 {
			t.Fatalf("PUT settings of an unknown account: %d %s", r.status, r.raw)
		}
		for _, number := range possible {
			r := s.postJSON(key, map[string]any{"originator": own, "recipients": []string{"31612345678", number}, "body": "x"})
			if code, param, _ := errorOf(t, r); r.status != 422 || code != 10 || param != "recipients" {
				t.Fatalf("strict account, %s: %d %s", number, r.status, r.raw)
			}
		}
		if r := s.postJSON(key, map[string]any{"originator": "Shop", "recipients": []string{"31612345678", "+44 7400 123456"}, "body": "x"}); r.status != 201 {
			t.Fatalf("strict account, valid numbers: %d %s", r.status, r.raw)
		}
	})
}
