package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults of Config.
const (
	DefaultConcurrency = 16
	DefaultTimeout     = 10 * time.Second
	DefaultGrace       = 60 * time.Second
	DefaultReportAddr  = "127.0.0.1:0"
	// MaxSeconds bounds a run's per-second series (load and grace).
	MaxSeconds = 3600
	// verifyLimit bounds the messages read back through the API at the end.
	verifyLimit = 200
)

// Config is one run. Zero values mean the documented defaults.
type Config struct {
	// Label names the run in results; default the target's name.
	Label string
	// Target is the system under test (required).
	Target Target
	// Rate is the target request rate per second. The run is open-loop:
	// request i is due at start + i/Rate whether or not earlier ones were
	// answered, and its latency is measured from that due time, so a
	// system that falls behind shows it in the latency instead of slowing
	// the load down (no coordinated omission). 0 means closed-loop: each
	// of Concurrency workers sends as soon as its previous answer came.
	Rate float64
	// Concurrency bounds requests in flight; default 16.
	Concurrency int
	// Duration is how long requests are sent; 0 with Requests set: until
	// Requests have been sent. At least one of the two is needed.
	Duration time.Duration
	// Requests stops the run after this many requests (0: no cap).
	Requests int
	// Recipients per request; default 1.
	Recipients int
	// Mix weighs the kinds of message; default DefaultMix.
	Mix Mix
	// Timeout bounds one request; default 10 s.
	Timeout time.Duration
	// TrackDelivery asks for status reports at a local receiver and waits
	// up to Grace after the last request for every accepted recipient's
	// final report.
	TrackDelivery bool
	// ReportAddr is the receiver's loopback address; default 127.0.0.1:0.
	ReportAddr string
	// Grace is how long to wait for reports after sending; default 60 s.
	Grace time.Duration
	// Verify reads back, through the target's API when it has one, the
	// messages whose reports did not come (at most 200 messages).
	Verify bool
	// MaxTracked bounds the recipients tracked; default DefaultMaxTracked.
	MaxTracked int
	// AllowRemote permits a target that is not on a loopback address.
	AllowRemote bool
	// Seed makes the messages and numbers reproducible; 0: random.
	Seed uint64
	// Progress, when set, gets a line every ProgressEvery (default 5 s).
	Progress      io.Writer
	ProgressEvery time.Duration
	// StdHTTP sends requests and takes reports with net/http instead of
	// the lean HTTP/1.1 of wire.go (which costs the machine less CPU per
	// message; net/http is kept to compare the two).
	StdHTTP bool
}

// withDefaults fills in the documented defaults.
func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Recipients <= 0 {
		c.Recipients = 1
	}
	if c.Mix.total == 0 {
		c.Mix, _ = ParseMix(DefaultMix)
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.ReportAddr == "" {
		c.ReportAddr = DefaultReportAddr
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 5 * time.Second
	}
	if c.Seed == 0 {
		c.Seed = rand.Uint64()
	}
	if c.Label == "" && c.Target != nil {
		c.Label = c.Target.Name()
	}
	return c
}

// ConfigError is a Config that cannot work; it names the setting.
type ConfigError struct{ msg string }

func (e ConfigError) Error() string { return "config: " + e.msg }

// validate names the first setting that cannot work.
func (c Config) validate() error {
	if err := c.check(); err != nil {
		return ConfigError{err.Error()}
	}
	if !c.AllowRemote {
		if err := checkLoopback(c.Target.URL()); err != nil {
			return ConfigError{err.Error()}
		}
	}
	return nil
}

func (c Config) check() error {
	switch {
	case c.Target == nil:
		return errors.New("Target is required")
	case c.Rate < 0:
		return errors.New("Rate must be ≥ 0")
	case c.Duration <= 0 && c.Requests <= 0:
		return errors.New("Duration or Requests must be set")
	case c.Duration > MaxSeconds*time.Second:
		return fmt.Errorf("Duration must be at most %ds", MaxSeconds)
	case c.Recipients > 50:
		return errors.New("Recipients must be at most 50 (omnigate's limit per request)")
	}
	return nil
}

// checkLoopback refuses a URL that is not on a loopback address.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("target URL %q is not an absolute URL", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("target URL %q is not on a loopback address (use AllowRemote / --allow-remote to load another host)", raw)
}

// run is the state of one Run.
type run struct {
	cfg        Config
	client     *http.Client
	targetAddr string // host:port of the target, for the lean HTTP
	tracker    *tracker
	reportURL  string
	start      time.Time
	end        time.Time // no request is due at or after end
	next       atomic.Int64

	mu           sync.Mutex
	requests     *Histogram
	perSecond    []second
	sent         int
	ok           int
	recipients   int // accepted
	segments     int // accepted recipients × parts
	errs         map[string]int
	errTotal     int
	lastAnswer   time.Time
	stopReason   string
	kindsAccepts map[Kind]int
}

