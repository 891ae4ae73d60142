// Package message holds the platform's accepted-message model: a message, its
// recipients, their statuses and the rules by which a status may change.
//
// Every door into omnigate (the MessageBird REST API today; SMPP, Twilio and
// Conversations later) turns a request into a *Message; the pipeline stores,
// dispatches and reports on that one model. Wire formats live with their door.
package message

import "time"

// Direction says whether a message leaves the platform (mt) or arrives (mo).
type Direction string

// Directions as MessageBird names them.
const (
	MT Direction = "mt" // mobile terminated: sent by a customer
	MO Direction = "mo" // mobile originated: received from a handset
)

// Type is the kind of SMS.
type Type string

// Types accepted on POST /messages.
const (
	TypeSMS    Type = "sms"
	TypeBinary Type = "binary"
	TypeFlash  Type = "flash"
)

// Channel names the transport a message travels on; connectors are chosen by it.
const ChannelSMS = "sms"

// Message is one accepted message with its recipients.
type Message struct {
	ID          string
	AccountID   string
	Channel     string
	Direction   Direction
	Type        Type
	Originator  string
	Body        string
	Reference   string // empty means none
	ReportURL   string // empty means the account's default
	Validity    int    // seconds after the send time; 0 means none
	Gateway     int
	TypeDetails map[string]any
	DataCoding  string // "plain" or "unicode", as resolved at accept time
	MClass      int
	// Purpose is "transactional" or "marketing"; Categories are restricted
	// topics (alcohol, gambling, tobacco, firearms, adult). Compliance is the
	// decision the compliance engine took for the message.
	Purpose    string
	Categories []string
	Compliance string
	// ScheduledAt is when sending should start; zero means immediately.
	ScheduledAt time.Time
	CreatedAt   time.Time
	Recipients  []Recipient
}

// SendAt is when the message becomes due: its scheduled time or its creation.
func (m *Message) SendAt() time.Time {
	if !m.ScheduledAt.IsZero() {
		return m.ScheduledAt
	}
	return m.CreatedAt
}

// ExpiresAt is when an unsent message stops being worth sending (zero: never).
func (m *Message) ExpiresAt() time.Time {
	if m.Validity <= 0 {
		return time.Time{}
	}
	return m.SendAt().Add(time.Duration(m.Validity) * time.Second)
}

// Recipient is one destination of a message and the state of its delivery.
type Recipient struct {
	Seq           int    // position within the message, from 0
	Address       string // MSISDN digits in international form, no "+"
	Country       string // ISO 3166-1 alpha-2, e.g. "NL"
	CountryPrefix int    // e.g. 31
	Status        Status
	StatusAt      time.Time // zero while scheduled
	StatusReason  string
	// StatusErrorCode is the carrier or platform error; 0 means none.
	StatusErrorCode int
	PartCount       int
	Length          int   // characters in the body
	Price           int64 // micro-units of PriceCurrency charged for this recipient
	PriceCurrency   string
	Connector       string // the connector that took it, once submitted
}

// Counts summarises recipient statuses the way MessageBird reports them.
type Counts struct {
	Total, Sent, Delivered, DeliveryFailed int
}

// CountRecipients derives the totals shown in a message's recipients object.
// A recipient counts as sent once it has left the platform (sent or later).
func (m *Message) CountRecipients() Counts {
	c := Counts{Total: len(m.Recipients)}
	for _, r := range m.Recipients {
		switch r.Status {
		case Sent, Buffered:
			c.Sent++
		case Delivered:
			c.Sent++
			c.Delivered++
		case DeliveryFailed:
			c.Sent++
			c.DeliveryFailed++
		case Expired:
			c.Sent++
		}
	}
	return c
}
