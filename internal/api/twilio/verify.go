package twilio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/verify"
)

// Twilio Verify v2 (verify.twilio.com/v2): Services, Verifications and
// VerificationCheck over omnigate's verify service — the same codes,
// hashing, attempts, expiry and fraud protection as MessageBird's /verify
// (docs/verify.md). Point the helper libraries' verify.twilio.com at
// omnigate as their api.twilio.com is (docs/twilio.md).

// Twilio Verify's error codes this door answers with.
const (
	CodeVerifyMaxChecks = 60202 // max check attempts reached
	CodeVerifyMaxSends  = 60203 // max send attempts reached (velocity limits)
	CodeVerifyBlocked   = 60410 // the prefix is blocked by fraud protection
	CodeVerifyChannel   = 60200 // invalid parameter (Channel, CodeLength …)
)

// verifyTimeout is how long a Twilio verification's code is valid
// (Twilio's default: 10 minutes).
const verifyTimeout = 10 * time.Minute

// SetVerify gives the door the verification service; without it /v2 is
// not served.
func (a *API) SetVerify(v *verify.Service) { a.verify = v }

func (a *API) registerVerify(mux *http.ServeMux) {
	if a.verify == nil {
		return
	}
	const svc = "/v2/Services/{ServiceSid}"
	a.handle(mux, "POST /v2/Services", a.createVerifyService)
	a.handle(mux, "GET /v2/Services", a.listVerifyServices)
	a.handle(mux, "GET "+svc, a.fetchVerifyService)
	a.handle(mux, "POST "+svc, a.updateVerifyService)
	a.handle(mux, "DELETE "+svc, a.deleteVerifyService)
	a.handle(mux, "POST "+svc+"/Verifications", a.createVerification)
	a.handle(mux, "GET "+svc+"/Verifications/{Sid}", a.fetchVerification)
	a.handle(mux, "POST "+svc+"/Verifications/{Sid}", a.updateVerification)
	a.handle(mux, "POST "+svc+"/VerificationCheck", a.checkVerification)
	mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "The requested resource " + r.URL.Path + " was not found"})
	})
}

func verifyNotFound(r *http.Request) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "The requested resource " + r.URL.Path + " was not found"}
}

// sidID is the id in a SID with the prefix, or "".
func verifySID(sid, prefix string) string {
	id, ok := strings.CutPrefix(sid, prefix)
	if !ok || len(id) != 32 {
		return ""
	}
	return id
}

type verifyServiceJSON struct {
	SID          string            `json:"sid"`
	AccountSID   string            `json:"account_sid"`
	FriendlyName string            `json:"friendly_name"`
	CodeLength   int               `json:"code_length"`
	DateCreated  string            `json:"date_created"`
	DateUpdated  string            `json:"date_updated"`
	URL          string            `json:"url"`
	Links        map[string]string `json:"links"`
}

func (a *API) renderVerifyService(r *http.Request, s *store.VerifyService, accountSID string) verifyServiceJSON {
	u := a.base(r) + "/v2/Services/VA" + s.ID
	return verifyServiceJSON{SID: "VA" + s.ID, AccountSID: accountSID, FriendlyName: s.FriendlyName, CodeLength: s.CodeLength,
		DateCreated: s.CreatedAt.UTC().Format(time.RFC3339), DateUpdated: s.UpdatedAt.UTC().Format(time.RFC3339), URL: u,
		Links: map[string]string{"verifications": u + "/Verifications", "verification_checks": u + "/VerificationCheck"}}
}

// createVerifyService: POST /v2/Services (FriendlyName, CodeLength).
func (a *API) createVerifyService(w http.ResponseWriter, r *http.Request) error {
	form, e := a.readForm(w, r)
	if e != nil {
		return e
	}
	p := principalOf(r.Context())
	now := time.Now().UTC()
	s := &store.VerifyService{ID: ids.New(), AccountID: p.AccountID, CodeLength: verify.DefaultTokenLength, CreatedAt: now, UpdatedAt: now}
	if e := verifyServiceForm(form, s, true); e != nil {
		return e
	}
	if err := a.store.CreateVerifyService(r.Context(), s); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.renderVerifyService(r, s, p.SID))
	return nil
}

