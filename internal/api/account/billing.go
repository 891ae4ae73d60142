package account

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/smstext"
	"github.com/omnigate/omnigate/internal/store"
)

// money is an amount on the wire: a JSON number written exactly from
// micro-units, never through floating point.
func money(v int64) json.Number { return json.Number(message.FormatMicros(v)) }

type priceJSONOut struct {
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
}

// getSMSPrice answers GET /prices/sms?recipient=…[&body=…&datacoding=…]:
// what one segment to that number costs this account and, with a body, the
// whole message.
func (a *API) getSMSPrice(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	n, err := phone.Parse(q.Get("recipient"))
	if err != nil {
		return rest.Invalid("recipient", "recipient must be a phone number in international format")
	}
	acct, err := a.store.GetAccount(r.Context(), rest.Principal(r.Context()).AccountID)
	if err != nil {
		return err
	}
	quote, err := a.billing.Pricer().Lookup(r.Context(), acct.ID, message.ChannelSMS, acct.Currency, n.Country, n.MSISDN)
	if errors.Is(err, billing.ErrNoPrice) {
		return rest.Invalid("recipient", "no price for this destination on the account's price list")
	}
	if err != nil {
		return err
	}
	out := struct {
		Recipient        json.Number   `json:"recipient"`
		Country          string        `json:"country"`
		CountryPrefix    int           `json:"countryPrefix"`
		PricePerSegment  priceJSONOut  `json:"pricePerSegment"`
		MessagePartCount *int          `json:"messagePartCount,omitempty"`
		Datacoding       string        `json:"datacoding,omitempty"`
		Price            *priceJSONOut `json:"price,omitempty"`
	}{Recipient: json.Number(n.MSISDN), Country: n.Country, CountryPrefix: n.CountryPrefix,
		PricePerSegment: priceJSONOut{money(quote.Price), acct.Currency}}
	if body := q.Get("body"); body != "" {
		mode, err := smstext.ParseMode(q.Get("datacoding"))
		if err != nil {
			return rest.Invalid("datacoding", "datacoding must be plain, unicode or auto")
		}
		if mode == smstext.ModePlain {
			mode = smstext.ModeAuto
		}
		info := smstext.Analyze(body, mode)
		out.MessagePartCount, out.Datacoding = &info.Parts, info.Coding.String()
		out.Price = &priceJSONOut{money(quote.Price * int64(info.Parts)), acct.Currency}
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

// getUsage answers GET /usage: each limit with what is used this period
// (for a test key, nothing: usage is live traffic).
func (a *API) getUsage(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	usage, err := a.store.Usage(r.Context(), pr.AccountID, time.Now())
	if err != nil {
		return err
	}
	type item struct {
		Metric      string  `json:"metric"`
		Channel     string  `json:"channel,omitempty"`
		Period      string  `json:"period"`
		PeriodStart string  `json:"periodStart"`
		Limit       any     `json:"limit"`
		Used        any     `json:"used"`
		Percent     float64 `json:"percent"`
		Policy      string  `json:"policy"`
	}
	items := make([]item, len(usage))
	for i, u := range usage {
		if pr.Test {
			u.Used = 0
		}
		it := item{Metric: u.Metric, Channel: u.Channel, Period: u.Period, PeriodStart: u.PeriodStart.Format(message.TimeLayout),
			Limit: u.Limit, Used: u.Used, Policy: u.Policy}
		if u.Metric == store.MetricSpend {
			it.Limit, it.Used = money(u.Limit), money(u.Used)
		}
		if u.Limit > 0 {
			it.Percent = float64(u.Used*1000/u.Limit) / 10
		}
		items[i] = it
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Items any `json:"items"`
	}{items})
	return nil
}

// getLedger answers GET /ledger?limit&offset: money movements, newest
// first; none for a test key.
func (a *API) getLedger(w http.ResponseWriter, r *http.Request) error {
	f, p := rest.ListFilter(r.URL.Query())
	if p != nil {
		return p
	}
	var entries []store.LedgerEntry
	if pr := rest.Principal(r.Context()); !pr.Test {
		var err error
		if entries, err = a.store.Ledger(r.Context(), pr.AccountID, f.Limit, f.Offset); err != nil {
			return err
		}
	}
	type item struct {
		ID              int64       `json:"id"`
		Kind            string      `json:"kind"`
		Amount          json.Number `json:"amount"`
		Currency        string      `json:"currency"`
		BalanceAfter    json.Number `json:"balanceAfter"`
		Reference       string      `json:"reference,omitempty"`
		Reason          string      `json:"reason,omitempty"`
		CreatedDatetime string      `json:"createdDatetime"`
	}
	items := make([]item, len(entries))
	for i, e := range entries {
		items[i] = item{e.ID, e.Kind, money(e.Amount), e.Currency, money(e.BalanceAfter), e.Reference, e.Reason, e.CreatedAt.Format(message.TimeLayout)}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Offset int `json:"offset"`
		Limit  int `json:"limit"`
		Count  int `json:"count"`
		Items  any `json:"items"`
	}{f.Offset, f.Limit, len(items), items})
	return nil
}

