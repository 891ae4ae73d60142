package messagebird

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/api/rest"
)

func decode(t testing.TB, contentType, body string) (*createRequest, *rest.Problem) {
	r := httptest.NewRequest("POST", "/messages", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return decodeCreate(httptest.NewRecorder(), r, 1<<20)
}

func TestDecodeVariants(t *testing.T) {
	for _, tc := range []struct {
		name, ct, body string
		recipients     string
	}{
		{"json array of strings", "application/json", `{"recipients":["31612345678","31612345679"]}`, "31612345678|31612345679"},
		{"json array of numbers", "application/json", `{"recipients":[31612345678,31612345679]}`, "31612345678|31612345679"},
		{"json comma string", "application/json", `{"recipients":"31612345678, 31612345679"}`, "31612345678|31612345679"},
		{"json single number", "application/json", `{"recipients":31612345678}`, "31612345678"},
		{"json null", "application/json", `{"recipients":null}`, ""},
		{"no content type, json", "", `{"recipients":["1"]}`, "1"},
		{"no content type, form", "", `recipients=1,2`, "1|2"},
		{"form brackets", "application/x-www-form-urlencoded", `recipients[]=1&recipients[]=2`, "1|2"},
		{"form repeated", "application/x-www-form-urlencoded", `recipients=1&recipients=2,3`, "1|2|3"},
	} {
		req, p := decode(t, tc.ct, tc.body)
		if p != nil {
			t.Errorf("%s: %v", tc.name, p)
			continue
		}
		if got := strings.Join(req.Recipients, "|"); got != tc.recipients {
			t.Errorf("%s: recipients %q, want %q", tc.name, got, tc.recipients)
		}
	}
	req, p := decode(t, "application/json", `{"validity":"60","gateway":2,"mclass":null,"typeDetails":[],"reference":12}`)
	if p != nil || *req.Validity != 60 || *req.Gateway != 2 || req.MClass != nil || req.TypeDetails != nil || req.Reference != "12" {
		t.Fatalf("lenient scalars: %+v %v", req, p)
	}
	for body, want := range map[string]bool{`{"urgent":true}`: true, `{"urgent":"true"}`: true, `{"urgent":false}`: false, `{"urgent":null}`: false} {
		if req, p := decode(t, "application/json", body); p != nil || req.Urgent != want {
			t.Fatalf("%s: urgent %v, %v", body, req, p)
		}
	}
	if _, p := decode(t, "application/json", `{"urgent":"soon"}`); p == nil {
		t.Fatal(`urgent "soon" was accepted`)
	}
	req, p = decode(t, "application/json", `{"purpose":"marketing","categories":["alcohol","adult"]}`)
	if p != nil || req.Purpose != "marketing" || strings.Join(req.Categories, ",") != "alcohol,adult" {
		t.Fatalf("purpose and categories: %+v %v", req, p)
	}
	form := url.Values{"typeDetails[udh]": {"0500"}, "validity": {"30"}}
	req, p = decode(t, "application/x-www-form-urlencoded", form.Encode())
	if p != nil || req.TypeDetails["udh"] != "0500" || *req.Validity != 30 {
		t.Fatalf("form typeDetails: %+v %v", req, p)
	}
}

func TestDecodeTooLarge(t *testing.T) {
	r := httptest.NewRequest("POST", "/messages", strings.NewReader(strings.Repeat("a", 2048)))
	r.Header.Set("Content-Type", "application/json")
	_, p := decodeCreate(httptest.NewRecorder(), r, 1024)
	if p == nil || p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %v", p)
	}
}

