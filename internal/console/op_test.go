package console_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// pendingSender registers a sender the account asked for.
func (e *env) pendingSender(accountID, originator string) {
	if err := e.st.SaveSender(context.Background(), &store.Sender{AccountID: accountID, Originator: originator, Status: store.SenderPending,
		RequestedBy: "api", CreatedAt: time.Now().UTC()}); err != nil {
		e.t.Fatal(err)
	}
}

// held accepts a message held for review and returns its id.
func (e *env) held(accountID, rule string) string {
	m := &message.Message{ID: ids.New(), AccountID: accountID, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
		Originator: "omnigate", Body: "held", Validity: 3600, CreatedAt: time.Now().UTC().Truncate(time.Microsecond), Purpose: "transactional",
		Details:    message.Details{SMS: &message.SMS{DataCoding: "plain"}},
		Recipients: []message.Recipient{{Address: "31612345678", Country: "NL", CountryPrefix: 31, Status: message.Sent, StatusAt: time.Now().UTC(), PartCount: 1, Price: 50_000, PriceCurrency: "EUR"}}}
	acc := &store.Accept{Message: m, Charge: 50_000, Currency: "EUR", Units: 1, Hold: &store.Review{Rule: rule, Reason: "looks like a card number"}}
	if err := e.st.AcceptCharged(context.Background(), []*store.Accept{acc}); err != nil || acc.Err != nil {
		e.t.Fatal(err, acc.Err)
	}
	return m.ID
}

