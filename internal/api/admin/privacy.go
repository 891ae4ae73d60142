package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/omnigate/omnigate/internal/privacy"
	"github.com/omnigate/omnigate/internal/store"
)

// UsePrivacy serves the operator's data-subject requests and the
// retention schedule.
func (a *API) UsePrivacy(svc *privacy.Service, ret *privacy.Retention) {
	a.privacy, a.retention = svc, ret
}

func (a *API) registerPrivacy(mux *http.ServeMux) {
	if a.privacy == nil {
		return
	}
	a.handle(mux, "POST /admin/privacy/requests", a.openPrivacyRequest)
	a.handle(mux, "GET /admin/privacy/requests", a.listPrivacyRequests)
	a.handle(mux, "GET /admin/privacy/requests/{id}", a.getPrivacyRequest)
	a.handle(mux, "GET /admin/privacy/requests/{id}/export", a.getPrivacyExport)
	a.handle(mux, "POST /admin/privacy/requests/{id}/extend", a.extendPrivacyRequest)
	a.handle(mux, "POST /admin/privacy/requests/{id}/close", a.closePrivacyRequest)
	a.handle(mux, "GET /admin/retention", a.getRetention)
	a.handle(mux, "PUT /admin/retention", a.setRetention)
	a.handle(mux, "POST /admin/retention/run", a.runRetention)
	a.handle(mux, "GET /admin/retention/runs", a.listRetentionRuns)
}

func privacyError(err error) error {
	if param, desc, ok := privacy.Invalid(err); ok {
		return invalid(param, desc)
	}
	return err
}

// openPrivacyRequest answers POST /admin/privacy/requests {accountId,
// identifier, type, kind, note, changes}: without accountId the request
// covers every account.
func (a *API) openPrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		AccountID  string            `json:"accountId"`
		Identifier string            `json:"identifier"`
		Type       string            `json:"type"`
		Kind       string            `json:"kind"`
		Note       string            `json:"note"`
		Changes    map[string]string `json:"changes"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.AccountID != "" {
		if _, err := a.store.GetAccount(r.Context(), req.AccountID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return invalid("accountId", "no such account")
			}
			return err
		}
	}
	changes, err := privacy.ChangesFrom(req.Changes)
	if err != nil {
		return privacyError(err)
	}
	q, err := a.privacy.Open(r.Context(), privacy.Open{AccountID: req.AccountID, Identifier: req.Identifier, Type: req.Type, Kind: req.Kind,
		Note: req.Note, Changes: changes, Actor: "operator " + actor(r)})
	if err != nil {
		return privacyError(err)
	}
	hist, err := a.store.PrivacyEvents(r.Context(), q.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, privacy.View(q, hist))
	return nil
}

// listPrivacyRequests answers GET /admin/privacy/requests[?account&status&limit]:
// every account's and the operator's; account "operator" lists the
// operator's own.
func (a *API) listPrivacyRequests(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.PrivacyFilter{AccountID: "*", Status: q.Get("status")}
	if acct := q.Get("account"); acct == "operator" {
		f.AccountID = ""
	} else if acct != "" {
		f.AccountID = acct
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return invalid("limit", "limit must be a number from 1 to 1000")
		}
		f.Limit = n
	}
	list, err := a.store.ListPrivacyRequests(r.Context(), f)
	if err != nil {
		return err
	}
	items := []privacy.RequestView{}
	for _, x := range list {
		items = append(items, privacy.View(x, nil))
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(items), "items": items})
	return nil
}

func (a *API) getPrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	q, err := a.store.GetPrivacyRequest(r.Context(), "*", r.PathValue("id"))
	if err != nil {
		return err
	}
	hist, err := a.store.PrivacyEvents(r.Context(), q.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, privacy.View(q, hist))
	return nil
}

func (a *API) getPrivacyExport(w http.ResponseWriter, r *http.Request) error {
	b, err := a.store.PrivacyExport(r.Context(), "*", r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="privacy-`+r.PathValue("id")+`.zip"`)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}

func (a *API) extendPrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	q, err := a.privacy.Extend(r.Context(), "*", r.PathValue("id"), req.Reason, "operator "+actor(r))
	if err != nil {
		return privacyError(err)
	}
	writeJSON(w, http.StatusOK, privacy.View(q, nil))
	return nil
}

func (a *API) closePrivacyRequest(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			return err
		}
	}
	q, err := a.privacy.Close(r.Context(), "*", r.PathValue("id"), req.Note, "operator "+actor(r))
	if err != nil {
		return privacyError(err)
	}
	writeJSON(w, http.StatusOK, privacy.View(q, nil))
	return nil
}

// getRetention answers GET /admin/retention: the period in force per kind,
// in days (0: kept forever), and the defaults.
func (a *API) getRetention(w http.ResponseWriter, r *http.Request) error {
	periods, err := a.retention.Periods(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"days": periods, "defaults": privacy.DefaultRetention})
	return nil
}

// setRetention answers PUT /admin/retention {"kind": days, …}; null puts
// a kind back to its configured default.
func (a *API) setRetention(w http.ResponseWriter, r *http.Request) error {
	var req map[string]*int
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req) == 0 {
		return invalid("", `give at least one kind and its days, e.g. {"traffic": 183}`)
	}
	for k, v := range req {
		if v == nil {
			if _, err := privacy.ValidateRetention(k, "0"); err != nil {
				return privacyError(err)
			}
			continue
		}
		if _, err := privacy.ValidateRetention(k, strconv.Itoa(*v)); err != nil {
			return privacyError(err)
		}
	}
	for k, v := range req {
		days := -1
		if v != nil {
			days = *v
		}
		if err := a.store.SetRetention(r.Context(), k, days, "operator "+actor(r), time.Now()); err != nil {
			return err
		}
	}
	return a.getRetention(w, r)
}

// runRetention answers POST /admin/retention/run: a pass now (when no other
// node holds one).
func (a *API) runRetention(w http.ResponseWriter, r *http.Request) error {
	run, err := a.retention.RunNow(r.Context())
	if err != nil {
		return err
	}
	if run == nil {
		return &problem{http.StatusConflict, 10, "", "another node is running a retention pass; try again later", nil}
	}
	writeJSON(w, http.StatusOK, runView(run))
	return nil
}

func runView(r *store.RetentionRun) map[string]any {
	return map[string]any{"id": r.ID, "node": r.Node, "startedDatetime": r.StartedAt.Format(time.RFC3339),
		"finishedDatetime": r.FinishedAt.Format(time.RFC3339), "counts": r.Counts, "error": r.Error}
}

// listRetentionRuns answers GET /admin/retention/runs[?limit]: newest first.
func (a *API) listRetentionRuns(w http.ResponseWriter, r *http.Request) error {
	limit := 100
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return invalid("limit", "limit must be a number from 1 to 1000")
		}
		limit = n
	}
	runs, err := a.store.RetentionRuns(r.Context(), limit)
	if err != nil {
		return err
	}
	items := []map[string]any{}
	for _, x := range runs {
		items = append(items, runView(x))
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(items), "items": items})
	return nil
}
