package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements.
//
// database/sql prepares, runs and finalizes a fresh statement for every
// ExecContext or QueryContext given a query string. On SQLite compiling the
// statement costs more than running it (a receipt is several small
// statements), so the hot paths run prepared statements instead: each query
// text is prepared once per *sql.DB and used in transactions through
// tx.StmtContext (database/sql prepares it again on another connection as
// needed and keeps it per connection).
//
// A statement is never prepared inside a transaction: DB.PrepareContext needs
// a connection of its own, and SQLite's writer has exactly one, which the
// transaction holds. A query not prepared yet runs as plain text and is noted;
// inTx prepares the noted queries once its transaction has ended and its
// connection is back in the pool.

// maxStmts bounds the statements kept per database; queries past it run as
// plain text. Query texts are a fixed set except the IN lists and multi-row
// inserts whose length varies (see maxBulkStmtRows), so the bound is reached
// only by unusual batch shapes.
const maxStmts = 256

type stmtCache struct {
	db  *sql.DB
	d   *Dialect
	off bool // the dialect prepares nothing

	mu     sync.RWMutex
	stmts  map[string]*sql.Stmt // query as written ("?") → prepared; nil while waiting to be prepared or when it cannot be
	todo   []string             // queries to prepare
	closed bool
}

func newStmtCache(db *sql.DB, d *Dialect) *stmtCache {
	return &stmtCache{db: db, d: d, off: !d.PrepareStatements, stmts: make(map[string]*sql.Stmt)}
}

// get returns the prepared statement of q, or nil (noting q to be prepared
// when there is room).
func (c *stmtCache) get(q string) *sql.Stmt {
	if c.off {
		return nil
	}
	c.mu.RLock()
	st, ok := c.stmts[q]
	c.mu.RUnlock()
	if ok {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok = c.stmts[q]
	if !ok && !c.closed && len(c.stmts) < maxStmts {
		c.stmts[q] = nil
		c.todo = append(c.todo, q)
	}
	return st
}

// prepare prepares the noted queries. The caller must hold no connection of
// c.db. A query that fails to prepare because ctx ended is noted again on
// its next use; one that fails otherwise keeps running as plain text (which
// reports any error in it).
func (c *stmtCache) prepare(ctx context.Context) {
	c.mu.Lock()
	todo := c.todo
	c.todo = nil
	c.mu.Unlock()
	for _, q := range todo {
		st, err := c.db.PrepareContext(ctx, c.d.rebind(q))
		c.mu.Lock()
		switch {
		case c.closed || (err != nil && ctx.Err() != nil):
			delete(c.stmts, q)
			if st != nil {
				st.Close()
			}
		case err != nil:
			// stays nil: never prepared again
		default:
			c.stmts[q] = st
		}
		c.mu.Unlock()
	}
}

// pending says whether queries wait to be prepared.
func (c *stmtCache) pending() bool {
	if c.off {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.todo) > 0
}

// close closes the prepared statements; later queries run as plain text
// (as all do when the dialect does not prepare statements).
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for q, st := range c.stmts {
		if st != nil {
			st.Close()
		}
		delete(c.stmts, q)
	}
	c.todo = nil
}

// exec runs q (written with "?") in tx, prepared when it can be.
func (c *stmtCache) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := c.get(q); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, c.d.rebind(q), args...)
}

// query runs q (written with "?") in tx, prepared when it can be.
func (c *stmtCache) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if st := c.get(q); st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, c.d.rebind(q), args...)
}

// txExec runs q (written with "?") in tx, prepared when it can be.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	return s.stmts.exec(ctx, tx, q, args...)
}

// txQuery runs q (written with "?") in tx, prepared when it can be.
func (s *Store) txQuery(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	return s.stmts.query(ctx, tx, q, args...)
}

// txQueryRow runs q (written with "?") in tx, prepared when it can be.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st := s.stmts.get(q); st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, s.d.rebind(q), args...)
}

// wQuery runs q (written with "?") on the writer outside a transaction,
// prepared when it can be. The rows hold a connection until closed, so a
// miss is prepared by a later transaction, not here.
func (s *Store) wQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := s.stmts.get(q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.w.QueryContext(ctx, s.d.rebind(q), args...)
}

// readStmt is q's prepared statement on the reader pool, or nil. No
// transaction holds a reader connection here, so a miss is prepared at once.
func (s *Store) readStmt(ctx context.Context, q string) *sql.Stmt {
	st := s.rstmts.get(q)
	if st == nil && s.rstmts.pending() {
		s.rstmts.prepare(ctx)
		st = s.rstmts.get(q)
	}
	return st
}

// rQuery runs q (written with "?") on the reader pool, prepared once.
func (s *Store) rQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := s.readStmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, s.d.rebind(q), args...)
}

// rQueryRow is rQuery for one row.
func (s *Store) rQueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := s.readStmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, s.d.rebind(q), args...)
}
