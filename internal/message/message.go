// Package message holds the platform's channel-neutral message model: a
// message, its recipients, their statuses and the rules by which a status
// may change.
//
// Every door into omnigate (the MessageBird REST API today; SMPP, Twilio and
// Conversations later) turns a request into a *Message; the pipeline stores,
// dispatches and reports on that one model, whatever the channel. What only
// one channel has (an SMS's data coding, an email's subject) sits in that
// channel's part of Details or in Content; wire formats live with their door.
package message

import (
	"sort"
	"time"
)

// Direction says whether a message leaves the platform (mt) or arrives (mo).
type Direction string

// Directions as MessageBird names them.
const (
	MT Direction = "mt" // mobile terminated: sent by a customer
	MO Direction = "mo" // mobile originated: received from a handset
)

// Type is the kind of content as the message's channel names it: for SMS
// "sms", "binary" or "flash"; chat channels will name theirs (text, image,
// hsm …). Doors filter and render it; the channel's preparation reads it.
type Type string

// SMS types, as POST /messages takes them.
const (
	TypeSMS    Type = "sms"
	TypeBinary Type = "binary"
	TypeFlash  Type = "flash"
)

// ChannelSMS is the SMS channel's name. A message's Channel names the
// channel it travels on; the channel registry (internal/channel) knows how
// each one prepares content, which connectors carry it and how its receipts
// come back.
const ChannelSMS = "sms"

// ChannelEmail is the email channel's name (internal/channel/email).
const ChannelEmail = "email"

// ChannelWhatsApp is the WhatsApp channel's name (internal/channel/whatsapp).
const ChannelWhatsApp = "whatsapp"

