package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
	"github.com/omnigate/omnigate/internal/webhook"
	"github.com/omnigate/omnigate/internal/worker"
)

// upload posts a multipart form with one file, as a browser's file input
// does.
func (b *browser) upload(path string, fields map[string]string, filename string, content []byte) (int, string) {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if filename != "" {
		fw, _ := mw.CreateFormFile("file", filename)
		fw.Write(content)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusSeeOther {
		return res.StatusCode, res.Header.Get("Location")
	}
	return res.StatusCode, string(out)
}

// attempt logs a status report attempt of the account's message and
// returns its id.
func (e *env) attempt(accountID, messageID string, code int, outcome string) int64 {
	payload, _ := json.Marshal(store.Report{Seq: 0, Status: "delivered", At: time.Now().UTC()})
	a := &store.WebhookAttempt{AccountID: accountID, Kind: store.AttemptReport, MessageID: messageID, Event: "delivered", Payload: string(payload),
		URL: "https://hooks.example.org/report", Code: code, Outcome: outcome, Attempt: 1, Duration: 12 * time.Millisecond, At: time.Now().UTC()}
	if err := e.st.RecordWebhookAttempts(context.Background(), []*store.WebhookAttempt{a}); err != nil {
		e.t.Fatal(err)
	}
	list, err := e.st.WebhookAttempts(context.Background(), accountID, store.WebhookAttemptFilter{MessageID: messageID, Limit: 1})
	if err != nil || len(list) == 0 {
		e.t.Fatalf("attempt not logged: %v", err)
	}
	return list[0].ID
}

// proofCase opens a proof case for the account, due after due.
func (e *env) proofCase(accountID, recipient string, due time.Duration) string {
	now := time.Now().UTC()
	c := &store.ProofCase{ID: ids.New(), AccountID: accountID, Recipient: recipient, Reason: "complaints", OpenedBy: "operator test",
		Status: store.CaseOpen, DueAt: now.Add(due), CreatedAt: now}
	if err := e.st.OpenProofCase(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

func (e *env) suppress(accountID, channel, recipient string) {
	if err := e.st.AddSuppression(context.Background(), accountID, store.Suppression{Channel: channel, Recipient: recipient, Reason: store.SuppressManual,
		Actor: "test", CreatedAt: time.Now().UTC()}); err != nil {
		e.t.Fatal(err)
	}
}

// importOf makes an import of the account in a state, as the runner does.
func (e *env) importOf(accountID, state string) string {
	now := time.Now().UTC()
	im := &store.Import{ID: ids.New(), AccountID: accountID, Kind: store.ImportConsents, Params: "{}", Origin: "test", State: state,
		Size: 1000, BytesRead: 250, RowsRead: 10, CreatedAt: now, UpdatedAt: now}
	if err := e.st.CreateImport(context.Background(), im); err != nil {
		e.t.Fatal(err)
	}
	return im.ID
}

// TestAccountPagesRoles checks every role against the webhook, consent
// and case pages and actions: allowed ones answer (200 or a redirect),
// the others 403, as users.Can says.
func TestAccountPagesRoles(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		m := e.message(a, "ref-roles")
		for i, role := range append(users.AccountRoles, users.RoleOperator) {
			acct := a
			if role == users.RoleOperator {
				acct = ""
			}
			b := e.browser()
			csrf := b.signIn(e.user(acct, role))
			att := e.attempt(a, m.ID, 500, store.AttemptRetry)
			addr := fmt.Sprintf("3161200%04d", i)
			e.suppress(a, "sms", addr)
			pc := e.proofCase(a, "", 48*time.Hour)
			im := e.importOf(a, store.ImportDone)
			routes := []route{
				{"GET", "/console/webhooks", users.ViewWebhooks, nil},
				{"GET", "/console/webhooks?kind=report&outcome=failed&message=" + m.ID, users.ViewWebhooks, nil},
				{"POST", "/console/webhooks/" + strconv.FormatInt(att, 10) + "/resend", users.ResendWebhooks, url.Values{}},
				{"GET", "/console/consents?recipient=%2B31612345678", users.ViewConsents, nil},
				{"POST", "/console/consents", users.ManageConsents, url.Values{"recipient": {"+31612345678"}, "purpose": {"marketing"}, "action": {"opt_in"}, "legal_age": {"yes"}}},
				{"GET", "/console/consents/proof.csv?recipient=31612345678", users.ViewConsents, nil},
				{"POST", "/console/suppressions", users.ManageConsents, url.Values{"channel": {"email"}, "recipient": {"x" + strconv.Itoa(i) + "@example.org"}, "reason": {"manual"}}},
				{"POST", "/console/suppressions/remove", users.ManageConsents, url.Values{"channel": {"sms"}, "recipient": {addr}, "reason": {"asked by the person"}}},
				{"GET", "/console/imports/" + im, users.ViewConsents, nil},
				{"GET", "/console/cases", users.ViewCases, nil},
				{"POST", "/console/cases/" + pc + "/proof", users.ManageConsents, url.Values{"proof": {"signed form of 2026-01-02"}}},
			}
			for _, r := range routes {
				if r.form != nil {
					r.form.Set("csrf", csrf)
				}
				st, body := b.do(r.method, r.path, r.form)
				allowed := users.Can(role, r.perm)
				if allowed && st != 200 && st != http.StatusSeeOther {
					t.Errorf("%s %s %s: %d, want allowed: %.300s", role, r.method, r.path, st, body)
				}
				if !allowed && st != http.StatusForbidden {
					t.Errorf("%s %s %s: %d, want 403", role, r.method, r.path, st)
				}
			}
			// The upload, as a browser posts it.
			st, body := b.upload("/console/imports", map[string]string{"csrf": csrf, "kind": "suppressions"}, "s.csv",
				[]byte("channel,recipient\nsms,+3161299"+fmt.Sprintf("%04d", i)+"\n"))
			if allowed := users.Can(role, users.ManageConsents); (allowed && st != http.StatusSeeOther) || (!allowed && st != http.StatusForbidden) {
				t.Errorf("%s import: %d %.300s", role, st, body)
			}
			// Navigation shows only what the role may open.
			_, page := b.do("GET", "/console/profile", nil)
			for href, perm := range map[string]users.Permission{"/console/webhooks": users.ViewWebhooks, "/console/consents": users.ViewConsents, "/console/cases": users.ViewCases} {
				if got := strings.Contains(page, `href="`+href+`"`); got != users.Can(role, perm) {
					t.Errorf("%s: %s in the navigation = %v", role, href, got)
				}
			}
		}
	})
}

// TestAccountPagesCrossAccount: A's users opening B's attempts, imports,
// cases and suppressions get 404, and nothing of B's is shown or changed.
func TestAccountPagesCrossAccount(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a, bID := e.account("A"), e.account("B")
		owner := e.user(a, users.RoleOwner)
		mb := e.message(bID, "of-b")
		attB := e.attempt(bID, mb.ID, 500, store.AttemptDropped)
		imB := e.importOf(bID, store.ImportDone)
		caseB := e.proofCase(bID, "31699999999", 24*time.Hour)
		e.suppress(bID, "sms", "31688888888")
		if err := e.st.AddConsents(context.Background(), []*store.Consent{{AccountID: bID, Recipient: "31677777777", Purpose: "marketing", Action: store.OptIn,
			Source: store.SourceAPI, CreatedAt: time.Now().UTC()}}); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		csrf := b.signIn(owner)
		if st, _ := b.do("POST", "/console/webhooks/"+strconv.FormatInt(attB, 10)+"/resend", url.Values{"csrf": {csrf}}); st != http.StatusNotFound {
			t.Errorf("re-sending B's report from A: %d", st)
		}
		for _, bad := range []string{"x", "0", "-1", "99999999999999999999"} {
			if st, _ := b.do("POST", "/console/webhooks/"+bad+"/resend", url.Values{"csrf": {csrf}}); st != http.StatusNotFound {
				t.Errorf("re-sending attempt %q: %d", bad, st)
			}
		}
		if _, body := b.do("GET", "/console/webhooks", nil); strings.Contains(body, mb.ID) {
			t.Error("B's attempt listed to A")
		}
		if _, body := b.do("GET", "/console/webhooks?message="+mb.ID, nil); strings.Contains(body, "hooks.example.org") {
			t.Error("B's attempt found by A's filter")
		}
		if st, _ := b.do("GET", "/console/imports/"+imB, nil); st != http.StatusNotFound {
			t.Errorf("B's import from A: %d", st)
		}
		if st, _ := b.do("POST", "/console/cases/"+caseB+"/proof", url.Values{"csrf": {csrf}, "proof": {"mine"}}); st != http.StatusNotFound {
			t.Errorf("answering B's case from A: %d", st)
		}
		if _, body := b.do("GET", "/console/cases", nil); strings.Contains(body, caseB) || strings.Contains(body, "31699999999") {
			t.Error("B's case listed to A")
		}
		if st, _ := b.do("POST", "/console/suppressions/remove", url.Values{"csrf": {csrf}, "channel": {"sms"}, "recipient": {"31688888888"}, "reason": {"x"}}); st != http.StatusNotFound {
			t.Errorf("removing B's suppression from A: %d", st)
		}
		if why, _ := e.st.Suppressed(context.Background(), bID, "sms", []string{"31688888888"}); why["31688888888"] == "" {
			t.Error("B's suppression removed by A")
		}
		if _, body := b.do("GET", "/console/consents", nil); strings.Contains(body, "31688888888") {
			t.Error("B's suppression listed to A")
		}
		if _, body := b.do("GET", "/console/consents?recipient=%2B31677777777", nil); !strings.Contains(body, "No consent is recorded") {
			t.Error("B's consent shown to A")
		}
		if _, body := b.do("GET", "/console/consents/proof.csv?recipient=31677777777", nil); strings.Contains(body, "opt_in") {
			t.Error("B's consent in A's proof")
		}
		if c, _ := e.st.ProofCases(context.Background(), bID); len(c) != 1 || c[0].Status != store.CaseOpen {
			t.Errorf("B's case changed: %+v", c)
		}
	})
}

