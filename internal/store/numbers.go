package store

import (
	"context"
	"time"
)

// StockNumber is a number in the operator's inventory (docs/numbers.md).
type StockNumber struct {
	Number       string // international digits
	Country      string // ISO 3166-1 alpha-2
	Region       string
	Locality     string
	Type         string   // mobile, landline, toll_free, shortcode
	Features     []string // sms, voice, whatsapp
	MonthlyPrice int64    // micro-units of the buying account's currency
	CreatedAt    time.Time
	// AccountID is the account the number is assigned to; "" if available.
	AccountID string
}

// StockFilter selects inventory numbers. Zero fields match everything.
type StockFilter struct {
	Country  string
	Type     string
	Features []string // all of them
	// Pattern is digits the number must contain: at its start (with the
	// country code), its end, or anywhere (Match "start", "end", "anywhere").
	Pattern, Match string
	// Available: only unassigned numbers.
	Available bool
	Limit     int
}

// OwnedNumber is an assigned number with its customer settings and, if it
// came from the inventory, its stock attributes.
type OwnedNumber struct {
	Number
	Stock          StockNumber // zero Country: not in the inventory
	Tags           []string
	InboundURL     string
	IntervalMonths int // 0: assigned by an operator, not billed
	RenewalAt      time.Time
	UnpaidAt       time.Time
	LastTrafficAt  time.Time
	IdleNoticeAt   time.Time
}

// NumberEvent is one line of a number's history.
type NumberEvent struct {
	Number, AccountID string
	Event, Detail     string
	Actor             string
	CreatedAt         time.Time
}

// Number history events.
const (
	NumberAssigned       = "assigned"
	NumberPurchased      = "purchased"
	NumberRenewed        = "renewed"
	NumberRenewalFailed  = "renewal_failed"
	NumberIdleNotice     = "idle_notice"
	NumberReclaimed      = "reclaimed"
	NumberReleased       = "released"
	NumberCancelled      = "cancelled"
	NumberUnpaidReleased = "unpaid_released"
	// NumberSuspendedReleased: the renewal fell due while the account was
	// suspended; it was not charged and the number was disconnected (NUM-3).
	NumberSuspendedReleased = "suspended_released"
	NumberInboundRefused    = "inbound_refused"
)

// NumberPurchase is what PurchaseNumber does in one transaction.
type NumberPurchase struct {
	Number, AccountID string
	IntervalMonths    int
	Price             int64 // charged now (monthly price × months)
	RenewalAt         time.Time
	At                time.Time
}

// NumberUpdate changes an owned number's settings; nil fields stay.
type NumberUpdate struct {
	Tags       *[]string
	InboundURL *string
}

// Numbers stores the inventory and what accounts do with it.
type Numbers interface {
	// ImportStock adds or updates inventory numbers, returning how many
	// were new.
	ImportStock(ctx context.Context, ns []StockNumber) (int, error)
	// SearchStock lists inventory numbers by the filter, by number.
	SearchStock(ctx context.Context, f StockFilter) ([]StockNumber, error)
	// PurchaseNumber charges p.Price and assigns the number with its
	// renewal in one transaction. ErrNotFound: not in the inventory or no
	// such account; ErrConflict: assigned already; ErrInsufficientBalance.
	PurchaseNumber(ctx context.Context, p NumberPurchase) error
	// OwnedNumbers lists numbers assigned to the account (all with "").
	OwnedNumbers(ctx context.Context, accountID string) ([]OwnedNumber, error)
	// OwnedNumber is one of the account's numbers (any account's with "");
	// ErrNotFound if it is not the account's.
	OwnedNumber(ctx context.Context, accountID, number string) (*OwnedNumber, error)
	// UpdateNumber changes an account's number; ErrNotFound if not its.
	UpdateNumber(ctx context.Context, accountID, number string, u NumberUpdate) error
	// ReleaseNumber unassigns a number (of the account, or of any with
	// "") and records ev; with onlyIdleSince set, only if no inbound was
	// seen since then. ErrNotFound: not assigned (to the account).
	ReleaseNumber(ctx context.Context, accountID, number string, ev NumberEvent, onlyIdleSince time.Time) error
	// RenewNumber charges price for a number due at dueAt and moves its
	// renewal to next, recording the event; the charge's idempotency key
	// makes a second renewal of the same period ErrConflict.
	// ErrInsufficientBalance changes nothing.
	RenewNumber(ctx context.Context, n *OwnedNumber, price int64, next, at time.Time) error
	// MarkNumberUnpaid records a failed renewal with its notice (once).
	MarkNumberUnpaid(ctx context.Context, n *OwnedNumber, at time.Time, notice *Job) error
	// MarkNumberIdle records the reclamation notice with its job (once).
	MarkNumberIdle(ctx context.Context, n *OwnedNumber, at time.Time, notice *Job) error
	// TouchNumber records traffic on a number.
	TouchNumber(ctx context.Context, number string, at time.Time) error
	// LastOutbound is when the account last sent from the number since
	// the time (zero: not since).
	LastOutbound(ctx context.Context, accountID, number string, since time.Time) (time.Time, error)
	// AddNumberEvent records an event.
	AddNumberEvent(ctx context.Context, e NumberEvent) error
	// NumberHistory lists a number's events, oldest first.
	NumberHistory(ctx context.Context, number string) ([]NumberEvent, error)
}
