package conversations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// The WhatsApp template registry in the shape of MessageBird's
// Integrations API (/v2/platforms/whatsapp/templates): an account's
// templates per WhatsApp channel, one variant per name and language,
// submitted to the provider through the channel's connector and kept up
// to date by the provider's status webhooks. POST /v1/send with type hsm
// checks a template against it.

// SubmitResult is what the provider answered a template submission.
type SubmitResult struct {
	Connector, WABAID, ProviderID, Status, Category string
}

// SubmitError is a submission the provider (or the missing connector)
// refused: answered 422 naming Field.
type SubmitError struct{ Field, Reason string }

func (e *SubmitError) Error() string { return e.Field + ": " + e.Reason }

// TemplateSubmitter submits a template for review through the connector of
// a WhatsApp channel's number (sender: its phone number id); the app wires
// it, as doors never reach connectors. A *SubmitError is the caller's
// problem; any other error the provider's or the platform's.
type TemplateSubmitter func(ctx context.Context, sender, name, language, category string, components json.RawMessage) (SubmitResult, error)

// SetTemplateSubmitter enables POST /v2/platforms/whatsapp/templates.
func (a *API) SetTemplateSubmitter(f TemplateSubmitter) { a.submit = f }

func (a *API) registerTemplates(mux *http.ServeMux) {
	const base = "/v2/platforms/whatsapp/templates"
	a.rest.Handle(mux, "POST "+base, a.createTemplate)
	a.rest.Handle(mux, "GET "+base, a.listTemplates)
	a.rest.Handle(mux, "GET "+base+"/{name}", a.templateVariants)
	a.rest.Handle(mux, "GET "+base+"/{name}/{language}", a.getTemplate)
	a.rest.Handle(mux, "DELETE "+base+"/{name}", a.deleteTemplate)
	a.rest.Handle(mux, "DELETE "+base+"/{name}/{language}", a.deleteTemplate)
	rest.MethodNotAllowed(mux, base, base+"/{name}", base+"/{name}/{language}")
}

// TemplateJSON is a template variant on the wire.
type TemplateJSON struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Language       string          `json:"language"`
	Category       string          `json:"category"`
	Components     json.RawMessage `json:"components"`
	Status         string          `json:"status"`
	RejectedReason string          `json:"rejectedReason,omitempty"`
	ChannelID      string          `json:"channelId"`
	WABAID         string          `json:"wabaId"`
	ProviderID     string          `json:"providerId,omitempty"`
	Params         int             `json:"params"`
	CreatedAt      string          `json:"createdAt"`
	UpdatedAt      string          `json:"updatedAt"`
}

func renderTemplate(t *store.WATemplate) TemplateJSON {
	return TemplateJSON{ID: t.ID, Name: t.Name, Language: t.Language, Category: t.Category, Components: json.RawMessage(t.Components),
		Status: t.Status, RejectedReason: t.RejectedReason, ChannelID: t.ChannelID, WABAID: t.WABAID, ProviderID: t.ProviderID,
		Params: t.Params, CreatedAt: timeText(t.CreatedAt), UpdatedAt: timeText(t.UpdatedAt)}
}

type createTemplateJSON struct {
	Name       string          `json:"name"`
	Language   string          `json:"language"`
	Category   string          `json:"category"`
	Components json.RawMessage `json:"components"`
	ChannelID  string          `json:"channelId"`
	// AllowCategoryChange is MessageBird's and Meta's; the provider
	// decides, omnigate records the category it answers.
	AllowCategoryChange bool `json:"allowCategoryChange"`
}

var (
	templateName = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	languageCode = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
	placeholder  = regexp.MustCompile(`\{\{\s*([0-9]+)\s*\}\}`)
)

// templateComponent is a component as submitted (the Cloud API's shape).
type templateComponent struct {
	Type    string `json:"type"`
	Format  string `json:"format"`
	Text    string `json:"text"`
	Buttons []struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		URL         string `json:"url"`
		PhoneNumber string `json:"phone_number"`
	} `json:"buttons"`
	Example json.RawMessage `json:"example"`
}