// TestWebhookLogResend runs the real report sender against a real HTTP
// server: a failed report is logged with its code (and no address), the
// console re-sends it, and the new attempt succeeds and is logged too.
func TestWebhookLogResend(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var fail atomic.Bool
		fail.Store(true)
		var calls atomic.Int32
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if fail.Load() {
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		defer hook.Close()
		a := e.account("A")
		ctx := context.Background()
		if err := e.st.SetReportURL(ctx, a, hook.URL+"/dlr?token=s3cret"); err != nil {
			t.Fatal(err)
		}
		m := e.message(a, "ref-hook")
		snd := webhook.New(webhook.Config{Pool: worker.Config{Poll: 20 * time.Millisecond, Owner: "console-test-" + ids.New()},
			Retry: worker.Backoff{Min: time.Hour, Max: time.Hour}}, e.st, store.NewAccountCache(e.st, time.Millisecond), metrics.New(), nil)
		snd.Start()
		defer snd.Stop(context.Background())
		payload, _ := json.Marshal(store.Report{Seq: 0, Status: "delivered", At: time.Now().UTC()})
		if err := e.st.EnqueueJob(ctx, &store.Job{Kind: store.JobReport, AccountID: a, MessageID: m.ID, Payload: payload, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		snd.Notify()
		wait := func(n int) []*store.WebhookAttempt {
			t.Helper()
			deadline := time.Now().Add(15 * time.Second)
			for {
				list, err := e.st.WebhookAttempts(ctx, a, store.WebhookAttemptFilter{MessageID: m.ID})
				if err != nil {
					t.Fatal(err)
				}
				if len(list) >= n {
					return list
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d attempts logged, want %d", len(list), n)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		// (Accepting the message may have queued a report of its own.)
		wait(1)
		time.Sleep(300 * time.Millisecond)
		before := wait(1)
		first := before[0]
		if first.Code != 503 || first.Outcome != store.AttemptRetry || first.Kind != store.AttemptReport || first.Event != "delivered" ||
			first.URL != hook.URL+"/dlr" || !strings.Contains(first.Error, "503") || first.Attempt != 1 {
			t.Fatalf("first attempt: %+v", first)
		}
		dev := e.user(a, users.RoleDeveloper)
		b := e.browser()
		csrf := b.signIn(dev)
		_, page := b.do("GET", "/console/webhooks?outcome=failed", nil)
		for _, want := range []string{m.ID, "<bdi>503</bdi>", "failed, will retry", hook.URL + "/dlr"} {
			if !strings.Contains(page, want) {
				t.Errorf("log page lacks %q", want)
			}
		}
		if strings.Contains(page, "31612345678") || strings.Contains(page, "s3cret") {
			t.Error("the log shows the recipient or the URL's query")
		}
		fail.Store(false)
		st, loc := b.do("POST", "/console/webhooks/"+strconv.FormatInt(first.ID, 10)+"/resend", url.Values{"csrf": {csrf}})
		if st != http.StatusSeeOther || !strings.Contains(loc, "resent=1") {
			t.Fatalf("resend: %d %s", st, loc)
		}
		// The accept's own report may still be failing in the meantime: wait
		// for an attempt after the re-send that answered.
		var resent *store.WebhookAttempt
		for deadline := time.Now().Add(15 * time.Second); resent == nil; time.Sleep(20 * time.Millisecond) {
			list := wait(len(before) + 1)
			for _, at := range list {
				if at.ID > first.ID && at.Outcome == store.AttemptOK {
					resent = at
				}
			}
			if resent == nil && time.Now().After(deadline) {
				for _, a := range list {
					t.Logf("%+v", a)
				}
				t.Fatal("no answered attempt after the re-send")
			}
		}
		if resent.Code != 204 {
			t.Fatalf("re-sent attempt: %+v", resent)
		}
		_, page = b.do("GET", loc, nil)
		if !strings.Contains(page, "The report is queued again") || !strings.Contains(page, "<bdi>204</bdi>") {
			t.Errorf("page after the re-send: %.2000s", page)
		}
		// Filters: ok only, conversations only, bad values.
		if _, page = b.do("GET", "/console/webhooks?outcome=ok&message="+m.ID, nil); strings.Contains(page, "<bdi>503</bdi>") || !strings.Contains(page, "<bdi>204</bdi>") {
			t.Error("outcome filter")
		}
		if _, page = b.do("GET", "/console/webhooks?kind=conversation&message="+m.ID, nil); strings.Contains(page, "<bdi>204</bdi>") {
			t.Error("kind filter")
		}
		for _, q := range []string{"kind=<script>", "outcome=x", "from=2026-13-01", "message=" + strings.Repeat("x", 65)} {
			if st, body := b.do("GET", "/console/webhooks?"+q, nil); st != http.StatusBadRequest || strings.Contains(body, "<script>") {
				t.Errorf("filter %s: %d", q, st)
			}
		}
		// A Conversations attempt logged without what to re-send (before
		// the log kept it) cannot be re-sent.
		if err := e.st.RecordWebhookAttempts(ctx, []*store.WebhookAttempt{{AccountID: a, Kind: store.AttemptConversation, MessageID: m.ID, WebhookID: "w1",
			Event: "message.created", URL: "https://x.example/hook", Outcome: store.AttemptDropped, Attempt: 3, At: time.Now().UTC()}}); err != nil {
			t.Fatal(err)
		}
		conv, _ := e.st.WebhookAttempts(ctx, a, store.WebhookAttemptFilter{Kind: store.AttemptConversation})
		if st, _ := b.do("POST", "/console/webhooks/"+strconv.FormatInt(conv[0].ID, 10)+"/resend", url.Values{"csrf": {csrf}}); st != http.StatusBadRequest {
			t.Errorf("re-sending a Conversations attempt: %d", st)
		}
		// CSRF-less re-send: refused, nothing queued.
		n := calls.Load()
		if st, _ := b.do("POST", "/console/webhooks/"+strconv.FormatInt(first.ID, 10)+"/resend", url.Values{}); st != http.StatusForbidden {
			t.Errorf("CSRF-less re-send: %d", st)
		}
		time.Sleep(100 * time.Millisecond)
		if calls.Load() != n {
			t.Error("a CSRF-less re-send called the webhook")
		}
	})
}

var importRE = regexp.MustCompile(`^/console/imports/([A-Za-z0-9]+)$`)

// TestConsentsPage: record, search, export, suppress, remove, import, and
// bad input of every kind.
func TestConsentsPage(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		u := e.user(a, users.RoleCompliance)
		b := e.browser()
		csrf := b.signIn(u)
		post := func(path string, v url.Values) (int, string) {
			v.Set("csrf", csrf)
			return b.do("POST", path, v)
		}
		st, loc := post("/console/consents", url.Values{"recipient": {"+31 6 1234 5678"}, "purpose": {"marketing"}, "action": {"opt_in"}, "legal_age": {"yes"}, "evidence": {"paper form 17"}})
		if st != http.StatusSeeOther || loc != "/console/consents?recipient=31612345678" {
			t.Fatalf("add consent: %d %s", st, loc)
		}
		_, page := b.do("GET", loc, nil)
		if !strings.Contains(page, "opted in") || !strings.Contains(page, "paper form 17") || !strings.Contains(page, "not suppressed") ||
			!strings.Contains(page, `href="/console/consents/proof.csv?recipient=31612345678"`) {
			t.Fatalf("search: %.3000s", page)
		}
		res, err := b.c.Get(e.srv.URL + "/console/consents/proof.csv?recipient=31612345678")
		if err != nil {
			t.Fatal(err)
		}
		proof, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(string(proof), "31612345678") ||
			!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("proof: %d %s %q", res.StatusCode, res.Header.Get("Content-Type"), proof)
		}
		// Bad input: refused, nothing stored, nothing echoed as HTML.
		for _, v := range []url.Values{
			{"recipient": {"<script>alert(1)</script>"}, "purpose": {"marketing"}, "action": {"opt_in"}},
			{"recipient": {"+31612345679"}, "purpose": {"marketing"}, "action": {"opt_in"}, "evidence": {"<img src=x onerror=alert(1)>"}},
			{"recipient": {"+31612345679"}, "purpose": {"spam"}, "action": {"opt_in"}},
			{"recipient": {"ann@example.org"}, "purpose": {"marketing"}, "action": {"opt_in"}}, // an email opt-in needs evidence
		} {
			if st, body := post("/console/consents", v); st != http.StatusBadRequest || strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
				t.Errorf("bad consent %v: %d", v, st)
			}
		}
		if h, _ := e.st.Consents(context.Background(), a, "31612345679"); len(h) != 0 {
			t.Error("a refused consent was stored")
		}
		if st, _ := b.do("POST", "/console/consents", url.Values{"recipient": {"+31612345679"}, "purpose": {"marketing"}, "action": {"opt_in"}}); st != http.StatusForbidden {
			t.Errorf("CSRF-less consent: %d", st)
		}
		if st, _ := b.do("GET", "/console/consents?recipient="+url.QueryEscape("<b>x</b>"), nil); st != http.StatusBadRequest {
			t.Errorf("bad search: %d", st)
		}
		// An opt-out suppresses; only an opt-in lifts it.
		post("/console/consents", url.Values{"recipient": {"+31612345678"}, "purpose": {"marketing"}, "action": {"opt_out"}})
		if _, page = b.do("GET", "/console/consents?recipient=31612345678", nil); !strings.Contains(page, "suppressed: <bdi>opted out</bdi>") {
			t.Errorf("after the opt-out: %.3000s", page)
		}
		if st, _ := post("/console/suppressions/remove", url.Values{"channel": {"sms"}, "recipient": {"31612345678"}, "reason": {"asked"}}); st != http.StatusConflict {
			t.Errorf("removing an opt-out: %d", st)
		}
		// Suppressions by hand.
		if st, loc := post("/console/suppressions", url.Values{"channel": {"email"}, "recipient": {"Bob@Example.org"}, "reason": {"bounce"}}); st != http.StatusSeeOther {
			t.Fatalf("add suppression: %d %s", st, loc)
		}
		if _, page = b.do("GET", "/console/consents?contains=bob&channel=email", nil); !strings.Contains(page, "bob@example.org") || !strings.Contains(page, "hard bounce") {
			t.Errorf("suppression list: %.3000s", page)
		}
		for _, v := range []url.Values{
			{"channel": {"email"}, "recipient": {"<script>@x.org"}, "reason": {"manual"}},
			{"channel": {"fax"}, "recipient": {"31612345670"}, "reason": {"manual"}},
			{"channel": {"sms"}, "recipient": {"31612345670"}, "reason": {"opt_out"}},
		} {
			if st, _ := post("/console/suppressions", v); st != http.StatusBadRequest {
				t.Errorf("bad suppression %v: %d", v, st)
			}
		}
		if st, _ := post("/console/suppressions/remove", url.Values{"channel": {"email"}, "recipient": {"bob@example.org"}}); st != http.StatusBadRequest {
			t.Errorf("removal without a reason: %d", st)
		}
		if st, _ := post("/console/suppressions/remove", url.Values{"channel": {"email"}, "recipient": {"bob@example.org"}, "reason": {"<script>x</script>"}}); st != http.StatusBadRequest {
			t.Errorf("removal with HTML: %d", st)
		}
		if st, _ := post("/console/suppressions/remove", url.Values{"channel": {"email"}, "recipient": {"bob@example.org"}, "reason": {"the person asked by phone"}}); st != http.StatusSeeOther {
			t.Errorf("removal: %d", st)
		}
		if why, _ := e.st.Suppressed(context.Background(), a, "email", []string{"bob@example.org"}); why["bob@example.org"] != "" {
			t.Error("still suppressed")
		}
		// An import runs in the background; its page shows the progress.
		csv := "recipient,purpose,action,legal_age\n+31612340001,marketing,opt_in,true\n+31612340002,marketing,opt_out,false\n"
		st, loc = b.upload("/console/imports", map[string]string{"csrf": csrf, "kind": "consents"}, "c.csv", []byte(csv))
		m := importRE.FindStringSubmatch(loc)
		if st != http.StatusSeeOther || m == nil {
			t.Fatalf("import: %d %s", st, loc)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, page = b.do("GET", loc, nil)
			if strings.Contains(page, "<dd role=\"status\">done</dd>") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("import page: %.3000s", page)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, `value="100"`) {
			t.Errorf("a finished import's page: %.3000s", page)
		}
		if h, _ := e.st.Consents(context.Background(), a, "31612340002"); len(h) != 1 || h[0].Action != store.OptOut || h[0].Source != store.SourceImport {
			t.Errorf("imported: %+v", h)
		}
		// A running import's page refreshes itself.
		if _, page = b.do("GET", "/console/imports/"+e.importOf(a, store.ImportRunning), nil); !strings.Contains(page, `<meta http-equiv="refresh" content="2">`) ||
			!strings.Contains(page, `value="25"`) {
			t.Errorf("a running import's page: %.3000s", page)
		}
		// A bad file fails whole, each bad row named by its line.
		st, loc = b.upload("/console/imports", map[string]string{"csrf": csrf, "kind": "suppressions"}, "s.csv", []byte("channel,recipient\nsms,not-a-number\nsms,<script>\n"))
		if st != http.StatusSeeOther {
			t.Fatalf("bad import: %d %s", st, loc)
		}
		for deadline = time.Now().Add(15 * time.Second); ; {
			_, page = b.do("GET", loc, nil)
			if strings.Contains(page, "failed, nothing imported") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("bad import page: %.3000s", page)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(page, "line 2") || strings.Contains(page, "<script>") {
			t.Errorf("bad import's page: %.3000s", page)
		}
		// Oversized, empty, kindless and CSRF-less uploads.
		if st, _ := b.upload("/console/imports", map[string]string{"csrf": csrf, "kind": "consents"}, "big.csv", bytes.Repeat([]byte("x"), 10<<20+1)); st != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized upload: %d", st)
		}
		if st, _ := b.upload("/console/imports", map[string]string{"csrf": csrf, "kind": "suppressions"}, "e.csv", nil); st != http.StatusBadRequest {
			t.Errorf("empty upload: %d", st)
		}
		if st, _ := b.upload("/console/imports", map[string]string{"csrf": csrf, "kind": "prices"}, "p.csv", []byte("a\n")); st != http.StatusBadRequest {
			t.Errorf("import of another kind: %d", st)
		}
		if st, _ := b.upload("/console/imports", map[string]string{"kind": "consents"}, "c.csv", []byte(csv)); st != http.StatusForbidden {
			t.Errorf("CSRF-less upload: %d", st)
		}
		if st, _ := e.browser().upload("/console/imports", map[string]string{"csrf": csrf, "kind": "consents"}, "c.csv", []byte(csv)); st != http.StatusSeeOther {
			t.Errorf("upload without a session: %d", st) // sent to sign in
		}
	})
}

