package account

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/store"
)

// Bounds of the suppression endpoints.
const (
	maxSuppressionImport = 16 << 20 // bytes of CSV
	exportPage           = 5000     // rows read at a time by an export
)

// registerSuppressions adds the suppression list's routes: one list for
// every channel, keyed by (channel, address).
func (a *API) registerSuppressions(mux *http.ServeMux) []string {
	a.rest.Handle(mux, "GET /suppressions", a.listSuppressions)
	a.rest.Handle(mux, "POST /suppressions", a.addSuppression)
	a.rest.Handle(mux, "GET /suppressions/export", a.exportSuppressions)
	a.rest.Handle(mux, "POST /suppressions/import", a.importSuppressions)
	a.rest.Handle(mux, "GET /suppressions/removals", a.listSuppressionRemovals)
	a.rest.Handle(mux, "DELETE /suppressions/{channel}/{recipient}", a.removeSuppression)
	// Before suppressions had channels: the channel follows from the
	// address, and the reason may be left out.
	a.rest.Handle(mux, "DELETE /suppressions/{recipient}", a.removeSuppressionCompat)
	// Other methods answer 405; on export, import and removals through
	// "/suppressions/{recipient}" (a catch-all of their own would collide
	// with its DELETE).
	return []string{"/suppressions", "/suppressions/{channel}/{recipient}", "/suppressions/{recipient}"}
}

// suppressionFilter reads GET /suppressions' filters.
func suppressionFilter(r *http.Request) (store.SuppressionFilter, *rest.Problem) {
	lf, p := rest.ListFilter(r.URL.Query())
	if p != nil {
		return store.SuppressionFilter{}, p
	}
	q := r.URL.Query()
	f := store.SuppressionFilter{Limit: lf.Limit, Offset: lf.Offset, Channel: q.Get("channel"), Reason: q.Get("reason"),
		Contains: q.Get("q"), Prefix: q.Get("prefix")}
	if _, ok := compliance.SuppressionChannels[f.Channel]; f.Channel != "" && !ok {
		return f, rest.Invalid("channel", "channel must be sms, email or push")
	}
	if f.Reason != "" && !validReason(f.Reason) {
		return f, rest.Invalid("reason", "reason must be one of "+strings.Join(store.SuppressionReasons, ", "))
	}
	if len(f.Contains) > 254 || len(f.Prefix) > 254 {
		return f, rest.Invalid("q", "q and prefix have at most 254 bytes")
	}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return f, rest.Invalid("since", "since must be an RFC 3339 time")
		}
		f.Since = t
	}
	return f, nil
}

func validReason(r string) bool {
	for _, v := range store.SuppressionReasons {
		if v == r {
			return true
		}
	}
	return false
}

// listSuppressions answers GET /suppressions?channel&reason&q&prefix&since&limit&offset;
// none for a test key.
func (a *API) listSuppressions(w http.ResponseWriter, r *http.Request) error {
	f, p := suppressionFilter(r)
	if p != nil {
		return p
	}
	list := []store.Suppression{}
	if pr := rest.Principal(r.Context()); !pr.Test {
		var err error
		if list, err = a.store.Suppressions(r.Context(), pr.AccountID, f); err != nil {
			return err
		}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Offset int                 `json:"offset"`
		Limit  int                 `json:"limit"`
		Count  int                 `json:"count"`
		Items  []store.Suppression `json:"items"`
	}{f.Offset, f.Limit, len(list), list})
	return nil
}

