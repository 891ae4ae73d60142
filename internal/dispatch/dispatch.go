// Package dispatch moves accepted messages out of the queue and into
// connectors. Workers lease due send jobs, submit each pending recipient to
// the connector the Router picks, and record the outcome — statuses,
// retries, status-report jobs — through one group-committed transaction per
// batch. Scheduled messages become due at their time; messages whose validity
// passes before they are sent end as expired; "try later" answers are retried
// with exponential backoff and jitter. Providers' later reports (receipts)
// come back through channel.Receiver, not through here.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/worker"
)

// Config tunes a Dispatcher. Zero values mean the documented defaults.
type Config struct {
	// Pool tunes leasing (batch, lease, poll, concurrency); its Kind is set
	// to store.JobSend.
	Pool worker.Config
	// Concurrency bounds connector calls in flight; default 64.
	Concurrency int
	// SendTimeout bounds one connector call; default 30 seconds.
	SendTimeout time.Duration
	// Retry spaces out retries; default 2 s doubling to 10 minutes.
	Retry worker.Backoff
	// MaxAge is how long a message without validity is retried before it
	// expires; default message.DefaultValidity (48 hours), which is also
	// how long a recipient handed to a carrier waits for its receipt.
	MaxAge time.Duration
	// Suspended says whether a connector is suspended (its provider
	// account is gone) and why; a suspended connector is skipped as if it
	// had refused the route. nil: none is.
	Suspended func(connector string) (reason string, code int, ok bool)
	// Suspend is told when a connector answered channel.SuspendError for
	// a message (it suspends the connector and tells the account). nil:
	// nobody is told.
	Suspend func(ctx context.Context, connector string, m *message.Message, e *channel.SuspendError)
	// Elsewhere says whether every bind of a connector is held by another
	// node (internal/connectors shares binds out between nodes): a job
	// that needs it goes back to the queue, due after HandBack, for a
	// node that holds one. nil: never.
	Elsewhere func(connector string) bool
	// HandBack is how long a job handed back waits, so that a node that
	// cannot send it does not lease it again at once; default 100 ms
	// (jittered up to twice).
	HandBack time.Duration
}

// ErrElsewhere is the retry reason of a job handed back to the queue for
// a node that holds the connector's binds.
var ErrElsewhere = errors.New("another node holds the connector's binds")

func (c *Config) setDefaults() {
	c.Pool.Kind = store.JobSend
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 30 * time.Second
	}
	if c.Retry.Min <= 0 {
		c.Retry.Min = 2 * time.Second
	}
	if c.Retry.Max <= 0 {
		c.Retry.Max = 10 * time.Minute
	}
	if c.MaxAge <= 0 {
		c.MaxAge = message.DefaultValidity
	}
	if c.HandBack <= 0 {
		c.HandBack = 100 * time.Millisecond
	}
}

// Dispatcher sends queued messages.
type Dispatcher struct {
	cfg       Config
	store     store.Store
	router    Router
	accounts  *store.AccountCache
	log       *slog.Logger
	metrics   *metrics.Metrics
	onReports func()
	pool      *worker.Pool
	sends     chan struct{} // semaphore over connector calls
}

// New makes a Dispatcher; call Start to run it. onReports, when set, is
// called after a commit that enqueued status reports, to wake their sender.
func New(cfg Config, st store.Store, router Router, accounts *store.AccountCache, m *metrics.Metrics, onReports func(), log *slog.Logger) *Dispatcher {
	cfg.setDefaults()
	if onReports == nil {
		onReports = func() {}
	}
	d := &Dispatcher{
		cfg: cfg, store: st, router: router, accounts: accounts, log: log, metrics: m, onReports: onReports,
		sends: make(chan struct{}, cfg.Concurrency),
	}
	if cfg.Pool.Preload == nil {
		cfg.Pool.Preload = worker.PreloadMessages(st, log)
	}
	if cfg.Pool.Metrics == nil {
		cfg.Pool.Metrics = m
	}
	d.pool = worker.New(cfg.Pool, st, d.process, d.committed, log)
	return d
}

// Start runs the dispatcher until Stop.
func (d *Dispatcher) Start() { d.pool.Start() }

// Notify wakes the dispatcher: new messages are due.
func (d *Dispatcher) Notify() { d.pool.Notify() }