// second is one second of a run's time line.
type second struct {
	latency  *Histogram // requests answered in this second, from their due time
	accepted int        // recipients accepted
	errors   int
}

// maxErrorKinds bounds the distinct error kinds kept; others are "other".
const maxErrorKinds = 40

// Run sends the load described by cfg, waits for status reports, and
// returns what it measured. It stops early, with what it has, when ctx
// ends. The error is for a run that could not start or measure anything.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	seconds := MaxSeconds
	if cfg.Duration > 0 {
		seconds = min(int((cfg.Duration+cfg.Grace)/time.Second)+10, MaxSeconds)
	}
	r := &run{
		cfg: cfg, requests: NewHistogram(0), perSecond: make([]second, seconds),
		errs: map[string]int{}, kindsAccepts: map[Kind]int{},
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConns: cfg.Concurrency, MaxIdleConnsPerHost: cfg.Concurrency, MaxConnsPerHost: cfg.Concurrency,
			DisableCompression: true, IdleConnTimeout: 30 * time.Second,
			DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		}},
	}
	defer r.client.CloseIdleConnections()
	if u, err := url.Parse(cfg.Target.URL()); err != nil || u.Scheme != "http" {
		cfg.StdHTTP = true // the lean HTTP speaks plain http only
		r.cfg.StdHTTP = true
	} else {
		r.targetAddr = u.Host
		if u.Port() == "" {
			r.targetAddr = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	r.start = time.Now()
	r.end = r.start.Add(cfg.Duration)
	if cfg.Duration <= 0 {
		r.end = r.start.Add(MaxSeconds * time.Second)
	}
	if cfg.TrackDelivery {
		r.tracker = newTracker(r.start, cfg.MaxTracked, seconds)
		rc, err := startReceiver(cfg.ReportAddr, cfg.Target, r.tracker, cfg.StdHTTP)
		if err != nil {
			return nil, err
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			rc.stop(stopCtx)
		}()
		r.reportURL = rc.url
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(loadCtx, ctx, stopLoad, rand.New(rand.NewPCG(cfg.Seed, uint64(w))))
		}()
	}
	progressDone := r.progress(loadCtx, "sending")
	wg.Wait()
	stopLoad()
	<-progressDone
	loadEnd := time.Now()

	var drainEnd time.Time
	res := &Result{}
	if r.tracker != nil {
		r.awaitReports(ctx)
		drainEnd = time.Now()
		if v, ok := cfg.Target.(Verifier); ok && cfg.Verify {
			res.API = r.verify(ctx, v)
		}
	}
	r.fill(res, loadEnd, drainEnd)
	if ctx.Err() != nil && res.Stopped == "" {
		res.Stopped = "interrupted"
	}
	return res, nil
}

