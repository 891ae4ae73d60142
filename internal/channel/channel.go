// Package channel is how omnigate plugs in channels and the connectors that
// carry them. A channel (sms, email, whatsapp …) is a Spec: what its
// addresses are, what it is priced in, how its messages are prepared (SMS
// segmentation and encoding, email MIME …). A connector kind (smpp, smtp,
// a chat app's API …) is a Kind: which channel it carries and how a
// connector is built from its stored settings. The Registry holds both; the
// app fills it explicitly at start, and everything else asks it: the
// pipeline to prepare a message, the connector manager and the CLI which
// kinds exist, the dispatcher's router which connectors carry a channel.
//
// A Connector takes one recipient of one message at a time and answers what
// became of the submission: taken (with the provider's id for each part),
// "try again later", or refused for good. Providers report later (SMPP
// delivery receipts, bounces, chat apps' status callbacks) and send
// inbound messages; a connector hands both to the Receiver it was built
// with, the one way back for every channel. Each channel and connector kind
// is a folder beside this file (sms/ and smpp/ today; email/, whatsapp/ …
// later), so the dispatcher never learns the details of a transport.
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
	// the provider took it and will report later, or a later status when the
	// connector already knows more.
	Status message.Status
	// PartIDs are the provider's ids for each part, in order; receipts are
	// matched against them.
	PartIDs []string
	// EchoesMessageID says the provider returns the message's id with
	// every receipt of these parts (WhatsApp's biz_opaque_callback_data):
	// receipts are then matched through the message, and the store keeps
	// the part ids out of its index of carrier ids.
	EchoesMessageID bool
}

// Connector sends submissions over one provider connection (a carrier
// bind, a mail relay, a chat app's account).
type Connector interface {
	// Name identifies the connector in routes, statuses, logs and metrics.
	Name() string
	// Channel is the channel it carries (its kind's).
	Channel() string
	// Send submits one recipient. It returns a *TemporaryError when the
	// submission should be retried later (throttled, queue full, link down),
	// a *RouteError when this connector cannot reach the destination but
	// another may, and a *PermanentError when it can never succeed.
	Send(ctx context.Context, s Submission) (Result, error)
	// Start connects; the connector keeps itself connected until Stop.
	Start()
	// Stop disconnects, waiting for work in flight until ctx ends.
	Stop(ctx context.Context) error
	// Up says how many connections can send now (binds, sessions); 0
	// means the connector cannot send at the moment.
	Up() int
}

// Scaled is a connector whose connections the provider counts and limits
// per account (SMPP binds). On several nodes sharing one database the
// nodes share its Total out (internal/connectors leases the slots): the
// connector then opens only as many as Scale says, and Start opens none.
type Scaled interface {
	Connector
	// Total is how many connections the connector may open on every node
	// together (its settings).
	Total() int
	// Scale opens or closes connections until n are kept (0 to Total);
	// it returns at once.
	Scale(n int)
	// Leased says that Scale, not Start, decides how many connections to
	// keep; call it before Start.
	Leased()
}

// Inbound is a message someone sent to an address an account has, as a
// provider delivered it: for SMS, one part of a concatenated message when
// Total > 1 (the platform reassembles).
type Inbound struct {
	Connector   string
	Channel     string
	Source      string // the sender's address (a number, an email address, a chat id)
	Destination string // the address it was sent to
	// Endpoint is the provider's id of the business endpoint it came to,
	// where that is not Destination: a WhatsApp phone number id (the
	// sender of the account's whatsapp channel). "" otherwise.
	Endpoint string
	Text     string
	// Type and Content are a chat message's structured content (media by
	// provider id, a location, a button or list reply, a reaction) and its
	// type as the channel names it; Text is then its text form (the
	// caption, the reply's title …) for SMS-style forwarding. Both are
	// empty for SMS.
	Type        message.Type
	Content     *message.Content
	Ref         int // concatenation reference; 0 when not concatenated
	Total, Part int // 1, 1 when not concatenated
}

// Receiver takes what providers send on their own: receipts (every
// channel's delivery reports, bounces and status callbacks, matched to parts
// by the provider's id) and inbound messages. Both methods return only once
// the item is durable, so that a connector can acknowledge it to the
// provider (which redelivers what was not acknowledged).
type Receiver interface {
	Receipt(ctx context.Context, r store.Receipt) error
	// Inbound stores an inbound message. store.ErrNotFound means no account
	// has the destination address.
	Inbound(ctx context.Context, in Inbound) error
}

// TemplateStatus is a provider's word on a message template it reviews (a
// WhatsApp template approved, rejected, paused …), by the provider's
// template id and the business account that owns it.
type TemplateStatus struct {
	Connector  string
	Channel    string
	Account    string // the provider's account of the template (a WABA id)
	ProviderID string
	Name       string
	Language   string
	Status     string // the provider's, upper case: APPROVED, REJECTED, PAUSED …
	Reason     string
}

// TemplateReceiver is implemented by Receivers that keep a template
// registry; a connector hands it the provider's template reviews, and
// acknowledges them once it returned.
type TemplateReceiver interface {
	TemplateStatus(ctx context.Context, t TemplateStatus) error
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

// SuspendError means the provider says the connector's own account is
// gone (a WhatsApp business account locked, its number no longer
// registered): nothing can go through the connector until an operator
// reactivates it. The dispatcher suspends the connector, tries the next one
// on the route, and fails the recipient with Code when none is left.
type SuspendError struct {
	Code   int
	Reason string
}

func (e *SuspendError) Error() string {
	return fmt.Sprintf("account gone %d: %s", e.Code, e.Reason)
}

// ShouldFailOver reports whether the next connector on the route should be
// tried after err.
func ShouldFailOver(err error) bool {
	var re *RouteError
	var se *SuspendError
	return errors.Is(err, ErrUnavailable) || errors.As(err, &re) || errors.As(err, &se)
}

// IsTemporary reports whether err asks for a retry. Errors that are neither
// temporary nor permanent (a bug, a timeout) are treated as temporary:
// retrying is safer than dropping a paid message.
func IsTemporary(err error) bool {
	var p *PermanentError
	var r *RouteError
	var se *SuspendError
	return !errors.As(err, &p) && !errors.As(err, &r) && !errors.As(err, &se)
}
