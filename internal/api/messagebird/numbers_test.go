package messagebird

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/metrics"
)

// FuzzNumberParams: any body of POST or PATCH /v1/phone-numbers is read or
// refused with one 4xx problem, never a panic.
func FuzzNumberParams(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/json", `{"number":"31612345671","countryCode":"NL","billingIntervalMonths":1}`},
		{"application/json", `{"number":31612345671,"countryCode":null,"billingIntervalMonths":"12","tags":["a","b"],"inboundUrl":"https://x"}`},
		{"application/json", `{"tags":"a,b","inboundUrl":5}`},
		{"application/x-www-form-urlencoded", `number=%2B31612345671&countryCode=NL&tags[]=a&tags[]=b`},
		{"", `{`},
		{"text/plain", `x`},
	} {
		f.Add(seed.ct, seed.body)
	}
	a := &API{metrics: metrics.New()}
	known := map[string]bool{"number": true, "countryCode": true, "billingIntervalMonths": true, "tags": true, "inboundUrl": true}
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/v1/phone-numbers", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		fields, p := a.numberBody(httptest.NewRecorder(), r, 1<<20, known)
		if (fields == nil) == (p == nil) {
			t.Fatalf("fields %v and problem %v", fields, p)
		}
		if p != nil {
			if p.Status < 400 || p.Status > 499 || len(p.Errors) != 1 {
				t.Fatalf("problem %+v", p)
			}
			return
		}
		number, country, _, p := purchaseParams(fields)
		if p != nil && (p.Status < 400 || p.Status > 499 || len(p.Errors) != 1) || p == nil && (strings.TrimSpace(number) == "" || strings.TrimSpace(country) == "") {
			t.Fatalf("purchase %q %q, problem %+v", number, country, p)
		}
		if u, p := updateParams(fields); p != nil && (p.Status < 400 || p.Status > 499) || p == nil && u.Tags != nil && *u.Tags == nil {
			t.Fatalf("update %+v problem %+v", u, p)
		}
	})
}

// A list parameter comes as the SDKs send it: comma-joined, repeated,
// name[] (Go, Python) and name[N] (PHP's http_build_query), in index order.
func TestListParam(t *testing.T) {
	q := url.Values{"features": {"sms,voice"}, "features[]": {"mms"}, "features[1]": {"b"}, "features[0]": {"a"}, "features[x]": {"no"}, "tags[0]": {"t"}}
	if got := listParam(q, "features"); strings.Join(got, "|") != "sms,voice|mms|a|b" {
		t.Fatalf("features: %q", got)
	}
	if got := featuresOf(url.Values{"features[0]": {"SMS"}, "features[1]": {"voice"}}); strings.Join(got, "|") != "sms|voice" {
		t.Fatalf("featuresOf: %q", got)
	}
}
