package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/message"
)

// KindName is the connector kind's name.
const KindName = "whatsapp"

// DefaultBaseURL is the Graph API's, with the version the connector speaks.
const DefaultBaseURL = "https://graph.facebook.com/v21.0"

// Settings configure one WhatsApp Cloud API connector (one business phone
// number), stored encrypted like every connector's.
type Settings struct {
	// BaseURL is the Graph API with its version; default DefaultBaseURL
	// (tests and the demo point it at the simulator).
	BaseURL string `json:"baseUrl,omitempty"`
	// PhoneNumberID is the business phone number's id (not the number).
	PhoneNumberID string `json:"phoneNumberId"`
	// AccessToken is the system user's token (Bearer).
	AccessToken string `json:"accessToken"`
	// AppSecret checks webhooks' X-Hub-Signature-256.
	AppSecret string `json:"appSecret"`
	// VerifyToken answers the webhook's GET hub.challenge handshake.
	VerifyToken string `json:"verifyToken,omitempty"`
	// WABAID is the WhatsApp business account (templates).
	WABAID string `json:"wabaId,omitempty"`
}

// ParseSettings reads and checks settings, filling in the defaults.
func ParseSettings(raw []byte) (Settings, error) {
	var s Settings
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("whatsapp settings: %w", err)
	}
	if s.BaseURL == "" {
		s.BaseURL = DefaultBaseURL
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	u, err := url.Parse(s.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return s, fmt.Errorf("whatsapp settings: baseUrl must be an http(s) URL")
	}
	for _, f := range []struct{ name, v string }{{"phoneNumberId", s.PhoneNumberID}, {"accessToken", s.AccessToken}, {"appSecret", s.AppSecret}} {
		if f.v == "" {
			return s, fmt.Errorf("whatsapp settings: %s is required", f.name)
		}
	}
	if strings.ContainsAny(s.PhoneNumberID+s.WABAID, "/?#% \r\n") {
		return s, fmt.Errorf("whatsapp settings: phoneNumberId and wabaId are ids (no /, ?, # or spaces)")
	}
	if strings.ContainsAny(s.AccessToken, "\r\n") {
		return s, fmt.Errorf("whatsapp settings: accessToken must be one line")
	}
	return s, nil
}

// Check validates settings without connecting.
func Check(raw []byte) error {
	_, err := ParseSettings(raw)
	return err
}

// Kind is the whatsapp connector kind.
func Kind() channel.Kind {
	return channel.Kind{Name: KindName, Channel: message.ChannelWhatsApp, Check: Check,
		New: func(name string, settings []byte, rx channel.Receiver, log *slog.Logger) (channel.Connector, error) {
			return New(name, settings, rx, log)
		}}
}

// Connector sends over the Cloud API and takes its webhooks.
type Connector struct {
	name    string
	set     Settings
	rx      channel.Receiver
	log     *slog.Logger
	client  *http.Client
	stopped atomic.Bool
}

// New builds a connector from its settings.
func New(name string, raw []byte, rx channel.Receiver, log *slog.Logger) (*Connector, error) {
	set, err := ParseSettings(raw)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The dispatcher has up to its concurrency (64) sends in flight to
	// the one Graph host: keep that many connections alive (the default
	// transport keeps 2 idle and dials, and later closes, one for each of
	// the others: a TCP handshake per message under load).
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = MaxConns
	t.MaxIdleConns = MaxConns
	return &Connector{name: name, set: set, rx: rx, log: log.With("connector", name),
		client: &http.Client{Timeout: 30 * time.Second, Transport: t}}, nil
}

// MaxConns is how many idle connections to the Graph API a connector keeps
// for reuse (the dispatcher's default concurrency).
const MaxConns = 64

// Name implements channel.Connector.
func (c *Connector) Name() string { return c.name }

// Channel implements channel.Connector.
func (c *Connector) Channel() string { return message.ChannelWhatsApp }

// Start implements channel.Connector (HTTP needs no connection).
func (c *Connector) Start() { c.stopped.Store(false) }

// Stop implements channel.Connector.
func (c *Connector) Stop(ctx context.Context) error {
	c.stopped.Store(true)
	c.client.CloseIdleConnections()
	return nil
}

// Up implements channel.Connector: 1 until stopped.
func (c *Connector) Up() int {
	if c.stopped.Load() {
		return 0
	}
	return 1
}

