package app

import (
	"strings"
	"testing"
	"time"
)

// TestStatusTimeNotBeforeCreation sends through the demo SMSC, whose
// receipts carry a minute-precision done date (as SMSCs' do): the delivered
// recipient's statusDatetime must not come before the message's
// createdDatetime or its sent status.
func TestStatusTimeNotBeforeCreation(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		var m map[string]any
		for {
			m = s.send(map[string]any{"originator": "omnigate", "recipients": []string{"31612345678"}, "body": "Hello"})
			// At second :00 a done date truncated to the minute is no
			// earlier than the creation: try again to test something.
			if !strings.HasSuffix(m["createdDatetime"].(string), ":00+00:00") {
				break
			}
		}
		parse := func(v any) time.Time {
			t.Helper()
			at, err := time.Parse(time.RFC3339, v.(string))
			if err != nil {
				t.Fatalf("time %v: %v", v, err)
			}
			return at
		}
		created, sent := parse(m["createdDatetime"]), parse(items(m)[0]["statusDatetime"])
		done := s.waitStatus(m["id"].(string), "delivered")
		delivered := parse(items(done)[0]["statusDatetime"])
		if delivered.Before(created) || delivered.Before(sent) {
			t.Fatalf("delivered at %s, before the creation %s or the sent status %s", delivered, created, sent)
		}
		if delivered.After(time.Now().Add(time.Minute)) {
			t.Fatalf("delivered at %s, in the future", delivered)
		}
	})
}
