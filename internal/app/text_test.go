package app

import (
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/store/pgtest"
)

// The text rules every door applies to every text it is given (path,
// query, JSON and form bodies, CSV files, the admin's X-Operator header):
// valid UTF-8, no NUL, no control character; tab, line feed and carriage
// return only in the fields that are text of several lines (a message
// body, evidence text, a proof, a reason or a note). See docs/api.md.

// bad is where a slot's text goes in its path, query or body.
const bad = "{BAD}"

// textSlot is one place of one endpoint where a client puts text.
type textSlot struct {
	door      string // key (an account's live key), admin, pusher
	method    string
	path      string // with bad in a path segment or a query value
	ct        string // content type of body; "header" puts the text in X-Operator
	body      string // with bad inside a JSON string, a form value or a CSV file
	param     string // the parameter a 422 names; "" for pusher
	multiline bool   // tab, line feed and carriage return are legitimate here
}

// badText is a text no door may accept (lineOnly: only where one line is
// expected).
type badText struct {
	name     string
	value    string // the raw bytes
	json     string // how it is written in a JSON string, if not raw
	lineOnly bool
}

var badTexts = []badText{
	{name: "NUL", value: "a\x00b", json: `a\u0000b`},
	{name: "SOH", value: "a\x01b", json: `a\u0001b`},
	{name: "ESC", value: "\x1b[31mred", json: `\u001b[31mred`},
	{name: "BEL", value: "a\x07", json: `a\u0007`},
	{name: "DEL", value: "a\x7fb"},
	{name: "C1 NEL", value: "a\u0085b"},
	{name: "C1 CSI", value: "a\u009bb", json: `a\u009bb`},
	{name: "Latin-1 byte", value: "caf\xe9"},
	{name: "lone continuation byte", value: "a\x80b"},
	{name: "truncated sequence", value: "a\xe2\x82"},
	{name: "overlong slash", value: "\xc0\xaf"},
	{name: "surrogate", value: "\xed\xa0\x80", json: `\ud800`},
	{name: "line feed", value: "a\nb", json: `a\nb`, lineOnly: true},
	{name: "carriage return", value: "a\rb", json: `a\u000db`, lineOnly: true},
	{name: "tab", value: "a\tb", json: `a\tb`, lineOnly: true},
}

// fixtures are the objects the slots address.
type fixtures struct {
	appID, appKey, caseID string
}

