package app

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"
)

// waitImport polls an import until it has ended and returns it.
func (s *server) waitImport(get func() response) map[string]any {
	s.t.Helper()
	return s.waitImportFor(20*time.Second, get)
}

// waitImportFor is waitImport for a large import (built with -race, one
// of 100,000 rows takes tens of seconds).
func (s *server) waitImportFor(limit time.Duration, get func() response) map[string]any {
	s.t.Helper()
	var m map[string]any
	waitFor(s.t, "the import to end", limit, func() bool {
		r := get()
		if r.status != 200 {
			s.t.Fatalf("GET import = %d %s", r.status, r.raw)
		}
		m = r.json
		return m["state"] != "running"
	})
	return m
}

// Import jobs through the APIs: an operator's registry import and an
// account's consent import answer 202 with an id whose state, rows and
// errors GET reads; a bad file ends failed, every bad row by line, nothing
// imported; the synchronous POST /admin/dnd/{registry} is an import too.
func TestImportJobs(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		var file strings.Builder
		file.WriteString("number,listed\n")
		for i := range 6000 {
			fmt.Fprintf(&file, "91%010d,2025-01-15\n", 7000000000+i)
		}
		r := s.admin("POST", "/admin/imports/dnd/IN-NCPR?scope=marketing", "text/csv", file.String())
		id, _ := r.json["id"].(string)
		if r.status != 202 || id == "" || r.json["kind"] != "dnd" {
			t.Fatalf("registry import: %d %s", r.status, r.raw)
		}
		im := s.waitImport(func() response { return s.admin("GET", "/admin/imports/"+id, "", "") })
		if im["state"] != "done" || im["imported"] != 6000.0 || im["rowsRead"] != 6001.0 || im["size"] != float64(file.Len()) {
			t.Fatalf("registry import at its end: %v", im)
		}
		s.call("POST", "/consents", map[string]any{"recipient": "917000000005", "purpose": "marketing", "action": "opt_in"})
		refused(t, s.postJSON(s.key, marketing("917000000005", "Diwali offers")), "dnd")

		r = s.admin("POST", "/admin/imports/dnd/IN-NCPR?replace=true", "text/csv", "9170\n12x4\n9171,yesterday\n")
		bad := s.waitImport(func() response { return s.admin("GET", "/admin/imports/"+r.json["id"].(string), "", "") })
		if errs, _ := bad["errors"].([]any); bad["state"] != "failed" || bad["errorCount"] != 2.0 || len(errs) != 2 || !strings.HasPrefix(errs[0].(string), "line 2: ") {
			t.Fatalf("bad registry file: %v", bad)
		}
		refused(t, s.postJSON(s.key, marketing("917000000005", "Diwali offers")), "dnd") // unchanged
		if r := s.admin("GET", "/admin/imports", "", ""); r.status != 200 || len(r.json["items"].([]any)) != 2 {
			t.Fatalf("list: %d %s", r.status, r.raw)
		}
		if r := s.admin("GET", "/admin/imports/nope", "", ""); r.status != 404 {
			t.Fatalf("no such import: %d %s", r.status, r.raw)
		}
		// The synchronous route answers at the end, with its import.
		r = s.admin("POST", "/admin/dnd/NL?scope=all", "text/csv", "3120\n3130\n")
		if r.status != 200 || r.json["imported"] != 2.0 || s.admin("GET", "/admin/imports/"+r.json["import"].(string), "", "").json["state"] != "done" {
			t.Fatalf("synchronous import: %d %s", r.status, r.raw)
		}
		// Prefixes of a length no registry held before are screened for.
		if got, err := s.app.store.DNDListed(context.Background(), []string{"31201234567", "31401234567"}); err != nil || !maps.Equal(got, map[string]string{"31201234567": "NL"}) {
			t.Fatalf("after importing prefixes: %v %v", got, err)
		}

		// An account's consent import.
		r = s.do("POST", "/consents/imports", s.key, "text/csv", []byte("recipient,purpose,action\n31612345678,marketing,opt_in\n31612345679,marketing,opt_in\n"))
		if r.status != 202 || r.json["kind"] != "consents" || r.header.Get("Location") != "/imports/"+r.json["id"].(string) {
			t.Fatalf("consent import: %d %s", r.status, r.raw)
		}
		cid := r.json["id"].(string)
		if c := s.waitImport(func() response { return s.get("/imports/" + cid) }); c["state"] != "done" || c["imported"] != 2.0 {
			t.Fatalf("consent import at its end: %v", c)
		}
		if r := s.admin("GET", "/admin/imports/"+cid, "", ""); r.status != 404 {
			t.Fatalf("an account's import among the operator's: %d %s", r.status, r.raw)
		}
		if r := s.admin("GET", "/admin/imports/"+id, "", ""); r.status != 200 || s.get("/imports/"+id).status != 404 {
			t.Fatalf("the operator's import seen by an account: %d %s", r.status, r.raw)
		}
		r = s.do("POST", "/suppressions/imports", s.key, "text/csv", []byte("channel,recipient\nsms,nope\n"))
		sup := s.waitImport(func() response { return s.get("/imports/" + r.json["id"].(string)) })
		if sup["state"] != "failed" || sup["errorCount"] != 1.0 {
			t.Fatalf("bad suppression import: %v", sup)
		}
		// A suppression file larger than the synchronous door takes
		// (100,000 rows) streams through the job (push device ids: the
		// rows cheapest to check).
		var big strings.Builder
		big.WriteString("channel,recipient,reason\n")
		const rows = 100001
		for i := range rows {
			fmt.Fprintf(&big, "push,device-%d,unsubscribe\n", i)
		}
		if r := s.do("POST", "/suppressions/import", s.key, "text/csv", []byte(big.String())); r.status != 413 && r.status != 422 {
			t.Fatalf("the synchronous door took %d rows: %d %s", rows, r.status, r.raw)
		}
		r = s.do("POST", "/suppressions/imports", s.key, "text/csv", []byte(big.String()))
		if r.status != 202 {
			t.Fatalf("a large suppression import: %d %s", r.status, r.raw)
		}
		sup = s.waitImportFor(3*time.Minute, func() response { return s.get("/imports/" + r.json["id"].(string)) })
		if sup["state"] != "done" || sup["imported"] != float64(rows) || sup["rowsRead"] != float64(rows) {
			t.Fatalf("a large suppression import at its end: %v", sup)
		}
		if why, err := s.app.store.Suppressed(context.Background(), s.accountID, "push", []string{"device-100000", "device-100001"}); err != nil ||
			!maps.Equal(why, map[string]string{"device-100000": "unsubscribe"}) {
			t.Fatalf("suppressed after the import: %v %v", why, err)
		}
		if r := s.get("/imports"); r.status != 200 || len(r.json["items"].([]any)) != 3 {
			t.Fatalf("the account's imports: %d %s", r.status, r.raw)
		}
	})
}
