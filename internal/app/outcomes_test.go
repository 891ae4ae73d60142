package app

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A request is decided per recipient: a suppressed recipient among others
// ends at once, failed with the rule as its reason and code, uncharged and
// reported; the others are charged and sent. Only a request whose every
// recipient is refused is an error, answered as before.
func TestPerRecipientOutcomes(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		var key string
		sink := newReportSink(t, &key, 0)
		s := complianceServer(t, engine)
		key = s.signingKey
		const blocked, ok1, ok2 = "31612345670", "31612345671", "31612345672"
		if r := s.call("POST", "/suppressions", map[string]any{"recipient": "+" + blocked}); r.status != 201 {
			t.Fatalf("suppressing: %d %s", r.status, r.raw)
		}
		before := balanceOf(t, s, s.key)
		r := s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": []string{ok1, blocked, ok2}, "body": "your order shipped",
			"reportUrl": sink.srv.URL + "/dlr"})
		if r.status != http.StatusCreated {
			t.Fatalf("a request with one refused recipient: %d %s", r.status, r.raw)
		}
		id := r.json["id"].(string)
		if c := r.json["recipients"].(map[string]any); c["totalCount"] != 3.0 || c["totalDeliveryFailedCount"] != 1.0 {
			t.Fatalf("counts %v", c)
		}
		if !strings.Contains(r.json["compliance"].(string), "1 of 3 recipients refused") {
			t.Fatalf("compliance %q", r.json["compliance"])
		}
		for _, it := range items(r.json) {
			price := it["price"].(map[string]any)["amount"]
			if it["recipient"].(float64) == 31612345670 {
				if it["status"] != "delivery_failed" || it["statusErrorCode"] != 4103.0 || price != 0.0 ||
					!strings.HasPrefix(it["statusReason"].(string), "refused by compliance rule suppression:") || it["statusDatetime"] == nil {
					t.Fatalf("refused recipient %v", it)
				}
				continue
			}
			if it["status"] != "sent" || price != 0.05 {
				t.Fatalf("allowed recipient %v", it)
			}
		}
		if after := balanceOf(t, s, s.key); after != before-0.1 {
			t.Fatalf("balance %v → %v, want two recipients charged (0.1)", before, after)
		}
		// The two others are delivered; the refused one stays failed and
		// its report went out like any failure's.
		var m map[string]any
		waitFor(t, "two delivered", 20*time.Second, func() bool {
			m = s.get("/messages/" + id).json
			return m["recipients"].(map[string]any)["totalDeliveredCount"] == 2.0
		})
		got := map[float64]any{}
		for _, it := range items(m) {
			got[it["recipient"].(float64)] = it["status"]
		}
		if got[31612345670] != "delivery_failed" || got[31612345671] != "delivered" || got[31612345672] != "delivered" {
			t.Fatalf("statuses %v", got)
		}
		waitFor(t, "three reports", 10*time.Second, func() bool { return len(sink.reports()) >= 3 })
		var failed int
		for _, q := range sink.reports() {
			if q.Get("recipient") == blocked {
				failed++
				if q.Get("status") != "delivery_failed" || q.Get("statusErrorCode") != "4103" || !strings.Contains(q.Get("statusReason"), "suppression") {
					t.Fatalf("report of the refused recipient %v", q)
				}
			}
		}
		if failed != 1 {
			t.Fatalf("%d reports for the refused recipient, want 1", failed)
		}
		// Every refusal is a decision on record.
		d := s.get("/compliance/decisions?recipient=" + blocked)
		if d.status != 200 || !strings.Contains(string(d.raw), `"rule":"suppression"`) {
			t.Fatalf("decisions: %d %s", d.status, d.raw)
		}
		// Every recipient refused: the request is refused, as it always was.
		refused(t, s.postJSON(s.key, map[string]any{"originator": "Shop", "recipients": []string{blocked}, "body": "x"}), "suppression")
	})
}

// Cancelling a scheduled message gives back what it was charged.
func TestCancelRefunds(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := billingServer(t, engine)
		before := balanceOf(t, s, s.key)
		m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678,31612345679", "body": strings.Repeat("x", 200),
			"scheduledDatetime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		if b := balanceOf(t, s, s.key); b != before-0.2 {
			t.Fatalf("balance after scheduling %v, want %v", b, before-0.2)
		}
		if r := s.do("DELETE", "/messages/"+m["id"].(string), s.key, "", nil); r.status != http.StatusNoContent {
			t.Fatalf("cancel: %d %s", r.status, r.raw)
		}
		if b := balanceOf(t, s, s.key); b != before {
			t.Fatalf("balance after cancelling %v, want %v back", b, before)
		}
		l := s.get("/ledger")
		first := l.json["items"].([]any)[0].(map[string]any)
		if first["kind"] != "refund" || first["amount"] != 0.2 || first["reference"] != m["id"] {
			t.Fatalf("ledger %s", l.raw)
		}
	})
}
