package account

import (
	"errors"
	"net/http"
	"strings"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/subscriptions"
)

// UseSubscriptions serves the account's subscription, invoices and export
// (docs/subscriptions.md) with svc.
func (a *API) UseSubscriptions(svc *subscriptions.Service) { a.subs = svc }

// registerSubscriptions: GET /subscription, /invoices, /invoices/{id},
// POST /invoices/{id}/pay and …/dispute, GET /account/export.
func (a *API) registerSubscriptions(mux *http.ServeMux) []string {
	if a.subs == nil {
		return nil
	}
	a.rest.Handle(mux, "GET /subscription", a.getSubscription)
	a.rest.Handle(mux, "GET /invoices", a.listInvoices)
	a.rest.Handle(mux, "GET /invoices/{id}", a.getInvoice)
	a.rest.Handle(mux, "POST /invoices/{id}/pay", a.payInvoice)
	a.rest.Handle(mux, "POST /invoices/{id}/dispute", a.disputeInvoice)
	a.rest.Handle(mux, "GET /account/export", a.exportAccount)
	return []string{"/subscription", "/invoices", "/invoices/{id}", "/invoices/{id}/pay", "/invoices/{id}/dispute", "/account/export"}
}

func errNoSubscription() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "the account has no subscription")
}

func errNoInvoice() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "id", "no such invoice")
}

// getSubscription: GET /subscription — the plan, trial or period, and
// where the account is in its lifecycle (null: active). A test key sees
// none: it is the live account's.
func (a *API) getSubscription(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errNoSubscription()
	}
	sub, err := a.store.GetSubscription(r.Context(), pr.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return errNoSubscription()
	}
	if err != nil {
		return err
	}
	l, err := a.store.GetLifecycle(r.Context(), pr.AccountID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	out := subscriptions.ViewSubscription(sub, l)
	if p, err := a.store.GetPlan(r.Context(), sub.PlanID); err == nil {
		rest.WriteJSON(w, http.StatusOK, map[string]any{"subscription": out, "plan": subscriptions.ViewPlan(p)})
		return nil
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"subscription": out, "plan": nil})
	return nil
}

// listInvoices: GET /invoices[?status=paid|failed|disputed|void], the
// newest first.
func (a *API) listInvoices(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	status := r.URL.Query().Get("status")
	switch status {
	case "", store.InvoicePaid, store.InvoiceFailed, store.InvoiceDisputed, store.InvoiceVoid:
	default:
		return rest.Invalid("status", "status is paid, failed, disputed or void")
	}
	out := []subscriptions.InvoiceView{}
	if !pr.Test {
		list, err := a.store.Invoices(r.Context(), pr.AccountID, status)
		if err != nil {
			return err
		}
		for i := range list {
			out = append(out, subscriptions.ViewInvoice(&list[i]))
		}
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// getInvoice: GET /invoices/{id}.
func (a *API) getInvoice(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errNoInvoice()
	}
	inv, err := a.store.GetInvoice(r.Context(), pr.AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNoInvoice()
	}
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, subscriptions.ViewInvoice(inv))
	return nil
}

// invoiceProblem answers the subscriptions package's errors.
func invoiceProblem(err error) error {
	var inv *subscriptions.InvalidError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNoInvoice()
	case errors.As(err, &inv):
		return rest.Invalid(inv.Param, inv.Msg)
	case errors.Is(err, subscriptions.ErrState):
		return rest.NewProblem(http.StatusConflict, rest.CodeInvalidParams, "id", err.Error())
	}
	return err // ErrInsufficientBalance: 422 code 25, not enough balance
}

// payInvoice: POST /invoices/{id}/pay charges an unpaid invoice from the
// balance now (after a top-up), instead of waiting for the daily retry.
func (a *API) payInvoice(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return rest.TestKeyRefused("pay invoices")
	}
	inv, err := a.subs.Pay(r.Context(), pr.AccountID, r.PathValue("id"), audit.Key(pr.KeyID))
	if err != nil {
		return invoiceProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, subscriptions.ViewInvoice(inv))
	return nil
}

// disputeInvoice: POST /invoices/{id}/dispute {note} contests an unpaid
// invoice: while the dispute lasts it is not charged and does not
// suspend the account; the operator closes the dispute.
func (a *API) disputeInvoice(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return rest.TestKeyRefused("dispute invoices")
	}
	var req struct {
		Note string `json:"note"`
	}
	if p := a.decodeJSON(w, r, &req); p != nil {
		return p
	}
	req.Note = strings.TrimSpace(req.Note)
	if req.Note == "" {
		return rest.Invalid("note", "say why the invoice is wrong")
	}
	inv, err := a.subs.SetInvoiceStatus(r.Context(), pr.AccountID, r.PathValue("id"), store.InvoiceDisputed, req.Note, audit.Key(pr.KeyID))
	if err != nil {
		return invoiceProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, subscriptions.ViewInvoice(inv))
	return nil
}

// exportAccount: GET /account/export — a zip of everything the account
// holds (JSON and CSV per table), the export offered before a deletion.
func (a *API) exportAccount(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return rest.TestKeyRefused("export the account")
	}
	b, err := a.subs.Export(r.Context(), pr.AccountID)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="account-`+pr.AccountID+`.zip"`)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}