// addSuppression answers POST /suppressions {recipient, channel, reason}:
// channel defaults to the address's (email for an address with @, else
// sms), reason to manual. A test key gets the entry it would make, never
// stored, whatever the live list holds.
func (a *API) addSuppression(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Recipient json.RawMessage `json:"recipient"`
		Channel   string          `json:"channel"`
		Reason    string          `json:"reason"`
	}
	if p := a.decodeJSON(w, r, &req); p != nil {
		return p
	}
	v, p := rest.JSONText("recipient", req.Recipient)
	if p != nil {
		return p
	}
	if v == "" {
		return rest.Missing("recipient")
	}
	pr := rest.Principal(r.Context())
	s, err := compliance.ParseSuppression(req.Channel, v, req.Reason)
	if err != nil {
		return rest.Invalid(suppressionParam(err), err.Error())
	}
	s.Actor, s.CreatedAt = "api key "+pr.KeyID, time.Now().UTC()
	if pr.Test {
		rest.WriteJSON(w, http.StatusCreated, s)
		return nil
	}
	was, err := a.store.Suppressed(r.Context(), pr.AccountID, s.Channel, []string{s.Recipient})
	if err != nil {
		return err
	}
	if why, ok := was[s.Recipient]; ok {
		// Already suppressed: it stays as it is (an opt-out stays an opt-out).
		rest.WriteJSON(w, http.StatusOK, store.Suppression{Channel: s.Channel, Recipient: s.Recipient, Reason: why})
		return nil
	}
	if err := a.store.AddSuppression(r.Context(), pr.AccountID, s); err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusCreated, s)
	return nil
}

// suppressionParam names the parameter a ParseSuppression error is about.
func suppressionParam(err error) string {
	switch msg := err.Error(); {
	case strings.HasPrefix(msg, "channel"):
		return "channel"
	case strings.HasPrefix(msg, "reason"):
		return "reason"
	}
	return "recipient"
}

// removeSuppression answers DELETE /suppressions/{channel}/{recipient}
// with a reason (?reason= or {"reason": …}), which is kept with who
// removed it and when. An opt-out stays until the recipient opts in again
// (POST /consents). A test key sees no suppression to remove.
func (a *API) removeSuppression(w http.ResponseWriter, r *http.Request) error {
	return a.remove(w, r, r.PathValue("channel"), true)
}

// removeSuppressionCompat answers DELETE /suppressions/{recipient}, the
// route from before channels: the address says its channel, the reason
// may be left out, and the answer is 204 without a body.
func (a *API) removeSuppressionCompat(w http.ResponseWriter, r *http.Request) error {
	return a.remove(w, r, store.AddressChannel(r.PathValue("recipient")), false)
}

func (a *API) remove(w http.ResponseWriter, r *http.Request, channel string, needReason bool) error {
	addr, err := compliance.ParseSuppressionAddress(channel, strings.TrimSpace(r.PathValue("recipient")))
	if err != nil {
		return rest.Invalid(suppressionParam(err), err.Error())
	}
	reason := r.URL.Query().Get("reason")
	if body, p := rest.ReadBody(w, r, 4096); p != nil {
		return p
	} else if len(bytes.TrimSpace(body)) > 0 {
		var req struct {
			Reason string `json:"reason"`
		}
		if p := decodeStrict(body, &req); p != nil {
			return p
		}
		if req.Reason != "" {
			reason = req.Reason
		}
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "" && needReason:
		return rest.NewProblem(http.StatusUnprocessableEntity, rest.CodeMissingParams, "reason",
			"no (reason) given: say why the suppression is removed (?reason= or {\"reason\": …}); it is kept")
	case reason == "":
		reason = "(none given: DELETE /suppressions/{recipient})"
	case len(reason) > compliance.MaxRemovalReason || !utf8.ValidString(reason):
		return rest.Invalid("reason", fmt.Sprintf("reason has at most %d bytes of UTF-8", compliance.MaxRemovalReason))
	}
	pr := rest.Principal(r.Context())
	notSuppressed := rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "recipient", "the recipient is not suppressed on "+channel)
	if pr.Test {
		return notSuppressed
	}
	why, err := a.store.Suppressed(r.Context(), pr.AccountID, channel, []string{addr})
	if err != nil {
		return err
	}
	switch was, ok := why[addr]; {
	case !ok:
		return notSuppressed
	case was == store.SuppressOptOut:
		return rest.NewProblem(http.StatusConflict, rest.CodeInvalidParams, "recipient",
			"the recipient is suppressed because of opt_out; only a new opt-in (POST /consents) lifts it")
	}
	rm, err := a.store.RemoveSuppression(r.Context(), pr.AccountID, store.SuppressionRemoval{
		Suppression: store.Suppression{Channel: channel, Recipient: addr}, RemovedBy: "api key " + pr.KeyID, RemovalReason: reason})
	if errors.Is(err, store.ErrNotFound) {
		return notSuppressed
	}
	if err != nil {
		return err
	}
	if !needReason {
		w.WriteHeader(http.StatusNoContent) // as the route always answered
		return nil
	}
	rest.WriteJSON(w, http.StatusOK, rm)
	return nil
}

