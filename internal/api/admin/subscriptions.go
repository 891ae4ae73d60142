package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/subscriptions"
)

// UseSubscriptions serves plans, subscriptions, invoices and the account
// lifecycle (docs/subscriptions.md) with svc.
func (a *API) UseSubscriptions(svc *subscriptions.Service) { a.subs = svc }

// registerSubscriptions: ACCT-2…4.
func (a *API) registerSubscriptions(mux *http.ServeMux) {
	if a.subs == nil {
		return
	}
	a.handle(mux, "PUT /admin/plans/{plan}", a.putPlan)
	a.handle(mux, "GET /admin/plans", a.listPlans)
	a.handle(mux, "POST /admin/accounts/{id}/trial", a.startTrial)
	a.handle(mux, "PUT /admin/accounts/{id}/subscription", a.subscribe)
	a.handle(mux, "DELETE /admin/accounts/{id}/subscription", a.cancelSubscription)
	a.handle(mux, "GET /admin/accounts/{id}/subscription", a.getSubscription)
	a.handle(mux, "GET /admin/accounts/{id}/invoices", a.listInvoices)
	a.handle(mux, "GET /admin/accounts/{id}/invoices/{invoice}", a.getInvoice)
	a.handle(mux, "POST /admin/accounts/{id}/invoices/{invoice}/{action}", a.invoiceAction)
	a.handle(mux, "GET /admin/invoices", a.allInvoices)
	a.handle(mux, "GET /admin/accounts/{id}/export", a.exportAccount)
	a.handle(mux, "GET /admin/accounts/{id}/archive", a.accountArchive)
	a.handle(mux, "POST /admin/subscriptions/run", a.runSubscriptions)
}

// subsProblem answers the subscriptions package's errors.
func subsProblem(err error) error {
	var inv *subscriptions.InvalidError
	switch {
	case errors.As(err, &inv):
		return invalid(inv.Param, inv.Msg)
	case errors.Is(err, subscriptions.ErrState):
		return &problem{http.StatusConflict, 10, "", err.Error(), nil}
	case errors.Is(err, store.ErrInsufficientBalance):
		return &problem{http.StatusUnprocessableEntity, 25, "", "the balance does not cover the invoice: top up first", nil}
	}
	return err
}

// micros parses an amount (a JSON number or string of the currency);
// empty is 0.
func micros(param string, n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	v, err := message.ParseMicros(string(n))
	if err != nil {
		return 0, invalid(param, param+" is an amount such as 49.99")
	}
	return v, nil
}

// putPlan: PUT /admin/plans/{plan} {name, currency, monthlyFee,
// includedSeats, seatPrice, addons: [{code, name, price}]} creates or
// changes a plan (a change applies from each subscription's next period).
func (a *API) putPlan(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name          string      `json:"name"`
		Currency      string      `json:"currency"`
		MonthlyFee    json.Number `json:"monthlyFee"`
		IncludedSeats int         `json:"includedSeats"`
		SeatPrice     json.Number `json:"seatPrice"`
		Addons        []struct {
			Code  string      `json:"code"`
			Name  string      `json:"name"`
			Price json.Number `json:"price"`
		} `json:"addons"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	p := store.Plan{ID: r.PathValue("plan"), Name: req.Name, Currency: req.Currency, IncludedSeats: req.IncludedSeats}
	var err error
	if p.MonthlyFee, err = micros("monthlyFee", req.MonthlyFee); err != nil {
		return err
	}
	if p.SeatPrice, err = micros("seatPrice", req.SeatPrice); err != nil {
		return err
	}
	for _, ad := range req.Addons {
		price, err := micros("addons.price", ad.Price)
		if err != nil {
			return err
		}
		p.Addons = append(p.Addons, store.Addon{Code: ad.Code, Name: ad.Name, Price: price})
	}
	saved, err := a.subs.PutPlan(r.Context(), p)
	if err != nil {
		return subsProblem(err)
	}
	writeJSON(w, http.StatusOK, subscriptions.ViewPlan(saved))
	return nil
}

// listPlans: GET /admin/plans.
func (a *API) listPlans(w http.ResponseWriter, r *http.Request) error {
	list, err := a.store.Plans(r.Context())
	if err != nil {
		return err
	}
	out := make([]subscriptions.PlanView, 0, len(list))
	for i := range list {
		out = append(out, subscriptions.ViewPlan(&list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// startTrial: POST /admin/accounts/{id}/trial {plan, credit, days}.
func (a *API) startTrial(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Plan   string      `json:"plan"`
		Credit json.Number `json:"credit"`
		Days   int         `json:"days"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	credit, err := micros("credit", req.Credit)
	if err != nil {
		return err
	}
	sub, err := a.subs.StartTrial(r.Context(), r.PathValue("id"), req.Plan, credit, time.Duration(req.Days)*subscriptions.Day, operator(r))
	if err != nil {
		return subsProblem(err)
	}
	writeJSON(w, http.StatusCreated, subscriptions.ViewSubscription(sub, nil))
	return nil
}