// TestCasesPage: proof requests with their countdowns, in English and in
// Arabic (Arabic-Indic digits), answered once.
func TestCasesPage(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		u := e.user(a, users.RoleCompliance)
		open := e.proofCase(a, "31612345678", 50*time.Hour+30*time.Minute)
		soon := e.proofCase(a, "", 5*time.Hour+30*time.Minute)
		late := e.proofCase(a, "", -time.Hour)
		b := e.browser()
		csrf := b.signIn(u)
		_, page := b.do("GET", "/console/cases", nil)
		for _, want := range []string{open, "2 d 2 h left", "<strong>5 h 29 min left</strong>", "<strong>past the deadline</strong>", soon, late} {
			if !strings.Contains(page, want) {
				t.Errorf("cases page lacks %q", want)
			}
		}
		ar := e.browser()
		ar.lang = "ar"
		ar.signIn(u)
		if _, page = ar.do("GET", "/console/cases", nil); !strings.Contains(page, "المتبقي: ٢ يوم، ٢ ساعة") || !strings.Contains(page, `dir="rtl"`) {
			t.Errorf("Arabic cases page: %.3000s", page)
		}
		if st, _ := b.do("POST", "/console/cases/"+open+"/proof", url.Values{"csrf": {csrf}, "proof": {"<script>x</script>"}}); st != http.StatusBadRequest {
			t.Errorf("HTML proof: %d", st)
		}
		if st, _ := b.do("POST", "/console/cases/"+open+"/proof", url.Values{"csrf": {csrf}, "proof": {"  "}}); st != http.StatusBadRequest {
			t.Errorf("empty proof: %d", st)
		}
		if st, _ := b.do("POST", "/console/cases/"+open+"/proof", url.Values{"proof": {"x"}}); st != http.StatusForbidden {
			t.Errorf("CSRF-less proof: %d", st)
		}
		st, loc := b.upload("/console/cases/"+open+"/proof", map[string]string{"csrf": csrf}, "proof.csv", []byte("recipient,action\n31612345678,opt_in\n"))
		if st != http.StatusSeeOther || loc != "/console/cases?answered=1" {
			t.Fatalf("answer: %d %s", st, loc)
		}
		cs, _ := e.st.ProofCases(context.Background(), a)
		for _, c := range cs {
			if c.ID == open && (c.Status != store.CaseAnswered || !strings.Contains(c.Proof, "31612345678,opt_in")) {
				t.Errorf("answered case: %+v", c)
			}
		}
		if st, _ := b.do("POST", "/console/cases/"+open+"/proof", url.Values{"csrf": {csrf}, "proof": {"again"}}); st != http.StatusConflict {
			t.Errorf("answering twice: %d", st)
		}
		if _, page = b.do("GET", "/console/cases?answered=1", nil); !strings.Contains(page, "The proof is sent") || !strings.Contains(page, ">answered<") {
			t.Errorf("after the answer: %.3000s", page)
		}
	})
}
