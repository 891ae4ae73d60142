// Package users is the people at the controls: an account's users and the
// platform's operators, their roles, passwords (argon2id) and second factor
// (TOTP, RFC 6238), server-side sessions, invitations by email, seats
// (ACCT-1) and the report of compromised credentials (PRIV-4). The console
// (internal/console) is its door; `omnigate user …` its command line.
//
// Every action is written to the audit trail with an event "user.…" or
// "seats.…" naming who did what to whom; secrets never go in. With
// UseAuditLog, sign-in and account-security events are also rows of the
// stored audit log (stored.go).
package users

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/store"
)

// Console is the authguard door name of console sign-ins.
const Console = authguard.Console

// Errors the console shows in its own words.
var (
	ErrBadCredentials = errors.New("the email or password is wrong")
	ErrBadCode        = errors.New("the code is wrong or was used already")
	ErrLocked         = errors.New("this user is locked: their credentials were reported compromised; an owner or operator must reset them")
	ErrForbidden      = errors.New("your role does not allow this")
	ErrNoSession      = errors.New("not signed in")
	ErrInvitation     = errors.New("this invitation is unknown, used or expired")
	ErrSeats          = errors.New("every seat of the plan is taken: add a seat or reassign one")
	ErrLastOwner      = errors.New("an account keeps at least one owner")
)

// LimitedError says a sign-in was refused for failing too often.
type LimitedError struct{ Wait time.Duration }

func (e *LimitedError) Error() string {
	return fmt.Sprintf("too many failed sign-ins: try again in %d s", int(e.Wait.Seconds())+1)
}

// Mailer sends a plain-text email (the notice mailer: notice.Notifier).
type Mailer interface {
	MailTo(to []string, subject, text string) error
}

// Config tunes a Service. Zero values mean the defaults.
type Config struct {
	SessionTTL   time.Duration // default 12 hours
	InviteTTL    time.Duration // default 72 hours
	DefaultSeats int           // seats of an account without a plan row; default 5
	PublicURL    string        // where invitation links point; default http://localhost:8080
	Issuer       string        // the TOTP issuer shown by authenticator apps; default "omnigate"
	// PasswordMemory is argon2id's memory cost in KiB; default
	// DefaultPasswordMemory. Tests lower it to run quickly; each hash
	// records its cost, so hashes of any cost keep working.
	PasswordMemory uint32
}

// Service does what users do.
type Service struct {
	st      store.Store
	billing *billing.Service // nil: seats are not charged
	mail    Mailer           // nil: invitations are logged, not mailed
	trail   *audit.Trail
	changes *audit.Log // the stored audit log (UseAuditLog); nil: the trail only
	guard   *authguard.Guard
	log     *slog.Logger
	cfg     Config
	now     func() time.Time
	dummy   func() string // a hash checked for unknown users (dummyHash)
}

