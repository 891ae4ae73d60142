package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// bulkInsert writes rows with multi-row INSERT statements, as few as the
// dialect's placeholder limit allows: on both engines one statement of many
// rows is several times faster than a statement per row.
type bulkInsert struct {
	head string // "INSERT INTO t (a, b) VALUES "
	cols int
	mu   sync.Mutex
	sql  map[int]string // rows → statement text

	stmts *stmtCache // prepares statements of up to maxBulkStmtRows rows

	// What follows the rows (an upsert's ON CONFLICT clause, a RETURNING
	// clause), and the most rows one statement takes (0: as many as the
	// dialect's placeholders allow).
	tail    string
	maxRows int
}

// maxBulkStmtRows bounds the row count of the multi-row inserts that are
// prepared and kept: batches of a few rows are the common case (a request,
// a group commit of a few requests) and compiling costs most relative to
// running there; larger ones run as plain text. (Splitting large batches
// into prepared statements of a fixed size measured slower on SQLite than
// compiling one statement: per-statement overhead outweighs compiling.)
const maxBulkStmtRows = 16

func newBulkInsert(table string, columns string) *bulkInsert {
	return &bulkInsert{
		head: "INSERT INTO " + table + " (" + columns + ") VALUES ",
		cols: strings.Count(columns, ",") + 1,
		sql:  make(map[int]string),
	}
}

// newBulkUpsert is newBulkInsert with an ON CONFLICT clause, at most
// maxRows rows per statement.
func newBulkUpsert(table, columns, onConflict string, maxRows int) *bulkInsert {
	b := newBulkInsert(table, columns)
	b.tail, b.maxRows = " "+onConflict, maxRows
	return b
}

// newBulkInsertReturning is newBulkInsert whose statements return the given
// columns of the rows they insert (see query).
func newBulkInsertReturning(table, columns, returning string) *bulkInsert {
	b := newBulkInsert(table, columns)
	b.tail = " RETURNING " + returning
	return b
}

func (b *bulkInsert) statement(d *Dialect, rows int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if q, ok := b.sql[rows]; ok {
		return q
	}
	var sb strings.Builder
	sb.WriteString(b.head)
	one := "(" + strings.Repeat("?, ", b.cols-1) + "?)"
	for i := 0; i < rows; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(one)
	}
	sb.WriteString(b.tail)
	q := d.rebind(sb.String())
	if len(b.sql) < 64 { // bound the cache; batch sizes repeat
		b.sql[rows] = q
	}
	return q
}

// exec inserts len(args)/cols rows.
func (b *bulkInsert) exec(ctx context.Context, tx *sql.Tx, d *Dialect, args []any) error {
	return b.chunks(d, args, func(q string, args []any, prepared bool) error {
		var err error
		if prepared {
			_, err = b.stmts.exec(ctx, tx, q, args...)
		} else {
			_, err = tx.ExecContext(ctx, q, args...)
		}
		return err
	})
}

// query inserts len(args)/cols rows with a RETURNING statement
// (newBulkInsertReturning) and passes what each statement returns to scan.
func (b *bulkInsert) query(ctx context.Context, tx *sql.Tx, d *Dialect, args []any, scan func(*sql.Rows, error) error) error {
	return b.chunks(d, args, func(q string, args []any, prepared bool) error {
		if prepared {
			return scan(b.stmts.query(ctx, tx, q, args...))
		}
		return scan(tx.QueryContext(ctx, q, args...))
	})
}

// chunks splits args into as few statements as the bounds allow and runs
// each with run; prepared says whether the statement is small enough to
// run prepared through b.stmts.
func (b *bulkInsert) chunks(d *Dialect, args []any, run func(q string, args []any, prepared bool) error) error {
	if len(args)%b.cols != 0 {
		return fmt.Errorf("bulk insert: %d arguments for %d columns", len(args), b.cols)
	}
	per := d.MaxParams / b.cols
	if b.maxRows > 0 {
		per = min(per, b.maxRows)
	}
	for len(args) > 0 {
		n := min(len(args)/b.cols, per)
		// q is rebound already; rebinding it again (stmtCache) changes nothing.
		if err := run(b.statement(d, n), args[:n*b.cols], n <= maxBulkStmtRows && b.stmts != nil); err != nil {
			return err
		}
		args = args[n*b.cols:]
	}
	return nil
}
