package messagebird

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/hlr"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
)

// codeBadRequest is MessageBird's code for a request it cannot read, among
// them a lookup of text that is no phone number.
const codeBadRequest = 21

// UseHLR gives the door its HLR service: POST /hlr, POST and GET
// /lookup/{phoneNumber}/hlr, GET /hlr/{id} and the account's HLR settings.
// GET /lookup/{phoneNumber} works without it.
func (a *API) UseHLR(s *hlr.Service) { a.hlr = s }

// registerLookup adds the Lookup and HLR routes.
func (a *API) registerLookup(mux *http.ServeMux) {
	a.rest.Handle(mux, "GET /lookup/{phoneNumber}", a.lookup)
	a.rest.Handle(mux, "GET /lookup/{phoneNumber}/hlr", a.lookupHLR)
	a.rest.Handle(mux, "POST /lookup/{phoneNumber}/hlr", a.createLookupHLR)
	a.rest.Handle(mux, "POST /hlr", a.createHLR)
	a.rest.Handle(mux, "GET /hlr", a.listHLR)
	a.rest.Handle(mux, "GET /hlr/{id}", a.getHLR)
	a.rest.Handle(mux, "GET /settings/hlr", a.getHLRSettings)
	a.rest.Handle(mux, "PUT /settings/hlr", a.putHLRSettings)
	rest.MethodNotAllowed(mux, "/lookup/{phoneNumber}", "/lookup/{phoneNumber}/hlr", "/hlr", "/hlr/{id}", "/settings/hlr")
}

// lookupJSON is MessageBird's lookup object.
type lookupJSON struct {
	Href          string      `json:"href"`
	CountryCode   string      `json:"countryCode"`
	CountryPrefix int         `json:"countryPrefix"`
	PhoneNumber   json.Number `json:"phoneNumber"`
	Type          string      `json:"type"`
	Formats       formatsJSON `json:"formats"`
	HLR           *hlrJSON    `json:"hlr,omitempty"`
	// omnigate's own: whether libphonenumber knows the number's range
	// (false: only possible — the right length for its country).
	Valid bool `json:"valid"`
}

type formatsJSON struct {
	E164          string `json:"e164"`
	International string `json:"international"`
	National      string `json:"national"`
	RFC3966       string `json:"rfc3966"`
}

// hlrJSON is MessageBird's HLR object: network and details are null until
// the HLR answered.
type hlrJSON struct {
	ID              string          `json:"id"`
	Href            string          `json:"href"`
	MSISDN          json.Number     `json:"msisdn"`
	Network         *int            `json:"network"`
	Reference       *string         `json:"reference"`
	Status          string          `json:"status"`
	Details         json.RawMessage `json:"details"`
	CreatedDatetime string          `json:"createdDatetime"`
	StatusDatetime  string          `json:"statusDatetime"`
}

func renderHLR(q *store.HLRQuery, base string) *hlrJSON {
	out := &hlrJSON{ID: q.ID, Href: base + "/hlr/" + q.ID, MSISDN: json.Number(q.MSISDN), Reference: optString(q.Reference),
		Status: q.Status, Details: json.RawMessage("null"), CreatedDatetime: q.CreatedAt.UTC().Format(message.TimeLayout)}
	out.StatusDatetime = out.CreatedDatetime
	if q.Status != store.HLRSent {
		network := q.Network
		out.Network = &network
		if len(q.Details) > 0 {
			out.Details = json.RawMessage(q.Details)
		} else {
			out.Details = json.RawMessage("{}")
		}
		out.StatusDatetime = q.StatusAt.UTC().Format(message.TimeLayout)
	}
	return out
}

func errBadNumber() *rest.Problem {
	return rest.NewProblem(http.StatusBadRequest, codeBadRequest, "phoneNumber", "Bad request (phone number has unknown format)")
}

func errHLRNotFound() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "hlr not found")
}

func errHLRUnavailable() *rest.Problem {
	return rest.NewProblem(http.StatusForbidden, rest.CodeUnauthorized, "", "Request not allowed: HLR queries are not available on this server (no HLR provider is configured)")
}

// number reads the path's phone number, with countryCode (query, or the
// body's p when given) for a number written the national way.
func number(r *http.Request, p params) (phone.Info, *rest.Problem) {
	country := r.URL.Query().Get("countryCode")
	if p != nil && p.has("countryCode") {
		country = p.text("countryCode")
	}
	info, err := phone.Lookup(r.PathValue("phoneNumber"), country)
	if errors.Is(err, phone.ErrInvalidRegion) {
		return info, rest.Invalid("countryCode", "countryCode "+rest.Quote(country)+" is not an ISO 3166-1 alpha-2 country code")
	}
	if err != nil {
		return info, errBadNumber()
	}
	return info, nil
}

