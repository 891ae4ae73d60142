// Package admin is the operator's HTTP API: money movements (top-ups,
// refunds, adjustments), settling pending top-ups, usage limits, an
// account's billing settings and price-list imports; and compliance —
// sender approval, suspension, proof cases, complaints, do-not-disturb
// imports and the review queue of held messages. It is served only when
// an admin token is configured and every request must carry it as
// "Authorization: Bearer <token>". Failed tokens are limited like access
// keys (internal/authguard), and every request is written to the audit
// trail (event admin.action). Errors use the same JSON format as the rest
// of the API.
package admin

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/email/domains"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/privacy"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/subscriptions"
	"github.com/omnigate/omnigate/internal/verify"
	"github.com/omnigate/omnigate/internal/webhook"
)

// API serves /admin/….
type API struct {
	tokenHash [32]byte
	store     store.Store
	billing   *billing.Service
	desk      *compliance.Desk
	released  func() // wakes the dispatcher after a held message is released
	guard     *authguard.Guard
	trail     *audit.Trail
	changes   *audit.Log // the stored audit log; nil: none
	log       *slog.Logger
	domains   domains.Config // sending domains' records, for answers
	verify    *verify.Service
	privacy   *privacy.Service
	retention *privacy.Retention
	imports   *imports.Runner // import jobs; nil: not served
	// subs serves plans, subscriptions and invoices; nil: not served.
	subs *subscriptions.Service
	// beams serves Beams instances' quotas; nil: not served.
	beams interface {
		store.Realtime
		store.Push
	}
}

// Protect limits failed tokens with g and writes every request to the
// audit trail t. Call it before Register.
func (a *API) Protect(g *authguard.Guard, t *audit.Trail) { a.guard, a.trail = g, t }

// UseAuditLog records every change (a write request that succeeded) in
// l, and serves it at GET /admin/audit.
func (a *API) UseAuditLog(l *audit.Log) { a.changes = l }

// OnRelease sets what wakes the dispatcher once a held message is released.
func (a *API) OnRelease(f func()) { a.released = f }

// New makes the admin API for token (required).
func New(token string, st store.Store, b *billing.Service, desk *compliance.Desk, log *slog.Logger) *API {
	return &API{tokenHash: sha256.Sum256([]byte(token)), store: st, billing: b, desk: desk, log: log}
}

// Register adds the routes.
func (a *API) Register(mux *http.ServeMux) {
	a.handle(mux, "POST /admin/accounts/{id}/ledger", a.addMovement)
	a.registerVerify(mux)
	a.handle(mux, "GET /admin/accounts/{id}/topups", a.listTopUps)
	a.handle(mux, "POST /admin/topups/{id}/{action}", a.settleTopUp)
	a.handle(mux, "PUT /admin/accounts/{id}/limits", a.setLimit)
	a.handle(mux, "DELETE /admin/accounts/{id}/limits", a.deleteLimit)
	a.handle(mux, "PUT /admin/accounts/{id}/billing", a.setBilling)
	a.handle(mux, "GET /admin/accounts/{id}/settings", a.getSettings)
	a.handle(mux, "PUT /admin/accounts/{id}/settings", a.setSettings)
	a.handle(mux, "POST /admin/prices", a.importPrices)
	a.registerCompliance(mux)
	a.registerEmailDomains(mux)
	a.registerTerms(mux)
	a.registerSubscriptions(mux)
	a.handle(mux, "GET /admin/audit", a.listAudit)
	a.registerPrivacy(mux)
	a.registerImports(mux)
	a.registerBeams(mux)
}

type apiError struct {
	Code        int     `json:"code"`
	Description string  `json:"description"`
	Parameter   *string `json:"parameter"`
}

// problem is an error answer.
type problem struct {
	status int
	code   int
	param  string
	desc   string
	rows   []string // more descriptions, one error each (bad rows of an import)
}

func (p *problem) Error() string { return p.desc }

