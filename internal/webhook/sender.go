package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/worker"
)

// Config tunes a Sender. Zero values mean the documented defaults.
type Config struct {
	// Pool tunes leasing; its Kind is set to store.JobReport.
	Pool worker.Config
	// Timeout bounds one delivery attempt; default 10 s.
	Timeout time.Duration
	// Retry spaces out attempts; default 10 s doubling to 1 hour.
	Retry worker.Backoff
	// MaxAttempts before a report is dropped (and logged); default 12,
	// which with the default backoff spans about half a day.
	MaxAttempts int
	// Client makes the requests; default an http.Client with Timeout and
	// no redirects followed.
	Client *http.Client
	// Formats render the status reports of doors with a format of their
	// own, by message.Details.Report: the body is POSTed as JSON, signed
	// like every report. Messages without one get MessageBird's GET.
	Formats map[string]Format
	// Deliverers carry the status reports of doors that deliver them
	// themselves, by message.Details.Report, instead of an HTTP call: the
	// SMPP server's deliver_sm receipts. An error retries the report like a
	// failed call; Drop ends it; a *WaitError waits for the customer (no
	// receiver bound) however many attempts it took, up to MaxWait.
	Deliverers map[string]Deliverer
	// Inbound, when set, forwards the inbound messages of accounts without
	// an inbound URL (the SMPP server's deliver_sm); its errors mean what
	// a Deliverer's do.
	Inbound InboundDeliverer
	// MaxWait bounds how long a report or inbound message waits for its
	// customer to come (WaitError); default 72 hours.
	MaxWait time.Duration
	// Forms render the status reports of doors whose reports are form
	// POSTs signed their own way (Twilio's status callbacks), by
	// message.Details.Report; they take precedence over Formats.
	Forms map[string]FormFormat
	// InboundForm, when set, is asked first for each inbound message: a
	// door that forwards it its own way (Twilio's SmsUrl of the number)
	// returns the request to make; nil leaves it to the account's inbound
	// URL or Inbound.
	InboundForm func(ctx context.Context, m *message.Message) (*FormCall, error)
}

// FormCall is a signed form request a door forwards an inbound message
// with, and what to do with a 2xx answer.
type FormCall struct {
	Method    string // POST (Params in the body) or GET (in URL already)
	URL       string
	Params    url.Values
	Header    string // the signature header
	Signature string
	// Answer, when set, gets the body of a 2xx answer (at most MaxAnswer
	// bytes); an error drops the job, logged, without retrying: the
	// customer answered.
	Answer func(ctx context.Context, body []byte) error
	// MaxAnswer bounds the answer read; a longer one is an error for
	// Answer. Default 64 KiB.
	MaxAnswer int
}

// FormFormat renders a status report of m to target as form parameters
// and the value of the signature header it names.
type FormFormat struct {
	Header string
	Render func(ctx context.Context, m *message.Message, rep store.Report, target string) (url.Values, string, error)
}

// Deliverer delivers one status report of m by other means than HTTP.
type Deliverer func(ctx context.Context, m *message.Message, rep store.Report) error

// InboundDeliverer forwards one inbound message by other means than HTTP.
type InboundDeliverer func(ctx context.Context, m *message.Message) error

// Drop is a Deliverer's answer for a report that is not to be delivered:
// it ends without retrying.
func Drop(reason string) error { return &dropError{reason: reason} }

// WaitError is a Deliverer's answer when the customer cannot take the
// report yet (no SMPP receiver bound): it is tried again After, without
// counting towards MaxAttempts, until it is MaxWait old. Reason is kept
// as the job's last error (store.WakeJobs finds waiting jobs by it).
type WaitError struct {
	Reason string
	After  time.Duration
}

func (e *WaitError) Error() string { return e.Reason }

// Format renders a status report of m as the JSON body to POST.
type Format func(m *message.Message, rep store.Report) ([]byte, error)

// maxConnsPerHost bounds the connections the default client opens to one
// report or inbound URL host, and keeps that many open between bursts.
const maxConnsPerHost = 64

// Sender delivers status reports and forwards inbound messages, each from
// its own queue of jobs.
type Sender struct {
	cfg      Config
	store    store.Store
	accounts *store.AccountCache
	metrics  *metrics.Metrics
	log      *slog.Logger
	reports  *worker.Pool
	inbound  *worker.Pool
}