// Reserve, Unreserve and Run take send jobs stored leased to this node's
// dispatcher and handed over in memory (pipeline.Handoff; see
// worker.Pool.Reserve).
func (d *Dispatcher) Reserve(n int) (int, string, time.Duration) { return d.pool.Reserve(n) }

// Unreserve gives back slots taken by Reserve and not used.
func (d *Dispatcher) Unreserve(n int) { d.pool.Unreserve(n) }

// Run runs jobs handed over in memory.
func (d *Dispatcher) Run(jobs []*store.Job) { d.pool.Run(jobs) }

// Stop stops taking jobs, lets those in progress finish and commits their
// outcomes, or gives up when ctx ends (their leases then expire and the jobs
// run again after a restart).
func (d *Dispatcher) Stop(ctx context.Context) error { return d.pool.Stop(ctx) }

// process sends a message's pending recipients and says what became of them.
func (d *Dispatcher) process(ctx context.Context, j *store.Job) *store.Outcome {
	out := &store.Outcome{}
	m, err := worker.JobMessage(ctx, d.store, j)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Cancelled or erased: nothing left to send.
	case err != nil:
		d.log.Error("dispatch: reading message", "message", j.MessageID, "err", err)
		out.RetryAt, out.LastError = time.Now().Add(d.cfg.Retry.Delay(j.Attempts)), err.Error()
	default:
		d.send(ctx, j, m, out)
	}
	return out
}

func (d *Dispatcher) send(ctx context.Context, j *store.Job, m *message.Message, out *store.Outcome) {
	now := time.Now().UTC()
	notify := m.ReportURL != ""
	if !notify {
		if a, err := d.accounts.Get(ctx, m.AccountID); err == nil {
			notify = a.ReportURL != ""
		}
	}
	expires := m.ExpiresAt()
	if expires.IsZero() {
		expires = m.SendAt().Add(d.cfg.MaxAge)
	}
	var pending []*message.Recipient
	for i := range m.Recipients {
		r := &m.Recipients[i]
		if (r.Status == message.Scheduled || r.Status == message.Sent) && r.Connector == "" {
			pending = append(pending, r)
		}
	}
	update := func(r *message.Recipient, st message.Status, code int, reason, connector string) store.StatusUpdate {
		return store.StatusUpdate{AccountID: m.AccountID, MessageID: m.ID, Seq: r.Seq, Status: st, ErrorCode: code,
			Reason: reason, At: time.Now().UTC(), Connector: connector, Channel: m.Channel, Notify: notify,
			ReportHandoff: m.Details.Report == message.ReportConversations}
	}
	if !now.Before(expires) {
		for _, r := range pending {
			out.Updates = append(out.Updates, update(r, message.Expired, 0, "", ""))
		}
		return
	}
	results := make([]store.StatusUpdate, len(pending))
	retry := make([]error, len(pending))
	var wg sync.WaitGroup
	for i, r := range pending {
		d.sends <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-d.sends; wg.Done() }()
			results[i], retry[i] = d.sendOne(ctx, m, r, update)
		}()
	}
	wg.Wait()
	var lastErr error
	handBack := true // every retry is for a node with the binds
	for i := range pending {
		if retry[i] != nil {
			lastErr = retry[i]
			handBack = handBack && errors.Is(retry[i], ErrElsewhere)
			continue
		}
		out.Updates = append(out.Updates, results[i])
	}
	// Waits count from the answers, not from the start of the attempt: a
	// provider that took longer to answer than the backoff would otherwise
	// be tried again at once.
	answered := time.Now().UTC()
	if lastErr != nil && handBack {
		out.RetryAt, out.LastError, out.HandedBack = answered.Add(d.cfg.HandBack+rand.N(d.cfg.HandBack)), lastErr.Error(), true
		d.metrics.SendErrors.WithLabelValues("", "elsewhere").Inc()
		return
	}
	if lastErr != nil {
		at := answered.Add(d.cfg.Retry.Delay(j.Attempts))
		var te *channel.TemporaryError
		if errors.As(lastErr, &te) && te.After > 0 {
			at = answered.Add(max(te.After, at.Sub(answered)))
		}
		if at.After(expires) {
			at = expires // come back to expire what is left
		}
		out.RetryAt, out.LastError = at, lastErr.Error()
	}
}

