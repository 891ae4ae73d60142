package store

import (
	"context"
	"crypto"
	"encoding/json"
	"time"
)

// EmailDomain is a domain an account sends email from, with the DKIM key
// that signs its messages (docs/email.md, "Sending domains and DKIM").
type EmailDomain struct {
	AccountID string
	Domain    string // lower case, without a trailing dot
	Selector  string // the DKIM record lives at <Selector>._domainkey.<Domain>
	Algorithm string // "rsa" or "ed25519"
	// Key is the DKIM private key, in clear: the store encrypts it at rest.
	Key       crypto.Signer
	CreatedAt time.Time
	// VerifiedAt is when a check first found the required DNS records since
	// they last failed; zero: not verified (never, or the last check failed).
	VerifiedAt time.Time
	// LastCheck is the last verification's result (JSON, as the CLI and the
	// API show it); nil: never checked. CheckedAt is when it ran.
	LastCheck json.RawMessage
	CheckedAt time.Time
	// SuspendedAt is when an operator suspended the domain (zero: not
	// suspended), why, and who ("admin api", "cli").
	SuspendedAt     time.Time
	SuspendedReason string
	SuspendedBy     string
	// DailyCap bounds the emails (one per recipient) sent from the domain
	// per UTC day; 0: no cap.
	DailyCap int
}

// Verified says whether the domain's DNS records were found in place.
func (d *EmailDomain) Verified() bool { return !d.VerifiedAt.IsZero() }

// Suspended says whether an operator suspended the domain.
func (d *EmailDomain) Suspended() bool { return !d.SuspendedAt.IsZero() }

// EmailDomains stores sending domains, their keys and their daily volume.
type EmailDomains interface {
	// AddEmailDomain stores a new sending domain; ErrConflict if the
	// account has it already. Other accounts may hold the same domain (each
	// with its own selector): only the one whose records are published
	// verifies.
	AddEmailDomain(ctx context.Context, d *EmailDomain) error
	// EmailDomain returns one domain of the account with its key in clear;
	// ErrNotFound if the account has no such domain.
	EmailDomain(ctx context.Context, accountID, domain string) (*EmailDomain, error)
	// EmailDomains lists the account's domains by name.
	EmailDomains(ctx context.Context, accountID string) ([]EmailDomain, error)
	// EmailDomainOwners lists the accounts holding domain, for operators
	// who name a domain without its account.
	EmailDomainOwners(ctx context.Context, domain string) ([]string, error)
	// DeleteEmailDomain removes a domain and its key; ErrNotFound if none.
	DeleteEmailDomain(ctx context.Context, accountID, domain string) error
	// RecordEmailDomainCheck stores a verification's result. verified sets
	// VerifiedAt to at unless it is set already; a failed check clears it.
	RecordEmailDomainCheck(ctx context.Context, accountID, domain string, result json.RawMessage, verified bool, at time.Time) error
	// SuspendEmailDomain stops the domain's email (reason and by are
	// recorded); ResumeEmailDomain lifts it. ErrNotFound if no such domain.
	SuspendEmailDomain(ctx context.Context, accountID, domain, reason, by string, at time.Time) error
	ResumeEmailDomain(ctx context.Context, accountID, domain string) error
	// SetEmailDomainCap sets the domain's daily cap (0: none).
	SetEmailDomainCap(ctx context.Context, accountID, domain string, perDay int) error
	// TakeEmailDomainQuota counts n more emails from the domain on the UTC
	// day of at, unless that would pass limit; it returns whether it counted
	// them and the day's count after (or, refused, before) them. One atomic
	// statement: nodes accepting at once never pass the limit together.
	TakeEmailDomainQuota(ctx context.Context, accountID, domain string, n, limit int, at time.Time) (ok bool, used int, err error)
	// EmailDomainSent is the day's count of the domain (UTC day of at).
	EmailDomainSent(ctx context.Context, accountID, domain string, at time.Time) (int, error)
}
