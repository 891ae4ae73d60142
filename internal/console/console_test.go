package console_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/console"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/users"
)

const pw = "correct horse battery"

// env is a console on a real loopback server over a real store.
type env struct {
	t     testing.TB
	st    store.Store
	users *users.Service
	srv   *httptest.Server
	// driver and dsn open the store's database directly (bench fixtures
	// that have no batch path in the store).
	driver, dsn string
}

// shared are the stores and servers of each engine, opened once for the
// package (opening and migrating a store is most of a test's time); each
// test makes its own accounts and users, so tests do not see each other.
var (
	sharedMu sync.Mutex
	shared   = map[string]*env{}
	closers  []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range closers {
		c()
	}
	os.Exit(code)
}

func engines(t *testing.T, f func(t *testing.T, e *env)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			sharedMu.Lock()
			base, ok := shared[name]
			if !ok {
				var closer func()
				base, closer = newEnv(t, name)
				if base == nil {
					sharedMu.Unlock()
					t.Skip(pgtest.EnvVar + " is not set")
				}
				closers = append([]func(){closer}, closers...)
				shared[name] = base
			}
			sharedMu.Unlock()
			e := *base
			e.t = t
			f(t, &e)
		})
	}
}

// newEnv opens a store of the engine and serves a console on it; nil
// when the engine is PostgreSQL and none is configured.
func newEnv(tb testing.TB, engine string) (*env, func()) {
	var st store.Store
	var err error
	var cleanup []func()
	var driver, dsn string
	if engine == "sqlite" {
		dir, derr := os.MkdirTemp("", "console-test")
		if derr != nil {
			tb.Fatal(derr)
		}
		cleanup = append(cleanup, func() { os.RemoveAll(dir) })
		driver, dsn = "sqlite", filepath.Join(dir, "t.db")+"?_pragma=busy_timeout(10000)"
		st, err = sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, "t.db")})
	} else {
		if !pgtest.Available() {
			return nil, nil
		}
		var drop func()
		var u string
		u, drop = pgURL()
		driver, dsn = "pgx", u
		cleanup = append(cleanup, drop)
		st, err = postgres.Open(context.Background(), postgres.Config{URL: u, MaxConns: 4})
	}
	if err != nil {
		tb.Fatal(err)
	}
	g := authguard.New(authguard.Config{PerAddress: 100, PerPrefix: 20}, nil, nil)
	svc := users.New(users.Config{DefaultSeats: 10, PasswordMemory: 1024}, st, nil, nil, nil, g, nil)
	mux := http.NewServeMux()
	con := console.New(console.Config{}, svc, st, nil)
	con.UseDesk(compliance.NewDesk(compliance.DeskConfig{}, st, nil))
	changes := audit.NewLog(st.(store.AuditLog), nil)
	changes.UseKeys(st.(interface {
		AuditKey(context.Context, string) []byte
	}).AuditKey) // as the server does: emails become pseudonyms
	con.UseAuditLog(changes)
	svc.UseAuditLog(changes) // signinaudit_test.go
	runner := imports.New(st)
	con.UseImports(runner)
	con.UseBilling(billing.New(billing.Config{}, st, nil, nil, nil))
	con.UseOperations(console.Operations{Imports: runner}) // op_test.go
	con.Register(mux)
	srv := httptest.NewServer(mux)
	svc.SetPublicURL(srv.URL)
	return &env{t: tb, st: st, users: svc, srv: srv, driver: driver, dsn: dsn}, func() {
		srv.Close()
		runner.Close()
		st.Close()
		for _, c := range cleanup {
			c()
		}
	}
}

func (e *env) account(name string) string {
	c, err := accounts.Create(context.Background(), e.st, accounts.New{Name: name, Balance: 5_000_000})
	if err != nil {
		e.t.Fatal(err)
	}
	return c.Account.ID
}

// key makes an access key of the account and returns its id.
func (e *env) key(accountID string) string {
	text, err := accounts.CreateKey(context.Background(), e.st, accountID, false)
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := e.st.AccessKeyByHash(context.Background(), auth.Hash(text))
	if err != nil {
		e.t.Fatal(err)
	}
	return k.ID
}

