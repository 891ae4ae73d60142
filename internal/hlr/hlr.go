// Package hlr asks a mobile network's Home Location Register about numbers:
// is the subscriber known, reachable now, on which network (ported), and
// where (roaming). A Provider does the asking; the Service around it makes
// the queries durable, priced and charged, and serves two users:
//
//   - the MessageBird door's POST /hlr and POST /lookup/{n}/hlr: Create
//     stores a query (status sent) with its charge and a job in one
//     transaction; a worker pool asks the provider and records the answer
//     (active, absent, unknown, or failed — refunded);
//   - the pipeline's check before sending (pipeline.Config.Reach): for an
//     account that asked for it, Unreachable asks about each SMS recipient,
//     reusing a recent answer, so that absent and unknown numbers fail at
//     once and their SMS is not charged.
//
// The built-in provider is the simulator (package hlrsim). A real one
// implements Provider — typically an HTTP client of a vendor's HLR API —
// and is given to Config.Provider in internal/app.
package hlr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/ttlcache"
	"github.com/omnigate/omnigate/internal/worker"
)

// Provider answers HLR queries. Query is called from several goroutines at
// once and must honour ctx (its deadline is Config.QueryTimeout). An error
// means the provider could not be asked (network, overload): the query is
// retried. An answer the network gave, even "the HLR failed", is a Result.
type Provider interface {
	// Name identifies the provider in logs and metrics ("simulator").
	Name() string
	Query(ctx context.Context, q Query) (Result, error)
}

// Query is one number to ask about.
type Query struct {
	MSISDN  string // international digits without "+"
	Country string // ISO 3166-1 alpha-2 of the number (libphonenumber's)
}

// Result is a provider's answer.
type Result struct {
	// Status is store.HLRActive, HLRAbsent, HLRUnknown or HLRFailed.
	Status string
	// Network is the subscriber's network as MCC and MNC in one number
	// (20408 for KPN, NL); 0 when unknown.
	Network int
	Details Details
}

// Details are the fields of MessageBird's HLR details object.
type Details struct {
	StatusDesc  string `json:"status_desc"`
	IMSI        string `json:"imsi"`
	CountryISO  string `json:"country_iso"`
	CountryName string `json:"country_name"`
	LocationMSC string `json:"location_msc"`
	LocationISO string `json:"location_iso"`
	Ported      int    `json:"ported"`  // 1: moved to another network than the number's range
	Roaming     int    `json:"roaming"` // 1: in another country than the network's
}

// Defaults of Config.
const (
	DefaultQueryTimeout = 10 * time.Second
	DefaultMaxAttempts  = 5
	DefaultCheckTimeout = 5 * time.Second
	DefaultMaxAge       = 24 * time.Hour
	DefaultChecks       = 8
)

// Config tunes the Service. Zero values mean the documented defaults.
type Config struct {
	// Provider answers queries; nil: HLR queries are not available
	// (Available is false, the door answers so, no check before sending).
	Provider Provider
	// Price is what one query to msisdn costs the account, in micro-units
	// of its currency; an error refuses the query. nil: free.
	Price func(ctx context.Context, accountID, country, msisdn string) (int64, error)
	// Pool tunes leasing of query jobs; its Kind is set to store.JobHLR.
	Pool worker.Config
	// QueryTimeout bounds one question to the provider; default 10 s.
	QueryTimeout time.Duration
	// MaxAttempts asks the provider this often before a query fails (and
	// is refunded); default 5, spaced by Retry (default 2 s doubling to
	// 1 minute).
	MaxAttempts int
	Retry       worker.Backoff
	// CheckTimeout bounds the check before sending, per recipient;
	// default 5 s. A recipient the check could not settle is sent.
	CheckTimeout time.Duration
	// MaxAge is how old an answer the check before sending reuses, unless
	// the account sets its own; default 24 hours.
	MaxAge time.Duration
	// Checks bounds the recipients of one message checked at once;
	// default 8.
	Checks int
	// OnAnswer, when set, is called after each answer is recorded.
	OnAnswer func(q *store.HLRQuery)
	// Reports tunes the delivery of answers to accounts' HLR report URLs
	// (report.go).
	Reports ReportConfig
}

