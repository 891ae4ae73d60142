package messagebird

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/numbers"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
)

// SetNumbers gives the door the numbers service; without it the Numbers
// API (/v1/phone-numbers, /v1/available-phone-numbers) is not registered.
func (a *API) SetNumbers(n *numbers.Service) { a.numbers = n }

// registerNumbers adds MessageBird's Numbers API (numbers.messagebird.com
// /v1, docs/numbers.md) on this host. Its paths do not meet the
// Conversations door's (/v1/send, /v1/messages, /v1/channels,
// /v1/conversations, /v1/webhooks) nor Twilio's /v1/Services.
func (a *API) registerNumbers(mux *http.ServeMux) {
	if a.numbers == nil {
		return
	}
	a.rest.Handle(mux, "GET /v1/available-phone-numbers/{countryCode}", a.searchNumbers)
	a.rest.Handle(mux, "POST /v1/phone-numbers", a.purchaseNumber)
	a.rest.Handle(mux, "GET /v1/phone-numbers", a.listNumbers)
	a.rest.Handle(mux, "GET /v1/phone-numbers/{number}", a.getNumber)
	a.rest.Handle(mux, "PATCH /v1/phone-numbers/{number}", a.updateNumber)
	a.rest.Handle(mux, "DELETE /v1/phone-numbers/{number}", a.cancelNumber)
	rest.MethodNotAllowed(mux, "/v1/available-phone-numbers/{countryCode}", "/v1/phone-numbers", "/v1/phone-numbers/{number}")
}

// phoneNumber is MessageBird's number object (inboundUrl is omnigate's).
type phoneNumber struct {
	Number     string   `json:"number"`
	Country    string   `json:"country"`
	Region     string   `json:"region"`
	Locality   string   `json:"locality"`
	Features   []string `json:"features"`
	Tags       []string `json:"tags,omitempty"`
	Type       string   `json:"type"`
	Status     string   `json:"status,omitempty"`
	CreatedAt  *string  `json:"createdAt,omitempty"`
	RenewalAt  *string  `json:"renewalAt,omitempty"`
	InboundURL *string  `json:"inboundUrl,omitempty"`
}

// offeredNumber is a number a search offers: the number object with what
// buying it takes (MessageBird's search shape). omnigate asks for no
// documents and sells by the month: no conditions, a contract of one
// billing interval.
type offeredNumber struct {
	phoneNumber
	VerificationRequired    bool        `json:"verificationRequired"`
	InitialContractDuration int         `json:"initialContractDuration"`
	InboundCallsOnly        bool        `json:"inboundCallsOnly"`
	MonthlyPrice            json.Number `json:"monthlyPrice"`
	Currency                string      `json:"currency"`
	Conditions              []string    `json:"conditions"`
}

func renderStock(n store.StockNumber) phoneNumber {
	return phoneNumber{Number: n.Number, Country: n.Country, Region: n.Region, Locality: n.Locality, Features: nonNil(n.Features), Type: n.Type}
}

func renderOwned(o *store.OwnedNumber) phoneNumber {
	p := renderStock(o.Stock)
	p.Number, p.Tags, p.Status = o.Number.Number, nonNil(o.Tags), "active"
	if p.Type == "" {
		p.Type = "mobile" // assigned by an operator outside the inventory
	}
	if p.Country == "" {
		if pn, err := parsePhone(o.Number.Number); err == nil {
			p.Country = pn
		}
	}
	p.CreatedAt = timeText(o.CreatedAt)
	if o.IntervalMonths > 0 {
		p.RenewalAt = timeText(o.RenewalAt)
	}
	url := o.InboundURL
	p.InboundURL = &url
	return p
}

func timeText(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func errNumberNotFound() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "number", "number not found")
}

// numbersProblem answers the service's errors.
func numbersProblem(err error) error {
	var inv *numbers.InvalidError
	switch {
	case errors.As(err, &inv):
		return rest.Invalid(inv.Param, inv.Msg)
	case errors.Is(err, numbers.ErrNotAvailable):
		return rest.NewProblem(http.StatusUnprocessableEntity, rest.CodeInvalidParams, "number", "the number is not available")
	case errors.Is(err, store.ErrNotFound):
		return errNumberNotFound()
	}
	return err
}

// features reads ?features=sms&features=voice or ?features=sms,voice.
// listParam is a list parameter's values as SDKs send them: name=a,b,
// repeated name=a&name=b, name[]=a (Go, Python) and name[0]=a&name[1]=b
// (PHP's http_build_query), the indexed ones in index order.
func listParam(q url.Values, name string) []string {
	out := append(append([]string{}, q[name]...), q[name+"[]"]...)
	var indexed []int
	for k := range q {
		if i, ok := strings.CutPrefix(k, name+"["); ok {
			if n, err := strconv.Atoi(strings.TrimSuffix(i, "]")); err == nil && n >= 0 && strings.HasSuffix(i, "]") {
				indexed = append(indexed, n)
			}
		}
	}
	slices.Sort(indexed)
	for _, n := range indexed {
		out = append(out, q[name+"["+strconv.Itoa(n)+"]"]...)
	}
	return out
}

