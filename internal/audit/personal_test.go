package audit_test

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/store"
)

// A person's identifiers never enter the append-only log: in Before,
// After and the object's path they are pseudonyms under the account's key
// (the same number, the same pseudonym; secrets still masked), the chain
// verifies, and once the account is shredded its key, and so the link
// from a number to its pseudonym, is gone. Without keys they are recorded
// as "[personal]".
func TestPersonalDataPseudonymised(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		st := nodes(t, engine, 1)[0]
		m, err := keyring.GenerateMasterFile(filepath.Join(t.TempDir(), "master.key"))
		if err != nil {
			t.Fatal(err)
		}
		kr, err := keyring.Open(ctx, st, m)
		if err != nil {
			t.Fatal(err)
		}
		st.UseKeyring(kr)
		log := audit.NewLog(st, nil)
		log.UseKeys(st.AuditKey)
		const acct = "acct-1"
		body := json.RawMessage(`{"recipient":"+31612345678","recipients":["31612345678","Ann@Example.com"],"msisdn":31612345678,
			"phone_number":"31611111111,31622222222","reason":"asked by phone","api_key":"sk-123","purpose":"marketing"}`)
		for _, c := range []audit.Change{
			{Actor: audit.Key("k1"), Account: acct, Action: "POST /suppressions", Object: "/suppressions", After: body},
			{Actor: audit.Key("k1"), Account: acct, Action: "DELETE /suppressions/{recipient}", Object: "/suppressions/%2B31612345678"},
			{Actor: audit.Key("k1"), Account: acct, Action: "PUT /realtime/apps/{id}", Object: "/realtime/apps/31612345678", After: map[string]any{"name": "x"}},
			{Actor: audit.Operator("ops"), Action: "POST /admin/privacy/requests", Object: "/admin/privacy/requests/ann@example.com", After: map[string]string{"identifier": "ann@example.com"}},
		} {
			if err := log.Record(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := st.AuditChain(ctx, 0, 10)
		if err != nil || len(rows) != 4 {
			t.Fatalf("%d rows, %v", len(rows), err)
		}
		all := ""
		if rows[2].Object != "/realtime/apps/31612345678" {
			t.Fatalf("a numeric id in a path became %q", rows[2].Object)
		}
		rows = append(rows[:2], rows[3])
		for _, r := range rows {
			all += r.Object + " " + r.Before + " " + r.After + "\n"
		}
		for _, clear := range []string{"3161", "Ann@", "ann@", "sk-123"} {
			if strings.Contains(all, clear) {
				t.Fatalf("the log holds %q:\n%s", clear, all)
			}
		}
		p := audit.Pseudonym(st.AuditKey(ctx, acct), "31612345678")
		if !strings.HasPrefix(p, audit.PseudonymPrefix) || strings.Count(all, p) != 4 {
			t.Fatalf("pseudonym %s appears %d times, want 4 (recipient, recipients, msisdn, path):\n%s", p, strings.Count(all, p), all)
		}
		if !strings.Contains(rows[0].After, `"asked by phone"`) || !strings.Contains(rows[0].After, `"marketing"`) ||
			!strings.Contains(rows[0].After, audit.Masked) || strings.Count(rows[0].After, ","+audit.PseudonymPrefix) != 1 {
			t.Fatalf("after: %s", rows[0].After)
		}
		// The platform's entries use the platform's key.
		if pp := audit.Pseudonym(st.AuditKey(ctx, ""), "ann@example.com"); !strings.Contains(rows[2].After, pp) || !strings.HasSuffix(rows[2].Object, pp) {
			t.Fatalf("platform entry %s %s; want %s", rows[2].Object, rows[2].After, pp)
		}
		if _, err := log.Verify(ctx); err != nil {
			t.Fatal(err)
		}
		// Shredding: the account's key is gone; a key made later gives
		// other pseudonyms, so the rows link to nobody.
		if _, err := st.ShredAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
		if again := audit.Pseudonym(st.AuditKey(ctx, acct), "31612345678"); again == p {
			t.Fatal("after shredding, the number's pseudonym can be computed again")
		}
		if _, err := log.Verify(ctx); err != nil {
			t.Fatal(err)
		}
		// No keys: "[personal]".
		bare := audit.NewLog(st, nil)
		bare.UseKeys(func(context.Context, string) []byte { return nil })
		if err := bare.Record(ctx, audit.Change{Actor: audit.Key("k1"), Account: acct, Action: "POST /consents", Object: "/consents",
			After: map[string]any{"recipient": "31612345678"}}); err != nil {
			t.Fatal(err)
		}
		last, _ := st.AuditEntries(ctx, store.AuditFilter{Limit: 1})
		if len(last) != 1 || last[0].After != `{"recipient":"`+audit.Personal+`"}` {
			t.Fatalf("without keys: %+v", last)
		}
	})
}