// Request is the Cloud API message a submission becomes.
func Request(m *message.Message, to string) (map[string]any, error) {
	req := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
	typ := m.Type
	if typ == "" {
		typ = inferType(m.Content)
	}
	switch typ {
	case TypeText:
		req["type"] = "text"
		req["text"] = map[string]any{"body": m.Body, "preview_url": strings.Contains(m.Body, "https://")}
	case TypeImage, TypeVideo, TypeAudio, TypeFile:
		if m.Content == nil || len(m.Content.Media) == 0 {
			return nil, fmt.Errorf("no media")
		}
		md := m.Content.Media[0]
		kind := string(typ)
		if typ == TypeFile {
			kind = "document"
		}
		obj := map[string]any{}
		if id, ok := strings.CutPrefix(md.URL, "media:"); ok {
			obj["id"] = id // uploaded media (UploadMedia)
		} else {
			obj["link"] = md.URL
		}
		if md.Caption != "" && typ != TypeAudio {
			obj["caption"] = md.Caption
		}
		if typ == TypeFile {
			if u, err := url.Parse(md.URL); err == nil {
				if i := strings.LastIndexByte(u.Path, '/'); i >= 0 && i < len(u.Path)-1 {
					obj["filename"] = u.Path[i+1:]
				}
			}
		}
		req["type"] = kind
		req[kind] = obj
	case TypeLocation:
		if m.Content == nil || m.Content.Location == nil {
			return nil, fmt.Errorf("no location")
		}
		req["type"] = "location"
		req["location"] = map[string]any{"latitude": m.Content.Location.Latitude, "longitude": m.Content.Location.Longitude}
	case TypeHSM:
		if m.Content == nil || m.Content.Template == nil {
			return nil, fmt.Errorf("no template")
		}
		t := m.Content.Template
		tpl := map[string]any{"name": t.Name, "language": map[string]string{"policy": "deterministic", "code": t.Language}}
		if len(t.Params) > 0 {
			params := make([]map[string]any, len(t.Params))
			for i, p := range t.Params {
				params[i] = map[string]any{"type": "text", "text": p}
			}
			tpl["components"] = []map[string]any{{"type": "body", "parameters": params}}
		}
		if len(t.Components) > 0 {
			tpl["components"] = components(t.Components)
		}
		req["type"] = "template"
		req["template"] = tpl
	case TypeInteractive:
		if m.Content == nil || m.Content.Interactive == nil {
			return nil, fmt.Errorf("no interactive content")
		}
		req["type"] = "interactive"
		req["interactive"] = interactive(m.Content.Interactive)
	case TypeReaction:
		if m.Content == nil || m.Content.Reaction == nil {
			return nil, fmt.Errorf("no reaction")
		}
		req["type"] = "reaction"
		req["reaction"] = map[string]string{"message_id": m.Content.Reaction.MessageID, "emoji": m.Content.Reaction.Emoji}
	default:
		return nil, fmt.Errorf("type %q cannot be sent on WhatsApp", typ)
	}
	return req, nil
}

// interactive is the Cloud API's interactive object of a message.
func interactive(in *message.Interactive) map[string]any {
	out := map[string]any{"type": in.Type, "body": map[string]string{"text": in.Body}}
	if in.Header != "" {
		out["header"] = map[string]string{"type": "text", "text": in.Header}
	}
	if in.Footer != "" {
		out["footer"] = map[string]string{"text": in.Footer}
	}
	if in.Type == "button" {
		buttons := make([]map[string]any, len(in.Buttons))
		for i, b := range in.Buttons {
			buttons[i] = map[string]any{"type": "reply", "reply": map[string]string{"id": b.ID, "title": b.Title}}
		}
		out["action"] = map[string]any{"buttons": buttons}
		return out
	}
	sections := make([]map[string]any, len(in.Sections))
	for i, sec := range in.Sections {
		rows := make([]map[string]string, len(sec.Rows))
		for j, r := range sec.Rows {
			rows[j] = map[string]string{"id": r.ID, "title": r.Title}
			if r.Description != "" {
				rows[j]["description"] = r.Description
			}
		}
		sections[i] = map[string]any{"rows": rows}
		if sec.Title != "" {
			sections[i]["title"] = sec.Title
		}
	}
	out["action"] = map[string]any{"button": in.Button, "sections": sections}
	return out
}

// components are a template's components in the Cloud API's shape.
func components(cs []message.TemplateComponent) []map[string]any {
	out := make([]map[string]any, len(cs))
	for i, c := range cs {
		params := make([]map[string]any, len(c.Parameters))
		for j, p := range c.Parameters {
			v := map[string]any{"type": p.Type}
			switch p.Type {
			case "text":
				v["text"] = p.Text
			case "payload":
				v["payload"] = p.Payload
			case "currency":
				v["currency"] = map[string]any{"fallback_value": p.Text, "code": p.Currency, "amount_1000": p.Amount1000}
			case "date_time":
				v["date_time"] = map[string]any{"fallback_value": p.Text}
			case "image", "video", "document":
				if id, ok := strings.CutPrefix(p.URL, "media:"); ok {
					v[p.Type] = map[string]string{"id": id}
				} else {
					v[p.Type] = map[string]string{"link": p.URL}
				}
			}
			params[j] = v
		}
		comp := map[string]any{"type": c.Type, "parameters": params}
		if c.Type == "button" {
			comp["sub_type"], comp["index"] = c.SubType, strconv.Itoa(c.Index)
		}
		out[i] = comp
	}
	return out
}