// verifyServiceForm applies a create's or an update's FriendlyName and
// CodeLength to s; FriendlyName is required on create only.
func verifyServiceForm(form url.Values, s *store.VerifyService, create bool) *Error {
	if _, given := form["FriendlyName"]; given || create {
		name := strings.TrimSpace(form.Get("FriendlyName"))
		if name == "" || len(name) > 30 {
			return bad(CodeInvalidParam, "FriendlyName is required, at most 30 characters")
		}
		s.FriendlyName = name
	}
	if v := form.Get("CodeLength"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < verify.MinTokenLength || n > verify.MaxTokenLength {
			return bad(CodeVerifyChannel, fmt.Sprintf("CodeLength must be from %d to %d", verify.MinTokenLength, verify.MaxTokenLength))
		}
		s.CodeLength = n
	}
	return nil
}

// listVerifyServices: GET /v2/Services, newest first, paged as Twilio's
// v2 lists are (services and meta).
func (a *API) listVerifyServices(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	vs, err := a.store.ListVerifyServices(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	items := make([]any, len(vs))
	for i := range vs {
		items[i] = a.renderVerifyService(r, &vs[i], p.SID)
	}
	return a.v1Page(w, r, "services", items)
}

// updateVerifyService: POST /v2/Services/{VA…} (FriendlyName, CodeLength).
// Verifications already sent keep their codes.
func (a *API) updateVerifyService(w http.ResponseWriter, r *http.Request) error {
	form, e := a.readForm(w, r)
	if e != nil {
		return e
	}
	s, err := a.verifyService(r)
	if err != nil {
		return err
	}
	if e := verifyServiceForm(form, s, false); e != nil {
		return e
	}
	s.UpdatedAt = time.Now().UTC()
	if err := a.store.UpdateVerifyService(r.Context(), s); errors.Is(err, store.ErrNotFound) {
		return verifyNotFound(r)
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.renderVerifyService(r, s, principalOf(r.Context()).SID))
	return nil
}

// deleteVerifyService: DELETE /v2/Services/{VA…}, 204. Its verifications
// can no longer be read or checked through it.
func (a *API) deleteVerifyService(w http.ResponseWriter, r *http.Request) error {
	s, err := a.verifyService(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteVerifyService(r.Context(), s.AccountID, s.ID); errors.Is(err, store.ErrNotFound) {
		return verifyNotFound(r)
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// service reads the path's service.
func (a *API) verifyService(r *http.Request) (*store.VerifyService, error) {
	id := verifySID(r.PathValue("ServiceSid"), "VA")
	if id == "" {
		return nil, verifyNotFound(r)
	}
	s, err := a.store.GetVerifyService(r.Context(), principalOf(r.Context()).AccountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, verifyNotFound(r)
	}
	return s, err
}

func (a *API) fetchVerifyService(w http.ResponseWriter, r *http.Request) error {
	s, err := a.verifyService(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.renderVerifyService(r, s, principalOf(r.Context()).SID))
	return nil
}

type verificationJSON struct {
	SID              string  `json:"sid"`
	ServiceSID       string  `json:"service_sid"`
	AccountSID       string  `json:"account_sid"`
	To               string  `json:"to"`
	Channel          string  `json:"channel"`
	Status           string  `json:"status"`
	Valid            bool    `json:"valid"`
	Lookup           any     `json:"lookup"`
	Amount           *string `json:"amount"`
	Payee            *string `json:"payee"`
	SendCodeAttempts []any   `json:"send_code_attempts,omitempty"`
	DateCreated      string  `json:"date_created"`
	DateUpdated      string  `json:"date_updated"`
	SNA              any     `json:"sna"`
	URL              *string `json:"url"`
}

// twilioStatus is a verification's status as Twilio names it.
func twilioStatus(st string) string {
	switch st {
	case store.VerifyVerified:
		return "approved"
	case store.VerifyDeleted:
		return "canceled"
	case store.VerifyExpired:
		return "expired"
	case store.VerifyFailed:
		return "max_attempts_reached"
	}
	return "pending"
}

func (a *API) renderVerification(r *http.Request, v *store.Verification, accountSID string, resource bool) verificationJSON {
	to := v.Recipient
	channel := v.Type
	if channel != verify.TypeEmail {
		to, channel = "+"+v.Recipient, "sms"
	}
	st := twilioStatus(a.verify.Status(v))
	updated := v.CreatedAt
	if !v.VerifiedAt.IsZero() {
		updated = v.VerifiedAt
	}
	out := verificationJSON{SID: "VE" + v.ID, ServiceSID: "VA" + v.Service, AccountSID: accountSID, To: to, Channel: channel,
		Status: st, Valid: st == "approved", Lookup: map[string]any{}, DateCreated: v.CreatedAt.UTC().Format(time.RFC3339),
		DateUpdated: updated.UTC().Format(time.RFC3339)}
	if resource {
		u := a.base(r) + "/v2/Services/VA" + v.Service + "/Verifications/VE" + v.ID
		out.URL = &u
		out.SendCodeAttempts = []any{map[string]any{"attempt_sid": "VL" + v.MessageID, "channel": channel, "time": out.DateCreated}}
	}
	return out
}

// createVerification: POST .../Verifications (To, Channel sms|email).
func (a *API) createVerification(w http.ResponseWriter, r *http.Request) error {
	form, e := a.readForm(w, r)
	if e != nil {
		return e
	}
	s, err := a.verifyService(r)
	if err != nil {
		return err
	}
	p := principalOf(r.Context())
	to := strings.TrimSpace(form.Get("To"))
	if to == "" {
		return bad(CodeInvalidParam, "Missing required parameter To in the post body")
	}
	channel := form.Get("Channel")
	req := verify.Request{AccountID: p.AccountID, Recipient: to, TokenLength: s.CodeLength, Timeout: verifyTimeout, Service: s.ID,
		Template: "Your " + s.FriendlyName + " verification code is: %token", Language: form.Get("Locale")}
	switch channel {
	case "sms":
	case "email":
		req.Type, req.Originator = verify.TypeEmail, form.Get("From") // omnigate's own: the sender's address
		req.Subject = s.FriendlyName + " verification code"
	default:
		return bad(CodeVerifyChannel, "Invalid parameter: Channel must be sms or email (call, whatsapp and sna are not available here)")
	}
	res, err := a.verify.Create(r.Context(), req)
	if err != nil {
		return verifyError(err)
	}
	writeJSON(w, http.StatusCreated, a.renderVerification(r, res.Verification, p.SID, true))
	return nil
}

// verification reads the path's verification of the path's service.
func (a *API) verification(r *http.Request) (*store.Verification, error) {
	s, err := a.verifyService(r)
	if err != nil {
		return nil, err
	}
	id := verifySID(r.PathValue("Sid"), "VE")
	if id == "" {
		return nil, verifyNotFound(r)
	}
	v, err := a.verify.Get(r.Context(), s.AccountID, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && v.Service != s.ID {
		return nil, verifyNotFound(r)
	}
	return v, err
}

func (a *API) fetchVerification(w http.ResponseWriter, r *http.Request) error {
	v, err := a.verification(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.renderVerification(r, v, principalOf(r.Context()).SID, true))
	return nil
}

// updateVerification: POST .../Verifications/{Sid} Status=canceled.
func (a *API) updateVerification(w http.ResponseWriter, r *http.Request) error {
	form, e := a.readForm(w, r)
	if e != nil {
		return e
	}
	v, err := a.verification(r)
	if err != nil {
		return err
	}
	if st := form.Get("Status"); st != "canceled" {
		return bad(CodeInvalidParam, "Status must be canceled")
	}
	if a.verify.Status(v) != store.VerifySent {
		return verifyNotFound(r) // Twilio: only a pending verification can be updated
	}
	if err := a.verify.Delete(r.Context(), v.AccountID, v.ID); err != nil {
		return verifyError(err)
	}
	v.Status = store.VerifyDeleted
	writeJSON(w, http.StatusOK, a.renderVerification(r, v, principalOf(r.Context()).SID, true))
	return nil
}

// checkVerification: POST .../VerificationCheck (To or VerificationSid,
// Code). A wrong code answers 200 with status pending, as Twilio does.
func (a *API) checkVerification(w http.ResponseWriter, r *http.Request) error {
	form, e := a.readForm(w, r)
	if e != nil {
		return e
	}
	s, err := a.verifyService(r)
	if err != nil {
		return err
	}
	p := principalOf(r.Context())
	code := strings.TrimSpace(form.Get("Code"))
	if code == "" || len(code) > verify.MaxTokenLength || strings.Trim(code, "0123456789") != "" {
		return bad(CodeInvalidParam, "Code must be the code's digits")
	}
	var v *store.Verification
	switch {
	case form.Get("VerificationSid") != "":
		id := verifySID(form.Get("VerificationSid"), "VE")
		if id != "" {
			v, err = a.verify.Get(r.Context(), p.AccountID, id)
		}
		if id == "" || errors.Is(err, store.ErrNotFound) || err == nil && (v.Service != s.ID || v.Status != store.VerifySent) {
			return verifyNotFound(r)
		}
	case form.Get("To") != "":
		to := strings.TrimSpace(form.Get("To"))
		if !strings.Contains(to, "@") {
			to = strings.TrimPrefix(strings.ReplaceAll(to, " ", ""), "+")
		} else {
			to = strings.ToLower(to)
		}
		v, err = a.verify.Pending(r.Context(), p.AccountID, s.ID, to)
		if errors.Is(err, store.ErrNotFound) {
			return verifyNotFound(r)
		}
	default:
		return bad(CodeInvalidParam, "Either a 'To' number or 'VerificationSid' must be specified")
	}
	if err != nil {
		return err
	}
	checked, err := a.verify.Check(r.Context(), p.AccountID, v.ID, code)
	var wrong *verify.ErrWrongCode
	switch {
	case errors.As(err, &wrong) && wrong.Left > 0:
	case err != nil:
		return verifyError(err)
	}
	out := a.renderVerification(r, checked, p.SID, false)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// verifyError answers the verify service's refusals in Twilio's format.
func verifyError(err error) error {
	var wrong *verify.ErrWrongCode
	var done *verify.ErrNotPending
	var refused *verify.Refusal
	var inv *verify.Invalid
	switch {
	case errors.As(err, &inv):
		name := map[string]string{"recipient": "To", "originator": "From", "language": "Locale", "tokenLength": "CodeLength"}[inv.Field]
		if name == "" {
			name = inv.Field
		}
		return bad(CodeVerifyChannel, "Invalid parameter "+name+": "+inv.Reason)
	case errors.As(err, &wrong):
		return &Error{Status: http.StatusTooManyRequests, Code: CodeVerifyMaxChecks, Message: "Max check attempts reached"}
	case errors.As(err, &done):
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "The verification is " + twilioStatus(done.Status)}
	case errors.As(err, &refused):
		switch {
		case refused.Velocity:
			return &Error{Status: http.StatusTooManyRequests, Code: CodeVerifyMaxSends, Message: "Max send attempts reached: " + refused.Error()}
		case refused.Rule == verify.RuleBlocked:
			return &Error{Status: http.StatusForbidden, Code: CodeVerifyBlocked, Message: refused.Error()}
		}
		return &Error{Status: http.StatusForbidden, Code: CodeRegion, Message: refused.Error()}
	}
	return err
}
