package conversations

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"path"
	"strings"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
)

// Bounds the door checks itself; the email channel's preparation checks
// sizes of the message (subject, parts, total).
const (
	maxRecipients = 50   // per request, as POST /messages
	maxVariables  = 100  // per recipient or template
	maxVarName    = 64   // characters
	maxVarValue   = 1000 // characters
	maxHeaders    = 50
	maxReference  = 512
)

// sendRequest is the Conversations envelope of POST /v1/send.
type sendRequest struct {
	To         string          `json:"to"`
	From       string          `json:"from"`
	Type       string          `json:"type"`
	Content    *contentJSON    `json:"content"`
	ReportURL  string          `json:"reportUrl"`
	Source     json.RawMessage `json:"source"`
	Reference  string          `json:"reference"`
	Purpose    string          `json:"purpose"`
	Categories []string        `json:"categories"`
	Fallback   *fallbackJSON   `json:"fallback"` // chat types only: fallback.go
}

type contentJSON struct {
	Email    *emailJSON    `json:"email"`
	Text     *string       `json:"text"`
	Image    *mediaJSON    `json:"image"`
	Video    *mediaJSON    `json:"video"`
	Audio    *mediaJSON    `json:"audio"`
	File     *mediaJSON    `json:"file"`
	Location *locationJSON `json:"location"`
	HSM      *hsmJSON      `json:"hsm"`
	// Interactive and Reaction are WhatsApp's (chat.go).
	Interactive *interactiveJSON `json:"interactive"`
	Reaction    *reactionJSON    `json:"reaction"`
}

// emailJSON is MessageBird's email content object.
type emailJSON struct {
	ID                   string            `json:"id"` // what reads give back; ignored
	To                   []toJSON          `json:"to"`
	From                 *addressJSON      `json:"from"`
	Subject              string            `json:"subject"`
	Content              *bodyJSON         `json:"content"`
	ReplyTo              string            `json:"replyTo"`
	Headers              map[string]string `json:"headers"`
	Attachments          []attachmentJSON  `json:"attachments"`
	InlineImages         []attachmentJSON  `json:"inlineImages"`
	Tracking             *trackingJSON     `json:"tracking"`
	ReportURL            string            `json:"reportUrl"`
	PerformSubstitutions bool              `json:"performSubstitutions"`
	Template             *templateJSON     `json:"template"`
}

type toJSON struct {
	Email     string            `json:"email"`
	Name      string            `json:"name"`
	Variables map[string]string `json:"variables"`
}

type addressJSON struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

type bodyJSON struct {
	HTML string `json:"html"`
	Text string `json:"text"`
}

type attachmentJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Filename  string `json:"filename"`
	Type      string `json:"type"`
	Content   string `json:"content"`
	URL       string `json:"url"` // also "URL": encoding/json matches names without case
	Length    int    `json:"length"`
	ContentID string `json:"contentId"`
}

type trackingJSON struct {
	Open  bool `json:"open"`
	Click bool `json:"click"`
}

type templateJSON struct {
	Name      string            `json:"name"`
	Language  string            `json:"language"`
	Variables map[string]string `json:"variables"`
}

// acceptedJSON is the answer to POST /v1/send. Go and PHP read id and
// status; Node passes the object through.
type acceptedJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// send handles POST /v1/send.
func (a *API) send(w http.ResponseWriter, r *http.Request) error {
	req, p := decodeSend(w, r)
	if p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	ch, p := a.fromChannel(r, req)
	if p != nil {
		return p
	}
	if req.Type != "email" && req.Type != "" {
		return a.sendChat(w, r, req, ch)
	}
	if req.Fallback != nil {
		return rest.Invalid("fallback", "an email has no fallback; fallback is for the chat types (text, image, video, audio, file, location, hsm)")
	}
	if ch != nil {
		if ch.Kind != message.ChannelEmail {
			return rest.Invalid("type", "channel "+ch.ID+" is a "+ch.Kind+" channel; type email is sent from an email channel")
		}
		if req.Content != nil && req.Content.Email != nil && req.Content.Email.From == nil {
			req.Content.Email.From = &addressJSON{Email: ch.Sender}
		}
	}
	m, p := buildEmail(req, pr.AccountID)
	if p != nil {
		return p
	}
	if ch != nil {
		m.Details.ChannelID = ch.ID
	}
	if t := req.Content.Email.Template; t != nil {
		if p := a.render(r, m, t); p != nil {
			return p
		}
	}
	err := a.pipeline.Accept(r.Context(), m, pipeline.Options{Test: pr.Test})
	var inv *message.Invalid
	if errors.As(err, &inv) {
		// The channel names its fields as the message model does; the
		// door names them as the request does.
		return rest.Invalid(wireField(inv.Field), inv.Reason)
	}
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusAccepted, acceptedJSON{ID: m.ID, Status: "accepted"})
	return nil
}

