package store

import (
	"context"
	"time"
)

// Consent actions and sources.
const (
	OptIn  = "opt_in"
	OptOut = "opt_out"

	SourceAPI     = "api"
	SourceKeyword = "keyword"
	SourceWebForm = "web_form"
	SourceImport  = "import"
)

// Consent is one entry of the append-only consent ledger.
type Consent struct {
	ID         int64             `json:"id"`
	AccountID  string            `json:"-"`
	Recipient  string            `json:"recipient"` // MSISDN, email address or channel id
	Purpose    string            `json:"purpose"`   // "marketing", "transactional" …
	Action     string            `json:"action"`    // OptIn or OptOut
	LegalAge   bool              `json:"legalAge"`  // the recipient stated they are of legal age
	Categories []string          `json:"categories,omitempty"`
	Source     string            `json:"source"`
	Evidence   map[string]string `json:"evidence,omitempty"` // text, ip, userAgent, formUrl, file …
	Actor      string            `json:"actor,omitempty"`
	CreatedAt  time.Time         `json:"createdDatetime"`
}

// Suppression keeps a recipient from an account's messages.
type Suppression struct {
	Recipient string    `json:"recipient"`
	Channel   string    `json:"channel,omitempty"` // "sms", "email" … (issue 14's contract; keyed by it once suppressions are per channel)
	Reason    string    `json:"reason"`            // "opt_out", "manual", "bounce", "complaint"
	CreatedAt time.Time `json:"createdDatetime,omitzero"`
}

// Screening is what the store knows about a message's recipients.
type Screening struct {
	Latest     map[string]Consent // the newest marketing consent (action and legal age only)
	Suppressed map[string]string  // recipient → reason
	Listed     map[string]string  // recipient → a do-not-disturb registry that stops this message
	// Originators are the senders of the account's marketing messages to
	// each recipient since the time Screen was given (rotation check).
	Originators map[string][]string
}

// Do-not-disturb registry scopes: what a registry stops.
const (
	DNDAll       = "all"       // every message
	DNDMarketing = "marketing" // marketing and messages with restricted categories
)

// DNDImport is one import of a registry's file.
type DNDImport struct {
	Registry string
	Scope    string // DNDAll or DNDMarketing; it applies to the whole registry
	// Replace drops the registry's entries that are not in this import
	// (a registry's new full edition: numbers taken off it are removed).
	Replace bool
	Entries []DNDEntry
}

// DNDEntry is a number or prefix on a national do-not-disturb registry.
type DNDEntry struct {
	Registry   string
	Prefix     string
	ListedAt   time.Time
	ImportedAt time.Time
}

// Sender statuses.
const (
	SenderPending  = "pending"
	SenderApproved = "approved"
	SenderRejected = "rejected"
)

// Sender is a sender identity (an alphanumeric originator or a number) an
// account registered.
type Sender struct {
	AccountID   string    `json:"-"`
	Originator  string    `json:"originator"`
	Status      string    `json:"status"`
	RequestedBy string    `json:"requestedBy,omitempty"`
	DecidedBy   string    `json:"decidedBy,omitempty"`
	Note        string    `json:"note,omitempty"`
	CreatedAt   time.Time `json:"createdDatetime"`
	DecidedAt   time.Time `json:"decidedDatetime,omitzero"`
}

// Review statuses.
const (
	ReviewPending  = "pending"
	ReviewReleased = "released"
	ReviewRejected = "rejected"
)

// Review is a message held for an operator.
type Review struct {
	MessageID string    `json:"messageId"`
	AccountID string    `json:"accountId"`
	Rule      string    `json:"rule"`
	Reason    string    `json:"reason"`
	Status    string    `json:"status"`
	DecidedBy string    `json:"decidedBy,omitempty"`
	CreatedAt time.Time `json:"createdDatetime"`
	DecidedAt time.Time `json:"decidedDatetime,omitzero"`
}

// Decision is a compliance decision that stopped or changed a message.
type Decision struct {
	AccountID string    `json:"-"`
	MessageID string    `json:"messageId"`
	Recipient string    `json:"recipient,omitempty"`
	Rule      string    `json:"rule"`
	Outcome   string    `json:"outcome"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"createdDatetime"`
}

// Proof case statuses.
const (
	CaseOpen     = "open"
	CaseAnswered = "answered"
	CaseExpired  = "expired" // no proof in time: the account was suspended
	CaseClosed   = "closed"
)

// ProofCase asks an account for proof of consent.
type ProofCase struct {
	ID         string    `json:"id"`
	AccountID  string    `json:"accountId"`
	Recipient  string    `json:"recipient,omitempty"`
	Reason     string    `json:"reason"`
	OpenedBy   string    `json:"openedBy"`
	Status     string    `json:"status"`
	DueAt      time.Time `json:"dueDatetime"`
	Proof      string    `json:"proof,omitempty"`
	CreatedAt  time.Time `json:"createdDatetime"`
	AnsweredAt time.Time `json:"answeredDatetime,omitzero"`
}

