package store

import (
	"context"
	"time"
)

// TermsVersion is one published version of the platform's terms of
// service (ACCT-7).
type TermsVersion struct {
	Version     string    `json:"version"` // the operator's name for it: "2026-12", "v3"
	URL         string    `json:"url"`     // where the text is
	Summary     string    `json:"summary"` // what changed, as announced to owners
	EffectiveAt time.Time `json:"effectiveAt"`
	PublishedAt time.Time `json:"publishedAt"`
}

// TermsAcceptance records that an account accepted a version.
type TermsAcceptance struct {
	AccountID  string    `json:"accountId"`
	Version    string    `json:"version"`
	AcceptedBy string    `json:"acceptedBy"` // who: "key:<id>", a console user, "operator"
	IP         string    `json:"ip"`
	AcceptedAt time.Time `json:"acceptedAt"`
}

// Subprocessor is one of the operator's sub-processors (PRIV-7): a
// carrier, mail relay, chat provider or host that processes personal data.
type Subprocessor struct {
	Name     string `json:"name"`
	Purpose  string `json:"purpose"`
	Location string `json:"location"`
}

// Terms stores terms of service versions, their acceptances and the
// sub-processor list. Changes that accounts must be told of carry their
// notice jobs, written in the same transaction.
type Terms interface {
	// PublishTerms stores a new version and its announcements;
	// ErrConflict if the version exists.
	PublishTerms(ctx context.Context, v TermsVersion, notices []*Job) error
	// ListTerms lists versions, the newest published first.
	ListTerms(ctx context.Context) ([]TermsVersion, error)
	// AcceptTerms records an acceptance (again: the first one stays);
	// ErrNotFound for an unknown version.
	AcceptTerms(ctx context.Context, a TermsAcceptance) error
	// TermsAcceptances lists an account's acceptances ("" accountID: every
	// account's of version), the newest first.
	TermsAcceptances(ctx context.Context, accountID, version string) ([]TermsAcceptance, error)
	// SetSubprocessors replaces the list and stores the announcements.
	SetSubprocessors(ctx context.Context, list []Subprocessor, at time.Time, notices []*Job) error
	// Subprocessors is the list and when it last changed (zero: never set).
	Subprocessors(ctx context.Context) ([]Subprocessor, time.Time, error)
}
