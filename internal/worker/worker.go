// Package worker runs a pool that drains one kind of job from the durable
// queue: it leases due jobs in batches, runs a handler on each (concurrently,
// up to a bound), and commits the handlers' outcomes in shared transactions.
// The dispatcher (send jobs) and the webhook sender (report jobs) are pools.
// A job that failed is retried later, spaced by a Backoff.
package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/lifecycle"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
)

// Config tunes a Pool. Zero values mean the documented defaults.
type Config struct {
	// Kind is the job kind to drain (store.JobSend, store.JobReport …).
	Kind string
	// Batch is how many jobs one lease takes; default 100.
	Batch int
	// Concurrency bounds jobs in progress; default 2×Batch.
	Concurrency int
	// Lease hides a leased job from other workers; a job whose worker died
	// is due again after it. Default 2 minutes.
	Lease time.Duration
	// Poll is how often an idle pool looks for due jobs; Notify wakes it at
	// once. Default 250 ms.
	Poll time.Duration
	// Commit tunes how the jobs' outcomes are committed together
	// (groupcommit's defaults: one commit at a time, no waiting).
	Commit groupcommit.Config
	// Owner identifies this node in leases (see store.Lease).
	Owner string
	// Preload, when set, runs on each leased batch before its handlers
	// start, to read what they all need at once (see PreloadMessages).
	Preload func(ctx context.Context, jobs []*store.Job)
	// CommitRetry spaces out attempts to record a job's outcome when its
	// commit fails (the database is stopped, locked or unreachable): the
	// job has been done (a message sent), so running it again would do it
	// twice. Default 250 ms doubling to 5 s, at most a quarter of Lease.
	CommitRetry Backoff
	// CommitRetryFor bounds how long those attempts go on. Meanwhile the
	// job's lease is extended (once the database answers again) so that
	// no worker runs the job again; afterwards the attempts stop when the
	// lease ends, and the job runs again. Default 10 minutes.
	CommitRetryFor time.Duration
	// Metrics, when set, counts outcome commits retried, leases extended,
	// outcomes recovered and abandoned
	// (omnigate_outcome_commit_retries_total).
	Metrics *metrics.Metrics
}

// PreloadMessages is a Preload that reads the messages of a batch of jobs
// in a few queries and hands each job its own (store.Job.Message). Jobs
// whose message it could not read are left for their handler to read (and
// to handle the error as it would have).
func PreloadMessages(st MessageReader, log *slog.Logger) func(context.Context, []*store.Job) {
	return PreloadRecipients(st, log, nil)
}

// MessageReader reads the messages of a batch of jobs (store.Messages).
type MessageReader interface {
	GetMessages(context.Context, []store.MessageKey) (map[string]*message.Message, error)
}