// render fills the subject, text and HTML from a stored template.
func (a *API) render(r *http.Request, m *message.Message, t *templateJSON) *rest.Problem {
	if a.templates == nil {
		return rest.Invalid("content.email.template", "stored templates are not available on this server yet; send subject and content instead")
	}
	out, err := a.templates(r.Context(), m.AccountID, t.Name, t.Language, t.Variables)
	var inv *message.Invalid
	if errors.As(err, &inv) {
		return rest.Invalid("content.email.template."+inv.Field, inv.Reason)
	}
	if err != nil {
		return rest.NewProblem(http.StatusInternalServerError, rest.CodeInternal, "", "could not render the template; try again later")
	}
	e := m.Content.Email
	e.Subject, e.HTML, m.Body = out.Subject, out.HTML, out.Text
	return nil
}

// wireField maps a message model field to the request's parameter.
func wireField(f string) string {
	switch f {
	case "", "content.email":
		return "content.email"
	case "body", "text":
		return "content.email.content.text"
	case "html":
		return "content.email.content.html"
	case "subject", "replyTo", "headers", "attachments", "to", "from":
		return "content.email." + f
	case "recipients":
		return "content.email.to"
	case "channel":
		return "type" // the email channel is not available on this node
	case "originator":
		return "content.email.from"
	}
	if strings.HasPrefix(f, "content.") {
		return f
	}
	return "content.email." + f
}

// decodeSend reads the JSON body strictly: an unknown field is an error
// naming it (a misspelt field would otherwise send a different email).
func decodeSend(w http.ResponseWriter, r *http.Request) (*sendRequest, *rest.Problem) {
	body, p := rest.ReadBody(w, r, MaxSendBody)
	if p != nil {
		return nil, p
	}
	if kind, p := rest.BodyKind(r, body); p != nil {
		return nil, p
	} else if kind != "json" {
		return nil, rest.Malformed("POST /v1/send takes a JSON object (Content-Type: application/json)")
	}
	if p := rest.CheckJSON(body); p != nil {
		return nil, p
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req sendRequest
	if err := dec.Decode(&req); err != nil {
		return nil, decodeProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, rest.Malformed("the body holds more than one JSON value")
	}
	return &req, nil
}

// decodeProblem names the parameter a decoding error is about.
func decodeProblem(err error) *rest.Problem {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return rest.Malformed("the body must be a JSON object")
		}
		return rest.Invalid(field, fmt.Sprintf("%s must be a %s, not a JSON %s", field, jsonKind(typ.Type.Kind().String()), typ.Value))
	case errors.As(err, &syn):
		return rest.Malformed(fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return rest.Invalid(name, "unknown field "+rest.Quote(name)+"; docs/conversations.md lists the fields (docs/email.md those of an email send)")
	}
	return rest.Malformed("the body is not valid JSON")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice":
		return "list"
	case "map", "struct", "ptr":
		return "object"
	}
	return "number"
}

