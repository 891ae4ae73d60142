package app

import (
	"strings"
	"testing"
)

// TestUnknownParametersIgnored: the MessageBird endpoints ignore parameters
// they do not know, as MessageBird does (SDKs and older integrations send
// such fields), and count them; a known parameter with a malformed value
// is still refused. omnigate's own endpoints stay strict.
func TestUnknownParametersIgnored(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		r := s.do("POST", "/messages", s.key, "application/json",
			[]byte(`{"originator":"Shop","recipients":["31612345678"],"body":"x","colour":"red","options":{"a":[1]},"colour2":null}`))
		if r.status != 201 || r.json["body"] != "x" {
			t.Fatalf("JSON with unknown fields: %d %s", r.status, r.raw)
		}
		r = s.do("POST", "/messages", s.key, "application/x-www-form-urlencoded", []byte("originator=Shop&recipients=31612345678&body=y&colour=blue&extra[a]=1"))
		if r.status != 201 || r.json["body"] != "y" {
			t.Fatalf("form with unknown fields: %d %s", r.status, r.raw)
		}
		if r = s.get("/messages?limit=5&colour=red"); r.status != 200 || r.json["count"] != 2.0 {
			t.Fatalf("list with an unknown parameter: %d %s", r.status, r.raw)
		}
		if r = s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "x", "colour": "red", "mclass": "high"}); r.status != 422 {
			t.Fatalf("malformed known parameter: %d %s", r.status, r.raw)
		} else if code, param, _ := errorOf(t, r); code != 10 || param != "mclass" {
			t.Fatalf("malformed known parameter: code %v parameter %v", code, param)
		}
		// omnigate's own endpoints refuse unknown fields.
		if r = s.do("POST", "/suppressions", s.key, "application/json", []byte(`{"recipient":"31612345678","colour":"red"}`)); r.status != 400 {
			t.Fatalf("own endpoint with an unknown field: %d %s", r.status, r.raw)
		}
		m := s.do("GET", "/metrics", "", "", nil)
		for _, want := range []string{
			`omnigate_api_unknown_parameters_total{door="messagebird",parameter="colour"} 3`,
			`omnigate_api_unknown_parameters_total{door="messagebird",parameter="colour2"} 1`,
			`omnigate_api_unknown_parameters_total{door="messagebird",parameter="options"} 1`,
			`omnigate_api_unknown_parameters_total{door="messagebird",parameter="extra"} 1`,
		} {
			if !strings.Contains(string(m.raw), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}
