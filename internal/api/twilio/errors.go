package twilio

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Twilio's error codes this door answers with (docs/twilio.md has the
// table; https://www.twilio.com/docs/errors/CODE describes each).
const (
	CodeInvalidParam      = 20001 // a parameter has a wrong value
	CodeAuthenticate      = 20003 // authentication failed
	CodeNotFound          = 20404 // no such resource
	CodeTooManyRequests   = 20429 // too many requests (failed authentications, usage limits)
	CodeInternal          = 20500 // the platform failed
	CodeUnavailable       = 20503 // the platform is stopping or overloaded
	CodeRegion            = 21408 // permission to send to the region not enabled (no price)
	CodeInvalidTo         = 21211 // invalid To number
	CodeInvalidFrom       = 21212 // invalid From number
	CodeBodyRequired      = 21602 // Body is required
	CodeFromRequired      = 21603 // From or MessagingServiceSid is required
	CodeToRequired        = 21604 // To is required
	CodeNotFromAccount    = 21606 // From is not a sender this account may use
	CodeUnsubscribed      = 21610 // the recipient unsubscribed (opt-out, suppression, do-not-disturb, no consent)
	CodeBodyTooLong       = 21617 // Body exceeds 1600 characters
	CodeMediaURL          = 21620 // MediaUrl: MMS is not available here
	CodeNoService         = 21701 // the Messaging Service does not exist
	CodeNoSuitable        = 21703 // the Messaging Service has no sender for this recipient
	CodeNoSenders         = 21704 // the Messaging Service has no senders
	CodeInService         = 21710 // the sender is in the Messaging Service already
	CodeNumberUnavailable = 21422 // the phone number is not available (buying numbers)
	CodeNotCancelable     = 30409 // cancel of a message that is not scheduled
	CodeInProgress        = 20009 // delete or redact of a message that is not final yet
	CodeFiltered          = 30007 // refused by content or policy rules
	CodeSuspended         = 30002 // the account is suspended
	CodeNotReachable      = 21612 // the To number cannot be reached from the From (alphanumeric sender there)
	CodeNoBalance         = 30044 // omnigate's choice: the account's balance is too low
	CodeScheduleType      = 35111 // SendAt needs ScheduleType=fixed
	CodeSendAt            = 35114 // SendAt is not a time that can be scheduled
	CodeUnreachable       = 30003 // the carrier could not deliver
	CodeExpired           = 30001 // the validity period passed before delivery
	CodeUnknownDelivery   = 30008 // unknown delivery error
)

// Error is Twilio's error resource.
type Error struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func (e *Error) Error() string { return strconv.Itoa(e.Code) + ": " + e.Message }

func writeError(w http.ResponseWriter, e *Error) {
	if e.MoreInfo == "" {
		e.MoreInfo = "https://www.twilio.com/docs/errors/" + strconv.Itoa(e.Code)
	}
	writeJSON(w, e.Status, e)
}

func bad(code int, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg}
}

func errAuth() *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeAuthenticate, Message: "Authenticate"}
}

func errInternal() *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "Internal error; try again later"}
}

func errNotFound(path string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "The requested resource " + path + " was not found"}
}

// fromProblem turns a problem of the shared text rules into Twilio's error.
func fromProblem(p *rest.Problem) *Error {
	status := p.Status
	if status == http.StatusUnprocessableEntity {
		status = http.StatusBadRequest
	}
	msg := p.Error()
	if len(p.Errors) > 0 && p.Errors[0].Parameter != nil && !strings.Contains(msg, *p.Errors[0].Parameter) {
		msg = *p.Errors[0].Parameter + ": " + msg
	}
	return &Error{Status: status, Code: CodeInvalidParam, Message: msg}
}

// fail answers an error in Twilio's format.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	var p *rest.Problem
	var inv *message.Invalid
	var limit *store.LimitError
	var noPrice *billing.NoPriceError
	var refused *compliance.Rejection
	switch {
	case errors.As(err, &e):
	case errors.As(err, &p):
		e = fromProblem(p)
	case errors.As(err, &inv):
		e = invalid(inv)
	case errors.Is(err, store.ErrInsufficientBalance):
		e = bad(CodeNoBalance, "The account's balance is too low to send this message")
	case errors.As(err, &limit):
		e = &Error{Status: http.StatusTooManyRequests, Code: CodeTooManyRequests, Message: limit.Error()}
	case errors.As(err, &noPrice):
		e = bad(CodeRegion, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: "+noPrice.Error())
	case errors.As(err, &refused):
		e = refusal(refused.Decision)
	case errors.Is(err, groupcommit.ErrStopped):
		e = &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "Service unavailable; try again later"}
	default:
		a.log.Error("twilio: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errInternal()
	}
	writeError(w, e)
}

// invalid maps the channel's verdict on a message to the parameter it is
// about.
func invalid(inv *message.Invalid) *Error {
	switch inv.Field {
	case "body", "text":
		if strings.Contains(inv.Reason, "long") {
			return bad(CodeBodyTooLong, "The concatenated message body exceeds the 1600 character limit: "+inv.Reason)
		}
		return bad(CodeInvalidParam, "Body: "+inv.Reason)
	case "originator":
		return bad(CodeInvalidFrom, "The 'From' number is not valid: "+inv.Reason)
	case "recipients":
		return bad(CodeInvalidTo, "The 'To' number is not valid: "+inv.Reason)
	}
	return bad(CodeInvalidParam, inv.Field+": "+inv.Reason)
}

// refusal maps a compliance refusal to the code Twilio would use.
func refusal(d compliance.Decision) *Error {
	code := ruleCode(d.Rule)
	return &Error{Status: http.StatusBadRequest, Code: code, Message: "Refused by compliance rule " + d.Describe()}
}

// ruleCodes are the Twilio codes of compliance rules' refusals, by rule
// (internal/compliance; docs/twilio.md has the table). A rule not listed
// answers 30007 (message filtered).
var ruleCodes = map[string]int{
	"account.suspended":       CodeSuspended,
	"purpose":                 CodeInvalidParam,
	"category":                CodeInvalidParam,
	"consent.opt_in":          CodeUnsubscribed,
	"consent.legal_age":       CodeFiltered,
	"suppression":             CodeUnsubscribed,
	"dnd":                     CodeUnsubscribed,
	"sender.rotation":         CodeFiltered,
	"sender.identity":         CodeNotFromAccount,
	"sender.country":          CodeNotReachable,
	"quiet_hours":             CodeFiltered,
	"chat.session":            CodeFiltered,
	"whatsapp.opt_in":         CodeUnsubscribed,
	"whatsapp.session_window": CodeFiltered,
}

// ruleCode is the Twilio code of a compliance rule's refusal: content.*
// rules and others not listed are 30007.
func ruleCode(rule string) int {
	if c, ok := ruleCodes[rule]; ok {
		return c
	}
	return CodeFiltered
}

// recipientCodes are the Twilio codes of recipients refused alone, by
// their statusErrorCode (compliance.RuleCode).
var recipientCodes = map[int]int{
	4101: CodeUnsubscribed, // consent.opt_in
	4102: CodeFiltered,     // consent.legal_age
	4103: CodeUnsubscribed, // suppression
	4104: CodeUnsubscribed, // dnd
	4105: CodeFiltered,     // sender.rotation
}
