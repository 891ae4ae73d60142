package twilio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// maxBodyChars is Twilio's bound of a message body.
const maxBodyChars = 1600

// createParams are the parameters of a create the door reads; others are
// ignored, as Twilio does, and counted.
var createParams = map[string]bool{"To": true, "From": true, "MessagingServiceSid": true, "Body": true, "StatusCallback": true,
	"ValidityPeriod": true, "SendAt": true, "ScheduleType": true, "MediaUrl": true, "SmartEncoded": true,
	"ApplicationSid": true, "MaxPrice": true, "ProvideFeedback": true, "Attempt": true, "ForceDelivery": true,
	"ContentRetention": true, "AddressRetention": true, "PersistentAction": true, "ShortenUrls": true,
	"SendAsMms": true, "ContentSid": true, "ContentVariables": true, "RiskCheck": true}

// readForm reads a form-encoded body under the text rules.
func (a *API) readForm(w http.ResponseWriter, r *http.Request) (url.Values, *Error) {
	body, p := rest.ReadBody(w, r, a.maxBody)
	if p != nil {
		return nil, fromProblem(p)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, bad(CodeInvalidParam, "The request body is not form-encoded (application/x-www-form-urlencoded)")
	}
	if p := rest.CheckForm(form); p != nil {
		return nil, fromProblem(p)
	}
	return form, nil
}

// createMessage handles POST Messages.json.
func (a *API) createMessage(w http.ResponseWriter, r *http.Request) error {
	form, e := a.readForm(w, r)
	if e != nil {
		return e
	}
	for name := range form {
		if !createParams[name] {
			a.metrics.UnknownParam(Door, name)
		}
	}
	pr := principalOf(r.Context())
	m, e := build(form, pr.AccountID, time.Now())
	if e != nil {
		return e
	}
	if sid := strings.TrimSpace(form.Get("MessagingServiceSid")); sid != "" {
		if e := a.useService(r, m, sid); e != nil {
			return e
		}
	}
	if err := a.pipeline.Accept(r.Context(), m, pipeline.Options{}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, render(m, pr.SID))
	return nil
}

// build validates a create and turns it into the platform's model.
func build(form url.Values, accountID string, now time.Time) (*message.Message, *Error) {
	m := &message.Message{AccountID: accountID, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
		Details: message.Details{Report: Report}}
	m.SMS = &message.SMS{MClass: 1}
	if len(form["MediaUrl"]) > 0 {
		return nil, bad(CodeMediaURL, "MediaUrl: MMS is not available on this server yet; send text only")
	}
	to := strings.TrimSpace(form.Get("To"))
	if to == "" {
		return nil, bad(CodeToRequired, "A 'To' phone number is required.")
	}
	if strings.HasPrefix(to, "whatsapp:") || strings.HasPrefix(to, "messenger:") {
		return nil, bad(CodeInvalidTo, "The 'To' number "+to+" is not a valid phone number: channel addresses are not available on this server yet")
	}
	n, err := phone.Parse(to)
	if err != nil {
		return nil, bad(CodeInvalidTo, "The 'To' number "+to+" is not a valid phone number.")
	}
	m.Recipients = []message.Recipient{{Address: n.MSISDN, Country: n.Country, CountryPrefix: n.CountryPrefix}}
	from := strings.TrimSpace(form.Get("From"))
	switch {
	case from != "":
		if e := validFrom(from); e != nil {
			return nil, e
		}
		m.Originator = from
	case form.Get("MessagingServiceSid") == "":
		return nil, bad(CodeFromRequired, "A 'From' phone number is required.")
	}
	// With a MessagingServiceSid and no From, the caller picks the sender
	// from the service's pool (API.useService).
	body := form.Get("Body")
	if sm := form.Get("SmartEncoded"); sm != "" {
		on, err := strconv.ParseBool(sm)
		if err != nil {
			return nil, bad(CodeInvalidParam, "SmartEncoded must be true or false")
		}
		if on {
			body = smartEncode(body)
		}
	}
	if body == "" {
		return nil, bad(CodeBodyRequired, "Message body is required.")
	}
	if utf8.RuneCountInString(body) > maxBodyChars {
		return nil, bad(CodeBodyTooLong, fmt.Sprintf("The concatenated message body exceeds the %d character limit.", maxBodyChars))
	}
	m.Body = body
	if cb := strings.TrimSpace(form.Get("StatusCallback")); cb != "" {
		u, err := url.Parse(cb)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(cb) > 2048 {
			return nil, bad(CodeInvalidParam, "StatusCallback must be an absolute http or https URL")
		}
		m.ReportURL = cb
	}
	if v := form.Get("ValidityPeriod"); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 1 || s > 36000 {
			return nil, bad(CodeInvalidParam, "ValidityPeriod must be a number of seconds from 1 to 36000")
		}
		m.Validity = s
	}
	sendAt, typ := strings.TrimSpace(form.Get("SendAt")), form.Get("ScheduleType")
	switch {
	case sendAt == "" && typ == "":
	case typ != "fixed":
		return nil, bad(CodeScheduleType, "ScheduleType must be 'fixed' when SendAt is given")
	case sendAt == "":
		return nil, bad(CodeSendAt, "SendAt is required with ScheduleType")
	default:
		t, err := time.Parse(time.RFC3339, sendAt)
		if err != nil {
			return nil, bad(CodeSendAt, "SendAt must be an ISO 8601 time such as 2026-11-25T14:00:00Z")
		}
		if !t.After(now) || t.After(now.Add(35*24*time.Hour)) {
			return nil, bad(CodeSendAt, "SendAt must be in the future and at most 35 days away")
		}
		m.ScheduledAt = t.UTC()
	}
	return m, nil
}

