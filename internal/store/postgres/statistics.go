package postgres

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Planner statistics.
//
// Statements are prepared once per connection, and PostgreSQL soon plans a
// prepared statement once for all runs (a generic plan), costed with the
// table statistics of that moment. Autovacuum refreshes statistics only
// about once a minute, after a tenth of a table has changed; a new
// database that takes thousands of messages a second outgrows its
// statistics long before that, and plans made for "tiny tables" —
// sequential scans of the queue, the recipients and their parts — then
// cost a whole core (measured: ~60 deliveries/s). Planning every run anew
// (force_custom_plan) avoids wrong plans but spends the server's CPU on
// planning: ~1.1 ms of server CPU per message against ~0.5 ms with
// generic plans made from fresh statistics (capacity runs, 2 cores,
// 681 vs 1,034 delivered/s). So the store analyzes its own tables when they
// have grown or shrunk enough, checking every few seconds; ANALYZE
// invalidates the cached plans, and the next run plans again with the new
// figures.
//
// The rule is the table's size against the size its statistics saw, not
// the rows changed: a plan chosen for 10,000 rows stays right for 15,000,
// and a busy table changes a tenth of its rows every few seconds. Analyzing
// on a tenth changed (autovacuum's rule) cost a third of the server's CPU
// in a capacity run: recipients analyzed 26 times in 53 s, ~290 ms each.
// Autovacuum still refreshes the value distributions by its own rule.

// statisticsEvery is how often the tables' change counters are read (a
// variable for tests).
var statisticsEvery = 2 * time.Second

// Analyze a table once it holds more than analyzeRows rows plus
// analyzeGrowth times the rows its statistics counted, or, having counted
// more than analyzeRows, fewer than a analyzeGrowth-th of them less
// analyzeRows (a drained queue).
const (
	analyzeRows   = 500
	analyzeGrowth = 2
)

// keepStatistics analyzes the tables of the current schema that have
// changed enough, every interval, until ctx ends. Errors are logged at
// debug level and retried at the next turn: statistics are an
// optimisation, never a reason to stop.
func keepStatistics(ctx context.Context, db *sql.DB, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := analyzeChanged(ctx, db); err != nil && ctx.Err() == nil {
			slog.Debug("postgres: refreshing statistics", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// analyzeChanged analyzes the tables of the current schema whose size
// moved away from what their statistics say (reltuples is -1 for a table
// never analyzed), and says which.
func analyzeChanged(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
		WHERE s.schemaname = current_schema()
			AND (s.n_live_tup > $1 + $2 * GREATEST(c.reltuples, 0) OR (c.reltuples > $1 AND s.n_live_tup * $2 + $1 < c.reltuples))
		ORDER BY s.relname`, analyzeRows, analyzeGrowth)
	if err != nil {
		return nil, err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, t := range tables {
		if _, err := db.ExecContext(ctx, "ANALYZE "+pgx.Identifier{t}.Sanitize()); err != nil {
			return nil, err
		}
	}
	return tables, nil
}
