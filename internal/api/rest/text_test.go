package rest

import (
	"bytes"
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
	for _, s := range []string{`{"body":"hi"}`, `{"a\u0000":1}`, `{"b\ud83d\ude00":"x"}`, `{"x":"\ud83d\u0041"}`, `{"body":"a\nb","reference":"c"}`,
		`{"reference":"a\n","reference":"b"}`, `{"x":[[{"note":"\t"}],{"y":"\u0085"}]}`, `{"reference":"a\u0000"}`, `{"a":{"b":["\n"]}}`, "{\"x\":\"\xc2\x85\"}", `{"k\u0001":1}`,
		`{"body":"\ud83d\ude00"}`, `{"body":"\ud800"}`, `{"x":"\/\\\""}`, "{\"x\":\"\x7f\"}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p := CheckJSON([]byte(body))
		trimmed := bytes.TrimSpace([]byte(body))
		if plainJSON(trimmed) && checkJSONValue("", "", trimmed) != nil {
			t.Fatalf("the quick pass accepts %q, the full check does not", body)
		}
		if json.Valid(trimmed) && len(trimmed) > 0 && trimmed[0] == '{' {
			sc := jsonScan{raw: trimmed}
			_, scanned, ok := sc.value(0)
			ref := checkJSONValue("", "", trimmed)
			// The scanner checks every name of an object, the reference
			// (a map) only the last of names given twice.
			if !ok || scanned == nil && ref != nil || scanned != nil && ref == nil && !duplicateNames(trimmed) {
				t.Fatalf("%q: the scanner says %v (ok %v), the reference %v", body, scanned, ok, ref)
			}
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

// BenchmarkCheckJSON: the cost of the text rules on a typical POST
// /messages body — one line (the quick pass only) and with line breaks in
// the body (every string is decoded and checked).
func BenchmarkCheckJSON(b *testing.B) {
	for name, body := range map[string]string{
		"one-line": `{"originator":"Shop","recipients":["31612345678","31612345679"],"body":"Your code is 123456. Valid for 5 minutes.","reference":"otp-8812","reportUrl":"https://example.com/dlr"}`,
		"lines":    `{"originator":"Shop","recipients":["31612345678","31612345679"],"body":"Your code is 123456.\nValid for 5 minutes.","reference":"otp-8812","reportUrl":"https://example.com/dlr"}`,
	} {
		b.Run(name, func(b *testing.B) {
			raw := []byte(body)
			b.ReportAllocs()
			for b.Loop() {
				if p := CheckJSON(raw); p != nil {
					b.Fatal(p)
				}
			}
		})
	}
}

// checkJSONValue is the reference the scanner is fuzzed against: it
// decodes every object and array and checks each string at path (leaf is
// the name deciding whether it may hold several lines).
func checkJSONValue(path, leaf string, raw []byte) *Problem {
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '"':
		if !ValidJSONText(raw) {
			return NotUTF8(path)
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		return CheckText(path, s, Multiline(leaf))
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for _, it := range items {
			if p := checkJSONValue(path, leaf, bytes.TrimSpace(it)); p != nil {
				return p
			}
		}
	case '{':
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			return nil
		}
		for key, v := range fields {
			if why := TextFault(key, false); why != "" {
				return Invalid(TextName(path), "a parameter name "+why)
			}
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			if p := checkJSONValue(sub, key, bytes.TrimSpace(v)); p != nil {
				return p
			}
		}
		// A name that is not UTF-8 reaches the map as U+FFFD.
		if !ValidJSONText(raw) && !anyInvalid(fields) {
			return Invalid(TextName(path), "a parameter name is not valid UTF-8 text; send text encoded as UTF-8")
		}
	}
	return nil
}

func anyInvalid(fields map[string]json.RawMessage) bool {
	for _, v := range fields {
		if !ValidJSONText(v) {
			return true
		}
	}
	return false
}

// duplicateNames reports whether an object of the JSON gives a name twice.
func duplicateNames(raw []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	type frame struct {
		object bool
		names  map[string]bool
		key    bool // the next string token is a name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{object: true, names: map[string]bool{}, key: true})
			case '[':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.object && top.key {
				if top.names[v] {
					return true
				}
				top.names[v] = true
				top.key = false
				continue
			}
			if top != nil && top.object {
				top.key = true
			}
		default:
			if top != nil && top.object {
				top.key = true
			}
		}
	}
}
