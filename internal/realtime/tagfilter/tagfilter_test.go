package tagfilter

import (
	"encoding/json"
	"strings"
	"testing"
)

func mustParse(t *testing.T, s string) *Filter {
	t.Helper()
	f, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return f
}

func TestMatch(t *testing.T) {
	btc := map[string]string{"symbol": "BTC", "kind": "trade", "price": "50000.5"}
	eth := map[string]string{"symbol": "ETH", "kind": "quote", "price": "99"}
	none := map[string]string(nil)
	for _, c := range []struct {
		filter        string
		btc, eth, nil bool
	}{
		{`{"key":"symbol","cmp":"eq","val":"BTC"}`, true, false, false},
		{`{"key":"symbol","cmp":"neq","val":"BTC"}`, false, true, true},
		{`{"key":"symbol","cmp":"in","vals":["BTC","SOL"]}`, true, false, false},
		{`{"key":"symbol","cmp":"nin","vals":["BTC","SOL"]}`, false, true, true},
		{`{"key":"kind","cmp":"ex"}`, true, true, false},
		{`{"key":"kind","cmp":"nex"}`, false, false, true},
		{`{"key":"symbol","cmp":"sw","val":"B"}`, true, false, false},
		{`{"key":"symbol","cmp":"ew","val":"TH"}`, false, true, false},
		{`{"key":"kind","cmp":"ct","val":"ad"}`, true, false, false},
		{`{"key":"price","cmp":"gt","val":"100"}`, true, false, false},
		{`{"key":"price","cmp":"gte","val":"99"}`, true, true, false},
		{`{"key":"price","cmp":"lt","val":"99"}`, false, false, false},
		{`{"key":"price","cmp":"lte","val":"99.0"}`, false, true, false},
		{`{"key":"symbol","cmp":"gt","val":"1"}`, false, false, false}, // not a number: no match
		{`{"op":"and","nodes":[{"key":"kind","cmp":"eq","val":"trade"},{"key":"price","cmp":"gte","val":"100"}]}`, true, false, false},
		{`{"op":"or","nodes":[{"key":"symbol","cmp":"eq","val":"ETH"},{"key":"price","cmp":"gte","val":"1e4"}]}`, true, true, false},
		{`{"op":"not","nodes":[{"key":"symbol","cmp":"eq","val":"BTC"}]}`, false, true, true},
	} {
		f := mustParse(t, c.filter)
		if got := f.Match(btc); got != c.btc {
			t.Errorf("%s on BTC = %v", c.filter, got)
		}
		if got := f.Match(eth); got != c.eth {
			t.Errorf("%s on ETH = %v", c.filter, got)
		}
		if got := f.Match(none); got != c.nil {
			t.Errorf("%s on no tags = %v", c.filter, got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	deep := `{"key":"a","cmp":"ex"}`
	for range MaxDepth + 1 {
		deep = `{"op":"not","nodes":[` + deep + `]}`
	}
	many := make([]string, MaxNodes)
	for i := range many {
		many[i] = `{"key":"a","cmp":"ex"}`
	}
	for _, c := range []struct{ filter, want string }{
		{`[]`, "not a JSON object"},
		{`"eq"`, "not a JSON object"},
		{`{"key":"a","cmp":"eq","val":"b","extra":1}`, "not a JSON object"},
		{`{"key":"a","cmp":"eq","val":"b"} {}`, "after its object"},
		{`{"key":"a","cmp":"like","val":"b"}`, "is not one of"},
		{`{"cmp":"eq","val":"b"}`, "needs a key"},
		{`{"key":"a","cmp":"eq"}`, "needs val"},
		{`{"key":"a","cmp":"in","val":"x"}`, "needs vals"},
		{`{"key":"a","cmp":"in","vals":[]}`, "needs vals"},
		{`{"key":"a","cmp":"ex","val":"x"}`, "takes no val"},
		{`{"key":"a","cmp":"gt","val":"ten"}`, "numeric val"},
		{`{"op":"xor","nodes":[{"key":"a","cmp":"ex"}]}`, "is not and, or or not"},
		{`{"op":"and","nodes":[]}`, "needs nodes"},
		{`{"op":"not","nodes":[{"key":"a","cmp":"ex"},{"key":"b","cmp":"ex"}]}`, "exactly one"},
		{`{"op":"and","key":"a","nodes":[{"key":"a","cmp":"ex"}]}`, "must have only nodes"},
		{`{"key":"a","cmp":"ex","nodes":[{"key":"a","cmp":"ex"}]}`, "needs an op"},
		{`{"op":"and","nodes":[null]}`, "null"},
		{deep, "nested deeper"},
		{`{"op":"or","nodes":[` + strings.Join(many, ",") + `]}`, "more than"},
		{`{"key":"` + strings.Repeat("k", MaxKeyBytes+1) + `","cmp":"ex"}`, "needs a key"},
		{`{"key":"a","cmp":"eq","val":"` + strings.Repeat("v", MaxValueBytes+1) + `"}`, "over"},
		{strings.Repeat(" ", MaxFilterBytes+1), "over"},
	} {
		_, err := Parse([]byte(c.filter))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%.80s) error = %v, want one containing %q", c.filter, err, c.want)
		}
	}
}

func TestKeyIsCanonical(t *testing.T) {
	a := mustParse(t, `{"key":"s","cmp":"eq","val":"BTC"}`)
	b := mustParse(t, ` { "val" : "BTC", "cmp":"eq", "key":"s" } `)
	c := mustParse(t, `{"key":"s","cmp":"eq","val":"ETH"}`)
	if a.Key() != b.Key() || a.Key() == c.Key() {
		t.Fatalf("keys: %q %q %q", a.Key(), b.Key(), c.Key())
	}
}

func TestParseTags(t *testing.T) {
	if tags, err := ParseTags([]byte(`{"symbol":"BTC"}`)); err != nil || tags["symbol"] != "BTC" {
		t.Fatalf("ParseTags = %v, %v", tags, err)
	}
	for _, bad := range []string{`{"a":1}`, `["a"]`, `{"":"x"}`, `{"a":"` + strings.Repeat("v", MaxValueBytes+1) + `"}`} {
		if _, err := ParseTags([]byte(bad)); err == nil {
			t.Errorf("ParseTags(%.40s) accepted", bad)
		}
	}
	many := map[string]string{}
	for i := range MaxTags + 1 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	b, _ := json.Marshal(many)
	if _, err := ParseTags(b); err == nil {
		t.Error("ParseTags accepted too many tags")
	}
}

// FuzzParse: Parse never panics; what it accepts matches without
// panicking, and its Key parses again to the same Key.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"key":"symbol","cmp":"eq","val":"BTC"}`,
		`{"key":"symbol","cmp":"in","vals":["BTC","ETH"]}`,
		`{"op":"and","nodes":[{"key":"kind","cmp":"eq","val":"trade"},{"key":"price","cmp":"gte","val":"100"}]}`,
		`{"op":"not","nodes":[{"key":"k","cmp":"nex"}]}`,
		`{"op":"or","nodes":[{"key":"a","cmp":"sw","val":""},{"op":"and","nodes":[{"key":"b","cmp":"lt","val":"-1.5e3"}]}]}`,
		`{"key":"a","cmp":"gt","val":"NaN"}`,
	} {
		f.Add([]byte(s), "BTC", "100")
	}
	f.Fuzz(func(t *testing.T, b []byte, v1, v2 string) {
		flt, err := Parse(b)
		if err != nil {
			return
		}
		for _, tags := range []map[string]string{nil, {"symbol": v1, "price": v2, "a": v1, "b": v2, "k": v1, "kind": v2}} {
			flt.Match(tags)
		}
		again, err := Parse([]byte(flt.Key()))
		if err != nil || again.Key() != flt.Key() {
			t.Fatalf("Key %s does not parse back to itself: %v", flt.Key(), err)
		}
	})
}
