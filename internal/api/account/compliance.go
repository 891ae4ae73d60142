package account

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/store"
)

// The compliance endpoints: the consent ledger, suppressions, sender
// registration, the account's policy, proof-of-consent cases and the
// decisions taken on its messages.
func (a *API) registerCompliance(mux *http.ServeMux) []string {
	a.rest.Handle(mux, "POST /consents", a.addConsent)
	a.rest.Handle(mux, "GET /consents", a.listConsents)
	a.rest.Handle(mux, "GET /consents/proof", a.consentProof)
	a.rest.Handle(mux, "POST /consents/import", a.importConsents)
	a.rest.Handle(mux, "GET /senders", a.listSenders)
	a.rest.Handle(mux, "POST /senders", a.registerSender)
	a.rest.Handle(mux, "GET /compliance/policy", a.getPolicy)
	a.rest.Handle(mux, "PATCH /compliance/policy", a.changePolicy)
	a.rest.Handle(mux, "GET /compliance/cases", a.listCases)
	a.rest.Handle(mux, "POST /compliance/cases/{id}/proof", a.answerCase)
	a.rest.Handle(mux, "GET /compliance/decisions", a.listDecisions)
	return append(a.registerSuppressions(mux), "/consents", "/consents/proof", "/consents/import", "/senders",
		"/compliance/policy", "/compliance/cases", "/compliance/cases/{id}/proof", "/compliance/decisions")
}

// complianceProblem turns the desk's and the importer's refusals into the
// API's errors; other errors pass.
func complianceProblem(err error) error {
	var in *compliance.InputError
	var imp *compliance.ImportError
	switch {
	case errors.As(err, &in):
		return rest.Invalid(in.Field, in.Reason)
	case errors.As(err, &imp):
		p, param := &rest.Problem{Status: http.StatusUnprocessableEntity}, "file"
		for _, row := range imp.Rows {
			p.Errors = append(p.Errors, rest.Error{Code: rest.CodeInvalidParams, Description: row, Parameter: &param})
		}
		return p
	case errors.Is(err, store.ErrNotFound):
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "not found")
	}
	return err
}

// evidenceKeys are what a consent's evidence may hold.
var evidenceKeys = map[string]int{"text": 4000, "ip": 45, "userAgent": 1000, "formUrl": 2000, "file": 2000, "reference": 200}

func checkEvidence(ev map[string]string) *rest.Problem {
	for k, v := range ev {
		max, ok := evidenceKeys[k]
		switch {
		case !ok:
			return rest.Invalid("evidence", "evidence."+k+" is unknown; use text, ip, userAgent, formUrl, file or reference")
		case len(v) > max:
			return rest.Invalid("evidence", fmt.Sprintf("evidence.%s has at most %d bytes", k, max))
		case k == "ip" && net.ParseIP(v) == nil:
			return rest.Invalid("evidence", "evidence.ip is not an IP address")
		case k == "formUrl":
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return rest.Invalid("evidence", "evidence.formUrl must be an absolute http or https URL")
			}
		}
	}
	return nil
}

// addConsent answers POST /consents {recipient, purpose, action, legalAge,
// categories, source, evidence, actor, consentDatetime}: one entry of the
// append-only ledger.
func (a *API) addConsent(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Recipient       json.RawMessage   `json:"recipient"`
		Purpose         string            `json:"purpose"`
		Action          string            `json:"action"`
		LegalAge        bool              `json:"legalAge"`
		Categories      []string          `json:"categories"`
		Source          string            `json:"source"`
		Evidence        map[string]string `json:"evidence"`
		Actor           string            `json:"actor"`
		ConsentDatetime string            `json:"consentDatetime"`
	}
	if p := a.decodeJSON(w, r, &req); p != nil {
		return p
	}
	recipient, p := rest.JSONText("recipient", req.Recipient)
	switch {
	case p != nil:
		return p
	case recipient == "":
		return rest.Missing("recipient")
	case req.Purpose == "":
		return rest.Missing("purpose")
	case req.Action == "":
		return rest.Missing("action")
	}
	legalAge := ""
	if req.LegalAge {
		legalAge = "true"
	}
	c, err := compliance.ParseConsent(recipient, req.Purpose, req.Action, legalAge, req.Categories, req.ConsentDatetime, time.Now().UTC())
	if err != nil {
		return rest.Invalid(consentField(err.Error()), err.Error())
	}
	switch req.Source {
	case "":
		req.Source = store.SourceAPI
	case store.SourceAPI, store.SourceWebForm, store.SourceImport:
	default:
		return rest.Invalid("source", "source must be api, web_form or import")
	}
	if p := checkEvidence(req.Evidence); p != nil {
		return p
	}
	if len(req.Actor) > 200 {
		return rest.Invalid("actor", "actor has at most 200 bytes")
	}
	c.Evidence = req.Evidence
	if err := compliance.CheckEvidence(c); err != nil {
		return rest.Invalid("evidence", err.Error())
	}
	pr := rest.Principal(r.Context())
	c.AccountID, c.Source, c.Evidence, c.Actor = pr.AccountID, req.Source, req.Evidence, "api key "+pr.KeyID
	if req.Actor != "" {
		c.Actor += " for " + req.Actor
	}
	if pr.Test {
		rest.WriteJSON(w, http.StatusCreated, c) // a test key validates, never stores
		return nil
	}
	if err := a.store.AddConsents(r.Context(), []*store.Consent{c}); err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusCreated, c)
	return nil
}