// Policy is an account's compliance settings.
type Policy struct {
	DefaultPurpose          string // "transactional" or "marketing"
	TransactionalToOptedOut bool   // transactional messages still reach recipients who opted out
	HelpText                string // the answer to HELP
	OptOutInstruction       bool   // append "Reply STOP to opt out" to marketing messages
	WindowStart, WindowEnd  int    // minutes after local midnight when marketing may arrive
	SenderRelaxed           string // who relaxed the sender rules, when and why; "" for strict
	Suspended               string // why the account is suspended; "" if it is not
	CountryWindows          string // windows that differ by country: "FR=08:00-20:00;IN=09:00-21:00"
	SenderFallback          string // a number of the account replacing alphanumeric senders where they are not carried
	ContentRules            string // content rule overrides: "content.iban=reject;content.link_shortener=off"
	// PostalAddress is the sender's postal address, which marketing email
	// must carry (EMAIL-3): without one it is refused.
	PostalAddress string
	// RoleAddresses are role local parts ("info,sales") an operator lets
	// the account send marketing email to (EMAIL-5); "" for none.
	RoleAddresses string
}

// Compliance stores what the compliance engine needs and records.
type Compliance interface {
	// AddConsents appends to the consent ledger in one transaction, all or
	// nothing. An opt-out also suppresses the recipient; an opt-in lifts a
	// suppression that came from an opt-out (not a manual one).
	AddConsents(ctx context.Context, cs []*Consent) error
	// Consents is a recipient's consent history, oldest first.
	Consents(ctx context.Context, accountID, recipient string) ([]Consent, error)
	// LatestConsents is the newest entry per recipient for a purpose.
	LatestConsents(ctx context.Context, accountID, purpose string, recipients []string) (map[string]Consent, error)

	// AddSuppression adds a suppression; an existing one keeps its reason.
	AddSuppression(ctx context.Context, accountID string, s Suppression) error
	RemoveSuppression(ctx context.Context, accountID, recipient string) error
	Suppressions(ctx context.Context, accountID string, limit, offset int) ([]Suppression, error)
	// Suppressed reports which of the recipients are suppressed, and why.
	Suppressed(ctx context.Context, accountID string, recipients []string) (map[string]string, error)

	// Screen reads in one round trip what the compliance engine needs to
	// know about a message's recipients: their suppressions and, for
	// marketing, their latest marketing consent and registry listings.
	// With marketing, since bounds the originators it reports (zero: none).
	Screen(ctx context.Context, accountID string, recipients []string, marketing bool, since time.Time) (*Screening, error)
	// PurgeMarketingSenders drops the rotation check's records of senders
	// last used before the time.
	PurgeMarketingSenders(ctx context.Context, before time.Time) (int, error)
	// ImportDND stores a registry's entries in one transaction.
	ImportDND(ctx context.Context, imp DNDImport) error
	// DNDListed reports which numbers a registry lists (by number or
	// prefix), and which registry.
	DNDListed(ctx context.Context, numbers []string) (map[string]string, error)

	SaveSender(ctx context.Context, s *Sender) error
	Senders(ctx context.Context, accountID string) ([]Sender, error)

	// GetPolicy and SetPolicy read and change an account's settings.
	GetPolicy(ctx context.Context, accountID string) (*Policy, error)
	SetPolicy(ctx context.Context, accountID string, p *Policy) error

	RecordDecisions(ctx context.Context, ds []Decision) error
	Decisions(ctx context.Context, accountID string, limit int) ([]Decision, error)

	// Reviews lists held messages with a status ("" for all).
	Reviews(ctx context.Context, status string, limit int) ([]Review, error)
	// DecideReview releases a held message (its send job becomes due) or
	// rejects it (its recipients end delivery_failed and its charge is
	// refunded). ErrConflict if it is not pending.
	DecideReview(ctx context.Context, messageID, status, actor string) (*Review, error)

	OpenProofCase(ctx context.Context, c *ProofCase) error
	AnswerProofCase(ctx context.Context, accountID, id, proof string) (*ProofCase, error)
	ProofCases(ctx context.Context, accountID string) ([]ProofCase, error)
	// ExpireProofCases marks open cases past their due time expired and
	// suspends their accounts, returning them.
	ExpireProofCases(ctx context.Context, now time.Time) ([]ProofCase, error)
	// AddComplaint records a complaint and returns how many the account has
	// had since the time given.
	AddComplaint(ctx context.Context, accountID, recipient, source, note string, since time.Time) (int, error)
}