func invalid(param, desc string) *problem {
	return &problem{http.StatusUnprocessableEntity, 10, param, desc, nil}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeProblem(w http.ResponseWriter, p *problem) {
	var errs []apiError
	for _, d := range append([]string{p.desc}, p.rows...) {
		e := apiError{Code: p.code, Description: d}
		if p.param != "" {
			e.Parameter = &p.param
		}
		errs = append(errs, e)
	}
	writeJSON(w, p.status, struct {
		Errors []apiError `json:"errors"`
	}{errs})
}

func (a *API) handle(mux *http.ServeMux, pattern string, h func(http.ResponseWriter, *http.Request) error) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		token = strings.TrimSpace(token)
		unauthorized := &problem{http.StatusUnauthorized, 2, "token", "request not allowed (missing or wrong admin token)", nil}
		if !ok || token == "" {
			writeProblem(w, unauthorized) // tries no token: not a failure to count
			return
		}
		at := authguard.Attempt{Door: authguard.Admin, Source: authguard.Source(r), Prefix: authguard.Prefix(token)}
		if wait, ok := a.guard.Allow(at); !ok {
			w.Header().Set("Retry-After", authguard.RetryAfter(wait))
			writeProblem(w, &problem{http.StatusTooManyRequests, 28, "token",
				"too many failed authentications from this address or with this token; try again in " + authguard.RetryAfter(wait) + " s", nil})
			return
		}
		sum := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(sum[:], a.tokenHash[:]) != 1 {
			a.guard.Failed(at, "bad_token")
			writeProblem(w, unauthorized)
			return
		}
		a.guard.Succeeded(at)
		start, rec := time.Now(), rest.NewStatusRecorder(w)
		w = rec
		ctx, note := audit.WithNote(r.Context())
		r = r.WithContext(ctx)
		body := audit.KeepBody(r)
		defer func() {
			if a.changes != nil && audit.Changes(r.Method, rec.Status) {
				c := audit.Change{Actor: operator(r), Account: accountOf(pattern, r), IP: at.Source, Action: pattern, Object: r.URL.Path}
				if note.Fill(&c, body()) {
					a.changes.Record(r.Context(), c)
				}
			}
			a.trail.Record(slog.LevelInfo, "admin.action", slog.String("route", pattern), slog.String("path", r.URL.Path),
				slog.Int("status", rec.Status), slog.String("operator", actor(r)), slog.String("source", at.Source),
				slog.Duration("took", time.Since(start)))
		}()
		err := checkText(r)
		if err == nil {
			err = h(w, r)
		}
		var p *problem
		var rp *rest.Problem
		var in *compliance.InputError
		var imp *compliance.ImportError
		var bad *imports.ImportError
		switch {
		case err == nil:
		case errors.As(err, &p):
			writeProblem(w, p)
		case errors.As(err, &rp):
			writeProblem(w, fromRest(rp))
		case errors.As(err, &in):
			writeProblem(w, invalid(in.Field, in.Reason))
		case errors.As(err, &imp):
			writeProblem(w, &problem{http.StatusUnprocessableEntity, 10, "file", imp.Rows[0], imp.Rows[1:]})
		case errors.As(err, &bad):
			rows := bad.Rows
			if more := bad.Count - int64(len(rows)); more > 0 {
				rows = append(rows[:len(rows):len(rows)], "… and "+strconv.FormatInt(more, 10)+" more bad rows")
			}
			writeProblem(w, &problem{http.StatusUnprocessableEntity, 10, "file", rows[0], rows[1:]})
		case errors.Is(err, store.ErrNotFound):
			writeProblem(w, &problem{http.StatusNotFound, 20, "", "not found", nil})
		default:
			a.log.Error("admin: request failed", "path", r.URL.Path, "err", err)
			writeProblem(w, &problem{http.StatusInternalServerError, 99, "", "internal error; nothing was changed, try again later", nil})
		}
	})
}

// checkText applies the doors' text rules (internal/api/rest) to the
// path, the query and the operator's name.
func checkText(r *http.Request) error {
	if p := rest.CheckRequest(r); p != nil {
		return p
	}
	for _, op := range r.Header.Values("X-Operator") {
		if p := rest.CheckText("X-Operator", op, false); p != nil {
			return p
		}
	}
	return nil
}

// fromRest is a problem of the REST style in the admin API's answer.
func fromRest(rp *rest.Problem) *problem {
	p := &problem{status: rp.Status, code: rest.CodeInvalidParams}
	if len(rp.Errors) > 0 {
		e := rp.Errors[0]
		p.code, p.desc = e.Code, e.Description
		if e.Parameter != nil {
			p.param = *e.Parameter
		}
	}
	return p
}