func (e *env) user(accountID, role string) *store.User {
	u, err := e.users.Create(context.Background(), users.NewUser{AccountID: accountID, Email: ids.New()[20:] + "@example.org", Role: role, Password: pw})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) message(accountID, reference string) *message.Message {
	now := time.Now().UTC().Truncate(time.Microsecond)
	m := &message.Message{ID: ids.New(), AccountID: accountID, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
		Originator: "omnigate", Body: "hello", Reference: reference, Validity: 3600, CreatedAt: now, Purpose: "transactional",
		Details:    message.Details{SMS: &message.SMS{DataCoding: "plain"}},
		Recipients: []message.Recipient{{Address: "31612345678", Country: "NL", CountryPrefix: 31, Status: message.Delivered, StatusAt: now, PartCount: 1, Price: 50_000, PriceCurrency: "EUR"}}}
	if err := e.st.AcceptMessages(context.Background(), []*message.Message{m}); err != nil {
		e.t.Fatal(err)
	}
	// What the maintenance loop does every few seconds: the Overview
	// reads the folded roll-up.
	if _, err := e.st.FoldMessageCounts(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// browser is a client with its own cookies, that does not follow
// redirects (so that tests see them).
type browser struct {
	e    *env
	c    *http.Client
	lang string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values) (int, string) {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
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

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in %.300s", page)
	}
	return m[1]
}

// signIn signs u in (with the TOTP code when u has a secret) and returns
// the session's CSRF token.
func (b *browser) signIn(u *store.User) string {
	t := b.e.t
	t.Helper()
	_, page := b.do("GET", "/console/signin", nil)
	st, loc := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {u.Email}, "password": {pw}})
	if st != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %.300s", st, loc)
	}
	if loc == "/console/signin/totp" {
		_, page = b.do("GET", loc, nil)
		code, _ := users.TOTPCode(u.TOTPSecret, users.TOTPStep(time.Now()))
		if st, loc = b.do("POST", loc, url.Values{"csrf": {csrfOf(t, page)}, "code": {code}}); st != http.StatusSeeOther || loc != "/console" {
			t.Fatalf("TOTP: %d %.300s", st, loc)
		}
	}
	_, page = b.do("GET", "/console/profile", nil)
	return csrfOf(t, page)
}

func TestSignIn(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		owner := e.user(a, users.RoleOwner)
		b := e.browser()
		// Pages need a session.
		if st, loc := b.do("GET", "/console/overview", nil); st != http.StatusSeeOther || loc != "/console/signin" {
			t.Fatalf("overview without a session: %d %s", st, loc)
		}
		_, page := b.do("GET", "/console/signin", nil)
		csrf := csrfOf(t, page)
		// No CSRF token: refused, nothing checked.
		if st, body := b.do("POST", "/console/signin", url.Values{"email": {owner.Email}, "password": {pw}}); st != http.StatusForbidden || !strings.Contains(body, "did not come from the console") {
			t.Fatalf("CSRF-less sign-in: %d %.200s", st, body)
		}
		if st, body := b.do("POST", "/console/signin", url.Values{"csrf": {csrf}, "email": {owner.Email}, "password": {"wrong password!"}}); st != http.StatusUnauthorized || !strings.Contains(body, "The email or password is wrong.") {
			t.Fatalf("wrong password: %d %.200s", st, body)
		}
		_, page = b.do("GET", "/console/signin", nil)
		if st, loc := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {owner.Email}, "password": {pw}}); st != http.StatusSeeOther || loc != "/console" {
			t.Fatalf("sign-in: %d %s", st, loc)
		}
		if st, loc := b.do("GET", "/console", nil); st != http.StatusSeeOther || loc != "/console/overview" {
			t.Fatalf("home: %d %s", st, loc)
		}
		st, body := b.do("GET", "/console/overview", nil)
		if st != 200 || !strings.Contains(body, "<svg") || !strings.Contains(body, `dir="ltr"`) {
			t.Fatalf("overview: %d %.300s", st, body)
		}
		// A POST without the session's token is refused.
		if st, _ := b.do("POST", "/console/users/invite", url.Values{"email": {"x@example.org"}, "role": {"billing"}}); st != http.StatusForbidden {
			t.Fatalf("CSRF-less post: %d", st)
		}
		if st, _ := b.do("POST", "/console/users/invite", url.Values{"csrf": {"forged"}, "email": {"x@example.org"}, "role": {"billing"}}); st != http.StatusForbidden {
			t.Fatalf("forged CSRF: %d", st)
		}
		// Oversized forms are refused.
		csrf = csrfOf(t, body)
		if st, _ := b.do("POST", "/console/users/invite", url.Values{"csrf": {csrf}, "email": {strings.Repeat("x", 100_000)}}); st != http.StatusRequestEntityTooLarge {
			t.Fatalf("oversized form: %d", st)
		}
		// Sign out ends the session.
		if st, _ := b.do("POST", "/console/signout", url.Values{"csrf": {csrf}}); st != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", st)
		}
		if st, _ := b.do("GET", "/console/overview", nil); st != http.StatusSeeOther {
			t.Fatalf("after sign-out: %d", st)
		}
	})
}