// consentField names the parameter a ParseConsent error is about.
func consentField(msg string) string {
	for _, f := range [][2]string{{"recipient", "recipient"}, {"purpose", "purpose"}, {"action", "action"},
		{"legal_age", "legalAge"}, {"category", "categories"}, {"date", "consentDatetime"}} {
		if strings.HasPrefix(msg, f[0]) {
			return f[1]
		}
	}
	return ""
}

// recipientParam reads ?recipient= as the ledger keys it.
func recipientParam(r *http.Request) (string, *rest.Problem) {
	v := r.URL.Query().Get("recipient")
	if v == "" {
		return "", rest.Missing("recipient")
	}
	c, err := compliance.ParseConsent(v, compliance.Marketing, store.OptIn, "", nil, "", time.Now())
	if err != nil {
		return "", rest.Invalid("recipient", err.Error())
	}
	return c.Recipient, nil
}

// listConsents answers GET /consents?recipient=…: the recipient's history,
// oldest first.
func (a *API) listConsents(w http.ResponseWriter, r *http.Request) error {
	recipient, p := recipientParam(r)
	if p != nil {
		return p
	}
	history, err := a.consents(r, recipient)
	if err != nil {
		return err
	}
	if history == nil {
		history = []store.Consent{}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Count int             `json:"count"`
		Items []store.Consent `json:"items"`
	}{len(history), history})
	return nil
}