// textSlots lists every text a client can send, endpoint by endpoint.
func textSlots(s *server, fx fixtures) []textSlot {
	acct := "/admin/accounts/" + s.accountID
	js := "application/json"
	form := "application/x-www-form-urlencoded"
	msg := func(field string) string {
		m := map[string]string{"originator": `"Shop"`, "recipients": `["31612345678"]`, "body": `"hi"`}
		m[field] = `"` + bad + `"`
		if field == "typeDetails" {
			m[field] = `{"udh":"05` + bad + `"}`
		}
		if field == "categories" {
			m[field] = `["alcohol` + bad + `"]`
		}
		parts := []string{}
		for k, v := range m {
			parts = append(parts, `"`+k+`":`+v)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return []textSlot{
		// The MessageBird door.
		{door: "key", method: "POST", path: "/messages", ct: js, body: msg("originator"), param: "originator"},
		{door: "key", method: "POST", path: "/messages", ct: js, body: msg("body"), param: "body", multiline: true},
		{door: "key", method: "POST", path: "/messages", ct: js, body: msg("reference"), param: "reference"},
		{door: "key", method: "POST", path: "/messages", ct: js, body: msg("reportUrl"), param: "reportUrl"},
		{door: "key", method: "POST", path: "/messages", ct: js, body: msg("typeDetails"), param: "typeDetails.udh"},
		{door: "key", method: "POST", path: "/messages", ct: js, body: msg("purpose"), param: "purpose"},
		{door: "key", method: "POST", path: "/messages", ct: js, body: msg("categories"), param: "categories"},
		{door: "key", method: "POST", path: "/messages", ct: js, body: msg("recipients"), param: "recipients"},
		{door: "key", method: "POST", path: "/messages", ct: js, body: msg("datacoding"), param: "datacoding"},
		{door: "key", method: "POST", path: "/messages", ct: js, body: msg("scheduledDatetime"), param: "scheduledDatetime"},
		{door: "key", method: "POST", path: "/messages", ct: js, body: msg("colour"), param: "colour"},
		{door: "key", method: "POST", path: "/messages", ct: form, body: "originator=Shop&recipients=31612345678&body=hi" + bad, param: "body", multiline: true},
		{door: "key", method: "POST", path: "/messages", ct: form, body: "originator=Shop&recipients=31612345678&body=hi&reference=r" + bad, param: "reference"},
		{door: "key", method: "POST", path: "/messages", ct: form, body: "originator=Sh" + bad + "&recipients=31612345678&body=hi", param: "originator"},
		{door: "key", method: "POST", path: "/messages", ct: form, body: "originator=Shop&recipients=31612345678&body=hi&typeDetails[udh]=" + bad, param: "typeDetails.udh"},
		{door: "key", method: "GET", path: "/messages?reference=r" + bad, param: "reference"},
		{door: "key", method: "GET", path: "/messages?originator=" + bad, param: "originator"},
		{door: "key", method: "GET", path: "/messages?recipient=" + bad, param: "recipient"},
		{door: "key", method: "GET", path: "/messages?colour=" + bad, param: "colour"},
		{door: "key", method: "GET", path: "/messages/" + bad, param: "id"},
		{door: "key", method: "POST", path: "/hlr", ct: js, body: `{"msisdn":"31612345678","reference":"r` + bad + `"}`, param: "reference"},
		{door: "key", method: "POST", path: "/hlr", ct: js, body: `{"msisdn":"3161` + bad + `"}`, param: "msisdn"},
		{door: "key", method: "POST", path: "/lookup/31612345678/hlr", ct: form, body: "reference=r" + bad, param: "reference"},
		{door: "key", method: "GET", path: "/lookup/31612345678?countryCode=N" + bad, param: "countryCode"},
		{door: "key", method: "DELETE", path: "/messages/" + bad, param: "id"},
		// The account API.
		{door: "key", method: "GET", path: "/prices/sms?recipient=31612345678&body=hi" + bad, param: "body", multiline: true},
		{door: "key", method: "GET", path: "/prices/sms?recipient=31612345678&body=hi&datacoding=" + bad, param: "datacoding"},
		{door: "key", method: "PUT", path: "/billing/autotopup", ct: js, body: `{"enabled":true,"threshold":"1` + bad + `","amount":"5"}`, param: "threshold"},
		{door: "key", method: "POST", path: "/topups", ct: js, body: `{"amount":"5","idempotencyKey":"k` + bad + `"}`, param: "idempotencyKey"},
		{door: "key", method: "GET", path: "/statements/" + bad, param: "month"},
		{door: "key", method: "POST", path: "/consents", ct: js, body: `{"recipient":"31612345678","purpose":"marketing","action":"opt_in","evidence":{"text":"I agree` + bad + `"}}`, param: "evidence.text", multiline: true},
		{door: "key", method: "POST", path: "/consents", ct: js, body: `{"recipient":"31612345678","purpose":"marketing","action":"opt_in","evidence":{"userAgent":"Mozilla` + bad + `"}}`, param: "evidence.userAgent"},
		{door: "key", method: "POST", path: "/consents", ct: js, body: `{"recipient":"31612345678","purpose":"marketing","action":"opt_in","actor":"shop` + bad + `"}`, param: "actor"},
		{door: "key", method: "POST", path: "/consents", ct: js, body: `{"recipient":"31612345678","purpose":"marketing","action":"opt_in","source":"` + bad + `"}`, param: "source"},
		{door: "key", method: "GET", path: "/consents?recipient=" + bad, param: "recipient"},
		{door: "key", method: "GET", path: "/consents/proof?recipient=31612345678&format=" + bad, param: "format"},
		{door: "key", method: "POST", path: "/consents/import", ct: "text/csv", body: "recipient,purpose,action\n31612345678,marketing,opt_in" + bad + "\n", param: "file", multiline: true},
		{door: "key", method: "POST", path: "/suppressions", ct: js, body: `{"recipient":"3161234567` + bad + `"}`, param: "recipient"},
		{door: "key", method: "DELETE", path: "/suppressions/" + bad, param: "recipient"},
		{door: "key", method: "POST", path: "/senders", ct: js, body: `{"originator":"Ab` + bad + `"}`, param: "originator"},
		{door: "key", method: "PATCH", path: "/compliance/policy", ct: js, body: `{"helpText":"Reply` + bad + `"}`, param: "helpText", multiline: true},
		{door: "key", method: "PATCH", path: "/compliance/policy", ct: js, body: `{"quietHours":"08:00-21:00` + bad + `"}`, param: "quietHours"},
		{door: "key", method: "PATCH", path: "/compliance/policy", ct: js, body: `{"countryQuietHours":{"NL":"08:00-21:00` + bad + `"}}`, param: "countryQuietHours.NL"},
		{door: "key", method: "PATCH", path: "/compliance/policy", ct: js, body: `{"countryQuietHours":{"N` + bad + `":"08:00-21:00"}}`, param: "countryQuietHours"},
		{door: "key", method: "POST", path: "/compliance/cases/" + bad + "/proof", ct: "text/plain", body: "proof", param: "id"},
		{door: "key", method: "POST", path: "/compliance/cases/" + fx.caseID + "/proof", ct: "text/plain", body: "the proof" + bad, param: "proof", multiline: true},
		{door: "key", method: "POST", path: "/compliance/cases/" + fx.caseID + "/proof", ct: js, body: `{"proof":"the proof` + bad + `"}`, param: "proof", multiline: true},
		{door: "key", method: "POST", path: "/realtime/apps", ct: js, body: `{"name":"chat` + bad + `"}`, param: "name"},
		{door: "key", method: "POST", path: "/realtime/apps", ct: js, body: `{"webhook_url":"https://example.com/` + bad + `"}`, param: "webhook_url"},
		{door: "key", method: "POST", path: "/realtime/apps", ct: js, body: `{"webhook_events":["channel_occupied` + bad + `"]}`, param: "webhook_events"},
		{door: "key", method: "PATCH", path: "/realtime/apps/" + fx.appID, ct: js, body: `{"name":"chat` + bad + `"}`, param: "name"},
		{door: "key", method: "GET", path: "/realtime/apps/" + bad, param: "id"},
		{door: "key", method: "POST", path: "/realtime/apps/" + bad + "/rotate", param: "id"},
		{door: "key", method: "GET", path: "/realtime/apps/" + bad + "/errors", param: "id"},
		// The admin API.
		{door: "admin", method: "POST", path: "/admin/accounts/" + bad + "/ledger", ct: js, body: `{"kind":"adjustment","amount":"1","reason":"r"}`, param: "id"},
		{door: "admin", method: "POST", path: acct + "/ledger", ct: js, body: `{"kind":"adjustment","amount":"1","reason":"goodwill` + bad + `"}`, param: "reason", multiline: true},
		{door: "admin", method: "POST", path: acct + "/ledger", ct: js, body: `{"kind":"adjustment","amount":"1","reason":"r","idempotencyKey":"k` + bad + `"}`, param: "idempotencyKey"},
		{door: "admin", method: "POST", path: acct + "/ledger", ct: "header", body: `{"kind":"adjustment","amount":"1","reason":"r"}`, param: "X-Operator"},
		{door: "admin", method: "GET", path: "/admin/accounts/" + bad + "/topups", param: "id"},
		{door: "admin", method: "POST", path: "/admin/topups/" + bad + "/confirm", param: "id"},
		{door: "admin", method: "PUT", path: acct + "/limits", ct: js, body: `{"metric":"messages","channel":"sms` + bad + `","period":"day","limit":"10"}`, param: "channel"},
		{door: "admin", method: "DELETE", path: acct + "/limits?metric=messages&period=day" + bad, param: "period"},
		{door: "admin", method: "PUT", path: acct + "/billing", ct: js, body: `{"alertUrl":"https://example.com/` + bad + `"}`, param: "alertUrl"},
		{door: "admin", method: "PUT", path: acct + "/billing", ct: js, body: `{"alertEmails":["ops@example.com` + bad + `"]}`, param: "alertEmails"},
		{door: "admin", method: "PUT", path: acct + "/settings", ct: js, body: `{"legacySignature":"` + bad + `"}`, param: "legacySignature"},
		{door: "admin", method: "POST", path: "/admin/prices?account=" + bad, ct: "text/csv", body: "channel,country,prefix,currency,price\n", param: "account"},
		{door: "admin", method: "POST", path: "/admin/prices", ct: "text/csv", body: "channel,country,prefix,currency,price\nsms,NL,,EUR,0.05" + bad + "\n", param: "file", multiline: true},
		{door: "admin", method: "PUT", path: acct + "/senders/" + bad, ct: js, body: `{"status":"approved"}`, param: "originator"},
		{door: "admin", method: "PUT", path: acct + "/senders/Acme", ct: js, body: `{"status":"approved","note":"ok` + bad + `"}`, param: "note", multiline: true},
		{door: "admin", method: "PATCH", path: acct + "/compliance", ct: js, body: `{"sendersRelaxed":"agreed` + bad + `"}`, param: "sendersRelaxed"},
		{door: "admin", method: "PATCH", path: acct + "/compliance", ct: js, body: `{"contentRules":{"block":"casino` + bad + `"}}`, param: "contentRules.block"},
		{door: "admin", method: "PUT", path: acct + "/suspension", ct: js, body: `{"reason":"fraud` + bad + `"}`, param: "reason", multiline: true},
		{door: "admin", method: "POST", path: acct + "/cases", ct: js, body: `{"reason":"audit` + bad + `"}`, param: "reason", multiline: true},
		{door: "admin", method: "GET", path: "/admin/cases?account=" + bad, param: "account"},
		{door: "admin", method: "POST", path: acct + "/complaints", ct: js, body: `{"recipient":"31612345678","source":"carrier` + bad + `"}`, param: "source"},
		{door: "admin", method: "POST", path: acct + "/complaints", ct: js, body: `{"recipient":"3161234567` + bad + `"}`, param: "recipient"},
		{door: "admin", method: "POST", path: acct + "/complaints", ct: js, body: `{"recipient":"31612345678","note":"spam` + bad + `"}`, param: "note", multiline: true},
		{door: "admin", method: "POST", path: "/admin/dnd/" + bad, ct: "text/csv", body: "number\n31612345678\n", param: "registry"},
		{door: "admin", method: "POST", path: "/admin/dnd/NL-DNC?scope=" + bad, ct: "text/csv", body: "number\n31612345678\n", param: "scope"},
		{door: "admin", method: "POST", path: "/admin/dnd/NL-DNC", ct: "text/csv", body: "number\n3161234567" + bad + "\n", param: "file", multiline: true},
		{door: "admin", method: "GET", path: "/admin/reviews?status=" + bad, param: "status"},
		{door: "admin", method: "POST", path: "/admin/reviews/" + bad + "/release", param: "message"},
		// The Pusher HTTP API and the WebSocket endpoint look apps up by
		// what the path names.
		{door: "pusher", method: "POST", path: "/apps/" + bad + "/events", ct: js, body: `{"name":"e","channel":"c","data":"{}"}`},
		{door: "pusher", method: "GET", path: "/apps/" + bad + "/channels"},
		{door: "pusher", method: "GET", path: "/app/" + bad + "?protocol=7"},
	}
}

// fill puts text t into the slot: percent-encoded in a path or query,
// escaped in a JSON string, form-encoded in a form, as it is in a file.
func (sl textSlot) fill(t badText) (path, body string) {
	path, body = sl.path, sl.body
	if i := strings.Index(path, bad); i >= 0 {
		enc := url.PathEscape(t.value)
		if strings.Contains(path[:i], "?") {
			enc = url.QueryEscape(t.value)
		}
		path = strings.Replace(path, bad, enc, 1)
	}
	switch {
	case !strings.Contains(body, bad):
	case strings.HasPrefix(sl.ct, "application/json"):
		lit := t.json
		if lit == "" {
			lit = t.value
		}
		body = strings.Replace(body, bad, lit, 1)
	case sl.ct == "application/x-www-form-urlencoded":
		body = strings.Replace(body, bad, url.QueryEscape(t.value), 1)
	default:
		body = strings.Replace(body, bad, t.value, 1)
	}
	return path, body
}

// send makes the slot's request with text t; it may fail to send (a
// header value Go's client will not write), then ok is false.
func (s *server) sendSlot(sl textSlot, t badText) (r response, ok bool) {
	path, body := sl.fill(t)
	req, err := http.NewRequest(sl.method, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatalf("%s %q: %v", sl.method, path, err)
	}
	switch sl.door {
	case "key":
		req.Header.Set("Authorization", "AccessKey "+s.key)
	case "admin":
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	switch sl.ct {
	case "":
	case "header":
		req.Header["X-Operator"] = []string{t.value}
		req.Header.Set("Content-Type", "application/json")
	default:
		req.Header.Set("Content-Type", sl.ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if sl.ct == "header" {
			return r, false // net/http refuses to send control characters in a header
		}
		s.t.Fatalf("%s %q: %v", sl.method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r = response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		r.json = mustJSON(s.t, raw)
	}
	return r, true
}

// textServer is a server with the admin API, a realtime app and an open
// proof case, and the fixtures the slots address.
func textServer(t testing.TB, engine string) (*server, fixtures) {
	var h slog.Handler
	if _, fuzzing := t.(*testing.F); fuzzing {
		// Once the fuzz target runs, F.Log may not be called: the
		// server's errors go to stderr instead of the test's log.
		h = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})
	}
	s := startLogging(t, engine, h, func(c *Config) { c.AdminToken = adminToken })
	r := s.do("POST", "/realtime/apps", s.key, "application/json", []byte(`{"name":"chat"}`))
	if r.status != 201 {
		t.Fatalf("creating a realtime app: %d %s", r.status, r.raw)
	}
	fx := fixtures{appID: r.json["app_id"].(string), appKey: r.json["key"].(string)}
	r = s.admin("POST", "/admin/accounts/"+s.accountID+"/cases", "application/json", `{"reason":"audit"}`)
	if r.status != 201 {
		t.Fatalf("opening a proof case: %d %s", r.status, r.raw)
	}
	fx.caseID = r.json["id"].(string)
	return s, fx
}

// TestBadTextRefused: every text of every door — path, query, JSON and
// form bodies, CSV files, the operator header — holding NUL, a control
// character or bytes that are not UTF-8 is refused with 422 in the door's
// format naming the parameter (line breaks and tabs only where one line is
// expected). No request gets a 5xx, and the database holds no such text.
func TestBadTextRefused(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, fx := textServer(t, engine)
		for _, sl := range textSlots(s, fx) {
			for _, bt := range badTexts {
				if bt.lineOnly && sl.multiline {
					continue
				}
				r, sent := s.sendSlot(sl, bt)
				if !sent {
					continue
				}
				what := fmt.Sprintf("%s %s %s (%s)", sl.method, sl.path, sl.param, bt.name)
				if r.status >= 500 {
					t.Errorf("%s: %d %s", what, r.status, r.raw)
					continue
				}
				if sl.door == "pusher" {
					if r.status < 400 {
						t.Errorf("%s: %d %s, want a refusal", what, r.status, r.raw)
					}
					continue
				}
				if r.status != 422 || r.json == nil {
					t.Errorf("%s: %d %s, want 422", what, r.status, r.raw)
					continue
				}
				if code, param, _ := errorOf(t, r); code != 10 || param != sl.param {
					t.Errorf("%s: code %v parameter %v, want 10 %s: %s", what, code, param, sl.param, r.raw)
				}
			}
		}
		checkStoredText(t, s)

		// Text that is valid gets through: line breaks and tabs in a body,
		// letters of any script and emoji everywhere.
		m := s.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "line 1\nline 2\r\n\ttabbed ✓ 😀 مرحبا",
			"reference": "réf 😀", "typeDetails": map[string]any{"udh": "050003cc0201"}})
		if m["body"] != "line 1\nline 2\r\n\ttabbed ✓ 😀 مرحبا" || m["reference"] != "réf 😀" {
			t.Fatalf("valid text: %v", m)
		}
		if r := s.call("POST", "/consents", map[string]any{"recipient": "31612345678", "purpose": "marketing", "action": "opt_in",
			"evidence": map[string]string{"text": "Yes,\nsend me offers.\tThanks", "userAgent": "Mozilla/5.0 (X11; Linux x86_64)"}}); r.status != 201 {
			t.Fatalf("consent with multi-line evidence: %d %s", r.status, r.raw)
		}
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/suspension", "application/json", `{"reason":"line 1\nline 2"}`); r.status != 200 {
			t.Fatalf("multi-line reason: %d %s", r.status, r.raw)
		}
		checkStoredText(t, s)
	})
}

