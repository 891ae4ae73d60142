package store

import (
	"context"
	"time"
)

// Kinds of webhook attempt.
const (
	AttemptReport       = "report"       // a status report (JobReport)
	AttemptConversation = "conversation" // a Conversations webhook delivery
)

// Outcomes of a webhook attempt.
const (
	AttemptOK      = "ok"      // answered as the webhook wants (2xx)
	AttemptRetry   = "retry"   // failed; tried again later
	AttemptDropped = "dropped" // failed; given up (or not to be sent)
)

// WebhookAttempt is one call made for a status report or a Conversations
// webhook delivery, kept for the console's webhook log. It names no
// person: URL is the target without its query (where reports carry the
// recipient) and Payload the report, whose recipient is an index.
type WebhookAttempt struct {
	ID        int64
	AccountID string
	Kind      string // AttemptReport or AttemptConversation
	MessageID string
	WebhookID string // a Conversations webhook's id; "" for reports
	Event     string // the status reported, or the Conversations event
	Payload   string // for a re-send: a report's Report JSON, a Conversations delivery's ResentDelivery JSON
	URL       string
	Code      int    // the answer's HTTP status; 0 when none came
	Outcome   string // AttemptOK, AttemptRetry or AttemptDropped
	Error     string
	Attempt   int // 1 for the first call of a report or delivery
	Duration  time.Duration
	At        time.Time
}

// WebhookAttemptFilter selects attempts; zero fields match all.
type WebhookAttemptFilter struct {
	Kind      string
	MessageID string
	Outcome   string
	Failed    bool      // only those not AttemptOK
	From      time.Time // at or after
	Until     time.Time // before
	Limit     int       // 0: 100
}

// WebhookAttempts keeps the log of webhook calls. Status reports record
// theirs with the job's outcome (Outcome.Attempt, in Finish's transaction);
// Conversations deliveries through RecordWebhookAttempts.
type WebhookAttempts interface {
	RecordWebhookAttempts(ctx context.Context, as []*WebhookAttempt) error
	// WebhookAttempts lists an account's attempts, newest first.
	WebhookAttempts(ctx context.Context, accountID string, f WebhookAttemptFilter) ([]*WebhookAttempt, error)
	// GetWebhookAttempt reads one of the account's attempts; ErrNotFound
	// if the account has none with that id.
	GetWebhookAttempt(ctx context.Context, accountID string, id int64) (*WebhookAttempt, error)
}
