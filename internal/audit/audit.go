// Package audit writes the audit trail — who authenticated, who failed to,
// who was held back for failing too often, and what the operator did — to
// the process's log, off the request path.
//
// A request hands its record to a bounded queue and goes on; one goroutine
// writes the queue to the log. When the log cannot keep up and the queue
// is full, records are dropped and counted (Dropped), never waited for:
// a slow log must not slow the API, nor be a way to stall it.
//
// Every record is a log line with the message "audit" and an "event"
// attribute (auth.ok, auth.failed, auth.limited, admin.action,
// key.revoked …); docs/operations.md lists them. Secrets never go in: keys
// are named by their id, credentials by a fingerprint.
//
//	trail := audit.New(audit.Config{}, log.Handler())
//	trail.Start()
//	defer trail.Stop(ctx)
//	trail.Record(slog.LevelWarn, "auth.failed", slog.String("door", "api"), …)
package audit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Config tunes a Trail. Zero values mean the defaults.
type Config struct {
	// Queue bounds the records waiting to be written; default 4096.
	Queue int
}

// Trail is the audit trail. Its methods are safe for concurrent use, and
// on a nil *Trail do nothing.
type Trail struct {
	h       slog.Handler
	queue   chan slog.Record
	dropped atomic.Int64

	mu      sync.RWMutex // held to send on queue (read) and to close it
	stopped bool
	start   sync.Once
	done    chan struct{}
}

// New makes a trail writing to h; Start starts writing.
func New(cfg Config, h slog.Handler) *Trail {
	if cfg.Queue <= 0 {
		cfg.Queue = 4096
	}
	return &Trail{h: h, queue: make(chan slog.Record, cfg.Queue), done: make(chan struct{})}
}

// Record queues one record: the event and its attributes, at level. It
// never blocks; a record the log's level leaves out costs nothing.
func (t *Trail) Record(level slog.Level, event string, attrs ...slog.Attr) {
	if t == nil || !t.h.Enabled(context.Background(), level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, "audit", 0)
	r.AddAttrs(slog.String("event", event))
	r.AddAttrs(attrs...)
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.stopped {
		t.dropped.Add(1)
		return
	}
	select {
	case t.queue <- r:
	default:
		t.dropped.Add(1)
	}
}

// Dropped is how many records were dropped because the queue was full.
func (t *Trail) Dropped() int64 {
	if t == nil {
		return 0
	}
	return t.dropped.Load()
}

// Start starts writing; records queued before are written first.
func (t *Trail) Start() {
	if t == nil {
		return
	}
	t.start.Do(func() {
		go func() {
			defer close(t.done)
			for r := range t.queue {
				t.h.Handle(context.Background(), r)
			}
		}()
	})
}

// Stop writes what is queued and stops, within ctx (starting to write if
// Start was not called). Records after Stop are dropped.
func (t *Trail) Stop(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.Start()
	t.mu.Lock()
	if !t.stopped {
		t.stopped = true
		close(t.queue)
	}
	t.mu.Unlock()
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
