package conversations

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// whatsApp is the WhatsApp channel's name in the registry.
const whatsApp = "whatsapp"

// Content shapes of the Conversations API besides email.
type mediaJSON struct {
	URL     string `json:"url"`
	Caption string `json:"caption"`
}

type locationJSON struct {
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
}

type hsmJSON struct {
	Namespace    string         `json:"namespace"`
	TemplateName string         `json:"templateName"`
	Language     *hsmLangJSON   `json:"language"`
	Params       []hsmParamJSON `json:"params"`
}

type hsmLangJSON struct {
	Policy string `json:"policy"`
	Code   string `json:"code"`
}

type hsmParamJSON struct {
	Default string `json:"default"`
}

// Bounds of chat content.
const (
	maxText    = 4096 // characters of a text message
	maxCaption = 1024
	maxURL     = 2048
	maxParams  = 50
	maxSource  = 4 << 10 // bytes of a send's source object
)

// others names a content field given besides the type's own ("" if none).
func (c *contentJSON) others(typ string) string {
	given := map[string]bool{"email": c.Email != nil, "text": c.Text != nil, "image": c.Image != nil, "video": c.Video != nil,
		"audio": c.Audio != nil, "file": c.File != nil, "location": c.Location != nil, "hsm": c.HSM != nil}
	for _, k := range []string{"email", "text", "image", "video", "audio", "file", "location", "hsm"} {
		if given[k] && k != typ {
			return k
		}
	}
	return ""
}

var chatTypes = map[string]bool{"text": true, "image": true, "video": true, "audio": true, "file": true, "location": true, "hsm": true}

var channelID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// fromChannel resolves from when it is a channel id: nil when from is
// empty or an email address (the email path's), a 422 naming from when
// it names no channel of the account.
func (a *API) fromChannel(r *http.Request, req *sendRequest) (*store.ConvChannel, *rest.Problem) {
	from := strings.TrimSpace(req.From)
	if from == "" || strings.Contains(from, "@") {
		return nil, nil
	}
	if !channelID.MatchString(from) {
		return nil, rest.Invalid("from", "from must be the id of one of your channels (GET /v1/channels)")
	}
	ch, err := a.store.GetConvChannel(r.Context(), rest.Principal(r.Context()).AccountID, from)
	if errors.Is(err, store.ErrNotFound) {
		return nil, rest.Invalid("from", "no channel "+from+"; GET /v1/channels lists yours")
	}
	if err != nil {
		return nil, rest.NewProblem(http.StatusInternalServerError, rest.CodeInternal, "", "could not read the channel; try again later")
	}
	if ch.Status != store.ChannelActive {
		return nil, rest.Invalid("from", "channel "+from+" is "+ch.Status)
	}
	return ch, nil
}

// sendChat sends a message of a chat type (text, image, video, audio,
// file, location, hsm) from a channel.
func (a *API) sendChat(w http.ResponseWriter, r *http.Request, req *sendRequest, ch *store.ConvChannel) error {
	if !chatTypes[req.Type] {
		return rest.Invalid("type", "type must be one of text, image, video, audio, file, location, hsm or email")
	}
	if ch == nil && strings.TrimSpace(req.From) != "" {
		return rest.Invalid("from", "a message of type "+req.Type+" is sent from a channel: from must be a channel id (GET /v1/channels)")
	}
	if ch == nil {
		return rest.Missing("from")
	}
	pr := rest.Principal(r.Context())
	m, p := buildChat(req, ch, pr.AccountID)
	if p != nil {
		return p
	}
	fb, p := a.sendFallback(r, req, ch, m) // fallback.go
	if p != nil {
		return p
	}
	discard := func() {}
	if !pr.Test && conversational(ch.Kind) {
		// The message joins (or opens) the contact's conversation.
		conv, created, err := a.store.OpenConversation(r.Context(), store.OpenConversation{AccountID: pr.AccountID, MSISDN: m.Recipients[0].Address, ChannelID: ch.ID})
		if err != nil {
			return err
		}
		m.Details.ConversationID = conv.ID
		discard = func() { a.discard(r, conv, created) }
	}
	err := a.pipeline.Accept(r.Context(), m, pipeline.Options{Test: pr.Test, Fallback: fb})
	if err != nil {
		discard()
	}
	var inv *message.Invalid
	if errors.As(err, &inv) {
		return rest.Invalid(chatField(inv.Field, req.Type), inv.Reason)
	}
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusAccepted, accepted(m, fb))
	return nil
}