func TestOperatorTOTP(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		op, err := e.users.Create(context.Background(), users.NewUser{Email: "op@example.org", Role: users.RoleOperator, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		_, page := b.do("GET", "/console/signin", nil)
		if st, loc := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {op.Email}, "password": {pw}}); loc != "/console/signin/totp" {
			t.Fatalf("operator sign-in: %d %s", st, loc)
		}
		// Not verified yet: pages send back to the code.
		if st, loc := b.do("GET", "/console/profile", nil); st != http.StatusSeeOther || loc != "/console/signin/totp" {
			t.Fatalf("profile before the code: %d %s", st, loc)
		}
		_, page = b.do("GET", "/console/signin/totp", nil)
		csrf := csrfOf(t, page)
		code, _ := users.TOTPCode(op.TOTPSecret, users.TOTPStep(time.Now()))
		wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
		if st, body := b.do("POST", "/console/signin/totp", url.Values{"csrf": {csrf}, "code": {wrong}}); st != http.StatusUnauthorized || !strings.Contains(body, "The code is wrong") {
			t.Fatalf("wrong code: %d %.200s", st, body)
		}
		if st, loc := b.do("POST", "/console/signin/totp", url.Values{"csrf": {csrf}, "code": {code}}); st != http.StatusSeeOther || loc != "/console" {
			t.Fatalf("right code: %d %s", st, loc)
		}
		// The same code in another browser: a replay, refused.
		b2 := e.browser()
		_, page = b2.do("GET", "/console/signin", nil)
		b2.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {op.Email}, "password": {pw}})
		_, page = b2.do("GET", "/console/signin/totp", nil)
		if st, _ := b2.do("POST", "/console/signin/totp", url.Values{"csrf": {csrfOf(t, page)}, "code": {code}}); st != http.StatusUnauthorized {
			t.Fatalf("replayed code: %d", st)
		}
		// An operator sees no account page.
		if st, _ := b.do("GET", "/console/messages", nil); st != http.StatusForbidden {
			t.Fatalf("operator opens messages: %d", st)
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// route is a console page or action and the permission it needs.
type route struct {
	method, path string
	perm         users.Permission
	form         url.Values
}

// TestRolesPages checks every role against every page and action: allowed
// ones answer (200 or a redirect), the others 403, as users.Can says.
func TestRolesPages(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		m := e.message(a, "ref-a")
		for _, role := range append(users.AccountRoles, users.RoleOperator) {
			acct := a
			if role == users.RoleOperator {
				acct = ""
			}
			u := e.user(acct, role)
			b := e.browser()
			csrf := b.signIn(u)
			// A victim user to act on, fresh for each role.
			victim := e.user(a, users.RoleDeveloper)
			victimKey := e.key(a)
			routes := []route{
				{"GET", "/console/overview", users.ViewOverview, nil},
				{"GET", "/console/messages?reference=ref-a", users.ViewMessages, nil},
				{"GET", "/console/messages/" + m.ID, users.ViewMessages, nil},
				{"GET", "/console/billing", users.ViewBilling, nil},
				{"GET", "/console/billing/statement.csv?month=" + time.Now().UTC().Format("2006-01"), users.ExportStatements, nil},
				{"GET", "/console/users", users.ViewUsers, nil},
				{"GET", "/console/keys", users.ViewKeys, nil},
				{"POST", "/console/keys", users.ManageKeys, url.Values{"test": {"yes"}}},
				{"POST", "/console/keys/" + victimKey + "/revoke", users.ManageKeys, url.Values{}},
				{"GET", "/console/profile", users.ViewProfile, nil},
				{"POST", "/console/users/invite", users.ManageUsers, url.Values{"email": {ids.New()[22:] + "@example.org"}, "role": {"billing"}}},
				{"POST", "/console/users/" + victim.ID + "/role", users.ManageUsers, url.Values{"role": {"compliance"}}},
				{"POST", "/console/users/" + victim.ID + "/remove", users.ManageUsers, url.Values{}},
				{"POST", "/console/seats", users.ManageSeats, url.Values{"seats": {"1"}}},
				{"POST", "/console/profile/language", users.ViewProfile, url.Values{"language": {"fr"}}},
				{"GET", "/console/limits", users.ViewBilling, nil},
				{"POST", "/console/limits", users.ManageLimits, url.Values{"metric": {"messages"}, "channel": {"sms"}, "period": {"day"}, "limit": {"100"}, "policy": {"block"}}},
				{"POST", "/console/limits/remove", users.ManageLimits, url.Values{"metric": {"messages"}, "channel": {"sms"}, "period": {"day"}}},
				{"POST", "/console/limits/alerts", users.ManageLimits, url.Values{"alert_url": {"https://alerts.example.org/h"}, "alert_emails": {"a@example.org"}}},
				{"GET", "/console/statements", users.ExportStatements, nil},
				{"GET", "/console/statements/" + time.Now().UTC().Format("2006-01") + ".csv", users.ExportStatements, nil},
				{"GET", "/console/senders", users.ViewSenders, nil},
				{"GET", "/console/realtime", users.ViewRealtime, nil},
				{"GET", "/console/operator/accounts", users.OperateAccounts, nil},
				{"POST", "/console/operator/accounts/" + a + "/suspend", users.OperateAccounts, url.Values{"reason": {"test"}}},
				{"POST", "/console/operator/accounts/" + a + "/lift", users.OperateAccounts, url.Values{}},
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
			// Navigation shows only what the role may open.
			_, page := b.do("GET", "/console/profile", nil)
			if got := strings.Contains(page, `href="/console/billing"`); got != users.Can(role, users.ViewBilling) {
				t.Errorf("%s: billing in the navigation = %v", role, got)
			}
		}
	})
}

