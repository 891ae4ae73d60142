package admin

import (
	"errors"
	"fmt"
	"github.com/omnigate/omnigate/internal/audit"
	"net/http"
	"strconv"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/store"
)

func (a *API) registerCompliance(mux *http.ServeMux) {
	a.handle(mux, "GET /admin/accounts/{id}/senders", a.listSenders)
	a.handle(mux, "PUT /admin/accounts/{id}/senders/{originator}", a.decideSender)
	a.handle(mux, "GET /admin/accounts/{id}/compliance", a.getPolicy)
	a.handle(mux, "PATCH /admin/accounts/{id}/compliance", a.changePolicy)
	a.handle(mux, "PUT /admin/accounts/{id}/suspension", a.suspend)
	a.handle(mux, "DELETE /admin/accounts/{id}/suspension", a.lift)
	a.handle(mux, "POST /admin/accounts/{id}/cases", a.requestProof)
	a.handle(mux, "GET /admin/cases", a.listCases)
	a.handle(mux, "POST /admin/accounts/{id}/complaints", a.addComplaint)
	a.handle(mux, "GET /admin/accounts/{id}/decisions", a.listDecisions)
	a.handle(mux, "POST /admin/dnd/{registry}", a.importDND)
	a.handle(mux, "GET /admin/reviews", a.listReviews)
	a.handle(mux, "POST /admin/reviews/{message}/{action}", a.decideReview)
}

// account checks the account in the path exists.
func (a *API) account(r *http.Request) (string, error) {
	id := r.PathValue("id")
	_, err := a.store.GetAccount(r.Context(), id)
	return id, err
}

func items[T any](w http.ResponseWriter, list []T) {
	if list == nil {
		list = []T{}
	}
	writeJSON(w, http.StatusOK, struct {
		Items []T `json:"items"`
	}{list})
}

func (a *API) listSenders(w http.ResponseWriter, r *http.Request) error {
	id, err := a.account(r)
	if err != nil {
		return err
	}
	list, err := a.store.Senders(r.Context(), id)
	if err != nil {
		return err
	}
	items(w, list)
	return nil
}

