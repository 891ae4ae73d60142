// Package whatsapp is the WhatsApp channel and its connector kind, the
// WhatsApp Business Cloud API (Meta's Graph API; internal/chatsim
// simulates it).
//
// The channel: recipients are WhatsApp ids, the phone number in
// international digits; a message is text (Body) or Content — media by
// URL (image, video, audio, file), a location, or a template ("hsm"). One
// message is one part. It is priced per message today: billing per
// 24-hour conversation and category (issue 15, item 4) is not done yet.
//
// The connector kind "whatsapp" sends each recipient as one Cloud API
// request and takes the provider's webhooks (statuses and inbound
// messages) through its ServeHTTP, mounted by the app at
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
	t = strings.NewReplacer(" ", "", "-", "").Replace(t)
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
	switch m.Type {
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
	default:
		return &message.Invalid{Field: "type", Reason: fmt.Sprintf("WhatsApp content types are text, image, video, audio, file, location and hsm, not %q", m.Type)}
	}
	return nil
}
