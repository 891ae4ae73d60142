package account

import (
	"errors"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/terms"
)

// registerTerms: the current terms of service and their acceptance
// (ACCT-7), and the operator's sub-processors (PRIV-7).
func (a *API) registerTerms(mux *http.ServeMux) []string {
	a.rest.Handle(mux, "GET /terms", a.getTerms)
	a.rest.Handle(mux, "POST /terms/accept", a.acceptTerms)
	a.rest.Handle(mux, "GET /subprocessors", a.getSubprocessors)
	return []string{"/terms", "/terms/accept", "/subprocessors"}
}

// getTerms: GET /terms — the newest version and whether the account
// accepted it; 404 when the operator published none.
func (a *API) getTerms(w http.ResponseWriter, r *http.Request) error {
	v, acc, err := terms.Current(r.Context(), a.store, rest.Principal(r.Context()).AccountID)
	if err != nil {
		return err
	}
	if v == nil {
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "no terms of service are published")
	}
	out := map[string]any{"version": v.Version, "url": v.URL, "summary": v.Summary, "effectiveAt": v.EffectiveAt.Format(time.RFC3339),
		"publishedAt": v.PublishedAt.Format(time.RFC3339), "accepted": acc != nil, "acceptedAt": nil}
	if acc != nil {
		out["acceptedAt"] = acc.AcceptedAt.Format(time.RFC3339)
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

// acceptTerms: POST /terms/accept {version} records the acceptance with
// the key and address that made it (the first acceptance stays).
func (a *API) acceptTerms(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return rest.TestKeyRefused("accept terms")
	}
	var req struct {
		Version string `json:"version"`
	}
	if p := a.decodeJSON(w, r, &req); p != nil {
		return p
	}
	acc, err := terms.Accept(r.Context(), a.store, pr.AccountID, req.Version, "key:"+pr.KeyID, authguard.Source(r), time.Now())
	var inv *terms.InvalidError
	if errors.As(err, &inv) {
		return rest.Invalid(inv.Param, inv.Msg)
	}
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"version": acc.Version, "accepted": true, "acceptedAt": acc.AcceptedAt.Format(time.RFC3339)})
	return nil
}

// getSubprocessors: GET /subprocessors — who handles personal data for
// the operator, and when the list last changed.
func (a *API) getSubprocessors(w http.ResponseWriter, r *http.Request) error {
	list, at, err := a.store.Subprocessors(r.Context())
	if err != nil {
		return err
	}
	out := map[string]any{"subprocessors": list, "changedAt": nil}
	if !at.IsZero() {
		out["changedAt"] = at.Format(time.RFC3339)
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}