// sendOne submits one recipient, trying the route's connectors in order;
// a non-nil error means "retry later".
func (d *Dispatcher) sendOne(ctx context.Context, m *message.Message, r *message.Recipient,
	update func(*message.Recipient, message.Status, int, string, string) store.StatusUpdate) (store.StatusUpdate, error) {
	conns, err := d.router.Route(m, r)
	if err != nil {
		return store.StatusUpdate{}, err
	}
	var lastErr error
	var routeErr *channel.RouteError
	allRefused := true // every connector refused the route
	for _, conn := range conns {
		var res channel.Result
		var err error
		if reason, code, ok := d.suspended(conn.Name()); ok {
			err = &channel.RouteError{Code: code, Reason: suspendedReason(conn.Name(), reason)}
		} else if conn.Up() == 0 && d.cfg.Elsewhere != nil && d.cfg.Elsewhere(conn.Name()) {
			err = &channel.TemporaryError{Reason: "connector " + conn.Name(), Err: fmt.Errorf("%w (%w)", ErrElsewhere, channel.ErrUnavailable)}
		} else {
			res, err = d.submit(ctx, conn, m, r)
		}
		var se *channel.SuspendError
		if errors.As(err, &se) {
			d.log.Warn("dispatch: the provider says the connector's account is gone; suspending it", "connector", conn.Name(), "code", se.Code, "reason", se.Reason)
			if d.cfg.Suspend != nil {
				d.cfg.Suspend(ctx, conn.Name(), m, se)
			}
			err = &channel.RouteError{Code: se.Code, Reason: suspendedReason(conn.Name(), se.Reason)}
		}
		if err == nil {
			st := res.Status
			if !st.Valid() || st == message.Scheduled {
				st = message.Sent
			}
			d.metrics.Statuses.WithLabelValues(m.Channel, conn.Name(), string(message.Sent)).Inc()
			u := update(r, st, 0, "", conn.Name())
			u.Parts, u.PartsEchoed = res.PartIDs, res.EchoesMessageID
			return u, nil
		}
		var pe *channel.PermanentError
		if errors.As(err, &pe) {
			d.metrics.SendErrors.WithLabelValues(conn.Name(), "permanent").Inc()
			return update(r, message.DeliveryFailed, pe.Code, pe.Reason, conn.Name()), nil
		}
		if errors.As(err, &routeErr) {
			d.metrics.SendErrors.WithLabelValues(conn.Name(), "route").Inc()
		} else {
			allRefused = false
			d.metrics.SendErrors.WithLabelValues(conn.Name(), "temporary").Inc()
		}
		lastErr = err
		if !channel.ShouldFailOver(err) {
			break
		}
	}
	if allRefused && routeErr != nil {
		// No connector on the route can reach the destination.
		return update(r, message.DeliveryFailed, routeErr.Code, routeErr.Reason, ""), nil
	}
	return store.StatusUpdate{}, lastErr
}

// suspended looks a connector up in Config.Suspended.
func (d *Dispatcher) suspended(name string) (string, int, bool) {
	if d.cfg.Suspended == nil {
		return "", 0, false
	}
	return d.cfg.Suspended(name)
}

// suspendedReason is the statusReason of a recipient no connector could
// take because one is suspended.
func suspendedReason(connector, why string) string {
	return "connector " + connector + " is suspended (its provider account is gone: " + why +
		"); an operator reactivates it with `omnigate connector activate --name " + connector + "`"
}

func (d *Dispatcher) submit(ctx context.Context, conn channel.Connector, m *message.Message, r *message.Recipient) (channel.Result, error) {
	sctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	defer cancel()
	return conn.Send(sctx, channel.Submission{Message: m, Recipient: r})
}

// committed counts the final statuses a commit applied and wakes the
// report sender when it enqueued reports.
func (d *Dispatcher) committed(outs []*store.Outcome) {
	rows, reports := 0, false
	for _, o := range outs {
		rows += len(o.Updates) + 1
		for _, us := range [...][]store.StatusUpdate{o.Updates, o.Early} {
			for _, u := range us {
				if !u.Applied {
					continue
				}
				reports = reports || u.Notify
				if u.Status.Final() {
					d.metrics.Statuses.WithLabelValues(u.Channel, u.Connector, string(u.Status)).Inc()
				}
			}
		}
	}
	d.metrics.CommitBatch.WithLabelValues("outcomes").Observe(float64(rows))
	if reports {
		d.onReports()
	}
}