func featuresOf(q url.Values) []string {
	var out []string
	for _, v := range listParam(q, "features") {
		for _, f := range rest.SplitList(strings.ToLower(v)) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

func intParam(q url.Values, name string) (int, *rest.Problem) {
	s := strings.TrimSpace(q.Get(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, rest.Invalid(name, name+" must be a non-negative integer")
	}
	return n, nil
}

// searchNumbers handles GET /v1/available-phone-numbers/{countryCode}.
func (a *API) searchNumbers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if p := rest.CheckForm(q); p != nil {
		return p
	}
	limit, p := intParam(q, "limit")
	if p != nil {
		return p
	}
	if limit == 0 && q.Get("limit") != "" {
		return rest.Invalid("limit", "limit must be between 1 and 100")
	}
	pattern := strings.TrimPrefix(strings.TrimSpace(q.Get("number")), "+")
	found, err := a.numbers.Search(r.Context(), store.StockFilter{Country: r.PathValue("countryCode"), Type: strings.ToLower(q.Get("type")),
		Features: featuresOf(q), Pattern: pattern, Match: strings.ToLower(q.Get("search_pattern")), Limit: limit})
	if err != nil {
		return numbersProblem(err)
	}
	acct, err := a.store.GetAccount(r.Context(), rest.Principal(r.Context()).AccountID)
	if err != nil {
		return err
	}
	items := make([]offeredNumber, 0, len(found))
	for _, n := range found {
		items = append(items, offeredNumber{phoneNumber: renderStock(n), InitialContractDuration: 1,
			MonthlyPrice: json.Number(message.FormatMicros(n.MonthlyPrice)), Currency: acct.Currency, Conditions: []string{}})
	}
	if limit == 0 {
		limit = numbers.DefaultLimit
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "limit": limit, "count": len(items)})
	return nil
}

// numberBody reads a JSON or form body into fields by name.
func (a *API) numberBody(w http.ResponseWriter, r *http.Request, limit int64, known map[string]bool) (map[string]json.RawMessage, *rest.Problem) {
	body, p := rest.ReadBody(w, r, limit)
	if p != nil {
		return nil, p
	}
	out := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(body)) == 0 {
		return out, nil
	}
	kind, p := rest.BodyKind(r, body)
	if p != nil {
		return nil, p
	}
	if kind == "form" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, rest.Malformed("malformed form body: " + err.Error())
		}
		if p := rest.CheckForm(form); p != nil {
			return nil, p
		}
		for k, vs := range form {
			k = strings.TrimSuffix(k, "[]")
			if k == "tags" {
				raw, _ := json.Marshal(vs)
				out[k] = raw
				continue
			}
			raw, _ := json.Marshal(vs[len(vs)-1])
			out[k] = raw
		}
	} else {
		if p := rest.CheckJSON(body); p != nil {
			return nil, p
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&out); err != nil {
			return nil, rest.Malformed("malformed JSON: " + err.Error())
		}
		if dec.More() {
			return nil, rest.Malformed("malformed JSON: data after the object")
		}
	}
	var unknown []string
	for k := range out {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	a.countUnknown(unknown)
	return out, nil
}

// purchaseParams reads a purchase: number and countryCode are required,
// billingIntervalMonths is 0 when absent (the service's default).
func purchaseParams(f map[string]json.RawMessage) (number, country string, m int, p *rest.Problem) {
	if number, p = textField(f, "number"); p != nil {
		return "", "", 0, p
	}
	if country, p = textField(f, "countryCode"); p != nil {
		return "", "", 0, p
	}
	var months *int
	if raw, ok := f["billingIntervalMonths"]; ok {
		if months, p = rest.JSONInt("billingIntervalMonths", raw); p != nil {
			return "", "", 0, p
		}
	}
	if strings.TrimSpace(number) == "" {
		return "", "", 0, rest.Missing("number")
	}
	if strings.TrimSpace(country) == "" {
		return "", "", 0, rest.Missing("countryCode")
	}
	if months != nil {
		m = *months
		if m == 0 {
			return "", "", 0, rest.Invalid("billingIntervalMonths", "billingIntervalMonths must be 1 or 12")
		}
	}
	return number, country, m, nil
}