// validFrom accepts a phone number or short code (up to 16 digits,
// optionally with "+") or an alphanumeric sender of at most 11 characters.
func validFrom(s string) *Error {
	digits := strings.TrimPrefix(s, "+")
	if digits != "" && strings.Trim(digits, "0123456789") == "" {
		if len(digits) > 16 {
			return bad(CodeInvalidFrom, "The 'From' number "+s+" is not a valid phone number or shortcode.")
		}
		return nil
	}
	if len(s) > 11 {
		return bad(CodeInvalidFrom, "The 'From' "+s+" is not valid: an alphanumeric sender has at most 11 characters")
	}
	for _, c := range s {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(" .-_&'", c)
		if !ok {
			return bad(CodeInvalidFrom, "The 'From' "+s+" is not valid: use letters, digits, spaces and . - _ & ' only")
		}
	}
	return nil
}

// smart are the characters SmartEncoded replaces with GSM-7 ones, as
// Twilio's Smart Encoding does.
var smart = strings.NewReplacer(
	"\u2018", "'", "\u2019", "'", "\u201A", "'", "\u201B", "'", "\u2032", "'",
	"\u201C", `"`, "\u201D", `"`, "\u201E", `"`, "\u201F", `"`, "\u2033", `"`, "\u00AB", `"`, "\u00BB", `"`,
	"\u2013", "-", "\u2014", "-", "\u2010", "-", "\u2011", "-", "\u2212", "-",
	"\u2026", "...", "\u00A0", " ", "\u2002", " ", "\u2003", " ", "\u2009", " ", "\u200B", "",
	"\u2022", "-", "\u02BC", "'", "\u02C6", "^", "\u02DC", "~",
)

func smartEncode(s string) string { return smart.Replace(s) }

// fetchMessage handles GET Messages/{Sid}.json.
func (a *API) fetchMessage(w http.ResponseWriter, r *http.Request) error {
	m, err := a.lookup(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, render(m, principalOf(r.Context()).SID))
	return nil
}

// lookup reads the message of the path's SID.
func (a *API) lookup(r *http.Request) (*message.Message, error) {
	sid := r.PathValue("Sid")
	if !strings.HasSuffix(sid, ".json") {
		return nil, errNotFound(r.URL.Path)
	}
	id := messageID(sid)
	if id == "" {
		return nil, errNotFound(r.URL.Path)
	}
	m, err := a.store.GetMessage(r.Context(), principalOf(r.Context()).AccountID, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && m.Channel != message.ChannelSMS {
		return nil, errNotFound(r.URL.Path)
	}
	return m, err
}

// updateMessage handles POST Messages/{Sid}.json: Status=canceled cancels
// a scheduled message; Body="" redacts a final one's body.
func (a *API) updateMessage(w http.ResponseWriter, r *http.Request) error {
	form, e := a.readForm(w, r)
	if e != nil {
		return e
	}
	m, err := a.lookup(r)
	if err != nil {
		return err
	}
	_, redact := form["Body"]
	switch {
	case form.Get("Status") == "canceled":
		if err := a.cancel(r, m); err != nil {
			return err
		}
	case form.Has("Status"):
		return bad(CodeInvalidParam, "Status can only be set to canceled")
	case redact && form.Get("Body") == "":
		if err := a.finalOnly(r, a.store.RedactMessage(r.Context(), m.AccountID, m.ID)); err != nil {
			return err
		}
		m.Body = ""
	case redact:
		return bad(CodeInvalidParam, "Body can only be set to the empty string (to redact it)")
	default:
		return bad(CodeInvalidParam, "Give Status=canceled or Body=\"\"")
	}
	writeJSON(w, http.StatusOK, render(m, principalOf(r.Context()).SID))
	return nil
}

// cancel cancels a scheduled message; m then shows as canceled.
func (a *API) cancel(r *http.Request, m *message.Message) error {
	err := a.store.CancelScheduled(r.Context(), m.AccountID, m.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusBadRequest, Code: CodeNotCancelable, Message: "Message is not in a cancelable state: only scheduled messages can be canceled"}
	case err != nil:
		return err
	}
	for i := range m.Recipients {
		m.Recipients[i].Status = "canceled"
	}
	return nil
}

