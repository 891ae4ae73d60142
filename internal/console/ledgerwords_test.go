package console

import "testing"

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