// Message is one accepted message with its recipients.
type Message struct {
	ID        string
	AccountID string
	Channel   string
	Direction Direction
	Type      Type
	// Originator is who the message is from, an address of the channel's
	// kind: a number or an alphanumeric sender (SMS), an email address, a
	// chat app's channel id.
	Originator string
	// Body is the message's text: an SMS's body, a chat message's text, an
	// email's plain-text part. It is personal data (erasure overwrites it).
	Body string
	// Content is what is not plain text: media, a location, a template with
	// parameters, email parts. nil for a text message.
	Content *Content
	// Details are the parts only some channels have; each is nil on
	// messages of other channels.
	Details
	Reference string // empty means none
	ReportURL string // empty means the account's default
	// Validity is how long after its send time an unsent message is still
	// worth sending, in seconds, on any channel, at most MaxValidity; 0
	// means none (the dispatcher's maximum age applies).
	Validity int
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

// Details holds each channel's own part of a message. A channel that needs
// fields of its own adds its part here (and its preparation fills it); the
// store keeps Details as one JSON document beside the neutral columns.
type Details struct {
	SMS *SMS `json:"sms,omitempty"`
	// Report is the format of the message's status reports, the door's
	// that accepted it: "" for MessageBird REST (GET with query
	// parameters), ReportConversations for the Conversations door's POSTed
	// JSON. The webhook sender renders reports by it.
	Report string `json:"report,omitempty"`
	// ChannelID is the Conversations channel the message was sent from
	// (the id POST /v1/send takes as "from"), when it was.
	ChannelID string `json:"channelId,omitempty"`
	// ServiceSID is the Twilio Messaging Service ("MG…") the sender was
	// picked from, when it was.
	ServiceSID string `json:"serviceSid,omitempty"`
	// Fallback is the fallback a Conversations send asked for (POST
	// /v1/send fallback{from, after}) and what became of it; FallbackOf is,
	// on a fallback message, the id of the message it stands in for.
	Fallback   *Fallback `json:"fallback,omitempty"`
	FallbackOf string    `json:"fallbackOf,omitempty"`
	// ConversationID is the Conversations conversation the message is
	// part of, when it is (the store keeps it in a column too).
	ConversationID string `json:"conversationId,omitempty"`
	// Source is the Conversations send's source object as given (JSON),
	// kept and shown, not interpreted.
	Source string `json:"source,omitempty"`
	// Endpoint is, on an inbound chat message, the provider's id of the
	// business endpoint it came to when that is not the recipient address
	// (a WhatsApp phone number id): it picks the Conversations channel.
	Endpoint string `json:"endpoint,omitempty"`
}

// Fallback is a message's fallback to another channel: sent as message ID
// from channel From when the message is not delivered After its creation.
type Fallback struct {
	From  string `json:"from"`  // the fallback channel's id
	After string `json:"after"` // as the request gave it (default "1m")
	ID    string `json:"id"`    // the fallback message's id, fixed when accepted
	// Platform is the fallback channel's kind (sms, whatsapp …).
	Platform string `json:"platform,omitempty"`
	// Status is waiting, sent, skipped (delivered in time) or refused (the
	// fallback channel's compliance or billing refused it: Reason).
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Cancelled: the message had not left for its platform when the
	// fallback was sent, and was cancelled (and refunded).
	Cancelled bool `json:"cancelled,omitempty"`
}

// ReportConversations is Details.Report of messages sent through the
// Conversations door (POST /v1/send).
const ReportConversations = "conversations"

// SMS is what only an SMS has.
type SMS struct {
	// DataCoding is "plain" (GSM 03.38) or "unicode" (UCS-2) once the
	// message is prepared; before that, what the sender asked for ("auto"
	// or "" for either).
	DataCoding string `json:"datacoding"`
	// MClass is the message class: 0 is flash, 1 the default.
	MClass int `json:"mclass"`
	// Gateway is MessageBird's gateway number, kept and shown as given
	// (0 to MaxGateway).
	Gateway int `json:"gateway,omitempty"`
	// TypeDetails are MessageBird's typeDetails (udh for binary messages).
	TypeDetails map[string]any `json:"typeDetails,omitempty"`
}

// Content is a message's content beyond plain text; which parts a channel
// accepts is the channel's to say when it prepares the message.
type Content struct {
	// Media are images, videos, audio or files, by URL.
	Media []Media `json:"media,omitempty"`
	// Location is a point on a map.
	Location *Location `json:"location,omitempty"`
	// Template is a provider-approved template with its parameters (a
	// WhatsApp HSM, a stored email template).
	Template *Template `json:"template,omitempty"`
	// Email are an email's parts besides its text (Body).
	Email *Email `json:"email,omitempty"`
	// Interactive is a message with reply buttons or a list (WhatsApp).
	Interactive *Interactive `json:"interactive,omitempty"`
	// Reaction is an emoji on an earlier message (WhatsApp).
	Reaction *Reaction `json:"reaction,omitempty"`
	// Reply is an inbound message's answer to an interactive message or a
	// template's quick-reply button: the choice's id and title.
	Reply *Reply `json:"reply,omitempty"`
	// ProviderID is an inbound message's id at the provider (a WhatsApp
	// wamid), which a reaction or a reply refers to.
	ProviderID string `json:"providerId,omitempty"`
	// Context is the provider's id of the message an inbound message
	// answers or reacts to, when it does.
	Context string `json:"context,omitempty"`
}

// Interactive is a message with reply buttons (Type "button") or a list
// of choices (Type "list"), the Cloud API's interactive message.
type Interactive struct {
	Type   string `json:"type"`
	Header string `json:"header,omitempty"` // a text header
	Body   string `json:"body"`
	Footer string `json:"footer,omitempty"`
	// Buttons are a button message's reply buttons.
	Buttons []Choice `json:"buttons,omitempty"`
	// Button is the text of the button that opens a list; Sections its rows.
	Button   string    `json:"button,omitempty"`
	Sections []Section `json:"sections,omitempty"`
}

// Choice is a reply button or a list row.
type Choice struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// Section is a titled group of a list's rows.
type Section struct {
	Title string   `json:"title,omitempty"`
	Rows  []Choice `json:"rows"`
}

// Reaction is an emoji on a message, named by its provider id (a wamid);
// an empty Emoji removes the reaction.
type Reaction struct {
	MessageID string `json:"messageId"`
	Emoji     string `json:"emoji"`
}

// Reply is the choice an inbound message picked: Type "button" (a reply
// button), "list" (a list row) or "quick_reply" (a template's button).
type Reply struct {
	Type  string `json:"type"`
	ID    string `json:"id,omitempty"`
	Title string `json:"title"`
}

// TemplateComponent is the parameters of one component of a template:
// Type header, body or button (SubType quick_reply or url, Index the
// button's position).
type TemplateComponent struct {
	Type       string          `json:"type"`
	SubType    string          `json:"subType,omitempty"`
	Index      int             `json:"index,omitempty"`
	Parameters []TemplateParam `json:"parameters,omitempty"`
}

// TemplateParam is one parameter: Type text (Text), payload (Payload, a
// quick reply's), currency (Text the fallback, Currency and Amount1000),
// date_time (Text the fallback, DateTime), image, video or document
// (URL, a link or "media:<id>").
type TemplateParam struct {
	Type       string `json:"type"`
	Text       string `json:"text,omitempty"`
	Payload    string `json:"payload,omitempty"`
	Currency   string `json:"currency,omitempty"`
	Amount1000 int64  `json:"amount1000,omitempty"`
	DateTime   string `json:"dateTime,omitempty"`
	URL        string `json:"url,omitempty"`
}

// ParamCount is how many parameters the template carries, in Params and
// Components together.
func (t *Template) ParamCount() int {
	n := len(t.Params)
	for _, c := range t.Components {
		n += len(c.Parameters)
	}
	return n
}

// Media is one image, video, audio or file.
type Media struct {
	Kind    string `json:"kind"` // image, video, audio, file, sticker
	URL     string `json:"url"`
	Caption string `json:"caption,omitempty"`
	// ID and MimeType are an inbound media's id at the provider (to
	// download it) and its type; URL is empty then.
	ID       string `json:"id,omitempty"`
	MimeType string `json:"mimeType,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Location is a point on a map, with its name and address when given.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
}

// Template names a template and carries its parameters: Params are the
// body's text parameters in order, Components (a WhatsApp template's)
// the header, body and button parameters by component.
type Template struct {
	// Components are a WhatsApp template's parameters by component
	// (header, body, buttons), the Cloud API's way, beside Params.
	Components []TemplateComponent `json:"components,omitempty"`

	Namespace string            `json:"namespace,omitempty"`
	Name      string            `json:"name"`
	Language  string            `json:"language,omitempty"`
	Params    []string          `json:"params,omitempty"`
	Variables map[string]string `json:"variables,omitempty"`
	// Category is the template's WhatsApp category (MARKETING, UTILITY,
	// AUTHENTICATION): it prices the conversation the message opens.
	Category string `json:"category,omitempty"`
}

// Email are an email's parts besides its plain text.
type Email struct {
	Subject     string            `json:"subject,omitempty"`
	HTML        string            `json:"html,omitempty"`
	FromName    string            `json:"fromName,omitempty"`
	ReplyTo     string            `json:"replyTo,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Attachments []Attachment      `json:"attachments,omitempty"`
	// MessageID is the author's Message-ID (RFC 5322 §3.6.4) without its
	// angle brackets, as the SMTP submission door keeps it; every
	// recipient's copy carries it. Empty: compose makes one per recipient
	// (<messageID.seq@domain>).
	MessageID string `json:"messageId,omitempty"`
	// To and Cc are the To and Cc fields as the author wrote them (the
	// SMTP submission door): every recipient's copy shows them, display
	// names included. Both empty: a copy's To is its own recipient. Who
	// gets the message is Message.Recipients either way (Bcc is never
	// shown).
	To []Mailbox `json:"to,omitempty"`
	Cc []Mailbox `json:"cc,omitempty"`
	// Recipients are per-recipient parts by recipient Seq (display name,
	// substitution variables); empty when no recipient has any. Compose
	// applies them per recipient (internal/email/personal).
	Recipients []EmailRecipient `json:"recipients,omitempty"`
	// Substitute replaces {{name}} in the subject, text and HTML with the
	// recipient's Variables (performSubstitutions).
	Substitute bool `json:"substitute,omitempty"`
	// TrackOpens and TrackClicks ask compose for an open pixel and
	// rewritten links (internal/email/links).
	TrackOpens  bool `json:"trackOpens,omitempty"`
	TrackClicks bool `json:"trackClicks,omitempty"`
}

// Mailbox is an address with its optional display name (RFC 5322 §3.4).
type Mailbox struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

// EmailRecipient is what one recipient of an email has of its own.
type EmailRecipient struct {
	Name      string            `json:"name,omitempty"`
	Variables map[string]string `json:"variables,omitempty"`
}

// Attachment is a file sent with an email, by URL or inline content.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType,omitempty"`
	URL         string `json:"url,omitempty"`
	Data        []byte `json:"data,omitempty"`
	Inline      bool   `json:"inline,omitempty"` // an inline image, referenced by its name as content id
	// ContentID is an inline image's Content-ID (without <>), which the
	// HTML references as cid:…; empty: Name.
	ContentID string `json:"contentId,omitempty"`
}

