// Package store defines omnigate's storage contract: accounts and their keys,
// messages and recipients, and the durable job queue that lives beside them.
//
// The database is the source of truth and the queue. Accepting a message
// writes the message, its recipients and its dispatch job in one transaction,
// so a 2xx answer means the message survives a crash. Two engines implement
// the contract: SQLite (package store/sqlite, the embedded default) and
// PostgreSQL (package store/postgres, for production and several nodes).
// Both share their SQL in store/sqlstore and pass the suite in store/storetest.
//
// Every method that reads or changes customer data takes the account id and
// scopes its query by it: another account's id answers ErrNotFound, exactly
// like an id that does not exist.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/omnigate/omnigate/internal/message"
)

// Errors callers match with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Account is a tenant.
type Account struct {
	ID        string
	Name      string
	Currency  string // ISO 4217, e.g. "EUR"
	Balance   int64  // micro-units of Currency (1 EUR = 1_000_000)
	ReportURL string // default status-report URL; empty means none
	// SigningKey signs status reports (MessageBird-Signature-JWT). It is a
	// secret the customer needs in clear to verify, so it is stored as is;
	// encryption at rest comes with the privacy work.
	SigningKey string
	CreatedAt  time.Time
}

// AccessKey is an API key. Only its SHA-256 hash is stored.
type AccessKey struct {
	ID        string
	AccountID string
	Hash      []byte // sha256 of the key
	Test      bool
	Hint      string // last characters, so a person can tell keys apart
	CreatedAt time.Time
}

// Job kinds: one queue table, several kinds of work.
const (
	JobSend   = "send"   // dispatch a message's pending recipients
	JobReport = "report" // deliver one status report to a webhook
)

// Job is a leased unit of work. Payload is kind-specific JSON.
type Job struct {
	ID        int64
	Kind      string
	AccountID string
	MessageID string
	Payload   []byte
	Attempts  int // including the current one
	RunAt     time.Time
	CreatedAt time.Time
}

// StatusUpdate moves one recipient to a new status.
type StatusUpdate struct {
	AccountID string
	MessageID string
	Seq       int
	Status    message.Status
	Reason    string
	ErrorCode int
	At        time.Time
	Connector string // set when a connector took the recipient
	// Report, when set, is enqueued as a JobReport in the same transaction
	// if (and only if) the status actually changed.
	Report *Report
}

// Report is the payload of a status-report job.
type Report struct {
	URL             string    `json:"url"`
	MessageID       string    `json:"id"`
	Reference       string    `json:"reference,omitempty"`
	Recipient       string    `json:"recipient"`
	Status          string    `json:"status"`
	StatusReason    string    `json:"statusReason,omitempty"`
	StatusErrorCode int       `json:"statusErrorCode,omitempty"`
	StatusAt        time.Time `json:"statusDatetime"`
	MCCMNC          string    `json:"mccmnc,omitempty"`
}

// MessageFilter selects messages for listing. Zero fields do not filter.
type MessageFilter struct {
	Originator string
	Direction  message.Direction
	Type       message.Type
	Status     message.Status
	Recipient  string
	Reference  string
	From       time.Time // created at or after
	Until      time.Time // created before
	Limit      int
	Offset     int
}

// QueueStats describes the job queue for metrics.
type QueueStats struct {
	Depth     map[string]int64         // jobs per kind
	OldestDue map[string]time.Duration // age of the oldest due job per kind
}

// Accounts stores tenants and their keys.
type Accounts interface {
	CreateAccount(ctx context.Context, a *Account) error
	GetAccount(ctx context.Context, id string) (*Account, error)
	ListAccounts(ctx context.Context) ([]*Account, error)
	CreateAccessKey(ctx context.Context, k *AccessKey) error
	// AccessKeyByHash finds a key by the SHA-256 of its text.
	AccessKeyByHash(ctx context.Context, hash []byte) (*AccessKey, error)
}

// Messages stores messages and recipients.
type Messages interface {
	// AcceptMessages stores the messages, their recipients and one JobSend
	// per message in a single transaction: all of them or none.
	AcceptMessages(ctx context.Context, msgs []*message.Message) error
	GetMessage(ctx context.Context, accountID, id string) (*message.Message, error)
	ListMessages(ctx context.Context, accountID string, f MessageFilter) ([]*message.Message, int, error)
	// CancelScheduled deletes a message whose recipients are all still
	// scheduled, with its job. ErrNotFound if there is no such message,
	// ErrConflict if sending has started.
	CancelScheduled(ctx context.Context, accountID, id string) error
	// UpdateStatuses applies status changes in one transaction. A change
	// applies only when it moves the recipient forward (see
	// message.Predecessors); changed[i] reports whether update i did. An
	// update to the status the recipient already has only records its
	// Connector. Each applied update's Report is enqueued in the same
	// transaction.
	UpdateStatuses(ctx context.Context, us []StatusUpdate) (changed []bool, err error)
}

// Queue is the durable job queue.
type Queue interface {
	// LeaseJobs takes up to n due jobs of a kind, hiding them from other
	// workers until leaseFor has passed. A job whose lease expires (its
	// worker crashed) becomes due again.
	LeaseJobs(ctx context.Context, kind string, n int, leaseFor time.Duration) ([]*Job, error)
	// CompleteJob removes a finished job.
	CompleteJob(ctx context.Context, id int64) error
	// RetryJob makes a job due again at the given time, noting the error.
	RetryJob(ctx context.Context, id int64, at time.Time, lastErr string) error
	// EnqueueJob adds a job.
	EnqueueJob(ctx context.Context, j *Job) error
	QueueStats(ctx context.Context) (*QueueStats, error)
}

// Store is everything the platform keeps.
type Store interface {
	Accounts
	Messages
	Queue
	// Ping checks that the database answers and migrations are applied.
	Ping(ctx context.Context) error
	Close() error
}
