package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// Sign-in and account-security events are rows of the stored audit log
// (issue 18): a sign-in, a failed sign-in (a known email's user; an
// unknown email as a pseudonym), the second factor, a sign-out, a TOTP
// enrolment, a personal token made and revoked, a compromise report and
// the locked user's sign-in. Each names the user, the account and the
// client address; no row holds a password, a TOTP secret or code, a
// token, or an email in clear; the chain still verifies.
func TestSignInEventsAudited(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		start := time.Now().Add(-time.Second)
		a := e.account("A")
		u := e.user(a, users.RoleDeveloper)
		const wrong = "not-the-password-42"
		unknown := "nobody-" + strings.ToLower(a[:6]) + "@example.org"

		b := e.browser()
		for _, email := range []string{u.Email, unknown} {
			_, page := b.do("GET", "/console/signin", nil)
			if st, _ := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {email}, "password": {wrong}}); st != http.StatusUnauthorized {
				t.Fatalf("wrong password for %s: %d", email, st)
			}
		}
		csrf := b.signIn(u)

		// Enrol a second factor.
		_, page := b.do("GET", "/console/profile", nil)
		m := regexp.MustCompile(`name="secret" value="([A-Z2-7]{32})"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no secret: %.1000s", page)
		}
		secret := m[1]
		code, _ := users.TOTPCode(secret, users.TOTPStep(time.Now()))
		if st, _ := b.do("POST", "/console/profile/totp", url.Values{"csrf": {csrf}, "secret": {secret}, "code": {code}}); st != http.StatusSeeOther {
			t.Fatalf("enable TOTP: %d", st)
		}
		// A personal API token, made and revoked.
		st, page := b.do("POST", "/console/profile/tokens", url.Values{"csrf": {csrf}, "name": {"ci"}})
		text := regexp.MustCompile(`<code>(user_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(page)
		if st != 200 || text == nil {
			t.Fatalf("create token: %d", st)
		}
		toks, err := e.st.UserTokensOf(ctx, a, u.ID)
		if err != nil || len(toks) != 1 {
			t.Fatalf("tokens: %v %d", err, len(toks))
		}
		if st, _ := b.do("POST", "/console/profile/tokens/"+toks[0].ID+"/revoke", url.Values{"csrf": {csrf}}); st != http.StatusSeeOther {
			t.Fatalf("revoke token: %d", st)
		}
		if st, _ := b.do("POST", "/console/signout", url.Values{"csrf": {csrf}}); st != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", st)
		}
		// Signed in again (with the second factor), then compromised.
		_, page = b.do("GET", "/console/signin", nil)
		if _, loc := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {u.Email}, "password": {pw}}); loc != "/console/signin/totp" {
			t.Fatalf("sign-in with TOTP: %s", loc)
		}
		_, page = b.do("GET", "/console/signin/totp", nil)
		code2, _ := users.TOTPCode(secret, users.TOTPStep(time.Now())+1) // the enrolment used this step's
		if st, loc := b.do("POST", "/console/signin/totp", url.Values{"csrf": {csrfOf(t, page)}, "code": {code2}}); st != http.StatusSeeOther || loc != "/console" {
			t.Fatalf("TOTP: %d %s", st, loc)
		}
		_, page = b.do("GET", "/console/profile", nil)
		csrf = csrfOf(t, page)
		if st, _ := b.do("POST", "/console/profile/compromised", url.Values{"csrf": {csrf}, "confirm": {"yes"}}); st != 200 {
			t.Fatalf("report: %d", st)
		}
		_, page = b.do("GET", "/console/signin", nil)
		if st, _ := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {u.Email}, "password": {pw}}); st != http.StatusForbidden {
			t.Fatalf("locked sign-in: %d", st)
		}

		rows, err := e.st.(store.AuditLog).AuditEntries(ctx, store.AuditFilter{AccountID: a, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for i := len(rows) - 1; i >= 0; i-- { // oldest first
			r := rows[i]
			count[r.Action]++
			if r.ActorKind != audit.KindUser || r.ActorID != u.ID || r.IP == "" {
				t.Errorf("%s: actor %s:%s ip %q", r.Action, r.ActorKind, r.ActorID, r.IP)
			}
		}
		for action, n := range map[string]int{
			"console user.signin_failed": 1, "console user.signin": 2, "console user.totp_ok": 1, "console user.totp_enabled": 1,
			"console token.created": 1, "console token.revoked": 1, "console user.signout": 1,
			"console user.compromised": 1, "console user.signin_locked": 1,
		} {
			if count[action] != n {
				t.Errorf("%d rows %q, want %d (all: %v)", count[action], action, n, count)
			}
		}
		if len(rows) != 10 {
			t.Errorf("%d rows for the account, want 10: %v", len(rows), count)
		}
		// The unknown email: a platform-wide row with a pseudonym.
		all, err := e.st.(store.AuditLog).AuditEntries(ctx, store.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var anon []store.AuditEntry
		// A code's 6 digits may happen to be in a hex id: look for it as a
		// number of its own.
		codes := regexp.MustCompile(`(^|[^0-9a-f])(` + code + `|` + code2 + `)([^0-9a-f]|$)`)
		for _, r := range all {
			if r.At.Before(start) { // the env's store is shared by the package's tests
				continue
			}
			if r.Action == "console user.signin_failed" && r.AccountID == "" {
				anon = append(anon, r)
			}
			in := r.After + " " + r.Before + " " + r.Object + " " + r.ActorID
			for _, s := range []string{wrong, pw, secret, text[1], u.Email, unknown} {
				if strings.Contains(strings.ToLower(in), strings.ToLower(s)) {
					t.Errorf("row %d %s holds %q: %+v", r.Seq, r.Action, s, r)
				}
			}
			if codes.MatchString(in) {
				t.Errorf("row %d %s holds a TOTP code: %+v", r.Seq, r.Action, r)
			}
		}
		if len(anon) != 1 || anon[0].ActorKind != audit.KindUser || anon[0].ActorID != "" || anon[0].IP == "" ||
			!(strings.Contains(anon[0].After, audit.PseudonymPrefix) || strings.Contains(anon[0].After, audit.Personal)) {
			t.Errorf("unknown email's failure: %+v", anon)
		}
		if _, err := audit.Verify(ctx, e.st.(store.AuditLog)); err != nil {
			t.Errorf("the chain does not verify: %v", err)
		}
	})
}

// Failed sign-ins beyond the limiter are refused before any check and
// write no row: an attacker cannot grow the audit log past the limiter's
// budget (the test env allows 20 failures per email).
func TestLimitedSignInsNotAudited(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.account("A")
		u := e.user(a, users.RoleDeveloper)
		b := e.browser()
		limited := 0
		for i := 0; i < 30; i++ {
			_, page := b.do("GET", "/console/signin", nil)
			st, _ := b.do("POST", "/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {u.Email}, "password": {"wrong-password-" + string(rune('a'+i))}})
			if st == http.StatusTooManyRequests {
				limited++
			} else if st != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d", i, st)
			}
		}
		rows, err := e.st.(store.AuditLog).AuditEntries(ctx, store.AuditFilter{AccountID: a, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if limited == 0 || len(rows) != 30-limited {
			t.Errorf("%d limited, %d rows: want a row for each attempt that was checked", limited, len(rows))
		}
	})
}