// uploadOrdered posts a multipart form: fields in order (the CSRF token
// before the file, as the streamed DND upload needs), then the file (when
// file is not nil).
func (b *browser) uploadOrdered(path string, fields [][2]string, file []byte) (int, string) {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	if file != nil {
		w, _ := mw.CreateFormFile("file", "registry.csv")
		w.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
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

// TestOperatorPagesRoles checks every role against every operator page
// and action: only operators open them, the others get 403 and change
// nothing.
func TestOperatorPagesRoles(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		for _, role := range append(users.AccountRoles, users.RoleOperator) {
			acct := a
			if role == users.RoleOperator {
				acct = ""
			}
			u := e.user(acct, role)
			b := e.browser()
			csrf := b.signIn(u)
			origin := strings.ToUpper(ids.New()[24:])
			e.pendingSender(a, origin)
			held := e.held(a, "content.card_number")
			routes := []route{
				{"GET", "/console/operator/senders", users.OperateSenders, nil},
				{"POST", "/console/operator/senders/" + a, users.OperateSenders, url.Values{"originator": {origin}, "decision": {"approve"}}},
				{"GET", "/console/operator/reviews", users.OperateReviews, nil},
				{"GET", "/console/operator/reviews?status=released", users.OperateReviews, nil},
				{"POST", "/console/operator/reviews/" + held + "/reject", users.OperateReviews, url.Values{}},
				{"GET", "/console/operator/imports", users.OperateImports, nil},
				{"GET", "/console/operator/connectors", users.OperateRouting, nil},
				{"GET", "/console/operator/queue", users.OperateQueue, nil},
				{"GET", "/console/operator/cases", users.OperateCases, nil},
				{"GET", "/console/operator/cases?status=all", users.OperateCases, nil},
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
			if st, _ := b.uploadOrdered("/console/operator/imports", [][2]string{{"csrf", csrf}, {"registry", "XX-TEST"}}, []byte("919800000001\n")); (st == http.StatusSeeOther) != users.Can(role, users.OperateImports) {
				t.Errorf("%s: upload answered %d", role, st)
			}
			// What a refused role tried changed nothing.
			if role != users.RoleOperator {
				ss, _ := e.st.Senders(context.Background(), a)
				for _, s := range ss {
					if s.Originator == origin && s.Status != store.SenderPending {
						t.Errorf("%s decided sender %s: %s", role, origin, s.Status)
					}
				}
				rv, _ := e.st.Reviews(context.Background(), store.ReviewPending, 1000)
				found := false
				for _, r := range rv {
					found = found || r.MessageID == held
				}
				if !found {
					t.Errorf("%s decided review %s", role, held)
				}
			}
			_, page := b.do("GET", "/console/profile", nil)
			if got := strings.Contains(page, `href="/console/operator/queue"`); got != (role == users.RoleOperator) {
				t.Errorf("%s: queue in the navigation = %v", role, got)
			}
		}
	})
}

// TestSenderApprovalQueue: a refusal needs a reason; a decision needs a
// sender the account asked for, of an account that exists; what is
// decided leaves the queue with the operator's note.
func TestSenderApprovalQueue(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		e.pendingSender(a, "ACMEBANK")
		e.pendingSender(a, "ACMESHOP")
		op := e.user("", users.RoleOperator)
		b := e.browser()
		csrf := b.signIn(op)
		if st, body := b.do("GET", "/console/operator/senders", nil); st != 200 || !strings.Contains(body, "ACMEBANK") || !strings.Contains(body, "ACMESHOP") {
			t.Fatalf("queue: %d %.300s", st, body)
		}
		post := func(account string, v url.Values) (int, string) {
			v.Set("csrf", csrf)
			return b.do("POST", "/console/operator/senders/"+account, v)
		}
		if st, body := post(a, url.Values{"originator": {"ACMEBANK"}, "decision": {"refuse"}}); st != http.StatusBadRequest || !strings.Contains(body, "reason") {
			t.Fatalf("refusal without a reason: %d %.300s", st, body)
		}
		if st, _ := post(a, url.Values{"originator": {"ACMEBANK"}, "decision": {"refuse"}, "note": {strings.Repeat("x", 501)}}); st != http.StatusBadRequest {
			t.Fatalf("refusal with a long reason: %d", st)
		}
		if st, _ := post(a, url.Values{"originator": {"ACMEBANK"}, "decision": {"maybe"}}); st != http.StatusBadRequest {
			t.Fatalf("unknown decision: %d", st)
		}
		if st, _ := post(a, url.Values{"originator": {"NOBODY"}, "decision": {"approve"}}); st != http.StatusNotFound {
			t.Fatalf("a sender nobody asked for: %d", st)
		}
		if st, _ := post("no-such-account", url.Values{"originator": {"ACMEBANK"}, "decision": {"approve"}}); st != http.StatusNotFound {
			t.Fatalf("an unknown account: %d", st)
		}
		if st, _ := b.do("POST", "/console/operator/senders/"+a, url.Values{"originator": {"ACMEBANK"}, "decision": {"approve"}}); st != http.StatusForbidden {
			t.Fatalf("CSRF-less decision: %d", st)
		}
		ss, _ := e.st.Senders(context.Background(), a)
		for _, s := range ss {
			if s.Status != store.SenderPending {
				t.Fatalf("refused input changed %s: %s", s.Originator, s.Status)
			}
		}
		if st, loc := post(a, url.Values{"originator": {"ACMEBANK"}, "decision": {"refuse"}, "note": {"<script>alert(1)</script> not your brand"}}); st != http.StatusSeeOther || loc != "/console/operator/senders" {
			t.Fatalf("refusal: %d %s", st, loc)
		}
		if st, _ := post(a, url.Values{"originator": {"ACMESHOP"}, "decision": {"approve"}}); st != http.StatusSeeOther {
			t.Fatalf("approval: %d", st)
		}
		got := map[string]store.Sender{}
		ss, _ = e.st.Senders(context.Background(), a)
		for _, s := range ss {
			got[s.Originator] = s
		}
		if s := got["ACMEBANK"]; s.Status != store.SenderRejected || s.Note != "<script>alert(1)</script> not your brand" || !strings.Contains(s.DecidedBy, op.ID) {
			t.Errorf("refused sender %+v", s)
		}
		if s := got["ACMESHOP"]; s.Status != store.SenderApproved {
			t.Errorf("approved sender %+v", s)
		}
		if _, body := b.do("GET", "/console/operator/senders", nil); strings.Contains(body, "ACMEBANK") || strings.Contains(body, "ACMESHOP") {
			t.Errorf("decided senders still in the queue")
		}
	})
}