// lookup handles GET /lookup/{phoneNumber}: libphonenumber's view of the
// number, with the account's latest HLR query of it when there is one.
func (a *API) lookup(w http.ResponseWriter, r *http.Request) error {
	info, p := number(r, nil)
	if p != nil {
		return p
	}
	base := a.rest.BaseURL(r)
	out := lookupJSON{Href: base + "/lookup/" + info.MSISDN, CountryCode: info.Country, CountryPrefix: info.CountryPrefix,
		PhoneNumber: json.Number(info.MSISDN), Type: info.Type, Valid: info.Valid,
		Formats: formatsJSON{E164: info.E164, International: info.International, National: info.National, RFC3966: info.RFC3966}}
	if pr := rest.Principal(r.Context()); !pr.Test {
		q, err := a.store.LatestHLR(r.Context(), pr.AccountID, info.MSISDN, time.Time{}, false)
		switch {
		case err == nil:
			out.HLR = renderHLR(q, base)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

// lookupHLR handles GET /lookup/{phoneNumber}/hlr: the latest HLR query
// of the number.
func (a *API) lookupHLR(w http.ResponseWriter, r *http.Request) error {
	info, p := number(r, nil)
	if p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errHLRNotFound()
	}
	q, err := a.store.LatestHLR(r.Context(), pr.AccountID, info.MSISDN, time.Time{}, false)
	if errors.Is(err, store.ErrNotFound) {
		return errHLRNotFound()
	}
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, renderHLR(q, a.rest.BaseURL(r)))
	return nil
}

// createLookupHLR handles POST /lookup/{phoneNumber}/hlr {reference,
// countryCode}.
func (a *API) createLookupHLR(w http.ResponseWriter, r *http.Request) error {
	p, prob := readParams(w, r, a.rest.MaxBody())
	if prob != nil {
		return prob
	}
	info, prob := number(r, p)
	if prob != nil {
		return prob
	}
	return a.startHLR(w, r, info.Number, p)
}

// createHLR handles POST /hlr {msisdn, reference}.
func (a *API) createHLR(w http.ResponseWriter, r *http.Request) error {
	p, prob := readParams(w, r, a.rest.MaxBody())
	if prob != nil {
		return prob
	}
	raw := strings.TrimSpace(p.text("msisdn"))
	if raw == "" {
		return rest.Missing("msisdn")
	}
	n, err := phone.Parse(raw)
	if err != nil {
		return rest.Invalid("msisdn", "msisdn "+rest.Quote(raw)+" is not a valid phone number in international format")
	}
	return a.startHLR(w, r, n, p)
}

// hlrFields are the parameters the HLR endpoints read.
var hlrFields = map[string]bool{"msisdn": true, "reference": true, "countryCode": true}

// startHLR creates (live key) or previews (test key) a query, answering
// 201 with status sent.
func (a *API) startHLR(w http.ResponseWriter, r *http.Request, n phone.Number, p params) error {
	for name := range p {
		if !hlrFields[name] {
			a.countUnknown([]string{name})
		}
	}
	if a.hlr == nil || !a.hlr.Available() {
		return errHLRUnavailable()
	}
	reference := strings.TrimSpace(p.text("reference"))
	if len(reference) > 512 {
		return rest.Invalid("reference", "reference is longer than 512 characters")
	}
	if pr := rest.CheckText("reference", reference, false); pr != nil {
		return pr
	}
	pr := rest.Principal(r.Context())
	create := a.hlr.Create
	if pr.Test {
		create = a.hlr.Preview
	}
	q, err := create(r.Context(), pr.AccountID, n.MSISDN, n.Country, reference)
	var noPrice *billing.NoPriceError
	switch {
	case errors.As(err, &noPrice):
		return rest.Invalid("msisdn", fmt.Sprintf("no HLR price for %s (country %s) on this account's price list", n.MSISDN, n.Country))
	case errors.Is(err, hlr.ErrUnavailable):
		return errHLRUnavailable()
	case err != nil:
		return err
	}
	rest.WriteJSON(w, http.StatusCreated, renderHLR(q, a.rest.BaseURL(r)))
	return nil
}

// getHLR handles GET /hlr/{id}; a test key sees none.
func (a *API) getHLR(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errHLRNotFound()
	}
	q, err := a.store.GetHLR(r.Context(), pr.AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errHLRNotFound()
	}
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, renderHLR(q, a.rest.BaseURL(r)))
	return nil
}

