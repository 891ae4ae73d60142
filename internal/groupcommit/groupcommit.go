// Package groupcommit batches concurrent writes into shared transactions.
//
// One commit per request caps a database at its commit rate (an fsync each);
// many rows per commit are nearly free. A Committer lets each request hand in
// its items and wait: a flusher takes everything queued (up to a bound), writes
// it in one call, and answers every waiting request with the outcome. Under
// light load a batch is one request and nothing waits; under heavy load the
// queue that builds during one commit becomes the next batch.
package groupcommit

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/lifecycle"
)

// ErrStopped is returned by Submit after Stop.
var ErrStopped = errors.New("groupcommit: stopped")

// Config tunes a Committer. Zero values mean the documented defaults.
type Config struct {
	// MaxWeight bounds the summed weight (e.g. rows) of one batch; default 5000.
	MaxWeight int
	// Linger is how long a flusher waits for more items after the first one
	// when the batch is still small; default 0: take only what is queued.
	Linger time.Duration
	// LingerRate, when set, lets a flusher wait (Linger) only while items
	// have been coming at this rate or more: items a second over the last
	// full window of 100 ms, ended less than 200 ms ago. An idle or lightly
	// used committer (a test, a quiet hour) then never waits. A wait also
	// ends once no item has come for twice their mean interval at the
	// measured rate: the senders may all be waiting for this batch.
	LingerRate float64
	// LingerBelow, when set, lets a flusher wait only when it found fewer
	// items queued than this: under a heavy load the queue that builds
	// during one commit is batch enough, and waiting would only slow it.
	LingerBelow int
	// LingerIf, when set, is asked once what is queued has been taken (and
	// the other conditions are met) and again before each wait for one
	// more item: false writes the batch at once. It lets the caller wait
	// only while its own measure of the load says more items will come,
	// for example while some of those who submit items are still working
	// on one rather than all waiting for this batch.
	LingerIf func() bool
	// Flushers is how many batches may be written at once; default 1 (right
	// for SQLite's single writer, and measured best on PostgreSQL too: see
	// internal/app).
	Flushers int
	// QueueSize bounds waiting requests; Submit blocks when it is full
	// (back-pressure); default 4096.
	QueueSize int
	// Timeout bounds one flush; default 30 s.
	Timeout time.Duration
}

// Flush writes a batch; it must write all items or none.
type Flush[T any] func(ctx context.Context, items []T) error

// Committer batches items of type T.
type Committer[T any] struct {
	cfg   Config
	flush Flush[T]
	pace  pace
	in    chan *request[T]
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
	mu    sync.RWMutex
	done  bool
}

type request[T any] struct {
	item   T
	weight int
	result chan error
}