// TestCrossAccount: a user of account A opening B's URLs gets 404, and
// nothing of B's is shown or changed.
func TestCrossAccount(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a, bID := e.account("A"), e.account("B")
		owner := e.user(a, users.RoleOwner)
		other := e.user(bID, users.RoleDeveloper)
		mb := e.message(bID, "secret-of-b")
		b := e.browser()
		csrf := b.signIn(owner)
		if st, body := b.do("GET", "/console/messages/"+mb.ID, nil); st != http.StatusNotFound || strings.Contains(body, "secret-of-b") {
			t.Fatalf("B's message from A: %d", st)
		}
		if st, body := b.do("GET", "/console/messages?reference=secret-of-b", nil); st != 200 || strings.Contains(body, mb.ID) {
			t.Fatalf("B's message in A's search: %d", st)
		}
		if st, _ := b.do("POST", "/console/users/"+other.ID+"/role", url.Values{"csrf": {csrf}, "role": {"owner"}}); st != http.StatusNotFound {
			t.Fatalf("B's user's role from A: %d", st)
		}
		if st, _ := b.do("POST", "/console/users/"+other.ID+"/remove", url.Values{"csrf": {csrf}}); st != http.StatusNotFound {
			t.Fatalf("removing B's user from A: %d", st)
		}
		if u, err := e.st.GetUser(context.Background(), bID, other.ID); err != nil || u.Role != users.RoleDeveloper {
			t.Fatalf("B's user changed: %v %+v", err, u)
		}
		if _, body := b.do("GET", "/console/users", nil); strings.Contains(body, other.Email) {
			t.Fatal("B's user listed to A")
		}
		kb := e.key(bID)
		if st, _ := b.do("POST", "/console/keys/"+kb+"/revoke", url.Values{"csrf": {csrf}}); st != http.StatusNotFound {
			t.Fatalf("revoking B's key from A: %d", st)
		}
		if _, body := b.do("GET", "/console/keys", nil); strings.Contains(body, kb) {
			t.Fatal("B's key listed to A")
		}
	})
}

