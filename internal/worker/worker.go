// Package worker runs a pool that drains one kind of job from the durable
// queue: it leases due jobs in batches, runs a handler on each (concurrently,
// up to a bound), and commits the handlers' outcomes in shared transactions.
// The dispatcher (send jobs) and the webhook sender (report jobs) are pools.
// A job that failed is retried later, spaced by a Backoff.
package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/lifecycle"
	"github.com/omnigate/omnigate/internal/message"
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
	// Flushers is the number of outcome commits that may run at once;
	// default 1.
	Flushers int
	// Owner identifies this node in leases (see store.Lease).
	Owner string
	// Preload, when set, runs on each leased batch before its handlers
	// start, to read what they all need at once (see PreloadMessages).
	Preload func(ctx context.Context, jobs []*store.Job)
}

// PreloadMessages is a Preload that reads the messages of a batch of jobs
// in a few queries and hands each job its own (store.Job.Message). Jobs
// whose message it could not read are left for their handler to read (and
// to handle the error as it would have).
func PreloadMessages(st interface {
	GetMessages(context.Context, []store.MessageKey) (map[string]*message.Message, error)
}, log *slog.Logger) func(context.Context, []*store.Job) {
	return func(ctx context.Context, jobs []*store.Job) {
		keys := make([]store.MessageKey, 0, len(jobs))
		for _, j := range jobs {
			if j.MessageID != "" {
				keys = append(keys, store.MessageKey{AccountID: j.AccountID, ID: j.MessageID})
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
	stop     chan struct{}
	stopOnce sync.Once
	stopMu   sync.Mutex // orders Run against Stop
	start    sync.Once
	loopDone chan struct{}
	inFlight sync.WaitGroup
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
	if after == nil {
		after = func([]*store.Outcome) {}
	}
	p := &Pool{
		cfg: cfg, queue: q, handle: handle, after: after, log: log,
		wake:     make(chan struct{}, 1),
		slots:    make(chan struct{}, cfg.Concurrency),
		stop:     make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	p.commits = groupcommit.New(groupcommit.Config{Flushers: cfg.Flushers}, func(ctx context.Context, outs []*store.Outcome) error {
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

// Run runs jobs stored leased to this pool, one reserved slot each. After
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
	for _, j := range jobs {
		p.inFlight.Add(1)
		go p.run(j)
	}
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
		return err
	}
	if err := lifecycle.Wait(ctx, &p.inFlight); err != nil {
		return err
	}
	return p.commits.Stop(ctx)
}

func (p *Pool) loop() {
	defer close(p.loopDone)
	timer := time.NewTimer(p.cfg.Poll)
	defer timer.Stop()
	busy := false // the last lease filled every slot it asked for
	for {
		// Take one slot, waiting while the pool is full, then every free one
		// up to a batch.
		select {
		case p.slots <- struct{}{}:
		case <-p.stop:
			return
		}
		n := 1 + p.fill(p.cfg.Batch-1)
		if busy && n < p.cfg.Batch/4 {
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
		if p.cfg.Preload != nil && len(jobs) > 0 {
			p.cfg.Preload(context.Background(), jobs)
		}
		for _, j := range jobs {
			p.inFlight.Add(1)
			go p.run(j)
		}
		busy = err == nil && len(jobs) == n
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
	ctx := context.Background()
	o := p.handle(ctx, j)
	o.JobID = j.ID
	if err := p.Commit(ctx, o); err != nil {
		// The lease will expire and the job will run again.
		p.log.Error("worker: recording outcome", "kind", p.cfg.Kind, "job", j.ID, "err", err)
	}
}
