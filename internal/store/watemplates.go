package store

import (
	"context"
	"time"
)

// WhatsApp template statuses: the provider's review (Meta's names).
const (
	TemplatePending  = "PENDING"
	TemplateApproved = "APPROVED"
	TemplateRejected = "REJECTED"
	TemplatePaused   = "PAUSED"
	TemplateDisabled = "DISABLED"
)

// WATemplate is one language variant of an account's WhatsApp message
// template on one Conversations channel.
type WATemplate struct {
	ID        string
	AccountID string
	ChannelID string
	// Connector is the connector it was submitted through; WABAID the
	// business account that owns it at the provider.
	Connector string
	WABAID    string
	Name      string
	Language  string
	Category  string // MARKETING, UTILITY, AUTHENTICATION
	// Components is the Cloud API's component list (HEADER, BODY, FOOTER,
	// BUTTONS) as JSON; Params the number of {{n}} placeholders in it, the
	// parameters a message of the template must carry.
	Components     string
	Params         int
	Status         string
	RejectedReason string
	ProviderID     string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TemplateReview is the provider's decision on a template, by the
// business account and the provider's id (or, without one, the name and
// language).
type TemplateReview struct {
	WABAID, ProviderID, Name, Language, Status, Reason string
}

// WATemplates is the WhatsApp template registry. Reads and deletes are
// scoped by account; reviews come from the provider and are scoped by its
// business account.
type WATemplates interface {
	// CreateWATemplate stores a variant; ErrConflict when the channel
	// has one of the same name and language.
	CreateWATemplate(ctx context.Context, t *WATemplate) error
	// GetWATemplate reads the variant of a name and language.
	GetWATemplate(ctx context.Context, accountID, channelID, name, language string) (*WATemplate, error)
	// ListWATemplates lists an account's variants by name and language;
	// channelID and name filter when not empty.
	ListWATemplates(ctx context.Context, accountID, channelID, name string, limit, offset int) ([]*WATemplate, int, error)
	// ReviewWATemplates applies a review to the matching variants and
	// says how many changed (a review that changes nothing counts 0).
	ReviewWATemplates(ctx context.Context, r TemplateReview) (int, error)
	// DeleteWATemplates deletes a template's variants (one when language
	// is given) and says how many; ErrNotFound when none.
	DeleteWATemplates(ctx context.Context, accountID, channelID, name, language string) (int, error)
}

// ChatRefs finds the provider's ids of a message, which chat apps'
// reactions and replies refer to.
type ChatRefs interface {
	// PartProviderIDs returns the provider's ids of a message's parts
	// (recipient, then part order) once it was handed over; empty before.
	PartProviderIDs(ctx context.Context, accountID, messageID string) ([]string, error)
}