// SendAt is when the message becomes due: its scheduled time or its creation.
func (m *Message) SendAt() time.Time {
	if !m.ScheduledAt.IsZero() {
		return m.ScheduledAt
	}
	return m.CreatedAt
}

// MaxValidity bounds Validity: 30 days, in seconds. Carriers keep an
// undelivered message for less (often one to seven days); seconds past
// about 292 years would overflow a time.Duration.
const MaxValidity = 30 * 24 * 3600

// MaxGateway bounds SMS.Gateway (a 32-bit signed number, as MessageBird's).
const MaxGateway = 1<<31 - 1

// DefaultValidity is how long a message without a validity is worth
// sending, and waits for its receipts, from its send time.
const DefaultValidity = 48 * time.Hour

// Deadline is when the message stops being worth sending and a recipient
// handed to a carrier stops waiting for its receipt (plus a grace): its
// ExpiresAt, or DefaultValidity after its send time.
func (m *Message) Deadline() time.Time {
	if exp := m.ExpiresAt(); !exp.IsZero() {
		return exp
	}
	return m.SendAt().Add(DefaultValidity)
}

// ExpiresAt is when an unsent message stops being worth sending (zero:
// never); a validity above MaxValidity counts as MaxValidity.
func (m *Message) ExpiresAt() time.Time {
	if m.Validity <= 0 {
		return time.Time{}
	}
	return m.SendAt().Add(time.Duration(min(m.Validity, MaxValidity)) * time.Second)
}