// Whatever comes in, the log's Before/After stay JSON with no personal
// field's value in clear, and a path keeps its segments, the one the
// route names {recipient} a pseudonym.
func FuzzPseudonymised(f *testing.F) {
	for _, s := range []string{`{"recipient":"31612345678"}`, `{"recipients":["316",31612345678,{"msisdn":"1"}]}`, `{"to":"a@b.c,d@e.f"}`,
		`[{"identifier":null}]`, `{`, ``, `{"email":{"secret":"x","x":"y"}}`} {
		f.Add([]byte(s), "/suppressions/31612345678")
	}
	f.Add([]byte(`{}`), "/suppressions/b@c.d")
	key := []byte("0123456789abcdef0123456789abcdef")
	f.Fuzz(func(t *testing.T, in []byte, path string) {
		out, err := audit.PseudonymisedJSON(in, key)
		if err != nil {
			t.Fatal(err)
		}
		if out != "" && !json.Valid([]byte(out)) {
			t.Fatalf("not JSON: %q", out)
		}
		var tree any
		if json.Unmarshal([]byte(out), &tree) == nil {
			checkPersonal(t, tree)
		}
		p := audit.PseudonymousPath("DELETE /suppressions/{recipient}", path, key)
		if strings.Count(p, "/") != strings.Count(path, "/") {
			t.Fatalf("path %q became %q", path, p)
		}
		if segs := strings.Split(p, "/"); len(segs) == 3 && segs[2] != "" && !strings.HasPrefix(segs[2], audit.PseudonymPrefix) &&
			strings.TrimPrefix(strings.TrimSpace(segs[2]), "+") != "" {
			if u, err := url.PathUnescape(strings.Split(path, "/")[2]); err == nil {
				t.Fatalf("the recipient %q survives in %q", u, p)
			}
		}
	})
}

// checkPersonal fails if a personal field holds anything but pseudonyms.
func checkPersonal(t *testing.T, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			if audit.IsPersonal(k) && !audit.IsSecret(k) {
				pseudonymsOnly(t, k, y)
				continue
			}
			checkPersonal(t, y)
		}
	case []any:
		for _, y := range x {
			checkPersonal(t, y)
		}
	}
}

func pseudonymsOnly(t *testing.T, field string, v any) {
	t.Helper()
	switch x := v.(type) {
	case string:
		for _, p := range strings.Split(x, ",") {
			if strings.TrimPrefix(strings.TrimSpace(p), "+") != "" && !strings.HasPrefix(p, audit.PseudonymPrefix) {
				t.Fatalf("field %s holds %q", field, x)
			}
		}
	case []any:
		for _, y := range x {
			pseudonymsOnly(t, field, y)
		}
	case map[string]any:
		for k, y := range x {
			if !audit.IsSecret(k) {
				pseudonymsOnly(t, field+"."+k, y)
			}
		}
	case float64:
		t.Fatalf("field %s holds the number %v", field, x)
	}
}