// New makes a Service. billing, mail, trail and guard may be nil.
func New(cfg Config, st store.Store, b *billing.Service, m Mailer, trail *audit.Trail, g *authguard.Guard, log *slog.Logger) *Service {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.InviteTTL <= 0 {
		cfg.InviteTTL = 72 * time.Hour
	}
	if cfg.DefaultSeats <= 0 {
		cfg.DefaultSeats = 5
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://localhost:8080"
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.PasswordMemory == 0 {
		cfg.PasswordMemory = DefaultPasswordMemory
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "omnigate"
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{st: st, billing: b, mail: m, trail: trail, guard: g, log: log, cfg: cfg, now: func() time.Time { return time.Now().UTC() },
		dummy: dummyHash(cfg.PasswordMemory)}
}

// SetPublicURL sets where invitation links point, when it is known only
// once the listener runs; call it before serving.
func (s *Service) SetPublicURL(u string) { s.cfg.PublicURL = strings.TrimRight(u, "/") }

// Config is the service's configuration with its defaults.
func (s *Service) Config() Config { return s.cfg }

// Record writes an action a user took elsewhere (a key made in the
// console) to the audit trail.
func (s *Service) Record(event string, attrs ...slog.Attr) { s.record(slog.LevelInfo, event, attrs...) }

func (s *Service) record(level slog.Level, event string, attrs ...slog.Attr) {
	s.trail.Record(level, event, attrs...)
}

// NormalizeEmail checks and lower-cases an address.
func NormalizeEmail(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	if len(e) > 254 {
		return "", errors.New("an email address is at most 254 characters")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", fmt.Errorf("%q is not an email address", e)
	}
	return e, nil
}

func checkName(n string) (string, error) {
	n = strings.TrimSpace(n)
	if len(n) > 200 {
		return "", errors.New("a name is at most 200 characters")
	}
	if strings.ContainsAny(n, "<>\x00") {
		return "", errors.New("a name cannot contain < > or control characters")
	}
	for _, r := range n {
		if r < 0x20 || r == 0x7f {
			return "", errors.New("a name cannot contain < > or control characters")
		}
	}
	return n, nil
}

// New describes a user created by an operator (CLI) or the demo.
type NewUser struct {
	AccountID string // "" for an operator
	Email     string
	Name      string
	Role      string
	Password  string
	TOTP      bool // give the user a second factor (always for operators)
	Actor     string
}

// Create stores a user; the returned user carries its TOTP secret (to show
// once) when it has one.
func (s *Service) Create(ctx context.Context, n NewUser) (*store.User, error) {
	email, err := NormalizeEmail(n.Email)
	if err != nil {
		return nil, err
	}
	name, err := checkName(n.Name)
	if err != nil {
		return nil, err
	}
	if n.AccountID == "" {
		if n.Role != RoleOperator {
			return nil, errors.New("a user without an account is an operator: role operator")
		}
		n.TOTP = true // required for operators
	} else {
		if !ValidAccountRole(n.Role) {
			return nil, fmt.Errorf("role %q: use one of %s", n.Role, strings.Join(AccountRoles, ", "))
		}
		if _, err := s.st.GetAccount(ctx, n.AccountID); err != nil {
			return nil, fmt.Errorf("account %s: %w", n.AccountID, err)
		}
	}
	// What can be refused is refused before the (costly) hash; the store
	// checks the email and the seats again in its transaction.
	if _, err := s.st.UserByEmail(ctx, email); err == nil {
		return nil, s.userErr(store.ErrConflict, email)
	}
	seats, err := s.seats(ctx, n.AccountID)
	if err != nil {
		return nil, err
	}
	if seats > 0 {
		if used, err := s.st.CountUsers(ctx, n.AccountID); err != nil {
			return nil, err
		} else if used >= seats {
			return nil, ErrSeats
		}
	}
	hash, err := hashPassword(n.Password, s.cfg.PasswordMemory)
	if err != nil {
		return nil, err
	}
	u := &store.User{ID: ids.New(), AccountID: n.AccountID, Email: email, Name: name, Role: n.Role, PasswordHash: hash, CreatedAt: s.now()}
	if n.TOTP {
		u.TOTPSecret = NewTOTPSecret()
	}
	if err := s.st.CreateUser(ctx, u, seats); err != nil {
		return nil, s.userErr(err, email)
	}
	s.record(slog.LevelInfo, "user.created", slog.String("actor", n.Actor), slog.String("user", u.ID),
		slog.String("account", u.AccountID), slog.String("role", u.Role))
	return u, nil
}

func (s *Service) userErr(err error, email string) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("a user with the email %s exists already", email)
	case errors.Is(err, store.ErrSeats):
		return ErrSeats
	}
	return err
}

// seats is the number of users an account may have; 0 (no limit) for the
// operator scope.
func (s *Service) seats(ctx context.Context, accountID string) (int, error) {
	if accountID == "" {
		return 0, nil
	}
	st, err := s.st.GetSeats(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return s.cfg.DefaultSeats, nil
	}
	if err != nil {
		return 0, err
	}
	return st.Seats, nil
}

// Seats are an account's seats and how many are taken.
type Seats struct {
	store.Seats
	Used int
}