// buildEmail validates an email send and turns it into the platform's
// model: one message, one recipient per address, each recipient's name
// and variables kept beside it (message.Email.Recipients) for compose.
func buildEmail(req *sendRequest, accountID string) (*message.Message, *rest.Problem) {
	switch req.Type {
	case "email":
	case "":
		return nil, rest.Missing("type")
	default:
		return nil, rest.Invalid("type", "type "+rest.Quote(req.Type)+" is not supported yet; this server sends type \"email\"")
	}
	if req.Content == nil || req.Content.Email == nil {
		return nil, rest.Missing("content.email")
	}
	if other := req.Content.others("email"); other != "" {
		return nil, rest.Invalid("content."+other, "a message of type email has content.email only")
	}
	in := req.Content.Email
	e := &message.Email{Subject: in.Subject, ReplyTo: strings.TrimSpace(in.ReplyTo), Substitute: in.PerformSubstitutions}
	m := &message.Message{AccountID: accountID, Channel: message.ChannelEmail, Direction: message.MT, Type: "email",
		Reference: req.Reference, Purpose: strings.TrimSpace(req.Purpose), Categories: req.Categories,
		Content: &message.Content{Email: e}, Details: message.Details{Report: message.ReportConversations}}
	if len(req.Source) > 0 && !bytes.Equal(bytes.TrimSpace(req.Source), []byte("null")) && bytes.TrimSpace(req.Source)[0] != '{' {
		return nil, rest.Invalid("source", "source must be an object")
	}
	switch m.Purpose {
	case "", "transactional", "marketing":
	default:
		return nil, rest.Invalid("purpose", "purpose must be transactional or marketing")
	}
	if len(m.Reference) > maxReference {
		return nil, rest.Invalid("reference", fmt.Sprintf("reference is longer than %d characters", maxReference))
	}
	// The sender: content.email.from, else an address in from (which the
	// Conversations API uses for a channel id; email channel ids come
	// with issue 15).
	from := in.From
	if from == nil && strings.Contains(req.From, "@") {
		from = &addressJSON{Email: req.From}
	}
	if from == nil || strings.TrimSpace(from.Email) == "" {
		return nil, rest.Missing("content.email.from")
	}
	addr, p := address("content.email.from.email", from.Email)
	if p != nil {
		return nil, p
	}
	if p := headerText("content.email.from.name", from.Name); p != nil {
		return nil, p
	}
	m.Originator, e.FromName = addr, strings.TrimSpace(from.Name)
	if e.ReplyTo != "" {
		if _, p := address("content.email.replyTo", e.ReplyTo); p != nil {
			return nil, p
		}
	}
	if p := headerText("content.email.subject", in.Subject); p != nil {
		return nil, p
	}
	if in.Template != nil {
		if in.Subject != "" || in.Content != nil {
			return nil, rest.Invalid("content.email.template", "give a template or subject and content, not both")
		}
		if strings.TrimSpace(in.Template.Name) == "" {
			return nil, rest.Missing("content.email.template.name")
		}
		if p := variables("content.email.template.variables", in.Template.Variables); p != nil {
			return nil, p
		}
	} else {
		if strings.TrimSpace(in.Subject) == "" {
			return nil, rest.Missing("content.email.subject")
		}
		if in.Content == nil || (in.Content.HTML == "" && in.Content.Text == "") {
			return nil, rest.Missing("content.email.content")
		}
		m.Body, e.HTML = in.Content.Text, in.Content.HTML
	}
	if p := headers(e, in.Headers); p != nil {
		return nil, p
	}
	if p := attachments(e, "content.email.attachments", in.Attachments, false); p != nil {
		return nil, p
	}
	if p := attachments(e, "content.email.inlineImages", in.InlineImages, true); p != nil {
		return nil, p
	}
	if in.Tracking != nil {
		e.TrackOpens, e.TrackClicks = in.Tracking.Open, in.Tracking.Click
	}
	report := strings.TrimSpace(in.ReportURL)
	if report == "" {
		report = strings.TrimSpace(req.ReportURL)
	}
	if report != "" {
		u, err := url.Parse(report)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(report) > 2048 {
			return nil, rest.Invalid("reportUrl", "reportUrl must be an absolute http or https URL")
		}
		m.ReportURL = report
	}
	if p := recipients(m, e, req.To, in.To); p != nil {
		return nil, p
	}
	return m, nil
}

// recipients adds content.email.to, or the envelope's to when that is
// empty; an address given twice is sent once.
func recipients(m *message.Message, e *message.Email, envelope string, to []toJSON) *rest.Problem {
	param := "content.email.to"
	if len(to) == 0 && strings.TrimSpace(envelope) != "" {
		to, param = []toJSON{{Email: envelope}}, "to"
	}
	if len(to) == 0 {
		return rest.Missing("content.email.to")
	}
	if len(to) > maxRecipients {
		return rest.Invalid(param, fmt.Sprintf("%d recipients given; at most %d per request", len(to), maxRecipients))
	}
	seen := map[string]bool{}
	personal := false
	var parts []message.EmailRecipient
	for i, t := range to {
		name := param
		if param != "to" {
			name = fmt.Sprintf("%s[%d]", param, i)
		}
		addr, p := address(name+".email", t.Email)
		if param == "to" {
			addr, p = address("to", t.Email)
		}
		if p != nil {
			return p
		}
		if p := headerText(name+".name", t.Name); p != nil {
			return p
		}
		if p := variables(name+".variables", t.Variables); p != nil {
			return p
		}
		key := strings.ToLower(addr)
		if seen[key] {
			continue
		}
		seen[key] = true
		m.Recipients = append(m.Recipients, message.Recipient{Address: addr})
		parts = append(parts, message.EmailRecipient{Name: strings.TrimSpace(t.Name), Variables: t.Variables})
		personal = personal || t.Name != "" || len(t.Variables) > 0
	}
	if personal {
		e.Recipients = parts
	}
	return nil
}

// address checks one email address: a bare addr-spec (no display name,
// no angle brackets), with a domain that has a dot.
func address(param, s string) (string, *rest.Problem) {
	s = strings.TrimSpace(s)
	bad := func() (string, *rest.Problem) {
		return "", rest.Invalid(param, rest.Quote(s)+" is not a valid email address (like name@example.com)")
	}
	if s == "" {
		return "", rest.Missing(param)
	}
	if len(s) > 254 || strings.ContainsAny(s, "\r\n<>, \t") {
		return bad()
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return bad()
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return bad()
	}
	return s, nil
}

