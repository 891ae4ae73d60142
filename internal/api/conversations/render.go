package conversations

import (
	"encoding/json"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// MessageJSON is a message in the Conversations shape, with omnigate's
// per-recipient statuses and email events.
type MessageJSON struct {
	ID              string          `json:"id"`
	ConversationID  string          `json:"conversationId"`
	ChannelID       string          `json:"channelId"`
	Platform        string          `json:"platform"`
	To              string          `json:"to"`
	From            string          `json:"from"`
	Direction       string          `json:"direction"`
	Status          string          `json:"status"`
	Type            string          `json:"type"`
	Content         contentOut      `json:"content"`
	Reference       string          `json:"reference,omitempty"`
	ReportURL       string          `json:"reportUrl,omitempty"`
	Purpose         string          `json:"purpose,omitempty"`
	CreatedDatetime string          `json:"createdDatetime"`
	UpdatedDatetime string          `json:"updatedDatetime"`
	Source          json.RawMessage `json:"source,omitempty"`
	Recipients      []recipientOut  `json:"recipients"`
	Fallback        *fallbackOut    `json:"fallback,omitempty"`   // fallback.go
	FallbackOf      string          `json:"fallbackOf,omitempty"` // on a fallback message: the message it stands in for
}

type contentOut struct {
	Email    *emailOut     `json:"email,omitempty"`
	Text     string        `json:"text,omitempty"`
	Image    *mediaJSON    `json:"image,omitempty"`
	Video    *mediaJSON    `json:"video,omitempty"`
	Audio    *mediaJSON    `json:"audio,omitempty"`
	File     *mediaJSON    `json:"file,omitempty"`
	Location *locationJSON `json:"location,omitempty"`
	HSM      *hsmJSON      `json:"hsm,omitempty"`
	// Interactive and Reaction are WhatsApp's; Sticker an inbound sticker.
	Interactive *interactiveJSON `json:"interactive,omitempty"`
	Reaction    *reactionJSON    `json:"reaction,omitempty"`
	Sticker     *mediaJSON       `json:"sticker,omitempty"`
	// ProviderID is an inbound message's id at the provider (a wamid) and
	// Context the one it answers: what a reaction or reply refers to.
	ProviderID string `json:"providerId,omitempty"`
	Context    string `json:"context,omitempty"`
}

type emailOut struct {
	ID                   string            `json:"id"`
	To                   []toJSON          `json:"to"`
	From                 addressJSON       `json:"from"`
	Subject              string            `json:"subject"`
	Content              bodyJSON          `json:"content"`
	ReplyTo              string            `json:"replyTo,omitempty"`
	Headers              map[string]string `json:"headers,omitempty"`
	Attachments          []fileOut         `json:"attachments,omitempty"`
	InlineImages         []fileOut         `json:"inlineImages,omitempty"`
	Tracking             trackingJSON      `json:"tracking"`
	ReportURL            string            `json:"reportUrl,omitempty"`
	PerformSubstitutions bool              `json:"performSubstitutions"`
}

// fileOut describes an attachment without its content.
type fileOut struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Length    int    `json:"length"`
	ContentID string `json:"contentId,omitempty"`
}

// recipientOut is one recipient's delivery: its status in the
// Conversations names, the platform's own, and its events.
type recipientOut struct {
	Email           string     `json:"email,omitempty"`
	Recipient       string     `json:"recipient,omitempty"` // a number or chat id, on channels other than email
	Status          string     `json:"status"`
	DeliveryStatus  string     `json:"deliveryStatus"`
	StatusReason    string     `json:"statusReason"`
	StatusErrorCode *int       `json:"statusErrorCode"`
	StatusDatetime  *string    `json:"statusDatetime"`
	Events          []eventOut `json:"events"`
}

type eventOut struct {
	Event    string            `json:"event"`
	Datetime string            `json:"datetime"`
	Detail   map[string]string `json:"detail,omitempty"`
}