// Service runs HLR queries.
type Service struct {
	cfg      Config
	store    store.Store
	log      *slog.Logger
	pool     *worker.Pool
	reports  *worker.Pool // answers to report URLs
	settings *ttlcache.Cache[string, store.HLRSettings]

	// checks are the checks before sending in progress on this node, by
	// account and number: a second message to the same number waits for
	// the first one's answer instead of paying for its own query.
	mu     sync.Mutex
	checks map[string]*check
}

// check is one number's check in progress; done closes when status and
// err are set.
type check struct {
	done   chan struct{}
	status string
	err    error
}

// ErrUnavailable means no HLR provider is configured.
var ErrUnavailable = errors.New("HLR queries are not available: no HLR provider is configured")

// New makes the service; Start runs its worker pool.
func New(cfg Config, st store.Store, log *slog.Logger) *Service {
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = DefaultQueryTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Retry.Min <= 0 {
		cfg.Retry.Min = 2 * time.Second
	}
	if cfg.Retry.Max <= 0 {
		cfg.Retry.Max = time.Minute
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = DefaultCheckTimeout
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Checks <= 0 {
		cfg.Checks = DefaultChecks
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, store: st, log: log, checks: map[string]*check{}}
	s.settings = ttlcache.New(10*time.Second, 10000, st.GetHLRSettings)
	cfg.Pool.Kind = store.JobHLR
	if cfg.Pool.Lease <= 0 {
		cfg.Pool.Lease = 2*cfg.QueryTimeout + 30*time.Second
	}
	s.pool = worker.New(cfg.Pool, st, s.handle, nil, log)
	rep := newReporter(cfg.Reports, st)
	rcfg := rep.cfg.Pool
	rcfg.Kind = store.JobHLRReport
	if rcfg.Owner == "" {
		rcfg.Owner = cfg.Pool.Owner
	}
	s.reports = worker.New(rcfg, st, worker.Retrying(rep.report, rep.cfg.Retry, rep.cfg.MaxAttempts, log, "hlr: report dropped after retries"), nil, log)
	return s
}

// Available says whether a provider answers queries.
func (s *Service) Available() bool { return s.cfg.Provider != nil }

// Start runs the worker pools that ask the provider and deliver reports.
func (s *Service) Start() {
	s.pool.Start()
	s.reports.Start()
}

// Stop stops the pools; work in progress is finished or left to its
// leases.
func (s *Service) Stop(ctx context.Context) error {
	return errors.Join(s.pool.Stop(ctx), s.reports.Stop(ctx))
}

// Create prices and stores a query of an account's (status sent), charged
// in the same transaction, and queues it for the provider. Errors:
// ErrUnavailable, store.ErrInsufficientBalance, and Config.Price's.
func (s *Service) Create(ctx context.Context, accountID, msisdn, country, reference string) (*store.HLRQuery, error) {
	q, err := s.newQuery(ctx, accountID, msisdn, country, reference, store.HLROriginAPI)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateHLR(ctx, q, true); err != nil {
		return nil, err
	}
	s.pool.Notify()
	return q, nil
}

// Preview prices and builds a query without storing or charging it (for
// test keys).
func (s *Service) Preview(ctx context.Context, accountID, msisdn, country, reference string) (*store.HLRQuery, error) {
	return s.newQuery(ctx, accountID, msisdn, country, reference, store.HLROriginAPI)
}

func (s *Service) newQuery(ctx context.Context, accountID, msisdn, country, reference, origin string) (*store.HLRQuery, error) {
	if s.cfg.Provider == nil {
		return nil, ErrUnavailable
	}
	q := &store.HLRQuery{ID: ids.New(), AccountID: accountID, MSISDN: msisdn, Country: country, Reference: reference, Origin: origin,
		Status: store.HLRSent, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if s.cfg.Price != nil {
		price, err := s.cfg.Price(ctx, accountID, country, msisdn)
		if err != nil {
			return nil, err
		}
		q.Price = price
	}
	return q, nil
}

// handle asks the provider about one queued query and records the answer;
// a provider error is retried with backoff, then the query fails and is
// refunded.
func (s *Service) handle(ctx context.Context, j *store.Job) *store.Outcome {
	var p struct {
		HLR string `json:"hlr"`
	}
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		s.log.Error("hlr: undecodable job dropped", "err", err)
		return &store.Outcome{}
	}
	q, err := s.store.GetHLR(ctx, j.AccountID, p.HLR)
	if errors.Is(err, store.ErrNotFound) {
		return &store.Outcome{} // erased with the account's data
	}
	if err != nil {
		return &store.Outcome{RetryAt: time.Now().Add(s.cfg.Retry.Delay(j.Attempts)), LastError: err.Error()}
	}
	if q.Status != store.HLRSent {
		return &store.Outcome{} // answered already (the job ran again after a crash)
	}
	res, err := s.ask(ctx, q, s.cfg.QueryTimeout)
	if err != nil && j.Attempts < s.cfg.MaxAttempts {
		return &store.Outcome{RetryAt: time.Now().Add(s.cfg.Retry.Delay(j.Attempts)), LastError: err.Error()}
	}
	if err != nil {
		s.log.Warn("hlr: query failed after retries", "provider", s.cfg.Provider.Name(), "id", q.ID, "err", err)
		res = Result{Status: store.HLRFailed, Details: Details{StatusDesc: "the HLR provider did not answer"}}
	}
	if err := s.finish(ctx, q, res); err != nil && !errors.Is(err, store.ErrConflict) {
		return &store.Outcome{RetryAt: time.Now().Add(s.cfg.Retry.Delay(j.Attempts)), LastError: err.Error()}
	}
	return &store.Outcome{}
}

// ask puts one question to the provider within timeout and checks the
// answer's status.
func (s *Service) ask(ctx context.Context, q *store.HLRQuery, timeout time.Duration) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := s.cfg.Provider.Query(ctx, Query{MSISDN: q.MSISDN, Country: q.Country})
	if err != nil {
		return Result{}, fmt.Errorf("asking %s: %w", s.cfg.Provider.Name(), err)
	}
	switch res.Status {
	case store.HLRActive, store.HLRAbsent, store.HLRUnknown, store.HLRFailed:
		return res, nil
	}
	return Result{}, fmt.Errorf("%s answered the status %q", s.cfg.Provider.Name(), res.Status)
}