// New starts a Committer that writes with flush.
func New[T any](cfg Config, flush Flush[T]) *Committer[T] {
	if cfg.MaxWeight <= 0 {
		cfg.MaxWeight = 5000
	}
	if cfg.Flushers <= 0 {
		cfg.Flushers = 1
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	c := &Committer[T]{cfg: cfg, flush: flush, in: make(chan *request[T], cfg.QueueSize), stop: make(chan struct{})}
	for i := 0; i < cfg.Flushers; i++ {
		c.wg.Add(1)
		go c.run()
	}
	return c
}

// Submit queues item (of the given weight, at least 1) and waits until the
// batch holding it is written. A nil error means the item is committed.
func (c *Committer[T]) Submit(ctx context.Context, item T, weight int) error {
	r := &request[T]{item: item, weight: max(weight, 1), result: make(chan error, 1)}
	c.mu.RLock()
	if c.done {
		c.mu.RUnlock()
		return ErrStopped
	}
	select {
	case c.in <- r:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued the item may be written at any moment, so wait for the
	// outcome even if ctx ends: the caller must not report failure for an
	// item that was committed.
	return <-r.result
}

// Queued says how many items wait for a flusher.
func (c *Committer[T]) Queued() int { return len(c.in) }

// Stop refuses new items, writes those already queued, and waits for the
// flushers to finish or ctx to end.
func (c *Committer[T]) Stop(ctx context.Context) error {
	c.once.Do(func() {
		c.mu.Lock()
		c.done = true
		close(c.in)
		c.mu.Unlock()
	})
	return lifecycle.Wait(ctx, &c.wg)
}

func (c *Committer[T]) run() {
	defer c.wg.Done()
	batch := make([]*request[T], 0, 256)
	for first := range c.in {
		batch = append(batch[:0], first)
		batch = c.gather(batch, first.weight)
		if c.cfg.LingerRate > 0 {
			c.pace.took(len(batch), time.Now())
		}
		c.write(batch)
	}
}

// gather adds queued requests to batch until the weight bound, waiting up to
// Linger for more when configured.
func (c *Committer[T]) gather(batch []*request[T], weight int) []*request[T] {
	var deadline, quiet <-chan time.Time
	var gap time.Duration
	var quietT *time.Timer
	for weight < c.cfg.MaxWeight {
		select {
		case r, ok := <-c.in:
			if !ok {
				return batch
			}
			batch = append(batch, r)
			weight += r.weight
			continue
		default:
		}
		if deadline == nil {
			var wait bool
			if wait, gap = c.lingers(len(batch)); !wait {
				return batch
			}
			t := time.NewTimer(c.cfg.Linger)
			defer t.Stop()
			deadline = t.C
		} else if c.cfg.LingerIf != nil && !c.cfg.LingerIf() {
			return batch
		}
		if gap > 0 {
			// Stop waiting once no item has come for two of their usual
			// intervals: their senders may all be waiting for this batch.
			if quietT == nil {
				quietT = time.NewTimer(gap)
				defer quietT.Stop()
			} else {
				quietT.Reset(gap)
			}
			quiet = quietT.C
		}
		select {
		case r, ok := <-c.in:
			if !ok {
				return batch
			}
			batch = append(batch, r)
			weight += r.weight
		case <-deadline:
			return batch
		case <-quiet:
			return batch
		}
	}
	return batch
}

// lingers says whether to wait for more items before writing a batch of
// n items, all that were queued, and after how long without an item to
// stop waiting (0: only at Linger's end).
func (c *Committer[T]) lingers(n int) (bool, time.Duration) {
	if c.cfg.Linger <= 0 || c.cfg.LingerBelow > 0 && n >= c.cfg.LingerBelow {
		return false, 0
	}
	var gap time.Duration
	if c.cfg.LingerRate > 0 {
		r := c.pace.rate(time.Now())
		if r < c.cfg.LingerRate {
			return false, 0
		}
		if gap = time.Duration(2 * float64(time.Second) / r); gap >= c.cfg.Linger {
			gap = 0
		}
	}
	return c.cfg.LingerIf == nil || c.cfg.LingerIf(), gap
}

// paceWindow is how long pace counts items before it updates their rate.
const paceWindow = 100 * time.Millisecond

// pace follows how often items come (for LingerRate).
type pace struct {
	mu    sync.Mutex
	since time.Time // the current window's start (the last full one's end)
	items int       // items taken in the current window
	last  float64   // items a second in the last full window (0 before one)
}

// took notes n items taken at now.
func (p *pace) took(n int, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.since.IsZero() {
		p.since = now
	}
	p.items += n
	if d := now.Sub(p.since); d >= paceWindow {
		p.last = float64(p.items) / d.Seconds()
		p.since, p.items = now, 0
	}
}

// rate is the items a second of the last full window, or 0 when that
// window ended long enough ago that the load may have stopped.
func (p *pace) rate(now time.Time) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.since) >= 2*paceWindow {
		return 0
	}
	return p.last
}

// write flushes a batch; if the batch fails as a whole, each item is retried
// alone so that one bad item does not fail its neighbours.
func (c *Committer[T]) write(batch []*request[T]) {
	items := make([]T, len(batch))
	for i, r := range batch {
		items[i] = r.item
	}
	err := c.flushOnce(items)
	if err == nil || len(batch) == 1 {
		for _, r := range batch {
			r.result <- err
		}
		return
	}
	for i, r := range batch {
		r.result <- c.flushOnce(items[i : i+1])
	}
}

func (c *Committer[T]) flushOnce(items []T) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	defer cancel()
	return c.flush(ctx, items)
}