// chatField maps a message model field to the request's parameter.
func chatField(f, typ string) string {
	switch f {
	case "", "body", "text", "datacoding", "content":
		return "content." + typ
	case "recipients", "recipient":
		return "to"
	case "originator", "channel":
		return "from"
	}
	return f
}

// buildChat validates a chat send and turns it into the platform's model.
func buildChat(req *sendRequest, ch *store.ConvChannel, accountID string) (*message.Message, *rest.Problem) {
	typ := req.Type
	if !chatTypes[typ] {
		return nil, rest.Invalid("type", "type must be one of text, image, video, audio, file, location, hsm or email")
	}
	if ch.Kind == message.ChannelEmail {
		return nil, rest.Invalid("type", "channel "+ch.ID+" is an email channel; it sends type email")
	}
	if ch.Kind == message.ChannelSMS && typ != "text" {
		return nil, rest.Invalid("type", "an sms channel sends type text only")
	}
	if req.Content == nil {
		return nil, rest.Missing("content")
	}
	if other := req.Content.others(typ); other != "" {
		return nil, rest.Invalid("content."+other, fmt.Sprintf("a message of type %s has content.%s only", typ, typ))
	}
	m := &message.Message{AccountID: accountID, Channel: ch.Kind, Originator: ch.Sender, Direction: message.MT,
		Reference: req.Reference, Purpose: strings.TrimSpace(req.Purpose), Categories: req.Categories,
		Details: message.Details{Report: message.ReportConversations, ChannelID: ch.ID}}
	if ch.Kind != message.ChannelSMS {
		m.Type = message.Type(typ)
	}
	if p := checkEnvelope(req, m); p != nil {
		return nil, p
	}
	c := req.Content
	switch typ {
	case "text":
		if c.Text == nil || strings.TrimSpace(*c.Text) == "" {
			return nil, rest.Missing("content.text")
		}
		if why := rest.TextFault(*c.Text, true); why != "" {
			return nil, rest.Invalid("content.text", "content.text "+why)
		}
		if n := len([]rune(*c.Text)); n > maxText {
			return nil, rest.Invalid("content.text", fmt.Sprintf("content.text has %d characters; at most %d", n, maxText))
		}
		m.Body = *c.Text
	case "image", "video", "audio", "file":
		md := map[string]*mediaJSON{"image": c.Image, "video": c.Video, "audio": c.Audio, "file": c.File}[typ]
		if md == nil {
			return nil, rest.Missing("content." + typ)
		}
		u, p := mediaURL("content."+typ+".url", md.URL)
		if p != nil {
			return nil, p
		}
		if why := rest.TextFault(md.Caption, true); why != "" {
			return nil, rest.Invalid("content."+typ+".caption", "caption "+why)
		}
		if len([]rune(md.Caption)) > maxCaption {
			return nil, rest.Invalid("content."+typ+".caption", fmt.Sprintf("a caption has at most %d characters", maxCaption))
		}
		if typ == "audio" && md.Caption != "" {
			return nil, rest.Invalid("content.audio.caption", "audio has no caption")
		}
		m.Content = &message.Content{Media: []message.Media{{Kind: typ, URL: u, Caption: md.Caption}}}
	case "location":
		l := c.Location
		if l == nil {
			return nil, rest.Missing("content.location")
		}
		if l.Latitude == nil {
			return nil, rest.Missing("content.location.latitude")
		}
		if l.Longitude == nil {
			return nil, rest.Missing("content.location.longitude")
		}
		if math.IsNaN(*l.Latitude) || *l.Latitude < -90 || *l.Latitude > 90 {
			return nil, rest.Invalid("content.location.latitude", "latitude must be from -90 to 90")
		}
		if math.IsNaN(*l.Longitude) || *l.Longitude < -180 || *l.Longitude > 180 {
			return nil, rest.Invalid("content.location.longitude", "longitude must be from -180 to 180")
		}
		m.Content = &message.Content{Location: &message.Location{Latitude: *l.Latitude, Longitude: *l.Longitude}}
	case "hsm":
		h := c.HSM
		if h == nil {
			return nil, rest.Missing("content.hsm")
		}
		if strings.TrimSpace(h.TemplateName) == "" {
			return nil, rest.Missing("content.hsm.templateName")
		}
		if h.Language == nil || strings.TrimSpace(h.Language.Code) == "" {
			return nil, rest.Missing("content.hsm.language.code")
		}
		for name, v := range map[string]string{"namespace": h.Namespace, "templateName": h.TemplateName, "language.code": h.Language.Code} {
			if why := rest.TextFault(v, false); why != "" || len(v) > 512 {
				return nil, rest.Invalid("content.hsm."+name, "content.hsm."+name+" must be one line of at most 512 characters")
			}
		}
		if len(h.Params) > maxParams {
			return nil, rest.Invalid("content.hsm.params", fmt.Sprintf("at most %d params", maxParams))
		}
		t := &message.Template{Namespace: h.Namespace, Name: strings.TrimSpace(h.TemplateName), Language: strings.TrimSpace(h.Language.Code)}
		for i, prm := range h.Params {
			if len([]rune(prm.Default)) > maxVarValue {
				return nil, rest.Invalid(fmt.Sprintf("content.hsm.params[%d].default", i), fmt.Sprintf("a param has at most %d characters", maxVarValue))
			}
			t.Params = append(t.Params, prm.Default)
		}
		m.Content = &message.Content{Template: t}
	}
	to := strings.TrimPrefix(strings.TrimSpace(req.To), "+")
	if to == "" {
		return nil, rest.Missing("to")
	}
	if strings.Trim(to, "0123456789") != "" || len(to) > 15 || len(to) < 3 {
		return nil, rest.Invalid("to", "to must be a phone number in international format (like +31612345678)")
	}
	m.Recipients = []message.Recipient{{Address: to}}
	return m, nil
}

