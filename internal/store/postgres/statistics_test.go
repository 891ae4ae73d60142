package postgres

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
)

// TestKeepStatistics: while the store is open, a table that changed enough
// is analyzed, once; a table that changed a little is left alone.
func TestKeepStatistics(t *testing.T) {
	defer func(d time.Duration) { statisticsEvery = d }(statisticsEvery)
	statisticsEvery = 50 * time.Millisecond
	ctx := context.Background()
	st, err := Open(ctx, Config{URL: pgtest.URL(t), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.Writer()
	rows := analyzeRows + 100
	if _, err := db.ExecContext(ctx, `INSERT INTO pending_receipts (connector, provider_id, receipt_key, status, status_at, received_at)
		SELECT 'c', g::text, '', 'delivered', 1, 1 FROM generate_series(1, $1::int) g`, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO dnd (registry, prefix, listed_at, imported_at) VALUES ('r', '31', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	// The server counts changes with a delay of up to a second or so.
	var n float64
	for deadline := time.Now().Add(20 * time.Second); int(n) != rows; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pending_receipts not analyzed: the statistics say %v rows, want %d", n, rows)
		}
		if err := db.QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'pending_receipts'::regclass`).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	count := func(table string) (analyzed, changed int64) {
		t.Helper()
		err := db.QueryRowContext(ctx, `SELECT analyze_count, n_mod_since_analyze FROM pg_stat_user_tables
			WHERE schemaname = current_schema() AND relname = $1`, table).Scan(&analyzed, &changed)
		if err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		return analyzed, changed
	}
	before, _ := count("pending_receipts")
	time.Sleep(20 * statisticsEvery)
	if after, _ := count("pending_receipts"); after != before {
		t.Errorf("pending_receipts analyzed %d more times with nothing changed", after-before)
	}
	if analyzed, changed := count("dnd"); changed != 1 {
		t.Errorf("dnd: %d changes since analyzed (analyzed %d times), want the one insert", changed, analyzed)
	}

	// Every row changed, the size the same: the plans stay right, and
	// autovacuum refreshes the distributions by its own rule.
	if _, err := db.ExecContext(ctx, `UPDATE pending_receipts SET status = 'failed'`); err != nil {
		t.Fatal(err)
	}
	// The server counts the changes with a delay (longer under load):
	// wait until they show, then give the keeper time to act on them.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, changed := count("pending_receipts"); changed >= int64(rows) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("pending_receipts: the server counted %d changes of the update, want %d", changed, rows)
		}
	}
	time.Sleep(20 * statisticsEvery)
	if after, changed := count("pending_receipts"); after != before {
		t.Errorf("pending_receipts analyzed %d more times (%d changes since) after an update of every row, want none", after-before, changed)
	}
	// Grown past twice the rows the statistics saw, then drained: each
	// time analyzed once more.
	analyzedOnce := func(what string, want int64) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if n, _ := count("pending_receipts"); n == want {
				return
			} else if n > want || time.Now().After(deadline) {
				t.Fatalf("pending_receipts %s: analyzed %d times in all, want %d", what, n, want)
			}
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO pending_receipts (connector, provider_id, receipt_key, status, status_at, received_at)
		SELECT 'c', 'more' || g::text, '', 'delivered', 1, 1 FROM generate_series(1, $1::int) g`, analyzeRows+analyzeGrowth*rows); err != nil {
		t.Fatal(err)
	}
	analyzedOnce("grown", before+1)
	if _, err := db.ExecContext(ctx, `DELETE FROM pending_receipts`); err != nil {
		t.Fatal(err)
	}
	analyzedOnce("drained", before+2)
	time.Sleep(20 * statisticsEvery)
	analyzedOnce("left drained", before+2)
}

// TestDNDPrefixLengthsAnalyzed: the table of registry prefix lengths is
// analyzed by the migration and whenever a length is added, so that the
// planner knows it for the handful of rows it is (never analyzed, it
// guesses thousands and costs screening as a big join).
func TestDNDPrefixLengthsAnalyzed(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, Config{URL: pgtest.URL(t), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows := func() float64 {
		t.Helper()
		var n float64
		if err := st.Writer().QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'dnd_prefix_lengths'::regclass`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows(); n != 0 {
		t.Fatalf("a new database: the statistics say %v rows, want 0 (analyzed, empty)", n)
	}
	now := time.Now()
	if err := st.ImportDND(ctx, store.DNDImport{Registry: "IN-NCPR", Scope: store.DNDAll, Entries: []store.DNDEntry{
		{Prefix: "919812345678", ListedAt: now, ImportedAt: now}, {Prefix: "9197", ListedAt: now, ImportedAt: now}}}); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 2 {
		t.Fatalf("after an import of two lengths: the statistics say %v rows, want 2", n)
	}
	got, err := st.DNDListed(ctx, []string{"919812345678", "919712345678", "919912345678"})
	if err != nil || len(got) != 2 {
		t.Fatalf("listed %v %v", got, err)
	}
}
