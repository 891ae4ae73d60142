package store

import (
	"context"
	"errors"
	"time"
)

// User is a person who signs in to the console: a user of an account, or
// an operator (AccountID "", role "operator").
type User struct {
	ID           string
	AccountID    string // "" for the operator scope
	Email        string // lower case; unique across the platform
	Name         string
	Role         string // owner, admin, developer, compliance, billing, operator
	PasswordHash string // argon2id, PHC string format
	TOTPSecret   string // base32; "" when two factors are off
	TOTPLastStep int64  // the last accepted RFC 6238 time step
	Language     string // "en", "fr", "ar"; "" follows the browser
	LockedAt     time.Time
	LockedReason string
	CreatedAt    time.Time
}

// Locked reports whether the user is locked out.
func (u *User) Locked() bool { return !u.LockedAt.IsZero() }

// Session is a signed-in browser; the store knows only its token's hash.
type Session struct {
	TokenHash []byte
	UserID    string
	CSRF      string
	Verified  bool // the second factor was given (or the user has none)
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Invitation is a single-use link to join an account.
type Invitation struct {
	ID        string
	TokenHash []byte
	AccountID string
	Email     string
	Role      string
	InvitedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// Seats are an account's plan of named users (ACCT-1).
type Seats struct {
	AccountID string
	Seats     int
	TermStart time.Time
	TermEnd   time.Time
	SeatPrice int64 // micro-units for a full term
}

// Users keeps console users, sessions, invitations and seats. Queries of
// an account's users are scoped by the account: another account's user
// id answers ErrNotFound.
type Users interface {
	// CreateUser stores a new user; ErrConflict if the email is taken.
	// When seats > 0 and accountID is not "", the account's users
	// (with u) must not exceed seats, else ErrSeats.
	CreateUser(ctx context.Context, u *User, seats int) error
	// GetUser reads a user by id within accountID ("" for operators);
	// ErrNotFound if none.
	GetUser(ctx context.Context, accountID, id string) (*User, error)
	// UserByID reads a user by id (any scope), for a session; ErrNotFound
	// if none.
	UserByID(ctx context.Context, id string) (*User, error)
	// UserByEmail reads a user by email (any scope); ErrNotFound if none.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// ListUsers lists an account's users ("" for operators), oldest first.
	ListUsers(ctx context.Context, accountID string) ([]User, error)
	// CountUsers counts an account's users.
	CountUsers(ctx context.Context, accountID string) (int, error)
	// UpdateUser writes a user's email, name, role, password hash, TOTP
	// secret, language and lock; ErrNotFound if none; ErrConflict if the
	// email is another user's.
	UpdateUser(ctx context.Context, u *User) error
	// AcceptTOTPStep records step as u's last accepted TOTP step, only if
	// it is later than the one stored; false if it is not (a replay).
	AcceptTOTPStep(ctx context.Context, userID string, step int64) (bool, error)
	// DeleteUser removes a user of accountID and their sessions.
	DeleteUser(ctx context.Context, accountID, id string) error
	// LockUser locks a user and ends their sessions, in one transaction.
	LockUser(ctx context.Context, id, reason string, at time.Time) error

	CreateSession(ctx context.Context, s *Session) error
	// GetSession reads a session that has not expired at now.
	GetSession(ctx context.Context, tokenHash []byte, now time.Time) (*Session, error)
	MarkSessionVerified(ctx context.Context, tokenHash []byte) error
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteUserSessions ends every session of a user; says how many.
	DeleteUserSessions(ctx context.Context, userID string) (int, error)
	// PurgeSessions deletes sessions that ended before before; says how
	// many.
	PurgeSessions(ctx context.Context, before time.Time) (int, error)

	CreateInvitation(ctx context.Context, inv *Invitation) error
	// UseInvitation accepts an invitation: in one transaction it marks
	// it used and creates u (whose AccountID, Email and Role it sets
	// from the invitation). ErrNotFound if no such token; ErrGone if the
	// invitation was used or has expired; ErrSeats if no seat is free
	// (the account's seats, defaultSeats when it has no row); ErrConflict
	// if the email is taken.
	UseInvitation(ctx context.Context, tokenHash []byte, u *User, defaultSeats int, now time.Time) (*Invitation, error)
	ListInvitations(ctx context.Context, accountID string) ([]Invitation, error)
	// GetInvitation reads an invitation by its token's hash, used or not;
	// ErrNotFound if there is none.
	GetInvitation(ctx context.Context, tokenHash []byte) (*Invitation, error)

	// GetSeats reads an account's seats; ErrNotFound if it has no row.
	GetSeats(ctx context.Context, accountID string) (*Seats, error)
	PutSeats(ctx context.Context, s *Seats) error
}

var (
	// ErrGone means an invitation was used already or has expired.
	ErrGone = errors.New("gone")
	// ErrSeats means every seat of the account's plan is taken.
	ErrSeats = errors.New("every seat is taken")
)

// DailyCount is how many recipients of an account's outgoing messages
// created on one UTC day, of one channel, have one status, and what they
// were charged.
type DailyCount struct {
	Day     time.Time // 00:00 UTC
	Channel string
	Status  string
	Count   int
	Charged int64 // micro-units of the account's currency
}

// Dashboards are the console's aggregate reads.
type Dashboards interface {
	// DailyCounts counts an account's outgoing recipients per UTC day,
	// channel and status, for messages created in [from, until); from is
	// a day's start. The counts are as of the last FoldMessageCounts.
	DailyCounts(ctx context.Context, accountID string, from, until time.Time) ([]DailyCount, error)
	// FoldMessageCounts moves the changes recorded since the last fold
	// into the roll-up DailyCounts reads (maintenance, every few
	// seconds); it returns how many changes it moved. DailyCounts is as
	// of the last fold.
	FoldMessageCounts(ctx context.Context) (int, error)
	// MessageParts lists the parts an outgoing message's recipients were
	// sent as, by recipient and part (the message page's timeline); none
	// for a message of another account.
	MessageParts(ctx context.Context, accountID, messageID string) ([]MessagePart, error)
}

// MessagePart is one part of a recipient as its connector took it, with
// the part's latest status from the receipts.
type MessagePart struct {
	Seq, Part int // Part counts from 1
	Connector string
	Status    string
	ErrorCode int
	SentAt    time.Time // zero when unknown (parts stored before 059)
	StatusAt  time.Time
}
