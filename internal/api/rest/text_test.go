package rest

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestTextFault(t *testing.T) {
	for _, ok := range []string{"", "Acme", "café 😀 مرحبا", "a\u00a0b", "€", "\u2028"} {
		if why := TextFault(ok, false); why != "" {
			t.Errorf("%q refused: %s", ok, why)
		}
	}
	for _, ok := range []string{"line 1\nline 2\r\n\tx"} {
		if why := TextFault(ok, true); why != "" {
			t.Errorf("%q refused as several lines: %s", ok, why)
		}
		if why := TextFault(ok, false); why == "" {
			t.Errorf("%q accepted as one line", ok)
		}
	}
	for _, bad := range []string{"\x00", "a\x01", "\x1b[0m", "\x7f", "\u0085", "\u009f", "\xff", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80", "a\x0cb", "a\x08"} {
		for _, multiline := range []bool{false, true} {
			if why := TextFault(bad, multiline); why == "" {
				t.Errorf("%q accepted (multiline %v)", bad, multiline)
			}
		}
	}
}

func TestCheckJSONNamesTheParameter(t *testing.T) {
	for body, param := range map[string]string{
		`{"reference":"a\u0000"}`:                   "reference",
		`{"reference":"a\nb"}`:                      "reference",
		`{"body":"a\u0001"}`:                        "body",
		"{\"body\":\"caf\xe9\"}":                    "body",
		`{"body":"\ud800"}`:                         "body",
		`{"evidence":{"userAgent":"x\ty"}}`:         "evidence.userAgent",
		`{"evidence":{"text":"x\u007f"}}`:           "evidence.text",
		`{"categories":["a","b\u0000"]}`:            "categories",
		`{"typeDetails":{"udh":"\u0085"}}`:          "typeDetails.udh",
		`{"countryQuietHours":{"N\u0000":"x"}}`:     "countryQuietHours",
		"{\"countryQuietHours\":{\"N\xff\":\"x\"}}": "countryQuietHours",
		`{"a\nb":1}`:                                "",
	} {
		p := CheckJSON([]byte(body))
		if p == nil || p.Status != 422 || p.Errors[0].Code != CodeInvalidParams {
			t.Errorf("%s: %+v", body, p)
			continue
		}
		got := ""
		if p.Errors[0].Parameter != nil {
			got = *p.Errors[0].Parameter
		}
		if got != param {
			t.Errorf("%s: parameter %q, want %q (%s)", body, got, param, p.Errors[0].Description)
		}
	}
	for _, body := range []string{`{"body":"line 1\nline 2\r\n\tx"}`, `{"note":"a\nb"}`, `{"evidence":{"text":"a\nb"}}`,
		`{"body":"\ud83d\ude00 \u00e9 \\u0000 \"q\" \/"}`, `{"n":1,"b":true,"x":null}`, `not json`, `["\u0000"]`, `"\u0000"`} {
		if p := CheckJSON([]byte(body)); p != nil {
			t.Errorf("%s refused: %+v", body, p.Errors[0])
		}
	}
}

func TestCheckForm(t *testing.T) {
	for query, param := range map[string]string{
		"reference=a%00":           "reference",
		"typeDetails[udh]=%0A":     "typeDetails.udh",
		"recipients[]=%FF":         "recipients",
		"body=%01":                 "body",
		"a%0Ab=1":                  "",
		"x%FF=1":                   "",
		"originator=a%09b":         "originator",
		"format=csv&status=%C2%85": "status",
	} {
		q, _ := url.ParseQuery(query)
		p := CheckForm(q)
		if p == nil {
			t.Errorf("%s accepted", query)
			continue
		}
		got := ""
		if p.Errors[0].Parameter != nil {
			got = *p.Errors[0].Parameter
		}
		if got != param {
			t.Errorf("%s: parameter %q, want %q", query, got, param)
		}
	}
	q, _ := url.ParseQuery("body=line%0Aline%09x&reference=r%C3%A9f")
	if p := CheckForm(q); p != nil {
		t.Errorf("valid form refused: %+v", p.Errors[0])
	}
}

func TestCheckFileNamesTheLine(t *testing.T) {
	p := CheckFile("file", []byte("a,b\r\n1,2\n3,\x00\n"))
	if p == nil || !strings.Contains(p.Errors[0].Description, "line 3") {
		t.Fatalf("%+v", p)
	}
	if p := CheckFile("file", []byte("a,b\r\n1,\"two\nlines\"\tx\n")); p != nil {
		t.Fatalf("valid file refused: %+v", p.Errors[0])
	}
}

// FuzzCheckJSON: the quick pass never lets through a body that checking
// every string would refuse, and an accepted body decodes to strings that
// are valid text.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"body":"hi"}`, `{"reference":"a\u0000"}`, `{"a":{"b":["\n"]}}`, "{\"x\":\"\xc2\x85\"}", `{"k\u0001":1}`,
		`{"body":"\ud83d\ude00"}`, `{"body":"\ud800"}`, `{"x":"\/\\\""}`, "{\"x\":\"\x7f\"}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p := CheckJSON([]byte(body))
		if trimmed := []byte(strings.TrimSpace(body)); plainJSON(trimmed) && checkJSONValue("", "", trimmed) != nil {
			t.Fatalf("the quick pass accepts %q, the full check does not", body)
		}
		if p != nil {
			return
		}
		var v any
		if json.Unmarshal([]byte(body), &v) != nil {
			return
		}
		var walk func(name string, v any)
		walk = func(name string, v any) {
			switch v := v.(type) {
			case string:
				if why := TextFault(v, Multiline(name)); why != "" {
					t.Fatalf("%q accepted with %s %q: %s", body, name, v, why)
				}
			case []any:
				for _, it := range v {
					walk(name, it)
				}
			case map[string]any:
				for k, it := range v {
					if TextFault(k, false) != "" {
						t.Fatalf("%q accepted with the name %q", body, k)
					}
					walk(k, it)
				}
			}
		}
		if m, ok := v.(map[string]any); ok {
			walk("", m)
		}
	})
}