// maxCallback is the longest biz_opaque_callback_data the Cloud API takes.
const maxCallback = 512

// Send implements channel.Connector: one POST /{phone-number-id}/messages;
// the wamid is the one part id. The message's id goes along as
// biz_opaque_callback_data, which the Cloud API echoes in every status of
// the message: the store then matches statuses through the message and
// keeps no index of wamids (random, each a page write of its own).
func (c *Connector) Send(ctx context.Context, s channel.Submission) (channel.Result, error) {
	if c.stopped.Load() {
		return channel.Result{}, &channel.TemporaryError{Reason: "connector stopped", Err: channel.ErrUnavailable}
	}
	req, err := Request(s.Message, s.Recipient.Address)
	if err != nil {
		return channel.Result{}, &channel.PermanentError{Code: CodeBadContent, Reason: err.Error()}
	}
	echoed := s.Message.ID != "" && len(s.Message.ID) <= maxCallback
	if echoed {
		req["biz_opaque_callback_data"] = s.Message.ID
	}
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := c.call(ctx, "POST", c.set.BaseURL+"/"+c.set.PhoneNumberID+"/messages", req, &out); err != nil {
		return channel.Result{}, err
	}
	if len(out.Messages) == 0 || out.Messages[0].ID == "" {
		return channel.Result{}, &channel.TemporaryError{Reason: "the Cloud API answered without a message id"}
	}
	return channel.Result{Status: message.Sent, PartIDs: []string{out.Messages[0].ID}, EchoesMessageID: echoed}, nil
}

// call does one Graph request and maps its error (see MapError).
func (c *Connector) call(ctx context.Context, method, u string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return &channel.PermanentError{Code: CodeBadContent, Reason: err.Error()}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return &channel.PermanentError{Code: CodeBadContent, Reason: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+c.set.AccessToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return &channel.TemporaryError{Reason: "the Cloud API is unreachable", After: 10 * time.Second, Err: errors.Join(channel.ErrUnavailable, err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &channel.TemporaryError{Reason: "reading the Cloud API's answer", Err: err}
	}
	if resp.StatusCode/100 == 2 {
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return &channel.TemporaryError{Reason: "the Cloud API's answer is not JSON", Err: err}
			}
		}
		return nil
	}
	var ge struct {
		Error GraphError `json:"error"`
	}
	if json.Unmarshal(raw, &ge) != nil || ge.Error.Code == 0 {
		ge.Error = GraphError{Message: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	}
	return MapError(resp.StatusCode, ge.Error)
}

// GraphError is the Graph API's error object.
type GraphError struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	FBTraceID string `json:"fbtrace_id"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// CodeBadContent is the statusErrorCode of a message the connector cannot
// map to a Cloud API request (a content type it does not carry).
const CodeBadContent = 100

// Codes of the Cloud API the mapping names.
const (
	CodeReengagement  = 131047
	CodeUndeliverable = 131026
	// CodeAccountLocked: the WhatsApp Business Account is locked
	// (restricted or disabled for a policy violation).
	CodeAccountLocked = 131031
	// CodeNotRegistered: the business phone number is not registered on
	// the Cloud API (deregistered, or moved away).
	CodeNotRegistered = 133010
)

// ReasonWindow is the reason of a recipient failed by 131047.
const ReasonWindow = "outside the 24-hour customer-service window: the contact has not written in 24 hours, only a template (hsm) may be sent (WhatsApp 131047)"

// MapError maps a Graph error (and its HTTP status) to the dispatcher's
// errors; docs/whatsapp.md has the table. Permanent and route errors carry
// the Cloud API's code as the statusErrorCode.
func MapError(status int, e GraphError) error {
	reason := strings.TrimSpace(e.Message)
	if e.ErrorData.Details != "" {
		reason += ": " + e.ErrorData.Details
	}
	if reason == "" {
		reason = fmt.Sprintf("HTTP %d", status)
	}
	reason = fmt.Sprintf("%s (WhatsApp %d)", reason, e.Code)
	switch e.Code {
	case CodeReengagement:
		return &channel.PermanentError{Code: e.Code, Reason: ReasonWindow}
	case 4, 80007, 130429, 131048, 131056, 133016:
		// rate limits: the app's, the number's, spam rate, the pair's
		return &channel.TemporaryError{Reason: "throttled: " + reason, After: time.Minute}
	case 1, 2, 131000, 131016, 133004:
		return &channel.TemporaryError{Reason: reason, After: 10 * time.Second}
	case CodeAccountLocked, CodeNotRegistered:
		// the business account is locked or the number is no longer
		// registered: nothing will go until someone fixes the account,
		// so the connector is suspended rather than retried.
		return &channel.SuspendError{Code: e.Code, Reason: reason}
	case 190, 102, 10, 200, 368, 131042, 133005:
		// the connector cannot send now (token, permission, a temporary
		// block, payment, two-step PIN): another on the route may.
		return &channel.RouteError{Code: e.Code, Reason: reason}
	}
	if e.Code == 0 {
		switch {
		case status == 429 || status >= 500:
			return &channel.TemporaryError{Reason: reason, After: 10 * time.Second}
		case status == 401 || status == 403:
			return &channel.RouteError{Code: status, Reason: reason}
		}
	}
	if status >= 500 {
		return &channel.TemporaryError{Reason: reason, After: 10 * time.Second}
	}
	code := e.Code
	if code == 0 {
		code = status
	}
	return &channel.PermanentError{Code: code, Reason: reason}
}

// UploadMedia uploads a file (POST /{phone-number-id}/media) and returns
// its media id; a message's media URL "media:<id>" sends it by id.
func (c *Connector) UploadMedia(ctx context.Context, name, mimeType string, data []byte) (string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("messaging_product", "whatsapp")
	w.WriteField("type", mimeType)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", mimeType)
	part, err := w.CreatePart(h)
	if err != nil {
		return "", err
	}
	part.Write(data)
	w.Close()
	ct := w.FormDataContentType()
	req, err := http.NewRequestWithContext(ctx, "POST", c.set.BaseURL+"/"+c.set.PhoneNumberID+"/media", &buf)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+c.set.AccessToken)
	req.Header.Set("Content-Type", ct)
	resp, err := c.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		ID    string     `json:"id"`
		Error GraphError `json:"error"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out)
	if resp.StatusCode != 200 || out.ID == "" {
		return "", MapError(resp.StatusCode, out.Error)
	}
	return out.ID, nil
}

