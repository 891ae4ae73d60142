package store

import (
	"context"
	"time"
)

// TwilioAccount is an account's credentials for the Twilio door: its
// account SID and auth token (kept in clear above the store, sealed at
// rest).
type TwilioAccount struct {
	AccountID string
	SID       string // "AC" and 32 hex
	AuthToken string // 32 hex
	CreatedAt time.Time
	RotatedAt time.Time // zero: never rotated
}

// TwilioAPIKey is an API key of the Twilio door; its secret is kept hashed.
type TwilioAPIKey struct {
	SID        string // "SK" and 32 hex
	AccountID  string
	SecretHash []byte // SHA-256 of the secret
	CreatedAt  time.Time
}

// Twilio stores the Twilio door's credentials.
type Twilio interface {
	// PutTwilioAccount stores an account's SID and token, replacing the
	// token (and keeping the SID) of one it has. ErrNotFound if there is
	// no such account.
	PutTwilioAccount(ctx context.Context, a *TwilioAccount) error
	// TwilioAccount reads an account's credentials; ErrNotFound if it has
	// none.
	TwilioAccount(ctx context.Context, accountID string) (*TwilioAccount, error)
	// TwilioAccountBySID reads credentials by account SID; ErrNotFound if
	// none.
	TwilioAccountBySID(ctx context.Context, sid string) (*TwilioAccount, error)
	// CreateTwilioAPIKey stores an API key. ErrNotFound if there is no such
	// account.
	CreateTwilioAPIKey(ctx context.Context, k *TwilioAPIKey) error
	// TwilioAPIKey reads an API key by SID; ErrNotFound if none.
	TwilioAPIKey(ctx context.Context, sid string) (*TwilioAPIKey, error)
}
