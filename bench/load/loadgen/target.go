package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/omnigate/omnigate/internal/jsonstr"
)

// Target is a system under test: how a message becomes an HTTP request,
// how its answer is read, and how its status reports are read. A Target
// is used by many goroutines at once and must not change after Run starts.
type Target interface {
	// Name is "omnigate" or "kannel".
	Name() string
	// URL is the base URL requests go to.
	URL() string
	// NewRequest makes the request sending m. When reportURL is not
	// empty, the system is asked to report each recipient's final status
	// there, with rid in the query so that reports can be matched.
	NewRequest(ctx context.Context, m Message, rid uint64, reportURL string) (*http.Request, error)
	// AppendRequest appends the request NewRequest makes, as HTTP/1.1
	// bytes, for the lean client (wire.go): the same method, target,
	// headers and body, without building an http.Request.
	AppendRequest(dst []byte, m Message, rid uint64, reportURL string) []byte
	// ReadResponse reads an answer: whether m was accepted, a reference
	// (omnigate's message id) and, when it was not, the kind of error.
	ReadResponse(status int, body []byte, m Message) Answer
	// ParseReport reads a status report's raw query string; ok is false
	// when it is not one of this target's reports.
	ParseReport(rawQuery string) (r Report, ok bool)
}

// Answer is what a target made of one HTTP answer.
type Answer struct {
	Accepted bool
	Ref      string // the system's id for the message, when it gives one
	ErrKind  string // why it was not accepted, e.g. "HTTP 422 code 10"
}

// Outcome is what a status report says of a recipient.
type Outcome uint8

// Report outcomes.
const (
	// Intermediate reports (sent, buffered, queued on the SMSC) are counted
	// but do not end the recipient's tracking.
	Intermediate Outcome = iota
	Delivered
	Failed
)

// Report is one status report.
type Report struct {
	RID       uint64
	Recipient string
	Outcome   Outcome
}

// Omnigate drives omnigate's MessageBird-compatible REST API:
// POST {BaseURL}/messages with a JSON body and an AccessKey.
type Omnigate struct {
	BaseURL    string // e.g. http://127.0.0.1:8080
	Key        string // a live key
	Originator string // default "Bench"
}

var _ Target = (*Omnigate)(nil)

// Name implements Target.
func (o *Omnigate) Name() string { return "omnigate" }

// URL implements Target.
func (o *Omnigate) URL() string { return o.BaseURL }

// NewRequest implements Target.
func (o *Omnigate) NewRequest(ctx context.Context, m Message, rid uint64, reportURL string) (*http.Request, error) {
	body := map[string]any{
		"originator": orDefault(o.Originator, "Bench"),
		"recipients": m.Recipients,
		"body":       m.Body,
	}
	if reportURL != "" {
		body["reportUrl"] = reportURL + "?rid=" + strconv.FormatUint(rid, 10)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encoding the message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.BaseURL, "/")+"/messages", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "AccessKey "+o.Key)
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// AppendRequest implements Target: the JSON body NewRequest makes, with
// the same keys and values, written without a map or reflection.
func (o *Omnigate) AppendRequest(dst []byte, m Message, rid uint64, reportURL string) []byte {
	host, prefix := splitBase(o.BaseURL)
	var body [512]byte
	b := append(body[:0], `{"body":`...)
	b = jsonstr.Append(b, m.Body)
	b = append(b, `,"originator":`...)
	b = jsonstr.Append(b, orDefault(o.Originator, "Bench"))
	b = append(b, `,"recipients":[`...)
	for i, r := range m.Recipients {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, r)
	}
	b = append(b, ']')
	if reportURL != "" {
		var u [256]byte
		ru := append(u[:0], reportURL...)
		ru = append(ru, "?rid="...)
		ru = strconv.AppendUint(ru, rid, 10)
		b = append(b, `,"reportUrl":`...)
		b = jsonstr.Append(b, ru)
	}
	b = append(b, '}')
	dst = appendRequestLine(dst, "POST", host, prefix, "/messages")
	dst = append(dst, "Authorization: AccessKey "...)
	dst = append(dst, o.Key...)
	dst = append(dst, "\r\nContent-Type: application/json\r\n"...)
	return appendBody(dst, b)
}

// createdPrefix is how omnigate's answer to a created message begins: the
// message object's first key is its id (internal/api/messagebird).
const createdPrefix = `{"id":"`

