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
	// ID and MimeType are an inbound media's at the provider (reads
	// only); Filename a document's name.
	ID       string `json:"id,omitempty"`
	MimeType string `json:"mimeType,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type locationJSON struct {
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
}

type hsmJSON struct {
	Namespace    string             `json:"namespace"`
	TemplateName string             `json:"templateName"`
	Language     *hsmLangJSON       `json:"language"`
	Params       []hsmParamJSON     `json:"params,omitempty"`
	Components   []hsmComponentJSON `json:"components,omitempty"`
}

// hsmComponentJSON is a template component's parameters (MessageBird's
// shape of the Cloud API's).
type hsmComponentJSON struct {
	Type       string                  `json:"type"`
	SubType    string                  `json:"sub_type,omitempty"`
	Index      *int                    `json:"index,omitempty"`
	Parameters []hsmComponentParamJSON `json:"parameters"`
}

type hsmComponentParamJSON struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Payload  string `json:"payload,omitempty"`
	Currency *struct {
		CurrencyCode string `json:"currencyCode"`
		Amount       int64  `json:"amount"`
	} `json:"currency,omitempty"`
	DateTime string     `json:"dateTime,omitempty"`
	Image    *mediaJSON `json:"image,omitempty"`
	Video    *mediaJSON `json:"video,omitempty"`
	Document *mediaJSON `json:"document,omitempty"`
}

// interactiveJSON is an interactive message (reply buttons or a list),
// and on inbound messages the reply to one.
type interactiveJSON struct {
	Type   string      `json:"type"`
	Header *headerJSON `json:"header,omitempty"`
	Body   *textJSON   `json:"body,omitempty"`
	Footer *textJSON   `json:"footer,omitempty"`
	Action *actionJSON `json:"action,omitempty"`
	Reply  *replyJSON  `json:"reply,omitempty"`
}

type headerJSON struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type textJSON struct {
	Text string `json:"text"`
}

type actionJSON struct {
	Button   string        `json:"button,omitempty"`
	Buttons  []buttonJSON  `json:"buttons,omitempty"`
	Sections []sectionJSON `json:"sections,omitempty"`
}

// buttonJSON is a reply button: MessageBird's flat {id, type, title} or
// the Cloud API's {type: reply, reply: {id, title}}.
type buttonJSON struct {
	ID    string     `json:"id,omitempty"`
	Type  string     `json:"type"`
	Title string     `json:"title,omitempty"`
	Reply *replyJSON `json:"reply,omitempty"`
}

type sectionJSON struct {
	Title string    `json:"title,omitempty"`
	Rows  []rowJSON `json:"rows"`
}

type rowJSON struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

type replyJSON struct {
	ID    string `json:"id,omitempty"`
	Title string `json:"title"`
}

// reactionJSON is an emoji on a message: messageId is a WhatsApp message
// id (wamid) or the id of an inbound message GET /v1/messages shows.
type reactionJSON struct {
	MessageID string `json:"messageId"`
	Emoji     string `json:"emoji"`
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
		"audio": c.Audio != nil, "file": c.File != nil, "location": c.Location != nil, "hsm": c.HSM != nil,
		"interactive": c.Interactive != nil, "reaction": c.Reaction != nil}
	for _, k := range []string{"email", "text", "image", "video", "audio", "file", "location", "hsm", "interactive", "reaction"} {
		if given[k] && k != typ {
			return k
		}
	}
	return ""
}

var chatTypes = map[string]bool{"text": true, "image": true, "video": true, "audio": true, "file": true, "location": true, "hsm": true,
	"interactive": true, "reaction": true}

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
		return rest.Invalid("type", "type must be one of text, image, video, audio, file, location, hsm, interactive, reaction or email")
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
	if p := a.checkChat(r, ch, m); p != nil {
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
		return nil, rest.Invalid("type", "type must be one of text, image, video, audio, file, location, hsm, interactive, reaction or email")
	}
	if (typ == "interactive" || typ == "reaction") && ch.Kind != whatsApp {
		return nil, rest.Invalid("type", "type "+typ+" is sent from a WhatsApp channel")
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
		if md.ID != "" || md.MimeType != "" {
			return nil, rest.Invalid("content."+typ+".id", "media is sent by url; id and mimeType describe received media")
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
		if len(h.Params) > 0 && len(h.Components) > 0 {
			return nil, rest.Invalid("content.hsm.components", "give params or components, not both")
		}
		comps, p := templateComponents(h.Components)
		if p != nil {
			return nil, p
		}
		t.Components = comps
		m.Content = &message.Content{Template: t}
	case "interactive":
		in, p := buildInteractive(c.Interactive)
		if p != nil {
			return nil, p
		}
		m.Content = &message.Content{Interactive: in}
	case "reaction":
		rc := c.Reaction
		if rc == nil {
			return nil, rest.Missing("content.reaction")
		}
		if strings.TrimSpace(rc.MessageID) == "" {
			return nil, rest.Missing("content.reaction.messageId")
		}
		if why := rest.TextFault(rc.MessageID, false); why != "" || len(rc.MessageID) > 256 {
			return nil, rest.Invalid("content.reaction.messageId", "messageId is a message id of at most 256 characters")
		}
		m.Content = &message.Content{Reaction: &message.Reaction{MessageID: strings.TrimSpace(rc.MessageID), Emoji: rc.Emoji}}
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

// templateComponents turns MessageBird's hsm components into the model's.
func templateComponents(in []hsmComponentJSON) ([]message.TemplateComponent, *rest.Problem) {
	if len(in) > 10 {
		return nil, rest.Invalid("content.hsm.components", "at most 10 components")
	}
	var out []message.TemplateComponent
	for i, c := range in {
		field := fmt.Sprintf("content.hsm.components[%d]", i)
		tc := message.TemplateComponent{Type: strings.ToLower(c.Type), SubType: strings.ToLower(c.SubType)}
		if c.Index != nil {
			tc.Index = *c.Index
		}
		if len(c.Parameters) > maxParams {
			return nil, rest.Invalid(field+".parameters", fmt.Sprintf("at most %d parameters", maxParams))
		}
		for j, p := range c.Parameters {
			pf := fmt.Sprintf("%s.parameters[%d]", field, j)
			tp := message.TemplateParam{Type: p.Type, Text: p.Text, Payload: p.Payload, DateTime: p.DateTime}
			for _, v := range []string{p.Text, p.Payload, p.DateTime} {
				if len([]rune(v)) > maxVarValue {
					return nil, rest.Invalid(pf, fmt.Sprintf("a parameter has at most %d characters", maxVarValue))
				}
			}
			switch p.Type {
			case "currency":
				if p.Currency == nil {
					return nil, rest.Missing(pf + ".currency")
				}
				tp.Currency, tp.Amount1000 = strings.ToUpper(p.Currency.CurrencyCode), p.Currency.Amount
				if tp.Text == "" {
					tp.Text = fmt.Sprintf("%.2f %s", float64(p.Currency.Amount)/1000, tp.Currency)
				}
			case "date_time":
				if p.DateTime == "" {
					return nil, rest.Missing(pf + ".dateTime")
				}
				if tp.Text == "" {
					tp.Text = p.DateTime
				}
			case "image", "video", "document":
				md := map[string]*mediaJSON{"image": p.Image, "video": p.Video, "document": p.Document}[p.Type]
				if md == nil {
					return nil, rest.Missing(pf + "." + p.Type)
				}
				u, pr := mediaURL(pf+"."+p.Type+".url", md.URL)
				if pr != nil {
					return nil, pr
				}
				tp.URL = u
			}
			tc.Parameters = append(tc.Parameters, tp)
		}
		out = append(out, tc)
	}
	return out, nil
}

// buildInteractive turns an interactive object into the model's; the
// channel's preparation checks it against the Cloud API's bounds.
func buildInteractive(in *interactiveJSON) (*message.Interactive, *rest.Problem) {
	if in == nil {
		return nil, rest.Missing("content.interactive")
	}
	if in.Reply != nil {
		return nil, rest.Invalid("content.interactive.reply", "reply is what an inbound message answered; a message sends buttons or a list")
	}
	if in.Type == "" {
		return nil, rest.Missing("content.interactive.type")
	}
	out := &message.Interactive{Type: in.Type}
	if in.Body != nil {
		out.Body = in.Body.Text
	}
	if in.Header != nil {
		if in.Header.Type != "" && in.Header.Type != "text" {
			return nil, rest.Invalid("content.interactive.header.type", "a header is of type text")
		}
		out.Header = in.Header.Text
	}
	if in.Footer != nil {
		out.Footer = in.Footer.Text
	}
	if in.Action == nil {
		return nil, rest.Missing("content.interactive.action")
	}
	out.Button = in.Action.Button
	for i, b := range in.Action.Buttons {
		if b.Type != "" && b.Type != "reply" {
			return nil, rest.Invalid(fmt.Sprintf("content.interactive.action.buttons[%d].type", i), "a button is of type reply")
		}
		ch := message.Choice{ID: b.ID, Title: b.Title}
		if b.Reply != nil {
			ch = message.Choice{ID: b.Reply.ID, Title: b.Reply.Title}
		}
		out.Buttons = append(out.Buttons, ch)
	}
	for _, sec := range in.Action.Sections {
		s := message.Section{Title: sec.Title}
		for _, r := range sec.Rows {
			s.Rows = append(s.Rows, message.Choice{ID: r.ID, Title: r.Title, Description: r.Description})
		}
		out.Sections = append(out.Sections, s)
	}
	for _, t := range []string{out.Body, out.Header, out.Footer, out.Button} {
		if why := rest.TextFault(t, true); why != "" {
			return nil, rest.Invalid("content.interactive", "content.interactive "+why)
		}
	}
	return out, nil
}

// checkChat runs the checks a chat message needs beyond its content's
// shape, on every path that sends one (send, conversation start and
// reply): a WhatsApp template against the channel's registry, a
// reaction's target resolved to the provider's id.
func (a *API) checkChat(r *http.Request, ch *store.ConvChannel, m *message.Message) *rest.Problem {
	if ch.Kind == whatsApp && m.Content != nil && m.Content.Template != nil {
		if p := a.checkTemplate(r, ch, m.Content.Template); p != nil {
			return p
		}
	}
	if m.Content != nil && m.Content.Reaction != nil {
		return a.reactionTarget(r, ch, m.Content.Reaction)
	}
	return nil
}

// reactionTarget resolves a reaction's messageId to the provider's id: a
// wamid is taken as it is; the id of a WhatsApp message of the account
// becomes its wamid (an inbound one's, or an outbound one's once sent).
func (a *API) reactionTarget(r *http.Request, ch *store.ConvChannel, rc *message.Reaction) *rest.Problem {
	if strings.HasPrefix(rc.MessageID, "wamid.") {
		return nil
	}
	bad := rest.Invalid("content.reaction.messageId", "messageId must be a WhatsApp message id (wamid.…) or the id of a WhatsApp message of yours")
	internal := rest.NewProblem(http.StatusInternalServerError, rest.CodeInternal, "", "could not read the message; try again later")
	m, err := a.store.GetMessage(r.Context(), ch.AccountID, rc.MessageID)
	if errors.Is(err, store.ErrNotFound) || err == nil && m.Channel != whatsApp {
		return bad
	}
	if err != nil {
		return internal
	}
	if m.Direction == message.MO {
		if m.Content == nil || m.Content.ProviderID == "" {
			return bad
		}
		rc.MessageID = m.Content.ProviderID
		return nil
	}
	ids, err := a.store.PartProviderIDs(r.Context(), ch.AccountID, m.ID)
	if err != nil {
		return internal
	}
	if len(ids) == 0 {
		return rest.Invalid("content.reaction.messageId", "message "+m.ID+" has not reached WhatsApp yet; react once it is sent")
	}
	rc.MessageID = ids[0]
	return nil
}
