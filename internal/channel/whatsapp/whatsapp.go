// Package whatsapp is the WhatsApp channel and its connector kind, the
// WhatsApp Business Cloud API (Meta's Graph API; internal/chatsim
// simulates it).
//
// The channel: recipients are WhatsApp ids, the phone number in
// international digits; a message is text (Body) or Content — media by
// URL (image, video, audio, file), a location, a template ("hsm", body
// params or components), an interactive message (reply buttons or a
// list, within the Cloud API's bounds) or a reaction. One message is one
// part. Inbound messages keep their structure (media by provider id,
// replies, reactions) in Content. It is priced per message today: billing per
// 24-hour conversation and category (issue 15, item 4) is not done yet.
//
// The connector kind "whatsapp" sends each recipient as one Cloud API
// request, submits and lists message templates, and takes the provider's
// webhooks (statuses, inbound messages and template reviews) through its
// ServeHTTP, mounted by the app at
// /webhooks/whatsapp/{connector}. See docs/whatsapp.md.
package whatsapp

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
)

// Content types (message.Type) of the channel.
const (
	TypeText     message.Type = "text"
	TypeImage    message.Type = "image"
	TypeVideo    message.Type = "video"
	TypeAudio    message.Type = "audio"
	TypeFile     message.Type = "file"
	TypeLocation message.Type = "location"
	TypeHSM      message.Type = "hsm"
	// TypeInteractive is a message with reply buttons or a list (and, for
	// inbound messages, the reply to one); TypeReaction an emoji on a
	// message. Both are free-form: the 24-hour window applies.
	TypeInteractive message.Type = "interactive"
	TypeReaction    message.Type = "reaction"
	TypeSticker     message.Type = "sticker" // inbound only
)

// Bounds of interactive messages, as the Cloud API documents them.
const (
	MaxButtons         = 3    // reply buttons
	MaxButtonTitle     = 20   // characters of a reply button's title, and of a list's button
	MaxChoiceID        = 200  // characters of a button's or row's id
	MaxRows            = 10   // rows of a list, over all its sections
	MaxSections        = 10   // sections of a list
	MaxRowTitle        = 24   // characters of a row's or a section's title
	MaxRowDescription  = 72   // characters of a row's description
	MaxInteractiveBody = 1024 // characters of the body
	MaxHeaderFooter    = 60   // characters of a text header or footer
)

// MaxText is the Cloud API's bound on a text body, in characters; MaxCaption
// a media caption's.
const (
	MaxText    = 4096
	MaxCaption = 1024
)

// Unit is what WhatsApp is priced in: a 24-hour conversation per
// category (billing.UnitConversation; docs/billing.md).
const Unit = "conversation"

// Spec is the WhatsApp channel for the registry.
func Spec() channel.Spec {
	return channel.Spec{Name: message.ChannelWhatsApp, Address: channel.Phone, Unit: Unit, Prepare: Prepare}
}

// WAID returns a WhatsApp id (international digits, 7 to 15 of them)
// from a number written with or without + and spaces.
func WAID(s string) (string, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "+")
	if strings.ContainsAny(t, " -") {
		t = strings.NewReplacer(" ", "", "-", "").Replace(t)
	}
	if len(t) < 7 || len(t) > 15 {
		return "", fmt.Errorf("%q is not a phone number in international format (7 to 15 digits)", s)
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return "", fmt.Errorf("%q is not a phone number in international format (digits only)", s)
		}
	}
	if t[0] == '0' {
		return "", fmt.Errorf("%q is not in international format: it starts with the country code, not 0", s)
	}
	return t, nil
}

// Prepare checks a WhatsApp message's content against its type and sets
// each recipient's PartCount (1) and Length (the text's characters).
func Prepare(m *message.Message) error {
	if m.Type == "" {
		m.Type = inferType(m.Content)
	}
	length := utf8.RuneCountInString(m.Body)
	if m.Direction == message.MO {
		for i := range m.Recipients {
			m.Recipients[i].PartCount, m.Recipients[i].Length = 1, length
		}
		return nil
	}
	if len(m.Recipients) == 0 {
		return &message.Invalid{Field: "recipients", Reason: "a WhatsApp message needs a recipient"}
	}
	for i := range m.Recipients {
		id, err := WAID(m.Recipients[i].Address)
		if err != nil {
			return &message.Invalid{Field: "recipients", Reason: err.Error()}
		}
		m.Recipients[i].Address = id
		// The country prices the conversation and finds local time.
		if n, err := phone.Parse(id); err == nil && m.Recipients[i].Country == "" {
			m.Recipients[i].Country, m.Recipients[i].CountryPrefix = n.Country, n.CountryPrefix
		}
	}
	if err := checkContent(m); err != nil {
		return err
	}
	for i := range m.Recipients {
		m.Recipients[i].PartCount, m.Recipients[i].Length = 1, length
	}
	return nil
}

