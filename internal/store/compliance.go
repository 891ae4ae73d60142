package store

import (
	"context"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
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
	// Channel limits the entry to one channel (a STOP sent over WhatsApp
	// opts out of WhatsApp only); "" is every channel.
	Channel string `json:"channel,omitempty"`
}

// Suppression keeps an address from an account's messages on one channel.
// SMS opt-outs and email bounces are one list, keyed by (account, channel,
// address); see SuppressionAddress for how addresses are matched.
type Suppression struct {
	Channel   string    `json:"channel"`
	Recipient string    `json:"recipient"`
	Reason    string    `json:"reason"`          // one of the Suppress* reasons
	Actor     string    `json:"actor,omitempty"` // who added it: "api key …", an operator, "bounce" …
	CreatedAt time.Time `json:"createdDatetime,omitzero"`
}

// Suppression reasons. An opt-out comes from the consent ledger and only
// a new opt-in lifts it; the others may be removed with a reason.
const (
	SuppressOptOut      = OptOut // the recipient opted out (consent ledger)
	SuppressManual      = "manual"
	SuppressBounce      = "bounce"      // a hard bounce
	SuppressComplaint   = "complaint"   // a spam complaint (feedback loop)
	SuppressUnsubscribe = "unsubscribe" // a list unsubscribe
)

// SuppressionReasons are every reason, for validation and documentation.
var SuppressionReasons = []string{SuppressOptOut, SuppressManual, SuppressBounce, SuppressComplaint, SuppressUnsubscribe}

// SuppressionAddress is the form an address is stored and matched in:
// email addresses are lowercased whole (local part too, as every ESP
// does: mailboxes that differ only by case are one person); other
// channels' addresses (phone numbers, chat ids) are kept as given.
func SuppressionAddress(channel, address string) string {
	if channel == message.ChannelEmail {
		return strings.ToLower(address)
	}
	return address
}

// AddressChannel is the channel an address of the consent ledger belongs
// to, for the suppression an opt-out makes: an email address's is
// "email", every other (a phone number) "sms".
func AddressChannel(address string) string {
	if strings.Contains(address, "@") {
		return message.ChannelEmail
	}
	return message.ChannelSMS
}

// SuppressionFilter selects suppressions to list; zero fields match all.
type SuppressionFilter struct {
	Channel  string
	Reason   string
	Prefix   string    // the address starts with it
	Contains string    // the address contains it (case-insensitive)
	Since    time.Time // added at or after
	Limit    int       // 0: no limit
	Offset   int
}

// SuppressionRemoval is a removed suppression, kept with who removed it,
// when and why.
type SuppressionRemoval struct {
	Suppression
	RemovedBy     string    `json:"removedBy"`
	RemovalReason string    `json:"removalReason"`
	RemovedAt     time.Time `json:"removedDatetime"`
}

// Screening is what the store knows about a message's recipients.
type Screening struct {
	Latest     map[string]Consent // the newest marketing consent (action and legal age only)
	Suppressed map[string]string  // recipient → reason
	Listed     map[string]string  // recipient → a do-not-disturb registry that stops this message
	// Originators are the senders of the account's marketing messages to
	// each recipient since the time Screen was given (rotation check).
	Originators map[string][]string
	// Restricted are recipients a data-subject restriction covers
	// (recipient → the request's id), on every channel.
	Restricted map[string]string
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
	// LastInbound is when each address last wrote to the account on the
	// channel (its newest inbound message, by originator); addresses that
	// never wrote are absent.
	LastInbound(ctx context.Context, accountID, channel string, addresses []string) (map[string]time.Time, error)

	// AddSuppression adds a suppression (the address in the form
	// SuppressionAddress gives); an existing one keeps its reason.
	AddSuppression(ctx context.Context, accountID string, s Suppression) error
	// AddSuppressions adds many in one transaction, all or nothing (an
	// import); existing ones keep their reason. It returns how many were new.
	AddSuppressions(ctx context.Context, accountID string, ss []Suppression) (int, error)
	// RemoveSuppression removes one and records the removal (r's Channel,
	// Recipient, RemovedBy, RemovalReason, RemovedAt); it returns the
	// removal with the suppression's reason. ErrNotFound if there is none.
	RemoveSuppression(ctx context.Context, accountID string, r SuppressionRemoval) (*SuppressionRemoval, error)
	// Suppressions lists an account's suppressions, newest first.
	Suppressions(ctx context.Context, accountID string, f SuppressionFilter) ([]Suppression, error)
	// SuppressionRemovals is the removal history of an address on a
	// channel ("" address: every address of the channel; "" channel:
	// every channel), newest first.
	SuppressionRemovals(ctx context.Context, accountID, channel, recipient string, limit int) ([]SuppressionRemoval, error)
	// Suppressed reports which of the recipients are suppressed on the
	// channel, and why (keyed by the recipients as given).
	Suppressed(ctx context.Context, accountID, channel string, recipients []string) (map[string]string, error)

	// Screen reads in one round trip what the compliance engine needs to
	// know about a message's recipients: their suppressions and, for
	// marketing, their latest marketing consent and registry listings.
	// With marketing, since bounds the originators it reports (zero: none).
	// Suppressions are those of the message's channel.
	Screen(ctx context.Context, accountID, channel string, recipients []string, marketing bool, since time.Time) (*Screening, error)
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
	// SendersWithStatus lists the senders of every account with a status
	// (the operator's approval queue: SenderPending), oldest first.
	SendersWithStatus(ctx context.Context, status string, limit int) ([]Sender, error)

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
