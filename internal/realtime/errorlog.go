package realtime

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/lifecycle"
	"github.com/omnigate/omnigate/internal/store"
)

// errorLog writes connection errors to the store in batches, off the
// connections' goroutines. Entries beyond the queue are dropped (and
// counted): a flood of bad clients must not slow the good ones.
type errorLog struct {
	st      store.RealtimeErrorLog
	every   time.Duration
	log     *slog.Logger
	ch      chan store.RealtimeError
	dropped atomic.Int64

	startOnce sync.Once
	stopOnce  sync.Once
	quit      chan struct{}
	done      chan struct{}
}

func newErrorLog(st store.RealtimeErrorLog, queue int, every time.Duration, log *slog.Logger) *errorLog {
	return &errorLog{st: st, every: every, log: log, ch: make(chan store.RealtimeError, queue),
		quit: make(chan struct{}), done: make(chan struct{})}
}

func (l *errorLog) add(e store.RealtimeError) {
	select {
	case l.ch <- e:
	default:
		l.dropped.Add(1)
	}
}

func (l *errorLog) start() { l.startOnce.Do(func() { go l.run() }) }

func (l *errorLog) run() {
	defer close(l.done)
	t := time.NewTicker(l.every)
	defer t.Stop()
	var batch []store.RealtimeError
	for {
		select {
		case e := <-l.ch:
			batch = append(batch, e)
			if len(batch) < store.RealtimeErrorsPerApp {
				continue
			}
		case <-t.C:
		case <-l.quit:
			for {
				select {
				case e := <-l.ch:
					batch = append(batch, e)
					continue
				default:
				}
				break
			}
			l.write(batch)
			return
		}
		l.write(batch)
		batch = batch[:0]
	}
}

func (l *errorLog) write(batch []store.RealtimeError) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.st.AddRealtimeErrors(ctx, batch); err != nil {
		l.log.Error("realtime: writing the error log", "entries", len(batch), "err", err)
	}
}

// stop writes what is queued and ends, or gives up when ctx ends.
func (l *errorLog) stop(ctx context.Context) error {
	l.stopOnce.Do(func() { close(l.quit) })
	l.startOnce.Do(func() { close(l.done) })
	return lifecycle.WaitDone(ctx, l.done)
}
