// Package email is the email channel: recipients and senders are email
// addresses, a message is a subject with a text and/or HTML body, custom
// headers from an allowlist, inline images and attachments, and it is
// priced per email. Its connector is SMTP (internal/channel/smtp), which
// composes the MIME message per recipient (internal/email/compose).
//
// Prepare refuses what cannot be sent safely: invalid addresses, CR/LF in
// anything that becomes a header, headers the platform sets itself, and
// messages over MaxSize once composed.
package email

import (
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/email/compose"
	"github.com/omnigate/omnigate/internal/email/rules"
	"github.com/omnigate/omnigate/internal/message"
)

// SettleAfter is how long after a 250 an email recipient waits for a
// bounce before it counts as delivered (see Spec's Silence).
const SettleAfter = 10 * time.Minute

// ReasonSettled is the statusReason of a recipient delivered by silence.
const ReasonSettled = "accepted by the receiving server, no bounce"

// Config tunes the channel; zero values mean the defaults.
type Config struct {
	// SettleAfter overrides SettleAfter (tests make it short).
	SettleAfter time.Duration
}

// DefaultValidity is how long an email without a validity is worth
// sending: the smtp connector's default retryFor.
const DefaultValidity = 5 * 24 * time.Hour

// Spec is the email channel for the registry.
func Spec(cfg Config) channel.Spec {
	if cfg.SettleAfter <= 0 {
		cfg.SettleAfter = SettleAfter
	}
	return channel.Spec{Name: message.ChannelEmail, Address: channel.Email, Unit: "email", Prepare: Prepare,
		Silence: &channel.Silence{After: cfg.SettleAfter, Status: message.Delivered, Reason: ReasonSettled}}
}

// ProviderID is the provider id of an email recipient: what the SMTP
// connector returns as its one part id, the left side of its Message-ID,
// and what bounces and complaints are matched by.
func ProviderID(messageID string, seq int) string {
	return messageID + "." + strconv.Itoa(seq)
}