// CheckComponents checks a template's components and counts the
// parameters a message of it carries: the {{n}} of the header and body
// texts and of URL buttons, and one for a media header.
func CheckComponents(raw json.RawMessage) (int, *rest.Problem) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return 0, rest.Missing("components")
	}
	var cs []templateComponent
	if err := json.Unmarshal(raw, &cs); err != nil {
		return 0, rest.Invalid("components", "components must be a list of component objects (type, text, format, buttons)")
	}
	seen := map[string]bool{}
	count := func(field, text string) (int, *rest.Problem) {
		nums := map[int]bool{}
		for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
			n, _ := strconv.Atoi(m[1])
			nums[n] = true
		}
		for i := 1; i <= len(nums); i++ {
			if !nums[i] {
				return 0, rest.Invalid(field, "placeholders are numbered {{1}}, {{2}} … without gaps")
			}
		}
		return len(nums), nil
	}
	params := 0
	for i, c := range cs {
		field := fmt.Sprintf("components[%d]", i)
		typ := strings.ToUpper(c.Type)
		if seen[typ] {
			return 0, rest.Invalid(field+".type", "a template has at most one "+typ+" component")
		}
		seen[typ] = true
		switch typ {
		case "HEADER":
			switch strings.ToUpper(c.Format) {
			case "TEXT", "":
				if strings.TrimSpace(c.Text) == "" || utf8.RuneCountInString(c.Text) > 60 {
					return 0, rest.Invalid(field+".text", "a text header has 1 to 60 characters")
				}
				n, p := count(field+".text", c.Text)
				if p != nil {
					return 0, p
				}
				if n > 1 {
					return 0, rest.Invalid(field+".text", "a header has at most one placeholder")
				}
				params += n
			case "IMAGE", "VIDEO", "DOCUMENT", "LOCATION":
				params++
			default:
				return 0, rest.Invalid(field+".format", "a header's format is TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION")
			}
		case "BODY":
			if strings.TrimSpace(c.Text) == "" || utf8.RuneCountInString(c.Text) > 1024 {
				return 0, rest.Invalid(field+".text", "a body has 1 to 1024 characters")
			}
			n, p := count(field+".text", c.Text)
			if p != nil {
				return 0, p
			}
			params += n
		case "FOOTER":
			if strings.TrimSpace(c.Text) == "" || utf8.RuneCountInString(c.Text) > 60 || placeholder.MatchString(c.Text) {
				return 0, rest.Invalid(field+".text", "a footer has 1 to 60 characters and no placeholder")
			}
		case "BUTTONS":
			if len(c.Buttons) == 0 || len(c.Buttons) > 10 {
				return 0, rest.Invalid(field+".buttons", "1 to 10 buttons")
			}
			for j, b := range c.Buttons {
				bf := fmt.Sprintf("%s.buttons[%d]", field, j)
				if strings.TrimSpace(b.Text) == "" || utf8.RuneCountInString(b.Text) > 25 {
					return 0, rest.Invalid(bf+".text", "a button's text has 1 to 25 characters")
				}
				switch strings.ToUpper(b.Type) {
				case "QUICK_REPLY":
				case "URL":
					if !strings.HasPrefix(b.URL, "https://") && !strings.HasPrefix(b.URL, "http://") {
						return 0, rest.Invalid(bf+".url", "a URL button needs an http or https url")
					}
					n, p := count(bf+".url", b.URL)
					if p != nil {
						return 0, p
					}
					params += n
				case "PHONE_NUMBER":
					if strings.TrimSpace(b.PhoneNumber) == "" {
						return 0, rest.Missing(bf + ".phone_number")
					}
				default:
					return 0, rest.Invalid(bf+".type", "a button is QUICK_REPLY, URL or PHONE_NUMBER")
				}
			}
		default:
			return 0, rest.Invalid(field+".type", "a component is HEADER, BODY, FOOTER or BUTTONS")
		}
	}
	if !seen["BODY"] {
		return 0, rest.Invalid("components", "a template needs a BODY component")
	}
	return params, nil
}

// whatsAppChannel resolves the channel a template request is about: the
// given id, else the account's only WhatsApp channel.
func (a *API) whatsAppChannel(r *http.Request, id string, required bool) (*store.ConvChannel, *rest.Problem) {
	acct := rest.Principal(r.Context()).AccountID
	if id != "" {
		ch, err := a.store.GetConvChannel(r.Context(), acct, id)
		if errors.Is(err, store.ErrNotFound) || err == nil && ch.Kind != whatsApp {
			return nil, rest.Invalid("channelId", "no WhatsApp channel "+rest.Quote(id)+"; GET /v1/channels lists yours")
		}
		if err != nil {
			return nil, rest.NewProblem(http.StatusInternalServerError, rest.CodeInternal, "", "could not read the channel; try again later")
		}
		return ch, nil
	}
	if !required {
		return nil, nil
	}
	list, _, err := a.store.ListConvChannels(r.Context(), acct, 1000, 0)
	if err != nil {
		return nil, rest.NewProblem(http.StatusInternalServerError, rest.CodeInternal, "", "could not read the channels; try again later")
	}
	var found *store.ConvChannel
	for _, c := range list {
		if c.Kind == whatsApp && c.Status == store.ChannelActive {
			if found != nil {
				return nil, rest.Missing("channelId")
			}
			found = c
		}
	}
	if found == nil {
		return nil, rest.Invalid("channelId", "the account has no WhatsApp channel; add one with omnigate channel add --kind whatsapp")
	}
	return found, nil
}