// PreloadRecipients is PreloadMessages for jobs about some recipients of
// their message, such as status reports: recipients says which, and only
// those are read (store.MessageKey.Seqs), however many the message has.
// Where it is nil or gives nil for a job, every recipient is read.
func PreloadRecipients(st MessageReader, log *slog.Logger, recipients func(*store.Job) []int) func(context.Context, []*store.Job) {
	return func(ctx context.Context, jobs []*store.Job) {
		keys := make([]store.MessageKey, 0, len(jobs))
		for _, j := range jobs {
			if j.MessageID != "" {
				k := store.MessageKey{AccountID: j.AccountID, ID: j.MessageID}
				if recipients != nil {
					k.Seqs = recipients(j)
				}
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			return
		}
		msgs, err := st.GetMessages(ctx, keys)
		if err != nil {
			log.Warn("worker: reading the messages of a batch; each job reads its own", "err", err)
			return
		}
		for _, j := range jobs {
			j.Message = msgs[j.MessageID]
		}
	}
}

// Handler works on one job and says what became of it. It must not return
// nil. It should finish well within the lease.
type Handler func(ctx context.Context, j *store.Job) *store.Outcome

// Pool drains one kind of job.
type Pool struct {
	cfg     Config
	queue   store.Queue
	handle  Handler
	after   func([]*store.Outcome)
	log     *slog.Logger
	commits *groupcommit.Committer[*store.Outcome]

	wake     chan struct{}
	slots    chan struct{}
	handling atomic.Int64 // jobs whose handler has not returned
	draining atomic.Bool  // the last lease filled every slot it asked for
	stop     chan struct{}
	stopOnce sync.Once
	stopMu   sync.Mutex // orders Run against Stop
	start    sync.Once
	loopDone chan struct{}
	inFlight sync.WaitGroup
	// abandon is closed when Stop gives up waiting for jobs in progress:
	// outcomes still being retried are left to their leases.
	abandon     chan struct{}
	abandonOnce sync.Once
}

// New makes a pool; after, when set, is called with each batch of outcomes
// once it is committed (for metrics and for waking other pools).
func New(cfg Config, q store.Queue, handle Handler, after func([]*store.Outcome), log *slog.Logger) *Pool {
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2 * cfg.Batch
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.CommitRetry.Min <= 0 {
		cfg.CommitRetry.Min = 250 * time.Millisecond
	}
	if cfg.CommitRetry.Max <= 0 {
		cfg.CommitRetry.Max = 5 * time.Second
	}
	// Attempts come often enough to extend the lease before it ends.
	cfg.CommitRetry.Max = min(cfg.CommitRetry.Max, cfg.Lease/4)
	cfg.CommitRetry.Min = min(cfg.CommitRetry.Min, cfg.CommitRetry.Max)
	if cfg.CommitRetryFor <= 0 {
		cfg.CommitRetryFor = 10 * time.Minute
	}
	if after == nil {
		after = func([]*store.Outcome) {}
	}
	p := &Pool{
		cfg: cfg, queue: q, handle: handle, after: after, log: log,
		wake:     make(chan struct{}, 1),
		slots:    make(chan struct{}, cfg.Concurrency),
		stop:     make(chan struct{}),
		loopDone: make(chan struct{}),
		abandon:  make(chan struct{}),
	}
	commit := cfg.Commit
	if commit.Linger > 0 && commit.LingerIf == nil {
		// Wait for more outcomes only while some job is still being
		// handled (once every job in flight waits for this commit, none
		// can come) and no backlog is being drained (its jobs wait for
		// the slots this commit gives back).
		commit.LingerIf = func() bool { return p.handling.Load() > 0 && !p.draining.Load() }
	}
	p.commits = groupcommit.New(commit, func(ctx context.Context, outs []*store.Outcome) error {
		if err := q.Finish(ctx, outs); err != nil {
			return err
		}
		p.after(outs)
		return nil
	})
	return p
}

// Start runs the lease loop until Stop. Calling it again does nothing.
func (p *Pool) Start() { p.start.Do(func() { go p.loop() }) }

// Notify wakes the pool: jobs are due.
func (p *Pool) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Commit records an outcome that did not come from a leased job (a
// carrier's receipt), batched with the pool's own.
func (p *Pool) Commit(ctx context.Context, o *store.Outcome) error {
	return p.commits.Submit(ctx, o, len(o.Updates)+1)
}

// Handing jobs over in memory.
//
// A producer that creates jobs of the pool's kind on this node (the
// pipeline, accepting messages) can store them already leased to the pool
// and hand them over once committed, instead of leaving them for the pool
// to find: that saves the lease transaction and the read of what the jobs
// need. Reserve takes free slots first, so a handed job never waits in
// memory; a job whose node dies is due again when its lease ends, or at
// once when the node starts again (store.Queue.ReleaseLeases).

// Reserve takes up to n free slots without waiting, for jobs to be handed
// over with Run, and says how many it took and the lease (owner and
// length) to store those jobs with. Slots not used must be given back with
// Unreserve.
func (p *Pool) Reserve(n int) (taken int, owner string, lease time.Duration) {
	select {
	case <-p.stop:
		return 0, p.cfg.Owner, p.cfg.Lease
	default:
	}
	return p.fill(n), p.cfg.Owner, p.cfg.Lease
}

// Unreserve gives back n reserved slots.
func (p *Pool) Unreserve(n int) {
	for range n {
		<-p.slots
	}
}

// takeSlots takes n slots, waiting for them; after Stop it takes them
// anyway (the channel has room once the jobs in flight finish).
func (p *Pool) takeSlots(n int) {
	for range n {
		p.slots <- struct{}{}
	}
}

// Run runs jobs stored leased to this pool, one reserved slot each, first
// reading (Preload) the messages of those that do not carry theirs. After
// Stop it runs nothing: the jobs wait for their lease to end.
func (p *Pool) Run(jobs []*store.Job) {
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	select {
	case <-p.stop:
		p.Unreserve(len(jobs))
		return
	default:
	}
	p.inFlight.Add(len(jobs))
	var bare []*store.Job // without their message, which Preload reads
	if p.cfg.Preload != nil {
		for _, j := range jobs {
			if j.Message == nil && j.MessageID != "" {
				bare = append(bare, j)
			}
		}
	}
	if len(bare) == 0 {
		for _, j := range jobs {
			go p.run(j)
		}
		return
	}
	// Read them on a goroutine of their own: the caller (a commit) should
	// not wait for it.
	go func() {
		p.cfg.Preload(context.Background(), bare)
		for _, j := range jobs {
			go p.run(j)
		}
	}()
}

// Stop stops leasing, waits for jobs in progress and commits their outcomes,
// or gives up when ctx ends (unfinished jobs run again when their lease
// expires).
func (p *Pool) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() {
		p.stopMu.Lock()
		close(p.stop)
		p.stopMu.Unlock()
	})
	// A pool that never started has no loop to wait for.
	p.start.Do(func() { close(p.loopDone) })
	// Once the loop has ended no job starts, so the wait for those in
	// progress follows it.
	if err := lifecycle.WaitDone(ctx, p.loopDone); err != nil {
		p.abandonOnce.Do(func() { close(p.abandon) })
		return err
	}
	if err := lifecycle.Wait(ctx, &p.inFlight); err != nil {
		p.abandonOnce.Do(func() { close(p.abandon) })
		return err
	}
	return p.commits.Stop(ctx)
}