// TestInviteFlow: invite, accept once, the link is dead after; HTML in
// text fields is refused or escaped.
func TestInviteFlow(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		owner := e.user(a, users.RoleOwner)
		b := e.browser()
		csrf := b.signIn(owner)
		st, body := b.do("POST", "/console/users/invite", url.Values{"csrf": {csrf}, "email": {"new@example.org"}, "role": {"billing"}})
		link := regexp.MustCompile(`/console/invite/[A-Za-z0-9_-]+`).FindString(body)
		if st != 200 || link == "" {
			t.Fatalf("invite: %d %.300s", st, body)
		}
		if st, body := b.do("POST", "/console/users/invite", url.Values{"csrf": {csrf}, "email": {"<script>@x"}, "role": {"billing"}}); st != http.StatusBadRequest || strings.Contains(body, "<script>") {
			t.Fatalf("HTML email: %d", st)
		}
		in := e.browser()
		_, page := in.do("GET", link, nil)
		pre := csrfOf(t, page)
		if st, body := in.do("POST", link, url.Values{"csrf": {pre}, "name": {"<img src=x onerror=alert(1)>"}, "password": {pw}, "password2": {pw}}); st != http.StatusBadRequest || strings.Contains(body, "<img") {
			t.Fatalf("HTML name: %d %.300s", st, body)
		}
		_, page = in.do("GET", link, nil)
		if st, loc := in.do("POST", link, url.Values{"csrf": {csrfOf(t, page)}, "name": {"New"}, "password": {pw}, "password2": {pw}}); st != http.StatusSeeOther || loc != "/console/signin" {
			t.Fatalf("accept: %d %s", st, loc)
		}
		// A used link says so on its page, and refuses the form sent again.
		if st, _ := in.do("GET", link, nil); st != http.StatusGone {
			t.Fatalf("used invitation's page: %d", st)
		}
		_, page = in.do("GET", "/console/signin", nil) // a form token for a fresh form
		if st, _ := in.do("POST", link, url.Values{"csrf": {csrfOf(t, page)}, "name": {"Again"}, "password": {pw}, "password2": {pw}}); st != http.StatusGone {
			t.Fatalf("reused invitation: %d", st)
		}
		joined, err := e.st.UserByEmail(context.Background(), "new@example.org")
		if err != nil || joined.Role != users.RoleBilling || joined.AccountID != a {
			t.Fatalf("joined: %v %+v", err, joined)
		}
		// Both ends are rows of the stored audit log, the email a pseudonym.
		rows, err := e.st.(store.AuditLog).AuditEntries(context.Background(), store.AuditFilter{AccountID: a, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		byAction := map[string]store.AuditEntry{}
		for _, r := range rows {
			byAction[r.Action] = r
			if strings.Contains(r.After+r.Object, "new@example.org") || strings.Contains(r.After, pw) {
				t.Errorf("row %s holds the email or the password: %+v", r.Action, r)
			}
		}
		if r := byAction["console user.invited"]; r.ActorID != owner.ID || r.IP == "" || !strings.Contains(r.After, `"role":"billing"`) {
			t.Errorf("invited: %+v", r)
		}
		if r := byAction["console user.joined"]; r.ActorID != joined.ID || r.IP == "" || r.Object != "/console/users/"+joined.ID {
			t.Errorf("joined: %+v", r)
		}
		// Script in a search field comes back escaped.
		if _, body := b.do("GET", "/console/messages?reference="+url.QueryEscape(`"><script>x</script>`), nil); strings.Contains(body, "<script>x") {
			t.Fatal("search echoed unescaped")
		}
	})
}

// TestArabic: the language follows Accept-Language, then the user's
// setting; Arabic pages are right to left with Arabic-Indic digits.
func TestArabic(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		owner := e.user(a, users.RoleOwner)
		e.message(a, "r")
		b := e.browser()
		b.lang = "ar-EG,ar;q=0.9,en;q=0.5"
		csrf := b.signIn(owner)
		_, body := b.do("GET", "/console/overview", nil)
		if !strings.Contains(body, `dir="rtl"`) || !strings.Contains(body, `lang="ar"`) || !strings.Contains(body, "نظرة عامة") || !strings.Contains(body, "٥٫٠٠") ||
			!strings.Contains(body, "<dd>١٠٠٪</dd>") || !strings.Contains(body, "<dd>٠٫٠٥\u00a0EUR</dd>") {
			t.Fatalf("Arabic overview: %.600s", body)
		}
		b.do("POST", "/console/profile/language", url.Values{"csrf": {csrf}, "language": {"fr"}})
		if _, body = b.do("GET", "/console/overview", nil); !strings.Contains(body, `lang="fr"`) || !strings.Contains(body, "Vue d’ensemble") {
			t.Fatalf("French after the setting: %.300s", body)
		}
	})
}