// checkEnvelope checks what every send has: source, purpose, reference and
// reportUrl.
func checkEnvelope(req *sendRequest, m *message.Message) *rest.Problem {
	if src := strings.TrimSpace(string(req.Source)); src != "" && src != "null" {
		var compact bytes.Buffer
		if src[0] != '{' || json.Compact(&compact, []byte(src)) != nil {
			return rest.Invalid("source", "source must be an object")
		}
		if compact.Len() > maxSource {
			return rest.Invalid("source", fmt.Sprintf("source has at most %d bytes", maxSource))
		}
		m.Details.Source = compact.String()
	}
	switch m.Purpose {
	case "", "transactional", "marketing":
	default:
		return rest.Invalid("purpose", "purpose must be transactional or marketing")
	}
	if len(m.Reference) > maxReference {
		return rest.Invalid("reference", fmt.Sprintf("reference is longer than %d characters", maxReference))
	}
	if report := strings.TrimSpace(req.ReportURL); report != "" {
		u, err := url.Parse(report)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(report) > maxURL {
			return rest.Invalid("reportUrl", "reportUrl must be an absolute http or https URL")
		}
		m.ReportURL = report
	}
	return nil
}

// mediaURL checks a media URL: absolute http or https. omnigate passes it
// to the platform, which fetches it; omnigate itself fetches nothing.
func mediaURL(param, s string) (string, *rest.Problem) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", rest.Missing(param)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > maxURL || strings.ContainsAny(s, " \r\n") {
		return "", rest.Invalid(param, param+" must be an absolute http or https URL")
	}
	return s, nil
}