// multilineColumns are the text columns that may hold tab, line feed and
// carriage return; every other text column holds one line.
var multilineColumns = map[string]bool{
	"messages.body": true, "inbound_parts.body": true, "accounts.help_text": true, "accounts.suspended": true,
	"ledger.reason": true, "proof_cases.reason": true, "proof_cases.proof": true, "senders.note": true,
	"complaints.note": true, "notices.body": true, "jobs.payload": true,
}

// checkStoredText reads every text column of every table and fails on a
// value a door would refuse: not UTF-8, NUL or control characters (tab,
// line feed and carriage return only in multilineColumns).
func checkStoredText(t testing.TB, s *server) {
	t.Helper()
	db := s.app.store.Writer()
	pg := s.app.cfg.IsPostgres()
	// One query per table, reading all its text columns (a fuzz input is
	// checked against every table).
	byTable := map[string][]string{}
	var tables []string
	for _, c := range textColumns(t, db, pg) {
		if byTable[c[0]] == nil {
			tables = append(tables, c[0])
		}
		byTable[c[0]] = append(byTable[c[0]], c[1])
	}
	for _, table := range tables {
		cols := byTable[table]
		exprs := make([]string, len(cols))
		for i, c := range cols {
			exprs[i] = fmt.Sprintf(`CAST(%s AS BLOB)`, c)
			if pg {
				exprs[i] = fmt.Sprintf(`convert_to(%s::text, 'UTF8')`, c)
			}
		}
		rows, err := db.Query(`SELECT ` + strings.Join(exprs, ", ") + ` FROM ` + table)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		vals := make([][]byte, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if why := rest.TextFault(string(v), multilineColumns[table+"."+cols[i]]); why != "" {
					t.Errorf("%s.%s holds %q: %s", table, cols[i], v, why)
				}
			}
		}
		rows.Close()
	}
}