// timeText is a Conversations time: RFC 3339 in UTC with Z.
func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Status is a recipient's status in the Conversations names: accepted
// (taken, not handed to a server yet), pending (scheduled), sent (the
// receiving server answered 250), delivered, failed, or rejected (refused
// by compliance before sending).
func Status(r *message.Recipient) string {
	switch r.Status {
	case message.Scheduled:
		return "pending"
	case message.Sent, message.Buffered:
		if r.Connector == "" {
			return "accepted"
		}
		return "sent"
	case message.Delivered:
		return "delivered"
	case message.DeliveryFailed, message.Expired:
		if r.Connector == "" && r.StatusErrorCode >= 4100 && r.StatusErrorCode < 4200 {
			return "rejected"
		}
		return "failed"
	}
	return string(r.Status)
}

// messageStatus rolls the recipients up: the least advanced while some are
// on their way; once all are final, delivered if any was.
func messageStatus(m *message.Message) string {
	rank := map[string]int{"pending": 0, "accepted": 1, "sent": 2}
	best, final := "", map[string]bool{}
	for i := range m.Recipients {
		s := Status(&m.Recipients[i])
		if r, ok := rank[s]; ok {
			if best == "" || r < rank[best] {
				best = s
			}
			continue
		}
		final[s] = true
	}
	switch {
	case best != "":
		return best
	case final["delivered"]:
		return "delivered"
	case final["failed"]:
		return "failed"
	case final["rejected"]:
		return "rejected"
	}
	return "accepted"
}

// RenderMessage builds the wire object of a message and its events.
func RenderMessage(m *message.Message, events []store.Event) MessageJSON {
	if m.Channel != message.ChannelEmail {
		return renderChat(m, events)
	}
	e := &message.Email{}
	if m.Content != nil && m.Content.Email != nil {
		e = m.Content.Email
	}
	updated := m.CreatedAt
	out := MessageJSON{
		ID: m.ID, Platform: "email", From: m.Originator, Direction: "sent", Status: messageStatus(m), Type: "email",
		Reference: m.Reference, ReportURL: m.ReportURL, Purpose: m.Purpose, CreatedDatetime: timeText(m.CreatedAt),
		Recipients: make([]recipientOut, len(m.Recipients)),
	}
	if m.Direction == message.MO {
		out.Direction = "received"
	}
	if len(m.Recipients) > 0 {
		out.To = m.Recipients[0].Address
	}
	em := emailOut{ID: m.ID, From: addressJSON{Email: m.Originator, Name: e.FromName}, Subject: e.Subject,
		Content: bodyJSON{HTML: e.HTML, Text: m.Body}, ReplyTo: e.ReplyTo, Headers: e.Headers,
		Tracking: trackingJSON{Open: e.TrackOpens, Click: e.TrackClicks}, ReportURL: m.ReportURL, PerformSubstitutions: e.Substitute}
	for _, a := range e.Attachments {
		f := fileOut{Name: a.Name, Type: a.ContentType, Length: len(a.Data), ContentID: a.ContentID}
		if a.Inline {
			em.InlineImages = append(em.InlineImages, f)
		} else {
			em.Attachments = append(em.Attachments, f)
		}
	}
	bySeq := map[int][]eventOut{}
	for _, ev := range events {
		bySeq[ev.Seq] = append(bySeq[ev.Seq], eventOut{Event: ev.Event, Datetime: timeText(ev.At), Detail: ev.Detail})
		if ev.At.After(updated) {
			updated = ev.At
		}
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		t := toJSON{Email: r.Address}
		if r.Seq < len(e.Recipients) {
			t.Name, t.Variables = e.Recipients[r.Seq].Name, e.Recipients[r.Seq].Variables
		}
		em.To = append(em.To, t)
		reason := r.StatusReason
		if reason == "" {
			reason = r.Status.DefaultReason()
		}
		ro := recipientOut{Email: r.Address, Status: Status(r), DeliveryStatus: string(r.Status), StatusReason: reason,
			Events: bySeq[r.Seq]}
		if r.StatusErrorCode != 0 {
			code := r.StatusErrorCode
			ro.StatusErrorCode = &code
		}
		if !r.StatusAt.IsZero() {
			s := timeText(r.StatusAt)
			ro.StatusDatetime = &s
			if r.StatusAt.After(updated) {
				updated = r.StatusAt
			}
		}
		if ro.Events == nil {
			ro.Events = []eventOut{}
		}
		out.Recipients[i] = ro
	}
	out.Content = contentOut{Email: &em}
	out.ChannelID = m.Details.ChannelID
	out.UpdatedDatetime = timeText(updated)
	return out
}