// New makes a Sender; call Start to run it.
func New(cfg Config, st store.Store, accounts *store.AccountCache, m *metrics.Metrics, log *slog.Logger) *Sender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	cfg.Retry, cfg.MaxAttempts = worker.RetryDefaults(cfg.Retry, cfg.MaxAttempts)
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 72 * time.Hour
	}
	if cfg.Client == nil {
		// Reports to one customer come in bursts from many workers: keep
		// that many connections open to a host (the default transport keeps
		// 2 and dials anew for the rest, a tenth of the CPU under load), and
		// never open more than that to it.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost, t.MaxConnsPerHost = maxConnsPerHost, maxConnsPerHost
		cfg.Client = &http.Client{
			Timeout:       cfg.Timeout,
			Transport:     t,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	s := &Sender{cfg: cfg, store: st, accounts: accounts, metrics: m, log: log}
	if cfg.Pool.Metrics == nil {
		cfg.Pool.Metrics = m
	}
	reports, inbound := cfg.Pool, cfg.Pool
	if cfg.Pool.Preload == nil {
		// A report is about one recipient: a batch of reports reads those
		// it is about, not every recipient of a message sent to a group.
		reports.Preload = worker.PreloadRecipients(st, log, reportRecipient)
		inbound.Preload = worker.PreloadMessages(st, log)
	}
	reports.Kind, inbound.Kind = store.JobReport, store.JobInbound
	s.reports = worker.New(reports, st, s.deliver, nil, log)
	s.inbound = worker.New(inbound, st, s.deliver, nil, log)
	return s
}

// Start runs the sender until Stop.
func (s *Sender) Start() {
	s.reports.Start()
	s.inbound.Start()
}

// Notify wakes the sender: reports are due.
func (s *Sender) Notify() { s.reports.Notify() }

// Status report jobs can be stored leased to the sender and handed over
// once committed (store.Receipts.ApplyReceiptsLeased), like the
// dispatcher's send jobs: Reserve, Unreserve and Run are worker.Pool's, for
// the reports.

// Reserve takes up to n of the report pool's free slots (worker.Pool.Reserve).
func (s *Sender) Reserve(n int) (int, string, time.Duration) { return s.reports.Reserve(n) }

// Unreserve gives back reserved slots.
func (s *Sender) Unreserve(n int) { s.reports.Unreserve(n) }

// Run runs report jobs stored leased to the sender.
func (s *Sender) Run(jobs []*store.Job) { s.reports.Run(jobs) }

// NotifyInbound wakes the sender: inbound messages are waiting.
func (s *Sender) NotifyInbound() { s.inbound.Notify() }

// Stop finishes deliveries in progress, or gives up when ctx ends.
func (s *Sender) Stop(ctx context.Context) error {
	return errors.Join(s.reports.Stop(ctx), s.inbound.Stop(ctx))
}

// reportRecipient is the recipient a report job is about: its payload's
// seq (nil, for every recipient, if the payload has none).
func reportRecipient(j *store.Job) []int {
	var rep struct {
		Seq *int `json:"seq"`
	}
	if json.Unmarshal(j.Payload, &rep) != nil || rep.Seq == nil {
		return nil
	}
	return []int{*rep.Seq}
}

// deliver makes one attempt at one job; a status report's call is
// logged with its outcome (store.WebhookAttempts).
func (s *Sender) deliver(ctx context.Context, j *store.Job) *store.Outcome {
	var t *trace
	if j.Kind == store.JobReport {
		ctx, t = withTrace(ctx)
	}
	start := time.Now()
	err := s.attempt(ctx, j)
	out := s.outcome(j, err)
	out.Attempt = reportAttempt(j, t, err, !out.RetryAt.IsZero(), time.Since(start))
	return out
}

// outcome is what becomes of a job after an attempt that ended with err.
func (s *Sender) outcome(j *store.Job, err error) *store.Outcome {
	var drop *dropError
	var wait *WaitError
	switch {
	case err == nil:
		s.metrics.Webhooks.WithLabelValues(j.Kind, "ok").Inc()
		return &store.Outcome{}
	case errors.As(err, &wait) && time.Since(j.CreatedAt) < s.cfg.MaxWait:
		s.metrics.Webhooks.WithLabelValues(j.Kind, "wait").Inc()
		return &store.Outcome{RetryAt: time.Now().Add(wait.After), LastError: wait.Reason}
	case errors.As(err, &drop):
		s.metrics.Webhooks.WithLabelValues(j.Kind, "dropped").Inc()
		if drop.log {
			s.log.Warn("webhook: dropped", "kind", j.Kind, "message", j.MessageID, "reason", drop.reason)
		}
		return &store.Outcome{}
	case j.Attempts >= s.cfg.MaxAttempts:
		s.metrics.Webhooks.WithLabelValues(j.Kind, "dropped").Inc()
		s.log.Warn("webhook: dropped after retries", "kind", j.Kind, "message", j.MessageID, "attempts", j.Attempts, "err", err)
		return &store.Outcome{}
	default:
		s.metrics.Webhooks.WithLabelValues(j.Kind, "retry").Inc()
		return &store.Outcome{RetryAt: time.Now().Add(s.cfg.Retry.Delay(j.Attempts)), LastError: err.Error()}
	}
}

// dropError ends a report without retrying.
type dropError struct {
	reason string
	log    bool
}

func (e *dropError) Error() string { return e.reason }

func (s *Sender) attempt(ctx context.Context, j *store.Job) error {
	acct, err := s.accounts.Get(ctx, j.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return &dropError{reason: "account gone"}
	} else if err != nil {
		return err
	}
	m, err := worker.JobMessage(ctx, s.store, j)
	if errors.Is(err, store.ErrNotFound) {
		return &dropError{reason: "message gone"}
	} else if err != nil {
		return err
	}
	var full string
	var query url.Values
	if j.Kind == store.JobReport && m.Details.Report != "" {
		if d := s.cfg.Deliverers[m.Details.Report]; d != nil {
			var rep store.Report
			if err := json.Unmarshal(j.Payload, &rep); err != nil {
				return &dropError{reason: "undecodable report payload: " + err.Error(), log: true}
			}
			if m.Recipient(rep.Seq) == nil {
				return &dropError{reason: "recipient gone"}
			}
			return d(ctx, m, rep)
		}
		return s.post(ctx, j, acct, m)
	}
	if j.Kind == store.JobInbound && s.cfg.InboundForm != nil {
		call, err := s.cfg.InboundForm(ctx, m)
		if err != nil {
			return err
		}
		if call != nil {
			return s.formCall(ctx, call)
		}
	}
	if j.Kind == store.JobInbound && len(m.Recipients) > 0 {
		// A number's own inbound URL (PATCH /v1/phone-numbers) goes before
		// the account's.
		if n, err := s.store.OwnedNumber(ctx, m.AccountID, m.Recipients[0].Address); err == nil && n.InboundURL != "" {
			own := *acct
			own.InboundURL = n.InboundURL
			acct = &own
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if j.Kind == store.JobInbound && acct.InboundURL == "" && s.cfg.Inbound != nil {
		return s.cfg.Inbound(ctx, m)
	}
	if j.Kind == store.JobInbound {
		full, query, err = inboundTarget(acct, m)
	} else {
		full, query, err = reportTarget(j, acct, m)
	}
	if err != nil {
		return err
	}
	return s.get(ctx, acct, full, query)
}

// reportTarget is the URL a status report goes to.
func reportTarget(j *store.Job, acct *store.Account, m *message.Message) (string, url.Values, error) {
	var rep store.Report
	if err := json.Unmarshal(j.Payload, &rep); err != nil {
		return "", nil, &dropError{reason: "undecodable report payload: " + err.Error(), log: true}
	}
	target := m.ReportURL
	if target == "" {
		target = acct.ReportURL
	}
	if target == "" {
		return "", nil, &dropError{reason: "no report URL"}
	}
	r := m.Recipient(rep.Seq)
	if r == nil {
		return "", nil, &dropError{reason: "recipient gone"}
	}
	return withQuery(target, reportQuery(m, r, rep))
}

// inboundTarget is the URL an inbound message is forwarded to, with the
// parameters MessageBird forwards: id, recipient, originator, body and
// createdDatetime.
func inboundTarget(acct *store.Account, m *message.Message) (string, url.Values, error) {
	if acct.InboundURL == "" {
		return "", nil, &dropError{reason: "no inbound URL"}
	}
	q := url.Values{}
	q.Set("id", m.ID)
	if len(m.Recipients) > 0 {
		q.Set("recipient", m.Recipients[0].Address)
	}
	q.Set("originator", m.Originator)
	q.Set("body", m.Body)
	q.Set("createdDatetime", m.CreatedAt.UTC().Format(message.TimeLayout))
	return withQuery(acct.InboundURL, q)
}

// reportQuery holds the fields of an SMS status report as MessageBird
// sends them (a GET with query parameters).
func reportQuery(m *message.Message, r *message.Recipient, rep store.Report) url.Values {
	q := url.Values{}
	q.Set("id", m.ID)
	q.Set("reference", m.Reference)
	q.Set("recipient", r.Address)
	q.Set("status", string(rep.Status))
	q.Set("statusDatetime", rep.At.UTC().Format(message.TimeLayout))
	reason := rep.Reason
	if reason == "" {
		reason = rep.Status.DefaultReason()
	}
	q.Set("statusReason", reason)
	if rep.ErrorCode != 0 {
		q.Set("statusErrorCode", strconv.Itoa(rep.ErrorCode))
	}
	q.Set("messagePartCount", strconv.Itoa(r.PartCount))
	q.Set("ported", "0")
	return q
}

// withQuery adds fields to the customer's URL. The URL's own query is kept
// as written, with ours after it; the returned values hold both, for the
// legacy signature.
func withQuery(target string, q url.Values) (string, url.Values, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, &dropError{reason: fmt.Sprintf("URL %q is not an absolute http(s) URL", target), log: true}
	}
	own, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", nil, &dropError{reason: fmt.Sprintf("URL %q has a malformed query", target), log: true}
	}
	ours := sortedQuery(q)
	if u.RawQuery != "" {
		u.RawQuery += "&" + ours
	} else {
		u.RawQuery = ours
	}
	for k, vs := range own {
		q[k] = append(vs, q[k]...)
	}
	return u.String(), q, nil
}

// post delivers a report in its door's format: a JSON POST, signed over
// the URL and the body.
func (s *Sender) post(ctx context.Context, j *store.Job, acct *store.Account, m *message.Message) error {
	form, isForm := s.cfg.Forms[m.Details.Report]
	format := s.cfg.Formats[m.Details.Report]
	if format == nil && !isForm {
		return &dropError{reason: fmt.Sprintf("no report format %q", m.Details.Report), log: true}
	}
	var rep store.Report
	if err := json.Unmarshal(j.Payload, &rep); err != nil {
		return &dropError{reason: "undecodable report payload: " + err.Error(), log: true}
	}
	target := m.ReportURL
	if target == "" {
		target = acct.ReportURL
	}
	if target == "" {
		return &dropError{reason: "no report URL"}
	}
	if m.Recipient(rep.Seq) == nil {
		return &dropError{reason: "recipient gone"}
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &dropError{reason: fmt.Sprintf("URL %q is not an absolute http(s) URL", target), log: true}
	}
	if isForm {
		params, sig, err := form.Render(ctx, m, rep, target)
		if err != nil {
			return &dropError{reason: "rendering report: " + err.Error(), log: true}
		}
		return s.postForm(ctx, target, params, form.Header, sig)
	}
	body, err := format(m, rep)
	if err != nil {
		return &dropError{reason: "rendering report: " + err.Error(), log: true}
	}
	return s.call(ctx, acct, http.MethodPost, target, nil, body)
}

// postForm POSTs a form-encoded report with its door's signature header.
func (s *Sender) postForm(ctx context.Context, target string, params url.Values, header, sig string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(params.Encode()))
	if err != nil {
		return &dropError{reason: err.Error(), log: true}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(header, sig)
	req.Header.Set("User-Agent", userAgent)
	return s.do(req)
}

func (s *Sender) get(ctx context.Context, acct *store.Account, full string, query url.Values) error {
	return s.call(ctx, acct, http.MethodGet, full, query, nil)
}

// call makes one signed request.
func (s *Sender) call(ctx context.Context, acct *store.Account, method, full string, query url.Values, body []byte) error {
	return s.callSet(ctx, acct, method, full, query, body, Settings{})
}

// callSet makes a signed call to full (with query, its parameters) as set
// asks: its headers and basic authentication, its timeout, and its idea
// of a successful answer (the zero Settings: 2xx within the sender's
// timeout).
func (s *Sender) callSet(ctx context.Context, acct *store.Account, method, full string, query url.Values, body []byte, set Settings) error {
	timeout := s.cfg.Timeout
	if set.Timeout > 0 {
		timeout = set.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, full, bytes.NewReader(body))
	if err != nil {
		return &dropError{reason: err.Error(), log: true}
	}
	for k, vs := range set.Headers {
		req.Header[k] = vs
	}
	if set.Username != "" {
		req.SetBasicAuth(set.Username, set.Password)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	SignRequest(req, acct, full, query, body, time.Now())
	return s.doExpect(req, set)
}

// userAgent is what omnigate's report and webhook calls say they are.
const userAgent = "omnigate-webhooks/1"

// SignRequest signs a request to full (with query, its parameters, and
// body) as MessageBird signs its reports, with acct's signing key at now:
// the JWT, timestamp and legacy signature headers; it sets the User-Agent
// omnigate's report calls carry. Status reports and HLR reports use it.
func SignRequest(req *http.Request, acct *store.Account, full string, query url.Values, body []byte, now time.Time) {
	req.Header.Set(HeaderSignatureJWT, SignJWT(acct.SigningKey, full, body, now))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, SignLegacy(acct.SigningKey, acct.LegacySignature, now.Unix(), query, body))
	req.Header.Set("User-Agent", userAgent)
}

// callWith makes a signed POST of a JSON body to target as a webhook's
// settings ask: their query parameters added to the URL (and signed with
// it), the rest through callSet.
func (s *Sender) callWith(ctx context.Context, acct *store.Account, target string, body []byte, set Settings) error {
	u, err := url.Parse(target)
	if err != nil {
		return &dropError{reason: err.Error(), log: true}
	}
	if len(set.Query) > 0 {
		q := u.Query()
		for k, vs := range set.Query {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	return s.callSet(ctx, acct, http.MethodPost, u.String(), u.Query(), body, set)
}

// do makes a report call: a 2xx answer is success.
func (s *Sender) do(req *http.Request) error { return s.doExpect(req, Settings{}) }

// doExpect makes a report call: an answer set accepts is success.
func (s *Sender) doExpect(req *http.Request, set Settings) error {
	noteCall(req, 0)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("calling report URL: %w", err)
	}
	defer resp.Body.Close()
	noteCall(req, resp.StatusCode)
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if !set.Accepts(resp.StatusCode) {
		return fmt.Errorf("report URL answered %s", strings.TrimSpace(resp.Status))
	}
	return nil
}

// formCall makes a door's signed form request for an inbound message and
// hands a 2xx answer to its Answer.
func (s *Sender) formCall(ctx context.Context, c *FormCall) error {
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &dropError{reason: fmt.Sprintf("URL %q is not an absolute http(s) URL", c.URL), log: true}
	}
	max := c.MaxAnswer
	if max <= 0 {
		max = 64 << 10
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var body io.Reader
	if c.Method != http.MethodGet {
		body = strings.NewReader(c.Params.Encode())
	}
	req, err := http.NewRequestWithContext(cctx, c.Method, c.URL, body)
	if err != nil {
		return &dropError{reason: err.Error(), log: true}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set(c.Header, c.Signature)
	req.Header.Set("User-Agent", userAgent)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("calling inbound URL: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, int64(max)+1))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("inbound URL answered %s", strings.TrimSpace(resp.Status))
	}
	if err != nil {
		return fmt.Errorf("reading inbound URL's answer: %w", err)
	}
	if c.Answer == nil {
		return nil
	}
	if len(answer) > max {
		return &dropError{reason: fmt.Sprintf("inbound URL %s answered over %d bytes", c.URL, max), log: true}
	}
	if err := c.Answer(ctx, answer); err != nil {
		return &dropError{reason: fmt.Sprintf("inbound URL %s answered: %v", c.URL, err), log: true}
	}
	return nil
}
