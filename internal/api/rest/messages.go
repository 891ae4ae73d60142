package rest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/smstext"
	"github.com/omnigate/omnigate/internal/store"
)

// createMessage handles POST /messages.
func (a *API) createMessage(w http.ResponseWriter, r *http.Request) error {
	req, p := decodeCreate(w, r, a.cfg.MaxBody)
	if p != nil {
		return p
	}
	a.countUnknown(req.Unknown)
	pr := principalFrom(r.Context())
	acct, err := a.accounts.Get(r.Context(), pr.AccountID)
	if err != nil {
		return err
	}
	m, p := buildMessage(req, pr.AccountID, acct.StrictNumbers)
	if p != nil {
		return p
	}
	if err := a.pipeline.Accept(r.Context(), m, pipeline.Options{Test: pr.Test, Urgent: req.Urgent}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, renderMessage(m, a.base(r)))
	return nil
}

// buildMessage validates a request and turns it into the platform's model.
// strictNumbers accepts only recipients libphonenumber knows as valid, not
// every possible number (the account's setting).
func buildMessage(req *createRequest, accountID string, strictNumbers bool) (*message.Message, *Problem) {
	m := &message.Message{
		AccountID:  accountID,
		Channel:    message.ChannelSMS,
		Direction:  message.MT,
		Body:       req.Body,
		Reference:  req.Reference,
		ReportURL:  strings.TrimSpace(req.ReportURL),
		Purpose:    strings.TrimSpace(req.Purpose),
		Categories: req.Categories,
	}
	sms := &message.SMS{TypeDetails: req.TypeDetails}
	m.SMS = sms
	if req.Originator == "" {
		return nil, errMissing("originator")
	}
	if p := validOriginator(req.Originator); p != nil {
		return nil, p
	}
	m.Originator = strings.TrimSpace(req.Originator)
	if req.Body == "" {
		return nil, errMissing("body")
	}
	switch req.Type {
	case "", "sms":
		m.Type = message.TypeSMS
	case "binary":
		m.Type = message.TypeBinary
	case "flash":
		m.Type = message.TypeFlash
	case "premium":
		return nil, errInvalid("type", "premium SMS is not supported")
	default:
		return nil, errInvalid("type", "type must be sms, binary or flash")
	}
	if _, err := smstext.ParseMode(req.DataCoding); err != nil {
		return nil, errInvalid("datacoding", "datacoding must be plain, unicode or auto")
	}
	sms.DataCoding = req.DataCoding
	switch {
	case m.Type == message.TypeFlash:
		sms.MClass = 0
	case req.MClass == nil:
		sms.MClass = 1
	case *req.MClass < 0 || *req.MClass > 3:
		return nil, errInvalid("mclass", "mclass must be 0, 1, 2 or 3")
	default:
		sms.MClass = *req.MClass
	}
	if req.Validity != nil {
		if *req.Validity < 0 {
			return nil, errInvalid("validity", "validity must be a positive number of seconds")
		}
		m.Validity = *req.Validity
	}
	if req.Gateway != nil {
		if *req.Gateway < 0 {
			return nil, errInvalid("gateway", "gateway must be a positive integer")
		}
		sms.Gateway = *req.Gateway
	}
	if len(m.Reference) > 512 {
		return nil, errInvalid("reference", "reference is longer than 512 characters")
	}
	if m.ReportURL != "" {
		u, err := url.Parse(m.ReportURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(m.ReportURL) > 2048 {
			return nil, errInvalid("reportUrl", "reportUrl must be an absolute http or https URL")
		}
	}
	if s := strings.TrimSpace(req.ScheduledDatetime); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, errInvalid("scheduledDatetime", "scheduledDatetime must be an RFC 3339 time such as 2026-11-25T14:00:00+00:00")
		}
		m.ScheduledAt = t.UTC()
	}
	if p := addRecipients(m, req, strictNumbers); p != nil {
		return nil, p
	}
	return m, nil
}

// validOriginator accepts a phone number or short code (up to 16 digits,
// optionally with "+") or an alphanumeric sender of at most 11 characters.
func validOriginator(s string) *Problem {
	s = strings.TrimSpace(s)
	digits := strings.TrimPrefix(s, "+")
	if digits != "" && strings.Trim(digits, "0123456789") == "" {
		if len(digits) > 16 {
			return errInvalid("originator", "a numeric originator has at most 16 digits")
		}
		return nil
	}
	if len(s) > 11 {
		return errInvalid("originator", "originator is invalid: an alphanumeric originator has at most 11 characters")
	}
	for _, c := range s {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(" .-_&'", c)
		if !ok {
			return errInvalid("originator", "originator is invalid: use letters, digits, spaces and . - _ & ' only")
		}
	}
	return nil
}