// consentProof answers GET /consents/proof?recipient=…[&format=csv]: the
// document that proves the recipient's consent, as JSON or CSV.
func (a *API) consentProof(w http.ResponseWriter, r *http.Request) error {
	recipient, p := recipientParam(r)
	if p != nil {
		return p
	}
	format := r.URL.Query().Get("format")
	if format == "" && strings.Contains(r.Header.Get("Accept"), "text/csv") {
		format = "csv"
	}
	if format != "" && format != "csv" && format != "json" {
		return rest.Invalid("format", "format must be json or csv")
	}
	accountID := rest.Principal(r.Context()).AccountID
	history, err := a.consents(r, recipient)
	if err != nil {
		return err
	}
	if format == "csv" {
		var buf bytes.Buffer
		if err := compliance.WriteProofCSV(&buf, history); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="consent-`+recipient+`.csv"`)
		w.Write(buf.Bytes())
		return nil
	}
	rest.WriteJSON(w, http.StatusOK, compliance.Proof(accountID, recipient, history, time.Now().UTC()))
	return nil
}

// consents reads a recipient's history in the ledger: none for a test key,
// whose consents are never stored and which sees no live ones.
func (a *API) consents(r *http.Request, recipient string) ([]store.Consent, error) {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return nil, nil
	}
	return a.store.Consents(r.Context(), pr.AccountID, recipient)
}

// maxImport bounds a consent import.
const maxImport = 64 << 20

// importConsents answers POST /consents/import with a CSV body (header
// recipient,purpose,action[,legal_age,categories,date,evidence]): every row
// or none; each bad row is one error naming its line.
func (a *API) importConsents(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "text/csv" && mt != "text/plain" && mt != "application/csv") {
			return rest.NewProblem(http.StatusUnsupportedMediaType, rest.CodeInvalidParams, "", "send the consents as text/csv")
		}
	}
	body, p := rest.ReadBody(w, r, maxImport)
	if p != nil {
		return p
	}
	if p := rest.CheckFile("file", body); p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	cs, err := compliance.ParseConsentsCSV(bytes.NewReader(body), pr.AccountID, "api key "+pr.KeyID, time.Now().UTC())
	var imp *compliance.ImportError
	if err != nil && !errors.As(err, &imp) {
		return rest.Invalid("file", err.Error())
	}
	if err != nil {
		return complianceProblem(err)
	}
	if pr.Test {
		rest.WriteJSON(w, http.StatusOK, struct {
			Imported int `json:"imported"`
		}{0})
		return nil
	}
	if err := a.store.AddConsents(r.Context(), cs); err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Imported int `json:"imported"`
	}{len(cs)})
	return nil
}

// listSenders answers GET /senders.
func (a *API) listSenders(w http.ResponseWriter, r *http.Request) error {
	list, err := a.store.Senders(r.Context(), rest.Principal(r.Context()).AccountID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.Sender{}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Items []store.Sender `json:"items"`
	}{list})
	return nil
}

// registerSender answers POST /senders {originator}: the sender waits for
// an operator's approval (201); one already known is answered as it is
// (200).
func (a *API) registerSender(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Originator json.RawMessage `json:"originator"`
	}
	if p := a.decodeJSON(w, r, &req); p != nil {
		return p
	}
	originator, p := rest.JSONText("originator", req.Originator)
	if p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	if pr.Test {
		o, err := compliance.NormalizeSender(originator)
		if err != nil {
			return complianceProblem(err)
		}
		rest.WriteJSON(w, http.StatusCreated, store.Sender{Originator: o, Status: store.SenderPending, RequestedBy: "api key " + pr.KeyID, CreatedAt: time.Now().UTC()})
		return nil
	}
	s, created, err := a.desk.RegisterSender(r.Context(), pr.AccountID, originator, "api key "+pr.KeyID)
	if err != nil {
		return complianceProblem(err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	rest.WriteJSON(w, status, s)
	return nil
}

// getPolicy answers GET /compliance/policy.
func (a *API) getPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := a.store.GetPolicy(r.Context(), rest.Principal(r.Context()).AccountID)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, compliance.View(p))
	return nil
}

// changePolicy answers PATCH /compliance/policy with the fields to change.
// Content rules, relaxed senders and suspension are the operator's.
func (a *API) changePolicy(w http.ResponseWriter, r *http.Request) error {
	var req compliance.PolicyChangeJSON
	if p := a.decodeJSON(w, r, &req); p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	p, err := a.desk.CustomerChange(r.Context(), pr.AccountID, req, pr.Test)
	if err != nil {
		return complianceProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, compliance.View(p))
	return nil
}

// listCases answers GET /compliance/cases: proof requests to the account
// (none for a test key).
func (a *API) listCases(w http.ResponseWriter, r *http.Request) error {
	var list []store.ProofCase
	if pr := rest.Principal(r.Context()); !pr.Test {
		var err error
		if list, err = a.store.ProofCases(r.Context(), pr.AccountID); err != nil {
			return err
		}
	}
	if list == nil {
		list = []store.ProofCase{}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Items []store.ProofCase `json:"items"`
	}{list})
	return nil
}

// answerCase answers POST /compliance/cases/{id}/proof with the proof: a
// JSON {"proof": "..."} or the document itself (text/csv, text/plain,
// e.g. the export of GET /consents/proof).
func (a *API) answerCase(w http.ResponseWriter, r *http.Request) error {
	body, p := rest.ReadBody(w, r, a.rest.MaxBody())
	if p != nil {
		return p
	}
	proof := string(body)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json" || (mt == "" && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))):
		var req struct {
			Proof string `json:"proof"`
		}
		if p := decodeStrict(body, &req); p != nil {
			return p
		}
		proof = req.Proof
	case mt == "" || strings.HasPrefix(mt, "text/"):
		if p := rest.CheckFile("proof", body); p != nil {
			return p
		}
	default:
		return rest.NewProblem(http.StatusUnsupportedMediaType, rest.CodeInvalidParams, "", "send the proof as JSON {\"proof\": …} or as text/csv or text/plain")
	}
	if rest.Principal(r.Context()).Test {
		return rest.TestKeyRefused("answer proof requests")
	}
	c, err := a.desk.AnswerProof(r.Context(), rest.Principal(r.Context()).AccountID, r.PathValue("id"), proof)
	if errors.Is(err, store.ErrConflict) {
		return rest.NewProblem(http.StatusConflict, rest.CodeInvalidParams, "id", "the case is not open (answered, expired or closed already)")
	}
	if err != nil {
		return complianceProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, c)
	return nil
}

// listDecisions answers GET /compliance/decisions[?limit=N]: why messages
// were refused, deferred, held or changed, newest first. A test key's
// messages are decided but not logged, so it sees none.
func (a *API) listDecisions(w http.ResponseWriter, r *http.Request) error {
	f, p := rest.ListFilter(r.URL.Query())
	if p != nil {
		return p
	}
	var list []store.Decision
	if pr := rest.Principal(r.Context()); !pr.Test {
		var err error
		if list, err = a.store.Decisions(r.Context(), pr.AccountID, f.Limit); err != nil {
			return err
		}
	}
	if list == nil {
		list = []store.Decision{}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Count int              `json:"count"`
		Items []store.Decision `json:"items"`
	}{len(list), list})
	return nil
}