// finish records an answer (refunding a failed query).
func (s *Service) finish(ctx context.Context, q *store.HLRQuery, res Result) error {
	details, err := json.Marshal(res.Details)
	if err != nil {
		return fmt.Errorf("encoding HLR details: %w", err)
	}
	q.Status, q.Network, q.Details, q.StatusAt = res.Status, res.Network, details, time.Now().UTC().Truncate(time.Microsecond)
	if err := s.store.FinishHLR(ctx, q); err != nil {
		return err
	}
	if q.Origin == store.HLROriginAPI {
		s.reports.Notify()
	}
	if s.cfg.OnAnswer != nil {
		s.cfg.OnAnswer(q)
	}
	return nil
}

// Settings reads an account's HLR settings (cached for a few seconds).
func (s *Service) Settings(ctx context.Context, accountID string) (store.HLRSettings, error) {
	return s.settings.Get(ctx, accountID)
}

// SetSettings changes an account's HLR settings.
func (s *Service) SetSettings(ctx context.Context, set store.HLRSettings) error {
	if err := s.store.SetHLRSettings(ctx, set); err != nil {
		return err
	}
	s.settings.Delete(set.AccountID)
	return nil
}

// Status error codes of SMS recipients the check before sending failed:
// the GSM MAP errors for the same conditions.
const (
	CodeUnknownSubscriber = 1
	CodeAbsentSubscriber  = 27
)

