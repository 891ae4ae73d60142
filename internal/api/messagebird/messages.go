package messagebird

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/smstext"
	"github.com/omnigate/omnigate/internal/store"
)

// createMessage handles POST /messages.
func (a *API) createMessage(w http.ResponseWriter, r *http.Request) error {
	req, p := decodeCreate(w, r, a.rest.MaxBody())
	if p != nil {
		return p
	}
	a.countUnknown(req.Unknown)
	pr := rest.Principal(r.Context())
	acct, err := a.accounts.Get(r.Context(), pr.AccountID)
	if err != nil {
		return err
	}
	if err := a.expandGroups(r, req, pr); err != nil {
		return err
	}
	m, p := buildMessage(req, pr.AccountID, acct.StrictNumbers)
	if p != nil {
		return p
	}
	if err := a.pipeline.Accept(r.Context(), m, pipeline.Options{Test: pr.Test, Urgent: req.Urgent}); err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusCreated, renderMessage(m, a.rest.BaseURL(r)))
	return nil
}

// buildMessage validates a request and turns it into the platform's model.
// strictNumbers accepts only recipients libphonenumber knows as valid, not
// every possible number (the account's setting).
func buildMessage(req *createRequest, accountID string, strictNumbers bool) (*message.Message, *rest.Problem) {
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
		return nil, rest.Missing("originator")
	}
	if p := validOriginator(req.Originator); p != nil {
		return nil, p
	}
	m.Originator = strings.TrimSpace(req.Originator)
	if req.Body == "" {
		return nil, rest.Missing("body")
	}
	switch req.Type {
	case "", "sms":
		m.Type = message.TypeSMS
	case "binary":
		m.Type = message.TypeBinary
	case "flash":
		m.Type = message.TypeFlash
	case "premium":
		return nil, rest.Invalid("type", "premium SMS is not supported")
	default:
		return nil, rest.Invalid("type", "type must be sms, binary or flash")
	}
	if _, err := smstext.ParseMode(req.DataCoding); err != nil {
		return nil, rest.Invalid("datacoding", "datacoding must be plain, unicode or auto")
	}
	sms.DataCoding = req.DataCoding
	switch {
	case m.Type == message.TypeFlash:
		sms.MClass = 0
	case req.MClass == nil:
		sms.MClass = 1
	case *req.MClass < 0 || *req.MClass > 3:
		return nil, rest.Invalid("mclass", "mclass must be 0, 1, 2 or 3")
	default:
		sms.MClass = *req.MClass
	}
	if req.Validity != nil {
		if *req.Validity < 0 || *req.Validity > message.MaxValidity {
			return nil, rest.Invalid("validity", fmt.Sprintf("validity must be a number of seconds from 0 to %d (30 days)", message.MaxValidity))
		}
		m.Validity = *req.Validity
	}
	if req.Gateway != nil {
		if *req.Gateway < 0 || *req.Gateway > message.MaxGateway {
			return nil, rest.Invalid("gateway", fmt.Sprintf("gateway must be an integer from 0 to %d", message.MaxGateway))
		}
		sms.Gateway = *req.Gateway
	}
	if len(m.Reference) > 512 {
		return nil, rest.Invalid("reference", "reference is longer than 512 characters")
	}
	if m.ReportURL != "" {
		u, err := url.Parse(m.ReportURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(m.ReportURL) > 2048 {
			return nil, rest.Invalid("reportUrl", "reportUrl must be an absolute http or https URL")
		}
	}
	if s := strings.TrimSpace(req.ScheduledDatetime); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, rest.Invalid("scheduledDatetime", "scheduledDatetime must be an RFC 3339 time such as 2026-11-25T14:00:00+00:00")
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
func validOriginator(s string) *rest.Problem {
	s = strings.TrimSpace(s)
	digits := strings.TrimPrefix(s, "+")
	if digits != "" && strings.Trim(digits, "0123456789") == "" {
		if len(digits) > 16 {
			return rest.Invalid("originator", "a numeric originator has at most 16 digits")
		}
		return nil
	}
	if len(s) > 11 {
		return rest.Invalid("originator", "originator is invalid: an alphanumeric originator has at most 11 characters")
	}
	for _, c := range s {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(" .-_&'", c)
		if !ok {
			return rest.Invalid("originator", "originator is invalid: use letters, digits, spaces and . - _ & ' only")
		}
	}
	return nil
}

// addRecipients normalises, de-duplicates and checks the recipients: every
// possible number passes (the carrier decides), or with strict only those
// libphonenumber knows as valid.
func addRecipients(m *message.Message, req *createRequest, strict bool) *rest.Problem {
	if len(req.Recipients) == 0 && len(req.GroupNumbers) == 0 {
		return errNoRecipients()
	}
	if len(req.Recipients) > maxRecipients {
		return rest.Invalid("recipients", fmt.Sprintf("%d recipients given; at most %d per request", len(req.Recipients), maxRecipients))
	}
	seen := make(map[string]bool, len(req.Recipients))
	for _, raw := range req.Recipients {
		n, err := phone.Parse(raw)
		if err != nil {
			return rest.Invalid("recipients", "recipient "+rest.Quote(raw)+" is not a valid phone number in international format")
		}
		if strict && !n.Valid {
			return rest.Invalid("recipients", "recipient "+rest.Quote(raw)+" is not in a range known to be in use; this account accepts only valid numbers (strict numbers)")
		}
		if seen[n.MSISDN] {
			continue
		}
		seen[n.MSISDN] = true
		m.Recipients = append(m.Recipients, message.Recipient{Address: n.MSISDN, Country: n.Country, CountryPrefix: n.CountryPrefix})
	}
	// The groups' members, after the recipients listed.
	for _, raw := range req.GroupNumbers {
		n, err := phone.Parse(raw)
		if err != nil || strict && !n.Valid {
			return rest.Invalid("groupIds", "a contact of the groups has the number "+rest.Quote(raw)+", which this account cannot send to")
		}
		if seen[n.MSISDN] {
			continue
		}
		seen[n.MSISDN] = true
		m.Recipients = append(m.Recipients, message.Recipient{Address: n.MSISDN, Country: n.Country, CountryPrefix: n.CountryPrefix})
	}
	if len(m.Recipients) == 0 {
		return errNoRecipients()
	}
	return nil
}

// maxGroupRecipients bounds a message sent to groups: the recipients
// listed and the groups' distinct numbers together.
const maxGroupRecipients = 1000

// expandGroups resolves the groups of a request, from groupIds and from
// group ids among the recipients (MessageBird accepts both), to their
// contacts' numbers, at acceptance. A test key sees no group.
func (a *API) expandGroups(r *http.Request, req *createRequest, pr auth.Principal) error {
	groups := req.GroupIDs
	recipients := req.Recipients[:0:0]
	for _, v := range req.Recipients {
		if isID(v) {
			groups = append(groups, v)
		} else {
			recipients = append(recipients, v)
		}
	}
	if len(groups) == 0 {
		return nil
	}
	req.Recipients = recipients
	if len(groups) > maxRecipients {
		return rest.Invalid("groupIds", fmt.Sprintf("%d groups given; at most %d per request", len(groups), maxRecipients))
	}
	if pr.Test {
		return errUnknownGroups()
	}
	nums, err := a.store.GroupNumbers(r.Context(), pr.AccountID, groups, maxGroupRecipients)
	if errors.Is(err, store.ErrNotFound) {
		return errUnknownGroups()
	}
	if err != nil {
		return err
	}
	if len(nums)+len(recipients) > maxGroupRecipients {
		return rest.Invalid("groupIds", fmt.Sprintf("the groups and recipients hold more than %d numbers; send in smaller parts", maxGroupRecipients))
	}
	req.GroupNumbers = nums
	return nil
}

func errUnknownGroups() *rest.Problem {
	return rest.Invalid("groupIds", "groupIds names a group this account does not have")
}

// isID says whether s is an omnigate id (32 lower-case hex characters),
// which no phone number is.
func isID(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// getMessage handles GET /messages/{id}. Test keys see no message: their
// own are never stored, and live ones are not theirs to read.
func (a *API) getMessage(w http.ResponseWriter, r *http.Request) error {
	if rest.Principal(r.Context()).Test {
		return errNotFound()
	}
	m, err := a.store.GetMessage(r.Context(), rest.Principal(r.Context()).AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || err == nil && m.Channel != message.ChannelSMS {
		// Other channels' messages are read through their own door
		// (email: GET /v1/messages/{id}).
		return errNotFound()
	}
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, renderMessage(m, a.rest.BaseURL(r)))
	return nil
}

// deleteMessage handles DELETE /messages/{id}: only scheduled messages.
// A test key sees no message to delete.
func (a *API) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	if rest.Principal(r.Context()).Test {
		return errNotFound()
	}
	err := a.store.CancelScheduled(r.Context(), rest.Principal(r.Context()).AccountID, r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound()
	case errors.Is(err, store.ErrConflict):
		return rest.Invalid("id", "only scheduled messages can be deleted; this one has already been sent")
	case err != nil:
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listMessages handles GET /messages; a test key's list is empty.
func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, p := rest.ListFilter(q)
	if p != nil {
		return p
	}
	f.Channel = message.ChannelSMS
	for name := range q {
		if !listParams[name] {
			a.countUnknown([]string{name})
		}
	}
	var msgs []*message.Message
	var total int
	if pr := rest.Principal(r.Context()); !pr.Test {
		var err error
		if msgs, total, err = a.store.ListMessages(r.Context(), pr.AccountID, f); err != nil {
			return err
		}
	}
	base := a.rest.BaseURL(r)
	out := listJSON{
		Offset: f.Offset, Limit: f.Limit, Count: len(msgs), TotalCount: total,
		Links: rest.PageLinks(base, "/messages/", f.Offset, f.Limit, total),
		Items: make([]messageJSON, len(msgs)),
	}
	for i, m := range msgs {
		out.Items[i] = renderMessage(m, base)
	}
	rest.WriteJSON(w, http.StatusOK, out)
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
