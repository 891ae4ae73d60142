package store

import (
	"context"
	"time"
)

// Channel statuses.
const (
	ChannelActive   = "active"
	ChannelInactive = "inactive"
)

// ConvChannel is a channel of the Conversations API: one of an account's
// senders on a platform, named by an id that POST /v1/send takes as its
// "from". Kind is the message channel it sends on (sms, whatsapp, email);
// Sender is the message's originator there: a number or alphanumeric for
// sms, a phone number id for whatsapp, an address for email.
type ConvChannel struct {
	ID        string
	AccountID string
	Name      string
	Kind      string
	Sender    string
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ConvChannels stores Conversations channels. Reads are scoped by
// account: another account's id answers ErrNotFound.
type ConvChannels interface {
	CreateConvChannel(ctx context.Context, c *ConvChannel) error
	GetConvChannel(ctx context.Context, accountID, id string) (*ConvChannel, error)
	// ListConvChannels lists an account's channels oldest first (every
	// account's when accountID is empty) and says how many there are.
	ListConvChannels(ctx context.Context, accountID string, limit, offset int) ([]*ConvChannel, int, error)
}
