package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/message"
)

// ErrInsufficientBalance means a charge would take the balance below what
// the account may spend (zero for prepaid, minus the credit limit for
// postpaid).
var ErrInsufficientBalance = errors.New("not enough balance")

// LimitError means a usage limit with the block policy would be exceeded.
type LimitError struct{ Limit UsageLimit }

func (e *LimitError) Error() string {
	return fmt.Sprintf("usage limit reached: %s %s per %s (limit %d)", e.Limit.Channel, e.Limit.Metric, e.Limit.Period, e.Limit.Limit)
}

// Ledger entry kinds.
const (
	LedgerCharge     = "charge"
	LedgerTopUp      = "topup"
	LedgerRefund     = "refund"
	LedgerAdjustment = "adjustment"
)

// LedgerEntry is one money movement. Amount is signed micro-units of the
// account's currency (charges are negative); BalanceAfter is the running
// balance the entry left.
type LedgerEntry struct {
	ID             int64
	AccountID      string
	Kind           string
	Amount         int64
	Currency       string
	BalanceAfter   int64
	Reference      string // what it is for: a message id, a top-up id …
	Reason         string // why, in words
	Actor          string // who: "api", "operator:alice", "auto-topup" …
	IdempotencyKey string // a repeated key is refused (ErrConflict)
	CreatedAt      time.Time
}

// Price is the price of one unit of a channel (an SMS segment, an email, a
// chat message: the channel says which) to a destination.
// AccountID "" is the default list; Country and Prefix "" match anything.
type Price struct {
	AccountID string
	Channel   string
	// Unit is what the price is for when the channel prices more than one
	// kind of unit: WhatsApp's conversation categories (marketing, utility,
	// authentication, service). "" is the channel's one unit.
	Unit      string
	Country   string // ISO 3166-1 alpha-2
	Prefix    string // number prefix, digits
	Currency  string
	Price     int64 // micro-units per unit
	UpdatedAt time.Time
}

// Usage metrics and periods.
const (
	MetricMessages = "messages" // recipients × segments on a channel
	MetricSpend    = "spend"    // micro-units charged
	PeriodDay      = "day"
	PeriodMonth    = "month"
	PolicyBlock    = "block" // refuse sends beyond the limit
	PolicyAllow    = "allow" // let them through (overage), still alert
)

// UsageLimit caps a metric per period for an account.
type UsageLimit struct {
	AccountID string `json:"account"`
	Metric    string `json:"metric"`
	Channel   string `json:"channel,omitempty"` // for MetricMessages; "" for spend
	Period    string `json:"period"`
	Limit     int64  `json:"limit"` // messages, or micro-units for spend
	Policy    string `json:"policy"`
}

