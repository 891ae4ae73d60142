// Package sqlite opens omnigate's embedded store: a SQLite database in WAL
// mode, with one writer connection (SQLite allows one writer at a time, so a
// single connection avoids lock contention; batching makes it fast) and a
// pool of read-only connections that read while it writes.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/omnigate/omnigate/internal/store/sqlstore"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Synchronous levels: FULL syncs the WAL on every commit and survives power
// loss; NORMAL survives a crash of the process (kill -9) but may lose the
// last commits on power loss.
const (
	SyncFull   = "FULL"
	SyncNormal = "NORMAL"
)

// checkpointPages is how many pages the write-ahead log holds before the
// writer copies them into the database file (SQLite's default is 1,000).
//
// The copy runs in the commit that crosses the bound, on the one writer,
// and costs per distinct page: a page written by many commits in between
// (an index's last leaf, a recipient updated by its send, its receipt and
// its read) is copied once. At 1,000 pages a checkpoint came every ~25
// shared commits, a tenth of a second under load, and took 14 % of the
// writer's time with SMS and 21 % with WhatsApp, whose receipts update a
// recipient twice within 50 ms. At 10,000 (a log of up to 40 MB, reused
// after each checkpoint) WhatsApp's benchmark ran 6 % more messages a
// second and SMS on the Kannel harness delivered 8 % more at capacity, at
// 5 % less CPU each (bench/results/2026-12-07-wal-checkpoint.md).
const checkpointPages = 10000

// Config says where the database lives.
type Config struct {
	// Path of the database file; its directory is created if missing.
	Path string
	// Synchronous is SyncFull (default) or SyncNormal.
	Synchronous string
	// Readers is the size of the read pool; default GOMAXPROCS*2, at least 4.
	Readers int
}

// Open opens (creating if needed) and migrates the database.
func Open(ctx context.Context, cfg Config) (*sqlstore.Store, error) {
	if cfg.Path == "" {
		return nil, fmt.Errorf("sqlite: Path is required")
	}
	switch cfg.Synchronous {
	case "":
		cfg.Synchronous = SyncFull
	case SyncFull, SyncNormal:
	default:
		return nil, fmt.Errorf("sqlite: Synchronous must be %s or %s, not %q", SyncFull, SyncNormal, cfg.Synchronous)
	}
	if cfg.Readers <= 0 {
		cfg.Readers = max(4, runtime.GOMAXPROCS(0)*2)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: creating data directory: %w", err)
	}
	dsn := func(pragmas ...string) string {
		q := url.Values{}
		for _, p := range append([]string{"busy_timeout(10000)", "foreign_keys(ON)"}, pragmas...) {
			q.Add("_pragma", p)
		}
		return "file:" + cfg.Path + "?" + q.Encode()
	}
	// _txlock=immediate takes the write lock at BEGIN, so a transaction
	// never fails half-way when another process (the CLI) writes too.
	// The journal mode is a property of the file, set by the writer; readers
	// must not try to change it (that needs a write lock).
	writer, err := sql.Open("sqlite", dsn("journal_mode(WAL)", "synchronous("+cfg.Synchronous+")",
		fmt.Sprintf("wal_autocheckpoint(%d)", checkpointPages))+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", cfg.Path, err)
	}
	if err := os.Chmod(cfg.Path, 0o600); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: restricting %s: %w", cfg.Path, err)
	}
	reader, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: opening readers: %w", err)
	}
	reader.SetMaxOpenConns(cfg.Readers)
	reader.SetMaxIdleConns(cfg.Readers)
	s, err := sqlstore.Open(ctx, writer, reader, sqlstore.SQLite())
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return s, nil
}
