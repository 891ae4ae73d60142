package messagebird

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func decodeVerifyText(t *testing.T, ct, query, body string) (map[string]string, []string, int) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/verify?"+query, strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	f, unknown, p := decodeVerify(httptest.NewRecorder(), r, 1<<20)
	if p != nil {
		if p.Status < 400 || p.Status > 499 || len(p.Errors) != 1 {
			t.Fatalf("problem %+v", p)
		}
		return nil, nil, p.Status
	}
	return f, unknown, 0
}

// What each SDK sends reads the same: Go's dataCoding and integers, Node's
// JSON, PHP's query parameters on an empty body.
func TestDecodeVerify(t *testing.T) {
	for _, c := range []struct{ ct, query, body string }{
		{"application/json", "", `{"recipient":"31612345678","originator":"Shop","dataCoding":"unicode","timeout":60,"tokenLength":8}`},
		{"application/json", "", `{"recipient":31612345678,"originator":"Shop","datacoding":"unicode","timeout":"60","tokenLength":"8"}`},
		{"application/json", "recipient=31612345678&originator=Shop&datacoding=unicode&timeout=60&tokenLength=8", ``},
		{"application/x-www-form-urlencoded", "", `recipient=31612345678&originator=Shop&datacoding=unicode&timeout=60&tokenLength=8`},
	} {
		f, _, status := decodeVerifyText(t, c.ct, c.query, c.body)
		if status != 0 {
			t.Fatalf("%+v: %d", c, status)
		}
		req, p := verifyRequest(f)
		if p != nil || req.Recipient != "31612345678" || req.Originator != "Shop" || req.DataCoding != "unicode" ||
			req.Timeout != 60*time.Second || req.TokenLength != 8 {
			t.Fatalf("%+v: %+v %v", c, req, p)
		}
	}
	f, unknown, _ := decodeVerifyText(t, "application/json", "", `{"recipient":"1","shoeSize":43}`)
	if len(unknown) != 1 || unknown[0] != "shoeSize" || f["recipient"] != "1" {
		t.Fatalf("unknown %v, fields %v", unknown, f)
	}
}

func FuzzVerifyRequest(f *testing.F) {
	for _, seed := range []struct{ ct, query, body string }{
		{"application/json", "", `{"recipient":"31612345678","originator":"Shop","template":"Code %token","timeout":30}`},
		{"application/json", "", `{"recipient":31612345678,"type":"email","subject":"x","tokenLength":"10","ip":"203.0.113.1"}`},
		{"application/json", "recipient=1&timeout=x", ``},
		{"application/x-www-form-urlencoded", "", `recipient=%2B316&voice=male&language=nl-nl`},
		{"", "", `{`},
		{"text/plain", "", `x`},
	} {
		f.Add(seed.ct, seed.query, seed.body)
	}
	f.Fuzz(func(t *testing.T, ct, query, body string) {
		r, err := http.NewRequest(http.MethodPost, "http://x/verify", strings.NewReader(body))
		if err != nil {
			return
		}
		r.URL.RawQuery = query
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		fields, _, p := decodeVerify(httptest.NewRecorder(), r, 1<<16)
		if p != nil {
			if p.Status < 400 || p.Status > 499 || len(p.Errors) != 1 {
				t.Fatalf("problem %+v", p)
			}
			return
		}
		req, p := verifyRequest(fields)
		if p != nil {
			if p.Status != 422 || len(p.Errors) != 1 {
				t.Fatalf("problem %+v", p)
			}
			return
		}
		if strings.TrimSpace(req.Recipient) == "" || req.Timeout < 0 || req.TokenLength < 0 {
			t.Fatalf("accepted %+v", req)
		}
	})
}
