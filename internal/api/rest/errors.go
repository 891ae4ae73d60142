package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/store"
)

// MessageBird error codes. The HTTP status that goes with each is in the
// catalogue below; docs/api.md lists them for users.
const (
	CodeUnauthorized     = 2  // missing or wrong access key
	CodeMissingParams    = 9  // a required parameter is missing / no correct recipients
	CodeInvalidParams    = 10 // a parameter has a wrong value
	CodeNotFound         = 20 // no such object (or not this account's)
	CodeNotEnoughBalance = 25
	CodeUsageLimit       = 26 // omnigate's own: a blocking usage limit is reached
	CodeCompliance       = 27 // omnigate's own: a compliance rule refused the message
	CodeTooManyFailures  = 28 // omnigate's own: too many failed authentications; retry later
	CodeInternal         = 99 // the platform failed; retry later
)

// Error is one entry of MessageBird's {"errors":[…]} body.
type Error struct {
	Code        int     `json:"code"`
	Description string  `json:"description"`
	Parameter   *string `json:"parameter"`
}

// Problem is a client-visible error: the HTTP status and the entries. A
// handler registered with Style.Handle returns it to answer with it.
type Problem struct {
	Status int
	Errors []Error
}

func (p *Problem) Error() string {
	if len(p.Errors) == 0 {
		return http.StatusText(p.Status)
	}
	return p.Errors[0].Description
}

// NewProblem is a problem of one entry; param may be "" (null).
func NewProblem(status, code int, param, description string) *Problem {
	e := Error{Code: code, Description: description}
	if param != "" {
		e.Parameter = &param
	}
	return &Problem{Status: status, Errors: []Error{e}}
}

// The catalogue of errors the doors in this style answer with; errors
// only one door answers with are that door's.

func errUnauthorized() *Problem {
	return NewProblem(http.StatusUnauthorized, CodeUnauthorized, "access_key", "Request not allowed (incorrect access_key)")
}

// Missing says a required parameter is not given.
func Missing(param string) *Problem {
	return NewProblem(http.StatusUnprocessableEntity, CodeMissingParams, param, "no ("+param+") given")
}

// Invalid says a parameter has a wrong value.
func Invalid(param, description string) *Problem {
	return NewProblem(http.StatusUnprocessableEntity, CodeInvalidParams, param, description)
}

// NotUTF8 refuses a text parameter that is not valid UTF-8 (JSON strings
// must be; form values must be once percent-decoded).
func NotUTF8(param string) *Problem {
	return Invalid(param, param+" is not valid UTF-8 text; send text encoded as UTF-8")
}

// Malformed says the body cannot be read as its encoding.
func Malformed(description string) *Problem {
	return NewProblem(http.StatusBadRequest, CodeInvalidParams, "", description)
}

func errUnsupportedType(ct string) *Problem {
	return NewProblem(http.StatusUnsupportedMediaType, CodeInvalidParams, "",
		"unsupported Content-Type "+Quote(ct)+"; send application/json or application/x-www-form-urlencoded")
}

func errTooLarge(limit int64) *Problem {
	return NewProblem(http.StatusRequestEntityTooLarge, CodeInvalidParams, "", "request body is larger than "+itoa(limit)+" bytes")
}

// Refusals of what a request asks for (not enough balance, a usage limit,
// a compliance rule) answer 422, as MessageBird answers every refusal of a
// valid request: its Python and Ruby SDKs parse the errors of 401, 404,
// 405 and 422 answers only, and raise a bare HTTP error on any other.

func errNoBalance() *Problem {
	return NewProblem(http.StatusUnprocessableEntity, CodeNotEnoughBalance, "", "not enough balance: top up the account to send this message")
}

func errUsageLimit(l *store.LimitError) *Problem {
	what := l.Limit.Channel + " messages"
	if l.Limit.Metric == store.MetricSpend {
		what = "spend"
	}
	return NewProblem(http.StatusUnprocessableEntity, CodeUsageLimit, "",
		fmt.Sprintf("usage limit reached: %d %s per %s; sending is blocked until the period ends or the limit is raised", l.Limit.Limit, what, l.Limit.Period))
}

// errCompliance reports a compliance rejection, naming the parameter the
// rule is about.
func errCompliance(d compliance.Decision) *Problem {
	param := ""
	switch {
	case strings.HasPrefix(d.Rule, "sender."), strings.HasPrefix(d.Rule, "email.domain"):
		param = "originator"
	case strings.HasPrefix(d.Rule, "content."):
		param = "body"
	case d.Rule == "purpose":
		param = "purpose"
	case d.Rule == "category":
		param = "categories"
	case d.Recipient != "":
		param = "recipients"
	}
	return NewProblem(http.StatusUnprocessableEntity, CodeCompliance, param, "refused by compliance rule "+d.Describe())
}

// TestKeyRefused refuses a test key a change to live state: what says
// what it may not do ("change realtime apps").
func TestKeyRefused(what string) *Problem {
	return NewProblem(http.StatusForbidden, CodeUnauthorized, "access_key", "test keys cannot "+what+"; use a live key")
}

func errTooManyFailures(wait time.Duration) *Problem {
	return NewProblem(http.StatusTooManyRequests, CodeTooManyFailures, "access_key",
		"too many failed authentications from this address or with this key; try again in "+authguard.RetryAfter(wait)+" s")
}

func errRouteNotFound() *Problem {
	return NewProblem(http.StatusNotFound, CodeNotFound, "", "no such endpoint")
}

func errInternal() *Problem {
	return NewProblem(http.StatusInternalServerError, CodeInternal, "", "internal error; the request was not carried out, try again later")
}

// errDatabaseUnavailable answers a request the database could not take
// (it is restarting or failing over): 503, try again in a second.
func errDatabaseUnavailable(w http.ResponseWriter) *Problem {
	w.Header().Set("Retry-After", "1")
	return NewProblem(http.StatusServiceUnavailable, CodeInternal, "", "the database is unavailable; the request was not carried out, try again later")
}

func errUnavailable() *Problem {
	return NewProblem(http.StatusServiceUnavailable, CodeInternal, "", "the server is shutting down; try again later")
}

// TooManyConnections answers a client over the number of connections
// one address may hold (429).
func TooManyConnections(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, NewProblem(http.StatusTooManyRequests, CodeUsageLimit, "",
		"too many connections from your address; close some, or try again later"))
}

// writeProblem answers with MessageBird's error body.
func writeProblem(w http.ResponseWriter, p *Problem) {
	errs := p.Errors
	if errs == nil {
		errs = []Error{} // 405 answers {"errors":[]}
	}
	WriteJSON(w, p.Status, struct {
		Errors []Error `json:"errors"`
	}{errs})
}

// WriteJSON answers with v as JSON and the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"code":99,"description":"internal error","parameter":null}]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