type autoTopUpJSON struct {
	Enabled   bool        `json:"enabled"`
	Threshold json.Number `json:"threshold"`
	Amount    json.Number `json:"amount"`
	Currency  string      `json:"currency"`
	Consent   string      `json:"consent,omitempty"`
}

func showAutoTopUp(a *store.Account) autoTopUpJSON {
	return autoTopUpJSON{a.TopUpEnabled, money(a.TopUpThreshold), money(a.TopUpAmount), a.Currency, a.TopUpConsent}
}

// getAutoTopUp answers GET /billing/autotopup.
func (a *API) getAutoTopUp(w http.ResponseWriter, r *http.Request) error {
	acct, err := a.store.GetAccount(r.Context(), rest.Principal(r.Context()).AccountID)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, showAutoTopUp(acct))
	return nil
}

// putAutoTopUp answers PUT /billing/autotopup {enabled, threshold, amount}:
// switching automatic top-up on records the caller's consent; off
// withdraws it. Test keys may not.
func (a *API) putAutoTopUp(w http.ResponseWriter, r *http.Request) error {
	if rest.Principal(r.Context()).Test {
		return rest.TestKeyRefused("change automatic top-up")
	}
	var req struct {
		Enabled   *bool       `json:"enabled"`
		Threshold json.Number `json:"threshold"`
		Amount    json.Number `json:"amount"`
	}
	if p := a.decodeJSON(w, r, &req); p != nil {
		return p
	}
	if req.Enabled == nil {
		return rest.Missing("enabled")
	}
	t := billing.AutoTopUp{Enabled: *req.Enabled}
	var p *rest.Problem
	if t.Threshold, p = amountParam("threshold", req.Threshold, *req.Enabled); p != nil {
		return p
	}
	if t.Amount, p = amountParam("amount", req.Amount, *req.Enabled); p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	acct, err := a.billing.SetAutoTopUp(r.Context(), pr.AccountID, t, "api key "+pr.KeyID)
	if err != nil {
		return rest.Invalid("amount", err.Error())
	}
	rest.WriteJSON(w, http.StatusOK, showAutoTopUp(acct))
	return nil
}

// amountParam reads a non-negative decimal amount given as a JSON number
// or string; required says whether it must be there.
func amountParam(name string, v json.Number, required bool) (int64, *rest.Problem) {
	s := strings.Trim(string(v), `"`)
	if s == "" {
		if required {
			return 0, rest.Missing(name)
		}
		return 0, nil
	}
	n, err := message.ParseMicros(s)
	if err != nil || n < 0 {
		return 0, rest.Invalid(name, name+" must be a positive amount with at most 6 decimals, of at most "+message.MaxAmountText)
	}
	return n, nil
}

// decodeJSON reads a JSON object body strictly: unknown fields are errors.
func (a *API) decodeJSON(w http.ResponseWriter, r *http.Request, v any) *rest.Problem {
	body, p := rest.ReadBody(w, r, a.rest.MaxBody())
	if p != nil {
		return p
	}
	return decodeStrict(body, v)
}

// decodeStrict decodes a JSON object body whose texts follow the text
// rules; unknown fields are errors.
func decodeStrict(body []byte, v any) *rest.Problem {
	if p := rest.CheckJSON(body); p != nil {
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return rest.Malformed("malformed JSON: " + err.Error())
	}
	return nil
}