func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return &problem{http.StatusBadRequest, 10, "", "could not read the request body (at most 1 MiB)", nil}
	}
	if p := rest.CheckJSON(body); p != nil {
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return &problem{http.StatusBadRequest, 10, "", "malformed JSON: " + err.Error(), nil}
	}
	return nil
}

// amount reads a decimal amount given as a JSON number or string.
func amount(name string, v json.Number) (int64, error) {
	n, err := message.ParseMicros(strings.Trim(string(v), `"`))
	if err != nil {
		return 0, invalid(name, name+" must be an amount with at most 6 decimals, e.g. 25.50, and at most "+message.MaxAmountText)
	}
	return n, nil
}

// actor names the operator for the ledger: the X-Operator header, if given.
func actor(r *http.Request) string {
	if op := strings.TrimSpace(r.Header.Get("X-Operator")); op != "" && len(op) < 100 {
		return "operator:" + op
	}
	return "operator"
}

// operator is the audit log's actor: the operator, named by X-Operator.
func operator(r *http.Request) audit.Actor {
	name, _ := strings.CutPrefix(actor(r), "operator")
	return audit.Operator(strings.TrimPrefix(name, ":"))
}

// accountOf is the account a request concerns: {id} of the
// /admin/accounts/{id}/… routes, else the account query parameter.
func accountOf(pattern string, r *http.Request) string {
	if _, path, _ := strings.Cut(pattern, " "); strings.HasPrefix(path, "/admin/accounts/{id}") {
		return r.PathValue("id")
	}
	return r.URL.Query().Get("account")
}

type entryJSON struct {
	ID           int64       `json:"id"`
	AccountID    string      `json:"accountId"`
	Kind         string      `json:"kind"`
	Amount       json.Number `json:"amount"`
	Currency     string      `json:"currency"`
	BalanceAfter json.Number `json:"balanceAfter"`
	Reason       string      `json:"reason"`
	Actor        string      `json:"actor"`
}