// decideSender: PUT /admin/accounts/{id}/senders/{originator} {status, note}.
func (a *API) decideSender(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := a.account(r)
	if err != nil {
		return err
	}
	s, err := a.desk.DecideSender(r.Context(), id, r.PathValue("originator"), req.Status, actor(r), req.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (a *API) getPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := a.store.GetPolicy(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, compliance.View(p))
	return nil
}

// changePolicy: PATCH /admin/accounts/{id}/compliance with any of the
// policy's fields, and sendersRelaxed: a reason relaxes sender identity
// for the account (recorded), "" makes it strict again.
func (a *API) changePolicy(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		compliance.PolicyChangeJSON
		SendersRelaxed *string `json:"sendersRelaxed"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := a.account(r)
	if err != nil {
		return err
	}
	before := a.policyView(r, id)
	p, err := a.desk.ChangePolicy(r.Context(), id, req.Change())
	if err == nil && req.SendersRelaxed != nil {
		p, err = a.desk.RelaxSenders(r.Context(), id, *req.SendersRelaxed, actor(r))
	}
	if err != nil {
		return err
	}
	audit.Noted(r.Context()).Changed(before, compliance.View(p))
	writeJSON(w, http.StatusOK, compliance.View(p))
	return nil
}

// suspend: PUT /admin/accounts/{id}/suspension {reason}.
func (a *API) suspend(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := a.account(r)
	if err != nil {
		return err
	}
	before := a.policyView(r, id)
	p, err := a.desk.Suspend(r.Context(), id, req.Reason, actor(r))
	if err != nil {
		return err
	}
	audit.Noted(r.Context()).Changed(before, compliance.View(p))
	writeJSON(w, http.StatusOK, compliance.View(p))
	return nil
}

// lift: DELETE /admin/accounts/{id}/suspension.
func (a *API) lift(w http.ResponseWriter, r *http.Request) error {
	id, err := a.account(r)
	if err != nil {
		return err
	}
	before := a.policyView(r, id)
	p, err := a.desk.Lift(r.Context(), id, actor(r))
	if err != nil {
		return err
	}
	audit.Noted(r.Context()).Changed(before, compliance.View(p))
	writeJSON(w, http.StatusOK, compliance.View(p))
	return nil
}

// requestProof: POST /admin/accounts/{id}/cases {reason, recipient, dueHours}.
func (a *API) requestProof(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason    string `json:"reason"`
		Recipient string `json:"recipient"`
		DueHours  int    `json:"dueHours"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if maxHours := int(compliance.MaxProofDue / time.Hour); req.DueHours < 0 || req.DueHours > maxHours {
		return invalid("dueHours", fmt.Sprintf("dueHours is 1 to %d; leave it out for 24", maxHours))
	}
	id, err := a.account(r)
	if err != nil {
		return err
	}
	c, err := a.desk.RequestProof(r.Context(), id, req.Recipient, req.Reason, actor(r), time.Duration(req.DueHours)*time.Hour)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

// listCases: GET /admin/cases[?account=ID&status=open].
func (a *API) listCases(w http.ResponseWriter, r *http.Request) error {
	list, err := a.store.ProofCases(r.Context(), r.URL.Query().Get("account"))
	if err != nil {
		return err
	}
	if st := r.URL.Query().Get("status"); st != "" {
		var kept []store.ProofCase
		for _, c := range list {
			if c.Status == st {
				kept = append(kept, c)
			}
		}
		list = kept
	}
	items(w, list)
	return nil
}

// addComplaint: POST /admin/accounts/{id}/complaints {recipient, source, note}.
func (a *API) addComplaint(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Recipient string `json:"recipient"`
		Source    string `json:"source"`
		Note      string `json:"note"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Source == "" {
		req.Source = "operator"
	}
	n, c, err := a.desk.Complaint(r.Context(), r.PathValue("id"), req.Recipient, req.Source, req.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		Complaints int              `json:"complaints"`
		Case       *store.ProofCase `json:"case"`
	}{n, c})
	return nil
}

// listDecisions: GET /admin/accounts/{id}/decisions[?limit=N].
func (a *API) listDecisions(w http.ResponseWriter, r *http.Request) error {
	id, err := a.account(r)
	if err != nil {
		return err
	}
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 1000 {
			return invalid("limit", "limit is between 1 and 1000")
		}
	}
	list, err := a.store.Decisions(r.Context(), id, limit)
	if err != nil {
		return err
	}
	items(w, list)
	return nil
}

// policyView is an account's compliance policy as the API shows it, for
// the audit log's before (nil when it cannot be read).
func (a *API) policyView(r *http.Request, id string) any {
	p, err := a.store.GetPolicy(r.Context(), id)
	if err != nil {
		return nil
	}
	return compliance.View(p)
}

// listReviews: GET /admin/reviews[?status=pending|released|rejected|all].
func (a *API) listReviews(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	switch status {
	case "":
		status = store.ReviewPending
	case "all":
		status = ""
	case store.ReviewPending, store.ReviewReleased, store.ReviewRejected:
	default:
		return invalid("status", "status is pending, released, rejected or all")
	}
	list, err := a.store.Reviews(r.Context(), status, 500)
	if err != nil {
		return err
	}
	items(w, list)
	return nil
}

// decideReview: POST /admin/reviews/{message}/release or …/reject. A
// released message is sent; a rejected one fails and is refunded.
func (a *API) decideReview(w http.ResponseWriter, r *http.Request) error {
	status := map[string]string{"release": store.ReviewReleased, "reject": store.ReviewRejected}[r.PathValue("action")]
	if status == "" {
		return &problem{http.StatusNotFound, 20, "", "use …/release or …/reject", nil}
	}
	rv, err := a.store.DecideReview(r.Context(), r.PathValue("message"), status, actor(r))
	if errors.Is(err, store.ErrConflict) {
		return &problem{http.StatusConflict, 10, "message", "this message was decided already", nil}
	}
	if err != nil {
		return err
	}
	if a.released != nil && status == store.ReviewReleased {
		a.released()
	}
	writeJSON(w, http.StatusOK, rv)
	return nil
}
