package app

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// A personal API token acts as its user's role on every REST route: a
// billing user's token reads the balance but may not send (403 in
// MessageBird's format); a developer's sends; a role change takes effect;
// a removed or locked user's token is refused.
func TestUserTokens(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		ctx := context.Background()
		svc := s.app.Users()
		mk := func(role string) *store.User {
			u, err := svc.Create(ctx, users.NewUser{AccountID: s.accountID, Email: role + "-token@example.org", Role: role, Password: "correct horse battery"})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		owner, bill, dev := mk(users.RoleOwner), mk(users.RoleBilling), mk(users.RoleDeveloper)
		token := func(u *store.User) string {
			text, _, err := svc.CreateToken(ctx, u, "ci")
			if err != nil {
				t.Fatal(err)
			}
			return text
		}
		billTok, devTok := token(bill), token(dev)
		msg := map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "from a token"}

		if r := s.do("GET", "/balance", billTok, "", nil); r.status != http.StatusOK {
			t.Fatalf("billing token reads the balance: %d %s", r.status, r.raw)
		}
		r := s.postJSON(billTok, msg)
		if r.status != http.StatusForbidden {
			t.Fatalf("billing token sends: %d %s", r.status, r.raw)
		}
		if errs, _ := r.json["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["code"] != 2.0 {
			t.Fatalf("refusal not in MessageBird's format: %s", r.raw)
		}
		if r := s.postJSON(devTok, msg); r.status != http.StatusCreated {
			t.Fatalf("developer token sends: %d %s", r.status, r.raw)
		}
		if r := s.do("GET", "/balance", devTok, "", nil); r.status != http.StatusForbidden {
			t.Fatalf("developer token reads the balance: %d %s", r.status, r.raw)
		}
		// The role decides at each request: billing becomes developer.
		if err := svc.ChangeRole(ctx, owner, bill.ID, users.RoleDeveloper); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the new role applies", 5*time.Second, func() bool { return s.postJSON(billTok, msg).status == http.StatusCreated })
		// A removed user's token fails.
		if err := svc.Remove(ctx, owner, dev.ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the removed user's token fails", 5*time.Second, func() bool {
			return s.do("GET", "/messages", devTok, "", nil).status == http.StatusUnauthorized
		})
		// A user who reports compromised credentials loses their tokens.
		if err := svc.ReportCompromised(ctx, bill, "test"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the locked user's token fails", 5*time.Second, func() bool {
			return s.do("GET", "/messages", billTok, "", nil).status == http.StatusUnauthorized
		})
		// Operators have no tokens.
		op, err := svc.Create(ctx, users.NewUser{Email: "op-token@example.org", Role: users.RoleOperator, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.CreateToken(ctx, op, "x"); err == nil {
			t.Fatal("an operator made a token")
		}
	})
}

// Every route of the REST doors says which permission a personal API
// token's user needs for it (a route left out is refused to every token).
func TestTokenRoutesMapped(t *testing.T) {
	s := start(t, "sqlite")
	for _, p := range s.app.style.Patterns() {
		if _, ok := rest.TokenPermission(p); !ok {
			t.Errorf("route %q has no permission for personal API tokens (internal/api/rest/tokens.go)", p)
		}
	}
}
