package messagebird

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
)

// maxFieldLength bounds a contact's names and custom fields and a group's
// name, in characters.
const maxFieldLength = 255

// params is a small request body (a contact, a group, a list of ids) after
// decoding, whatever its encoding: each parameter's text, or its items for
// a list. A parameter given as null is absent (PHP sends unset fields as
// null). customDetails{custom1 …} (JSON) and customDetails[custom1] (form)
// are flattened to custom1 ….
type params map[string][]string

func (p params) has(name string) bool { _, ok := p[name]; return ok }

func (p params) text(name string) string {
	if v := p[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// readParams reads a JSON or form body; an empty body has no parameters.
func readParams(w http.ResponseWriter, r *http.Request, limit int64) (params, *rest.Problem) {
	body, p := rest.ReadBody(w, r, limit)
	if p != nil {
		return nil, p
	}
	kind, p := rest.BodyKind(r, body)
	if p != nil {
		return nil, p
	}
	out := params{}
	switch kind {
	case "json":
		if p := rest.CheckJSON(body); p != nil {
			return nil, p
		}
		var fields map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&fields); err != nil {
			return nil, rest.Malformed("malformed JSON: " + err.Error())
		}
		if dec.More() {
			return nil, rest.Malformed("malformed JSON: data after the object")
		}
		if p := out.addJSON(fields, ""); p != nil {
			return nil, p
		}
	case "form":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, rest.Malformed("malformed form body: " + err.Error())
		}
		if p := rest.CheckForm(form); p != nil {
			return nil, p
		}
		out.addForm(form)
	}
	return out, nil
}

func (p params) addJSON(fields map[string]json.RawMessage, within string) *rest.Problem {
	for name, raw := range fields {
		t := bytes.TrimSpace(raw)
		switch {
		case string(t) == "null":
		case len(t) > 0 && t[0] == '[':
			items, pr := rest.JSONList(name, raw, false)
			if pr != nil {
				return pr
			}
			p[name] = append(p[name], items...)
		case len(t) > 0 && t[0] == '{':
			if within != "" || name != "customDetails" {
				// Objects the SDKs send back from a whole contact or
				// group (groups, messages, contacts) are ignored.
				p[name] = nil
				continue
			}
			var sub map[string]json.RawMessage
			if err := json.Unmarshal(t, &sub); err != nil {
				return rest.Invalid(name, name+" must be an object")
			}
			if pr := p.addJSON(sub, name); pr != nil {
				return pr
			}
		default:
			s, pr := rest.JSONText(name, raw)
			if pr != nil {
				return pr
			}
			p[name] = []string{s}
		}
	}
	return nil
}

// addForm adds form or query parameters: name, name[] and name[N] are one
// list; customDetails[custom1] is custom1.
func (p params) addForm(form url.Values) {
	for key, vals := range form {
		name, sub, _ := strings.Cut(key, "[")
		sub = strings.TrimSuffix(sub, "]")
		if name == "customDetails" && sub != "" {
			name = sub
		}
		p[name] = append(p[name], vals...)
	}
}

// contactFields are the parameters a contact is written with; the others
// the SDKs send (PHP posts whole objects) are ignored, and counted when
// they are not a contact's own.
var contactFields = map[string]bool{"msisdn": true, "firstName": true, "lastName": true,
	"custom1": true, "custom2": true, "custom3": true, "custom4": true}

var contactObjectFields = map[string]bool{"id": true, "href": true, "groups": true, "messages": true,
	"customDetails": true, "createdDatetime": true, "updatedDatetime": true}

// applyContact sets the fields given in p on c.
func (a *API) applyContact(c *store.Contact, p params) *rest.Problem {
	for name := range p {
		if !contactFields[name] && !contactObjectFields[name] {
			a.countUnknown([]string{name})
		}
	}
	if p.has("msisdn") {
		raw := strings.TrimSpace(p.text("msisdn"))
		if raw == "" {
			return rest.Missing("msisdn")
		}
		n, err := phone.Parse(raw)
		if err != nil {
			return rest.Invalid("msisdn", "msisdn "+rest.Quote(raw)+" is not a valid phone number in international format")
		}
		c.MSISDN = n.MSISDN
	}
	set := func(name string, dst *string) *rest.Problem {
		if !p.has(name) {
			return nil
		}
		v := strings.TrimSpace(p.text(name))
		if utf8.RuneCountInString(v) > maxFieldLength {
			return rest.Invalid(name, fmt.Sprintf("%s is longer than %d characters", name, maxFieldLength))
		}
		*dst = v
		return nil
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"firstName", &c.FirstName}, {"lastName", &c.LastName}, {"custom1", &c.Custom[0]}, {"custom2", &c.Custom[1]},
		{"custom3", &c.Custom[2]}, {"custom4", &c.Custom[3]}} {
		if pr := set(f.name, f.dst); pr != nil {
			return pr
		}
	}
	return nil
}

