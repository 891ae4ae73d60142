package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

// userTokenBehaviours cover personal API tokens (store.UserTokens).
var userTokenBehaviours = []behaviour{
	{"UserTokens", testUserTokens},
}

// A token is found by its hash with its user's current role; revoking
// it, changing the role, locking or removing the user move the revocation
// generation; a locked or removed user's token is revoked; another
// account or user cannot list or revoke it.
func testUserTokens(t *testing.T, st store.Store) {
	ctx := context.Background()
	a, b := newAccount(t, st), newAccount(t, st)
	mkUser := func(account, role string) *store.User {
		u := &store.User{ID: ids.New(), AccountID: account, Email: ids.New()[20:] + "@example.org", Role: role, CreatedAt: time.Now().UTC()}
		if err := st.CreateUser(ctx, u, 0); err != nil {
			t.Fatal(err)
		}
		return u
	}
	gen := func() int64 {
		g, err := st.KeyRevocations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	u := mkUser(a.ID, "billing")
	text, tok := auth.NewUserToken(a.ID, u.ID, "ci")
	if err := st.CreateUserToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := st.UserTokenByHash(ctx, auth.Hash(text))
	if err != nil || got.ID != tok.ID || got.UserID != u.ID || got.AccountID != a.ID || got.Role != "billing" || got.Revoked() || got.Name != "ci" {
		t.Fatalf("by hash: %v %+v", err, got)
	}
	if _, err := st.UserTokenByHash(ctx, auth.Hash("user_nope")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	// Scoped by account and user.
	if ts, err := st.UserTokensOf(ctx, b.ID, u.ID); err != nil || len(ts) != 0 {
		t.Fatalf("another account lists the token: %v %d", err, len(ts))
	}
	other := mkUser(a.ID, "owner")
	if err := st.RevokeUserToken(ctx, a.ID, other.ID, tok.ID, "x", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user revokes: %v", err)
	}
	// A role change moves the generation; the lookup sees the new role.
	g := gen()
	u.Role = "developer"
	if err := st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if gen() <= g {
		t.Fatal("a role change did not move the generation")
	}
	if got, _ := st.UserTokenByHash(ctx, auth.Hash(text)); got.Role != "developer" {
		t.Fatalf("role after the change: %q", got.Role)
	}
	// A user without tokens does not move it.
	g = gen()
	other.Name = "Renamed"
	if err := st.UpdateUser(ctx, other); err != nil {
		t.Fatal(err)
	}
	if gen() != g {
		t.Fatal("a user without tokens moved the generation")
	}
	// Revoking one.
	text2, tok2 := auth.NewUserToken(a.ID, u.ID, "")
	if err := st.CreateUserToken(ctx, tok2); err != nil {
		t.Fatal(err)
	}
	g = gen()
	if err := st.RevokeUserToken(ctx, a.ID, u.ID, tok2.ID, "user "+u.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.UserTokenByHash(ctx, auth.Hash(text2)); !got.Revoked() || got.RevokedBy != "user "+u.ID || gen() <= g {
		t.Fatalf("revoked token: %+v", got)
	}
	if err := st.RevokeUserToken(ctx, a.ID, u.ID, tok2.ID, "again", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked twice: %v", err)
	}
	// Locking the user revokes the rest.
	g = gen()
	if err := st.LockUser(ctx, u.ID, "reported compromised", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.UserTokenByHash(ctx, auth.Hash(text)); !got.Revoked() || !got.UserLocked || got.RevokedBy != "user locked" || gen() <= g {
		t.Fatalf("locked user's token: %+v", got)
	}
	// Removing a user revokes theirs.
	v := mkUser(a.ID, "developer")
	text3, tok3 := auth.NewUserToken(a.ID, v.ID, "")
	if err := st.CreateUserToken(ctx, tok3); err != nil {
		t.Fatal(err)
	}
	g = gen()
	if err := st.DeleteUser(ctx, a.ID, v.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := st.UserTokenByHash(ctx, auth.Hash(text3)); err != nil || !got.Revoked() || !got.UserGone || gen() <= g {
		t.Fatalf("removed user's token: %v %+v", err, got)
	}
	ts, err := st.UserTokensOf(ctx, a.ID, u.ID)
	if err != nil || len(ts) != 2 || ts[0].ID != tok.ID {
		t.Fatalf("list: %v %+v", err, ts)
	}
	// Use is noted with the keys'.
	now := time.Now().UTC().Truncate(time.Second)
	if err := st.TouchAccessKeys(ctx, []string{tok.ID}, now); err != nil {
		t.Fatal(err)
	}
	if ts, _ := st.UserTokensOf(ctx, a.ID, u.ID); !ts[0].LastUsedAt.Equal(now) {
		t.Fatalf("last used: %v", ts[0].LastUsedAt)
	}
}