// addMovement: POST /admin/accounts/{id}/ledger {kind, amount, reason, idempotencyKey}.
func (a *API) addMovement(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Kind           string      `json:"kind"`
		Amount         json.Number `json:"amount"`
		Reason         string      `json:"reason"`
		IdempotencyKey string      `json:"idempotencyKey"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	n, err := amount("amount", req.Amount)
	if err != nil {
		return err
	}
	e, err := a.billing.Move(r.Context(), billing.Movement{AccountID: r.PathValue("id"), Kind: req.Kind, Amount: n,
		Reason: req.Reason, Actor: actor(r), IdempotencyKey: req.IdempotencyKey})
	switch {
	case errors.Is(err, store.ErrConflict):
		return &problem{http.StatusConflict, 10, "idempotencyKey", "a movement with this idempotencyKey exists already; nothing changed", nil}
	case errors.Is(err, store.ErrInsufficientBalance):
		return &problem{http.StatusUnprocessableEntity, 25, "amount", "the balance cannot go that low", nil}
	case errors.Is(err, store.ErrNotFound):
		return err
	case err != nil:
		return invalid("", err.Error())
	}
	writeJSON(w, http.StatusCreated, entryJSON{e.ID, e.AccountID, e.Kind, json.Number(message.FormatMicros(e.Amount)), e.Currency,
		json.Number(message.FormatMicros(e.BalanceAfter)), e.Reason, e.Actor})
	return nil
}

func (a *API) listTopUps(w http.ResponseWriter, r *http.Request) error {
	list, err := a.store.TopUps(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Items []store.TopUp `json:"items"`
	}{list})
	return nil
}

// settleTopUp: POST /admin/topups/{id}/confirm or …/cancel.
func (a *API) settleTopUp(w http.ResponseWriter, r *http.Request) error {
	status := map[string]string{"confirm": store.TopUpConfirmed, "cancel": store.TopUpCancelled}[r.PathValue("action")]
	if status == "" {
		return &problem{http.StatusNotFound, 20, "", "use …/confirm or …/cancel", nil}
	}
	t, err := a.store.SettleTopUp(r.Context(), r.PathValue("id"), status, actor(r))
	if errors.Is(err, store.ErrConflict) {
		return &problem{http.StatusConflict, 10, "id", "this top-up is not pending", nil}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

type limitJSON struct {
	Metric  string      `json:"metric"`
	Channel string      `json:"channel"`
	Period  string      `json:"period"`
	Limit   json.Number `json:"limit"`
	Policy  string      `json:"policy"`
}

// ParseLimit validates a usage limit; the CLI uses it too.
func ParseLimit(accountID, metric, channel, period, limit, policy string) (store.UsageLimit, error) {
	l := store.UsageLimit{AccountID: accountID, Metric: metric, Channel: channel, Period: period, Policy: policy}
	switch metric {
	case store.MetricMessages:
		if l.Channel == "" {
			l.Channel = message.ChannelSMS
		}
		n, err := message.ParseMicros(limit)
		if err != nil || n%message.MicrosPerUnit != 0 || n <= 0 {
			return l, invalid("limit", "a messages limit is a whole number from 1 to 999999999")
		}
		l.Limit = n / message.MicrosPerUnit
	case store.MetricSpend:
		l.Channel = ""
		n, err := message.ParseMicros(limit)
		if err != nil || n <= 0 {
			return l, invalid("limit", "a spend limit is a positive amount, e.g. 250.00, of at most "+message.MaxAmountText)
		}
		l.Limit = n
	default:
		return l, invalid("metric", "metric must be messages or spend")
	}
	if period != store.PeriodDay && period != store.PeriodMonth {
		return l, invalid("period", "period must be day or month")
	}
	if policy == "" {
		l.Policy = store.PolicyBlock
	} else if policy != store.PolicyBlock && policy != store.PolicyAllow {
		return l, invalid("policy", "policy must be block or allow")
	}
	return l, nil
}

func (a *API) setLimit(w http.ResponseWriter, r *http.Request) error {
	var req limitJSON
	if err := decode(r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := a.store.GetAccount(r.Context(), id); err != nil {
		return err
	}
	l, err := ParseLimit(id, req.Metric, req.Channel, req.Period, strings.Trim(string(req.Limit), `"`), req.Policy)
	if err != nil {
		return err
	}
	if err := a.store.SetUsageLimit(r.Context(), l); err != nil {
		return err
	}
	a.billing.InvalidateLimits(id)
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (a *API) deleteLimit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	l := store.UsageLimit{AccountID: r.PathValue("id"), Metric: q.Get("metric"), Channel: q.Get("channel"), Period: q.Get("period")}
	if l.Metric == store.MetricMessages && l.Channel == "" {
		l.Channel = message.ChannelSMS
	}
	if err := a.store.DeleteUsageLimit(r.Context(), l); err != nil {
		return err
	}
	a.billing.InvalidateLimits(l.AccountID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setBilling: PUT /admin/accounts/{id}/billing {payment, creditLimit, alertUrl, alertEmails}.
func (a *API) setBilling(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Payment     *string      `json:"payment"`
		CreditLimit *json.Number `json:"creditLimit"`
		AlertURL    *string      `json:"alertUrl"`
		AlertEmails *[]string    `json:"alertEmails"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	acct, err := a.store.GetAccount(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	before := billingOf(acct)
	if req.Payment != nil {
		acct.Payment = *req.Payment
	}
	if req.CreditLimit != nil {
		if acct.CreditLimit, err = amount("creditLimit", *req.CreditLimit); err != nil {
			return err
		}
	}
	if req.AlertURL != nil {
		acct.AlertURL = *req.AlertURL
	}
	if req.AlertEmails != nil {
		acct.AlertEmails = *req.AlertEmails
	}
	if err := CheckBilling(acct); err != nil {
		return err
	}
	if err := a.store.SetBilling(r.Context(), acct); err != nil {
		return err
	}
	after := billingOf(acct)
	audit.Noted(r.Context()).Changed(before, after)
	writeJSON(w, http.StatusOK, after)
	return nil
}

// billingJSON is an account's billing settings as the admin API shows them.
type billingJSON struct {
	Payment     string      `json:"payment"`
	CreditLimit json.Number `json:"creditLimit"`
	AlertURL    string      `json:"alertUrl"`
	AlertEmails []string    `json:"alertEmails"`
}

func billingOf(acct *store.Account) billingJSON {
	return billingJSON{acct.Payment, json.Number(message.FormatMicros(acct.CreditLimit)), acct.AlertURL,
		slices.Clone(acct.AlertEmails)}
}

// settingsJSON is an account's switches as the admin API shows them.
type settingsJSON struct {
	StrictNumbers   bool   `json:"strictNumbers"`
	LegacySignature string `json:"legacySignature"`
}

func showSettings(a *store.Account) settingsJSON {
	return settingsJSON{StrictNumbers: a.StrictNumbers, LegacySignature: a.LegacySignature}
}

// getSettings: GET /admin/accounts/{id}/settings.
func (a *API) getSettings(w http.ResponseWriter, r *http.Request) error {
	acct, err := a.store.GetAccount(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, showSettings(acct))
	return nil
}

// setSettings: PUT /admin/accounts/{id}/settings {strictNumbers,
// legacySignature}; fields left out stay as they are.
func (a *API) setSettings(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		StrictNumbers   *bool   `json:"strictNumbers"`
		LegacySignature *string `json:"legacySignature"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	acct, err := a.store.GetAccount(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	before := showSettings(acct)
	if req.StrictNumbers != nil {
		acct.StrictNumbers = *req.StrictNumbers
	}
	if req.LegacySignature != nil {
		acct.LegacySignature = *req.LegacySignature
	}
	if err := CheckSettings(acct); err != nil {
		return err
	}
	if err := a.store.SetAccountSettings(r.Context(), acct); err != nil {
		return err
	}
	audit.Noted(r.Context()).Changed(before, showSettings(acct))
	writeJSON(w, http.StatusOK, showSettings(acct))
	return nil
}

// CheckSettings validates an account's switches; the CLI uses it too.
func CheckSettings(a *store.Account) error {
	if !slices.Contains(webhook.LegacyStyles, a.LegacySignature) {
		return invalid("legacySignature", "legacySignature must be one of "+strings.Join(webhook.LegacyStyles, ", "))
	}
	return nil
}

// CheckBilling validates an account's billing settings; the CLI uses it too.
func CheckBilling(a *store.Account) error {
	if a.Payment != "prepaid" && a.Payment != "postpaid" {
		return invalid("payment", "payment must be prepaid or postpaid")
	}
	if a.CreditLimit < 0 || (a.Payment == "prepaid" && a.CreditLimit != 0) {
		return invalid("creditLimit", "a credit limit is a positive amount, for postpaid accounts only")
	}
	if err := accounts.CheckReportURL(a.AlertURL); err != nil {
		return invalid("alertUrl", "alertUrl must be an absolute http or https URL")
	}
	for _, e := range a.AlertEmails {
		if at := strings.IndexByte(e, '@'); at < 1 || at == len(e)-1 || strings.ContainsAny(e, " ,<>\r\n") {
			return invalid("alertEmails", "alert email "+e+" is not an address")
		}
	}
	return nil
}

// importPrices: POST /admin/prices[?account=ID] with a CSV body.
func (a *API) importPrices(w http.ResponseWriter, r *http.Request) error {
	accountID := r.URL.Query().Get("account")
	if accountID != "" {
		if _, err := a.store.GetAccount(r.Context(), accountID); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, 16<<20)); err != nil {
		return &problem{http.StatusRequestEntityTooLarge, 10, "", "the price file is larger than 16 MiB", nil}
	}
	if p := rest.CheckFile("file", buf.Bytes()); p != nil {
		return p
	}
	ps, err := billing.ParsePricesCSV(&buf, accountID, time.Now().UTC(), a.billing.Channels())
	if err != nil {
		return invalid("file", err.Error())
	}
	if err := a.store.UpsertPrices(r.Context(), ps); err != nil {
		return err
	}
	a.billing.Pricer().Invalidate()
	audit.Noted(r.Context()).Changed(nil, map[string]any{"account": accountID, "imported": len(ps)})
	writeJSON(w, http.StatusOK, struct {
		Imported int `json:"imported"`
	}{len(ps)})
	return nil
}
