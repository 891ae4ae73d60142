package console

import (
	"os"
	"regexp"
	"testing"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/store"
)

// The webhook, consent and case pages build keys from values (kinds,
// outcomes, reasons, states): every value they can meet has its key, and
// the literal keys of their Go code exist.
func TestAccountPagesKeys(t *testing.T) {
	var keys []string
	add := func(prefix string, values ...string) {
		for _, v := range values {
			keys = append(keys, prefix+v)
		}
	}
	add("webhooks.kind_", attemptKinds...)
	add("webhooks.outcome_", attemptOutcomes...)
	add("timeline.call_", attemptKinds...)
	for _, st := range []string{"scheduled", "sent", "buffered", "delivered", "expired", "delivery_failed", "anything"} {
		keys = append(keys, "timeline.receipt_"+receiptKey(st))
	}
	add("consents.channel_", suppressionChannels()...)
	add("consents.reason_", store.SuppressionReasons...)
	add("consents.reason_", compliance.AddableReasons...)
	add("consents.purpose_", compliance.Marketing, compliance.Transactional)
	add("consents.action_", store.OptIn, store.OptOut)
	add("import.kind_", store.ImportConsents, store.ImportSuppressions)
	add("import.state_", store.ImportRunning, store.ImportDone, store.ImportFailed)
	add("cases.status_", store.CaseOpen, store.CaseAnswered, store.CaseExpired, store.CaseClosed)
	for ch := range compliance.SuppressionChannels {
		keys = append(keys, "consents.channel_"+ch)
	}
	for _, k := range keys {
		for _, lang := range Languages {
			if _, ok := catalogues[lang][k]; !ok {
				t.Errorf("%s: dynamic key %q is missing", lang, k)
			}
		}
	}
	literal := regexp.MustCompile(`(audit\()?"((?:error|title|nav|webhooks|consents|import|cases)\.[a-z_]+)"`)
	for _, f := range []string{"webhooks.go", "consents.go", "cases.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			if m[1] != "" {
				continue // an audit event's name
			}
			if _, ok := catalogues["en"][m[2]]; !ok {
				t.Errorf("%s: key %q is in no catalogue", f, m[2])
			}
		}
	}
}
