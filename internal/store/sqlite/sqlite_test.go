package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "test.db"), Synchronous: sqlite.SyncNormal})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAccount(ctx, &store.Account{ID: "a1", Name: "x", Currency: "EUR", SigningKey: "k"}, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = sqlite.Open(ctx, sqlite.Config{Path: path}) // migrations run again: a no-op
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.GetAccount(ctx, "a1"); err != nil {
		t.Fatalf("account lost across reopen: %v", err)
	}
}

func TestRejectsBadConfig(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), sqlite.Config{}); err == nil {
		t.Error("opened without a path")
	}
	if _, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "x.db"), Synchronous: "OFF"}); err == nil {
		t.Error("accepted synchronous OFF")
	}
}

// The writer's connection carries the settings Open promises: WAL,
// the synchronous level asked for, and the checkpoint bound.
func TestWriterSettings(t *testing.T) {
	st, err := sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "test.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mode string
	var sync, pages int
	w := st.Writer()
	if err := w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := w.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if err := w.QueryRow("PRAGMA wal_autocheckpoint").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 || pages != 10000 {
		t.Errorf("journal_mode %s, synchronous %d, wal_autocheckpoint %d; want wal, 2 (FULL), 10000", mode, sync, pages)
	}
}
