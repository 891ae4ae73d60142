package users_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/postgres/postgrestest"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/users"
)

// engines runs f on a fresh SQLite store and, when configured, a fresh
// PostgreSQL schema.
func engines(t *testing.T, f func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "t.db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(context.Background(), postgres.Config{URL: postgrestest.URL(t), MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
}

type mailbox struct {
	mu   sync.Mutex
	sent []string
}

func (m *mailbox) MailTo(to []string, subject, text string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, strings.Join(to, ",")+"|"+subject+"|"+text)
	return nil
}

func newAccount(t *testing.T, st store.Store, name string) string {
	c, err := accounts.Create(context.Background(), st, accounts.New{Name: name, Balance: 100_000_000})
	if err != nil {
		t.Fatal(err)
	}
	return c.Account.ID
}

const pw = "correct horse battery"

func TestPasswordHash(t *testing.T) {
	h, err := users.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %q", h)
	}
	if !users.CheckPassword(h, pw) || users.CheckPassword(h, pw+"x") || users.CheckPassword("", pw) || users.CheckPassword("$argon2id$v=19$m=1,t=1,p=1$$", pw) {
		t.Fatal("CheckPassword is wrong")
	}
	if _, err := users.HashPassword("short"); !errors.Is(err, users.ErrWeakPassword) {
		t.Fatalf("short password: %v", err)
	}
}

// RFC 6238 appendix B, SHA-1 rows (8 digits there; the last 6 here).
func TestTOTPVectors(t *testing.T) {
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	for _, c := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}} {
		got, err := users.TOTPCode(secret, users.TOTPStep(time.Unix(c.unix, 0)))
		if err != nil || got != c.want {
			t.Errorf("T=%d: %q %v, want %q", c.unix, got, err, c.want)
		}
	}
	now := time.Unix(1234567890, 0)
	if step, ok := users.CheckTOTP(secret, "005924", now); !ok || step != users.TOTPStep(now) {
		t.Fatal("own code refused")
	}
	if _, ok := users.CheckTOTP(secret, "005924", now.Add(5*time.Minute)); ok {
		t.Fatal("old code accepted")
	}
	if _, ok := users.CheckTOTP(secret, "12345", now); ok {
		t.Fatal("short code accepted")
	}
}

