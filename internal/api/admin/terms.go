package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/terms"
)

// registerTerms: the terms of service (ACCT-7) and sub-processors (PRIV-7).
func (a *API) registerTerms(mux *http.ServeMux) {
	a.handle(mux, "POST /admin/terms", a.publishTerms)
	a.handle(mux, "GET /admin/terms", a.listTerms)
	a.handle(mux, "GET /admin/terms/{version}/acceptances", a.termsAcceptances)
	a.handle(mux, "PUT /admin/subprocessors", a.setSubprocessors)
	a.handle(mux, "GET /admin/subprocessors", a.getSubprocessors)
}

type termsJSON struct {
	Version     string `json:"version"`
	URL         string `json:"url"`
	Summary     string `json:"summary"`
	EffectiveAt string `json:"effectiveAt"`
	PublishedAt string `json:"publishedAt"`
}

func renderTerms(v store.TermsVersion) termsJSON {
	return termsJSON{Version: v.Version, URL: v.URL, Summary: v.Summary, EffectiveAt: v.EffectiveAt.Format(time.RFC3339),
		PublishedAt: v.PublishedAt.Format(time.RFC3339)}
}

type acceptanceJSON struct {
	AccountID  string `json:"accountId"`
	Version    string `json:"version"`
	AcceptedBy string `json:"acceptedBy"`
	IP         string `json:"ip"`
	AcceptedAt string `json:"acceptedAt"`
}

// termsProblem answers the terms package's errors.
func termsProblem(err error) error {
	var inv *terms.InvalidError
	if errors.As(err, &inv) {
		return invalid(inv.Param, inv.Msg)
	}
	return err
}

// publishTerms: POST /admin/terms {version, url, summary, effectiveAt?}
// publishes a version and announces it to every account.
func (a *API) publishTerms(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Version     string    `json:"version"`
		URL         string    `json:"url"`
		Summary     string    `json:"summary"`
		EffectiveAt time.Time `json:"effectiveAt"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	v, err := terms.Publish(r.Context(), a.store, req.Version, req.URL, req.Summary, req.EffectiveAt, time.Now())
	if err != nil {
		return termsProblem(err)
	}
	writeJSON(w, http.StatusCreated, renderTerms(*v))
	return nil
}

// listTerms: GET /admin/terms, the newest first.
func (a *API) listTerms(w http.ResponseWriter, r *http.Request) error {
	list, err := a.store.ListTerms(r.Context())
	if err != nil {
		return err
	}
	out := make([]termsJSON, 0, len(list))
	for _, v := range list {
		out = append(out, renderTerms(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// termsAcceptances: GET /admin/terms/{version}/acceptances.
func (a *API) termsAcceptances(w http.ResponseWriter, r *http.Request) error {
	list, err := a.store.TermsAcceptances(r.Context(), "", r.PathValue("version"))
	if err != nil {
		return err
	}
	out := make([]acceptanceJSON, 0, len(list))
	for _, x := range list {
		out = append(out, acceptanceJSON{AccountID: x.AccountID, Version: x.Version, AcceptedBy: x.AcceptedBy, IP: x.IP, AcceptedAt: x.AcceptedAt.Format(time.RFC3339)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// setSubprocessors: PUT /admin/subprocessors {subprocessors: [{name,
// purpose, location}]} replaces the list; a change is announced.
func (a *API) setSubprocessors(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Subprocessors []store.Subprocessor `json:"subprocessors"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Subprocessors == nil {
		return invalid("subprocessors", "subprocessors is the whole list (an array; [] for none)")
	}
	changed, err := terms.SetSubprocessors(r.Context(), a.store, req.Subprocessors, time.Now())
	if err != nil {
		return termsProblem(err)
	}
	return a.writeSubprocessors(w, r, changed)
}

// getSubprocessors: GET /admin/subprocessors.
func (a *API) getSubprocessors(w http.ResponseWriter, r *http.Request) error {
	return a.writeSubprocessors(w, r, false)
}

func (a *API) writeSubprocessors(w http.ResponseWriter, r *http.Request, changed bool) error {
	list, at, err := a.store.Subprocessors(r.Context())
	if err != nil {
		return err
	}
	out := map[string]any{"subprocessors": list, "changedAt": nil, "changed": changed}
	if !at.IsZero() {
		out["changedAt"] = at.Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
