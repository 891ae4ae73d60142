package messagebird

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
)

// The contact and group bodies, in any encoding the SDKs use: a problem in
// the 4xx range or parameters, never a crash, and a contact built from
// them has a number in international digits and bounded fields.
func FuzzContactParams(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/json", `{"msisdn":"31612345678","firstName":"Ann","custom1":"x"}`},
		{"application/json", `{"msisdn":31612345678,"lastName":null,"customDetails":{"custom2":"y","custom3":null},"groups":{"totalCount":1}}`},
		{"application/json", `{"ids":["a","b"],"groupId":"g"}`},
		{"application/x-www-form-urlencoded", `ids[]=a&ids[]=b&customDetails[custom4]=z&msisdn=%2B31612345678`},
		{"", `{}`},
		{"", `{"customDetails":{"customDetails":{}}}`},
		{"text/plain", `x`},
	} {
		f.Add(seed.ct, seed.body)
	}
	a := &API{metrics: metrics.New()}
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("PUT", "/groups/x/contacts", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		p, pr := readParams(httptest.NewRecorder(), r, 1<<20)
		if (p == nil) == (pr == nil) {
			t.Fatalf("params %v and problem %v", p, pr)
		}
		if pr != nil {
			if pr.Status < 400 || pr.Status > 499 || len(pr.Errors) != 1 {
				t.Fatalf("problem %+v", pr)
			}
			return
		}
		c := &store.Contact{}
		if pr := a.applyContact(c, p); pr != nil {
			if pr.Status != 422 {
				t.Fatalf("validation problem %+v", pr)
			}
			return
		}
		if p.has("msisdn") && (c.MSISDN == "" || strings.Trim(c.MSISDN, "0123456789") != "") {
			t.Fatalf("msisdn %q", c.MSISDN)
		}
		a.groupName(p)
	})
}
