package console

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every ledger kind has its word in every language, so that the billing
// page never shows a key.
func TestLedgerKindsTranslated(t *testing.T) {
	for _, lang := range Languages {
		l := newLocale(lang)
		for _, k := range ledgerKinds {
			if w := l.T("ledger.kind." + k); w == "" || w[0] == '[' {
				t.Errorf("%s: ledger kind %q has no word (%q)", lang, k, w)
			}
		}
	}
}

// The reasons omnigate writes in the ledger are shown in the reader's
// language, with their values; free text is shown as it was typed.
func TestLedgerReasonsTranslated(t *testing.T) {
	fr, ar := newLocale("fr"), newLocale("ar")
	for reason, want := range map[string]string{
		"message":                                                 "message",
		"scheduled message cancelled":                             "message programmé annulé",
		"invoice INV-2026-0007":                                   "facture INV-2026-0007",
		"number 3197010000001, 3 month(s)":                        "numéro 3197010000001, 3 mois",
		"number 3197010000001 renewed, 1 month(s)":                "numéro 3197010000001 renouvelé, 1 mois",
		"2 seat(s) added, prorated to 2027-01-01":                 "2 siège(s) ajouté(s), au prorata jusqu’au 2027-01-01",
		"message cancelled: sent on its fallback channel":         "message annulé\u202f: envoyé sur son canal de repli",
		"message; opened whatsapp conversation c1 (marketing NL)": "message\u202f; ouverture de la conversation whatsapp c1 (marketing NL)",
		"wire transfer 42, see ticket":                            "wire transfer 42, see ticket",
		"message; something else":                                 "message; something else",
	} {
		if got := fr.LedgerReason(reason); got != want {
			t.Errorf("fr %q = %q, want %q", reason, got, want)
		}
	}
	if got := ar.LedgerReason("2 seat(s) added, prorated to 2027-01-01"); got != "أُضيف ٢ مقعد، بالتناسب حتى ٢٠٢٧-٠١-٠١" {
		t.Errorf("ar seats: %q", got)
	}
	// Every reason the store writes has its words: the literal reasons of
	// ledger entries and refunds in the SQL store.
	files, _ := filepath.Glob("../store/sqlstore/*.go")
	entry := regexp.MustCompile(`(?s)LedgerEntry\{[^}]*?Reason: "([^"]+)"`)
	refund := regexp.MustCompile(`s\.refund\(ctx, tx, [^,]+, [^,]+, [^,]+, "([^"]+)"`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []*regexp.Regexp{entry, refund} {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				seen++
				if strings.HasSuffix(m[1], " ") { // a prefix: "invoice " + its number
					if fr.LedgerReason(m[1]+"X-1") == m[1]+"X-1" {
						t.Errorf("%s: ledger reasons starting %q have no words", f, m[1])
					}
					continue
				}
				if _, ok := ledgerReasons[m[1]]; !ok {
					t.Errorf("%s: ledger reason %q has no words", f, m[1])
				}
			}
		}
	}
	if seen < 8 {
		t.Errorf("found %d ledger reasons in the store's code; the pattern is stale", seen)
	}
}