// TestReviewQueue: release sends, reject fails and refunds, a decided
// message cannot be decided again, an unknown one is 404.
func TestReviewQueue(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		release, reject := e.held(a, "content.card_number"), e.held(a, "content.link_shortener")
		op := e.user("", users.RoleOperator)
		b := e.browser()
		csrf := b.signIn(op)
		if st, body := b.do("GET", "/console/operator/reviews", nil); st != 200 || !strings.Contains(body, release) || !strings.Contains(body, "content.link_shortener") {
			t.Fatalf("queue: %d %.300s", st, body)
		}
		if st, _ := b.do("GET", "/console/operator/reviews?status=nonsense", nil); st != http.StatusBadRequest {
			t.Fatalf("unknown status filter: %d", st)
		}
		v := url.Values{"csrf": {csrf}}
		if st, _ := b.do("POST", "/console/operator/reviews/"+release+"/release", v); st != http.StatusSeeOther {
			t.Fatalf("release: %d", st)
		}
		if st, _ := b.do("POST", "/console/operator/reviews/"+reject+"/reject", v); st != http.StatusSeeOther {
			t.Fatalf("reject: %d", st)
		}
		if st, _ := b.do("POST", "/console/operator/reviews/"+reject+"/release", v); st != http.StatusConflict {
			t.Fatalf("deciding twice: %d", st)
		}
		if st, _ := b.do("POST", "/console/operator/reviews/"+ids.New()+"/release", v); st != http.StatusNotFound {
			t.Fatalf("unknown message: %d", st)
		}
		if st, _ := b.do("POST", "/console/operator/reviews/"+release+"/destroy", v); st != http.StatusNotFound {
			t.Fatalf("unknown action: %d", st)
		}
		m, err := e.st.GetMessage(context.Background(), a, reject)
		if err != nil || m.Recipients[0].Status != message.DeliveryFailed {
			t.Fatalf("rejected message: %+v %v", m, err)
		}
		_, body := b.do("GET", "/console/operator/reviews?status=released", nil)
		if !strings.Contains(body, release) || !strings.Contains(body, op.ID) {
			t.Errorf("released list: %.500s", body)
		}
	})
}

