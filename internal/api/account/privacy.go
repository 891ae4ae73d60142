package account

import (
	"errors"
	"net/http"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/privacy"
	"github.com/omnigate/omnigate/internal/store"
)

// UsePrivacy serves the data-subject request routes with svc.
func (a *API) UsePrivacy(svc *privacy.Service) { a.privacy = svc }

// registerPrivacy adds /v1/privacy/requests (docs/privacy.md).
func (a *API) registerPrivacy(mux *http.ServeMux) []string {
	if a.privacy == nil {
		return nil
	}
	a.rest.Handle(mux, "POST /v1/privacy/requests", a.openPrivacyRequest)
	a.rest.Handle(mux, "GET /v1/privacy/requests", a.listPrivacyRequests)
	a.rest.Handle(mux, "GET /v1/privacy/requests/{id}", a.getPrivacyRequest)
	a.rest.Handle(mux, "GET /v1/privacy/requests/{id}/export", a.getPrivacyExport)
	a.rest.Handle(mux, "POST /v1/privacy/requests/{id}/extend", a.extendPrivacyRequest)
	a.rest.Handle(mux, "POST /v1/privacy/requests/{id}/close", a.closePrivacyRequest)
	return []string{"/v1/privacy/requests", "/v1/privacy/requests/{id}", "/v1/privacy/requests/{id}/export",
		"/v1/privacy/requests/{id}/extend", "/v1/privacy/requests/{id}/close"}
}

// privacyProblem turns the privacy service's errors into the API's.
func privacyProblem(err error) error {
	if param, desc, ok := privacy.Invalid(err); ok {
		return rest.Invalid(param, desc)
	}
	if errors.Is(err, store.ErrNotFound) {
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "no such privacy request")
	}
	return err
}

// openPrivacyRequest answers POST /v1/privacy/requests {identifier, type,
// kind, note, changes}. A test key's request is checked and answered as it
// would be opened, but never stored nor run.
func (a *API) openPrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Identifier string            `json:"identifier"`
		Type       string            `json:"type"`
		Kind       string            `json:"kind"`
		Note       string            `json:"note"`
		Changes    map[string]string `json:"changes"`
	}
	if p := a.decodeJSON(w, r, &req); p != nil {
		return p
	}
	if req.Identifier == "" {
		return rest.Missing("identifier")
	}
	if req.Kind == "" {
		return rest.Missing("kind")
	}
	changes, err := privacy.ChangesFrom(req.Changes)
	if err != nil {
		return privacyProblem(err)
	}
	pr := rest.Principal(r.Context())
	o := privacy.Open{AccountID: pr.AccountID, Identifier: req.Identifier, Type: req.Type, Kind: req.Kind, Note: req.Note,
		Changes: changes, Actor: "api key " + pr.KeyID}
	if pr.Test {
		if err := privacy.Validate(o); err != nil {
			return privacyProblem(err)
		}
		id, kind, _ := privacy.Normalize(req.Identifier, req.Type)
		rest.WriteJSON(w, http.StatusCreated, privacy.View(&store.PrivacyRequest{Identifier: id, IDKind: kind, Kind: req.Kind,
			Status: store.PrivacyOpen, OpenedBy: o.Actor, Note: req.Note, Outcome: "test key: checked, not stored and not run"}, nil))
		return nil
	}
	pq, err := a.privacy.Open(r.Context(), o)
	if err != nil {
		return privacyProblem(err)
	}
	hist, err := a.store.PrivacyEvents(r.Context(), pq.ID)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusCreated, privacy.View(pq, hist))
	return nil
}

// listPrivacyRequests answers GET /v1/privacy/requests[?status&limit],
// newest first; none for a test key.
func (a *API) listPrivacyRequests(w http.ResponseWriter, r *http.Request) error {
	lf, p := rest.ListFilter(r.URL.Query())
	if p != nil {
		return p
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", store.PrivacyOpen, store.PrivacyInProgress, store.PrivacyCompleted, store.PrivacyRefused, store.PrivacyClosed:
	default:
		return rest.Invalid("status", "status must be open, in_progress, completed, refused or closed")
	}
	items := []privacy.RequestView{}
	if pr := rest.Principal(r.Context()); !pr.Test {
		list, err := a.store.ListPrivacyRequests(r.Context(), store.PrivacyFilter{AccountID: pr.AccountID, Status: status, Limit: lf.Limit})
		if err != nil {
			return err
		}
		for _, q := range list {
			items = append(items, privacy.View(q, nil))
		}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Count int                   `json:"count"`
		Items []privacy.RequestView `json:"items"`
	}{len(items), items})
	return nil
}

// privacyRequest is the account's request named in the path (a test key
// has none).
func (a *API) privacyRequest(r *http.Request) (*store.PrivacyRequest, error) {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return nil, privacyProblem(store.ErrNotFound)
	}
	q, err := a.store.GetPrivacyRequest(r.Context(), pr.AccountID, r.PathValue("id"))
	if err != nil {
		return nil, privacyProblem(err)
	}
	return q, nil
}

// getPrivacyRequest answers GET /v1/privacy/requests/{id} with its history.
func (a *API) getPrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	q, err := a.privacyRequest(r)
	if err != nil {
		return err
	}
	hist, err := a.store.PrivacyEvents(r.Context(), q.ID)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, privacy.View(q, hist))
	return nil
}

// getPrivacyExport answers GET /v1/privacy/requests/{id}/export: an
// access request's zip.
func (a *API) getPrivacyExport(w http.ResponseWriter, r *http.Request) error {
	q, err := a.privacyRequest(r)
	if err != nil {
		return err
	}
	if !q.HasExport {
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "this request has no export (only a completed access request has one)")
	}
	b, err := a.store.PrivacyExport(r.Context(), q.AccountID, q.ID)
	if err != nil {
		return privacyProblem(err)
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="privacy-`+q.ID+`.zip"`)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}

// extendPrivacyRequest answers POST /v1/privacy/requests/{id}/extend {reason}.
func (a *API) extendPrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if p := a.decodeJSON(w, r, &req); p != nil {
		return p
	}
	q, err := a.privacyRequest(r)
	if err != nil {
		return err
	}
	pr := rest.Principal(r.Context())
	q, err = a.privacy.Extend(r.Context(), pr.AccountID, q.ID, req.Reason, "api key "+pr.KeyID)
	if err != nil {
		return privacyProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, privacy.View(q, nil))
	return nil
}

// closePrivacyRequest answers POST /v1/privacy/requests/{id}/close {note}:
// a restriction is lifted.
func (a *API) closePrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 {
		if p := a.decodeJSON(w, r, &req); p != nil {
			return p
		}
	}
	q, err := a.privacyRequest(r)
	if err != nil {
		return err
	}
	pr := rest.Principal(r.Context())
	q, err = a.privacy.Close(r.Context(), pr.AccountID, q.ID, req.Note, "api key "+pr.KeyID)
	if err != nil {
		return privacyProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, privacy.View(q, nil))
	return nil
}