// deleteMessage handles DELETE Messages/{Sid}.json: a scheduled message
// is canceled; a final one's record is deleted; others are still on their
// way (20009).
func (a *API) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	m, err := a.lookup(r)
	if err != nil {
		return err
	}
	if len(m.Recipients) > 0 && m.Recipients[0].Status == message.Scheduled {
		err = a.cancel(r, m)
	} else {
		err = a.finalOnly(r, a.store.DeleteMessage(r.Context(), m.AccountID, m.ID))
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// finalOnly turns the answer of a store change allowed only on final
// messages into the door's.
func (a *API) finalOnly(r *http.Request, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: CodeInProgress,
			Message: "Cannot change message " + r.PathValue("Sid") + ": it is not in a final state (delivered, undelivered, failed) yet"}
	}
	return err
}

// listJSON is Twilio's page of messages.
type listJSON struct {
	Messages []messageJSON `json:"messages"`
	page2010
}

// listMessages handles GET Messages.json.
func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pr := principalOf(r.Context())
	size, page, offset := 50, 0, 0
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return bad(CodeInvalidParam, "PageSize must be from 1 to 1000")
		}
		size = n
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			return bad(CodeInvalidParam, "Page must be a page number from 0")
		}
		page = n
	}
	offset = page * size
	if v := q.Get("PageToken"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "PO"))
		if err != nil || !strings.HasPrefix(v, "PO") || n < 0 || n > 1_000_000_000 {
			return bad(CodeInvalidParam, "PageToken is not one this server gave")
		}
		offset = n
	}
	f := store.MessageFilter{Channel: message.ChannelSMS, Limit: size, Offset: offset}
	if v := q.Get("To"); v != "" {
		n, err := phone.Parse(v)
		if err != nil {
			return bad(CodeInvalidTo, "To is not a valid phone number")
		}
		f.Recipient = n.MSISDN
	}
	f.Originator = q.Get("From")
	var e *Error
	if v := q.Get("DateSent"); v != "" {
		var day time.Time
		if day, e = date("DateSent", v); e != nil {
			return e
		}
		f.From, f.Until = day, day.Add(24*time.Hour)
	}
	if v := q.Get("DateSent<"); v != "" {
		var t time.Time
		if t, e = date("DateSent<", v); e != nil {
			return e
		}
		if len(v) == len("2006-01-02") {
			t = t.Add(24 * time.Hour) // on or before that day
		}
		f.Until = t
	}
	if v := q.Get("DateSent>"); v != "" {
		if f.From, e = date("DateSent>", v); e != nil {
			return e
		}
	}
	msgs, total, err := a.store.ListMessages(r.Context(), pr.AccountID, f)
	if err != nil {
		return err
	}
	path := "/" + APIVersion + "/Accounts/" + pr.SID + "/Messages.json"
	link := func(page, offset int) string {
		v := url.Values{}
		for _, k := range []string{"To", "From", "DateSent", "DateSent<", "DateSent>"} {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		v.Set("PageSize", strconv.Itoa(size))
		v.Set("Page", strconv.Itoa(page))
		if offset > 0 {
			v.Set("PageToken", "PO"+strconv.Itoa(offset))
		}
		return path + "?" + v.Encode()
	}
	out := listJSON{Messages: make([]messageJSON, len(msgs)), page2010: page2010{Page: offset / size, PageSize: size, Start: offset,
		End: offset + len(msgs) - 1, FirstPageURI: link(0, 0), URI: link(offset/size, offset)}}
	if len(msgs) == 0 {
		out.End = offset
	}
	for i, m := range msgs {
		out.Messages[i] = render(m, pr.SID)
	}
	if offset+len(msgs) < total {
		next := link(offset/size+1, offset+size)
		out.NextPageURI = &next
	}
	if offset > 0 {
		prev := link(max(0, offset-size)/size, max(0, offset-size))
		out.PreviousPageURI = &prev
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// date reads a date filter: a day (YYYY-MM-DD) or an RFC 3339 time.
func date(name, v string) (time.Time, *Error) {
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, bad(CodeInvalidParam, name+" must be a date such as 2026-11-25 or an ISO 8601 time")
}