type topUpJSON struct {
	ID              string      `json:"id"`
	Amount          json.Number `json:"amount"`
	Currency        string      `json:"currency"`
	Status          string      `json:"status"`
	Provider        string      `json:"provider"`
	Automatic       bool        `json:"automatic"`
	CreatedDatetime string      `json:"createdDatetime"`
	SettledDatetime *string     `json:"settledDatetime"`
}

func showTopUp(t store.TopUp) topUpJSON {
	return topUpJSON{t.ID, money(t.Amount), t.Currency, t.Status, t.Provider, t.Automatic, t.CreatedAt.Format(message.TimeLayout), rest.TimeText(t.SettledAt)}
}

// listTopUps answers GET /topups; none for a test key.
func (a *API) listTopUps(w http.ResponseWriter, r *http.Request) error {
	var list []store.TopUp
	if pr := rest.Principal(r.Context()); !pr.Test {
		var err error
		if list, err = a.store.TopUps(r.Context(), pr.AccountID); err != nil {
			return err
		}
	}
	items := make([]topUpJSON, len(list))
	for i, t := range list {
		items[i] = showTopUp(t)
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Items any `json:"items"`
	}{items})
	return nil
}

// requestTopUp answers POST /topups {amount, idempotencyKey}: a top-up
// asked of the payment provider (with the invoice provider it waits for an
// operator). A repeated idempotency key answers 409 and creates nothing.
// Test keys may not.
func (a *API) requestTopUp(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return rest.TestKeyRefused("request top-ups")
	}
	var req struct {
		Amount         json.Number `json:"amount"`
		IdempotencyKey string      `json:"idempotencyKey"`
	}
	if p := a.decodeJSON(w, r, &req); p != nil {
		return p
	}
	amount, p := amountParam("amount", req.Amount, true)
	if p != nil {
		return p
	}
	if amount == 0 {
		return rest.Invalid("amount", "amount must be more than zero")
	}
	if len(req.IdempotencyKey) > 200 {
		return rest.Invalid("idempotencyKey", "idempotencyKey is longer than 200 characters")
	}
	t, err := a.billing.RequestTopUp(r.Context(), pr.AccountID, amount, req.IdempotencyKey, "api key "+pr.KeyID)
	if errors.Is(err, store.ErrConflict) {
		return rest.NewProblem(http.StatusConflict, rest.CodeInvalidParams, "idempotencyKey", "a top-up with this idempotencyKey exists already")
	}
	if err != nil && t == nil {
		return err
	}
	rest.WriteJSON(w, http.StatusCreated, showTopUp(*t))
	return nil
}

// getStatement answers GET /statements/{YYYY-MM} as JSON, or CSV for
// {YYYY-MM}.csv; for a test key, a statement without usage.
func (a *API) getStatement(w http.ResponseWriter, r *http.Request) error {
	month, asCSV := strings.CutSuffix(r.PathValue("month"), ".csv")
	pr := rest.Principal(r.Context())
	st, err := a.billing.MonthlyStatement(r.Context(), pr.AccountID, month)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return rest.Invalid("month", "month must be written YYYY-MM, e.g. 2026-11")
	}
	if pr.Test {
		st.Lines, st.Totals = nil, billing.StatementTotals{}
	}
	if asCSV {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="statement-`+month+`.csv"`)
		return billing.WriteStatementCSV(w, st)
	}
	type line struct {
		Day        string      `json:"day"`
		Channel    string      `json:"channel"`
		Country    string      `json:"country"`
		Messages   int64       `json:"messages"`
		Recipients int64       `json:"recipients"`
		Segments   int64       `json:"segments"`
		Amount     json.Number `json:"amount"`
	}
	lines := make([]line, len(st.Lines))
	for i, l := range st.Lines {
		lines[i] = line{l.Day.Format("2006-01-02"), l.Channel, l.Country, l.Messages, l.Recipients, l.Segments, money(l.Amount)}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Month    string `json:"month"`
		Currency string `json:"currency"`
		Lines    any    `json:"lines"`
		Totals   any    `json:"totals"`
	}{st.Month, st.Currency, lines, struct {
		Messages   int64       `json:"messages"`
		Recipients int64       `json:"recipients"`
		Segments   int64       `json:"segments"`
		Amount     json.Number `json:"amount"`
	}{st.Totals.Messages, st.Totals.Recipients, st.Totals.Segments, money(st.Totals.Amount)}})
	return nil
}