func inferType(c *message.Content) message.Type {
	switch {
	case c == nil:
		return TypeText
	case c.Template != nil:
		return TypeHSM
	case c.Interactive != nil:
		return TypeInteractive
	case c.Reaction != nil:
		return TypeReaction
	case c.Location != nil:
		return TypeLocation
	case len(c.Media) > 0:
		k := message.Type(c.Media[0].Kind)
		if k == "" {
			return TypeFile
		}
		return k
	}
	return TypeText
}

func checkContent(m *message.Message) error {
	c := m.Content
	if !utf8.ValidString(m.Body) || strings.ContainsRune(m.Body, 0) {
		return &message.Invalid{Field: "content.text", Reason: "the text must be UTF-8 without NUL"}
	}
	if c != nil && c.Email != nil {
		return &message.Invalid{Field: "content", Reason: "a WhatsApp message carries no email parts"}
	}
	if c != nil && m.Type != TypeInteractive && c.Interactive != nil {
		return &message.Invalid{Field: "content.interactive", Reason: "only a message of type interactive carries content.interactive"}
	}
	if c != nil && m.Type != TypeReaction && c.Reaction != nil {
		return &message.Invalid{Field: "content.reaction", Reason: "only a message of type reaction carries content.reaction"}
	}
	switch m.Type {
	case TypeInteractive:
		if c == nil || c.Interactive == nil || len(c.Media) > 0 || c.Location != nil || c.Template != nil {
			return &message.Invalid{Field: "content.interactive", Reason: "an interactive message carries content.interactive"}
		}
		return CheckInteractive(c.Interactive)
	case TypeReaction:
		if c == nil || c.Reaction == nil || len(c.Media) > 0 || c.Location != nil || c.Template != nil {
			return &message.Invalid{Field: "content.reaction", Reason: "a reaction message carries content.reaction"}
		}
		if strings.TrimSpace(c.Reaction.MessageID) == "" {
			return &message.Invalid{Field: "content.reaction.messageId", Reason: "a reaction names the message it reacts to"}
		}
		if utf8.RuneCountInString(c.Reaction.Emoji) > 10 || strings.ContainsAny(c.Reaction.Emoji, " \t\r\n") {
			return &message.Invalid{Field: "content.reaction.emoji", Reason: "a reaction is one emoji (empty removes it)"}
		}
	case TypeText:
		if c != nil && (len(c.Media) > 0 || c.Location != nil || c.Template != nil) {
			return &message.Invalid{Field: "content", Reason: "a text message carries text only"}
		}
		if strings.TrimSpace(m.Body) == "" {
			return &message.Invalid{Field: "content.text", Reason: "a text message needs text"}
		}
		if utf8.RuneCountInString(m.Body) > MaxText {
			return &message.Invalid{Field: "content.text", Reason: fmt.Sprintf("at most %d characters", MaxText)}
		}
	case TypeImage, TypeVideo, TypeAudio, TypeFile:
		if c == nil || len(c.Media) != 1 || c.Location != nil || c.Template != nil {
			return &message.Invalid{Field: "content." + string(m.Type), Reason: "a " + string(m.Type) + " message carries one " + string(m.Type) + " by URL"}
		}
		md := c.Media[0]
		if md.Kind != "" && md.Kind != string(m.Type) {
			return &message.Invalid{Field: "content." + string(m.Type), Reason: fmt.Sprintf("the media is %q, the message's type %q", md.Kind, m.Type)}
		}
		u, err := url.Parse(md.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &message.Invalid{Field: "content." + string(m.Type) + ".url", Reason: "an http or https URL is required"}
		}
		if m.Type == TypeAudio && md.Caption != "" {
			return &message.Invalid{Field: "content.audio.caption", Reason: "audio has no caption"}
		}
		if utf8.RuneCountInString(md.Caption) > MaxCaption {
			return &message.Invalid{Field: "content." + string(m.Type) + ".caption", Reason: fmt.Sprintf("at most %d characters", MaxCaption)}
		}
	case TypeLocation:
		if c == nil || c.Location == nil || len(c.Media) > 0 || c.Template != nil {
			return &message.Invalid{Field: "content.location", Reason: "a location message carries a latitude and a longitude"}
		}
		l := c.Location
		if math.IsNaN(l.Latitude) || math.IsNaN(l.Longitude) || math.Abs(l.Latitude) > 90 || math.Abs(l.Longitude) > 180 {
			return &message.Invalid{Field: "content.location", Reason: "latitude is between -90 and 90, longitude between -180 and 180"}
		}
	case TypeHSM:
		if c == nil || c.Template == nil || len(c.Media) > 0 || c.Location != nil {
			return &message.Invalid{Field: "content.hsm", Reason: "an hsm message carries a template"}
		}
		t := c.Template
		if strings.TrimSpace(t.Name) == "" {
			return &message.Invalid{Field: "content.hsm.templateName", Reason: "a template needs its name"}
		}
		if strings.TrimSpace(t.Language) == "" {
			return &message.Invalid{Field: "content.hsm.language", Reason: "a template needs its language code (e.g. en_US)"}
		}
		for i, p := range t.Params {
			if strings.TrimSpace(p) == "" {
				return &message.Invalid{Field: fmt.Sprintf("content.hsm.params[%d]", i), Reason: "a template parameter cannot be empty"}
			}
		}
		if len(t.Params) > 0 && len(t.Components) > 0 {
			return &message.Invalid{Field: "content.hsm.components", Reason: "give params or components, not both"}
		}
		for i, comp := range t.Components {
			if err := checkComponent(fmt.Sprintf("content.hsm.components[%d]", i), comp); err != nil {
				return err
			}
		}
	default:
		return &message.Invalid{Field: "type", Reason: fmt.Sprintf("WhatsApp content types are text, image, video, audio, file, location, hsm, interactive and reaction, not %q", m.Type)}
	}
	return nil
}