// listSuppressionRemovals answers GET /suppressions/removals?channel&recipient&limit:
// removed suppressions with who removed them, when and why, newest first.
// None for a test key.
func (a *API) listSuppressionRemovals(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	paging := url.Values{"limit": q["limit"]} // ListFilter reads recipient as a phone number
	lf, p := rest.ListFilter(paging)
	if p != nil {
		return p
	}
	channel, recipient := q.Get("channel"), q.Get("recipient")
	if _, ok := compliance.SuppressionChannels[channel]; channel != "" && !ok {
		return rest.Invalid("channel", "channel must be sms, email or push")
	}
	if recipient != "" {
		if channel == "" {
			channel = store.AddressChannel(recipient)
		}
		addr, err := compliance.ParseSuppressionAddress(channel, recipient)
		if err != nil {
			return rest.Invalid("recipient", err.Error())
		}
		recipient = addr
	}
	list := []store.SuppressionRemoval{}
	if pr := rest.Principal(r.Context()); !pr.Test {
		var err error
		if list, err = a.store.SuppressionRemovals(r.Context(), pr.AccountID, channel, recipient, lf.Limit); err != nil {
			return err
		}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Count int                        `json:"count"`
		Items []store.SuppressionRemoval `json:"items"`
	}{len(list), list})
	return nil
}

// exportSuppressions answers GET /suppressions/export?channel&reason&q&prefix&since
// with every matching suppression as CSV (channel,recipient,reason,actor,
// created); limit and offset do not apply. A test key gets the header row.
func (a *API) exportSuppressions(w http.ResponseWriter, r *http.Request) error {
	f, p := suppressionFilter(r)
	if p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	// Read the first page before answering, so that a failing database is
	// a 500 rather than a cut file.
	f.Limit, f.Offset = exportPage, 0
	var page []store.Suppression
	if !pr.Test {
		var err error
		if page, err = a.store.Suppressions(r.Context(), pr.AccountID, f); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="suppressions.csv"`)
	cw := csv.NewWriter(w)
	cw.Write(compliance.SuppressionCSVHeader)
	for len(page) > 0 {
		if err := compliance.WriteSuppressionsCSV(cw, page); err != nil {
			return nil // the client went away
		}
		if len(page) < exportPage {
			break
		}
		f.Offset += exportPage
		var err error
		if page, err = a.store.Suppressions(r.Context(), pr.AccountID, f); err != nil {
			// The answer has begun: break the connection rather than end a
			// file that looks whole.
			panic(http.ErrAbortHandler)
		}
	}
	cw.Flush()
	return nil
}

// importSuppressions answers POST /suppressions/import with a CSV body
// (header channel,recipient[,reason]): every row or none; each bad row is
// one error naming its line. A test key's file is checked, never stored.
func (a *API) importSuppressions(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "text/csv" && mt != "text/plain" && mt != "application/csv") {
			return rest.NewProblem(http.StatusUnsupportedMediaType, rest.CodeInvalidParams, "", "send the suppressions as text/csv")
		}
	}
	body, p := rest.ReadBody(w, r, maxSuppressionImport)
	if p != nil {
		return p
	}
	if p := rest.CheckFile("file", body); p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	list, err := compliance.ParseSuppressionsCSV(bytes.NewReader(body), "import by api key "+pr.KeyID, time.Now().UTC())
	var imp *compliance.ImportError
	if errors.As(err, &imp) {
		return complianceProblem(err)
	}
	if err != nil {
		return rest.Invalid("file", err.Error())
	}
	added := 0
	if !pr.Test {
		if added, err = a.store.AddSuppressions(r.Context(), pr.AccountID, list); err != nil {
			return err
		}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Rows  int `json:"rows"`
		Added int `json:"added"` // new suppressions; the others were on the list already
	}{len(list), added})
	return nil
}