func TestStatementCSV(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		u := e.user(a, users.RoleBilling)
		if err := e.st.AddLedgerEntry(context.Background(), &store.LedgerEntry{AccountID: a, Kind: store.LedgerAdjustment, Amount: -1_500_000,
			Reason: "=HYPERLINK(\"x\")", Actor: "test", CreatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.signIn(u)
		st, body := b.do("GET", "/console/billing/statement.csv?month="+time.Now().UTC().Format("2006-01"), nil)
		if st != 200 || !strings.HasPrefix(body, "id,created_at,kind,amount") || !strings.Contains(body, "-1.500000") || !strings.Contains(body, `'=HYPERLINK`) {
			t.Fatalf("statement: %d %q", st, body)
		}
		if st, _ := b.do("GET", "/console/billing/statement.csv?month=2026-13", nil); st != http.StatusBadRequest {
			t.Fatalf("bad month: %d", st)
		}
	})
}

func TestReportCompromised(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		e.user(a, users.RoleOwner)
		dev := e.user(a, users.RoleDeveloper)
		b, other := e.browser(), e.browser()
		csrf := b.signIn(dev)
		other.signIn(dev)
		if st, _ := b.do("POST", "/console/profile/compromised", url.Values{"csrf": {csrf}}); st != http.StatusBadRequest {
			t.Fatalf("unconfirmed report: %d", st)
		}
		if st, _ := b.do("POST", "/console/profile/compromised", url.Values{"csrf": {csrf}, "confirm": {"yes"}}); st != 200 {
			t.Fatalf("report: %d", st)
		}
		if st, _ := other.do("GET", "/console/overview", nil); st != http.StatusSeeOther {
			t.Fatalf("another session after the report: %d", st)
		}
		_, page := b.do("GET", "/console/signin", nil)
		if st, body := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {dev.Email}, "password": {pw}}); st != http.StatusForbidden || !strings.Contains(body, "locked") {
			t.Fatalf("locked user signs in: %d", st)
		}
	})
}

// pgURL makes a fresh schema and a function that drops it (pgtest.URL
// drops its schema at the end of one test; these stores outlive tests).
func pgURL() (string, func()) {
	base := os.Getenv(pgtest.EnvVar)
	schema := "t_console_" + strings.ToLower(ids.New()[16:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		panic(err)
	}
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		if db, err := sql.Open("pgx", base); err == nil {
			db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			db.Close()
		}
	}
}

// A user turns two factors on from the profile (the secret shown, a code
// to confirm it), must then give a code to sign in, and turns them off
// with a fresh code (not the one already used).
func TestProfileTOTP(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		u := e.user(a, users.RoleDeveloper)
		b := e.browser()
		csrf := b.signIn(u)
		_, page := b.do("GET", "/console/profile", nil)
		m := regexp.MustCompile(`name="secret" value="([A-Z2-7]{32})"`).FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, `href="otpauth://totp/`) {
			t.Fatalf("no secret or otpauth link: %.2000s", page)
		}
		secret := m[1]
		if st, _ := b.do("POST", "/console/profile/totp", url.Values{"csrf": {csrf}, "secret": {secret}, "code": {"12345"}}); st != http.StatusBadRequest {
			t.Fatalf("bad code: %d", st)
		}
		now := users.TOTPStep(time.Now())
		code, _ := users.TOTPCode(secret, now)
		if st, _ := b.do("POST", "/console/profile/totp", url.Values{"csrf": {csrf}, "secret": {secret}, "code": {code}}); st != http.StatusSeeOther {
			t.Fatalf("enable: %d", st)
		}
		got, err := e.st.UserByID(context.Background(), u.ID)
		if err != nil || got.TOTPSecret != secret {
			t.Fatalf("secret not stored: %v", err)
		}
		// A new browser now needs a code.
		b2 := e.browser()
		_, page = b2.do("GET", "/console/signin", nil)
		if _, loc := b2.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {u.Email}, "password": {pw}}); loc != "/console/signin/totp" {
			t.Fatalf("sign-in after enabling: %s", loc)
		}
		// Turning off with the code already used is a replay.
		if st, _ := b.do("POST", "/console/profile/totp/off", url.Values{"csrf": {csrf}, "code": {code}}); st != http.StatusBadRequest {
			t.Fatalf("off with a used code: %d", st)
		}
		next, _ := users.TOTPCode(secret, now+1)
		if st, _ := b.do("POST", "/console/profile/totp/off", url.Values{"csrf": {csrf}, "code": {next}}); st != http.StatusSeeOther {
			t.Fatalf("off: %d", st)
		}
		if got, _ := e.st.UserByID(context.Background(), u.ID); got.TOTPSecret != "" {
			t.Fatal("still on")
		}
	})
}
