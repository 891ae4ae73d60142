// Package sqlstore is the SQL implementation of store.Store shared by the
// SQLite and PostgreSQL engines. It is written in the common subset of both;
// what differs (placeholders, row locking, migrations, connection set-up) is
// described by a Dialect that each engine package supplies.
package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// SQLite is the embedded engine's dialect: 64-bit INTEGER everywhere,
// clustered tables where it pays.
func SQLite() Dialect {
	return Dialect{
		Name:              "sqlite",
		MaxParams:         32000,
		PrepareStatements: true,
		SingleWriter:      true,
		Types: map[string]string{
			"{{INT}}": "INTEGER", "{{BOOL}}": "INTEGER", "{{BLOB}}": "BLOB",
			"{{ID}}": "INTEGER PRIMARY KEY AUTOINCREMENT", "{{WITHOUT_ROWID}}": "WITHOUT ROWID",
			"{{AUDIT_APPEND_ONLY}}": `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
	BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
	BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;`,
			"{{MESSAGE_COUNT_TRIGGERS}}": sqliteCountTriggers, "{{STATEMENT_COUNT_TRIGGERS}}": sqliteStatementTriggers,
			"{{DROP_INSERT_COUNT_TRIGGERS}}": sqliteDropInsertCountTriggers,
		},
	}
}

// PostgreSQL is the production engine's dialect: numbered placeholders and
// SKIP LOCKED leasing; the postgres package adds the migration lock.
func PostgreSQL() Dialect {
	return Dialect{
		Name:                 "postgres",
		NumberedPlaceholders: true,
		LeaseLock:            "FOR UPDATE SKIP LOCKED",
		MaxParams:            65000,
		Types: map[string]string{
			"{{INT}}": "BIGINT", "{{BOOL}}": "BOOLEAN", "{{BLOB}}": "BYTEA",
			"{{ID}}": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "{{WITHOUT_ROWID}}": "",
			"{{AUDIT_APPEND_ONLY}}": `CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();`,
			"{{MESSAGE_COUNT_TRIGGERS}}": postgresCountTriggers, "{{STATEMENT_COUNT_TRIGGERS}}": postgresStatementTriggers,
			"{{DROP_INSERT_COUNT_TRIGGERS}}": postgresDropInsertCountTriggers,
		},
	}
}

// Dialect describes what one database engine does differently.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Numbered placeholders ($1, $2…) instead of "?".
	NumberedPlaceholders bool
	// LeaseLock is appended to the sub-select that picks jobs to lease,
	// e.g. "FOR UPDATE SKIP LOCKED" so several nodes never take one job.
	LeaseLock string
	// Types replaces the type tokens of the shared migrations ({{INT}},
	// {{BOOL}}, {{BLOB}}, {{ID}}, {{WITHOUT_ROWID}}) with the engine's SQL,
	// and {{AUDIT_APPEND_ONLY}} (042) with the engine's triggers that
	// refuse changes to the audit log; the *_TRIGGERS tokens (056, 059,
	// 060) likewise.
	Types map[string]string
	// LockMigrations, when set, runs first in the migration transaction so
	// that several processes starting at once migrate one at a time.
	LockMigrations func(ctx context.Context, tx *sql.Tx) error
	// MaxParams bounds the placeholders in one statement.
	MaxParams int
	// PrepareStatements keeps the hot paths' statements prepared (see
	// stmtCache). SQLite compiles every statement run from text; pgx already
	// prepares and caches statements per connection itself, and preparing
	// them again through database/sql only adds work.
	PrepareStatements bool
	// LockKeys, when set, serialises transactions that touch the same keys
	// until they end (PostgreSQL advisory locks). Engines with a single
	// writer (SQLite) need nothing.
	LockKeys func(ctx context.Context, tx *sql.Tx, keys []string) error
	// SingleWriter is set for engines where every write takes turns on one
	// connection (SQLite): the store then lets the hot writes queued at one
	// moment share a commit (see sharedTx) and puts receipts before new
	// messages (see writePriority).
	SingleWriter bool
	// Background, when set, runs while the store is open, on the write
	// handle, until ctx ends (PostgreSQL: keeping planner statistics fresh).
	Background func(ctx context.Context, db *sql.DB)
}

// rebind rewrites "?" placeholders for the dialect. Queries are written with
// "?" and contain no literal question marks.
func (d *Dialect) rebind(q string) string {
	if !d.NumberedPlaceholders {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
