package app

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// The suppression list through the account API: one list keyed by
// channel and address, email addresses matched whatever their case, list
// filters, removal with a kept reason, CSV export and an all-or-nothing
// import.
func TestSuppressionsAPI(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		wantError := func(r response, status int, param, contains string) {
			t.Helper()
			_, p, desc := errorOf(t, r)
			if r.status != status || (param != "" && p != param) || !strings.Contains(desc, contains) {
				t.Fatalf("want %d on %s (%q), got %d %s", status, param, contains, r.status, r.raw)
			}
		}
		r := s.call("POST", "/suppressions", map[string]any{"recipient": "Ann.Smith@Example.COM", "reason": "bounce"})
		if r.status != 201 || r.json["channel"] != "email" || r.json["recipient"] != "ann.smith@example.com" || r.json["reason"] != "bounce" {
			t.Fatalf("email suppression: %d %s", r.status, r.raw)
		}
		// The same address again, in another case: already there.
		if r := s.call("POST", "/suppressions", map[string]any{"recipient": "ANN.SMITH@example.com", "channel": "email"}); r.status != 200 ||
			r.json["reason"] != "bounce" {
			t.Fatalf("again: %d %s", r.status, r.raw)
		}
		if r := s.call("POST", "/suppressions", map[string]any{"recipient": "+31 6 1234 5003", "channel": "sms", "reason": "complaint"}); r.status != 201 ||
			r.json["recipient"] != "31612345003" || r.json["channel"] != "sms" {
			t.Fatalf("sms suppression: %d %s", r.status, r.raw)
		}
		wantError(s.call("POST", "/suppressions", map[string]any{"recipient": "a@example.com", "channel": "fax"}), 422, "channel", `channel "fax"`)
		wantError(s.call("POST", "/suppressions", map[string]any{"recipient": "not an address", "channel": "email"}), 422, "recipient", "not an email address")
		wantError(s.call("POST", "/suppressions", map[string]any{"recipient": "a@example.com", "reason": "opt_out"}), 422, "reason", "consent ledger")
		wantError(s.call("POST", "/suppressions", map[string]any{"recipient": "a@example.com", "reason": "spite"}), 422, "reason", "use manual")
		wantError(s.call("POST", "/suppressions", map[string]any{"recipient": "a@example.com", "channel": "sms"}), 422, "recipient", "phone number")

		// An SMS opt-out suppresses SMS, shown with its channel.
		s.call("POST", "/consents", map[string]any{"recipient": "31612345004", "purpose": "marketing", "action": "opt_out"})
		list := func(query string) []string {
			t.Helper()
			r := s.get("/suppressions?" + query)
			if r.status != 200 {
				t.Fatalf("list %s: %d %s", query, r.status, r.raw)
			}
			var out []string
			for _, it := range r.json["items"].([]any) {
				m := it.(map[string]any)
				out = append(out, fmt.Sprintf("%s:%s:%s", m["channel"], m["recipient"], m["reason"]))
			}
			return out
		}
		for q, want := range map[string]string{
			"":                            "sms:31612345004:opt_out sms:31612345003:complaint email:ann.smith@example.com:bounce",
			"channel=email":               "email:ann.smith@example.com:bounce",
			"channel=sms&reason=opt_out":  "sms:31612345004:opt_out",
			"q=SMITH":                     "email:ann.smith@example.com:bounce",
			"prefix=3161234500&limit=1":   "sms:31612345004:opt_out",
			"prefix=3161234500&offset=1":  "sms:31612345003:complaint",
			"since=2100-01-01T00:00:00Z":  "",
			"q=" + url.QueryEscape("%"):   "",
			"channel=email&q=example.com": "email:ann.smith@example.com:bounce",
		} {
			if got := strings.Join(list(q), " "); got != want {
				t.Errorf("list %q: %q, want %q", q, got, want)
			}
		}
		wantError(s.get("/suppressions?channel=fax"), 422, "channel", "sms, email or push")
		wantError(s.get("/suppressions?reason=spite"), 422, "reason", "opt_out")
		wantError(s.get("/suppressions?since=yesterday"), 422, "since", "RFC 3339")

		// Removal needs a reason, which is kept; an opt-out stays.
		wantError(s.do("DELETE", "/suppressions/email/Ann.Smith@example.com", s.key, "", nil), 422, "reason", "say why")
		wantError(s.do("DELETE", "/suppressions/sms/31612345004?reason=asked", s.key, "", nil), 409, "recipient", "opt-in")
		wantError(s.do("DELETE", "/suppressions/fax/123?reason=x", s.key, "", nil), 422, "channel", "fax")
		wantError(s.do("DELETE", "/suppressions/email/ann.smith@example.com?reason="+strings.Repeat("x", 501), s.key, "", nil), 422, "reason", "at most 500")
		r = s.do("DELETE", "/suppressions/email/Ann.Smith@example.com", s.key, "application/json", []byte(`{"reason":"mailbox works again"}`))
		if r.status != 200 || r.json["removalReason"] != "mailbox works again" || r.json["reason"] != "bounce" || r.json["recipient"] != "ann.smith@example.com" ||
			!strings.HasPrefix(r.json["removedBy"].(string), "api key ") {
			t.Fatalf("removal: %d %s", r.status, r.raw)
		}
		wantError(s.do("DELETE", "/suppressions/email/ann.smith@example.com?reason=again", s.key, "", nil), 404, "recipient", "not suppressed on email")
		r = s.get("/suppressions/removals?recipient=ANN.SMITH@example.com")
		if r.status != 200 || r.json["count"] != 1.0 || r.json["items"].([]any)[0].(map[string]any)["removalReason"] != "mailbox works again" {
			t.Fatalf("removals: %d %s", r.status, r.raw)
		}

		// Import: every row or none, each bad row named by its line.
		bad := "channel,recipient,reason\nemail,b@example.com,\nemail,not-an-address,manual\nsms,31612345005,opt_out\nfax,1,\n"
		r = s.do("POST", "/suppressions/import", s.key, "text/csv", []byte(bad))
		if r.status != 422 || len(r.json["errors"].([]any)) != 3 || !strings.Contains(string(r.raw), "line 3: recipient") ||
			!strings.Contains(string(r.raw), "line 4: reason opt_out") || !strings.Contains(string(r.raw), `line 5: channel \"fax\"`) {
			t.Fatalf("bad import: %d %s", r.status, r.raw)
		}
		if got := list("q=b%40example"); len(got) != 0 {
			t.Fatalf("a failed import added %v", got)
		}
		wantError(s.do("POST", "/suppressions/import", s.key, "text/csv", []byte("address\nx\n")), 422, "file", `no "channel" column`)
		wantError(s.do("POST", "/suppressions/import", s.key, "application/json", []byte("{}")), 415, "", "text/csv")
		good := "Channel,Recipient,Reason\nemail,B@Example.com,unsubscribe\nsms,+31612345005,\nsms,31612345003,manual\n"
		r = s.do("POST", "/suppressions/import", s.key, "text/csv", []byte(good))
		if r.status != 200 || r.json["rows"] != 3.0 || r.json["added"] != 2.0 {
			t.Fatalf("import: %d %s", r.status, r.raw)
		}
		if got := strings.Join(list("channel=sms&prefix=31612345005"), " "); got != "sms:31612345005:manual" {
			t.Fatalf("imported: %s", got)
		}
		if r := s.do("POST", "/suppressions/import", s.key, "text/csv", []byte("channel,recipient\n"+strings.Repeat("email,x@example.com\n", 1<<20))); r.status != 413 {
			t.Fatalf("a too large import: %d %.200s", r.status, r.raw)
		}

		// Export: CSV of the filtered list, which imports again.
		r = s.do("GET", "/suppressions/export?channel=email", s.key, "", nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(string(r.raw), "channel,recipient,reason,actor,created\nemail,b@example.com,unsubscribe,import by api key ") ||
			strings.Count(string(r.raw), "\n") != 2 {
			t.Fatalf("export: %d %s", r.status, r.raw)
		}
		if r := s.do("POST", "/suppressions/import", s.key, "text/csv", r.raw); r.status != 200 || r.json["added"] != 0.0 {
			t.Fatalf("re-import: %d %s", r.status, r.raw)
		}

		// The old route still removes, finding the channel from the address.
		if r := s.do("DELETE", "/suppressions/b@example.com", s.key, "", nil); r.status != 204 {
			t.Fatalf("old route: %d %s", r.status, r.raw)
		}
		r = s.get("/suppressions/removals?channel=email")
		if r.json["count"] != 2.0 || !strings.Contains(string(r.raw), "none given") {
			t.Fatalf("removals: %s", r.raw)
		}
	})
}
