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

// Replacing changes a message that has not started sending (SMPP's
// replace_sm).
type Replacing interface {
	// ReplaceScheduled puts it.Message in the place of the stored message
	// with its id and account, in one transaction, when every recipient of
	// the stored one still waits for its time (those refused at accept
	// aside) and it is not held for review: the message row, its recipients
	// and its send job are written again from it.Message (keep its
	// CreatedAt). The account is charged the difference between it.Charge
	// and what the stored message was charged (a negative difference is
	// refunded), and the usage limits count the parts it adds (parts it
	// drops are not given back to the counters). ErrNotFound if there is no
	// such message, ErrConflict if sending has started or it is held;
	// ErrInsufficientBalance or a *LimitError when the difference does not
	// fit, with nothing changed.
	ReplaceScheduled(ctx context.Context, it *Accept) error
}