// SeatsOf reads an account's seats.
func (s *Service) SeatsOf(ctx context.Context, accountID string) (*Seats, error) {
	st, err := s.st.GetSeats(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		st, err = &store.Seats{AccountID: accountID, Seats: s.cfg.DefaultSeats}, nil
	}
	if err != nil {
		return nil, err
	}
	n, err := s.st.CountUsers(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return &Seats{Seats: *st, Used: n}, nil
}

// SetPlan sets an account's seats, term and seat price (an operator's
// act; no charge).
func (s *Service) SetPlan(ctx context.Context, p store.Seats, actor string) error {
	if p.Seats < 1 || p.Seats > 100000 {
		return errors.New("seats must be 1 to 100000")
	}
	if p.SeatPrice < 0 {
		return errors.New("a seat price cannot be negative")
	}
	if !p.TermEnd.IsZero() && !p.TermEnd.After(p.TermStart) {
		return errors.New("a term ends after it starts")
	}
	if err := s.st.PutSeats(ctx, &p); err != nil {
		return err
	}
	s.record(slog.LevelInfo, "seats.plan_set", slog.String("actor", actor), slog.String("account", p.AccountID), slog.Int("seats", p.Seats))
	return nil
}

// Prorate is the charge for n seats added at now, for the rest of the term
// (to the same end date): price × n × remaining / term, rounded up to the
// micro-unit. No term (or a term over) charges nothing.
func Prorate(p store.Seats, n int, now time.Time) int64 {
	if p.SeatPrice == 0 || p.TermEnd.IsZero() || !now.Before(p.TermEnd) || !p.TermEnd.After(p.TermStart) {
		return 0
	}
	if now.Before(p.TermStart) {
		now = p.TermStart
	}
	term := p.TermEnd.Sub(p.TermStart).Seconds()
	left := p.TermEnd.Sub(now).Seconds()
	v := float64(p.SeatPrice) * float64(n) * left / term
	c := int64(v)
	if float64(c) < v {
		c++
	}
	return c
}

// AddSeats adds n seats to the actor's account mid-term, charging the
// prorated price to the same end date through the ledger. It says what was
// charged.
func (s *Service) AddSeats(ctx context.Context, actor *store.User, n int) (int64, error) {
	if !Can(actor.Role, ManageSeats) {
		return 0, ErrForbidden
	}
	if n < 1 || n > 1000 {
		return 0, errors.New("add 1 to 1000 seats")
	}
	cur, err := s.SeatsOf(ctx, actor.AccountID)
	if err != nil {
		return 0, err
	}
	now := s.now()
	charge := Prorate(cur.Seats, n, now)
	if charge > 0 && s.billing != nil {
		if _, err := s.billing.Move(ctx, billing.Movement{AccountID: actor.AccountID, Kind: store.LedgerAdjustment, Amount: -charge,
			Reason: fmt.Sprintf("%d seat(s) added, prorated to %s", n, cur.TermEnd.Format("2006-01-02")), Actor: "user " + actor.ID,
			IdempotencyKey: "seats:" + actor.AccountID + ":" + fmt.Sprint(cur.Seats.Seats) + "+" + fmt.Sprint(n)}); err != nil {
			return 0, fmt.Errorf("charging the seats: %w", err)
		}
	}
	p := cur.Seats
	p.Seats += n
	if err := s.st.PutSeats(ctx, &p); err != nil {
		return 0, err
	}
	s.record(slog.LevelInfo, "seats.added", slog.String("actor", actor.ID), slog.String("account", actor.AccountID),
		slog.Int("added", n), slog.Int("seats", p.Seats), slog.Int64("charged", charge))
	s.changes.Record(ctx, audit.Change{Actor: audit.User(actor.ID), Account: actor.AccountID, IP: sourceIn(ctx),
		Action: "console seats.added", Object: "/console/seats", Before: map[string]any{"seats": cur.Seats.Seats},
		After: map[string]any{"seats": p.Seats, "added": n, "charged": charge}})
	return charge, nil
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SignedIn is a new session: its token goes in the cookie.
type SignedIn struct {
	Token    string
	Session  *store.Session
	User     *store.User
	NeedTOTP bool // the session is not verified until the user gives a code
}

// SignIn checks an email and password from source (an IP address) and
// opens a session. Failures are limited with the authguard (by address
// and by email), and all look alike to the caller but a locked user's.
func (s *Service) SignIn(ctx context.Context, email, password, source string) (*SignedIn, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	at := authguard.Attempt{Door: Console, Source: source, Prefix: "email " + email}
	if wait, ok := s.guard.Allow(at); !ok {
		return nil, &LimitedError{Wait: wait}
	}
	u, err := s.st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.PasswordHash == "") {
		CheckPassword(s.dummy(), password) // the same time as a wrong password
		s.guard.Failed(at, "unknown_user")
		s.stored(ctx, audit.Actor{Kind: audit.KindUser}, "", source, "user.signin_failed", "",
			map[string]any{"email": email, "reason": "unknown_user"})
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if !CheckPassword(u.PasswordHash, password) {
		s.guard.Failed(at, "wrong_password")
		s.record(slog.LevelWarn, "user.signin_failed", slog.String("user", u.ID), slog.String("source", source))
		s.stored(ctx, audit.User(u.ID), u.AccountID, source, "user.signin_failed", userObject(u.ID),
			map[string]any{"reason": "wrong_password"})
		return nil, ErrBadCredentials
	}
	if u.Locked() {
		// A locked user's credentials were reported compromised: using
		// them counts as a failure, so that they cannot flood the log.
		s.guard.Failed(at, "locked_user")
		s.record(slog.LevelWarn, "user.signin_locked", slog.String("user", u.ID), slog.String("source", source))
		s.stored(ctx, audit.User(u.ID), u.AccountID, source, "user.signin_locked", userObject(u.ID), nil)
		return nil, ErrLocked
	}
	at.AccountID = u.AccountID
	s.guard.Succeeded(at)
	tok := newToken()
	now := s.now()
	ss := &store.Session{TokenHash: hashToken(tok), UserID: u.ID, CSRF: newToken(), Verified: u.TOTPSecret == "", CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.st.CreateSession(ctx, ss); err != nil {
		return nil, err
	}
	s.record(slog.LevelInfo, "user.signin", slog.String("user", u.ID), slog.String("account", u.AccountID),
		slog.String("source", source), slog.Bool("second_factor_due", !ss.Verified))
	s.stored(ctx, audit.User(u.ID), u.AccountID, source, "user.signin", userObject(u.ID),
		map[string]any{"second_factor_due": !ss.Verified})
	return &SignedIn{Token: tok, Session: ss, User: u, NeedTOTP: !ss.Verified}, nil
}

// VerifyTOTP completes a sign-in with the second factor. A code is
// accepted once: a replay of the last accepted step (or an earlier one) is
// refused.
func (s *Service) VerifyTOTP(ctx context.Context, token, code, source string) (*store.User, error) {
	ss, err := s.st.GetSession(ctx, hashToken(token), s.now())
	if err != nil {
		return nil, ErrNoSession
	}
	u, err := s.st.UserByID(ctx, ss.UserID)
	if err != nil {
		return nil, ErrNoSession
	}
	at := authguard.Attempt{Door: Console, Source: source, Prefix: "totp " + u.ID}
	if wait, ok := s.guard.Allow(at); !ok {
		return nil, &LimitedError{Wait: wait}
	}
	step, ok := CheckTOTP(u.TOTPSecret, code, s.now())
	if ok {
		ok, err = s.st.AcceptTOTPStep(ctx, u.ID, step)
		if err != nil {
			return nil, err
		}
	}
	if !ok {
		s.guard.Failed(at, "wrong_totp")
		s.record(slog.LevelWarn, "user.totp_failed", slog.String("user", u.ID), slog.String("source", source))
		s.stored(ctx, audit.User(u.ID), u.AccountID, source, "user.totp_failed", userObject(u.ID),
			map[string]any{"during": "signin"})
		return nil, ErrBadCode
	}
	if err := s.st.MarkSessionVerified(ctx, ss.TokenHash); err != nil {
		return nil, err
	}
	s.record(slog.LevelInfo, "user.totp_ok", slog.String("user", u.ID), slog.String("source", source))
	s.stored(ctx, audit.User(u.ID), u.AccountID, source, "user.totp_ok", userObject(u.ID), nil)
	return u, nil
}

// Authenticate resolves a session token to its user and session. A locked
// user, or a session past its end, is ErrNoSession.
func (s *Service) Authenticate(ctx context.Context, token string) (*store.User, *store.Session, error) {
	if token == "" || len(token) > 100 {
		return nil, nil, ErrNoSession
	}
	ss, err := s.st.GetSession(ctx, hashToken(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	u, err := s.st.UserByID(ctx, ss.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	if u.Locked() {
		return nil, nil, ErrNoSession
	}
	return u, ss, nil
}

// SignOut ends a session.
func (s *Service) SignOut(ctx context.Context, token string, u *store.User) error {
	if err := s.st.DeleteSession(ctx, hashToken(token)); err != nil {
		return err
	}
	s.record(slog.LevelInfo, "user.signout", slog.String("user", u.ID))
	s.stored(ctx, audit.User(u.ID), u.AccountID, "", "user.signout", userObject(u.ID), nil)
	return nil
}

// Invite sends a single-use, expiring invitation to join the actor's
// account with a role. It returns the link (also mailed).
func (s *Service) Invite(ctx context.Context, actor *store.User, email, role string) (string, error) {
	if !Can(actor.Role, ManageUsers) {
		return "", ErrForbidden
	}
	if !ValidAccountRole(role) {
		return "", fmt.Errorf("role %q: use one of %s", role, strings.Join(AccountRoles, ", "))
	}
	if role == RoleOwner && actor.Role != RoleOwner {
		return "", errors.New("only an owner can invite an owner")
	}
	return s.invite(ctx, actor.AccountID, email, role, "user "+actor.ID)
}

// InviteAs is Invite by an operator (the CLI).
func (s *Service) InviteAs(ctx context.Context, accountID, email, role, actor string) (string, error) {
	if !ValidAccountRole(role) {
		return "", fmt.Errorf("role %q: use one of %s", role, strings.Join(AccountRoles, ", "))
	}
	if _, err := s.st.GetAccount(ctx, accountID); err != nil {
		return "", fmt.Errorf("account %s: %w", accountID, err)
	}
	return s.invite(ctx, accountID, email, role, actor)
}

func (s *Service) invite(ctx context.Context, accountID, email, role, actor string) (string, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return "", err
	}
	if _, err := s.st.UserByEmail(ctx, email); err == nil {
		return "", fmt.Errorf("a user with the email %s exists already", email)
	}
	seats, err := s.SeatsOf(ctx, accountID)
	if err != nil {
		return "", err
	}
	if seats.Used >= seats.Seats.Seats {
		return "", ErrSeats
	}
	tok := newToken()
	now := s.now()
	inv := &store.Invitation{ID: ids.New(), TokenHash: hashToken(tok), AccountID: accountID, Email: email, Role: role,
		InvitedBy: actor, CreatedAt: now, ExpiresAt: now.Add(s.cfg.InviteTTL)}
	if err := s.st.CreateInvitation(ctx, inv); err != nil {
		return "", err
	}
	link := s.cfg.PublicURL + "/console/invite/" + tok
	s.record(slog.LevelInfo, "user.invited", slog.String("actor", actor), slog.String("account", accountID),
		slog.String("invitation", inv.ID), slog.String("role", role))
	if id, ok := strings.CutPrefix(actor, "user "); ok {
		s.stored(ctx, audit.User(id), accountID, "", "user.invited", "/console/invitations/"+inv.ID,
			map[string]any{"email": email, "role": role, "invitation": inv.ID})
	}
	if s.mail != nil {
		text := fmt.Sprintf("You are invited to an omnigate account as %s.\n\nChoose your password here (the link works once, until %s):\n%s\n",
			role, inv.ExpiresAt.Format(time.RFC1123), link)
		if err := s.mail.MailTo([]string{email}, "Your omnigate invitation", text); err != nil {
			s.log.Warn("users: mailing an invitation", "invitation", inv.ID, "err", err)
		}
	}
	return link, nil
}

// CheckInvitation says whether an invitation link can still be used
// (ErrInvitation if it is unknown, used or expired), so that the page of a
// dead link says so at once rather than after the form is filled in.
func (s *Service) CheckInvitation(ctx context.Context, token string) error {
	if token == "" || len(token) > 100 {
		return ErrInvitation
	}
	inv, err := s.st.GetInvitation(ctx, hashToken(token))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrInvitation
	case err != nil:
		return err
	case !inv.UsedAt.IsZero() || !s.now().Before(inv.ExpiresAt):
		return ErrInvitation
	}
	return nil
}

// Accept accepts an invitation: the invitee chooses their name and
// password. The link works once, before it expires, while a seat is free.
func (s *Service) Accept(ctx context.Context, token, name, password string) (*store.User, error) {
	name, err := checkName(name)
	if err != nil {
		return nil, err
	}
	hash, err := hashPassword(password, s.cfg.PasswordMemory)
	if err != nil {
		return nil, err
	}
	if token == "" || len(token) > 100 {
		return nil, ErrInvitation
	}
	u := &store.User{ID: ids.New(), Name: name, PasswordHash: hash, CreatedAt: s.now()}
	inv, err := s.st.UseInvitation(ctx, hashToken(token), u, s.cfg.DefaultSeats, s.now())
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrGone):
		s.record(slog.LevelWarn, "user.invitation_refused")
		return nil, ErrInvitation
	case err != nil:
		return nil, s.userErr(err, u.Email)
	}
	s.record(slog.LevelInfo, "user.joined", slog.String("user", u.ID), slog.String("account", u.AccountID),
		slog.String("role", u.Role), slog.String("invitation", inv.ID))
	s.stored(ctx, audit.User(u.ID), u.AccountID, "", "user.joined", userObject(u.ID),
		map[string]any{"role": u.Role, "invitation": inv.ID})
	return u, nil
}

// ChangeRole gives a user of the actor's account another role.
func (s *Service) ChangeRole(ctx context.Context, actor *store.User, userID, role string) error {
	if !Can(actor.Role, ManageUsers) {
		return ErrForbidden
	}
	if !ValidAccountRole(role) {
		return fmt.Errorf("role %q: use one of %s", role, strings.Join(AccountRoles, ", "))
	}
	u, err := s.st.GetUser(ctx, actor.AccountID, userID)
	if err != nil {
		return err
	}
	if (role == RoleOwner || u.Role == RoleOwner) && actor.Role != RoleOwner {
		return errors.New("only an owner can make or unmake an owner")
	}
	if u.Role == RoleOwner && role != RoleOwner {
		if err := s.keepOwner(ctx, actor.AccountID, u.ID); err != nil {
			return err
		}
	}
	old := u.Role
	u.Role = role
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return err
	}
	s.record(slog.LevelInfo, "user.role_changed", slog.String("actor", actor.ID), slog.String("user", u.ID),
		slog.String("from", old), slog.String("to", role))
	s.changes.Record(ctx, audit.Change{Actor: audit.User(actor.ID), Account: u.AccountID, IP: sourceIn(ctx),
		Action: "console user.role_changed", Object: userObject(u.ID), Before: map[string]any{"role": old}, After: map[string]any{"role": role}})
	return nil
}

func (s *Service) keepOwner(ctx context.Context, accountID, leaving string) error {
	us, err := s.st.ListUsers(ctx, accountID)
	if err != nil {
		return err
	}
	for _, o := range us {
		if o.Role == RoleOwner && o.ID != leaving && !o.Locked() {
			return nil
		}
	}
	return ErrLastOwner
}

// Remove removes a user of the actor's account (their seat is free again:
// that is how a seat is reassigned) and ends their sessions.
func (s *Service) Remove(ctx context.Context, actor *store.User, userID string) error {
	if !Can(actor.Role, ManageUsers) {
		return ErrForbidden
	}
	u, err := s.st.GetUser(ctx, actor.AccountID, userID)
	if err != nil {
		return err
	}
	if u.Role == RoleOwner {
		if actor.Role != RoleOwner {
			return errors.New("only an owner can remove an owner")
		}
		if err := s.keepOwner(ctx, actor.AccountID, u.ID); err != nil {
			return err
		}
	}
	if err := s.st.DeleteUser(ctx, actor.AccountID, userID); err != nil {
		return err
	}
	s.record(slog.LevelInfo, "user.removed", slog.String("actor", actor.ID), slog.String("user", u.ID), slog.String("account", u.AccountID))
	s.stored(ctx, audit.User(actor.ID), u.AccountID, "", "user.removed", userObject(u.ID), map[string]any{"role": u.Role})
	return nil
}

// Reassign gives a user's seat to someone else (ACCT-1: seats are named,
// not shared, and reassignable): the user is removed and the new person
// invited with the same role, in the seat just freed.
func (s *Service) Reassign(ctx context.Context, actor *store.User, userID, email string) (string, error) {
	if !Can(actor.Role, ManageUsers) {
		return "", ErrForbidden
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return "", err
	}
	u, err := s.st.GetUser(ctx, actor.AccountID, userID)
	if err != nil {
		return "", err
	}
	if err := s.Remove(ctx, actor, userID); err != nil {
		return "", err
	}
	s.record(slog.LevelInfo, "seats.reassigned", slog.String("actor", actor.ID), slog.String("from_user", u.ID))
	s.stored(ctx, audit.User(actor.ID), actor.AccountID, "", "seats.reassigned", userObject(u.ID), nil)
	return s.invite(ctx, actor.AccountID, email, u.Role, "user "+actor.ID)
}

// ReportCompromised (PRIV-4) locks the user at once, ends every session of
// theirs and tells the account's owners (a notice to the account and an
// email to each owner).
func (s *Service) ReportCompromised(ctx context.Context, u *store.User, source string) error {
	now := s.now()
	if err := s.st.LockUser(ctx, u.ID, "reported compromised", now); err != nil {
		return err
	}
	s.record(slog.LevelWarn, "user.compromised", slog.String("user", u.ID), slog.String("account", u.AccountID), slog.String("source", source))
	s.stored(ctx, audit.User(u.ID), u.AccountID, source, "user.compromised", userObject(u.ID),
		map[string]any{"locked": true, "sessions_ended": true})
	if u.AccountID == "" {
		return nil
	}
	nt := notice.Notice{Type: "user.compromised", Subject: "A user's credentials were reported compromised",
		Text: fmt.Sprintf("%s reported their omnigate credentials compromised at %s. The user is locked and signed out; an owner must reset their password before they can sign in again.",
			u.Email, now.Format(time.RFC3339)),
		Data: map[string]any{"user": u.ID, "email": u.Email}}
	if err := s.st.EnqueueJob(ctx, notice.Job(u.AccountID, nt, now)); err != nil {
		s.log.Warn("users: queueing the compromise notice", "user", u.ID, "err", err)
	}
	if s.mail != nil {
		us, err := s.st.ListUsers(ctx, u.AccountID)
		if err != nil {
			return nil
		}
		var owners []string
		for _, o := range us {
			if o.Role == RoleOwner && o.ID != u.ID {
				owners = append(owners, o.Email)
			}
		}
		if len(owners) > 0 {
			if err := s.mail.MailTo(owners, nt.Subject, nt.Text); err != nil {
				s.log.Warn("users: mailing owners about a compromise", "user", u.ID, "err", err)
			}
		}
	}
	return nil
}

// EnableTOTP turns on a user's second factor with a secret the console
// showed them, once they prove their app has it with a current code.
func (s *Service) EnableTOTP(ctx context.Context, u *store.User, secret, code string) error {
	if u.TOTPSecret != "" {
		return errors.New("two factors are on already")
	}
	if len(secret) != 32 {
		return ErrBadCode
	}
	if _, err := b32.DecodeString(secret); err != nil {
		return ErrBadCode
	}
	step, ok := CheckTOTP(secret, code, s.now())
	if !ok {
		s.record(slog.LevelWarn, "user.totp_failed", slog.String("user", u.ID), slog.String("during", "enable"))
		return ErrBadCode
	}
	u.TOTPSecret = secret
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return err
	}
	if _, err := s.st.AcceptTOTPStep(ctx, u.ID, step); err != nil {
		return err
	}
	s.record(slog.LevelInfo, "user.totp_enabled", slog.String("user", u.ID))
	s.stored(ctx, audit.User(u.ID), u.AccountID, "", "user.totp_enabled", userObject(u.ID), nil)
	return nil
}

