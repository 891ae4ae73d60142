package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/groupcommit"
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

// txFunc is a write that may share its transaction. It gets a context to
// use for its statements: the caller's values without its cancellation, so
// that a caller that goes away cannot abort the transaction of others.
type txFunc func(ctx context.Context, tx *sql.Tx) error

// shareRequest is one write queued for a shared transaction.
type shareRequest struct {
	ctx  context.Context
	what string
	rows int // the rows (messages, receipts, outcomes) it writes, for sharePace
	f    txFunc
	err  error // f's own outcome, set by writeShared
}

// newSharer queues the writes of a single-writer store and runs those
// queued at one moment in one transaction (groupcommit does the queueing,
// batching and stopping), waiting for more first when s.pace says so.
func newSharer(s *Store) *groupcommit.Committer[*shareRequest] {
	return groupcommit.New(groupcommit.Config{MaxWeight: maxShared, Timeout: sharedTimeout,
		Linger: shareLinger, LingerRate: lingerWriteRate, LingerIf: s.pace.small}, s.writeShared)
}

// sharedTx runs f in a write transaction, shared with other writes queued at
// the same moment on a single-writer engine, or in one of its own elsewhere.
// f may run with other writes before it in the same transaction: it sees
// their changes, as it would have after their commits.
func (s *Store) sharedTx(ctx context.Context, what string, f txFunc) error {
	return s.sharedRowsTx(ctx, what, 1, f)
}

// sharedRowsTx is sharedTx for a write of rows rows (a batch of messages,
// receipts or outcomes).
func (s *Store) sharedRowsTx(ctx context.Context, what string, rows int, f txFunc) error {
	if s.share == nil {
		return s.inTx(ctx, what, func(tx *sql.Tx) error { return f(ctx, tx) })
	}
	r := &shareRequest{ctx: context.WithoutCancel(ctx), what: what, rows: rows, f: f}
	if err := s.share.Submit(ctx, r, 1); err != nil {
		if errors.Is(err, groupcommit.ErrStopped) {
			return fmt.Errorf("%s: %w", what, err)
		}
		return err
	}
	return r.err
}

// writeShared runs a batch of writes in one transaction, each in a
// savepoint: a write that fails is undone alone and keeps its error in its
// request. The error returned is the transaction's (groupcommit then runs
// each write of the batch again on its own).
func (s *Store) writeShared(ctx context.Context, batch []*shareRequest) error {
	defer func() {
		if s.stmts.pending() {
			s.stmts.prepare(context.Background())
		}
	}()
	for _, r := range batch {
		r.err = nil
	}
	s.pace.wrote(batch)
	if len(batch) == 1 {
		r := batch[0]
		return s.runJournalInMemory(ctx, r.what, func(tx *sql.Tx) error { return r.f(r.ctx, tx) })
	}
	return s.runJournalInMemory(ctx, "shared write", func(tx *sql.Tx) error {
		for _, r := range batch {
			if _, err := s.txExec(ctx, tx, "SAVEPOINT shared"); err != nil {
				return err
			}
			if r.err = r.f(r.ctx, tx); r.err != nil {
				// Undo this write alone. If even that fails the transaction
				// is gone, and with it the writes before this one.
				if _, err := s.txExec(ctx, tx, "ROLLBACK TO shared"); err != nil {
					return fmt.Errorf("undoing a failed write (%v): %w", r.err, err)
				}
			}
			if _, err := s.txExec(ctx, tx, "RELEASE shared"); err != nil {
				return err
			}
		}
		return nil
	})
}

// runJournalInMemory is runTx with SQLite's statement journal in memory.
//
// Each savepoint, and each statement that may fail half-way, keeps the
// pages it changes in that journal until it ends. SQLite writes it to a
// temporary file once it passes 64 KiB: a file created, written, read back
// only on a rollback, and deleted, every shared transaction — about a
// twentieth of the server's CPU at capacity, in system calls. temp_store =
// MEMORY keeps it in memory instead. It is set for the shared writes alone,
// which are small: a merge of a whole registry in one transaction keeps its
// journal on disk, as before. The setting is read when the transaction
// begins, so it is set and reset on the connection that runs it.
func (s *Store) runJournalInMemory(ctx context.Context, what string, f func(tx *sql.Tx) error) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA temp_store = MEMORY"); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA temp_store = DEFAULT"); err != nil {
			// Never hand a connection set for small writes to a large one.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return runTxOn(ctx, what, conn.BeginTx, f)
}

// Waiting for company.
//
// At a steady few hundred messages a second every stage writes on its
// own: an accept of one message, a receipt, a lease, a send's outcome,
// each a transaction of a row or two, two to three commits per message
// (bench/README.md). The commit is most of a small write's cost, so the
// shared writer then waits up to shareLinger for more writes before it
// begins: commits carry several writes, at the price of that wait on each.
// It waits only while writes come often (groupcommit's LingerRate: an idle
// or lightly used store, tests included, never waits) and carry few rows
// each (under a heavy load batches are large already, and waiting would
// only slow them).
const (
	shareLinger     = time.Millisecond
	lingerWriteRate = 1000 // writes a second, at least
	lingerRows      = 3.0  // rows per write on average, less than
)

// sharePace follows how many rows the shared writer's writes carry.
type sharePace struct {
	mu   sync.Mutex
	rows float64 // rows per write, a moving average
}

// wrote notes a batch of writes about to run.
func (p *sharePace) wrote(batch []*shareRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range batch {
		p.rows = 0.9*p.rows + 0.1*float64(max(r.rows, 1))
	}
}

// small says whether the writes have been small enough for waiting to pay.
func (p *sharePace) small() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rows < lingerRows
}
