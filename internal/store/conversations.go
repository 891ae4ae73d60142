package store

import (
	"context"
	"time"
)

// Conversation statuses.
const (
	ConversationActive   = "active"
	ConversationArchived = "archived"
)

// Conversation is an account's exchange with one contact (the
// Conversations API's conversation), across the channels it used.
type Conversation struct {
	ID             string
	AccountID      string
	ContactID      string
	MSISDN         string // the contact's number when the conversation opened
	Status         string
	ChannelIDs     []string // the channels it used, in the order first used
	LastChannelID  string
	LastMessageID  string
	Messages       int // how many messages it holds
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastReceivedAt time.Time // zero: nothing received yet
}

// Webhook events of the Conversations API.
const (
	EventConversationCreated = "conversation.created"
	EventConversationUpdated = "conversation.updated"
	EventMessageCreated      = "message.created"
	EventMessageUpdated      = "message.updated"
)

// Webhook statuses.
const (
	WebhookEnabled  = "enabled"
	WebhookDisabled = "disabled"
)

// ConvWebhook is a Conversations API webhook: where an account's
// conversation events go. ChannelID "" takes every channel's.
type ConvWebhook struct {
	ID        string
	AccountID string
	ChannelID string
	URL       string
	Events    []string
	Settings  string // the settings object as given (JSON), "" for none
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OpenConversation says how a message opens or continues a conversation.
type OpenConversation struct {
	AccountID string
	MSISDN    string // the contact's number: international digits
	// ChannelID is the message's channel; empty when a conversation is
	// opened without one (POST /v1/conversations), which keeps the last.
	ChannelID string
	// Inbound: the contact wrote. It reopens the contact's latest
	// conversation when that is archived; an outbound message then starts
	// a new one.
	Inbound bool
	At      time.Time
}

// WebhookDelivery is one event on its way to one webhook.
type WebhookDelivery struct {
	ID             int64
	AccountID      string
	WebhookID      string
	ConversationID string
	MessageID      string
	Event          string
	// Payload is what the event carries beside the objects it names: a
	// status report (JSON of Report) for message.updated, the
	// conversation's state (JSON of ConversationState) for conversation
	// events.
	Payload   string
	Attempts  int
	CreatedAt time.Time
}

// Conversations stores conversations, their link to messages and contacts,
// webhooks and webhook deliveries. Reads are scoped by account: another
// account's id answers ErrNotFound.
type Conversations interface {
	// OpenConversation finds the conversation a message to or from a number
	// joins, creating the contact (by number) and the conversation when
	// there is none, reopening an archived one for an inbound message, and
	// noting the channel. created says a conversation was made; the
	// webhook deliveries of what changed are written in the same commit.
	OpenConversation(ctx context.Context, o OpenConversation) (c *Conversation, created bool, err error)
	GetConversation(ctx context.Context, accountID, id string) (*Conversation, error)
	// ListConversations lists an account's conversations, the most
	// recently updated first; ids (when given), contactID and status (when
	// not "") filter them.
	ListConversations(ctx context.Context, accountID string, ids []string, contactID, status string, limit, offset int) ([]*Conversation, int, error)
	// SetConversationStatus archives or reactivates a conversation.
	SetConversationStatus(ctx context.Context, accountID, id, status string) (*Conversation, error)
	// DiscardConversation deletes a conversation that holds no message (its
	// first message was refused), with its webhook deliveries; one that
	// holds messages stays.
	DiscardConversation(ctx context.Context, accountID, id string) error
	// LinkInbound joins a stored inbound message to a conversation, as
	// received on the channel.
	LinkInbound(ctx context.Context, accountID, conversationID, channelID, messageID string) error

	CreateConvWebhook(ctx context.Context, w *ConvWebhook) error
	GetConvWebhook(ctx context.Context, accountID, id string) (*ConvWebhook, error)
	ListConvWebhooks(ctx context.Context, accountID string, limit, offset int) ([]*ConvWebhook, int, error)
	UpdateConvWebhook(ctx context.Context, w *ConvWebhook) error
	DeleteConvWebhook(ctx context.Context, accountID, id string) error

	// LeaseDeliveries leases up to max due deliveries, each the oldest
	// undone one of its webhook and conversation, until leaseUntil.
	LeaseDeliveries(ctx context.Context, now, leaseUntil time.Time, max int) ([]*WebhookDelivery, error)
	// FinishDelivery ends a delivery (done or given up); RetryDelivery
	// counts an attempt and makes it due again at next.
	FinishDelivery(ctx context.Context, id int64, lastError string) error
	RetryDelivery(ctx context.Context, id int64, next time.Time, lastError string) error
	// ResendDelivery queues a delivery made before (a re-send from the
	// console) as a new pending one of the account's webhook, after any
	// its webhook and conversation still has pending; ErrNotFound when the
	// webhook is gone or disabled.
	ResendDelivery(ctx context.Context, d *WebhookDelivery) error
}

// ResentDelivery is what the log of webhook attempts keeps of a
// Conversations delivery (WebhookAttempt.Payload, as JSON) to queue it
// again: its conversation and payload. A status report's payload is kept
// without its details, which may quote an address.
type ResentDelivery struct {
	ConversationID string `json:"conversationId"`
	Payload        string `json:"payload,omitempty"`
}

// ConversationState is what a conversation event says of the
// conversation as it was when the event happened.
type ConversationState struct {
	Status string `json:"status"`
}
