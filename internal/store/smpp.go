package store

import (
	"context"
	"time"
)

// SMPPCredential is how an account binds to omnigate's SMPP server.
type SMPPCredential struct {
	AccountID string
	// SystemID is the bind's system_id (at most 15 characters).
	SystemID string
	// PasswordHash is a salted, slow hash of the password (the SMPP
	// server's package makes and checks it); the password is never kept.
	PasswordHash string
	// AllowedIPs are addresses or CIDR prefixes a bind may come from;
	// empty allows every address.
	AllowedIPs []string
	// MaxRate is submits per second across the account's binds; 0 means
	// the server's default.
	MaxRate int
	// Window bounds requests in flight per bind; 0 means the default.
	Window    int
	CreatedAt time.Time
}

// SMPPCredentials keeps the accounts' SMPP server credentials.
type SMPPCredentials interface {
	// SaveSMPPCredential stores an account's credentials, replacing the
	// ones it had. ErrNotFound without such an account, ErrConflict when
	// another account has the system_id.
	SaveSMPPCredential(ctx context.Context, c *SMPPCredential) error
	// SMPPCredentialBySystemID finds credentials by system_id; ErrNotFound.
	SMPPCredentialBySystemID(ctx context.Context, systemID string) (*SMPPCredential, error)
	// SMPPCredential reads an account's credentials; ErrNotFound.
	SMPPCredential(ctx context.Context, accountID string) (*SMPPCredential, error)
}
