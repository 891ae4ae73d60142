// Command fuzzhttp fuzzes a running omnigate's HTTP API from outside, as an
// attacker or a careless client would: every door (the MessageBird
// endpoints, the account API, the admin API, the realtime apps and the
// Pusher HTTP API), every place a client puts text or a number (path
// segments, query values, JSON and form values and names, CSV files), with
// bad text (NUL, control characters, bytes that are not UTF-8, surrogates),
// out-of-range numbers, and random bytes and mutations of valid bodies.
// It counts the answers by status class and prints every 5xx; with
// --database it then reads every text column of the server's database and
// counts values no door should have let in (not UTF-8, NUL, control
// characters other than tab and line breaks). bench/fuzz-http.sh starts
// the server on SQLite and on PostgreSQL and runs it. See bench/README.md.
//
//	go run ./bench/fuzzhttp --url http://127.0.0.1:8080 --key live_… --account ID --admin-token T --requests 20000
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for --database postgres://…
	_ "modernc.org/sqlite"             // the "sqlite" driver, for --database FILE

	"github.com/omnigate/omnigate/internal/api/rest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fuzzhttp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		base        = fs.String("url", "http://127.0.0.1:8080", "the server's base URL (loopback only)")
		key         = fs.String("key", "", "an account's live access key (required)")
		account     = fs.String("account", "", "that account's id (required)")
		adminToken  = fs.String("admin-token", "", "the server's admin token; empty: the admin API is not fuzzed")
		requests    = fs.Int("requests", 20000, "requests to send")
		concurrency = fs.Int("concurrency", 8, "requests in flight")
		seed        = fs.Uint64("seed", 1, "seed of the generator: the same seed sends the same requests")
		database    = fs.String("database", "", "afterwards, scan this database's text columns: a SQLite file or a postgres:// URL")
		label       = fs.String("label", "", "a name for the run in the output (e.g. the engine)")
		jsonOut     = fs.String("json", "", "write the figures to this file as JSON")
		strict      = fs.Bool("strict", false, "exit 1 on any 5xx, transport error or bad stored text")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	u, err := url.Parse(*base)
	if err != nil || *key == "" || *account == "" || *requests <= 0 || *concurrency <= 0 {
		fmt.Fprintln(stderr, "fuzzhttp: --url, --key and --account are required; --requests and --concurrency are positive")
		return 2
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
		fmt.Fprintln(stderr, "fuzzhttp: refusing a non-loopback --url")
		return 2
	}
	f := &fuzzer{base: strings.TrimRight(*base, "/"), key: *key, account: *account, admin: *adminToken,
		client: &http.Client{Timeout: 30 * time.Second}, statuses: map[int]int{}}
	if err := f.setUp(); err != nil {
		fmt.Fprintln(stderr, "fuzzhttp: setting up:", err)
		return 1
	}
	start := time.Now()
	f.fuzz(*requests, *concurrency, *seed)
	res := f.result(*label, time.Since(start))
	if *database != "" {
		bad, byColumn, scanned, err := scanDatabase(*database)
		if err != nil {
			fmt.Fprintln(stderr, "fuzzhttp: scanning the database:", err)
			return 1
		}
		res.StoredValues, res.StoredBad, res.StoredBadByColumn = scanned, len(bad), byColumn
		res.StoredExamples = first(bad, 10)
	}
	res.ReadyAfter = f.ready()
	res.print(stdout)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "fuzzhttp:", err)
			return 1
		}
	}
	if *strict && (res.Status5xx > 0 || res.Transport > 0 || res.StoredBad > 0 || res.ReadyAfter != 200) {
		return 1
	}
	return 0
}

// fuzzer sends the requests and counts the answers.
type fuzzer struct {
	base, key, account, admin string
	client                    *http.Client
	appID, appKey, caseID     string

	mu        sync.Mutex
	sent      int
	statuses  map[int]int
	transport int
	fivexx    []string // the first 5xx, described
}

