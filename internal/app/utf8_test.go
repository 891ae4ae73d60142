package app

import (
	"testing"
)

// TestInvalidUTF8Refused: text parameters that are not UTF-8 — in a JSON
// string, or in a form value once percent-decoded — are refused with 422
// code 10 naming the parameter, and nothing is stored or charged.
func TestInvalidUTF8Refused(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		for _, tc := range []struct {
			name, ct, body, param string
		}{
			{"JSON body", "application/json", "{\"originator\":\"Shop\",\"recipients\":[\"31612345678\"],\"body\":\"caf\xe9 au lait\"}", "body"},
			{"JSON body with a lone surrogate", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"x \udead"}`, "body"},
			{"JSON reference", "application/json", "{\"originator\":\"Shop\",\"recipients\":[\"31612345678\"],\"body\":\"x\",\"reference\":\"\xc0\xaf\"}", "reference"},
			{"JSON originator", "application/json", "{\"originator\":\"Sh\xf6p\",\"recipients\":[\"31612345678\"],\"body\":\"x\"}", "originator"},
			{"form body", "application/x-www-form-urlencoded", "originator=Shop&recipients=31612345678&body=caf%E9", "body"},
			{"form reference", "application/x-www-form-urlencoded", "originator=Shop&recipients=31612345678&body=x&reference=%FF", "reference"},
		} {
			r := s.do("POST", "/messages", s.key, tc.ct, []byte(tc.body))
			if r.status != 422 {
				t.Fatalf("%s: %d %s, want 422", tc.name, r.status, r.raw)
			}
			if code, param, _ := errorOf(t, r); code != 10 || param != tc.param {
				t.Fatalf("%s: code %v parameter %v, want 10 %s", tc.name, code, param, tc.param)
			}
		}
		if r := s.do("GET", "/messages?originator=%FF", s.key, "", nil); r.status != 422 {
			t.Fatalf("list filter not UTF-8: %d %s", r.status, r.raw)
		}
		if r := s.get("/messages"); r.json["totalCount"] != 0.0 {
			t.Fatalf("refused requests stored messages: %s", r.raw)
		}
		if r := s.get("/balance"); r.json["amount"] != 1000.0 {
			t.Fatalf("refused requests changed the balance: %s", r.raw)
		}
		// The same texts in UTF-8 go through.
		m := s.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "café au lait", "reference": "réf"})
		if m["body"] != "café au lait" || m["datacoding"] != "plain" {
			t.Fatalf("UTF-8 text: %v", m)
		}
	})
}