// addRecipients normalises, de-duplicates and checks the recipients: every
// possible number passes (the carrier decides), or with strict only those
// libphonenumber knows as valid.
func addRecipients(m *message.Message, req *createRequest, strict bool) *Problem {
	if len(req.GroupIDs) > 0 {
		return errInvalid("groupIds", "groups are not supported yet; list the recipients")
	}
	if len(req.Recipients) == 0 {
		return errNoRecipients()
	}
	if len(req.Recipients) > maxRecipients {
		return errInvalid("recipients", fmt.Sprintf("%d recipients given; at most %d per request", len(req.Recipients), maxRecipients))
	}
	seen := make(map[string]bool, len(req.Recipients))
	for _, raw := range req.Recipients {
		n, err := phone.Parse(raw)
		if err != nil {
			return errInvalid("recipients", "recipient "+quote(raw)+" is not a valid phone number in international format")
		}
		if strict && !n.Valid {
			return errInvalid("recipients", "recipient "+quote(raw)+" is not in a range known to be in use; this account accepts only valid numbers (strict numbers)")
		}
		if seen[n.MSISDN] {
			continue
		}
		seen[n.MSISDN] = true
		m.Recipients = append(m.Recipients, message.Recipient{Address: n.MSISDN, Country: n.Country, CountryPrefix: n.CountryPrefix})
	}
	return nil
}

// getMessage handles GET /messages/{id}.
func (a *API) getMessage(w http.ResponseWriter, r *http.Request) error {
	m, err := a.store.GetMessage(r.Context(), principalFrom(r.Context()).AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound()
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderMessage(m, a.base(r)))
	return nil
}

// deleteMessage handles DELETE /messages/{id}: only scheduled messages.
func (a *API) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	err := a.store.CancelScheduled(r.Context(), principalFrom(r.Context()).AccountID, r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound()
	case errors.Is(err, store.ErrConflict):
		return errInvalid("id", "only scheduled messages can be deleted; this one has already been sent")
	case err != nil:
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listMessages handles GET /messages.
func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, p := parseListFilter(q)
	if p != nil {
		return p
	}
	for name := range q {
		if !listParams[name] {
			a.countUnknown([]string{name})
		}
	}
	msgs, total, err := a.store.ListMessages(r.Context(), principalFrom(r.Context()).AccountID, f)
	if err != nil {
		return err
	}
	base := a.base(r)
	out := listJSON{
		Offset: f.Offset, Limit: f.Limit, Count: len(msgs), TotalCount: total,
		Links: pageLinks(base, "/messages/", f.Offset, f.Limit, total),
		Items: make([]messageJSON, len(msgs)),
	}
	for i, m := range msgs {
		out.Items[i] = renderMessage(m, base)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listParams are the query parameters GET /messages reads; others are
// ignored and counted, as on POST /messages.
var listParams = map[string]bool{"limit": true, "offset": true, "originator": true, "reference": true, "direction": true,
	"type": true, "status": true, "recipient": true, "from": true, "until": true}

// countUnknown counts parameters of the MessageBird endpoints that were
// ignored because the door does not know them.
func (a *API) countUnknown(names []string) {
	for _, n := range names {
		a.metrics.UnknownParam("messagebird", n)
	}
}

// List limits.
const (
	defaultLimit = 20
	maxLimit     = 200
)

func parseListFilter(q url.Values) (store.MessageFilter, *Problem) {
	f := store.MessageFilter{Limit: defaultLimit}
	intParam := func(name string, lo, hi int, dst *int) *Problem {
		s := q.Get(name)
		if s == "" {
			return nil
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < lo || v > hi {
			return errInvalid(name, fmt.Sprintf("%s must be an integer from %d to %d", name, lo, hi))
		}
		*dst = v
		return nil
	}
	if p := intParam("limit", 1, maxLimit, &f.Limit); p != nil {
		return f, p
	}
	if p := intParam("offset", 0, 1<<31-1, &f.Offset); p != nil {
		return f, p
	}
	for _, name := range []string{"originator", "reference", "recipient"} {
		if !utf8.ValidString(q.Get(name)) {
			return f, errNotUTF8(name)
		}
	}
	f.Originator = q.Get("originator")
	f.Reference = q.Get("reference")
	switch d := q.Get("direction"); d {
	case "", "mt", "mo":
		f.Direction = message.Direction(d)
	default:
		return f, errInvalid("direction", "direction must be mt or mo")
	}
	switch t := q.Get("type"); t {
	case "", "sms", "binary", "flash":
		f.Type = message.Type(t)
	default:
		return f, errInvalid("type", "type must be sms, binary or flash")
	}
	if s := q.Get("status"); s != "" {
		if !message.Status(s).Valid() {
			return f, errInvalid("status", "status must be one of scheduled, sent, buffered, delivered, expired, delivery_failed")
		}
		f.Status = message.Status(s)
	}
	if s := q.Get("recipient"); s != "" {
		n, err := phone.Parse(s)
		if err != nil {
			return f, errInvalid("recipient", "recipient must be a phone number in international format")
		}
		f.Recipient = n.MSISDN
	}
	for name, dst := range map[string]*time.Time{"from": &f.From, "until": &f.Until} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return f, errInvalid(name, name+" must be an RFC 3339 time")
			}
			*dst = t
		}
	}
	return f, nil
}
