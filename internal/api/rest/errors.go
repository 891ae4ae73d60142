package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

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
	CodeInternal         = 99 // the platform failed; retry later
)

// apiError is one entry of MessageBird's {"errors":[…]} body.
type apiError struct {
	Code        int     `json:"code"`
	Description string  `json:"description"`
	Parameter   *string `json:"parameter"`
}

// Problem is a client-visible error: the HTTP status and the entries.
type Problem struct {
	Status int
	Errors []apiError
}

func (p *Problem) Error() string {
	if len(p.Errors) == 0 {
		return http.StatusText(p.Status)
	}
	return p.Errors[0].Description
}

func problem(status, code int, param, description string) *Problem {
	e := apiError{Code: code, Description: description}
	if param != "" {
		e.Parameter = &param
	}
	return &Problem{Status: status, Errors: []apiError{e}}
}

// The catalogue of errors the REST door answers with.
func errUnauthorized() *Problem {
	return problem(http.StatusUnauthorized, CodeUnauthorized, "access_key", "Request not allowed (incorrect access_key)")
}

func errMissing(param string) *Problem {
	return problem(http.StatusUnprocessableEntity, CodeMissingParams, param, "no ("+param+") given")
}

func errNoRecipients() *Problem {
	return problem(http.StatusUnprocessableEntity, CodeMissingParams, "recipients", "no (correct) recipients found")
}

func errInvalid(param, description string) *Problem {
	return problem(http.StatusUnprocessableEntity, CodeInvalidParams, param, description)
}

// errNotUTF8 refuses a text parameter that is not valid UTF-8 (JSON strings
// must be; form values must be once percent-decoded).
func errNotUTF8(param string) *Problem {
	return errInvalid(param, param+" is not valid UTF-8 text; send text encoded as UTF-8")
}

func errMalformed(description string) *Problem {
	return problem(http.StatusBadRequest, CodeInvalidParams, "", description)
}

func errUnsupportedType(ct string) *Problem {
	return problem(http.StatusUnsupportedMediaType, CodeInvalidParams, "",
		"unsupported Content-Type "+quote(ct)+"; send application/json or application/x-www-form-urlencoded")
}

func errTooLarge(limit int64) *Problem {
	return problem(http.StatusRequestEntityTooLarge, CodeInvalidParams, "", "request body is larger than "+itoa(limit)+" bytes")
}

func errNoBalance() *Problem {
	return problem(http.StatusPaymentRequired, CodeNotEnoughBalance, "", "not enough balance: top up the account to send this message")
}

func errUsageLimit(l *store.LimitError) *Problem {
	what := l.Limit.Channel + " messages"
	if l.Limit.Metric == store.MetricSpend {
		what = "spend"
	}
	return problem(http.StatusTooManyRequests, CodeUsageLimit, "",
		fmt.Sprintf("usage limit reached: %d %s per %s; sending is blocked until the period ends or the limit is raised", l.Limit.Limit, what, l.Limit.Period))
}

// errCompliance reports a compliance rejection, naming the parameter the
// rule is about.
func errCompliance(d compliance.Decision) *Problem {
	param := ""
	switch {
	case strings.HasPrefix(d.Rule, "sender."):
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
	return problem(http.StatusForbidden, CodeCompliance, param, "refused by compliance rule "+d.Describe())
}

func errNotFound() *Problem {
	return problem(http.StatusNotFound, CodeNotFound, "", "message not found")
}

func errRouteNotFound() *Problem {
	return problem(http.StatusNotFound, CodeNotFound, "", "no such endpoint")
}

func errInternal() *Problem {
	return problem(http.StatusInternalServerError, CodeInternal, "", "internal error; the request was not carried out, try again later")
}

func errUnavailable() *Problem {
	return problem(http.StatusServiceUnavailable, CodeInternal, "", "the server is shutting down; try again later")
}

// writeProblem answers with MessageBird's error body.
func writeProblem(w http.ResponseWriter, p *Problem) {
	errs := p.Errors
	if errs == nil {
		errs = []apiError{} // 405 answers {"errors":[]}
	}
	writeJSON(w, p.Status, struct {
		Errors []apiError `json:"errors"`
	}{errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"code":99,"description":"internal error","parameter":null}]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