// renderChat builds the wire object of a message on a channel other than
// email: its content in the shape of its type.
func renderChat(m *message.Message, events []store.Event) MessageJSON {
	updated := m.CreatedAt
	out := MessageJSON{
		ID: m.ID, ChannelID: m.Details.ChannelID, Platform: m.Channel, From: m.Originator, Direction: "sent", Status: messageStatus(m),
		Reference: m.Reference, ReportURL: m.ReportURL, Purpose: m.Purpose, CreatedDatetime: timeText(m.CreatedAt),
		Recipients: make([]recipientOut, len(m.Recipients)),
	}
	out.ConversationID = m.Details.ConversationID
	if m.Details.Source != "" {
		out.Source = json.RawMessage(m.Details.Source)
	}
	if len(m.Recipients) > 0 {
		out.To = m.Recipients[0].Address
	}
	out.Type, out.Content = renderChatContent(m)
	bySeq := map[int][]eventOut{}
	for _, ev := range events {
		bySeq[ev.Seq] = append(bySeq[ev.Seq], eventOut{Event: ev.Event, Datetime: timeText(ev.At), Detail: ev.Detail})
		if ev.At.After(updated) {
			updated = ev.At
		}
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		reason := r.StatusReason
		if reason == "" {
			reason = r.Status.DefaultReason()
		}
		ro := recipientOut{Recipient: r.Address, Status: Status(r), DeliveryStatus: string(r.Status), StatusReason: reason, Events: bySeq[r.Seq]}
		if ro.Status == "delivered" && hasEvent(ro.Events, store.EventRead) {
			ro.Status = "read" // a chat app's read receipt: the Conversations status after delivered
		}
		if r.StatusErrorCode != 0 {
			code := r.StatusErrorCode
			ro.StatusErrorCode = &code
		}
		if !r.StatusAt.IsZero() {
			s := timeText(r.StatusAt)
			ro.StatusDatetime = &s
			if r.StatusAt.After(updated) {
				updated = r.StatusAt
			}
		}
		if ro.Events == nil {
			ro.Events = []eventOut{}
		}
		out.Recipients[i] = ro
	}
	if out.Status == "delivered" {
		read := true
		for _, ro := range out.Recipients {
			read = read && (ro.Status == "read" || ro.Status == "failed" || ro.Status == "rejected")
		}
		if read {
			out.Status = "read"
		}
	}
	if m.Direction == message.MO {
		out.Direction, out.Status = "received", "received" // the Conversations status of what a contact sent
	}
	out.UpdatedDatetime = timeText(updated)
	out.Fallback, out.FallbackOf = renderFallback(m)
	return out
}

// hasEvent reports whether events hold one named name.
func hasEvent(events []eventOut, name string) bool {
	for _, e := range events {
		if e.Event == name {
			return true
		}
	}
	return false
}