// listHLR handles GET /hlr: the account's HLR queries, newest first, in
// MessageBird's list envelope; a test key's list is empty.
func (a *API) listHLR(w http.ResponseWriter, r *http.Request) error {
	limit, offset, p := page(r.URL.Query())
	if p != nil {
		return p
	}
	var list []*store.HLRQuery
	total := 0
	if pr := rest.Principal(r.Context()); !pr.Test {
		var err error
		if list, total, err = a.store.ListHLR(r.Context(), pr.AccountID, limit, offset); err != nil {
			return err
		}
	}
	base := a.rest.BaseURL(r)
	out := listOf[*hlrJSON]{Offset: offset, Limit: limit, Count: len(list), TotalCount: total,
		Links: rest.PageLinks(base, "/hlr", offset, limit, total), Items: make([]*hlrJSON, len(list))}
	for i, q := range list {
		out.Items[i] = renderHLR(q, base)
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

// hlrSettingsJSON is omnigate's own: the account's HLR check before
// sending.
type hlrSettingsJSON struct {
	CheckBeforeSend bool `json:"checkBeforeSend"`
	// MaxAge is how old an HLR answer (seconds) the check reuses; 0: the
	// server's default.
	MaxAge int64 `json:"maxAge"`
	// ReportURL receives the answers of the account's HLR queries
	// (MessageBird's HLR callback URL); null: none.
	ReportURL *string `json:"reportUrl"`
}

func renderHLRSettings(set store.HLRSettings) hlrSettingsJSON {
	return hlrSettingsJSON{CheckBeforeSend: set.CheckBeforeSend, MaxAge: int64(set.MaxAge / time.Second), ReportURL: optString(set.ReportURL)}
}

// settingsFields reads a settings body, JSON or form, as JSON values.
func settingsFields(w http.ResponseWriter, r *http.Request, limit int64) (map[string]json.RawMessage, *rest.Problem) {
	body, prob := rest.ReadBody(w, r, limit)
	if prob != nil {
		return nil, prob
	}
	kind, prob := rest.BodyKind(r, body)
	if prob != nil {
		return nil, prob
	}
	fields := map[string]json.RawMessage{}
	switch kind {
	case "json":
		if prob := rest.CheckJSON(body); prob != nil {
			return nil, prob
		}
		if err := json.Unmarshal(body, &fields); err != nil {
			return nil, rest.Malformed("malformed JSON: " + err.Error())
		}
	case "form":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, rest.Malformed("malformed form body: " + err.Error())
		}
		if prob := rest.CheckForm(form); prob != nil {
			return nil, prob
		}
		for name := range form {
			fields[name], _ = json.Marshal(form.Get(name))
		}
	}
	return fields, nil
}

// maxHLRAge bounds hlrSettingsJSON.MaxAge: a week.
const maxHLRAge = 7 * 24 * 3600

func (a *API) getHLRSettings(w http.ResponseWriter, r *http.Request) error {
	if a.hlr == nil {
		return errHLRUnavailable()
	}
	set, err := a.hlr.Settings(r.Context(), rest.Principal(r.Context()).AccountID)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, renderHLRSettings(set))
	return nil
}

// putHLRSettings handles PUT /settings/hlr {checkBeforeSend, maxAge, reportUrl}:
// parameters not given keep their value.
func (a *API) putHLRSettings(w http.ResponseWriter, r *http.Request) error {
	if a.hlr == nil {
		return errHLRUnavailable()
	}
	pr := rest.Principal(r.Context())
	if pr.Test {
		return rest.TestKeyRefused("change settings")
	}
	fields, prob := settingsFields(w, r, a.rest.MaxBody())
	if prob != nil {
		return prob
	}
	set, err := a.hlr.Settings(r.Context(), pr.AccountID)
	if err != nil {
		return err
	}
	for name, raw := range fields {
		switch name {
		case "checkBeforeSend":
			v, prob := rest.JSONBool(name, raw)
			if prob != nil {
				return prob
			}
			set.CheckBeforeSend = v
		case "maxAge":
			v, prob := rest.JSONInt(name, raw)
			if prob != nil || v != nil && (*v < 0 || *v > maxHLRAge) {
				return rest.Invalid("maxAge", fmt.Sprintf("maxAge must be a number of seconds from 0 (the server's default) to %d (a week)", maxHLRAge))
			}
			if v != nil {
				set.MaxAge = time.Duration(*v) * time.Second
			}
		case "reportUrl":
			v, prob := rest.JSONText(name, raw)
			if prob != nil {
				return prob
			}
			v = strings.TrimSpace(v)
			if v != "" {
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 2048 {
					return rest.Invalid("reportUrl", "reportUrl must be an absolute http or https URL")
				}
			}
			set.ReportURL = v
		default:
			a.countUnknown([]string{name})
		}
	}
	if set.CheckBeforeSend && !a.hlr.Available() {
		return errHLRUnavailable()
	}
	set.AccountID = pr.AccountID
	if err := a.hlr.SetSettings(r.Context(), set); err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, renderHLRSettings(set))
	return nil
}