// TestDNDImportUpload: an operator uploads a registry file; the import
// runs in the background and its page shows it done; the numbers are
// listed. Uploads without the token first, without a registry or file,
// or with markup in the registry start nothing.
func TestDNDImportUpload(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		op := e.user("", users.RoleOperator)
		b := e.browser()
		csrf := b.signIn(op)
		ctx := context.Background()
		before, _ := e.st.ListImports(ctx, "", false, 1000)
		registry := "T-" + strings.ToUpper(ids.New()[26:])
		file := []byte("number,listed\n919800000001,2026-01-02\n9198000002\n")
		for _, bad := range []struct {
			name   string
			fields [][2]string
			file   []byte
			want   int
		}{
			{"no token", [][2]string{{"registry", registry}}, file, http.StatusForbidden},
			{"token after the file", nil, file, http.StatusForbidden},
			{"wrong token", [][2]string{{"csrf", "forged"}, {"registry", registry}}, file, http.StatusForbidden},
			{"no registry", [][2]string{{"csrf", csrf}}, file, http.StatusBadRequest},
			{"markup in the registry", [][2]string{{"csrf", csrf}, {"registry", "<b>x</b>"}}, file, http.StatusBadRequest},
			{"bad scope", [][2]string{{"csrf", csrf}, {"registry", registry}, {"scope", "some"}}, file, http.StatusBadRequest},
			{"no file", [][2]string{{"csrf", csrf}, {"registry", registry}}, nil, http.StatusBadRequest},
			{"empty file", [][2]string{{"csrf", csrf}, {"registry", registry}}, []byte{}, http.StatusBadRequest},
			{"oversized field", [][2]string{{"csrf", csrf}, {"registry", strings.Repeat("x", 5000)}}, file, http.StatusRequestEntityTooLarge},
		} {
			if st, body := b.uploadOrdered("/console/operator/imports", bad.fields, bad.file); st != bad.want {
				t.Errorf("%s: %d, want %d: %.300s", bad.name, st, bad.want, body)
			}
		}
		// A urlencoded post is no upload.
		if st, _ := b.do("POST", "/console/operator/imports", url.Values{"csrf": {csrf}, "registry": {registry}}); st != http.StatusForbidden {
			t.Errorf("urlencoded upload: %d", st)
		}
		if after, _ := e.st.ListImports(ctx, "", false, 1000); len(after) != len(before) {
			t.Fatalf("refused uploads started %d imports", len(after)-len(before))
		}
		st, loc := b.uploadOrdered("/console/operator/imports", [][2]string{{"csrf", csrf}, {"registry", registry}, {"scope", "marketing"}}, file)
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/operator/imports/") {
			t.Fatalf("upload: %d %s", st, loc)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			im, err := e.st.GetImport(ctx, "", false, strings.TrimPrefix(loc, "/console/operator/imports/"))
			if err != nil {
				t.Fatal(err)
			}
			if im.State == store.ImportDone {
				if im.Imported != 2 || im.Origin != "console user "+op.ID {
					t.Errorf("import %+v", im)
				}
				break
			}
			if im.State == store.ImportFailed || time.Now().After(deadline) {
				t.Fatalf("import %+v", im)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if st, body := b.do("GET", loc, nil); st != 200 || !strings.Contains(body, registry) || !strings.Contains(body, `value="100"`) {
			t.Fatalf("import page: %d %.500s", st, body)
		}
		if _, body := b.do("GET", "/console/operator/imports", nil); !strings.Contains(body, registry) {
			t.Errorf("imports list lacks the import")
		}
		if st, _ := b.do("GET", "/console/operator/imports/"+ids.New(), nil); st != http.StatusNotFound {
			t.Errorf("unknown import: %d", st)
		}
		listed, err := e.st.DNDListed(ctx, []string{"919800000001", "919800000299", "911111111111"})
		if err != nil || listed["919800000001"] != registry || listed["919800000299"] != registry || listed["911111111111"] != "" {
			t.Errorf("listed %v %v", listed, err)
		}
	})
}

