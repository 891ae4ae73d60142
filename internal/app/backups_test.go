package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
)

// With --backup-dir, serve makes the day's backup at start, records it in
// backup_runs and the audit log; on PostgreSQL a second node sharing the
// database makes none that day.
func TestScheduledBackup(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		dir := t.TempDir()
		var dbURL string
		if engine == "postgres" {
			dbURL = pgtest.URL(t)
		}
		tune := func(c *Config) {
			c.Backup.Dir = dir
			if dbURL != "" {
				c.DatabaseURL = dbURL
			}
		}
		s := start(t, engine, tune)
		var file string
		waitFor(t, "the day's backup", 60*time.Second, func() bool {
			var finished int64
			s.app.store.Writer().QueryRow(`SELECT file, finished_at FROM backup_runs`).Scan(&file, &finished)
			return finished > 0
		})
		if !strings.HasPrefix(file, dir+"/omnigate-"+engine+"-") {
			t.Fatalf("backup_runs names %q", file)
		}
		if _, err := os.Stat(file); err != nil {
			t.Fatal(err)
		}
		rows, err := s.app.AuditLog().List(context.Background(), store.AuditFilter{Actor: "system"})
		if err != nil || len(rows) != 1 || rows[0].Action != "backup.scheduled" || rows[0].Object != file {
			t.Fatalf("audit rows %v %v", rows, err)
		}
		if engine != "postgres" {
			return
		}
		other := t.TempDir()
		s2 := start(t, engine, func(c *Config) {
			c.Backup.Dir, c.DatabaseURL = other, dbURL
			c.MasterKeyFile = filepath.Join(s.app.cfg.DataDir, "master.key")
		})
		s2.app.scheduledBackup(time.Now()) // as its hourly look does
		if entries, _ := os.ReadDir(other); len(entries) != 0 {
			t.Fatalf("the second node made a backup too: %v", entries)
		}
	})
}