// DisableTOTP turns a user's second factor off, with a current code;
// operators keep theirs.
func (s *Service) DisableTOTP(ctx context.Context, u *store.User, code string) error {
	if u.Role == RoleOperator {
		return errors.New("operators keep their second factor")
	}
	if u.TOTPSecret == "" {
		return nil
	}
	step, ok := CheckTOTP(u.TOTPSecret, code, s.now())
	if ok {
		var err error
		if ok, err = s.st.AcceptTOTPStep(ctx, u.ID, step); err != nil {
			return err
		}
	}
	if !ok {
		s.record(slog.LevelWarn, "user.totp_failed", slog.String("user", u.ID), slog.String("during", "disable"))
		return ErrBadCode
	}
	u.TOTPSecret = ""
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return err
	}
	s.record(slog.LevelInfo, "user.totp_disabled", slog.String("user", u.ID))
	s.stored(ctx, audit.User(u.ID), u.AccountID, "", "user.totp_disabled", userObject(u.ID), nil)
	return nil
}

// ResetTOTP gives a user a new TOTP secret (returned, to show once) and
// ends their sessions; an operator's act (omnigate user reset-2fa).
func (s *Service) ResetTOTP(ctx context.Context, email, actor string) (string, error) {
	u, err := s.st.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return "", fmt.Errorf("user %s: %w", email, err)
	}
	u.TOTPSecret = NewTOTPSecret()
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return "", err
	}
	if _, err := s.st.DeleteUserSessions(ctx, u.ID); err != nil {
		return "", err
	}
	s.record(slog.LevelWarn, "user.totp_reset", slog.String("actor", actor), slog.String("user", u.ID))
	s.stored(ctx, audit.Actor{Kind: audit.KindSystem, ID: actor}, u.AccountID, "", "user.totp_reset", userObject(u.ID),
		map[string]any{"sessions_ended": true})
	return u.TOTPSecret, nil
}