func TestSignInAndTOTP(t *testing.T) {
	engines(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		g := authguard.New(authguard.Config{PerAddress: 5, PerPrefix: 5}, nil, nil)
		svc := users.New(users.Config{PasswordMemory: 1024}, st, nil, nil, nil, g, nil)
		op, err := svc.Create(ctx, users.NewUser{Email: "Op@Example.org", Role: users.RoleOperator, Password: pw, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if op.TOTPSecret == "" || op.Email != "op@example.org" {
			t.Fatalf("operator %+v: no TOTP or email not normalized", op)
		}
		if _, err := svc.SignIn(ctx, "op@example.org", "wrong password!", "192.0.2.1"); !errors.Is(err, users.ErrBadCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := svc.SignIn(ctx, "nobody@example.org", pw, "192.0.2.1"); !errors.Is(err, users.ErrBadCredentials) {
			t.Fatalf("unknown user: %v", err)
		}
		in, err := svc.SignIn(ctx, "op@example.org", pw, "192.0.2.1")
		if err != nil || !in.NeedTOTP {
			t.Fatalf("sign-in: %v %+v", err, in)
		}
		if _, ss, err := svc.Authenticate(ctx, in.Token); err != nil || ss.Verified {
			t.Fatalf("session before the code: %v %+v", err, ss)
		}
		if _, err := svc.VerifyTOTP(ctx, in.Token, "000000", "192.0.2.1"); !errors.Is(err, users.ErrBadCode) {
			// 000000 is the right code once in a million: then this test would be wrong, not the code.
			t.Fatalf("wrong code: %v", err)
		}
		code, _ := users.TOTPCode(op.TOTPSecret, users.TOTPStep(time.Now()))
		if _, err := svc.VerifyTOTP(ctx, in.Token, code, "192.0.2.1"); err != nil {
			t.Fatalf("right code: %v", err)
		}
		if _, ss, err := svc.Authenticate(ctx, in.Token); err != nil || !ss.Verified {
			t.Fatalf("session after the code: %v", err)
		}
		// The same code again, on a new session: a replay.
		in2, err := svc.SignIn(ctx, "op@example.org", pw, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.VerifyTOTP(ctx, in2.Token, code, "192.0.2.1"); !errors.Is(err, users.ErrBadCode) {
			t.Fatalf("replayed code: %v", err)
		}
		// Failures are limited: 5 a minute per address.
		var limited *users.LimitedError
		for i := 0; i < 10; i++ {
			_, err = svc.SignIn(ctx, "op@example.org", "wrong password!", "198.51.100.7")
			if errors.As(err, &limited) {
				break
			}
		}
		if !errors.As(err, &limited) {
			t.Fatalf("10 failures not limited: %v", err)
		}
		if err := svc.SignOut(ctx, in.Token, op); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Authenticate(ctx, in.Token); !errors.Is(err, users.ErrNoSession) {
			t.Fatalf("after sign-out: %v", err)
		}
		// Ended sessions are purged; live ones stay.
		if n, err := st.PurgeSessions(ctx, time.Now().Add(24*time.Hour)); err != nil || n != 1 {
			t.Fatalf("purging in a day: %d %v, want in2's session", n, err)
		}
		if n, err := st.PurgeSessions(ctx, time.Now()); err != nil || n != 0 {
			t.Fatalf("purging now: %d %v", n, err)
		}
	})
}

func TestInvitationsSeatsAndCompromise(t *testing.T) {
	engines(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		mb := &mailbox{}
		b := billing.New(billing.Config{}, st, nil, nil, nil)
		svc := users.New(users.Config{DefaultSeats: 2, PublicURL: "https://console.example", PasswordMemory: 1024}, st, b, mb, nil, nil, nil)
		acct := newAccount(t, st, "A")
		owner, err := svc.Create(ctx, users.NewUser{AccountID: acct, Email: "owner@a.example", Role: users.RoleOwner, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		dev := &store.User{ID: "x", AccountID: acct, Role: users.RoleDeveloper}
		if _, err := svc.Invite(ctx, dev, "new@a.example", users.RoleBilling); !errors.Is(err, users.ErrForbidden) {
			t.Fatalf("developer invites: %v", err)
		}
		link, err := svc.Invite(ctx, owner, "bill@a.example", users.RoleBilling)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(link, "https://console.example/console/invite/") || len(mb.sent) != 1 || !strings.Contains(mb.sent[0], link) {
			t.Fatalf("link %q, mails %q", link, mb.sent)
		}
		tok := strings.TrimPrefix(link, "https://console.example/console/invite/")
		if _, err := svc.Accept(ctx, tok, "Bill", "short"); !errors.Is(err, users.ErrWeakPassword) {
			t.Fatalf("weak password: %v", err)
		}
		if _, err := svc.Accept(ctx, tok, "<script>alert(1)</script>", pw); err == nil {
			t.Fatal("HTML in a name accepted")
		}
		if err := svc.CheckInvitation(ctx, tok); err != nil {
			t.Fatalf("fresh invitation: %v", err)
		}
		if err := svc.CheckInvitation(ctx, tok+"x"); !errors.Is(err, users.ErrInvitation) {
			t.Fatalf("unknown invitation: %v", err)
		}
		bill, err := svc.Accept(ctx, tok, "Bill", pw)
		if err != nil || bill.Role != users.RoleBilling || bill.AccountID != acct || bill.Email != "bill@a.example" {
			t.Fatalf("accept: %v %+v", err, bill)
		}
		if _, err := svc.Accept(ctx, tok, "Bill", pw); !errors.Is(err, users.ErrInvitation) {
			t.Fatalf("reused invitation: %v", err)
		}
		if err := svc.CheckInvitation(ctx, tok); !errors.Is(err, users.ErrInvitation) {
			t.Fatalf("used invitation checked: %v", err)
		}
		// Two seats, two users: no third.
		if _, err := svc.Invite(ctx, owner, "third@a.example", users.RoleDeveloper); !errors.Is(err, users.ErrSeats) {
			t.Fatalf("third user: %v", err)
		}
		if _, err := svc.Create(ctx, users.NewUser{AccountID: acct, Email: "third@a.example", Role: users.RoleDeveloper, Password: pw}); !errors.Is(err, users.ErrSeats) {
			t.Fatalf("third user by CLI: %v", err)
		}
		// A seat added mid-term is prorated to the same end date.
		start := time.Now().UTC().Add(-15 * 24 * time.Hour)
		if err := svc.SetPlan(ctx, store.Seats{AccountID: acct, Seats: 2, TermStart: start, TermEnd: start.Add(30 * 24 * time.Hour), SeatPrice: 10_000_000}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddSeats(ctx, bill, 1); !errors.Is(err, users.ErrForbidden) {
			t.Fatalf("billing adds seats: %v", err)
		}
		before, _ := st.GetAccount(ctx, acct)
		charged, err := svc.AddSeats(ctx, owner, 1)
		if err != nil {
			t.Fatal(err)
		}
		if charged < 4_990_000 || charged > 5_010_000 {
			t.Fatalf("half a term charged %d, want about 5000000", charged)
		}
		after, _ := st.GetAccount(ctx, acct)
		if before.Balance-after.Balance != charged {
			t.Fatalf("balance moved %d, charged %d", before.Balance-after.Balance, charged)
		}
		// An expired invitation.
		link3, err := svc.Invite(ctx, owner, "late@a.example", users.RoleDeveloper)
		if err != nil {
			t.Fatal(err)
		}
		late := users.New(users.Config{InviteTTL: time.Nanosecond, PasswordMemory: 1024}, st, nil, nil, nil, nil, nil)
		link4, err := late.Invite(ctx, owner, "later@a.example", users.RoleDeveloper)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Accept(ctx, link4[strings.LastIndex(link4, "/")+1:], "L", pw); !errors.Is(err, users.ErrInvitation) {
			t.Fatalf("expired invitation: %v", err)
		}
		if err := svc.CheckInvitation(ctx, link4[strings.LastIndex(link4, "/")+1:]); !errors.Is(err, users.ErrInvitation) {
			t.Fatalf("expired invitation checked: %v", err)
		}
		_ = link3
		// Report compromised: locked, signed out, owners told.
		in, err := svc.SignIn(ctx, "bill@a.example", pw, "192.0.2.9")
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.ReportCompromised(ctx, bill, "192.0.2.9"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Authenticate(ctx, in.Token); !errors.Is(err, users.ErrNoSession) {
			t.Fatalf("session of a locked user: %v", err)
		}
		if _, err := svc.SignIn(ctx, "bill@a.example", pw, "192.0.2.9"); !errors.Is(err, users.ErrLocked) {
			t.Fatalf("locked user signs in: %v", err)
		}
		if last := mb.sent[len(mb.sent)-1]; !strings.HasPrefix(last, "owner@a.example|") || !strings.Contains(last, "bill@a.example") {
			t.Fatalf("owners not told: %q", last)
		}
		// The last owner stays.
		if err := svc.Remove(ctx, owner, owner.ID); !errors.Is(err, users.ErrLastOwner) {
			t.Fatalf("removing the last owner: %v", err)
		}
		// Another account's user is not found from this one.
		other := newAccount(t, st, "B")
		ob, err := svc.Create(ctx, users.NewUser{AccountID: other, Email: "owner@b.example", Role: users.RoleOwner, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Remove(ctx, owner, ob.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("removing another account's user: %v", err)
		}
		if err := svc.ChangeRole(ctx, owner, ob.ID, users.RoleBilling); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("changing another account's user: %v", err)
		}
	})
}

func TestRoleTable(t *testing.T) {
	// Every role × permission, as the console and user tokens see it.
	want := map[string]string{ // role → the permissions it has, by first letters of their names
		users.RoleOwner:      "overview.view messages.view messages.send keys.view keys.manage webhooks.view webhooks.resend consents.view consents.manage cases.view billing.view billing.export limits.manage senders.view realtime.view users.view users.manage seats.manage profile.view",
		users.RoleAdmin:      "overview.view messages.view messages.send keys.view keys.manage webhooks.view webhooks.resend consents.view consents.manage cases.view billing.view billing.export limits.manage senders.view realtime.view users.view users.manage profile.view",
		users.RoleDeveloper:  "overview.view messages.view messages.send keys.view keys.manage webhooks.view webhooks.resend senders.view realtime.view profile.view",
		users.RoleCompliance: "overview.view messages.view consents.view consents.manage cases.view senders.view profile.view",
		users.RoleBilling:    "overview.view billing.view billing.export limits.manage profile.view",
		users.RoleOperator:   "profile.view operator.accounts operator.senders operator.reviews operator.imports operator.connectors operator.queue operator.cases",
		"nobody":             "",
	}
	for role, perms := range want {
		has := map[string]bool{}
		for _, p := range strings.Fields(perms) {
			has[p] = true
		}
		for _, p := range users.Permissions {
			if got := users.Can(role, p); got != has[string(p)] {
				t.Errorf("Can(%s, %s) = %v, want %v", role, p, got, has[string(p)])
			}
		}
	}
}
