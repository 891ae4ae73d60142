package store

import (
	"context"
	"time"
)

// HLR query statuses, as MessageBird names them.
const (
	HLRSent    = "sent"    // asked; the provider has not answered yet
	HLRActive  = "active"  // the subscriber is known and reachable
	HLRAbsent  = "absent"  // known, but not reachable now (handset off, no coverage)
	HLRUnknown = "unknown" // the network does not know the subscriber
	HLRFailed  = "failed"  // the query failed; it is refunded
)

// HLR query origins.
const (
	HLROriginAPI     = "api"     // POST /hlr, POST /lookup/{n}/hlr
	HLROriginPreSend = "presend" // the pipeline's check before an SMS
)

// Job kinds of HLR queries (payload {"hlr": id}).
const (
	JobHLR       = "hlr"        // ask the HLR provider about one query
	JobHLRReport = "hlr_report" // report a query's answer to the account's HLR report URL
)

// HLRQuery is one HLR query of an account.
type HLRQuery struct {
	ID        string
	AccountID string
	MSISDN    string // international digits without "+"
	Country   string // ISO 3166-1 alpha-2 of the number
	Reference string
	Origin    string // HLROriginAPI or HLROriginPreSend
	Status    string
	Network   int    // MCC and MNC as one number (20408); 0 until answered
	Details   []byte // the provider's details as a JSON object; nil until answered
	Price     int64  // micro-units charged
	Currency  string
	CreatedAt time.Time
	StatusAt  time.Time
}

// HLRSettings are an account's HLR switches.
type HLRSettings struct {
	AccountID string
	// CheckBeforeSend asks the HLR about every SMS recipient before the
	// message is charged; absent and unknown numbers fail uncharged.
	CheckBeforeSend bool
	// MaxAge is how old a result may be to be reused; 0: the default.
	MaxAge time.Duration
	// ReportURL receives the answer of each query the account asked for
	// (not those of the check before sending); "" for none.
	ReportURL string
}

// HLR stores HLR queries and settings. Every method is scoped by account.
type HLR interface {
	// CreateHLR stores a new query and charges q.Price (a ledger charge
	// referring to the query) in one transaction; with enqueue it also
	// queues a JobHLR for it. ErrInsufficientBalance stores nothing.
	CreateHLR(ctx context.Context, q *HLRQuery, enqueue bool) error
	// GetHLR reads one query; ErrNotFound if the account has none by id.
	GetHLR(ctx context.Context, accountID, id string) (*HLRQuery, error)
	// ListHLR lists an account's queries, newest first, and counts them.
	ListHLR(ctx context.Context, accountID string, limit, offset int) ([]*HLRQuery, int, error)
	// LatestHLR is the account's newest query of msisdn created at or
	// after since, only answered ones with answered; ErrNotFound if none.
	LatestHLR(ctx context.Context, accountID, msisdn string, since time.Time, answered bool) (*HLRQuery, error)
	// FinishHLR records the answer (Status, Network, Details, StatusAt) of
	// a query still sent, refunding its price when the status is
	// HLRFailed, and queuing a JobHLRReport for a query of HLROriginAPI
	// when the account has a report URL, in one transaction; ErrConflict if
	// it was answered already.
	FinishHLR(ctx context.Context, q *HLRQuery) error
	// GetHLRSettings reads an account's settings (the defaults if never set).
	GetHLRSettings(ctx context.Context, accountID string) (HLRSettings, error)
	SetHLRSettings(ctx context.Context, s HLRSettings) error
}
