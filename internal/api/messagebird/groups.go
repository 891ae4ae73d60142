package messagebird

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// maxGroupAdd is how many contacts one request adds to a group, as on
// MessageBird.
const maxGroupAdd = 50

var groupFields = map[string]bool{"name": true, "id": true, "href": true, "contacts": true,
	"createdDatetime": true, "updatedDatetime": true}

// groupName checks the name parameter.
func (a *API) groupName(p params) (string, *rest.Problem) {
	for name := range p {
		if !groupFields[name] {
			a.countUnknown([]string{name})
		}
	}
	name := strings.TrimSpace(p.text("name"))
	if name == "" {
		return "", rest.Missing("name")
	}
	if utf8.RuneCountInString(name) > maxFieldLength {
		return "", rest.Invalid("name", fmt.Sprintf("name is longer than %d characters", maxFieldLength))
	}
	return name, nil
}

// createGroup handles POST /groups; a test key's group is not stored.
func (a *API) createGroup(w http.ResponseWriter, r *http.Request) error {
	p, pr := readParams(w, r, a.rest.MaxBody())
	if pr != nil {
		return pr
	}
	name, pr := a.groupName(p)
	if pr != nil {
		return pr
	}
	principal := rest.Principal(r.Context())
	g := &store.Group{ID: ids.New(), AccountID: principal.AccountID, Name: name}
	if principal.Test {
		g.CreatedAt = time.Now().UTC()
		g.UpdatedAt = g.CreatedAt
	} else if err := a.store.CreateGroup(r.Context(), g); err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusCreated, a.renderGroup(r, g))
	return nil
}

// group reads the group the path names; a test key sees none.
func (a *API) group(r *http.Request) (*store.Group, error) {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return nil, errGroupNotFound()
	}
	g, err := a.store.GetGroup(r.Context(), pr.AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errGroupNotFound()
	}
	return g, err
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := a.group(r)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, a.renderGroup(r, g))
	return nil
}

// updateGroup handles PATCH /groups/{id}: renames it and answers 200 with
// the group (the SDKs parse a body).
func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := a.group(r)
	if err != nil {
		return err
	}
	p, pr := readParams(w, r, a.rest.MaxBody())
	if pr != nil {
		return pr
	}
	if g.Name, pr = a.groupName(p); pr != nil {
		return pr
	}
	if err := a.store.UpdateGroup(r.Context(), g); errors.Is(err, store.ErrNotFound) {
		return errGroupNotFound()
	} else if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, a.renderGroup(r, g))
	return nil
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errGroupNotFound()
	}
	if err := a.store.DeleteGroup(r.Context(), pr.AccountID, r.PathValue("id")); errors.Is(err, store.ErrNotFound) {
		return errGroupNotFound()
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listGroups handles GET /groups; a test key's list is empty.
func (a *API) listGroups(w http.ResponseWriter, r *http.Request) error {
	limit, offset, pr := page(r.URL.Query())
	if pr != nil {
		return pr
	}
	var list []*store.Group
	total := 0
	if principal := rest.Principal(r.Context()); !principal.Test {
		var err error
		if list, total, err = a.store.ListGroups(r.Context(), principal.AccountID, limit, offset); err != nil {
			return err
		}
	}
	return a.writeGroups(w, r, "/groups", list, total, limit, offset)
}

// groupContacts handles GET /groups/{id}/contacts.
func (a *API) groupContacts(w http.ResponseWriter, r *http.Request) error {
	limit, offset, pr := page(r.URL.Query())
	if pr != nil {
		return pr
	}
	g, err := a.group(r)
	if err != nil {
		return err
	}
	list, total, err := a.store.GroupContacts(r.Context(), g.AccountID, g.ID, limit, offset)
	if errors.Is(err, store.ErrNotFound) {
		return errGroupNotFound()
	}
	if err != nil {
		return err
	}
	return a.writeContacts(w, r, "/groups/"+g.ID+"/contacts", list, total, limit, offset)
}

// addGroupContacts adds up to 50 contacts to a group. The ids arrive as
// the SDKs send them: PUT /groups/{id}/contacts with a form ids[]=…&ids[]=…
// (Go) or JSON {"ids":[…]} (Node, PHP), or PUT /groups/{id}?ids[]=… with
// the body {} (Python); query and body are read alike. It answers 204.
func (a *API) addGroupContacts(w http.ResponseWriter, r *http.Request) error {
	g, err := a.group(r)
	if err != nil {
		return err
	}
	p, pr := readParams(w, r, a.rest.MaxBody())
	if pr != nil {
		return pr
	}
	p.addForm(r.URL.Query())
	var list []string
	seen := map[string]bool{}
	for _, v := range p["ids"] {
		for _, id := range rest.SplitList(v) {
			if !seen[id] {
				seen[id] = true
				list = append(list, id)
			}
		}
	}
	if len(list) == 0 {
		return rest.Missing("ids")
	}
	if len(list) > maxGroupAdd {
		return rest.Invalid("ids", fmt.Sprintf("%d contacts given; at most %d per request", len(list), maxGroupAdd))
	}
	for _, id := range list {
		if _, err := a.store.GetContact(r.Context(), g.AccountID, id); errors.Is(err, store.ErrNotFound) {
			return rest.Invalid("ids", "no contact has the id "+rest.Quote(id))
		} else if err != nil {
			return err
		}
	}
	if err := a.store.AddGroupContacts(r.Context(), g.AccountID, g.ID, list); errors.Is(err, store.ErrNotFound) {
		// A contact or the group was deleted meanwhile: nothing was added.
		return errGroupNotFound()
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeGroupContact handles DELETE /groups/{id}/contacts/{contactId}.
func (a *API) removeGroupContact(w http.ResponseWriter, r *http.Request) error {
	g, err := a.group(r)
	if err != nil {
		return err
	}
	if err := a.store.RemoveGroupContact(r.Context(), g.AccountID, g.ID, r.PathValue("contactId")); errors.Is(err, store.ErrNotFound) {
		return errContactNotFound()
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// groupJSON is MessageBird's group object.
type groupJSON struct {
	ID              string    `json:"id"`
	Href            string    `json:"href"`
	Name            string    `json:"name"`
	Contacts        countJSON `json:"contacts"`
	CreatedDatetime string    `json:"createdDatetime"`
	UpdatedDatetime *string   `json:"updatedDatetime"`
}

func (a *API) renderGroup(r *http.Request, g *store.Group) groupJSON {
	href := a.rest.BaseURL(r) + "/groups/" + g.ID
	return groupJSON{ID: g.ID, Href: href, Name: g.Name, Contacts: countJSON{g.Contacts, href + "/contacts"},
		CreatedDatetime: g.CreatedAt.UTC().Format(message.TimeLayout), UpdatedDatetime: rest.TimeText(g.UpdatedAt)}
}

func (a *API) writeGroups(w http.ResponseWriter, r *http.Request, path string, list []*store.Group, total, limit, offset int) error {
	out := listOf[groupJSON]{Offset: offset, Limit: limit, Count: len(list), TotalCount: total,
		Links: rest.PageLinks(a.rest.BaseURL(r), path, offset, limit, total), Items: make([]groupJSON, len(list))}
	for i, g := range list {
		out.Items[i] = a.renderGroup(r, g)
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}