// worker sends requests until none is due before the end or load ends.
// Requests in flight finish unless runCtx (an interrupt) ends.
func (r *run) worker(load, runCtx context.Context, stopAll context.CancelFunc, rng *rand.Rand) {
	var conn *wireConn
	if !r.cfg.StdHTTP {
		conn = &wireConn{addr: r.targetAddr}
		defer conn.close()
	}
	for load.Err() == nil {
		i := r.next.Add(1) - 1
		if r.cfg.Requests > 0 && i >= int64(r.cfg.Requests) {
			return
		}
		due := time.Now()
		if r.cfg.Rate > 0 {
			due = r.start.Add(time.Duration(float64(i) * float64(time.Second) / r.cfg.Rate))
			if wait := time.Until(due); wait > 0 && due.Before(r.end) {
				t := time.NewTimer(wait)
				select {
				case <-load.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		}
		if !due.Before(r.end) {
			return
		}
		if err := r.send(runCtx, conn, rng, uint64(i)+1, due); err != nil {
			r.mu.Lock()
			if r.stopReason == "" {
				r.stopReason = err.Error()
			}
			r.mu.Unlock()
			stopAll()
			return
		}
	}
}

// send makes one request due at due. Its error stops the run.
// conn, when not nil, is the worker's lean HTTP connection.
func (r *run) send(ctx context.Context, conn *wireConn, rng *rand.Rand, rid uint64, due time.Time) error {
	m := NewMessage(rng, r.cfg.Mix.Pick(rng), r.cfg.Recipients)
	if r.tracker != nil {
		if err := r.tracker.add(rid, m.Recipients, due); err != nil {
			return err
		}
	}
	var a Answer
	if conn != nil {
		// The lean client needs no context or http.Request: a deadline
		// bounds the request, as the context below does net/http's.
		conn.out = r.cfg.Target.AppendRequest(conn.out[:0], m, rid, r.reportURL)
		status, body, err := conn.do(ctx, conn.out, time.Now().Add(r.cfg.Timeout), 1<<20)
		if err != nil {
			a.ErrKind = transportKind(err)
		} else {
			a = r.cfg.Target.ReadResponse(status, body, m)
		}
		r.answered(rid, m, due, a)
		return nil
	}
	reqCtx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := r.cfg.Target.NewRequest(reqCtx, m, rid, r.reportURL)
	if err != nil {
		return fmt.Errorf("making a request: %w", err)
	}
	resp, err := r.client.Do(req)
	if err == nil {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if rerr != nil {
			a.ErrKind = transportKind(rerr)
		} else {
			a = r.cfg.Target.ReadResponse(resp.StatusCode, body, m)
		}
	} else {
		a.ErrKind = transportKind(err)
	}
	r.answered(rid, m, due, a)
	return nil
}

// answered tracks and counts the answer to request rid.
func (r *run) answered(rid uint64, m Message, due time.Time, a Answer) {
	now := time.Now()
	if r.tracker != nil {
		r.tracker.answered(rid, m.Recipients, a)
	}
	r.record(now, now.Sub(due), m, a)
}

// record counts one answer.
func (r *run) record(now time.Time, latency time.Duration, m Message, a Answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent++
	r.requests.Record(latency)
	r.lastAnswer = now
	var sec *second
	if s := int(now.Sub(r.start) / time.Second); s >= 0 && s < len(r.perSecond) {
		sec = &r.perSecond[s]
		if sec.latency == nil {
			sec.latency = NewHistogram(5)
		}
		sec.latency.Record(latency)
	}
	if a.Accepted {
		r.ok++
		r.recipients += len(m.Recipients)
		r.segments += len(m.Recipients) * m.Parts
		r.kindsAccepts[m.Kind]++
		if sec != nil {
			sec.accepted += len(m.Recipients)
		}
		return
	}
	r.errTotal++
	if sec != nil {
		sec.errors++
	}
	kind := a.ErrKind
	if _, ok := r.errs[kind]; !ok && len(r.errs) >= maxErrorKinds {
		kind = "other"
	}
	r.errs[kind]++
}

// transportKind names a transport error without its addresses, so that
// equal failures count together.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "transport: timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "transport: connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "transport: connection reset"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "transport: connection closed (EOF)"
	case errors.Is(err, context.Canceled):
		return "transport: canceled"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return "transport: " + msg
}

// awaitReports waits until every accepted recipient has a final report,
// or Grace has passed, or ctx ends.
func (r *run) awaitReports(ctx context.Context) {
	deadline := time.NewTimer(r.cfg.Grace)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	progressCtx, stop := context.WithCancel(ctx)
	done := r.progress(progressCtx, "awaiting reports")
	defer func() { stop(); <-done }()
	for r.tracker.outstanding() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// progress writes a line every ProgressEvery until ctx ends; the channel
// is closed when it has stopped.
func (r *run) progress(ctx context.Context, phase string) <-chan struct{} {
	done := make(chan struct{})
	if r.cfg.Progress == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		t := time.NewTicker(r.cfg.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			r.mu.Lock()
			line := fmt.Sprintf("%s %s: %4.0fs requests=%d accepted=%d errors=%d", r.cfg.Label, phase,
				time.Since(r.start).Seconds(), r.sent, r.recipients, r.errTotal)
			r.mu.Unlock()
			if r.tracker != nil {
				r.tracker.mu.Lock()
				line += fmt.Sprintf(" delivered=%d", r.tracker.delivered)
				r.tracker.mu.Unlock()
			}
			fmt.Fprintln(r.cfg.Progress, line)
		}
	}()
	return done
}

// verify reads back messages whose reports did not come.
func (r *run) verify(ctx context.Context, v Verifier) *APICheck {
	check := &APICheck{Statuses: map[string]int{}}
	byRef, total := r.tracker.missing(verifyLimit)
	check.Unreported = total
	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for ref, recipients := range byRef {
		if ref == "" {
			continue
		}
		statuses, err := v.Statuses(vctx, r.client, ref)
		if err != nil {
			check.Errors++
			check.LastError = err.Error()
			continue
		}
		check.Messages++
		for _, rc := range recipients {
			st := statuses[rc]
			if st == "" {
				st = "(recipient not found)"
			}
			check.Statuses[st]++
			check.Recipients++
			if st == "delivered" {
				check.DeliveredUnreported++
			}
		}
	}
	if n, err := v.DeliveredMessages(vctx, r.client); err == nil {
		check.AccountDeliveredMessages = n
	} else {
		check.Errors++
		check.LastError = err.Error()
	}
	return check
}
