package store

import (
	"context"
	"time"
)

// TwilioNumber is the Twilio door's settings of an inbound number
// (IncomingPhoneNumbers): where messages to it are posted in Twilio's form.
type TwilioNumber struct {
	Number         string // digits, as in Number
	AccountID      string
	SID            string // "PN" and 32 hex
	FriendlyName   string
	SMSURL         string // "" : the number has no Twilio webhook
	SMSMethod      string // POST or GET
	StatusCallback string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TwilioService is a Messaging Service: a pool of senders.
type TwilioService struct {
	SID            string // "MG" and 32 hex
	AccountID      string
	FriendlyName   string
	InboundURL     string
	InboundMethod  string
	StatusCallback string
	StickySender   bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Kinds of a Messaging Service's senders.
const (
	SenderNumber = "number" // SID is the number's "PN" sid, Sender its digits
	SenderAlpha  = "alpha"  // SID "AI" and 32 hex, Sender the alphanumeric sender
)

// TwilioSender is one sender of a Messaging Service's pool.
type TwilioSender struct {
	ServiceSID string
	SID        string
	AccountID  string
	Kind       string
	Sender     string
	CreatedAt  time.Time
}

// TwilioServices stores the Twilio door's number settings and Messaging
// Services.
type TwilioServices interface {
	// PutTwilioNumber creates or replaces the settings of a number.
	PutTwilioNumber(ctx context.Context, n *TwilioNumber) error
	// TwilioNumber reads a number's settings; ErrNotFound if it has none.
	TwilioNumber(ctx context.Context, number string) (*TwilioNumber, error)
	// ListTwilioNumbers lists the settings of an account's numbers.
	ListTwilioNumbers(ctx context.Context, accountID string) ([]TwilioNumber, error)
	// PutTwilioService creates or replaces a Messaging Service.
	PutTwilioService(ctx context.Context, s *TwilioService) error
	// TwilioService reads an account's Messaging Service; ErrNotFound if
	// none.
	TwilioService(ctx context.Context, accountID, sid string) (*TwilioService, error)
	// ListTwilioServices lists an account's Messaging Services, oldest
	// first.
	ListTwilioServices(ctx context.Context, accountID string) ([]TwilioService, error)
	// DeleteTwilioService deletes a service and its sender pool;
	// ErrNotFound if none.
	DeleteTwilioService(ctx context.Context, accountID, sid string) error
	// AddTwilioSender adds a sender to a service's pool; ErrNotFound if
	// the account has no such service, ErrConflict if the pool has it.
	AddTwilioSender(ctx context.Context, s *TwilioSender) error
	// RemoveTwilioSender removes a sender from a pool; ErrNotFound if it
	// is not there.
	RemoveTwilioSender(ctx context.Context, accountID, serviceSID, sid string) error
	// ListTwilioSenders lists a service's senders of a kind ("" for all),
	// oldest first.
	ListTwilioSenders(ctx context.Context, accountID, serviceSID, kind string) ([]TwilioSender, error)
}
