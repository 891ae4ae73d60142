package app

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store/pgtest"
)

// TestWorldWritableDataDirRefused: a data directory that already exists
// writable by every user (0777, or 1777 like /tmp) is refused at start with
// a message saying what to do, on both engines, and nothing is created in
// it; one that is the owner's (0700, 0750) is used.
func TestWorldWritableDataDirRefused(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		for _, mode := range []os.FileMode{0o777, 0o777 | os.ModeSticky, 0o733} {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, mode); err != nil {
				t.Fatal(err)
			}
			cfg := Config{HTTPAddr: "127.0.0.1:0", DataDir: dir, SQLiteSync: "NORMAL", ShutdownTimeout: 10 * time.Second}
			if engine == "postgres" {
				cfg.DatabaseURL = pgtest.URL(t)
			}
			a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err == nil {
				a.stop(context.Background())
				t.Fatalf("mode %v: started", mode)
			}
			if msg := err.Error(); !strings.Contains(msg, dir) || !strings.Contains(msg, "writable by every user") || !strings.Contains(msg, "chmod 700") {
				t.Fatalf("mode %v: %v", mode, err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("mode %v: files were created in it: %v", mode, entries)
			}
		}
		for _, mode := range []os.FileMode{0o700, 0o750} {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(dir, mode)
			cfg := Config{HTTPAddr: "127.0.0.1:0", DataDir: dir, SQLiteSync: "NORMAL", ShutdownTimeout: 10 * time.Second}
			if engine == "postgres" {
				cfg.DatabaseURL = pgtest.URL(t)
			}
			s := serve(t, cfg)
			waitFor(t, "the server to be ready", 20*time.Second, func() bool {
				resp, err := http.Get(s.url + "/readyz")
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == 200
			})
		}
	})
}