// headerText refuses what would break out of a header: line breaks (header
// injection) and other control characters.
func headerText(param, s string) *rest.Problem {
	if strings.ContainsAny(s, "\r\n") {
		return rest.Invalid(param, param+" must be one line: a line break would start another header")
	}
	if why := rest.TextFault(s, false); why != "" {
		return rest.Invalid(param, param+" "+why)
	}
	return nil
}

// reservedHeaders are set by omnigate and cannot be given in headers.
var reservedHeaders = map[string]bool{"from": true, "to": true, "cc": true, "bcc": true, "subject": true, "date": true,
	"message-id": true, "mime-version": true, "content-type": true, "content-transfer-encoding": true, "return-path": true,
	"dkim-signature": true, "sender": true, "reply-to": true, "list-unsubscribe": true, "list-unsubscribe-post": true,
	"received": true}

func headers(e *message.Email, in map[string]string) *rest.Problem {
	if len(in) > maxHeaders {
		return rest.Invalid("content.email.headers", fmt.Sprintf("at most %d headers", maxHeaders))
	}
	for k, v := range in {
		param := "content.email.headers." + k
		if k == "" || len(k) > 76 || strings.IndexFunc(k, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ':' }) >= 0 {
			return rest.Invalid("content.email.headers", "header name "+rest.Quote(k)+" is not a valid header field name (printable ASCII, no colon or space)")
		}
		if reservedHeaders[strings.ToLower(k)] {
			return rest.Invalid(param, "header "+k+" is set by omnigate; give it with its own field (from, to, subject, replyTo …) if it has one")
		}
		if p := headerText(param, v); p != nil {
			return p
		}
	}
	if len(in) > 0 {
		e.Headers = in
	}
	return nil
}

// attachments decodes attachments given inline (base64). Attachments by
// URL are refused: omnigate fetches nothing from outside on a sender's
// behalf (it would be a request forgery path into the operator's network).
func attachments(e *message.Email, param string, in []attachmentJSON, inline bool) *rest.Problem {
	for i, a := range in {
		p := fmt.Sprintf("%s[%d]", param, i)
		if a.URL != "" {
			return rest.Invalid(p+".url", "attachments by URL are not fetched: omnigate fetches nothing from outside; send the file in content (base64)")
		}
		name := a.Filename
		if name == "" {
			name = a.Name
		}
		name = strings.TrimSpace(name)
		if name == "" {
			return rest.Missing(p + ".name")
		}
		if pr := headerText(p+".name", name); pr != nil {
			return pr
		}
		if strings.ContainsAny(name, `/\"`) {
			return rest.Invalid(p+".name", "a file name has no / \\ or \"")
		}
		ct := strings.TrimSpace(a.Type)
		if ct == "" {
			if ct = mime.TypeByExtension(path.Ext(name)); ct == "" {
				ct = "application/octet-stream"
			}
		} else if mt, _, err := mime.ParseMediaType(ct); err != nil || !strings.Contains(mt, "/") || strings.ContainsAny(ct, "\r\n") {
			return rest.Invalid(p+".type", rest.Quote(ct)+" is not a media type (like application/pdf)")
		}
		if a.Content == "" {
			return rest.Missing(p + ".content")
		}
		data, err := base64.StdEncoding.DecodeString(a.Content)
		if err != nil {
			if data, err = base64.RawStdEncoding.DecodeString(a.Content); err != nil {
				return rest.Invalid(p+".content", "content must be the file in base64")
			}
		}
		at := message.Attachment{Name: name, ContentType: ct, Data: data, Inline: inline}
		if inline {
			cid := strings.Trim(strings.TrimSpace(a.ContentID), "<>")
			if cid == "" {
				return rest.Missing(p + ".contentId")
			}
			if pr := headerText(p+".contentId", cid); pr != nil {
				return pr
			}
			if strings.ContainsAny(cid, " <>\"") {
				return rest.Invalid(p+".contentId", "a content id has no spaces, quotes or angle brackets")
			}
			at.ContentID = cid
		}
		e.Attachments = append(e.Attachments, at)
	}
	return nil
}

// variables checks substitution variables: names of letters, digits and
// _ . -, values of one line or more, bounded.
func variables(param string, vars map[string]string) *rest.Problem {
	if len(vars) > maxVariables {
		return rest.Invalid(param, fmt.Sprintf("at most %d variables", maxVariables))
	}
	for k, v := range vars {
		if k == "" || len(k) > maxVarName || strings.IndexFunc(k, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-')
		}) >= 0 {
			return rest.Invalid(param, "variable name "+rest.Quote(k)+fmt.Sprintf(" must be 1 to %d letters, digits, _ . or -", maxVarName))
		}
		if len([]rune(v)) > maxVarValue {
			return rest.Invalid(param+"."+k, fmt.Sprintf("a variable's value has at most %d characters", maxVarValue))
		}
	}
	return nil
}
