package store

import (
	"context"
	"time"
)

// Verification statuses, as MessageBird's Verify API names them.
const (
	VerifySent     = "sent"
	VerifyVerified = "verified"
	VerifyExpired  = "expired" // shown once valid_until passed; not stored
	VerifyFailed   = "failed"
	VerifyDeleted  = "deleted"
)

// Verification is one one-time code sent to a recipient (a phone number or
// an email address) and its state. The code itself is never stored: only
// CodeHash, the SHA-256 of Salt, the verification's id and the code.
type Verification struct {
	ID        string
	AccountID string
	Recipient string // international digits without "+", or an email address
	Type      string // sms, flash, email
	Reference string
	// MessageID is the message that carried the code.
	MessageID string
	Status    string
	CodeHash  []byte
	Salt      []byte
	// Attempts counts wrong codes checked so far.
	Attempts int
	// Prefix and Country are what the fraud checks count by (the number
	// without its last digits; its ISO country); IP is the caller's
	// end-user address when the request gave one.
	Prefix     string
	Country    string
	IP         string
	CreatedAt  time.Time
	ValidUntil time.Time
	VerifiedAt time.Time // zero until verified
	// Service is the Twilio Verify service it belongs to ("" for
	// MessageBird's).
	Service string
}

// VerifyService is a Twilio Verify v2 service: a name and a code length
// its verifications share.
type VerifyService struct {
	ID           string
	AccountID    string
	FriendlyName string
	CodeLength   int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// VerifyWrite is one verification to write: a new one (Insert), or a
// checked one's Status, Attempts and VerifiedAt.
type VerifyWrite struct {
	V            *Verification
	Insert       bool
	FromStatus   string
	FromAttempts int
	Err          error // set by the store for an update that did not apply
}

// VerifyCounts are verifications created since a time, by what velocity
// limits count: to the number, to its prefix, from the caller's IP, by the
// account.
type VerifyCounts struct {
	Number, Prefix, IP, Account int
}

// VerifyConversion is how many settled verifications (verified, failed or
// expired: those whose outcome is known) to a prefix and to a country were
// created since a time, and how many of them were verified.
type VerifyConversion struct {
	PrefixSent, PrefixVerified   int
	CountrySent, CountryVerified int
}

// VerifySettings are an account's fraud protection settings. The zero
// value (what an account that never changed them has) means the defaults
// internal/verify documents.
type VerifySettings struct {
	// Disabled turns fraud protection off (geo permissions, velocity
	// limits, conversion watch); premium-rate numbers stay refused.
	Disabled bool `json:"disabled"`
	// Countries are the ISO codes the account may verify in; empty: all.
	Countries []string `json:"countries"`
	// Per-hour velocity limits; 0 means the default, -1 none.
	PerNumber  int `json:"perNumber"`
	PerPrefix  int `json:"perPrefix"`
	PerIP      int `json:"perIp"`
	PerAccount int `json:"perAccount"`
	// ConversionWatch: 0 default on, -1 off.
	ConversionWatch int `json:"conversionWatch"`
}

// VerifyBlock is a prefix or a country where an account's verifications
// are refused, set by the conversion watch (or an operator) and lifted by
// an operator.
type VerifyBlock struct {
	ID        string    `json:"id"`
	AccountID string    `json:"accountId"`
	Kind      string    `json:"kind"` // "prefix" or "country"
	Value     string    `json:"value"`
	Rule      string    `json:"rule"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"createdDatetime"`
	LiftedBy  string    `json:"liftedBy,omitempty"`
	LiftedAt  time.Time `json:"liftedDatetime,omitzero"`
}

// Verifications stores one-time-code verifications and their fraud
// protection state.
type Verifications interface {
	// WriteVerifications writes new verifications and checked ones in
	// one transaction (the verify service group-commits them). An update
	// applies only if the stored verification still has FromStatus and
	// FromAttempts; one that does not gets Err ErrConflict (ErrNotFound if
	// there is none) and the others are written.
	WriteVerifications(ctx context.Context, ws []*VerifyWrite) error
	// GetVerification reads one of an account's verifications;
	// ErrNotFound if it has none by that id.
	GetVerification(ctx context.Context, accountID, id string) (*Verification, error)
	// PendingVerification is the newest verification of an account's
	// service to the recipient that is still sent and valid at now;
	// ErrNotFound if there is none.
	PendingVerification(ctx context.Context, accountID, service, recipient string, now time.Time) (*Verification, error)
	// CreateVerifyService stores a service; GetVerifyService reads one of
	// an account's (ErrNotFound if it has none by that id).
	CreateVerifyService(ctx context.Context, s *VerifyService) error
	GetVerifyService(ctx context.Context, accountID, id string) (*VerifyService, error)
	// ListVerifyServices is an account's services, newest first.
	ListVerifyServices(ctx context.Context, accountID string) ([]VerifyService, error)
	// UpdateVerifyService stores a service's FriendlyName, CodeLength and
	// UpdatedAt; DeleteVerifyService removes one (its verifications stay,
	// as sent codes and their outcomes, until retention purges them).
	// Both answer ErrNotFound when the account has no service by that id.
	UpdateVerifyService(ctx context.Context, s *VerifyService) error
	DeleteVerifyService(ctx context.Context, accountID, id string) error
	// CountVerifications counts an account's verifications created since
	// the time, by the keys v gives: to v.Recipient, to v.Prefix, from
	// v.IP and in all. Each count stops at its cap (a cap of 0, or an
	// empty key, counts nothing), so that it reads at most that many rows.
	CountVerifications(ctx context.Context, accountID string, v *Verification, since time.Time, caps VerifyCounts) (VerifyCounts, error)
	// VerifyConversion is the conversion of an account's verifications
	// to a prefix and a country created since the time, counting only the
	// settled ones: verified, failed, or past their validity at now.
	VerifyConversion(ctx context.Context, accountID, prefix, country string, since, now time.Time) (VerifyConversion, error)

	GetVerifySettings(ctx context.Context, accountID string) (*VerifySettings, error)
	SetVerifySettings(ctx context.Context, accountID string, s *VerifySettings) error

	// AddVerifyBlock stores a block and, in the same transaction, the
	// jobs given (the notice to the account). ErrConflict if an active
	// block of that kind and value exists already.
	AddVerifyBlock(ctx context.Context, b *VerifyBlock, jobs ...*Job) error
	// VerifyBlocks lists an account's blocks ("" account: every
	// account's), active ones only unless all, newest first.
	VerifyBlocks(ctx context.Context, accountID string, all bool) ([]VerifyBlock, error)
	// LiftVerifyBlock lifts an active block; ErrNotFound if there is none.
	LiftVerifyBlock(ctx context.Context, id, by string, at time.Time) (*VerifyBlock, error)
}