// SubmittedTemplate is the Cloud API's answer to a template submission.
type SubmittedTemplate struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Category string `json:"category"`
}

// SubmitTemplate submits a message template for review (POST
// /{waba-id}/message_templates): components are the Cloud API's (HEADER,
// BODY, FOOTER, BUTTONS). The answer's status is PENDING, or APPROVED or
// REJECTED when the provider decided at once; later decisions come by the
// message_template_status_update webhook.
func (c *Connector) SubmitTemplate(ctx context.Context, name, language, category string, components json.RawMessage) (SubmittedTemplate, error) {
	var out SubmittedTemplate
	if c.set.WABAID == "" {
		return out, &channel.PermanentError{Code: CodeBadContent, Reason: "the connector has no wabaId: templates are submitted to the business account"}
	}
	body := map[string]any{"name": name, "language": language, "category": category, "components": components}
	if err := c.call(ctx, "POST", c.set.BaseURL+"/"+c.set.WABAID+"/message_templates", body, &out); err != nil {
		return out, err
	}
	if out.ID == "" {
		return out, &channel.TemporaryError{Reason: "the Cloud API answered without a template id"}
	}
	return out, nil
}

// PhoneNumberID is the business number's id the connector sends from.
func (c *Connector) PhoneNumberID() string { return c.set.PhoneNumberID }

// WABAID is the business account the connector's number belongs to.
func (c *Connector) WABAID() string { return c.set.WABAID }

// ProviderTemplate is a template as the provider lists it.
type ProviderTemplate struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Status   string `json:"status"`
	Category string `json:"category"`
	Reason   string `json:"rejected_reason"`
}

// maxTemplatePages bounds ListTemplates' paging.
const maxTemplatePages = 50

// ListTemplates lists the business account's templates (GET
// /{waba-id}/message_templates), following the answer's paging.next while
// it stays on the connector's base URL.
func (c *Connector) ListTemplates(ctx context.Context) ([]ProviderTemplate, error) {
	if c.set.WABAID == "" {
		return nil, nil
	}
	var out []ProviderTemplate
	next := c.set.BaseURL + "/" + c.set.WABAID + "/message_templates?fields=id,name,language,status,category,rejected_reason&limit=100"
	for page := 0; next != "" && page < maxTemplatePages; page++ {
		var resp struct {
			Data   []ProviderTemplate `json:"data"`
			Paging struct {
				Next string `json:"next"`
			} `json:"paging"`
		}
		if err := c.call(ctx, "GET", next, nil, &resp); err != nil {
			return out, err
		}
		out = append(out, resp.Data...)
		next = resp.Paging.Next
		if !strings.HasPrefix(next, c.set.BaseURL+"/") {
			next = ""
		}
	}
	return out, nil
}