func errContactNotFound() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "contact not found")
}

func errGroupNotFound() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "group not found")
}

// createContact handles POST /contacts. A test key's contact is checked
// and answered, not stored.
func (a *API) createContact(w http.ResponseWriter, r *http.Request) error {
	p, pr := readParams(w, r, a.rest.MaxBody())
	if pr != nil {
		return pr
	}
	if !p.has("msisdn") {
		return rest.Missing("msisdn")
	}
	principal := rest.Principal(r.Context())
	c := &store.Contact{ID: ids.New(), AccountID: principal.AccountID}
	if pr := a.applyContact(c, p); pr != nil {
		return pr
	}
	if principal.Test {
		c.CreatedAt = time.Now().UTC()
		c.UpdatedAt = c.CreatedAt
	} else if err := a.store.CreateContact(r.Context(), c); err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusCreated, a.renderContact(r, c, 0))
	return nil
}

// contact reads the contact the path names; a test key sees none.
func (a *API) contact(r *http.Request) (*store.Contact, error) {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return nil, errContactNotFound()
	}
	c, err := a.store.GetContact(r.Context(), pr.AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errContactNotFound()
	}
	return c, err
}

func (a *API) getContact(w http.ResponseWriter, r *http.Request) error {
	c, err := a.contact(r)
	if err != nil {
		return err
	}
	return a.writeContact(w, r, http.StatusOK, c)
}

// updateContact handles PATCH /contacts/{id}: the fields given change.
func (a *API) updateContact(w http.ResponseWriter, r *http.Request) error {
	c, err := a.contact(r)
	if err != nil {
		return err
	}
	p, pr := readParams(w, r, a.rest.MaxBody())
	if pr != nil {
		return pr
	}
	if pr := a.applyContact(c, p); pr != nil {
		return pr
	}
	if err := a.store.UpdateContact(r.Context(), c); errors.Is(err, store.ErrNotFound) {
		return errContactNotFound()
	} else if err != nil {
		return err
	}
	return a.writeContact(w, r, http.StatusOK, c)
}

func (a *API) deleteContact(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errContactNotFound()
	}
	if err := a.store.DeleteContact(r.Context(), pr.AccountID, r.PathValue("id")); errors.Is(err, store.ErrNotFound) {
		return errContactNotFound()
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listContacts handles GET /contacts (limit, offset, msisdn); a test key's
// list is empty.
func (a *API) listContacts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, offset, pr := page(q)
	if pr != nil {
		return pr
	}
	msisdn := ""
	if s := strings.TrimSpace(q.Get("msisdn")); s != "" {
		n, err := phone.Parse(s)
		if err != nil {
			return rest.Invalid("msisdn", "msisdn must be a phone number in international format")
		}
		msisdn = n.MSISDN
	}
	var list []*store.Contact
	total := 0
	if principal := rest.Principal(r.Context()); !principal.Test {
		var err error
		if list, total, err = a.store.ListContacts(r.Context(), principal.AccountID, msisdn, limit, offset); err != nil {
			return err
		}
	}
	return a.writeContacts(w, r, "/contacts", list, total, limit, offset)
}

// contactGroups handles GET /contacts/{id}/groups.
func (a *API) contactGroups(w http.ResponseWriter, r *http.Request) error {
	limit, offset, pr := page(r.URL.Query())
	if pr != nil {
		return pr
	}
	c, err := a.contact(r)
	if err != nil {
		return err
	}
	list, total, err := a.store.ContactGroups(r.Context(), c.AccountID, c.ID, limit, offset)
	if errors.Is(err, store.ErrNotFound) {
		return errContactNotFound()
	}
	if err != nil {
		return err
	}
	return a.writeGroups(w, r, "/contacts/"+c.ID+"/groups", list, total, limit, offset)
}