// Recipient is one destination of a message and the state of its delivery.
type Recipient struct {
	Seq int // position within the message, from 0
	// Address is the destination, of the channel's kind: international
	// digits without "+" for phone channels, an email address, a chat id.
	Address string
	Country string // ISO 3166-1 alpha-2, e.g. "NL"; "" where unknown
	// CountryPrefix is the calling code of a phone number (e.g. 31); 0 for
	// addresses that are not numbers.
	CountryPrefix int
	// TimeZone is the recipient's IANA time zone where it is known (from a
	// contact record); quiet hours then use it instead of guessing from the
	// number or country. Not stored.
	TimeZone string
	// Name is the recipient's display name where the door has one (an
	// email's To: "Ann <ann@example.com>"). Not stored yet: a door that
	// sets it and a store that keeps it come with the email door.
	Name            string
	Status          Status
	StatusAt        time.Time // zero while scheduled
	StatusReason    string
	StatusErrorCode int // the carrier's, provider's or platform's error; 0 means none
	// PartCount is how many parts the channel sends this recipient's
	// message as (SMS segments; 1 for most channels): each part is
	// submitted and tracked on its own, and it is the number of units
	// charged.
	PartCount     int
	Length        int   // characters in the body
	Price         int64 // micro-units of PriceCurrency charged for this recipient
	PriceCurrency string
	Connector     string // the connector that took it, once submitted
}

// Recipient is the recipient at position seq, nil if m holds none there.
// m.Recipients is in seq order but need not hold them all: a message read
// for its status reports holds only the recipients reported on (see
// store.MessageKey), so code that reports on one recipient finds it here
// rather than at m.Recipients[seq].
func (m *Message) Recipient(seq int) *Recipient {
	if seq < 0 {
		return nil
	}
	if seq < len(m.Recipients) && m.Recipients[seq].Seq == seq {
		return &m.Recipients[seq]
	}
	i := sort.Search(len(m.Recipients), func(i int) bool { return m.Recipients[i].Seq >= seq })
	if i < len(m.Recipients) && m.Recipients[i].Seq == seq {
		return &m.Recipients[i]
	}
	return nil
}

// ReportsWhole says whether the message's status reports carry the whole
// message, every recipient included (the Conversations door's JSON),
// rather than the one recipient reported on: reading such a message for
// its reports must read all of its recipients.
func (d Details) ReportsWhole() bool { return d.Report == ReportConversations }

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

// Invalid is a problem with one field of a message, found while preparing
// it; each door reports it in its own error format.
type Invalid struct {
	Field  string
	Reason string
	// Err, when set, says what kind of problem it is (errors.Is), for
	// doors that answer some kinds in their own way (the SMTP door's 552
	// for a message too large).
	Err error
}

func (e *Invalid) Error() string { return e.Field + ": " + e.Reason }

// Unwrap is Err.
func (e *Invalid) Unwrap() error { return e.Err }