func (p *Pool) loop() {
	defer close(p.loopDone)
	timer := time.NewTimer(p.cfg.Poll)
	defer timer.Stop()
	for {
		// Take one slot, waiting while the pool is full, then every free one
		// up to a batch.
		select {
		case p.slots <- struct{}{}:
		case <-p.stop:
			return
		}
		n := 1 + p.fill(p.cfg.Batch-1)
		if p.draining.Load() && n < p.cfg.Batch/4 {
			// The pool is draining a backlog and few slots are free: wait a
			// moment for more, so that leases (each a write transaction)
			// come in batches rather than one job at a time.
			n += p.gather(p.cfg.Batch/4-n, gatherWait)
			n += p.fill(p.cfg.Batch - n)
		}
		jobs, err := p.queue.LeaseJobs(context.Background(), store.Lease{Kind: p.cfg.Kind, N: n, For: p.cfg.Lease, Owner: p.cfg.Owner})
		if err != nil {
			p.log.Error("worker: leasing jobs", "kind", p.cfg.Kind, "err", err)
		}
		for range n - len(jobs) {
			<-p.slots
		}
		if extra := len(jobs) - n; extra > 0 {
			// A store must not lease more than asked; should one, every job
			// still holds a slot, or the extra ones would give back slots
			// nobody took and the pool would stop (each release waiting for
			// a take that never comes).
			p.log.Error("worker: the store leased more jobs than asked", "kind", p.cfg.Kind, "asked", n, "got", len(jobs))
			p.takeSlots(extra)
		}
		if p.cfg.Preload != nil && len(jobs) > 0 {
			p.cfg.Preload(context.Background(), jobs)
		}
		for _, j := range jobs {
			p.inFlight.Add(1)
			go p.run(j)
		}
		busy := err == nil && len(jobs) == n
		p.draining.Store(busy)
		if busy {
			continue // more may be due right now
		}
		timer.Reset(p.cfg.Poll)
		select {
		case <-p.stop:
			return
		case <-p.wake:
		case <-timer.C:
		}
	}
}

