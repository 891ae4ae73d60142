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
	// LingerIf, when set, is asked before each wait of Linger, once what
	// is queued has been taken: false writes the batch at once. It lets
	// the caller wait only when its load says more items will come soon.
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
		c.write(batch)
	}
}

// gather adds queued requests to batch until the weight bound, waiting up to
// Linger for more when configured.
func (c *Committer[T]) gather(batch []*request[T], weight int) []*request[T] {
	var deadline <-chan time.Time
	asked := false // whether to linger has been decided
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
		if !asked {
			asked = true
			if c.cfg.Linger > 0 && (c.cfg.LingerIf == nil || c.cfg.LingerIf()) {
				t := time.NewTimer(c.cfg.Linger)
				defer t.Stop()
				deadline = t.C
			}
		}
		if deadline == nil {
			return batch
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
		}
	}
	return batch
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