// Prepare checks an email and sets each recipient's PartCount (1) and
// Length (the composed size in octets). Addresses are normalised: the
// domain lower case and in ASCII (IDNA).
func Prepare(m *message.Message) error {
	if m.Type == "" {
		m.Type = "email"
	}
	if m.Direction == message.MO {
		for i := range m.Recipients {
			m.Recipients[i].PartCount, m.Recipients[i].Length = 1, len(m.Body)
		}
		return nil
	}
	from, err := rules.Address(m.Originator)
	if err != nil {
		return &message.Invalid{Field: "originator", Reason: err.Error()}
	}
	m.Originator = from
	if m.Validity == 0 {
		// Mail servers keep retrying for days (RFC 5321 §4.5.4.1 suggests
		// four to five): an email without a validity is worth sending for
		// as long as the smtp connector's default retryFor, not the
		// dispatcher's 48-hour maximum age.
		m.Validity = int(DefaultValidity / time.Second)
	}
	if len(m.Recipients) == 0 {
		return &message.Invalid{Field: "recipients", Reason: "an email needs at least one recipient"}
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		a, err := rules.Address(r.Address)
		if err != nil {
			return &message.Invalid{Field: "recipients", Reason: fmt.Sprintf("%q: %v", r.Address, err)}
		}
		r.Address = a
		if err := text("recipients.name", r.Name, rules.MaxName); err != nil {
			return err
		}
	}
	if m.Content == nil || m.Content.Email == nil {
		return &message.Invalid{Field: "subject", Reason: "an email needs a subject"}
	}
	c := m.Content
	if len(c.Media) > 0 || c.Location != nil {
		return &message.Invalid{Field: "content", Reason: "an email carries text, HTML and attachments; not media by URL nor locations"}
	}
	e := c.Email
	if strings.TrimSpace(e.Subject) == "" {
		return &message.Invalid{Field: "subject", Reason: "an email needs a subject"}
	}
	if err := text("subject", e.Subject, rules.MaxSubject); err != nil {
		return err
	}
	if err := text("from.name", e.FromName, rules.MaxName); err != nil {
		return err
	}
	if m.Body == "" && e.HTML == "" {
		return &message.Invalid{Field: "content", Reason: "an email needs a text or an HTML body"}
	}
	if !utf8.ValidString(m.Body) || !utf8.ValidString(e.HTML) {
		return &message.Invalid{Field: "content", Reason: "the bodies must be UTF-8"}
	}
	if e.ReplyTo != "" {
		a, err := rules.Address(e.ReplyTo)
		if err != nil {
			return &message.Invalid{Field: "replyTo", Reason: err.Error()}
		}
		e.ReplyTo = a
	}
	if e.MessageID != "" {
		if _, ok := rules.MessageID("<" + e.MessageID + ">"); !ok {
			return &message.Invalid{Field: "messageId", Reason: "not a Message-ID (id-left@id-right, printable ASCII without spaces or angle brackets)"}
		}
	}
	if len(e.To)+len(e.Cc) > rules.MaxShown {
		return &message.Invalid{Field: "to", Reason: fmt.Sprintf("at most %d addresses in To and Cc together", rules.MaxShown)}
	}
	for _, l := range []struct {
		field string
		list  []message.Mailbox
	}{{"to", e.To}, {"cc", e.Cc}} {
		for i := range l.list {
			mb := &l.list[i]
			a, err := rules.Address(mb.Address)
			if err != nil {
				return &message.Invalid{Field: l.field, Reason: fmt.Sprintf("%q: %v", mb.Address, err)}
			}
			mb.Address = a
			if err := text(l.field+".name", mb.Name, rules.MaxName); err != nil {
				return err
			}
		}
	}
	if len(e.Headers) > rules.MaxHeaders {
		return &message.Invalid{Field: "headers", Reason: fmt.Sprintf("at most %d custom headers", rules.MaxHeaders)}
	}
	for k, v := range e.Headers {
		if !rules.AllowedHeader(k) {
			return &message.Invalid{Field: "headers", Reason: fmt.Sprintf("header %q may not be set: only X-* and %s", k, rules.AllowedList())}
		}
		if err := text("headers."+k, v, rules.MaxHeaderValue); err != nil {
			return err
		}
		if len(v) > rules.MaxHeaderValue {
			return &message.Invalid{Field: "headers." + k, Reason: fmt.Sprintf("at most %d octets", rules.MaxHeaderValue)}
		}
	}
	if len(e.Attachments) > rules.MaxAttachments {
		return &message.Invalid{Field: "attachments", Reason: fmt.Sprintf("at most %d attachments and inline images", rules.MaxAttachments)}
	}
	for i, a := range e.Attachments {
		field := fmt.Sprintf("attachments[%d]", i)
		if a.Inline {
			field = fmt.Sprintf("inlineImages[%d]", i)
		}
		if strings.TrimSpace(a.Name) == "" {
			return &message.Invalid{Field: field + ".name", Reason: "an attachment needs a file name"}
		}
		if err := text(field+".name", a.Name, 255); err != nil {
			return err
		}
		if a.Inline && strings.ContainsAny(a.Name, " <>\"\\") {
			return &message.Invalid{Field: field + ".name", Reason: "an inline image's name is its Content-ID: no spaces, <, >, \" or \\"}
		}
		if len(a.Data) == 0 {
			return &message.Invalid{Field: field, Reason: "an attachment needs its content (attachments by URL are not fetched by the channel)"}
		}
		if a.ContentType != "" {
			mt, _, err := mime.ParseMediaType(a.ContentType)
			if err != nil || strings.HasPrefix(mt, "multipart/") || strings.ContainsAny(a.ContentType, "\r\n") {
				return &message.Invalid{Field: field + ".contentType", Reason: "not a valid media type"}
			}
		}
	}
	// The size is the composed message's, for the first recipient; the
	// others differ only by their To header.
	raw, err := compose.Build(m, &m.Recipients[0], compose.Options{Boundary: "size", Date: time.Unix(0, 0)})
	if err != nil {
		return &message.Invalid{Field: "content", Reason: err.Error()}
	}
	// A copy's own To is its recipient, unless the author's To and Cc
	// are shown (the same in every copy).
	own := len(e.To)+len(e.Cc) == 0
	base := len(raw)
	if own {
		base -= len(m.Recipients[0].Address) + len(m.Recipients[0].Name)
	}
	if base > rules.MaxSize {
		return &message.Invalid{Field: "content", Reason: fmt.Sprintf("the message is %d octets once encoded; at most %d (10 MiB) are allowed", base, rules.MaxSize),
			Err: rules.ErrTooLarge}
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		r.PartCount, r.Length = 1, base
		if own {
			r.Length += len(r.Address) + len(r.Name)
		}
	}
	return nil
}

// text refuses control characters (CR and LF above all: a header
// injection), invalid UTF-8 and values over max characters.
func text(field, s string, max int) error {
	if err := rules.OneLine(s, max); err != nil {
		return &message.Invalid{Field: field, Reason: err.Error()}
	}
	return nil
}
