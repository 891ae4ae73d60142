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
)

// The admin token can come from a file, and is refused, with a message
// saying why, when shorter than 32 characters or given twice.
func TestAdminTokenSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "admin-token")
	if err := os.WriteFile(file, []byte("  "+adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("0123456789abcdef0123456789abcde\n"), 0o600); err != nil { // 31
		t.Fatal(err)
	}
	base := Config{HTTPAddr: "127.0.0.1:0", SQLiteSync: "NORMAL", ShutdownTimeout: 10 * time.Second}
	for _, c := range []struct {
		name, token, file, want string
	}{
		{"short token", "0123456789abcdef0123456789abcde", "", "admin-token: the admin token has 31 characters; use at least 32"},
		{"short file", "", short, "holds a token of 31 characters; use at least 32"},
		{"missing file", "", filepath.Join(dir, "nope"), "admin-token-file: open"},
		{"both", adminToken, file, "admin-token and admin-token-file: give one of them"},
	} {
		cfg := base
		cfg.DataDir, cfg.AdminToken, cfg.AdminTokenFile = t.TempDir(), c.token, c.file
		a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			a.stop(context.Background())
			t.Errorf("%s: started", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	cfg := base
	cfg.DataDir, cfg.AdminTokenFile = t.TempDir(), file
	s := serve(t, cfg)
	if r := s.admin("GET", "/admin/accounts/nope/settings", "", ""); r.status != http.StatusNotFound {
		t.Fatalf("admin API with the token from the file: %d %s", r.status, r.raw)
	}
}