// purchaseNumber handles POST /v1/phone-numbers: {number, countryCode,
// billingIntervalMonths}; the first interval is charged at once.
func (a *API) purchaseNumber(w http.ResponseWriter, r *http.Request) error {
	f, p := a.numberBody(w, r, a.rest.MaxBody(), map[string]bool{"number": true, "countryCode": true, "billingIntervalMonths": true})
	if p != nil {
		return p
	}
	number, country, m, p := purchaseParams(f)
	if p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	if pr.Test {
		return rest.TestKeyRefused("buy numbers")
	}
	o, err := a.numbers.Purchase(r.Context(), pr.AccountID, number, country, m)
	if err != nil {
		return numbersProblem(err)
	}
	rest.WriteJSON(w, http.StatusCreated, renderOwned(o))
	return nil
}

// textField is a text field of the body, "" when absent.
func textField(f map[string]json.RawMessage, name string) (string, *rest.Problem) {
	raw, ok := f[name]
	if !ok {
		return "", nil
	}
	return rest.JSONText(name, raw)
}

// listNumbers handles GET /v1/phone-numbers: the account's numbers, with
// the filters type, features, tags, number (digits anywhere), limit and
// offset.
func (a *API) listNumbers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if p := rest.CheckForm(q); p != nil {
		return p
	}
	limit, p := intParam(q, "limit")
	if p != nil {
		return p
	}
	if limit == 0 {
		limit = numbers.DefaultLimit
	}
	if limit > numbers.MaxLimit {
		return rest.Invalid("limit", "limit must be between 1 and 100")
	}
	offset, p := intParam(q, "offset")
	if p != nil {
		return p
	}
	var owned []store.OwnedNumber
	if pr := rest.Principal(r.Context()); !pr.Test { // test keys see no live number
		var err error
		if owned, err = a.numbers.List(r.Context(), pr.AccountID); err != nil {
			return err
		}
	}
	typ, feats, pattern := strings.ToLower(q.Get("type")), featuresOf(q), strings.TrimPrefix(q.Get("number"), "+")
	var tags []string
	for _, v := range listParam(q, "tags") {
		tags = append(tags, rest.SplitList(v)...)
	}
	var match []phoneNumber
	for i := range owned {
		n := renderOwned(&owned[i])
		if typ != "" && n.Type != typ || pattern != "" && !strings.Contains(n.Number, pattern) {
			continue
		}
		if !containsAll(n.Features, feats) || !containsAll(n.Tags, tags) {
			continue
		}
		match = append(match, n)
	}
	items := []phoneNumber{}
	if offset < len(match) {
		items = match[offset:min(len(match), offset+limit)]
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"offset": offset, "limit": limit, "count": len(items), "totalCount": len(match), "items": items})
	return nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// getNumber handles GET /v1/phone-numbers/{number}.
func (a *API) getNumber(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errNumberNotFound()
	}
	o, err := a.numbers.Get(r.Context(), pr.AccountID, r.PathValue("number"))
	if err != nil {
		return numbersProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, renderOwned(o))
	return nil
}

// updateParams reads a PATCH: tags and inboundUrl, nil when absent.
func updateParams(f map[string]json.RawMessage) (store.NumberUpdate, *rest.Problem) {
	var u store.NumberUpdate
	if raw, ok := f["tags"]; ok {
		tags, p := rest.JSONList("tags", raw, true)
		if p != nil {
			return u, p
		}
		tags = nonNil(tags)
		u.Tags = &tags
	}
	if raw, ok := f["inboundUrl"]; ok {
		s, p := rest.JSONText("inboundUrl", raw)
		if p != nil {
			return u, p
		}
		s = strings.TrimSpace(s)
		u.InboundURL = &s
	}
	return u, nil
}

// updateNumber handles PATCH /v1/phone-numbers/{number}: {tags} and
// omnigate's inboundUrl ("" forwards to the account's inbound URL again).
func (a *API) updateNumber(w http.ResponseWriter, r *http.Request) error {
	f, p := a.numberBody(w, r, a.rest.MaxBody(), map[string]bool{"tags": true, "inboundUrl": true})
	if p != nil {
		return p
	}
	u, p := updateParams(f)
	if p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errNumberNotFound()
	}
	o, err := a.numbers.Update(r.Context(), pr.AccountID, r.PathValue("number"), u)
	if err != nil {
		return numbersProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, renderOwned(o))
	return nil
}

// cancelNumber handles DELETE /v1/phone-numbers/{number}: the number goes
// back to the inventory at once; 204.
func (a *API) cancelNumber(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errNumberNotFound()
	}
	if err := a.numbers.Cancel(r.Context(), pr.AccountID, r.PathValue("number")); err != nil {
		return numbersProblem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// parsePhone is the country of a number, for numbers outside the
// inventory.
func parsePhone(n string) (string, error) {
	p, err := phone.Parse(n)
	return p.Country, err
}