// ResetPassword sets a user's password and unlocks them (after a
// compromise); an operator's act.
func (s *Service) ResetPassword(ctx context.Context, email, password, actor string) error {
	u, err := s.st.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return fmt.Errorf("user %s: %w", email, err)
	}
	if u.PasswordHash, err = hashPassword(password, s.cfg.PasswordMemory); err != nil {
		return err
	}
	u.LockedAt, u.LockedReason = time.Time{}, ""
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return err
	}
	if _, err := s.st.DeleteUserSessions(ctx, u.ID); err != nil {
		return err
	}
	s.record(slog.LevelWarn, "user.password_reset", slog.String("actor", actor), slog.String("user", u.ID))
	s.stored(ctx, audit.Actor{Kind: audit.KindSystem, ID: actor}, u.AccountID, "", "user.password_reset", userObject(u.ID),
		map[string]any{"unlocked": true, "sessions_ended": true})
	return nil
}

// SetLanguage records a user's console language ("" follows the browser).
func (s *Service) SetLanguage(ctx context.Context, u *store.User, lang string) error {
	switch lang {
	case "", "en", "fr", "ar":
	default:
		return fmt.Errorf("language %q: use en, fr or ar", lang)
	}
	u.Language = lang
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return err
	}
	s.record(slog.LevelInfo, "user.language_set", slog.String("user", u.ID), slog.String("language", lang))
	s.stored(ctx, audit.User(u.ID), u.AccountID, "", "user.language_set", userObject(u.ID), map[string]any{"language": lang})
	return nil
}

// Users lists the users of the actor's account.
func (s *Service) Users(ctx context.Context, actor *store.User) ([]store.User, error) {
	if !Can(actor.Role, ViewUsers) {
		return nil, ErrForbidden
	}
	return s.st.ListUsers(ctx, actor.AccountID)
}

// TOTPURI is the otpauth URI of a user's secret.
func (s *Service) TOTPURI(u *store.User) string { return TOTPURI(s.cfg.Issuer, u.Email, u.TOTPSecret) }