// CheckInteractive checks an interactive message against the Cloud API's
// bounds: 1 to 3 reply buttons with unique ids and titles of at most 20
// characters; a list of at most 10 rows in at most 10 sections, each row
// with a unique id and a title of at most 24 characters.
func CheckInteractive(in *message.Interactive) error {
	bad := func(field, reason string) error {
		return &message.Invalid{Field: "content.interactive." + field, Reason: reason}
	}
	long := func(s string, n int) bool { return utf8.RuneCountInString(s) > n }
	if strings.TrimSpace(in.Body) == "" {
		return bad("body.text", "an interactive message needs a body text")
	}
	if long(in.Body, MaxInteractiveBody) {
		return bad("body.text", fmt.Sprintf("at most %d characters", MaxInteractiveBody))
	}
	if long(in.Header, MaxHeaderFooter) {
		return bad("header.text", fmt.Sprintf("at most %d characters", MaxHeaderFooter))
	}
	if long(in.Footer, MaxHeaderFooter) {
		return bad("footer.text", fmt.Sprintf("at most %d characters", MaxHeaderFooter))
	}
	ids := map[string]bool{}
	choice := func(field string, ch message.Choice, maxTitle int) error {
		if strings.TrimSpace(ch.ID) == "" {
			return bad(field+".id", "every choice needs an id")
		}
		if long(ch.ID, MaxChoiceID) {
			return bad(field+".id", fmt.Sprintf("at most %d characters", MaxChoiceID))
		}
		if ids[ch.ID] {
			return bad(field+".id", "ids must be unique: "+ch.ID+" is given twice")
		}
		ids[ch.ID] = true
		if strings.TrimSpace(ch.Title) == "" {
			return bad(field+".title", "every choice needs a title")
		}
		if long(ch.Title, maxTitle) {
			return bad(field+".title", fmt.Sprintf("at most %d characters", maxTitle))
		}
		if long(ch.Description, MaxRowDescription) {
			return bad(field+".description", fmt.Sprintf("at most %d characters", MaxRowDescription))
		}
		return nil
	}
	switch in.Type {
	case "button":
		if len(in.Sections) > 0 || in.Button != "" {
			return bad("action", "a button message has buttons, not sections")
		}
		if len(in.Buttons) == 0 || len(in.Buttons) > MaxButtons {
			return bad("action.buttons", fmt.Sprintf("1 to %d reply buttons", MaxButtons))
		}
		for i, b := range in.Buttons {
			if b.Description != "" {
				return bad(fmt.Sprintf("action.buttons[%d].description", i), "a reply button has no description")
			}
			if err := choice(fmt.Sprintf("action.buttons[%d]", i), b, MaxButtonTitle); err != nil {
				return err
			}
		}
	case "list":
		if len(in.Buttons) > 0 {
			return bad("action", "a list message has sections, not buttons")
		}
		if strings.TrimSpace(in.Button) == "" {
			return bad("action.button", "a list needs the text of its button")
		}
		if long(in.Button, MaxButtonTitle) {
			return bad("action.button", fmt.Sprintf("at most %d characters", MaxButtonTitle))
		}
		if len(in.Sections) == 0 || len(in.Sections) > MaxSections {
			return bad("action.sections", fmt.Sprintf("1 to %d sections", MaxSections))
		}
		rows := 0
		for i, sec := range in.Sections {
			if len(in.Sections) > 1 && strings.TrimSpace(sec.Title) == "" {
				return bad(fmt.Sprintf("action.sections[%d].title", i), "a list of several sections needs each one's title")
			}
			if long(sec.Title, MaxRowTitle) {
				return bad(fmt.Sprintf("action.sections[%d].title", i), fmt.Sprintf("at most %d characters", MaxRowTitle))
			}
			if len(sec.Rows) == 0 {
				return bad(fmt.Sprintf("action.sections[%d].rows", i), "a section needs a row")
			}
			for j, r := range sec.Rows {
				if err := choice(fmt.Sprintf("action.sections[%d].rows[%d]", i, j), r, MaxRowTitle); err != nil {
					return err
				}
			}
			rows += len(sec.Rows)
		}
		if rows > MaxRows {
			return bad("action.sections", fmt.Sprintf("%d rows; a list has at most %d", rows, MaxRows))
		}
	default:
		return bad("type", fmt.Sprintf("an interactive message is of type button or list, not %q", in.Type))
	}
	return nil
}

