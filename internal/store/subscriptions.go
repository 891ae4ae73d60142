package store

import (
	"context"
	"time"
)

// Addon is an optional extra of a plan, charged monthly with it.
type Addon struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Price int64  `json:"price"` // micro-units a month
}

// Plan is what a subscription pays for (ACCT-2): a monthly fee with
// included seats, a monthly price per seat beyond them and add-ons. A plan
// whose fee is 0 is a free plan (ACCT-4: inactive free accounts are
// deleted).
type Plan struct {
	ID            string
	Name          string
	Currency      string
	MonthlyFee    int64 // micro-units
	IncludedSeats int
	SeatPrice     int64 // micro-units a month per seat beyond IncludedSeats
	Addons        []Addon
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Subscription statuses.
const (
	SubTrial      = "trial"       // a trial, until TrialEndsAt
	SubActive     = "active"      // renewed every period
	SubTrialEnded = "trial_ended" // the trial ended without a subscription
	SubCancelled  = "cancelled"   // not renewed at PeriodEnd
)

// Subscription is an account's plan: a trial with a credit and an end
// date, or a paid plan renewed monthly in advance.
type Subscription struct {
	AccountID   string
	PlanID      string
	Status      string
	Addons      []string // codes of the plan's add-ons taken
	TrialCredit int64
	TrialEndsAt time.Time
	PeriodStart time.Time
	PeriodEnd   time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Invoice statuses.
const (
	InvoicePaid     = "paid"
	InvoiceFailed   = "failed"   // not paid: dunning retries it (ACCT-3)
	InvoiceDisputed = "disputed" // contested: the account is not suspended for it
	InvoiceVoid     = "void"     // cancelled by an operator
)

// InvoiceLine is one line of an invoice.
type InvoiceLine struct {
	Text     string `json:"text"`
	Quantity int    `json:"quantity"`
	Price    int64  `json:"price"` // each, micro-units
	Amount   int64  `json:"amount"`
}

// Invoice is one period of a subscription, numbered per account
// ("<account>-000001" order: Seq) and charged through the ledger.
type Invoice struct {
	ID          string
	AccountID   string
	Seq         int64
	Number      string
	PlanID      string
	PeriodStart time.Time
	PeriodEnd   time.Time
	Currency    string
	Total       int64
	Lines       []InvoiceLine
	Status      string
	IssuedAt    time.Time
	DueAt       time.Time
	PaidAt      time.Time
	FailedAt    time.Time // when dunning started (moved on by a dispute's length)
	DisputedAt  time.Time
	Attempts    int
	RetryAt     time.Time
	Notified    string // dunning notices given, comma-separated
	LedgerID    int64
	Note        string
}

// Lifecycle states of an account (ACCT-3, ACCT-4).
const (
	LifeSuspended  = "suspended"   // unpaid: deleted at DeleteAt
	LifeTrialEnded = "trial_ended" // trial over: deleted at DeleteAt
	LifeInactive   = "inactive"    // free and unused: deleted at DeleteAt
	LifeDeleted    = "deleted"     // rows gone; archive until ArchiveUntil
	LifePurged     = "purged"      // the archive is gone too
)

// Lifecycle is where an account is in its life when it is on its way out;
// an account without one is active.
type Lifecycle struct {
	AccountID    string
	State        string
	Reason       string
	SuspendedAt  time.Time
	DeleteAt     time.Time
	DeletedAt    time.Time
	ArchiveUntil time.Time
	Notified     string // notices given, comma-separated
	UpdatedAt    time.Time
}

// AccountDeletion is what deleting an account removed and kept.
type AccountDeletion struct {
	Deleted  map[string]int `json:"deleted"`  // rows per table
	Kept     map[string]int `json:"kept"`     // rows kept per table (billing, audit, consents' proof …)
	DataKeys int            `json:"dataKeys"` // data keys shredded
	// BackupKeyFiles is how many backup keys files the shred rewrote.
	BackupKeyFiles int `json:"backupKeyFiles"`
}

// Subscriptions stores plans, subscriptions, invoices and the account
// lifecycle. A change the account must be told of carries its notice jobs,
// written in the same transaction.
type Subscriptions interface {
	// PutPlan creates or replaces a plan.
	PutPlan(ctx context.Context, p *Plan) error
	// GetPlan: ErrNotFound if none.
	GetPlan(ctx context.Context, id string) (*Plan, error)
	Plans(ctx context.Context) ([]Plan, error)

	// PutSubscription creates or replaces an account's subscription, with
	// notices and, when credit is not 0, a ledger adjustment of it
	// (a trial's credit) under idemKey.
	PutSubscription(ctx context.Context, s *Subscription, credit int64, idemKey string, notices []*Job) error
	// GetSubscription: ErrNotFound if the account has none.
	GetSubscription(ctx context.Context, accountID string) (*Subscription, error)
	// Subscriptions lists every subscription.
	Subscriptions(ctx context.Context) ([]Subscription, error)

	// IssueInvoice numbers inv (the account's next Seq), stores it and
	// charges its total to the balance; if the balance cannot cover it the
	// invoice is stored failed (dunning starts). sub, when set, is stored
	// in the same transaction (the period it moves to), and seats, when
	// set, become the account's seats. It sets inv's number, status and
	// ledger id, then asks notices for the jobs that tell the account
	// (written in the same transaction). ErrConflict if the account has an
	// invoice of the period.
	IssueInvoice(ctx context.Context, inv *Invoice, sub *Subscription, seats *Seats, notices func(*Invoice) []*Job) error
	// RetryInvoice charges a failed invoice again: paid (true) or its
	// attempts counted and retryAt set (false).
	RetryInvoice(ctx context.Context, accountID, id string, now, retryAt time.Time, notices []*Job) (bool, error)
	// SetInvoiceStatus moves an unpaid invoice between failed and
	// disputed, or voids it, with a note; leaving disputed moves FailedAt
	// (and RetryAt) on by the dispute's length: a dispute pauses dunning.
	// ErrNotFound, or ErrConflict from a paid or void invoice. Paying is
	// a charge: RetryInvoice.
	SetInvoiceStatus(ctx context.Context, accountID, id, status, note string, now time.Time, notices []*Job) (*Invoice, error)
	// MarkInvoiceNotified adds a dunning notice to the invoice's given
	// ones, with its jobs; false if it was given already.
	MarkInvoiceNotified(ctx context.Context, accountID, id, step string, notices []*Job) (bool, error)
	// GetInvoice: ErrNotFound if the account has no such invoice.
	GetInvoice(ctx context.Context, accountID, id string) (*Invoice, error)
	// Invoices lists an account's invoices ("": every account's with
	// status, "" status: all), the newest first.
	Invoices(ctx context.Context, accountID, status string) ([]Invoice, error)

	// PutLifecycle stores an account's lifecycle with notices; nil
	// removes it (the account is active again).
	PutLifecycle(ctx context.Context, accountID string, l *Lifecycle, notices []*Job) error
	// GetLifecycle: ErrNotFound when the account is active.
	GetLifecycle(ctx context.Context, accountID string) (*Lifecycle, error)
	Lifecycles(ctx context.Context) ([]Lifecycle, error)
	// LastActivity is when the account last sent or received a message or
	// used a key (zero: never).
	LastActivity(ctx context.Context, accountID string) (time.Time, error)

	// AccountExport reads every table of the account's data (secrets left
	// out, bodies and evidence decrypted), for the export offered before
	// deletion.
	AccountExport(ctx context.Context, accountID string) ([]SubjectTable, error)
	// DeleteAccount removes the account's data from every table but the
	// records law or the platform keeps (ledger, invoices, top-ups, the
	// audit log, rights requests, terms acceptances, the lifecycle),
	// stores archive (sealed) until life.ArchiveUntil, stores life (the
	// account deleted) and the notices, blanks the account's name and
	// settings, all in one transaction, then shreds its data keys.
	DeleteAccount(ctx context.Context, life *Lifecycle, archive []byte, notices []*Job) (*AccountDeletion, error)
	// AccountArchive is a deleted account's archive; ErrNotFound when
	// there is none (never deleted, or purged).
	AccountArchive(ctx context.Context, accountID string) ([]byte, time.Time, error)
	// PurgeArchive deletes the archive and its key, and the account's
	// alert contacts (kept until then for the notices).
	PurgeArchive(ctx context.Context, accountID string) error
}
