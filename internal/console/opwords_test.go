package console

import (
	"testing"

	"github.com/omnigate/omnigate/internal/store"
)

// The operator pages' dynamic keys (a review's, a case's, an import's
// state) are in every catalogue.
func TestOperatorDynamicKeys(t *testing.T) {
	var keys []string
	for _, s := range reviewStatuses {
		keys = append(keys, "review."+s)
	}
	for _, s := range append(caseStatuses, "all") {
		keys = append(keys, "case."+s)
	}
	for _, s := range []string{store.ImportRunning, store.ImportDone, store.ImportFailed} {
		keys = append(keys, "import."+s)
	}
	for _, lang := range Languages {
		for _, k := range keys {
			if _, ok := catalogues[lang][k]; !ok {
				t.Errorf("%s: no %q", lang, k)
			}
		}
	}
}
