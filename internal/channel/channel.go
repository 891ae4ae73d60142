// Package channel defines how the dispatcher hands a message to a transport.
//
// A Connector takes one recipient of one message at a time and answers what
// became of the submission: taken (with the carrier's ids for each part),
// "try again later", or refused for good. Carriers report final outcomes later
// (SMPP delivery receipts, provider webhooks); a connector passes those to the
// StatusSink it was given. Each channel and provider is a folder beside this
// file (smpp/ today; email/, whatsapp/ … later), so the dispatcher
// never learns the details of a transport.
package channel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Submission is one recipient of one message.
type Submission struct {
	Message   *message.Message
	Recipient *message.Recipient
}

// Result is what a connector did with a submission.
type Result struct {
	// Status is the recipient's status after submission: message.Sent when
	// the carrier took it and will report later, or a later status when the
	// connector already knows more.
	Status message.Status
	// PartIDs are the carrier's ids for each part, in order.
	PartIDs []string
}

// Connector sends submissions over one transport.
type Connector interface {
	// Name identifies the connector in statuses, logs and metrics.
	Name() string
	// Send submits one recipient. It returns a *TemporaryError when the
	// submission should be retried later (throttled, queue full, link down),
	// and a *PermanentError when it can never succeed.
	Send(ctx context.Context, s Submission) (Result, error)
}

// StatusReport is a carrier's later word on a recipient.
type StatusReport struct {
	AccountID string
	MessageID string
	Seq       int
	Status    message.Status
	Reason    string
	ErrorCode int
	At        time.Time
}

// Inbound is a message a handset sent, as a carrier delivered it: one part
// of a concatenated message when Total > 1 (the platform reassembles).
type Inbound struct {
	Connector   string
	Source      string // the sender's number
	Destination string // the number it was sent to
	Text        string
	Ref         int // concatenation reference; 0 when not concatenated
	Total, Part int // 1, 1 when not concatenated
}

// Receiver takes what carriers send on their own: delivery receipts and
// inbound messages. Both methods return only once the item is durable, so
// that a connector can acknowledge it to the carrier (which redelivers
// what was not acknowledged).
type Receiver interface {
	Receipt(ctx context.Context, r store.Receipt) error
	// Inbound stores an inbound message. store.ErrNotFound means no account
	// has the destination number.
	Inbound(ctx context.Context, in Inbound) error
}

// StatusSink receives reports that arrive after submission.
type StatusSink interface {
	ReportStatus(ctx context.Context, r StatusReport) error
}

// TemporaryError asks the dispatcher to retry later, no sooner than After
// when it is set.
type TemporaryError struct {
	Reason string
	After  time.Duration
	Err    error
}

func (e *TemporaryError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("temporary failure: %s: %v", e.Reason, e.Err)
	}
	return "temporary failure: " + e.Reason
}

func (e *TemporaryError) Unwrap() error { return e.Err }

// PermanentError ends the recipient in delivery_failed with Code as its
// statusErrorCode.
type PermanentError struct {
	Code   int
	Reason string
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("permanent failure %d: %s", e.Code, e.Reason)
}

// ErrUnavailable means a connector cannot send now (not connected, not
// bound): another connector on the route may. Connectors return it wrapped
// in a *TemporaryError.
var ErrUnavailable = errors.New("connector unavailable")

// RouteError means this connector cannot reach the destination (the
// carrier refused the route); another connector on the route may. When no
// connector is left the recipient fails with Code.
type RouteError struct {
	Code   int
	Reason string
}

func (e *RouteError) Error() string {
	return fmt.Sprintf("no route %d: %s", e.Code, e.Reason)
}

// ShouldFailOver reports whether the next connector on the route should be
// tried after err.
func ShouldFailOver(err error) bool {
	var re *RouteError
	return errors.Is(err, ErrUnavailable) || errors.As(err, &re)
}

// IsTemporary reports whether err asks for a retry. Errors that are neither
// temporary nor permanent (a bug, a timeout) are treated as temporary:
// retrying is safer than dropping a paid message.
func IsTemporary(err error) bool {
	var p *PermanentError
	var r *RouteError
	return !errors.As(err, &p) && !errors.As(err, &r)
}
