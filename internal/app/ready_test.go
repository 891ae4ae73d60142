package app

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestReadyzReflectsWrites: /readyz answers 503 while the database answers
// reads but takes no writes, and 200 again once it does. The writes are
// stopped for real: another connection holds the database's write lock
// (SQLite) or a lock on the heartbeat table (PostgreSQL), as a backup tool
// or a stuck migration would.
func TestReadyzReflectsWrites(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.HeartbeatEvery = 50 * time.Millisecond })
		ready := func() int {
			resp, err := http.Get(s.url + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		// The heartbeat has a period (50 ms here) to write: on a loaded
		// machine (-race, other packages' tests) one can miss it, and the
		// node is rightly not ready until the next one lands.
		waitFor(t, "/readyz to answer 200 once heartbeats land", 20*time.Second, func() bool { return ready() == 200 })
		driver, dsn := "sqlite", s.app.cfg.SQLitePath()
		lock := "BEGIN IMMEDIATE"
		if engine == "postgres" {
			driver, dsn = "pgx", s.app.cfg.DatabaseURL
			lock = "BEGIN; LOCK TABLE node_heartbeats IN ACCESS EXCLUSIVE MODE"
		}
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// The server writes too (heartbeats, housekeeping): on SQLite the
		// test's BEGIN IMMEDIATE may find the lock taken, and tries again.
		var lockErr error
		waitFor(t, "the test's write lock", 20*time.Second, func() bool {
			_, lockErr = conn.ExecContext(ctx, lock)
			return lockErr == nil
		})
		waitFor(t, "/readyz to answer 503 while writes fail", 20*time.Second, func() bool { return ready() == 503 })
		if r := s.get("/balance"); r.status != 200 {
			t.Fatalf("reads stopped too: %d %s", r.status, r.raw)
		}
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "/readyz to answer 200 again", 20*time.Second, func() bool { return ready() == 200 })
	})
}
