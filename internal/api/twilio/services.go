package twilio

import (
	"errors"
	"hash/fnv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Messaging Services, served as Twilio serves them on
// messaging.twilio.com: /v1/Services, /v1/Services/{Sid}/PhoneNumbers and
// /v1/Services/{Sid}/AlphaSenders. The helper libraries reach them
// through the same HTTP client as the 2010 API (docs/twilio.md).

const servicesPath = "/v1/Services"

func (a *API) registerServices(mux *http.ServeMux) {
	a.handle(mux, "POST "+servicesPath, a.createService)
	a.handle(mux, "GET "+servicesPath, a.listServices)
	a.handle(mux, "GET "+servicesPath+"/{Service}", a.fetchService)
	a.handle(mux, "POST "+servicesPath+"/{Service}", a.updateService)
	a.handle(mux, "DELETE "+servicesPath+"/{Service}", a.deleteService)
	for _, kind := range []string{store.SenderNumber, store.SenderAlpha} {
		kind := kind
		sub := servicesPath + "/{Service}/" + senderPath[kind]
		a.handle(mux, "POST "+sub, func(w http.ResponseWriter, r *http.Request) error { return a.addSender(w, r, kind) })
		a.handle(mux, "GET "+sub, func(w http.ResponseWriter, r *http.Request) error { return a.listSenders(w, r, kind) })
		a.handle(mux, "GET "+sub+"/{Sid}", func(w http.ResponseWriter, r *http.Request) error { return a.fetchSender(w, r, kind) })
		a.handle(mux, "DELETE "+sub+"/{Sid}", func(w http.ResponseWriter, r *http.Request) error { return a.removeSender(w, r, kind) })
	}
}

var senderPath = map[string]string{store.SenderNumber: "PhoneNumbers", store.SenderAlpha: "AlphaSenders"}

// serviceParams are the Services parameters the door reads; others are
// ignored and counted.
var serviceParams = map[string]bool{"FriendlyName": true, "InboundRequestUrl": true, "InboundMethod": true, "StatusCallback": true, "StickySender": true}

// iso8601 is the date format of Twilio's v1 APIs.
func iso8601(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

type serviceJSON struct {
	AccountSID                string            `json:"account_sid"`
	AreaCodeGeomatch          bool              `json:"area_code_geomatch"`
	DateCreated               string            `json:"date_created"`
	DateUpdated               string            `json:"date_updated"`
	FallbackMethod            string            `json:"fallback_method"`
	FallbackToLongCode        bool              `json:"fallback_to_long_code"`
	FallbackURL               *string           `json:"fallback_url"`
	FriendlyName              string            `json:"friendly_name"`
	InboundMethod             string            `json:"inbound_method"`
	InboundRequestURL         *string           `json:"inbound_request_url"`
	Links                     map[string]string `json:"links"`
	MMSConverter              bool              `json:"mms_converter"`
	ScanMessageContent        string            `json:"scan_message_content"`
	SID                       string            `json:"sid"`
	SmartEncoding             bool              `json:"smart_encoding"`
	StatusCallback            *string           `json:"status_callback"`
	StickySender              bool              `json:"sticky_sender"`
	SynchronousValidation     bool              `json:"synchronous_validation"`
	URL                       string            `json:"url"`
	UsAppToPersonRegistered   bool              `json:"us_app_to_person_registered"`
	UseInboundWebhookOnNumber bool              `json:"use_inbound_webhook_on_number"`
	Usecase                   string            `json:"usecase"`
	ValidityPeriod            int               `json:"validity_period"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (a *API) renderService(r *http.Request, v *store.TwilioService, accountSID string) serviceJSON {
	u := a.base(r) + servicesPath + "/" + v.SID
	links := map[string]string{}
	for _, l := range []struct{ key, path string }{{"phone_numbers", "PhoneNumbers"}, {"alpha_senders", "AlphaSenders"},
		{"short_codes", "ShortCodes"}, {"channel_senders", "ChannelSenders"}, {"us_app_to_person", "Compliance/Usa2p"},
		{"us_app_to_person_usecases", "Compliance/Usa2p/Usecases"}, {"destination_alpha_senders", "DestinationAlphaSenders"}} {
		links[l.key] = u + "/" + l.path
	}
	return serviceJSON{AccountSID: accountSID, DateCreated: iso8601(v.CreatedAt), DateUpdated: iso8601(v.UpdatedAt),
		FallbackMethod: http.MethodPost, FallbackToLongCode: true, FriendlyName: v.FriendlyName, InboundMethod: v.InboundMethod,
		InboundRequestURL: nullable(v.InboundURL), Links: links, ScanMessageContent: "inherit", SID: v.SID,
		StatusCallback: nullable(v.StatusCallback), StickySender: v.StickySender, URL: u, Usecase: "undeclared",
		ValidityPeriod: 36000}
}

// serviceForm applies a create's or update's parameters to v.
func (a *API) serviceForm(form url.Values, v *store.TwilioService, create bool) *Error {
	for name := range form {
		if !serviceParams[name] {
			a.metrics.UnknownParam(Door, name)
		}
	}
	if _, ok := form["FriendlyName"]; ok || create {
		name := strings.TrimSpace(form.Get("FriendlyName"))
		if name == "" {
			return bad(CodeInvalidParam, "FriendlyName is required")
		}
		if len(name) > 64 {
			return bad(CodeInvalidParam, "FriendlyName has at most 64 characters")
		}
		v.FriendlyName = name
	}
	var e *Error
	if _, ok := form["InboundRequestUrl"]; ok {
		if v.InboundURL, e = callbackURL("InboundRequestUrl", form.Get("InboundRequestUrl")); e != nil {
			return e
		}
	}
	if _, ok := form["StatusCallback"]; ok {
		if v.StatusCallback, e = callbackURL("StatusCallback", form.Get("StatusCallback")); e != nil {
			return e
		}
	}
	if _, ok := form["InboundMethod"]; ok {
		m := strings.ToUpper(strings.TrimSpace(form.Get("InboundMethod")))
		if m != http.MethodPost && m != http.MethodGet {
			return bad(CodeInvalidParam, "InboundMethod must be GET or POST")
		}
		v.InboundMethod = m
	}
	if s := form.Get("StickySender"); s != "" {
		on, err := strconv.ParseBool(s)
		if err != nil {
			return bad(CodeInvalidParam, "StickySender must be true or false")
		}
		v.StickySender = on
	}
	return nil
}

// createService handles POST /v1/Services.
func (a *API) createService(w http.ResponseWriter, r *http.Request) error {
	form, e := a.readForm(w, r)
	if e != nil {
		return e
	}
	pr := principalOf(r.Context())
	now := time.Now().UTC()
	v := &store.TwilioService{SID: "MG" + hex32(), AccountID: pr.AccountID, InboundMethod: http.MethodPost, StickySender: true,
		CreatedAt: now, UpdatedAt: now}
	if e := a.serviceForm(form, v, true); e != nil {
		return e
	}
	if err := a.store.PutTwilioService(r.Context(), v); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.renderService(r, v, pr.SID))
	return nil
}

// service reads the path's service of the account.
func (a *API) service(r *http.Request) (*store.TwilioService, error) {
	sid := r.PathValue("Service")
	if !IsSID("MG", sid) {
		return nil, errNotFound(r.URL.Path)
	}
	v, err := a.store.TwilioService(r.Context(), principalOf(r.Context()).AccountID, sid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound(r.URL.Path)
	}
	return v, err
}

func (a *API) fetchService(w http.ResponseWriter, r *http.Request) error {
	v, err := a.service(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.renderService(r, v, principalOf(r.Context()).SID))
	return nil
}

func (a *API) updateService(w http.ResponseWriter, r *http.Request) error {
	form, e := a.readForm(w, r)
	if e != nil {
		return e
	}
	v, err := a.service(r)
	if err != nil {
		return err
	}
	if e := a.serviceForm(form, v, false); e != nil {
		return e
	}
	v.UpdatedAt = time.Now().UTC()
	if err := a.store.PutTwilioService(r.Context(), v); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.renderService(r, v, principalOf(r.Context()).SID))
	return nil
}

func (a *API) deleteService(w http.ResponseWriter, r *http.Request) error {
	v, err := a.service(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteTwilioService(r.Context(), v.AccountID, v.SID); errors.Is(err, store.ErrNotFound) {
		return errNotFound(r.URL.Path)
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// v1Page is the paging of Twilio's v1 lists: the items under key, and meta.
func (a *API) v1Page(w http.ResponseWriter, r *http.Request, key string, items []any) error {
	q := r.URL.Query()
	size, offset, e := pageOf(q)
	if e != nil {
		return e
	}
	base := a.base(r) + r.URL.Path
	link := func(offset int) string {
		v := url.Values{}
		v.Set("PageSize", strconv.Itoa(size))
		v.Set("Page", strconv.Itoa(offset/size))
		if offset > 0 {
			v.Set("PageToken", "PO"+strconv.Itoa(offset))
		}
		return base + "?" + v.Encode()
	}
	page := []any{}
	for i := offset; i < len(items) && i < offset+size; i++ {
		page = append(page, items[i])
	}
	meta := map[string]any{"page": offset / size, "page_size": size, "first_page_url": link(0), "url": link(offset),
		"key": key, "next_page_url": nil, "previous_page_url": nil}
	if offset+size < len(items) {
		meta["next_page_url"] = link(offset + size)
	}
	if offset > 0 {
		meta["previous_page_url"] = link(max(0, offset-size))
	}
	writeJSON(w, http.StatusOK, map[string]any{key: page, "meta": meta})
	return nil
}

func (a *API) listServices(w http.ResponseWriter, r *http.Request) error {
	pr := principalOf(r.Context())
	vs, err := a.store.ListTwilioServices(r.Context(), pr.AccountID)
	if err != nil {
		return err
	}
	items := make([]any, len(vs))
	for i := range vs {
		items[i] = a.renderService(r, &vs[i], pr.SID)
	}
	return a.v1Page(w, r, "services", items)
}

// senderJSON is a PhoneNumber or AlphaSender of a service.
type senderJSON struct {
	AccountSID   string   `json:"account_sid"`
	AlphaSender  string   `json:"alpha_sender,omitempty"`
	Capabilities []string `json:"capabilities"`
	CountryCode  string   `json:"country_code,omitempty"`
	DateCreated  string   `json:"date_created"`
	DateUpdated  string   `json:"date_updated"`
	PhoneNumber  string   `json:"phone_number,omitempty"`
	ServiceSID   string   `json:"service_sid"`
	SID          string   `json:"sid"`
	URL          string   `json:"url"`
}

func (a *API) renderSender(r *http.Request, s *store.TwilioSender, accountSID string) senderJSON {
	out := senderJSON{AccountSID: accountSID, Capabilities: []string{"SMS"}, DateCreated: iso8601(s.CreatedAt),
		DateUpdated: iso8601(s.CreatedAt), ServiceSID: s.ServiceSID, SID: s.SID,
		URL: a.base(r) + servicesPath + "/" + s.ServiceSID + "/" + senderPath[s.Kind] + "/" + s.SID}
	if s.Kind == store.SenderAlpha {
		out.AlphaSender = s.Sender
	} else {
		out.PhoneNumber = phoneText(s.Sender)
		out.CountryCode = country(phoneText(s.Sender))
	}
	return out
}

// addSender handles POST …/PhoneNumbers (PhoneNumberSid: one of the
// account's numbers) and …/AlphaSenders (AlphaSender).
func (a *API) addSender(w http.ResponseWriter, r *http.Request, kind string) error {
	form, e := a.readForm(w, r)
	if e != nil {
		return e
	}
	v, err := a.service(r)
	if err != nil {
		return err
	}
	pr := principalOf(r.Context())
	s := &store.TwilioSender{ServiceSID: v.SID, AccountID: pr.AccountID, Kind: kind, CreatedAt: time.Now().UTC()}
	if kind == store.SenderNumber {
		for name := range form {
			if name != "PhoneNumberSid" {
				a.metrics.UnknownParam(Door, name)
			}
		}
		sid := strings.TrimSpace(form.Get("PhoneNumberSid"))
		if sid == "" {
			return bad(CodeInvalidParam, "PhoneNumberSid is required")
		}
		nums, err := a.accountNumbers(r, pr.AccountID)
		if err != nil {
			return err
		}
		for _, n := range nums {
			if n.SID == sid {
				s.SID, s.Sender = n.SID, n.Number
			}
		}
		if s.SID == "" {
			return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "PhoneNumberSid " + sid + " is not one of this account's numbers (IncomingPhoneNumbers)"}
		}
	} else {
		for name := range form {
			if name != "AlphaSender" {
				a.metrics.UnknownParam(Door, name)
			}
		}
		alpha := strings.TrimSpace(form.Get("AlphaSender"))
		if alpha == "" {
			return bad(CodeInvalidParam, "AlphaSender is required")
		}
		if e := validFrom(alpha); e != nil || strings.Trim(alpha, "0123456789+") == "" {
			return bad(CodeInvalidParam, "AlphaSender must be 1 to 11 letters, digits, spaces and . - _ & ', with at least one letter")
		}
		s.SID, s.Sender = "AI"+hex32(), alpha
	}
	switch err := a.store.AddTwilioSender(r.Context(), s); {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: CodeInService, Message: "The sender " + s.Sender + " is in this Messaging Service already"}
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusCreated, a.renderSender(r, s, pr.SID))
	return nil
}

func (a *API) listSenders(w http.ResponseWriter, r *http.Request, kind string) error {
	v, err := a.service(r)
	if err != nil {
		return err
	}
	pr := principalOf(r.Context())
	ss, err := a.store.ListTwilioSenders(r.Context(), pr.AccountID, v.SID, kind)
	if err != nil {
		return err
	}
	items := make([]any, len(ss))
	for i := range ss {
		items[i] = a.renderSender(r, &ss[i], pr.SID)
	}
	key := map[string]string{store.SenderNumber: "phone_numbers", store.SenderAlpha: "alpha_senders"}[kind]
	return a.v1Page(w, r, key, items)
}

func (a *API) sender(r *http.Request, kind string) (*store.TwilioSender, error) {
	v, err := a.service(r)
	if err != nil {
		return nil, err
	}
	ss, err := a.store.ListTwilioSenders(r.Context(), v.AccountID, v.SID, kind)
	if err != nil {
		return nil, err
	}
	for i := range ss {
		if ss[i].SID == r.PathValue("Sid") {
			return &ss[i], nil
		}
	}
	return nil, errNotFound(r.URL.Path)
}

func (a *API) fetchSender(w http.ResponseWriter, r *http.Request, kind string) error {
	s, err := a.sender(r, kind)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.renderSender(r, s, principalOf(r.Context()).SID))
	return nil
}

func (a *API) removeSender(w http.ResponseWriter, r *http.Request, kind string) error {
	s, err := a.sender(r, kind)
	if err != nil {
		return err
	}
	if err := a.store.RemoveTwilioSender(r.Context(), s.AccountID, s.ServiceSID, s.SID); errors.Is(err, store.ErrNotFound) {
		return errNotFound(r.URL.Path)
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// useService sends m through the account's Messaging Service sid: its
// status callback unless the message has one, and, when the create gave no
// From, a sender from its pool: an alphanumeric sender where the
// recipient's country allows one, else one of its numbers — the same one
// for a recipient each time with StickySender, else in turn.
func (a *API) useService(r *http.Request, m *message.Message, sid string) *Error {
	pr := principalOf(r.Context())
	invalid := &Error{Status: http.StatusNotFound, Code: CodeNoService, Message: "The Messaging Service Sid " + sid + " is invalid"}
	if !IsSID("MG", sid) {
		return invalid
	}
	v, err := a.store.TwilioService(r.Context(), pr.AccountID, sid)
	if errors.Is(err, store.ErrNotFound) {
		return invalid
	} else if err != nil {
		a.log.Error("twilio: reading Messaging Service", "err", err)
		return errInternal()
	}
	m.Details.ServiceSID = v.SID
	if m.ReportURL == "" {
		m.ReportURL = v.StatusCallback
	}
	if m.Originator != "" {
		return nil
	}
	ss, err := a.store.ListTwilioSenders(r.Context(), pr.AccountID, v.SID, "")
	if err != nil {
		a.log.Error("twilio: reading Messaging Service senders", "err", err)
		return errInternal()
	}
	if len(ss) == 0 {
		return bad(CodeNoSenders, "The Messaging Service "+sid+" contains no phone numbers or alphanumeric senders")
	}
	rcpt := &m.Recipients[0]
	var numbers []string
	for _, s := range ss {
		if s.Kind == store.SenderAlpha && compliance.AlphanumericAllowed(rcpt.Country) && m.Originator == "" {
			m.Originator = s.Sender
		}
		if s.Kind == store.SenderNumber {
			numbers = append(numbers, s.Sender)
		}
	}
	switch {
	case m.Originator != "":
	case len(numbers) == 0:
		return bad(CodeNoSuitable, "The Messaging Service "+sid+" has no phone number to send to "+phoneText(rcpt.Address)+" from (alphanumeric senders are not allowed in "+rcpt.Country+")")
	case v.StickySender:
		h := fnv.New32a()
		h.Write([]byte(rcpt.Address))
		m.Originator = phoneText(numbers[h.Sum32()%uint32(len(numbers))])
	default:
		m.Originator = phoneText(numbers[a.turn.Add(1)%uint64(len(numbers))])
	}
	return nil
}