// Unreachable is the check before sending: for an account that asked for
// it (store.HLRSettings.CheckBeforeSend) and a message not scheduled for
// later, it asks the HLR about each recipient not final yet — reusing an
// answer up to MaxAge old, else a new query, charged as any — and returns,
// by recipient index, why those that are absent or unknown cannot be
// reached. A recipient the check cannot settle (the provider failed or was
// too slow) is not in the answer: it is sent as without the check. An
// error (not enough balance for the queries) refuses the message.
func (s *Service) Unreachable(ctx context.Context, m *message.Message) (map[int]Refusal, error) {
	if s.cfg.Provider == nil || m.Channel != message.ChannelSMS || m.Direction != message.MT || !m.ScheduledAt.IsZero() {
		return nil, nil
	}
	set, err := s.Settings(ctx, m.AccountID)
	if err != nil {
		return nil, err
	}
	if !set.CheckBeforeSend {
		return nil, nil
	}
	maxAge := set.MaxAge
	if maxAge <= 0 {
		maxAge = s.cfg.MaxAge
	}
	since := time.Now().Add(-maxAge)
	var (
		mu   sync.Mutex
		out  = map[int]Refusal{}
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, s.cfg.Checks)
	)
	for i, r := range m.Recipients {
		if r.Status.Final() {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			status, err := s.status(ctx, m.AccountID, r.Address, r.Country, since)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case status == store.HLRAbsent:
				out[i] = Refusal{Status: status, Code: CodeAbsentSubscriber, Reason: "not sent: the HLR check found the subscriber absent (not reachable now)"}
			case status == store.HLRUnknown:
				out[i] = Refusal{Status: status, Code: CodeUnknownSubscriber, Reason: "not sent: the HLR check found the number unknown to its network"}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return out, nil
}

// Refusal is why the check before sending fails a recipient.
type Refusal struct {
	Status string // the HLR status: absent or unknown
	Code   int    // the recipient's statusErrorCode
	Reason string
}

// status is a recipient's HLR status for the check: a recent answer, or a
// new query asked at once — or the answer of the same check in progress
// for another message. A query the provider does not settle is recorded
// failed (refunded) and answers "" (unknown to the check).
func (s *Service) status(ctx context.Context, accountID, msisdn, country string, since time.Time) (string, error) {
	key := accountID + "/" + msisdn
	s.mu.Lock()
	if c, ok := s.checks[key]; ok {
		s.mu.Unlock()
		select {
		case <-c.done:
			return c.status, c.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	c := &check{done: make(chan struct{})}
	s.checks[key] = c
	s.mu.Unlock()
	c.status, c.err = s.lookUp(ctx, accountID, msisdn, country, since)
	s.mu.Lock()
	delete(s.checks, key)
	s.mu.Unlock()
	close(c.done)
	return c.status, c.err
}

// lookUp is status without the sharing.
func (s *Service) lookUp(ctx context.Context, accountID, msisdn, country string, since time.Time) (string, error) {
	prev, err := s.store.LatestHLR(ctx, accountID, msisdn, since, true)
	if err == nil && prev.Status != store.HLRFailed {
		return prev.Status, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	q, err := s.newQuery(ctx, accountID, msisdn, country, "", store.HLROriginPreSend)
	if err != nil {
		return "", err
	}
	if err := s.store.CreateHLR(ctx, q, false); err != nil {
		return "", err
	}
	res, err := s.ask(ctx, q, s.cfg.CheckTimeout)
	if err != nil {
		s.log.Warn("hlr: check before sending not settled; the recipient is sent", "provider", s.cfg.Provider.Name(), "id", q.ID, "err", err)
		res = Result{Status: store.HLRFailed, Details: Details{StatusDesc: "the HLR provider did not answer in time"}}
	}
	// The answer is recorded even when the request that asked is gone.
	if err := s.finish(context.WithoutCancel(ctx), q, res); err != nil {
		return "", err
	}
	if res.Status == store.HLRFailed {
		return "", nil
	}
	return res.Status, nil
}