// createTemplate handles POST /v2/platforms/whatsapp/templates.
func (a *API) createTemplate(w http.ResponseWriter, r *http.Request) error {
	if rest.Principal(r.Context()).Test {
		return rest.TestKeyRefused("submit WhatsApp templates")
	}
	body, p := rest.ReadBody(w, r, 1<<20)
	if p != nil {
		return p
	}
	if p := rest.CheckJSON(body); p != nil {
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req createTemplateJSON
	if err := dec.Decode(&req); err != nil {
		return decodeProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return rest.Malformed("the body holds more than one JSON value")
	}
	if req.Name == "" {
		return rest.Missing("name")
	}
	if !templateName.MatchString(req.Name) {
		return rest.Invalid("name", "a template name is lower-case letters, digits and _ (at most 512)")
	}
	if req.Language == "" {
		return rest.Missing("language")
	}
	if !languageCode.MatchString(req.Language) {
		return rest.Invalid("language", "a language is a code like en or en_US")
	}
	category := strings.ToUpper(strings.TrimSpace(req.Category))
	switch category {
	case "MARKETING", "UTILITY", "AUTHENTICATION":
	case "":
		return rest.Missing("category")
	default:
		return rest.Invalid("category", "category is MARKETING, UTILITY or AUTHENTICATION")
	}
	params, p := CheckComponents(req.Components)
	if p != nil {
		return p
	}
	ch, p := a.whatsAppChannel(r, strings.TrimSpace(req.ChannelID), true)
	if p != nil {
		return p
	}
	acct := rest.Principal(r.Context()).AccountID
	if _, err := a.store.GetWATemplate(r.Context(), acct, ch.ID, req.Name, req.Language); err == nil {
		return rest.NewProblem(http.StatusConflict, rest.CodeInvalidParams, "language", "template "+req.Name+" already has a "+req.Language+" variant on this channel")
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if a.submit == nil {
		return rest.Invalid("channelId", "templates cannot be submitted on this server: no WhatsApp connector is wired")
	}
	res, err := a.submit(r.Context(), ch.Sender, req.Name, req.Language, category, req.Components)
	var se *SubmitError
	if errors.As(err, &se) {
		return rest.Invalid(se.Field, se.Reason)
	}
	if err != nil {
		return rest.NewProblem(http.StatusBadGateway, rest.CodeInternal, "", "the provider did not take the template: "+err.Error())
	}
	if res.Category != "" {
		category = strings.ToUpper(res.Category)
	}
	status := strings.ToUpper(res.Status)
	if status == "" {
		status = store.TemplatePending
	}
	t := &store.WATemplate{ID: ids.New(), AccountID: acct, ChannelID: ch.ID, Connector: res.Connector, WABAID: res.WABAID,
		Name: req.Name, Language: req.Language, Category: category, Components: string(req.Components), Params: params,
		Status: status, ProviderID: res.ProviderID}
	if err := a.store.CreateWATemplate(r.Context(), t); errors.Is(err, store.ErrConflict) {
		return rest.NewProblem(http.StatusConflict, rest.CodeInvalidParams, "language", "template "+req.Name+" already has a "+req.Language+" variant on this channel")
	} else if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusCreated, renderTemplate(t))
	return nil
}

type templateListJSON struct {
	Offset     int            `json:"offset"`
	Limit      int            `json:"limit"`
	Count      int            `json:"count"`
	TotalCount int            `json:"totalCount"`
	Items      []TemplateJSON `json:"items"`
}

// listTemplates handles GET /v2/platforms/whatsapp/templates (limit,
// offset, channelId).
func (a *API) listTemplates(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name := range q {
		if name != "limit" && name != "offset" && name != "channelId" {
			return rest.Invalid(name, "unknown parameter "+rest.Quote(name)+"; this list takes limit, offset and channelId")
		}
	}
	limit, offset, p := rest.Paging(q)
	if p != nil {
		return p
	}
	chID := ""
	if id := q.Get("channelId"); id != "" {
		ch, p := a.whatsAppChannel(r, id, false)
		if p != nil {
			return p
		}
		chID = ch.ID
	}
	list, total, err := a.store.ListWATemplates(r.Context(), rest.Principal(r.Context()).AccountID, chID, "", limit, offset)
	if err != nil {
		return err
	}
	out := templateListJSON{Offset: offset, Limit: limit, Count: len(list), TotalCount: total, Items: []TemplateJSON{}}
	for _, t := range list {
		out.Items = append(out.Items, renderTemplate(t))
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

// templateVariants handles GET …/templates/{name}: its language variants.
func (a *API) templateVariants(w http.ResponseWriter, r *http.Request) error {
	ch, p := a.whatsAppChannel(r, r.URL.Query().Get("channelId"), false)
	if p != nil {
		return p
	}
	chID := ""
	if ch != nil {
		chID = ch.ID
	}
	list, _, err := a.store.ListWATemplates(r.Context(), rest.Principal(r.Context()).AccountID, chID, r.PathValue("name"), maxLimit, 0)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "template not found")
	}
	out := make([]TemplateJSON, len(list))
	for i, t := range list {
		out[i] = renderTemplate(t)
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

// getTemplate handles GET …/templates/{name}/{language}.
func (a *API) getTemplate(w http.ResponseWriter, r *http.Request) error {
	list, _, err := a.store.ListWATemplates(r.Context(), rest.Principal(r.Context()).AccountID, r.URL.Query().Get("channelId"), r.PathValue("name"), maxLimit, 0)
	if err != nil {
		return err
	}
	for _, t := range list {
		if t.Language == r.PathValue("language") {
			rest.WriteJSON(w, http.StatusOK, renderTemplate(t))
			return nil
		}
	}
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "template not found")
}

// deleteTemplate handles DELETE …/templates/{name}[/{language}]: the
// registry forgets the variants (the provider keeps its copy).
func (a *API) deleteTemplate(w http.ResponseWriter, r *http.Request) error {
	if rest.Principal(r.Context()).Test {
		return rest.TestKeyRefused("delete WhatsApp templates")
	}
	_, err := a.store.DeleteWATemplates(r.Context(), rest.Principal(r.Context()).AccountID, r.URL.Query().Get("channelId"),
		r.PathValue("name"), r.PathValue("language"))
	if errors.Is(err, store.ErrNotFound) {
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "template not found")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkTemplate checks an hsm message against the channel's registry:
// the template and language exist on the channel, are APPROVED, and the
// message carries as many parameters as the template has placeholders.
// It sets the template's category on the message.
func (a *API) checkTemplate(r *http.Request, ch *store.ConvChannel, t *message.Template) *rest.Problem {
	reg, err := a.store.GetWATemplate(r.Context(), ch.AccountID, ch.ID, t.Name, t.Language)
	if errors.Is(err, store.ErrNotFound) {
		langs := []string{}
		if list, _, err := a.store.ListWATemplates(r.Context(), ch.AccountID, ch.ID, t.Name, maxLimit, 0); err == nil {
			for _, v := range list {
				langs = append(langs, v.Language)
			}
		}
		if len(langs) > 0 {
			return rest.Invalid("content.hsm.language.code", "template "+t.Name+" has no "+t.Language+" variant on channel "+ch.ID+
				" (it has "+strings.Join(langs, ", ")+")")
		}
		return rest.Invalid("content.hsm.templateName", "channel "+ch.ID+" has no template "+rest.Quote(t.Name)+
			"; register it with POST /v2/platforms/whatsapp/templates")
	}
	if err != nil {
		return rest.NewProblem(http.StatusInternalServerError, rest.CodeInternal, "", "could not read the template; try again later")
	}
	if reg.Status != store.TemplateApproved {
		why := ""
		if reg.RejectedReason != "" {
			why = " (" + reg.RejectedReason + ")"
		}
		return rest.Invalid("content.hsm.templateName", fmt.Sprintf("template %s (%s) is %s%s; only an APPROVED template can be sent", t.Name, t.Language, reg.Status, why))
	}
	got := sendParams(t)
	if got != reg.Params {
		field := "content.hsm.params"
		if len(t.Components) > 0 {
			field = "content.hsm.components"
		}
		return rest.Invalid(field, fmt.Sprintf("template %s (%s) takes %d parameters; %d given", t.Name, t.Language, reg.Params, got))
	}
	t.Category = reg.Category
	return nil
}

// sendParams counts a message's template parameters the way the registry
// counts placeholders: quick-reply payloads are not placeholders.
func sendParams(t *message.Template) int {
	n := len(t.Params)
	for _, c := range t.Components {
		if c.Type == "button" && c.SubType == "quick_reply" {
			continue
		}
		n += len(c.Parameters)
	}
	return n
}