// contactMessages handles GET /contacts/{id}/messages: the SMS sent to the
// contact's number, newest first, in GET /messages' format.
func (a *API) contactMessages(w http.ResponseWriter, r *http.Request) error {
	limit, offset, pr := page(r.URL.Query())
	if pr != nil {
		return pr
	}
	c, err := a.contact(r)
	if err != nil {
		return err
	}
	msgs, total, err := a.store.ListMessages(r.Context(), c.AccountID, contactMessageFilter(c, limit, offset))
	if err != nil {
		return err
	}
	base := a.rest.BaseURL(r)
	out := listJSON{
		Offset: offset, Limit: limit, Count: len(msgs), TotalCount: total,
		Links: rest.PageLinks(base, "/contacts/"+c.ID+"/messages", offset, limit, total),
		Items: make([]messageJSON, len(msgs)),
	}
	for i, m := range msgs {
		out.Items[i] = renderMessage(m, base)
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

func contactMessageFilter(c *store.Contact, limit, offset int) store.MessageFilter {
	return store.MessageFilter{Channel: message.ChannelSMS, Direction: message.MT, Recipient: c.MSISDN, Limit: limit, Offset: offset}
}

// page reads limit and offset as GET /messages does.
func page(q url.Values) (limit, offset int, p *rest.Problem) {
	f, p := rest.ListFilter(url.Values{"limit": q["limit"], "offset": q["offset"]})
	return f.Limit, f.Offset, p
}

// contactJSON is MessageBird's contact object.
type contactJSON struct {
	ID            string      `json:"id"`
	Href          string      `json:"href"`
	MSISDN        json.Number `json:"msisdn"`
	FirstName     *string     `json:"firstName"`
	LastName      *string     `json:"lastName"`
	CustomDetails struct {
		Custom1 *string `json:"custom1"`
		Custom2 *string `json:"custom2"`
		Custom3 *string `json:"custom3"`
		Custom4 *string `json:"custom4"`
	} `json:"customDetails"`
	Groups          countJSON `json:"groups"`
	Messages        countJSON `json:"messages"`
	CreatedDatetime string    `json:"createdDatetime"`
	UpdatedDatetime *string   `json:"updatedDatetime"`
}

// countJSON is a sub-collection: how many, and where to list them.
type countJSON struct {
	TotalCount int    `json:"totalCount"`
	Href       string `json:"href"`
}

func (a *API) renderContact(r *http.Request, c *store.Contact, messages int) contactJSON {
	base := a.rest.BaseURL(r)
	href := base + "/contacts/" + c.ID
	out := contactJSON{ID: c.ID, Href: href, MSISDN: json.Number(c.MSISDN), FirstName: optString(c.FirstName), LastName: optString(c.LastName),
		Groups: countJSON{c.Groups, href + "/groups"}, Messages: countJSON{messages, href + "/messages"},
		CreatedDatetime: c.CreatedAt.UTC().Format(message.TimeLayout), UpdatedDatetime: rest.TimeText(c.UpdatedAt)}
	out.CustomDetails.Custom1 = optString(c.Custom[0])
	out.CustomDetails.Custom2 = optString(c.Custom[1])
	out.CustomDetails.Custom3 = optString(c.Custom[2])
	out.CustomDetails.Custom4 = optString(c.Custom[3])
	return out
}

// messageCount is how many SMS were sent to the contact's number.
func (a *API) messageCount(r *http.Request, c *store.Contact) (int, error) {
	_, total, err := a.store.ListMessages(r.Context(), c.AccountID, contactMessageFilter(c, 1, 0))
	return total, err
}

func (a *API) writeContact(w http.ResponseWriter, r *http.Request, status int, c *store.Contact) error {
	n, err := a.messageCount(r, c)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, status, a.renderContact(r, c, n))
	return nil
}

// listOf is MessageBird's pagination envelope around any item.
type listOf[T any] struct {
	Offset     int                `json:"offset"`
	Limit      int                `json:"limit"`
	Count      int                `json:"count"`
	TotalCount int                `json:"totalCount"`
	Links      map[string]*string `json:"links"`
	Items      []T                `json:"items"`
}

func (a *API) writeContacts(w http.ResponseWriter, r *http.Request, path string, list []*store.Contact, total, limit, offset int) error {
	out := listOf[contactJSON]{Offset: offset, Limit: limit, Count: len(list), TotalCount: total,
		Links: rest.PageLinks(a.rest.BaseURL(r), path, offset, limit, total), Items: make([]contactJSON, len(list))}
	for i, c := range list {
		n, err := a.messageCount(r, c)
		if err != nil {
			return err
		}
		out.Items[i] = a.renderContact(r, c, n)
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}
