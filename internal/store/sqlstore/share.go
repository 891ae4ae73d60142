package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Shared commits.
//
// On an engine with one writer (SQLite) write transactions take turns
// anyway, and each pays its own commit: a disk sync (synchronous=FULL) and
// the pages it dirtied written to the WAL, even when the transaction before
// it dirtied the same pages. Under load, the hot writers — accept batches,
// dispatch outcomes, carrier receipts, job leases — queue for the writer
// at the same moment; sharing runs everything queued in one transaction,
// each write in a savepoint of its own, and commits once. A write that
// fails is rolled back to its savepoint and fails alone; the others commit.
// Under light load a shared transaction holds one write and costs what a
// plain one does.

// maxShared bounds the writes of one shared transaction.
const maxShared = 64

// sharedTimeout bounds one shared transaction.
const sharedTimeout = 60 * time.Second

// errShareStopped answers writes queued after Close.
var errShareStopped = errors.New("store closed")

// txFunc is a write that may share its transaction. It gets a context to
// use for its statements: the caller's values without its cancellation, so
// that a caller that goes away cannot abort the transaction of others.
type txFunc func(ctx context.Context, tx *sql.Tx) error

type shareRequest struct {
	ctx    context.Context
	what   string
	f      txFunc
	result chan error
}

// sharer runs the shared transactions of a single-writer store.
type sharer struct {
	s    *Store
	in   chan *shareRequest
	mu   sync.RWMutex
	done bool
	wg   sync.WaitGroup
}

func newSharer(s *Store) *sharer {
	sh := &sharer{s: s, in: make(chan *shareRequest, 1024)}
	sh.wg.Add(1)
	go sh.run()
	return sh
}

// sharedTx runs f in a write transaction, shared with other writes queued at
// the same moment on a single-writer engine, or in one of its own elsewhere.
// f may run with other writes before it in the same transaction: it sees
// their changes, as it would have after their commits.
func (s *Store) sharedTx(ctx context.Context, what string, f txFunc) error {
	if s.share == nil {
		return s.inTx(ctx, what, func(tx *sql.Tx) error { return f(ctx, tx) })
	}
	return s.share.submit(ctx, what, f)
}

func (sh *sharer) submit(ctx context.Context, what string, f txFunc) error {
	r := &shareRequest{ctx: context.WithoutCancel(ctx), what: what, f: f, result: make(chan error, 1)}
	sh.mu.RLock()
	if sh.done {
		sh.mu.RUnlock()
		return fmt.Errorf("%s: %w", what, errShareStopped)
	}
	select {
	case sh.in <- r:
		sh.mu.RUnlock()
	case <-ctx.Done():
		sh.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued the write may run at any moment: wait for its outcome
	// even if ctx ends, so that a committed write is never reported failed.
	return <-r.result
}

// stop refuses new writes, runs those queued, and waits for them.
func (sh *sharer) stop() {
	sh.mu.Lock()
	if !sh.done {
		sh.done = true
		close(sh.in)
	}
	sh.mu.Unlock()
	sh.wg.Wait()
}

func (sh *sharer) run() {
	defer sh.wg.Done()
	batch := make([]*shareRequest, 0, maxShared)
	for first := range sh.in {
		batch = append(batch[:0], first)
	gather:
		for len(batch) < maxShared {
			select {
			case r, ok := <-sh.in:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		sh.write(batch)
		if sh.s.stmts.pending() {
			sh.s.stmts.prepare(context.Background())
		}
	}
}

// write runs a batch of writes in one transaction and answers each.
func (sh *sharer) write(batch []*shareRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	if len(batch) == 1 {
		r := batch[0]
		r.result <- sh.s.runTx(ctx, r.what, func(tx *sql.Tx) error { return r.f(r.ctx, tx) })
		return
	}
	errs := make([]error, len(batch))
	err := sh.s.runTx(ctx, "shared write", func(tx *sql.Tx) error {
		for i, r := range batch {
			if _, err := sh.s.txExec(ctx, tx, "SAVEPOINT shared"); err != nil {
				return err
			}
			if errs[i] = r.f(r.ctx, tx); errs[i] != nil {
				// Undo this write alone. If even that fails the transaction
				// is gone, and with it the writes before this one.
				if _, err := sh.s.txExec(ctx, tx, "ROLLBACK TO shared"); err != nil {
					return fmt.Errorf("undoing a failed write (%v): %w", errs[i], err)
				}
			}
			if _, err := sh.s.txExec(ctx, tx, "RELEASE shared"); err != nil {
				return err
			}
		}
		return nil
	})
	for i, r := range batch {
		switch {
		case errs[i] != nil:
			r.result <- errs[i]
		case err != nil:
			r.result <- fmt.Errorf("%s: %w", r.what, err)
		default:
			r.result <- nil
		}
	}
}