// subscribe: PUT /admin/accounts/{id}/subscription {plan, addons}
// subscribes (a trial converts), or changes the plan from the next period.
func (a *API) subscribe(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Plan   string   `json:"plan"`
		Addons []string `json:"addons"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	sub, inv, err := a.subs.Subscribe(r.Context(), r.PathValue("id"), req.Plan, req.Addons, operator(r))
	if err != nil {
		return subsProblem(err)
	}
	out := map[string]any{"subscription": subscriptions.ViewSubscription(sub, a.lifecycle(r, sub.AccountID)), "invoice": nil}
	if inv != nil {
		out["invoice"] = subscriptions.ViewInvoice(inv)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) lifecycle(r *http.Request, accountID string) *store.Lifecycle {
	l, err := a.store.GetLifecycle(r.Context(), accountID)
	if err != nil {
		return nil
	}
	return l
}

// cancelSubscription: DELETE /admin/accounts/{id}/subscription — it is
// not renewed.
func (a *API) cancelSubscription(w http.ResponseWriter, r *http.Request) error {
	sub, err := a.subs.Cancel(r.Context(), r.PathValue("id"), operator(r))
	if err != nil {
		return subsProblem(err)
	}
	writeJSON(w, http.StatusOK, subscriptions.ViewSubscription(sub, a.lifecycle(r, sub.AccountID)))
	return nil
}

// getSubscription: GET /admin/accounts/{id}/subscription.
func (a *API) getSubscription(w http.ResponseWriter, r *http.Request) error {
	sub, err := a.store.GetSubscription(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subscriptions.ViewSubscription(sub, a.lifecycle(r, sub.AccountID)))
	return nil
}

func writeInvoices(w http.ResponseWriter, list []store.Invoice) {
	out := make([]subscriptions.InvoiceView, 0, len(list))
	for i := range list {
		out = append(out, subscriptions.ViewInvoice(&list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

var invoiceStatuses = map[string]bool{"": true, store.InvoicePaid: true, store.InvoiceFailed: true, store.InvoiceDisputed: true, store.InvoiceVoid: true}

// listInvoices: GET /admin/accounts/{id}/invoices[?status=…].
func (a *API) listInvoices(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	if !invoiceStatuses[status] {
		return invalid("status", "status is paid, failed, disputed or void")
	}
	list, err := a.store.Invoices(r.Context(), r.PathValue("id"), status)
	if err != nil {
		return err
	}
	writeInvoices(w, list)
	return nil
}

// allInvoices: GET /admin/invoices?status=failed — every account's.
func (a *API) allInvoices(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	if !invoiceStatuses[status] || status == "" {
		return invalid("status", "status is paid, failed, disputed or void")
	}
	list, err := a.store.Invoices(r.Context(), "", status)
	if err != nil {
		return err
	}
	writeInvoices(w, list)
	return nil
}

// getInvoice: GET /admin/accounts/{id}/invoices/{invoice}.
func (a *API) getInvoice(w http.ResponseWriter, r *http.Request) error {
	inv, err := a.store.GetInvoice(r.Context(), r.PathValue("id"), r.PathValue("invoice"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subscriptions.ViewInvoice(inv))
	return nil
}

// invoiceAction: POST /admin/accounts/{id}/invoices/{invoice}/pay,
// …/dispute, …/undispute or …/void, with an optional {note}.
func (a *API) invoiceAction(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			return err
		}
	}
	id, inv := r.PathValue("id"), r.PathValue("invoice")
	var out *store.Invoice
	var err error
	switch r.PathValue("action") {
	case "pay":
		out, err = a.subs.Pay(r.Context(), id, inv, operator(r))
	case "dispute":
		out, err = a.subs.SetInvoiceStatus(r.Context(), id, inv, store.InvoiceDisputed, strings.TrimSpace(req.Note), operator(r))
	case "undispute":
		out, err = a.subs.SetInvoiceStatus(r.Context(), id, inv, store.InvoiceFailed, strings.TrimSpace(req.Note), operator(r))
	case "void":
		out, err = a.subs.SetInvoiceStatus(r.Context(), id, inv, store.InvoiceVoid, strings.TrimSpace(req.Note), operator(r))
	default:
		return &problem{http.StatusNotFound, 20, "", "use …/pay, …/dispute, …/undispute or …/void", nil}
	}
	if err != nil {
		return subsProblem(err)
	}
	writeJSON(w, http.StatusOK, subscriptions.ViewInvoice(out))
	return nil
}

// exportAccount: GET /admin/accounts/{id}/export — the zip offered
// before a deletion.
func (a *API) exportAccount(w http.ResponseWriter, r *http.Request) error {
	b, err := a.subs.Export(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeZip(w, "account-"+r.PathValue("id")+".zip", b)
	return nil
}

// accountArchive: GET /admin/accounts/{id}/archive — a deleted account's
// archive, until it is purged.
func (a *API) accountArchive(w http.ResponseWriter, r *http.Request) error {
	b, until, err := a.store.AccountArchive(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("X-Archive-Until", until.Format(time.RFC3339))
	writeZip(w, "archive-"+r.PathValue("id")+".zip", b)
	return nil
}

func writeZip(w http.ResponseWriter, name string, b []byte) {
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// runSubscriptions: POST /admin/subscriptions/run makes a pass now
// (renewals, dunning, trials, inactivity, deletions).
func (a *API) runSubscriptions(w http.ResponseWriter, r *http.Request) error {
	p, err := a.subs.Pass(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
