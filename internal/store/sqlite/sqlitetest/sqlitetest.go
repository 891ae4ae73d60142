// Package sqlitetest gives tests a SQLite database already migrated, in a
// fraction of the time migrating a new one takes.
//
// Every test that starts the platform on a new data directory would
// otherwise run all the migrations: about 0.4 s each, and 3–6 s under the
// race detector, where SQLite's own code (Go, translated from C) runs
// instrumented. Seed copies a database migrated once per test process.
package sqlitetest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// migrated is the file of a database that has run every migration, made
// on first use.
var migrated = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "omnigate-sqlitetest")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "omnigate.db")
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		return nil, err
	}
	// The file alone must hold it all: the log checkpointed into it and
	// emptied.
	if _, err := st.Writer().Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

// Seed writes a migrated, empty database at path (a data directory's
// omnigate.db), as sqlite.Open would leave it on a new file.
func Seed(t testing.TB, path string) {
	t.Helper()
	b, err := migrated()
	if err != nil {
		t.Fatalf("sqlitetest: migrating the template database: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Open is sqlite.Open on cfg.Path seeded first (see Seed) when no file is
// there yet.
func Open(t testing.TB, cfg sqlite.Config) (*sqlstore.Store, error) {
	t.Helper()
	if _, err := os.Stat(cfg.Path); errors.Is(err, fs.ErrNotExist) {
		Seed(t, cfg.Path)
	}
	return sqlite.Open(context.Background(), cfg)
}
