package store

import (
	"context"
	"time"
)

// UserToken is a console user's personal API token: the REST API accepts
// it like an access key, but each route checks the user's role. Only its
// SHA-256 is stored.
type UserToken struct {
	ID         string
	AccountID  string
	UserID     string
	Hash       []byte
	Name       string // what the user called it
	Hint       string // last characters, so a person can tell tokens apart
	CreatedAt  time.Time
	LastUsedAt time.Time // about when it last authenticated (zero: never or unknown)
	RevokedAt  time.Time // zero: valid
	RevokedBy  string

	// Set by UserTokenByHash from the token's user: its role now, and
	// whether it is locked or gone (a removed user's token answers with
	// UserGone set).
	Role       string
	UserLocked bool
	UserGone   bool
}

// Revoked says whether the token may no longer be used: revoked, or its
// user locked or removed.
func (t *UserToken) Revoked() bool { return !t.RevokedAt.IsZero() || t.UserLocked || t.UserGone }

// UserTokens keeps personal API tokens. Removing, locking a user or
// changing their role moves the key revocation generation
// (Accounts.KeyRevocations) when the user has tokens, so that nodes which
// keep authenticated tokens in memory read them again.
type UserTokens interface {
	// CreateUserToken stores a new token of a user of an account.
	CreateUserToken(ctx context.Context, t *UserToken) error
	// UserTokensOf lists a user's tokens (revoked ones included), oldest
	// first; scoped by the account.
	UserTokensOf(ctx context.Context, accountID, userID string) ([]UserToken, error)
	// RevokeUserToken revokes one of a user's tokens and moves the
	// revocation generation; ErrNotFound if the user has no such valid
	// token.
	RevokeUserToken(ctx context.Context, accountID, userID, id, by string, at time.Time) error
	// UserTokenByHash reads a token by its hash, with its user's role and
	// state; ErrNotFound if none.
	UserTokenByHash(ctx context.Context, hash []byte) (*UserToken, error)
}