// TestOperatorStatePages: the connectors page shows connectors with their
// bind leases and routes; the queue shows depth per kind; the cases page
// shows every account's open cases with the time left.
func TestOperatorStatePages(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.account("A")
		name := "smsc-" + ids.New()[26:]
		if err := e.st.SaveConnector(ctx, store.ConnectorConfig{Name: name, Kind: "smpp", Settings: []byte(`{}`), Enabled: true, UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		if _, err := e.st.ClaimBinds(ctx, store.BindClaim{Connector: name, Node: "node-one", Total: 3, Want: 2, Now: now, Until: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if err := e.st.AddRoute(ctx, &store.Route{AccountID: a, Channel: "sms", Connectors: []string{name}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		e.held(a, "content.card_number")
		caseID := ids.New()
		if err := e.st.OpenProofCase(ctx, &store.ProofCase{ID: caseID, AccountID: a, Recipient: "31612345678", Reason: "complaint", OpenedBy: "operator",
			Status: store.CaseOpen, DueAt: now.Add(50 * time.Hour), CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		op := e.user("", users.RoleOperator)
		b := e.browser()
		b.signIn(op)
		st, body := b.do("GET", "/console/operator/connectors", nil)
		if st != 200 || !strings.Contains(body, name) || !strings.Contains(body, "2 of 2") || !strings.Contains(body, "node-one ×2") || !strings.Contains(body, a) {
			t.Fatalf("connectors: %d %.2000s", st, body)
		}
		if st, body = b.do("GET", "/console/operator/queue", nil); st != 200 || !strings.Contains(body, "<code>send</code>") {
			t.Fatalf("queue: %d %.1000s", st, body)
		}
		if st, body = b.do("GET", "/console/operator/cases", nil); st != 200 || !strings.Contains(body, caseID) || !strings.Contains(body, "2 d 1 h left") && !strings.Contains(body, "2 d 2 h left") {
			t.Fatalf("cases: %d %.2000s", st, body)
		}
		b.lang = "ar"
		if st, body = b.do("GET", "/console/operator/cases", nil); st != 200 || !strings.Contains(body, `dir="rtl"`) || !strings.Contains(body, "المتبقي: ٢ يوم، ") {
			t.Fatalf("cases in Arabic: %d %.500s", st, body)
		}
		if st, _ = b.do("GET", "/console/operator/cases?status=bogus", nil); st != http.StatusBadRequest {
			t.Fatalf("unknown case status: %d", st)
		}
	})
}

// Operators' actions in the console are rows of the stored audit log,
// under the account they changed, naming the operator as a user; what a
// role may not do writes nothing.
func TestOperatorActionsAudited(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.account("A")
		origin := strings.ToUpper(ids.New()[24:])
		e.pendingSender(a, origin)
		held := e.held(a, "content.card_number")

		dev := e.browser()
		csrf := dev.signIn(e.user(a, users.RoleOwner))
		if st, _ := dev.do("POST", "/console/operator/accounts/"+a+"/suspend", url.Values{"csrf": {csrf}, "reason": {"x"}}); st != http.StatusForbidden {
			t.Fatalf("an owner suspended an account: %d", st)
		}
		op := e.user("", users.RoleOperator)
		b := e.browser()
		csrf = b.signIn(op)
		for _, p := range []struct {
			path string
			form url.Values
		}{
			{"/console/operator/senders/" + a, url.Values{"originator": {origin}, "decision": {"approve"}}},
			{"/console/operator/reviews/" + held + "/reject", url.Values{}},
			{"/console/operator/accounts/" + a + "/suspend", url.Values{"reason": {"unpaid invoices"}}},
			{"/console/operator/accounts/" + a + "/lift", url.Values{}},
		} {
			p.form.Set("csrf", csrf)
			if st, body := b.do("POST", p.path, p.form); st != http.StatusSeeOther {
				t.Fatalf("%s: %d %.500s", p.path, st, body)
			}
		}
		rows, err := e.st.(store.AuditLog).AuditEntries(ctx, store.AuditFilter{AccountID: a, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]store.AuditEntry{}
		var ops []store.AuditEntry // the owner's sign-in is a row of the account too (signinaudit_test.go)
		for _, r := range rows {
			if r.ActorID == op.ID {
				ops = append(ops, r)
			}
			got[r.Action] = r
		}
		rows = ops
		for _, action := range []string{"console sender.approved", "console review.rejected", "console account.suspended", "console account.lifted"} {
			r, ok := got[action]
			if !ok {
				t.Errorf("no audit row %q in %+v", action, rows)
				continue
			}
			if r.ActorKind != "user" || r.ActorID != op.ID || r.IP == "" || !strings.HasPrefix(r.Object, "/console/operator/") {
				t.Errorf("%s: %+v", action, r)
			}
		}
		if len(rows) != 4 {
			t.Errorf("%d audit rows for the account, want the operator's 4: %+v", len(rows), rows)
		}
		if !strings.Contains(got["console sender.approved"].After, origin) {
			t.Errorf("the approval does not name the sender: %+v", got["console sender.approved"])
		}
	})
}
