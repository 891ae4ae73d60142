// Package messagebird is the MessageBird REST door: the SMS endpoints
// (/messages, /balance) and the address book (/contacts, /groups), wire-compatible with what the official MessageBird
// SDKs send and parse, written in the shared REST style (internal/api/rest:
// AccessKey authentication, MessageBird's error format and codes). It turns
// requests into the platform's model and hands them to the pipeline; it
// never talks to connectors.
package messagebird

import (
	"net/http"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/hlr"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/verify"
)

// API serves the MessageBird REST endpoints.
type API struct {
	rest     *rest.Style
	store    store.Store
	pipeline *pipeline.Pipeline
	accounts *store.AccountCache // settings that shape validation (strict numbers)
	metrics  *metrics.Metrics
	hlr      *hlr.Service    // Lookup and HLR (lookup.go); nil: HLR unavailable
	verify   *verify.Service // /verify; nil: not served
}

// New makes the door.
func New(s *rest.Style, st store.Store, p *pipeline.Pipeline, m *metrics.Metrics) *API {
	return &API{rest: s, store: st, pipeline: p, accounts: store.NewAccountCache(st, 0), metrics: m}
}

// Register adds the door's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	a.rest.Handle(mux, "POST /messages", a.createMessage)
	a.rest.Handle(mux, "GET /messages", a.listMessages)
	a.rest.Handle(mux, "GET /messages/{$}", a.listMessages)
	a.rest.Handle(mux, "GET /messages/{id}", a.getMessage)
	a.rest.Handle(mux, "DELETE /messages/{id}", a.deleteMessage)
	a.rest.Handle(mux, "GET /balance", a.getBalance)

	a.rest.Handle(mux, "POST /contacts", a.createContact)
	a.rest.Handle(mux, "GET /contacts", a.listContacts)
	a.rest.Handle(mux, "GET /contacts/{id}", a.getContact)
	a.rest.Handle(mux, "PATCH /contacts/{id}", a.updateContact)
	a.rest.Handle(mux, "DELETE /contacts/{id}", a.deleteContact)
	a.rest.Handle(mux, "GET /contacts/{id}/groups", a.contactGroups)
	a.rest.Handle(mux, "GET /contacts/{id}/messages", a.contactMessages)

	a.rest.Handle(mux, "POST /groups", a.createGroup)
	a.rest.Handle(mux, "GET /groups", a.listGroups)
	a.rest.Handle(mux, "GET /groups/{id}", a.getGroup)
	a.rest.Handle(mux, "PATCH /groups/{id}", a.updateGroup)
	a.rest.Handle(mux, "PUT /groups/{id}", a.addGroupContacts) // Python: ?ids[]=… with the body {}
	a.rest.Handle(mux, "DELETE /groups/{id}", a.deleteGroup)
	a.rest.Handle(mux, "GET /groups/{id}/contacts", a.groupContacts)
	a.rest.Handle(mux, "PUT /groups/{id}/contacts", a.addGroupContacts)
	a.rest.Handle(mux, "DELETE /groups/{id}/contacts/{contactId}", a.removeGroupContact)
	a.registerLookup(mux)
	a.registerVerify(mux)

	// Known paths with another method answer 405 as MessageBird does.
	rest.MethodNotAllowed(mux, "/messages", "/messages/{id}", "/balance", "/contacts", "/contacts/{id}", "/contacts/{id}/groups",
		"/contacts/{id}/messages", "/groups", "/groups/{id}", "/groups/{id}/contacts", "/groups/{id}/contacts/{contactId}")
}

// The door's own errors.
func errNoRecipients() *rest.Problem {
	return rest.NewProblem(http.StatusUnprocessableEntity, rest.CodeMissingParams, "recipients", "no (correct) recipients found")
}

func errNotFound() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "message not found")
}
