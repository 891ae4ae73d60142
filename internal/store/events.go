package store

import (
	"context"
	"time"
)

// Email events: what happens to a recipient besides its status. A receipt
// (Receipt.Event) or a public endpoint (opens, clicks, one-click
// unsubscribe) records them; each recorded event that is reported queues
// a status report.
const (
	EventBounced      = "bounced"
	EventComplained   = "complained"
	EventUnsubscribed = "unsubscribed"
	EventOpened       = "opened"
	EventClicked      = "clicked"
	// EventDelayed is a DSN's "delayed" action: the receiving side is
	// still trying; no status change.
	EventDelayed = "delayed"
	// EventRead is a chat channel's read receipt (WhatsApp's "read"
	// status): the recipient opened the conversation. It follows
	// delivered and changes no status (message.Status has no read).
	EventRead = "read"
	// EventFallback is a message's fallback to another channel, sent or
	// refused (POST /v1/send fallback); Detail says which.
	EventFallback = "fallback"
)

// ValidEvent reports whether e is an event the store records.
func ValidEvent(e string) bool {
	switch e {
	case EventBounced, EventComplained, EventUnsubscribed, EventOpened, EventClicked, EventDelayed, EventRead, EventFallback:
		return true
	}
	return false
}

// OnceEvent reports whether e happens once per recipient: a repeat (a
// second DSN, a mail client posting one-click twice) is not recorded
// again. Opens and clicks are recorded every time; only the first open and
// the first click of a recipient are reported.
func OnceEvent(e string) bool {
	return e == EventBounced || e == EventComplained || e == EventUnsubscribed || e == EventRead || e == EventFallback
}

// Event is one event of one recipient.
type Event struct {
	AccountID string
	MessageID string
	Seq       int
	Event     string
	Detail    map[string]string // e.g. "url", "userAgent", "category"
	At        time.Time
}

// EventOutcome says what recording an event did.
type EventOutcome struct {
	Recorded bool // false: no such recipient, or a repeat of a once-only event
	Reported bool // a status report was queued
}

// Events stores recipients' events.
type Events interface {
	// RecordEvents records events in one transaction and, for each that
	// is reported (see OnceEvent) where the message or its account has a
	// report URL, queues a status report carrying it. An event of a
	// recipient that does not exist (or not in the event's account) is
	// not recorded.
	RecordEvents(ctx context.Context, es []Event) ([]EventOutcome, error)
	// MessageEvents lists the events of an account's messages, per
	// message id, oldest first.
	MessageEvents(ctx context.Context, accountID string, messageIDs []string) (map[string][]Event, error)
}