// ReadResponse implements Target: 201 is accepted; errors are named by
// status and MessageBird error code.
func (o *Omnigate) ReadResponse(status int, body []byte, m Message) Answer {
	if status == http.StatusCreated {
		// The id is read where the answer puts it, without decoding the
		// whole message object: the load generator's CPU caps what a run
		// can show. Any other shape is decoded in full.
		if rest, ok := bytes.CutPrefix(body, []byte(createdPrefix)); ok {
			if id, _, ok := bytes.Cut(rest, []byte{'"'}); ok && len(id) > 0 && bytes.IndexByte(id, '\\') < 0 {
				return Answer{Accepted: true, Ref: string(id)}
			}
		}
		var created struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &created); err != nil || created.ID == "" {
			return Answer{ErrKind: "HTTP 201 without a message id"}
		}
		return Answer{Accepted: true, Ref: created.ID}
	}
	var e struct {
		Errors []struct {
			Code int `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
		return Answer{ErrKind: fmt.Sprintf("HTTP %d code %d", status, e.Errors[0].Code)}
	}
	return Answer{ErrKind: fmt.Sprintf("HTTP %d", status)}
}

// ParseReport implements Target: omnigate adds id, recipient and status
// to the reportUrl, which carries rid.
func (o *Omnigate) ParseReport(rawQuery string) (Report, bool) {
	rid, err := strconv.ParseUint(queryValue(rawQuery, "rid"), 10, 64)
	recipient := queryValue(rawQuery, "recipient")
	if err != nil || recipient == "" {
		return Report{}, false
	}
	r := Report{RID: rid, Recipient: recipient}
	switch queryValue(rawQuery, "status") {
	case "delivered":
		r.Outcome = Delivered
	case "delivery_failed", "expired":
		r.Outcome = Failed
	}
	return r, true
}

// Kannel drives Kannel's smsbox send-SMS interface:
// GET {BaseURL}/cgi-bin/sendsms?username=…&password=…&to=…&text=…
// Final delivery reports (dlr-mask 1|2) are asked for at the report URL.
type Kannel struct {
	BaseURL    string // e.g. http://127.0.0.1:13013
	Username   string
	Password   string
	Originator string // default "Bench"
}

var _ Target = (*Kannel)(nil)

// Name implements Target.
func (k *Kannel) Name() string { return "kannel" }

// URL implements Target.
func (k *Kannel) URL() string { return k.BaseURL }

// dlrFinal is Kannel's dlr-mask for final reports only: 1 delivered to
// the phone, 2 not delivered.
const dlrFinal = "3"

// NewRequest implements Target. Recipients are space-separated in "to";
// Arabic goes as UCS-2 (coding 2) from UTF-8 text. The dlr-url asks
// Kannel to fill in the recipient (%p) and the report type (%d).
func (k *Kannel) NewRequest(ctx context.Context, m Message, rid uint64, reportURL string) (*http.Request, error) {
	q := url.Values{}
	q.Set("username", k.Username)
	q.Set("password", k.Password)
	q.Set("from", orDefault(k.Originator, "Bench"))
	q.Set("to", strings.Join(m.Recipients, " "))
	q.Set("text", m.Body)
	q.Set("charset", "UTF-8")
	if m.Unicode {
		q.Set("coding", "2")
	}
	if reportURL != "" {
		q.Set("dlr-mask", dlrFinal)
		q.Set("dlr-url", reportURL+"?rid="+strconv.FormatUint(rid, 10)+"&to=%p&type=%d")
	}
	return http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(k.BaseURL, "/")+"/cgi-bin/sendsms?"+q.Encode(), nil)
}

// AppendRequest implements Target: the query NewRequest makes, its
// parameters in the same (sorted) order, escaped the same way.
func (k *Kannel) AppendRequest(dst []byte, m Message, rid uint64, reportURL string) []byte {
	host, prefix := splitBase(k.BaseURL)
	dst = append(dst, "GET "...)
	dst = append(dst, prefix...)
	dst = append(dst, "/cgi-bin/sendsms?charset=UTF-8"...)
	if m.Unicode {
		dst = append(dst, "&coding=2"...)
	}
	if reportURL != "" {
		dst = append(dst, "&dlr-mask="+dlrFinal+"&dlr-url="...)
		var u [256]byte
		du := append(u[:0], reportURL...)
		du = append(du, "?rid="...)
		du = strconv.AppendUint(du, rid, 10)
		du = append(du, "&to=%p&type=%d"...)
		dst = appendQueryEscaped(dst, du)
	}
	dst = append(dst, "&from="...)
	dst = appendQueryEscaped(dst, orDefault(k.Originator, "Bench"))
	dst = append(dst, "&password="...)
	dst = appendQueryEscaped(dst, k.Password)
	dst = append(dst, "&text="...)
	dst = appendQueryEscaped(dst, m.Body)
	dst = append(dst, "&to="...)
	for i, r := range m.Recipients {
		if i > 0 {
			dst = append(dst, '+')
		}
		dst = appendQueryEscaped(dst, r)
	}
	dst = append(dst, "&username="...)
	dst = appendQueryEscaped(dst, k.Username)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	return append(dst, "\r\n\r\n"...)
}

// ReadResponse implements Target: 202 ("0: Accepted for delivery" or "3:
// Queued for later delivery") is accepted; errors are named by status and
// the first line of the body.
func (k *Kannel) ReadResponse(status int, body []byte, m Message) Answer {
	if status == http.StatusAccepted {
		return Answer{Accepted: true}
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if len(line) > 60 {
		line = line[:60]
	}
	if line == "" {
		return Answer{ErrKind: fmt.Sprintf("HTTP %d", status)}
	}
	return Answer{ErrKind: fmt.Sprintf("HTTP %d: %s", status, line)}
}

// ParseReport implements Target. Kannel's report types: 1 delivered to
// the phone, 2 not delivered, 16 rejected by the SMSC; 4 and 8 are
// intermediate (queued on, delivered to the SMSC).
func (k *Kannel) ParseReport(rawQuery string) (Report, bool) {
	rid, err := strconv.ParseUint(queryValue(rawQuery, "rid"), 10, 64)
	to := queryValue(rawQuery, "to")
	if err != nil || to == "" {
		return Report{}, false
	}
	r := Report{RID: rid, Recipient: to}
	switch queryValue(rawQuery, "type") {
	case "1":
		r.Outcome = Delivered
	case "2", "16":
		r.Outcome = Failed
	}
	return r, true
}

// orDefault is s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