// gatherWait bounds how long a busy pool waits to lease a bigger batch.
const gatherWait = 5 * time.Millisecond

// fill takes up to max free slots without waiting and says how many.
func (p *Pool) fill(max int) int {
	n := 0
	for n < max {
		select {
		case p.slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

// gather takes up to max slots, waiting at most d for them to free up, and
// says how many it took.
func (p *Pool) gather(max int, d time.Duration) int {
	t := time.NewTimer(d)
	defer t.Stop()
	n := 0
	for n < max {
		select {
		case p.slots <- struct{}{}:
			n++
		case <-t.C:
			return n
		case <-p.stop:
			return n
		}
	}
	return n
}

// JobMessage is the job's message: the one PreloadMessages handed it, or
// else read now.
func JobMessage(ctx context.Context, st interface {
	GetMessage(ctx context.Context, accountID, id string) (*message.Message, error)
}, j *store.Job) (*message.Message, error) {
	if j.Message != nil {
		return j.Message, nil
	}
	return st.GetMessage(ctx, j.AccountID, j.MessageID)
}

func (p *Pool) run(j *store.Job) {
	defer func() { <-p.slots; p.inFlight.Done() }()
	p.handling.Add(1)
	o := p.handle(context.Background(), j)
	p.handling.Add(-1)
	o.JobID = j.ID
	p.record(j, o)
}

// record commits a job's outcome. A commit that fails is tried again,
// spaced by CommitRetry, for as long as the job's lease holds: the job has
// been done, and if its lease ended it would run again (a message sent
// twice). While it waits the lease is extended, for up to CommitRetryFor.
// It gives up, and logs it, only when the lease would end before the next
// attempt, or when Stop gives up waiting.
func (p *Pool) record(j *store.Job, o *store.Outcome) {
	ctx := context.Background()
	held := j.RunAt // when the lease ends: LeaseJobs and hand-overs set it
	var first time.Time
	for attempt := 1; ; attempt++ {
		err := p.Commit(ctx, o)
		if err == nil {
			if attempt > 1 {
				p.count("recovered")
				p.log.Info("worker: outcome recorded after the database failed", "kind", p.cfg.Kind, "job", j.ID, "attempts", attempt, "after", time.Since(first).Round(time.Millisecond))
			}
			return
		}
		now := time.Now()
		if attempt == 1 {
			first = now
		}
		if errors.Is(err, groupcommit.ErrStopped) {
			p.abandoned(j, err, "the pool has stopped")
			return
		}
		if held.Sub(now) < p.cfg.Lease/2 && now.Sub(first) < p.cfg.CommitRetryFor {
			if ids, xerr := p.queue.ExtendLeases(ctx, p.cfg.Owner, []*store.Job{j}, now.Add(p.cfg.Lease)); xerr == nil && len(ids) == 1 {
				held = now.Add(p.cfg.Lease)
				p.count("extended")
			}
		}
		wait := p.cfg.CommitRetry.Delay(attempt)
		if !now.Add(wait).Before(held) {
			p.abandoned(j, err, "its lease ends before the next attempt")
			return
		}
		p.count("retry")
		if attempt == 1 {
			p.log.Warn("worker: recording an outcome failed; retrying while the job's lease holds", "kind", p.cfg.Kind, "job", j.ID,
				"lease_ends", held.UTC().Format(time.RFC3339), "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-p.abandon:
			t.Stop()
			p.abandoned(j, err, "the pool was stopped before the database came back")
			return
		}
	}
}

// abandoned logs an outcome given up: its job runs again when its lease
// ends.
func (p *Pool) abandoned(j *store.Job, err error, why string) {
	p.count("abandoned")
	p.log.Error("worker: outcome not recorded; the job runs again when its lease ends", "kind", p.cfg.Kind, "job", j.ID, "why", why, "err", err)
}

func (p *Pool) count(result string) {
	if p.cfg.Metrics != nil {
		p.cfg.Metrics.OutcomeCommitRetries.WithLabelValues(p.cfg.Kind, result).Inc()
	}
}