func TestValidOriginator(t *testing.T) {
	for _, ok := range []string{"Acme", "Acme Shop", "31612345678", "+31612345678", "1234", "ABCDEFGHIJK", "A.B-C_D&E'F"} {
		if p := validOriginator(ok); p != nil {
			t.Errorf("%q rejected: %v", ok, p)
		}
	}
	for _, bad := range []string{"ABCDEFGHIJKL", "12345678901234567", "Shop<script>", "Café", "a\nb"} {
		if p := validOriginator(bad); p == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzCreateRequest feeds arbitrary bodies to the request decoder and the
// validation behind it: any input gets a request or a problem, never a panic.
func FuzzCreateRequest(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/json", `{"originator":"Acme","recipients":["31612345678"],"body":"hi"}`},
		{"application/json", `{"originator":123,"recipients":[31612345678,"x"],"body":"مرحبا","typeDetails":{"udh":"0500"},"validity":"9"}`},
		{"application/json", `{"recipients":"1,2,,3","scheduledDatetime":"2026-01-01T00:00:00Z","type":"binary","body":"zz"}`},
		{"application/json", `{"typeDetails":[],"groupIds":null,"direction":"mt","mclass":0}`},
		{"application/x-www-form-urlencoded", `originator=A&recipients[]=1&typeDetails[udh]=05&body=%F0%9F%98%80`},
		{"", `{`},
		{"text/plain", `x`},
	} {
		f.Add(seed.ct, seed.body)
	}
	f.Fuzz(func(t *testing.T, ct, body string) {
		req, p := decode(t, ct, body)
		if (req == nil) == (p == nil) {
			t.Fatalf("decoder returned request %v and problem %v", req, p)
		}
		if p != nil {
			if p.Status < 400 || p.Status > 499 || len(p.Errors) != 1 {
				t.Fatalf("problem %+v", p)
			}
			return
		}
		m, p := buildMessage(req, "acct", false)
		if p != nil {
			if p.Status != 422 {
				t.Fatalf("validation problem with status %d", p.Status)
			}
			return
		}
		if len(m.Recipients) == 0 || len(m.Recipients) > maxRecipients || m.Originator == "" || m.Body == "" {
			t.Fatalf("accepted an invalid message: %+v", m)
		}
		if rest.TextFault(m.Body, true) != "" || rest.TextFault(m.Originator, false) != "" || rest.TextFault(m.Reference, false) != "" ||
			rest.TextFault(m.ReportURL, false) != "" || rest.TextFault(m.Purpose, false) != "" {
			t.Fatalf("accepted text that is not valid text: %+v", m)
		}
		for _, c := range m.Categories {
			if rest.TextFault(c, false) != "" {
				t.Fatalf("accepted a category that is not valid text: %q", c)
			}
		}
	})
}

func TestDecodeRefusesInvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		name, ct, body, param string
	}{
		{"JSON body with a Latin-1 byte", "application/json", "{\"recipients\":[\"31612345678\"],\"body\":\"caf\xe9\"}", "body"},
		{"JSON body with a truncated sequence", "application/json", "{\"body\":\"\xe2\x82\"}", "body"},
		{"JSON body with a lone high surrogate", "application/json", `{"body":"a\ud83d b"}`, "body"},
		{"JSON body with a lone low surrogate", "application/json", `{"body":"\ude00"}`, "body"},
		{"JSON body with a surrogate at the end", "application/json", `{"body":"\ud83d"}`, "body"},
		{"JSON originator", "application/json", "{\"originator\":\"Caf\xe9\"}", "originator"},
		{"JSON reference", "application/json", "{\"reference\":\"r\xff\"}", "reference"},
		{"JSON recipients", "application/json", "{\"recipients\":[\"3161234567\xff\"]}", "recipients"},
		{"form body", "application/x-www-form-urlencoded", "recipients=31612345678&body=caf%E9", "body"},
		{"form originator", "application/x-www-form-urlencoded", "originator=%C3", "originator"},
		{"form reference, raw byte", "application/x-www-form-urlencoded", "reference=r\xff", "reference"},
		{"form body, sniffed", "", "body=%FF%FE", "body"},
	} {
		_, p := decode(t, tc.ct, tc.body)
		if p == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if p.Status != 422 || p.Errors[0].Code != rest.CodeInvalidParams || p.Errors[0].Parameter == nil || *p.Errors[0].Parameter != tc.param {
			t.Errorf("%s: %d %+v, want 422 code 10 parameter %s", tc.name, p.Status, p.Errors[0], tc.param)
		}
	}
	// Valid text in every form still passes: escapes, pairs, raw UTF-8.
	for _, body := range []string{`{"body":"\ud83d\ude00 \u00e9 \\ud800 \"q\""}`, `{"body":"😀 é € مرحبا"}`, `{"body":"\u20ac"}`} {
		req, p := decode(t, "application/json", body)
		if p != nil || !utf8.ValidString(req.Body) || strings.ContainsRune(req.Body, utf8.RuneError) {
			t.Errorf("%s: %+v %v", body, req, p)
		}
	}
	if req, p := decode(t, "application/x-www-form-urlencoded", "body=%F0%9F%98%80"); p != nil || req.Body != "😀" {
		t.Errorf("form emoji: %+v %v", req, p)
	}
}

func TestDecodeIgnoresUnknownParameters(t *testing.T) {
	req, p := decode(t, "application/json", `{"originator":"Acme","recipients":["31612345678"],"body":"hi","colour":"red","options":{"a":[1,2]},"legacyFlag":null}`)
	if p != nil || req.Body != "hi" {
		t.Fatalf("unknown JSON fields: %+v %v", req, p)
	}
	if got := strings.Join(sorted(req.Unknown), ","); got != "colour,legacyFlag,options" {
		t.Fatalf("unknown %q", got)
	}
	req, p = decode(t, "application/x-www-form-urlencoded", "originator=Acme&recipients=31612345678&body=hi&colour=red&extra[a]=1&extra[b]=2")
	if p != nil || req.Body != "hi" {
		t.Fatalf("unknown form fields: %+v %v", req, p)
	}
	if got := strings.Join(sorted(req.Unknown), ","); got != "colour,extra,extra" {
		t.Fatalf("unknown %q", got)
	}
	// Known parameters with malformed values are still refused.
	for _, tc := range []struct{ ct, body, param string }{
		{"application/json", `{"colour":"red","validity":"soon"}`, "validity"},
		{"application/json", `{"colour":"red","recipients":{"a":1}}`, "recipients"},
		{"application/x-www-form-urlencoded", "colour=red&mclass=high", "mclass"},
		{"application/x-www-form-urlencoded", "colour=red&typeDetails=x", "typeDetails"},
	} {
		if _, p := decode(t, tc.ct, tc.body); p == nil || p.Status != 422 || *p.Errors[0].Parameter != tc.param {
			t.Errorf("%s: %+v, want 422 naming %s", tc.body, p, tc.param)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}
