package domains

import (
	"context"
	"time"

	"github.com/omnigate/omnigate/internal/email/dkim"
	"github.com/omnigate/omnigate/internal/store"
)

// InputError is a bad value given for a new domain: which field, and why.
type InputError struct{ Field, Reason string }

func (e *InputError) Error() string { return e.Field + ": " + e.Reason }

// New makes a sending domain for the account with a fresh key: algorithm
// "" is RSA (what every receiver verifies), selector "" a new random one.
// Errors for bad input are *InputError.
func New(accountID, domain, algorithm, selector string, now time.Time) (*store.EmailDomain, error) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return nil, &InputError{"domain", err.Error()}
	}
	switch algorithm {
	case "":
		algorithm = dkim.RSA
	case dkim.RSA, dkim.Ed25519:
	default:
		return nil, &InputError{"algorithm", "use rsa or ed25519"}
	}
	if selector == "" {
		selector = NewSelector()
	} else if err := ValidSelector(selector); err != nil {
		return nil, &InputError{"selector", err.Error()}
	}
	key, err := dkim.GenerateKey(algorithm)
	if err != nil {
		return nil, err
	}
	return &store.EmailDomain{AccountID: accountID, Domain: d, Selector: selector, Algorithm: algorithm, Key: key,
		CreatedAt: now.UTC().Truncate(time.Microsecond)}, nil
}

// CheckAndRecord verifies d's records and stores the result: the domain is
// verified from now on, or no longer.
func CheckAndRecord(ctx context.Context, st store.EmailDomains, d *store.EmailDomain, cfg Config, at time.Time) (*Check, error) {
	c, err := Verify(ctx, d, cfg, at)
	if err != nil {
		return nil, err
	}
	if err := st.RecordEmailDomainCheck(ctx, d.AccountID, d.Domain, c.JSON(), c.Verified, at); err != nil {
		return nil, err
	}
	return c, nil
}