// setUp makes the objects the templates address: a realtime app and, with
// the admin token, an open proof case.
func (f *fuzzer) setUp() error {
	var app struct {
		ID  string `json:"app_id"`
		Key string `json:"key"`
	}
	if err := f.call("POST", "/realtime/apps", "AccessKey "+f.key, `{"name":"fuzz"}`, 201, &app); err != nil {
		return fmt.Errorf("creating a realtime app: %w", err)
	}
	f.appID, f.appKey, f.caseID = app.ID, app.Key, "01a0000000000000000000000000case"
	if f.admin != "" {
		var c struct {
			ID string `json:"id"`
		}
		if err := f.call("POST", "/admin/accounts/"+f.account+"/cases", "Bearer "+f.admin, `{"reason":"fuzz","dueHours":2160}`, 201, &c); err != nil {
			return fmt.Errorf("opening a proof case: %w", err)
		}
		f.caseID = c.ID
	}
	return nil
}

func (f *fuzzer) call(method, path, auth, body string, want int, out any) error {
	req, _ := http.NewRequest(method, f.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

// slot is one request of one endpoint with a hole (X) for generated text,
// in the path or query (percent-encoded), a JSON string (raw), a form value
// (encoded) or a file (raw).
type slot struct {
	door, method, path, ct, body string
}

const hole = "\x00X\x00"

func (f *fuzzer) slots() []slot {
	acct := "/admin/accounts/" + f.account
	js, form, csv := "application/json", "application/x-www-form-urlencoded", "text/csv"
	msg := func(field, value string) string {
		fields := map[string]string{"originator": `"Shop"`, "recipients": `["31612345678"]`, "body": `"hello"`}
		fields[field] = value
		var parts []string
		for k, v := range fields {
			parts = append(parts, `"`+k+`":`+v)
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, ",") + "}"
	}
	str := `"` + hole + `"`
	s := []slot{
		{"key", "POST", "/messages", js, msg("body", str)},
		{"key", "POST", "/messages", js, msg("originator", str)},
		{"key", "POST", "/messages", js, msg("reference", str)},
		{"key", "POST", "/messages", js, msg("recipients", `["`+hole+`"]`)},
		{"key", "POST", "/messages", js, msg("reportUrl", `"https://example.com/`+hole+`"`)},
		{"key", "POST", "/messages", js, msg("typeDetails", `{"udh":"`+hole+`"}`)},
		{"key", "POST", "/messages", js, msg("validity", hole)},
		{"key", "POST", "/messages", js, msg("gateway", hole)},
		{"key", "POST", "/messages", js, msg("mclass", hole)},
		{"key", "POST", "/messages", js, msg("scheduledDatetime", str)},
		{"key", "POST", "/messages", js, msg("datacoding", str)},
		{"key", "POST", "/messages", js, msg("categories", `["`+hole+`"]`)},
		{"key", "POST", "/messages", js, msg(hole, `"x"`)},
		{"key", "POST", "/messages", js, hole},
		{"key", "POST", "/messages", form, "originator=Shop&recipients=31612345678&body=" + hole},
		{"key", "POST", "/messages", form, "originator=Shop&recipients=31612345678&body=x&reference=" + hole},
		{"key", "POST", "/messages", form, "originator=Shop&recipients=31612345678&body=x&validity=" + hole},
		{"key", "GET", "/messages?reference=" + hole, "", ""},
		{"key", "GET", "/messages?recipient=" + hole + "&limit=5", "", ""},
		{"key", "GET", "/messages?offset=" + hole, "", ""},
		{"key", "GET", "/messages/" + hole, "", ""},
		{"key", "DELETE", "/messages/" + hole, "", ""},
		{"key", "GET", "/prices/sms?recipient=31612345678&body=" + hole, "", ""},
		{"key", "PUT", "/billing/autotopup", js, `{"enabled":true,"threshold":"10","amount":` + str + `}`},
		{"key", "POST", "/topups", js, `{"amount":"5","idempotencyKey":` + str + `}`},
		{"key", "POST", "/topups", js, `{"amount":` + hole + `}`},
		{"key", "GET", "/statements/" + hole, "", ""},
		{"key", "POST", "/consents", js, `{"recipient":"31612345678","purpose":"marketing","action":"opt_in","evidence":{"text":` + str + `}}`},
		{"key", "POST", "/consents", js, `{"recipient":"31612345678","purpose":"marketing","action":"opt_in","actor":` + str + `}`},
		{"key", "POST", "/consents", js, `{"recipient":` + str + `,"purpose":"marketing","action":"opt_in"}`},
		{"key", "GET", "/consents?recipient=" + hole, "", ""},
		{"key", "POST", "/consents/import", csv, "recipient,purpose,action\n" + hole + ",marketing,opt_in\n"},
		{"key", "POST", "/suppressions", js, `{"recipient":` + str + `}`},
		{"key", "DELETE", "/suppressions/" + hole, "", ""},
		{"key", "POST", "/senders", js, `{"originator":` + str + `}`},
		{"key", "PATCH", "/compliance/policy", js, `{"helpText":` + str + `}`},
		{"key", "PATCH", "/compliance/policy", js, `{"quietHours":` + str + `}`},
		{"key", "POST", "/compliance/cases/" + f.caseID + "/proof", "text/plain", hole},
		{"key", "POST", "/realtime/apps", js, `{"name":` + str + `}`},
		{"key", "POST", "/realtime/apps", js, `{"max_connections":` + hole + `}`},
		{"key", "PATCH", "/realtime/apps/" + f.appID, js, `{"webhook_url":` + str + `}`},
		{"key", "POST", "/realtime/apps/" + f.appID + "/rotate", js, `{"grace_seconds":` + hole + `}`},
		{"key", "GET", "/realtime/apps/" + hole, "", ""},
		{"pusher", "POST", "/apps/" + hole + "/events", js, `{"name":"e","channel":"c","data":"{}"}`},
		{"pusher", "GET", "/apps/" + f.appID + "/channels/" + hole + "?auth_key=" + f.appKey, "", ""},
		{"pusher", "GET", "/app/" + hole + "?protocol=7", "", ""},
	}
	if f.admin != "" {
		s = append(s, []slot{
			{"admin", "POST", acct + "/ledger", js, `{"kind":"adjustment","amount":"0.01","reason":` + str + `}`},
			{"admin", "POST", acct + "/ledger", js, `{"kind":"topup","amount":` + hole + `,"reason":"fuzz"}`},
			{"admin", "POST", "/admin/accounts/" + hole + "/ledger", js, `{"kind":"topup","amount":"1","reason":"fuzz"}`},
			{"admin", "PUT", acct + "/limits", js, `{"metric":"messages","period":"month","limit":` + hole + `}`},
			{"admin", "PUT", acct + "/billing", js, `{"alertEmails":[` + str + `]}`},
			{"admin", "PUT", acct + "/senders/" + hole, js, `{"status":"rejected","note":"fuzz"}`},
			{"admin", "PUT", acct + "/suspension", js, `{"reason":` + str + `}`},
			{"admin", "POST", acct + "/complaints", js, `{"recipient":` + str + `,"note":"fuzz"}`},
			{"admin", "POST", acct + "/cases", js, `{"reason":"fuzz","dueHours":` + hole + `}`},
			{"admin", "GET", "/admin/cases?account=" + hole, "", ""},
			{"admin", "POST", "/admin/dnd/" + hole, csv, "number\n31699999999\n"},
			{"admin", "POST", "/admin/prices", csv, "channel,country,prefix,currency,price\nsms,ZW,,EUR," + hole + "\n"},
			{"admin", "POST", "/admin/reviews/" + hole + "/release", "", ""},
		}...)
	}
	return s
}

// badTexts are what an attacker tries first.
var badTexts = []string{
	"\x00", "a\x00b", "\x01", "\x07", "\x1b[31m", "\x7f", "\u0085", "\u009b", "\xff", "\xfe\xff", "caf\xe9", "\xe2\x82",
	"\xc0\xaf", "\xed\xa0\x80", `\u0000`, `\ud800`, `\udfff`, `\ud83d`, "\n", "\r\n", "\t", "a\nb", "%00", "%ff", "%",
	"", " ", "-1", "0", "1e309", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999",
	"1000000000", "999999999.9999999", "NaN", "Infinity", "null", "true", "[]", "{}", `"`, `\`, `"},"x":{"`, "..", "../../etc/passwd",
	"<script>", "'; DROP TABLE messages; --", strings.Repeat("A", 5000), strings.Repeat("😀", 300), "\u202e", "\ufeff", "\uffff",
}

// text makes the next generated text.
func text(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0, 1:
		return badTexts[r.IntN(len(badTexts))]
	case 2: // random bytes
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	default: // a bad text inside a plausible one
		plain := []string{"31612345678", "Shop", "hello", "2026-11-25T14:00:00Z", "https://example.com/x", "42", "0.5"}
		p := plain[r.IntN(len(plain))]
		i := r.IntN(len(p) + 1)
		return p[:i] + badTexts[r.IntN(len(badTexts))] + p[i:]
	}
}

// request builds the request of a slot with text t; mutate flips bytes of
// the body now and then.
func (f *fuzzer) request(s slot, t string, r *rand.Rand) (*http.Request, error) {
	path, body := s.path, s.body
	if i := strings.Index(path, hole); i >= 0 {
		enc := url.PathEscape(t)
		if strings.Contains(path[:i], "?") {
			enc = url.QueryEscape(t)
		}
		path = strings.Replace(path, hole, enc, 1)
	}
	if s.ct == "application/x-www-form-urlencoded" {
		body = strings.Replace(body, hole, url.QueryEscape(t), 1)
	} else {
		body = strings.Replace(body, hole, t, 1)
	}
	if r.IntN(10) == 0 && len(body) > 0 { // structural damage
		b := []byte(body)
		for n := 1 + r.IntN(3); n > 0; n-- {
			b[r.IntN(len(b))] = byte(r.IntN(256))
		}
		body = string(b)
	}
	req, err := http.NewRequest(s.method, f.base+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	switch s.door {
	case "key":
		req.Header.Set("Authorization", "AccessKey "+f.key)
	case "admin":
		req.Header.Set("Authorization", "Bearer "+f.admin)
		req.Header.Set("X-Operator", "fuzz")
	}
	if s.ct != "" {
		req.Header.Set("Content-Type", s.ct)
	}
	return req, nil
}

// fuzz sends n requests, concurrency at a time, generated from seed.
func (f *fuzzer) fuzz(n, concurrency int, seed uint64) {
	slots := f.slots()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r := rand.New(rand.NewPCG(seed, uint64(i)))
				s := slots[r.IntN(len(slots))]
				t := text(r)
				req, err := f.request(s, t, r)
				if err != nil { // a URL net/http will not build: not sent
					continue
				}
				f.send(req, s, t)
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

func (f *fuzzer) send(req *http.Request, s slot, t string) {
	resp, err := f.client.Do(req)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent++
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) && strings.Contains(uerr.Error(), "invalid") {
			f.sent-- // net/http refused to write it (an invalid header or URL): not sent
			return
		}
		f.transport++
		if len(f.fivexx) < 20 {
			f.fivexx = append(f.fivexx, fmt.Sprintf("transport error on %s %s: %v", s.method, s.path, err))
		}
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	f.statuses[resp.StatusCode]++
	if resp.StatusCode >= 500 && len(f.fivexx) < 20 {
		f.fivexx = append(f.fivexx, fmt.Sprintf("%d on %s %s with %q: %s", resp.StatusCode, s.method, strings.ReplaceAll(s.path, hole, "X"), t, bytes.TrimSpace(raw)))
	}
}

// ready is /readyz's status after the run.
func (f *fuzzer) ready() int {
	resp, err := f.client.Get(f.base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// result is what a run found.
type result struct {
	Label        string         `json:"label"`
	Requests     int            `json:"requests"`
	Seconds      float64        `json:"seconds"`
	Statuses     map[string]int `json:"statuses"`
	Status2xx    int            `json:"status_2xx"`
	Status4xx    int            `json:"status_4xx"`
	Status5xx    int            `json:"status_5xx"`
	Transport    int            `json:"transport_errors"`
	Examples5xx  []string       `json:"examples_5xx"`
	StoredValues int            `json:"stored_text_values"`
	StoredBad    int            `json:"stored_bad_text"`
	// StoredBadByColumn counts them by table.column.
	StoredBadByColumn map[string]int `json:"stored_bad_by_column"`
	StoredExamples    []string       `json:"stored_bad_examples"`
	ReadyAfter        int            `json:"readyz_after"`
}

func (f *fuzzer) result(label string, took time.Duration) result {
	f.mu.Lock()
	defer f.mu.Unlock()
	res := result{Label: label, Requests: f.sent, Seconds: took.Seconds(), Statuses: map[string]int{}, Transport: f.transport, Examples5xx: f.fivexx}
	for code, n := range f.statuses {
		res.Statuses[fmt.Sprint(code)] = n
		switch code / 100 {
		case 2:
			res.Status2xx += n
		case 4:
			res.Status4xx += n
		case 5:
			res.Status5xx += n
		}
	}
	return res
}

func (r result) print(w io.Writer) {
	codes := make([]string, 0, len(r.Statuses))
	for c := range r.Statuses {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	var by []string
	for _, c := range codes {
		by = append(by, fmt.Sprintf("%s:%d", c, r.Statuses[c]))
	}
	fmt.Fprintf(w, "%s: %d requests in %.1f s: 2xx %d, 4xx %d, 5xx %d, transport errors %d (%s)\n",
		r.Label, r.Requests, r.Seconds, r.Status2xx, r.Status4xx, r.Status5xx, r.Transport, strings.Join(by, " "))
	for _, e := range r.Examples5xx {
		fmt.Fprintln(w, "  ", e)
	}
	if r.StoredValues > 0 {
		fmt.Fprintf(w, "%s: %d stored text values read, %d not valid text (not UTF-8, NUL or a control character other than tab and line breaks)\n",
			r.Label, r.StoredValues, r.StoredBad)
		cols := make([]string, 0, len(r.StoredBadByColumn))
		for c, n := range r.StoredBadByColumn {
			cols = append(cols, fmt.Sprintf("%s %d", c, n))
		}
		sort.Strings(cols)
		if len(cols) > 0 {
			fmt.Fprintf(w, "   by column: %s\n", strings.Join(cols, ", "))
		}
		for _, e := range r.StoredExamples {
			fmt.Fprintln(w, "  ", e)
		}
	}
	fmt.Fprintf(w, "%s: /readyz after the run: %d\n", r.Label, r.ReadyAfter)
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// scanDatabase reads every text column of every table and lists the
// values that are not valid text.
func scanDatabase(dsn string) (bad []string, byColumn map[string]int, scanned int, err error) {
	byColumn = map[string]int{}
	driver, listQ, readQ := "sqlite", `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND upper(p.type) = 'TEXT'`, `SELECT CAST(%s AS BLOB) FROM %s`
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		driver, listQ, readQ = "pgx", `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying')`, `SELECT convert_to(%s, 'UTF8') FROM %s`
	} else {
		dsn = "file:" + dsn + "?mode=ro"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, nil, 0, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rows, err := db.QueryContext(ctx, listQ)
	if err != nil {
		return nil, nil, 0, err
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			rows.Close()
			return nil, nil, 0, err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) == 0 {
		return nil, nil, 0, errors.New("no text columns: is it omnigate's database?")
	}
	for _, c := range cols {
		rows, err := db.QueryContext(ctx, fmt.Sprintf(readQ, c[1], c[0]))
		if err != nil {
			return nil, nil, 0, fmt.Errorf("%s.%s: %w", c[0], c[1], err)
		}
		for rows.Next() {
			var v []byte
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, nil, 0, err
			}
			scanned++
			if why := rest.TextFault(string(v), true); why != "" {
				if len(v) > 60 {
					v = append(v[:60:60], "…"...)
				}
				bad = append(bad, fmt.Sprintf("%s.%s %q: %s", c[0], c[1], v, why))
				byColumn[c[0]+"."+c[1]]++
			}
		}
		rows.Close()
	}
	return bad, byColumn, scanned, nil
}
