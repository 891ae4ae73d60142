package app

import (
	"archive/zip"
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// Data-subject requests through the account API and the admin API, on a
// real server: a restriction refuses sends in the pipeline (rule
// privacy.restricted) until closed; an access request's zip is
// downloadable; an erasure anonymises; bad input gets the API's errors.
func TestPrivacyRequestsAPI(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		const to = "31655501234"
		m := s.send(map[string]any{"originator": "Shop", "recipients": to, "body": "private text"})
		s.waitStatus(m["id"].(string), "delivered")

		r := s.call("POST", "/v1/privacy/requests", map[string]any{"identifier": "+" + to, "kind": "restriction"})
		if r.status != http.StatusCreated || r.json["status"] != "completed" {
			t.Fatalf("restriction: %d %s", r.status, r.raw)
		}
		restriction := r.json["id"].(string)
		refused(t, s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": to, "body": "again"}), "privacy.restricted")
		if r := s.call("POST", "/v1/privacy/requests/"+restriction+"/close", map[string]any{"note": "lifted"}); r.status != 200 || r.json["status"] != "closed" {
			t.Fatalf("close: %d %s", r.status, r.raw)
		}
		if r := s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": to, "body": "again"}); r.status != http.StatusCreated {
			t.Fatalf("send after the restriction was lifted: %d %s", r.status, r.raw)
		}

		r = s.call("POST", "/v1/privacy/requests", map[string]any{"identifier": "+" + to, "kind": "access"})
		if r.status != http.StatusCreated || r.json["export"] != true {
			t.Fatalf("access: %d %s", r.status, r.raw)
		}
		access := r.json["id"].(string)
		ex := s.do("GET", "/v1/privacy/requests/"+access+"/export", s.key, "", nil)
		if ex.status != 200 {
			t.Fatalf("export: %d %s", ex.status, ex.raw)
		}
		zr, err := zip.NewReader(bytes.NewReader(ex.raw), int64(len(ex.raw)))
		if err != nil {
			t.Fatalf("export is not a zip: %v", err)
		}
		var found bool
		for _, f := range zr.File {
			if f.Name == "messages.csv" {
				rc, _ := f.Open()
				var b bytes.Buffer
				b.ReadFrom(rc)
				found = strings.Contains(b.String(), "private text")
			}
		}
		if !found {
			t.Fatal("the export's messages.csv lacks the message")
		}

		r = s.call("POST", "/v1/privacy/requests", map[string]any{"identifier": "+" + to, "kind": "erasure"})
		if r.status != http.StatusCreated || r.json["status"] != "completed" || !strings.Contains(r.json["outcome"].(string), "Kept:") {
			t.Fatalf("erasure: %d %s", r.status, r.raw)
		}
		if g := s.get("/messages/" + m["id"].(string)); strings.Contains(string(g.raw), "private text") || strings.Contains(string(g.raw), to) {
			t.Fatalf("the message after erasure: %s", g.raw)
		}
		if r := s.call("GET", "/v1/privacy/requests/"+access, nil); r.status != 200 || len(r.json["history"].([]any)) != 2 {
			t.Fatalf("request with history: %d %s", r.status, r.raw)
		}
		if r := s.call("GET", "/v1/privacy/requests", nil); r.status != 200 || r.json["count"] != 3.0 {
			t.Fatalf("list: %d %s", r.status, r.raw)
		}

		// Bad input: the API's error format, nothing stored.
		for _, body := range []map[string]any{
			{"identifier": "+" + to, "kind": "forget"},
			{"identifier": "12", "type": "phone", "kind": "access"},
			{"kind": "access"},
			{"identifier": "+" + to, "kind": "rectification", "changes": map[string]any{"nickname": "x"}},
		} {
			r := s.call("POST", "/v1/privacy/requests", body)
			if r.status != http.StatusUnprocessableEntity {
				t.Errorf("%v: %d %s", body, r.status, r.raw)
			}
		}
		if r := s.call("POST", "/v1/privacy/requests/"+access+"/extend", map[string]any{"reason": ""}); r.status != http.StatusUnprocessableEntity {
			t.Errorf("extension without a reason: %d %s", r.status, r.raw)
		}

		// Another account sees none of it.
		_, other, _, _ := s.newAccount("other")
		if r := s.do("GET", "/v1/privacy/requests/"+access, other, "", nil); r.status != 404 {
			t.Fatalf("another account read the request: %d", r.status)
		}

		// The operator sees every request, opens one over every account,
		// and reads and sets the retention schedule.
		if r := s.admin("GET", "/admin/privacy/requests", "", ""); r.status != 200 || r.json["count"] != 3.0 {
			t.Fatalf("admin list: %d %s", r.status, r.raw)
		}
		if r := s.admin("POST", "/admin/privacy/requests", "application/json", `{"identifier":"ann@example.com","kind":"access"}`); r.status != 201 || r.json["accountId"] != nil {
			t.Fatalf("operator request: %d %s", r.status, r.raw)
		}
		if r := s.admin("PUT", "/admin/retention", "application/json", `{"webhooks":7,"traffic":null}`); r.status != 200 ||
			r.json["days"].(map[string]any)["webhooks"] != 7.0 || r.json["days"].(map[string]any)["traffic"] != 183.0 {
			t.Fatalf("set retention: %d %s", r.status, r.raw)
		}
		if r := s.admin("PUT", "/admin/retention", "application/json", `{"forever":7}`); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("unknown kind: %d %s", r.status, r.raw)
		}
		if r := s.admin("POST", "/admin/retention/run", "", ""); r.status != 200 {
			t.Fatalf("run: %d %s", r.status, r.raw)
		}
		if r := s.admin("GET", "/admin/retention/runs", "", ""); r.status != 200 || r.json["count"].(float64) < 1 {
			t.Fatalf("runs: %d %s", r.status, r.raw)
		}
	})
}
