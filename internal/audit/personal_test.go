package audit_test

import (
	"context"
	"encoding/json"
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
			{Actor: audit.Operator("ops"), Action: "POST /admin/privacy/requests", Object: "/admin/privacy/requests/ann@example.com", After: map[string]string{"identifier": "ann@example.com"}},
		} {
			if err := log.Record(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := st.AuditChain(ctx, 0, 10)
		if err != nil || len(rows) != 3 {
			t.Fatalf("%d rows, %v", len(rows), err)
		}
		all := ""
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