// PeriodStart is when the period holding t began, in UTC.
func (l UsageLimit) PeriodStart(t time.Time) time.Time {
	t = t.UTC()
	if l.Period == PeriodDay {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Usage is a limit with what was used in the current period.
type Usage struct {
	UsageLimit
	PeriodStart time.Time `json:"periodStart"`
	Used        int64     `json:"used"`
}

// Alert is a usage threshold (80 or 100 %) crossed for the first time in a
// period.
type Alert struct {
	Limit       UsageLimit
	PeriodStart time.Time
	Threshold   int // percent
	Used        int64
}

// Top-up statuses.
const (
	TopUpPending   = "pending"
	TopUpConfirmed = "confirmed"
	TopUpCancelled = "cancelled"
)

// TopUp is a request to add money to an account, settled by a payment
// provider or an operator.
type TopUp struct {
	ID             string    `json:"id"`
	AccountID      string    `json:"account"`
	Amount         int64     `json:"amountMicros"`
	Currency       string    `json:"currency"`
	Status         string    `json:"status"`
	Provider       string    `json:"provider"`
	Automatic      bool      `json:"automatic"`
	IdempotencyKey string    `json:"idempotencyKey,omitempty"`
	RequestedBy    string    `json:"requestedBy"`
	CreatedAt      time.Time `json:"created"`
	SettledAt      time.Time `json:"settled"`
}

// Accept is a message to accept and charge in one transaction.
type Accept struct {
	Message *message.Message
	// Charge is what the message costs (micro-units of Currency, ≥ 0):
	// deducted from the balance in the same transaction, or the message is
	// refused with ErrInsufficientBalance.
	Charge   int64
	Currency string
	// Units counts the message for "messages" limits: recipients × parts.
	Units int64
	// Limits are the account's usage limits, checked and counted.
	Limits []UsageLimit

	// Hold, when set, stores the message without sending it: it waits in
	// the review queue for an operator.
	Hold *Review
	// Lease, when set (and Hold is not), stores the message's send job
	// already leased to Lease.Owner for Lease.For, for a dispatcher on this
	// node to run from memory (see worker.Pool.Reserve); Job is then the
	// stored job.
	Lease *Lease
	// Fallback, when set, is stored with the message (its fallback to
	// another channel); FallbackOf, when set, makes the message a
	// fallback, written only while the claim holds (see FallbackClaim).
	Fallback   *Fallback
	FallbackOf *FallbackClaim

	// Set by the store:
	Err    error   // ErrInsufficientBalance or *LimitError: the message was not stored
	Alerts []Alert // thresholds this message crossed
	// TopUp is the automatic top-up this charge triggered, if any.
	TopUp *TopUp
	// Job is the send job stored leased (Lease), with Message set.
	Job *Job

	// Conversations are the billed conversations the message's recipients
	// open or continue (WhatsApp, per category). Each recipient's price is
	// its conversation's Price and Charge does not include it: the store
	// opens each conversation that is not open and adds its Price to
	// Charge; for one already open it takes the Price off the recipient
	// (a message in an open conversation costs nothing).
	Conversations []*ConversationCharge
	// ConversationCharge is what the store added to Charge for the
	// conversations this message opened.
	ConversationCharge int64
}

// ConversationCharge is a recipient's billed conversation (see
// Accept.Conversations): the first message in Window of a (account,
// channel, sender, recipient, category) opens it and pays its price.
type ConversationCharge struct {
	Recipient                                   int // index into Message.Recipients
	Channel, Sender, Address, Category, Country string
	Price                                       int64 // of opening it
	OpenedAt                                    time.Time
	Window                                      time.Duration

	// Set by the store:
	ID     string // the conversation's id (opened now or before)
	Opened bool   // this message opened it and pays Price
	Waived int64  // what was taken off the recipient's price (it was open)
}

// BilledConversation is a row of the billed conversations.
type BilledConversation struct {
	ID, AccountID, Channel, Sender, Recipient, Category, Country, MessageID, Currency string
	Price                                                                             int64
	OpenedAt, ExpiresAt                                                               time.Time
}

// StatementLine sums an account's sent messages for a day, channel and
// country.
type StatementLine struct {
	Day        time.Time
	Channel    string
	Country    string
	Messages   int64
	Recipients int64
	Segments   int64
	Amount     int64
	Currency   string
}

// Billing stores money and usage.
type Billing interface {
	// AcceptCharged stores messages like AcceptMessages, charging each in
	// the same transaction: the balance, the ledger, usage counters and
	// limits, alerts and automatic top-ups. An item that cannot be charged
	// gets Err and is not stored; the others are.
	AcceptCharged(ctx context.Context, items []*Accept) error
	// AddLedgerEntry records a top-up, refund or adjustment and moves the
	// balance. A repeated idempotency key answers ErrConflict and changes
	// nothing. An entry that would take the balance below what the account
	// may spend answers ErrInsufficientBalance.
	AddLedgerEntry(ctx context.Context, e *LedgerEntry) error
	// Ledger lists an account's movements, newest first.
	Ledger(ctx context.Context, accountID string, limit, offset int) ([]LedgerEntry, error)
	// LedgerBefore lists up to limit of an account's movements older than
	// the entry before (by id; 0: from the newest), newest first: a long
	// ledger read page by page without skipping rows again (a month's
	// statement).
	LedgerBefore(ctx context.Context, accountID string, before int64, limit int) ([]LedgerEntry, error)
	// LedgerSum is the sum of an account's entries (the balance recomputed).
	LedgerSum(ctx context.Context, accountID string) (int64, error)

	// UpsertPrices stores prices in one transaction: all or none.
	UpsertPrices(ctx context.Context, ps []Price) error
	// Prices lists every price (all lists), for the price cache.
	Prices(ctx context.Context) ([]Price, error)
	// BilledConversations lists an account's billed conversations with a
	// recipient, newest first.
	BilledConversations(ctx context.Context, accountID, recipient string) ([]BilledConversation, error)

	SetUsageLimit(ctx context.Context, l UsageLimit) error
	DeleteUsageLimit(ctx context.Context, l UsageLimit) error
	UsageLimits(ctx context.Context, accountID string) ([]UsageLimit, error)
	// Usage reports each limit of an account with what is used now.
	Usage(ctx context.Context, accountID string, now time.Time) ([]Usage, error)

	// SetBilling changes an account's payment, alert and top-up settings.
	SetBilling(ctx context.Context, a *Account) error

	// CreateTopUp records a top-up request; a repeated idempotency key
	// answers ErrConflict.
	CreateTopUp(ctx context.Context, t *TopUp) error
	// SettleTopUp confirms (adding the money to the ledger in the same
	// transaction) or cancels a pending top-up; ErrConflict if it is not
	// pending.
	SettleTopUp(ctx context.Context, id, status, actor string) (*TopUp, error)
	TopUps(ctx context.Context, accountID string) ([]TopUp, error)

	// Statement sums an account's sent messages by day, channel and
	// country between two times, and counts the distinct messages (one
	// message to two countries is on two lines but is one message).
	Statement(ctx context.Context, accountID string, from, until time.Time) ([]StatementLine, int64, error)
}
