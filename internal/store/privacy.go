package store

import (
	"context"
	"time"
)

// Data-subject request kinds (PRIV-2).
const (
	PrivacyAccess        = "access"
	PrivacyErasure       = "erasure"
	PrivacyRestriction   = "restriction"
	PrivacyRectification = "rectification"
)

// Data-subject request statuses. Open and in_progress requests run against
// their deadline; completed, refused and closed ones are done. A
// restriction stays completed (in force) until it is closed.
const (
	PrivacyOpen       = "open"
	PrivacyInProgress = "in_progress"
	PrivacyCompleted  = "completed"
	PrivacyRefused    = "refused"
	PrivacyClosed     = "closed"
)

// PrivacyRequest is a data-subject request about one identifier.
type PrivacyRequest struct {
	ID         string
	AccountID  string // "": an operator's request over every account
	Identifier string // international digits, a lower-cased email address or a chat id
	IDKind     string // "phone", "email" or "chat"
	Kind       string // PrivacyAccess …
	Status     string // PrivacyOpen …
	OpenedBy   string // "api key KEYID", "operator", "cli"
	Note       string
	// Changes are a rectification's new contact fields, as JSON.
	Changes string
	// Outcome says what was done, kept and why, or what could not be.
	Outcome         string
	CreatedAt       time.Time
	DueAt           time.Time
	ExtendedAt      time.Time
	ExtensionReason string
	CompletedAt     time.Time
	RemindedAt      time.Time
	OverdueAt       time.Time
	// HasExport says an access request's export is stored.
	HasExport bool
}

// Done reports whether the request no longer runs against its deadline.
func (r *PrivacyRequest) Done() bool {
	return r.Status == PrivacyCompleted || r.Status == PrivacyRefused || r.Status == PrivacyClosed
}

// PrivacyEvent is one step of a request's history.
type PrivacyEvent struct {
	RequestID string
	Status    string // the status it moved to, or "reminded", "overdue"
	Detail    string
	Actor     string
	At        time.Time
}

// PrivacyRequestChange is an update of a request with the event that
// records it. Fields left zero are not changed, except Status.
type PrivacyRequestChange struct {
	Status          string
	Outcome         string
	Export          []byte
	DueAt           time.Time
	ExtendedAt      time.Time
	ExtensionReason string
	CompletedAt     time.Time
	RemindedAt      time.Time
	OverdueAt       time.Time
	// ResetReminder clears RemindedAt (a deadline moved: remind again).
	ResetReminder bool
	// From, when set, makes the change apply only while the request has
	// that status (ErrConflict otherwise).
	From  string
	Event PrivacyEvent
}

// PrivacyFilter selects requests to list; zero fields match all.
type PrivacyFilter struct {
	AccountID string // "*": every account's and the operator's
	Status    string
	Limit     int
}

// SubjectTable is one kind of data held about a person: a table's rows as
// text, for the access export.
type SubjectTable struct {
	Name    string
	Columns []string
	Rows    [][]string
}

// Erasure is what erasing an identifier did in one account.
type Erasure struct {
	// Cancelled are recipients not yet handed to a carrier whose send was
	// cancelled first.
	Cancelled int
	// InFlight are recipients whose send job a worker holds right now: the
	// erasure did nothing and must be tried again once they settle.
	InFlight int
	// Erased counts rows anonymised or deleted, per kind.
	Erased map[string]int
	// Kept counts rows kept, per kind (the reason is the caller's).
	Kept map[string]int
}

// Total is the number of rows erased.
func (e *Erasure) Total() int {
	n := 0
	for _, v := range e.Erased {
		n += v
	}
	return n
}

// ContactChanges are a rectification's new values; nil fields stay.
type ContactChanges struct {
	FirstName *string    `json:"firstName,omitempty"`
	LastName  *string    `json:"lastName,omitempty"`
	Custom    [4]*string `json:"-"`
}

// RetentionRun is one pass of the retention schedule.
type RetentionRun struct {
	ID         int64          `json:"id"`
	Node       string         `json:"node"`
	StartedAt  time.Time      `json:"startedDatetime"`
	FinishedAt time.Time      `json:"finishedDatetime"`
	Counts     map[string]int `json:"counts"`
	Error      string         `json:"error,omitempty"`
}