// checkComponent checks one template component's parameters.
func checkComponent(field string, c message.TemplateComponent) error {
	switch c.Type {
	case "header", "body":
	case "button":
		if c.SubType != "quick_reply" && c.SubType != "url" {
			return &message.Invalid{Field: field + ".subType", Reason: "a button component's sub_type is quick_reply or url"}
		}
		if c.Index < 0 || c.Index > 9 {
			return &message.Invalid{Field: field + ".index", Reason: "a button's index is 0 to 9"}
		}
	default:
		return &message.Invalid{Field: field + ".type", Reason: fmt.Sprintf("a component is header, body or button, not %q", c.Type)}
	}
	for i, p := range c.Parameters {
		pf := fmt.Sprintf("%s.parameters[%d]", field, i)
		switch p.Type {
		case "text":
			if strings.TrimSpace(p.Text) == "" {
				return &message.Invalid{Field: pf + ".text", Reason: "a text parameter cannot be empty"}
			}
		case "payload":
			if c.Type != "button" || p.Payload == "" {
				return &message.Invalid{Field: pf + ".payload", Reason: "a payload parameter belongs to a quick_reply button and cannot be empty"}
			}
		case "currency":
			if len(p.Currency) != 3 || p.Text == "" {
				return &message.Invalid{Field: pf + ".currency", Reason: "a currency parameter has an ISO 4217 currencyCode, an amount and a fallback"}
			}
		case "date_time":
			if p.Text == "" {
				return &message.Invalid{Field: pf + ".dateTime", Reason: "a date_time parameter needs its fallback text"}
			}
		case "image", "video", "document":
			if c.Type != "header" {
				return &message.Invalid{Field: pf + ".type", Reason: "media parameters belong to the header"}
			}
			if u, err := url.Parse(p.URL); !strings.HasPrefix(p.URL, "media:") && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
				return &message.Invalid{Field: pf + "." + p.Type + ".url", Reason: "an http or https URL is required"}
			}
		default:
			return &message.Invalid{Field: pf + ".type", Reason: fmt.Sprintf("a parameter is text, currency, date_time, image, video, document or payload, not %q", p.Type)}
		}
	}
	return nil
}
