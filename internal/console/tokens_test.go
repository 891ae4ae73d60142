package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/users"
)

// The profile makes, lists and revokes the user's personal API tokens;
// another user's token cannot be revoked; operators have none; the TOTP
// set-up has its QR code.
func TestProfileTokens(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		u, other := e.user(a, users.RoleBilling), e.user(a, users.RoleDeveloper)
		b := e.browser()
		csrf := b.signIn(u)
		_, page := b.do("GET", "/console/profile", nil)
		if !strings.Contains(page, `<svg class="qr"`) || !strings.Contains(page, `role="img" aria-label="QR code`) {
			t.Fatalf("no QR code: %.3000s", page)
		}
		if st, page := b.do("POST", "/console/profile/tokens", url.Values{"csrf": {csrf}, "name": {"<b>ci</b>"}}); st != http.StatusBadRequest || strings.Contains(page, "<b>ci") {
			t.Fatalf("HTML name: %d", st)
		}
		st, page := b.do("POST", "/console/profile/tokens", url.Values{"csrf": {csrf}, "name": {"ci"}})
		text := regexp.MustCompile(`<code>(user_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(page)
		if st != 200 || text == nil || !strings.Contains(page, "<bdi>ci</bdi>") {
			t.Fatalf("create: %d %.2000s", st, page)
		}
		tok, err := e.st.UserTokenByHash(context.Background(), auth.Hash(text[1]))
		if err != nil || tok.UserID != u.ID || tok.Role != users.RoleBilling {
			t.Fatalf("stored: %v %+v", err, tok)
		}
		// Listed, without the text, on the next view.
		if _, page = b.do("GET", "/console/profile", nil); strings.Contains(page, text[1]) || !strings.Contains(page, "/console/profile/tokens/"+tok.ID+"/revoke") {
			t.Fatalf("list: %.2000s", page)
		}
		// Another user cannot revoke it.
		ob := e.browser()
		ocsrf := ob.signIn(other)
		if st, _ := ob.do("POST", "/console/profile/tokens/"+tok.ID+"/revoke", url.Values{"csrf": {ocsrf}}); st != http.StatusNotFound {
			t.Fatalf("another user revokes: %d", st)
		}
		if st, _ := b.do("POST", "/console/profile/tokens/"+tok.ID+"/revoke", url.Values{}); st != http.StatusForbidden {
			t.Fatalf("CSRF-less revoke: %d", st)
		}
		if st, _ := b.do("POST", "/console/profile/tokens/"+tok.ID+"/revoke", url.Values{"csrf": {csrf}}); st != http.StatusSeeOther {
			t.Fatalf("revoke: %d", st)
		}
		if tok, _ := e.st.UserTokenByHash(context.Background(), auth.Hash(text[1])); !tok.Revoked() {
			t.Fatal("not revoked")
		}
		// Operators have no tokens.
		op, err := e.users.Create(context.Background(), users.NewUser{Email: "op-" + a[:8] + "@example.org", Role: users.RoleOperator, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		opb := e.browser()
		opcsrf := opb.signIn(op)
		if _, page := opb.do("GET", "/console/profile", nil); strings.Contains(page, "/console/profile/tokens") {
			t.Fatal("an operator is offered tokens")
		}
		if st, _ := opb.do("POST", "/console/profile/tokens", url.Values{"csrf": {opcsrf}, "name": {"x"}}); st != http.StatusForbidden {
			t.Fatalf("operator token: %d", st)
		}
	})
}