// Privacy stores data-subject requests, restrictions and the retention
// schedule, and finds, exports and erases what is held about a person.
type Privacy interface {
	CreatePrivacyRequest(ctx context.Context, r *PrivacyRequest) error
	// GetPrivacyRequest reads a request; accountID "*" reads any (an
	// operator), otherwise only that account's.
	GetPrivacyRequest(ctx context.Context, accountID, id string) (*PrivacyRequest, error)
	PrivacyExport(ctx context.Context, accountID, id string) ([]byte, error)
	ListPrivacyRequests(ctx context.Context, f PrivacyFilter) ([]*PrivacyRequest, error)
	// UpdatePrivacyRequest applies a change and records its event.
	UpdatePrivacyRequest(ctx context.Context, id string, c PrivacyRequestChange) error
	PrivacyEvents(ctx context.Context, id string) ([]PrivacyEvent, error)
	// PrivacyDue lists requests not done whose deadline is before t (for
	// reminders), oldest first.
	PrivacyDue(ctx context.Context, before time.Time, max int) ([]*PrivacyRequest, error)

	// PrivacyAccounts are the accounts that hold anything at all; an
	// operator's request runs over each.
	PrivacyAccounts(ctx context.Context) ([]string, error)
	// SubjectData reads everything an account holds about an identifier.
	SubjectData(ctx context.Context, accountID, identifier string) ([]SubjectTable, error)
	// EraseSubject cancels sends not yet handed to a carrier, then
	// anonymises or deletes what the account holds about the identifier,
	// keeping consent proof and suppressions. When a worker holds a send to
	// the identifier it changes nothing and says so (Erasure.InFlight).
	EraseSubject(ctx context.Context, accountID, identifier string, at time.Time) (*Erasure, error)
	// JournalErasure records a completed erasure in the backup
	// directories' erasure journals (the identifier sealed), for a restore
	// of an older backup to apply it again; it says how many journals.
	JournalErasure(ctx context.Context, accountID, requestID, identifier string, at time.Time) (int, error)
	// RectifyContacts changes the account's contacts with the identifier's
	// number and says how many.
	RectifyContacts(ctx context.Context, accountID, identifier string, c ContactChanges, at time.Time) (int, error)
	// Restrict and Unrestrict add and remove a restriction (accountID ""
	// for every account).
	Restrict(ctx context.Context, accountID, identifier, requestID string, at time.Time) error
	Unrestrict(ctx context.Context, requestID string) error

	// RetentionSettings are the operator's periods per kind in days.
	RetentionSettings(ctx context.Context) (map[string]int, error)
	SetRetention(ctx context.Context, kind string, days int, by string, at time.Time) error
	// PurgeRetention removes or anonymises up to max rows of a kind older
	// than before and says how many.
	PurgeRetention(ctx context.Context, kind string, before time.Time, max int) (int, error)
	RecordRetentionRun(ctx context.Context, r *RetentionRun) error
	RetentionRuns(ctx context.Context, limit int) ([]*RetentionRun, error)
	// ClaimLease takes the named lease for owner until a time if it has
	// lapsed (held_until <= now); it says whether it got it.
	ClaimLease(ctx context.Context, name, owner string, now, until time.Time) (bool, error)
}

// Retention kinds the store can purge.
const (
	RetainTraffic   = "traffic"   // outbound messages: bodies, addresses, statuses
	RetainInbound   = "inbound"   // inbound messages
	RetainReceipts  = "receipts"  // carrier receipts per part and status events
	RetainLookups   = "lookups"   // HLR lookups and verifications
	RetainMarketing = "marketing" // contacts and conversations untouched for the period
	RetainDecisions = "decisions" // compliance decisions and complaints
	RetainWebhooks  = "webhooks"  // Conversations webhook deliveries (finished)
	RetainConsent   = "consent"   // consent proof, suppression removals, answered proof cases, finished rights requests
	RetainBilling   = "billing"   // ledger, top-ups, usage counters and alerts, billed chat conversations
)