func textColumns(t testing.TB, db *sql.DB, postgres bool) [][2]string {
	t.Helper()
	q := `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND upper(p.type) IN ('TEXT', '')`
	if postgres {
		q = `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'json', 'jsonb')`
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var c [2]string
		rows.Scan(&c[0], &c[1])
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatal("no text columns found")
	}
	return out
}

// FuzzBadText sends arbitrary text into every slot of every door of a
// running server (SQLite, and PostgreSQL when OMNIGATE_TEST_POSTGRES is
// set): no answer is a 5xx, and after each request the database holds no
// text a door would refuse. The seeds (one per slot) run with every go
// test; explore with go test -fuzz FuzzBadText ./internal/app.
func FuzzBadText(f *testing.F) {
	var servers []*server
	var slots [][]textSlot
	for _, engine := range []string{"sqlite", "postgres"} {
		if engine == "postgres" && !pgtest.Available() {
			continue
		}
		s, fx := textServer(f, engine)
		servers = append(servers, s)
		slots = append(slots, textSlots(s, fx))
	}
	// One seed per slot (TestBadTextRefused tries every bad text in every
	// slot already); the fuzzer takes it from there.
	for i := range slots[0] {
		f.Add(uint8(i), badTexts[i%len(badTexts)].value)
	}
	f.Fuzz(func(t *testing.T, slot uint8, text string) {
		for i, s := range servers {
			sl := slots[i][int(slot)%len(slots[i])]
			bt := badText{name: "fuzz", value: text, json: text}
			s.t = t
			r, sent := s.sendSlot(sl, bt)
			if !sent {
				continue
			}
			if r.status >= 500 {
				t.Fatalf("%s %s with %q: %d %s", sl.method, sl.path, text, r.status, r.raw)
			}
			checkStoredText(t, s)
		}
	})
}
