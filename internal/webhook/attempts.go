package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// trace notes what one attempt called and what came back, for the log of
// webhook attempts (store.WebhookAttempts): the calls are made deep in
// callSet, so the attempt's context carries where to note them.
type trace struct {
	url  string // the target without its query; "" when no call was made
	code int    // the answer's HTTP status; 0 when none came
}

type traceKey struct{}

func withTrace(ctx context.Context) (context.Context, *trace) {
	t := &trace{}
	return context.WithValue(ctx, traceKey{}, t), t
}

// noteCall records the target of req (before it is sent) and, when code
// is not 0, the answer's status.
func noteCall(req *http.Request, code int) {
	t, _ := req.Context().Value(traceKey{}).(*trace)
	if t == nil {
		return
	}
	t.url, t.code = targetOf(req.URL), code
}

// targetOf is a URL without its query and user information: reports carry
// the recipient's address in the query, which the log must not keep.
func targetOf(u *url.URL) string {
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return c.String()
}

// outcomeOf names what became of an attempt for the log.
func outcomeOf(err error, retried bool) string {
	switch {
	case err == nil:
		return store.AttemptOK
	case retried:
		return store.AttemptRetry
	}
	return store.AttemptDropped
}

// reportAttempt is the log row of a status report's call; nil when no
// call was made (no report URL, a Deliverer's report).
func reportAttempt(j *store.Job, t *trace, err error, retried bool, took time.Duration) *store.WebhookAttempt {
	if t == nil || t.url == "" {
		return nil
	}
	a := &store.WebhookAttempt{AccountID: j.AccountID, Kind: store.AttemptReport, MessageID: j.MessageID, URL: t.url, Code: t.code,
		Outcome: outcomeOf(err, retried), Attempt: j.Attempts, Duration: took, At: time.Now().UTC()}
	if err != nil {
		a.Error = err.Error()
	}
	// The report without its details (an email event's may quote the
	// address): what a re-send queues again.
	var rep store.Report
	if json.Unmarshal(j.Payload, &rep) == nil {
		rep.Detail = nil
		a.Event = string(rep.Status)
		if rep.Event != "" {
			a.Event = rep.Event
		}
		if b, err := json.Marshal(rep); err == nil {
			a.Payload = string(b)
		}
	}
	return a
}

// convAttempt is the log row of a Conversations delivery's call; nil
// when no call was made.
func convAttempt(d *store.WebhookDelivery, t *trace, err error, retried bool, took time.Duration) *store.WebhookAttempt {
	if t == nil || t.url == "" {
		return nil
	}
	a := &store.WebhookAttempt{AccountID: d.AccountID, Kind: store.AttemptConversation, MessageID: d.MessageID, WebhookID: d.WebhookID,
		Event: d.Event, URL: t.url, Code: t.code, Outcome: outcomeOf(err, retried), Attempt: d.Attempts + 1, Duration: took, At: time.Now().UTC()}
	if err != nil {
		a.Error = err.Error()
	}
	// What a re-send queues again (store.ResentDelivery): a status report
	// without its details, as for reports above.
	payload := d.Payload
	var rep store.Report
	if d.Event == store.EventMessageUpdated && json.Unmarshal([]byte(payload), &rep) == nil && rep.Detail != nil {
		rep.Detail = nil
		if b, err := json.Marshal(rep); err == nil {
			payload = string(b)
		}
	}
	if b, err := json.Marshal(store.ResentDelivery{ConversationID: d.ConversationID, Payload: payload}); err == nil {
		a.Payload = string(b)
	}
	return a
}
