package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/store"
)

// Store implements store.Store over database/sql.
type Store struct {
	w      *sql.DB // writes (SQLite: the single writer connection)
	r      *sql.DB // reads (SQLite: a pool of read-only connections)
	d      Dialect
	latest int // newest migration version

	// Multi-row insert statements, cached per row count for this dialect.
	insertMessages, insertRecipients, insertJobs, insertLedger *bulkInsert
	// The roll-ups' changes for accepted messages (counts_accept.go).
	insertMessageCountDeltas, insertStatementCountDeltas *bulkInsert
	insertMarketingSenders, insertParts                  *bulkInsert // with an upsert clause
	insertLeased                                         *bulkInsert // jobs stored leased, with RETURNING
	insertEvents                                         *bulkInsert // once-only events, with RETURNING (events_batch.go)
	insertAttempt                                        *bulkInsert // the webhook attempts' log (webhookattempts.go)

	// priority orders the single writer's transactions (SQLite only).
	priority *writePriority
	// share runs the hot writes of a single writer in shared transactions
	// (SQLite only; see sharedTx).
	share *groupcommit.Committer[*shareRequest]
	pace  sharePace // when share waits for more writes
	// stopBackground ends the dialect's background work and waits for it.
	stopBackground func()

	stmts  *stmtCache // prepared statements of the writer
	rstmts *stmtCache // prepared statements of the reader pool (hot reads)

	// keys seals and opens the secrets of secretColumns (see secrets.go).
	keys *keyring.Keyring
	// messagesInClear turns off the encryption of message bodies
	// (msgcrypt.go): for benchmarks that measure its cost.
	messagesInClear bool
	// backupDirs hold backups: shreds reach their keys files (backupkeys.go).
	backupDirs []string

	convHooks convHookCache // whether Conversations webhooks exist (conversations.go)
}

var _ store.Store = (*Store)(nil)

// Open wraps the given handles and applies migrations. writer and reader may
// be the same *sql.DB. The Store owns them and closes them in Close.
func Open(ctx context.Context, writer, reader *sql.DB, d Dialect) (*Store, error) {
	if d.MaxParams == 0 {
		d.MaxParams = 30000
	}
	s := &Store{w: writer, r: reader, d: d,
		insertMessages:   newBulkInsert("messages", messageInsertCols),
		insertRecipients: newBulkInsert("recipients", recipientCols),
		insertJobs:       newBulkInsert("jobs", jobColumns),
		insertLedger:     newBulkInsert("ledger", ledgerColumns),
		insertLeased:     newBulkInsertReturning("jobs", jobColumns+", lease_owner", jobReturning),
		insertEvents:     newEventInsert(),
		insertAttempt:    newBulkInsert("webhook_attempts", attemptColumns),

		insertMessageCountDeltas:   newBulkInsert("message_count_deltas", messageCountDeltaCols),
		insertStatementCountDeltas: newBulkInsert("statement_count_deltas", statementCountDeltaCols),

		insertMarketingSenders: newBulkUpsert("marketing_senders", "account_id, recipient, originator, last_at",
			`ON CONFLICT (account_id, recipient, originator) DO UPDATE SET last_at = excluded.last_at
			WHERE marketing_senders.last_at < excluded.last_at`, 500),
		insertParts: newBulkUpsert("recipient_parts", partColumns,
			`ON CONFLICT (message_id, seq, part) DO UPDATE SET connector = excluded.connector,
			provider_id = excluded.provider_id, status = excluded.status, status_error_code = 0, status_at = excluded.status_at,
			sent_at = excluded.sent_at, echoed = excluded.echoed`, 500),
	}
	if d.SingleWriter {
		s.priority = &writePriority{}
	}
	s.stmts = newStmtCache(writer, &s.d)
	s.rstmts = newStmtCache(reader, &s.d)
	s.rstmts.off = s.rstmts.off || reader == writer // one cache per handle
	// Every bulk insert runs its statements of a few rows prepared: on
	// SQLite compiling one costs more than running it.
	for _, b := range []*bulkInsert{s.insertMessages, s.insertRecipients, s.insertJobs, s.insertLedger, s.insertLeased, s.insertEvents,
		s.insertMessageCountDeltas, s.insertStatementCountDeltas, s.insertMarketingSenders, s.insertParts, s.insertAttempt} {
		b.stmts = s.stmts
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if d.SingleWriter {
		s.share = newSharer(s)
	}
	if d.Background != nil {
		bctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); d.Background(bctx, writer) }()
		s.stopBackground = func() { cancel(); <-done }
	}
	return s, nil
}

// Close closes the database handles.
func (s *Store) Close() error {
	if s.stopBackground != nil {
		s.stopBackground()
	}
	if s.share != nil {
		s.share.Stop(context.Background()) // writes what is queued
	}
	s.stmts.close()
	s.rstmts.close()
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Writer exposes the write handle for engine-specific maintenance and tests.
func (s *Store) Writer() *sql.DB { return s.w }

// micros and fromMicros convert times to the integer microseconds stored in
// every time column (UTC; 0 means unset), identical on both engines.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UTC().UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// inTx runs f in a write transaction. Once the transaction has ended (and
// its connection is free), it prepares the statements f ran as plain text.
func (s *Store) inTx(ctx context.Context, what string, f func(tx *sql.Tx) error) error {
	err := s.runTx(ctx, what, f)
	if s.stmts.pending() {
		s.stmts.prepare(ctx)
	}
	return err
}

// purge runs a DELETE of rows older than before (q has one "?", the time
// in microseconds) on the writer and says how many went.
func (s *Store) purge(ctx context.Context, what, q string, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, s.d.rebind(q), micros(before))
	if err != nil {
		return 0, fmt.Errorf("purging %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purging %s: %w", what, err)
	}
	return int(n), nil
}

// urgentTx is inTx for writes that go before accept batches on a single
// writer (see writePriority).
func (s *Store) urgentTx(ctx context.Context, what string, rows int, f txFunc) error {
	if s.priority != nil {
		defer s.priority.urgentWrite()()
	}
	return s.sharedRowsTx(ctx, what, rows, f)
}

// acceptTx is inTx for accept batches: they yield to urgent writes first.
func (s *Store) acceptTx(ctx context.Context, what string, rows int, f txFunc) error {
	if s.priority != nil {
		s.priority.yield(ctx)
	}
	return s.sharedRowsTx(ctx, what, rows, f)
}

func (s *Store) runTx(ctx context.Context, what string, f func(tx *sql.Tx) error) error {
	return runTxOn(ctx, what, s.w.BeginTx, f)
}

// runTxOn is runTx on what begin opens: the writer pool or one connection
// of it.
func runTxOn(ctx context.Context, what string, begin func(context.Context, *sql.TxOptions) (*sql.Tx, error), f func(tx *sql.Tx) error) error {
	tx, err := begin(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}