// renderChatContent is a chat message's type and content in the shape of
// its type: text, media (by URL, or by provider id when received),
// location, hsm, interactive (buttons or a list sent, or the reply
// received), reaction.
func renderChatContent(m *message.Message) (string, contentOut) {
	c := m.Content
	if c == nil {
		return "text", contentOut{Text: m.Body}
	}
	out := contentOut{ProviderID: c.ProviderID, Context: c.Context}
	switch {
	case len(c.Media) > 0:
		md := &mediaJSON{URL: c.Media[0].URL, Caption: c.Media[0].Caption, ID: c.Media[0].ID, MimeType: c.Media[0].MimeType, Filename: c.Media[0].Filename}
		switch c.Media[0].Kind {
		case "image":
			out.Image = md
		case "video":
			out.Video = md
		case "audio":
			out.Audio = md
		case "sticker":
			out.Sticker = md
		default:
			out.File = md
			return "file", out
		}
		return c.Media[0].Kind, out
	case c.Location != nil:
		lat, lon := c.Location.Latitude, c.Location.Longitude
		out.Location = &locationJSON{Latitude: &lat, Longitude: &lon}
		return "location", out
	case c.Template != nil:
		h := &hsmJSON{Namespace: c.Template.Namespace, TemplateName: c.Template.Name, Language: &hsmLangJSON{Policy: "deterministic", Code: c.Template.Language}}
		for _, p := range c.Template.Params {
			h.Params = append(h.Params, hsmParamJSON{Default: p})
		}
		for _, tc := range c.Template.Components {
			hc := hsmComponentJSON{Type: tc.Type, SubType: tc.SubType, Parameters: []hsmComponentParamJSON{}}
			if tc.Type == "button" {
				idx := tc.Index
				hc.Index = &idx
			}
			for _, p := range tc.Parameters {
				hp := hsmComponentParamJSON{Type: p.Type, Text: p.Text, Payload: p.Payload, DateTime: p.DateTime}
				switch p.Type {
				case "currency":
					hp.Currency = &struct {
						CurrencyCode string `json:"currencyCode"`
						Amount       int64  `json:"amount"`
					}{p.Currency, p.Amount1000}
				case "image":
					hp.Image = &mediaJSON{URL: p.URL}
				case "video":
					hp.Video = &mediaJSON{URL: p.URL}
				case "document":
					hp.Document = &mediaJSON{URL: p.URL}
				}
				hc.Parameters = append(hc.Parameters, hp)
			}
			h.Components = append(h.Components, hc)
		}
		out.HSM = h
		return "hsm", out
	case c.Interactive != nil:
		in := c.Interactive
		ij := &interactiveJSON{Type: in.Type, Body: &textJSON{Text: in.Body}, Action: &actionJSON{Button: in.Button}}
		if in.Header != "" {
			ij.Header = &headerJSON{Type: "text", Text: in.Header}
		}
		if in.Footer != "" {
			ij.Footer = &textJSON{Text: in.Footer}
		}
		for _, b := range in.Buttons {
			ij.Action.Buttons = append(ij.Action.Buttons, buttonJSON{ID: b.ID, Type: "reply", Title: b.Title})
		}
		for _, sec := range in.Sections {
			sj := sectionJSON{Title: sec.Title}
			for _, r := range sec.Rows {
				sj.Rows = append(sj.Rows, rowJSON{ID: r.ID, Title: r.Title, Description: r.Description})
			}
			ij.Action.Sections = append(ij.Action.Sections, sj)
		}
		out.Interactive = ij
		return "interactive", out
	case c.Reply != nil:
		typ := c.Reply.Type + "_reply"
		if c.Reply.Type == "quick_reply" {
			typ = "quick_reply"
		}
		out.Interactive = &interactiveJSON{Type: typ, Reply: &replyJSON{ID: c.Reply.ID, Title: c.Reply.Title}}
		out.Text = m.Body
		return "interactive", out
	case c.Reaction != nil:
		out.Reaction = &reactionJSON{MessageID: c.Reaction.MessageID, Emoji: c.Reaction.Emoji}
		return "reaction", out
	}
	out.Text = m.Body
	return "text", out
}
