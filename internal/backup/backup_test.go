package backup_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/backup"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// A daily backup for 60 days, pruned each day as the schedule does,
// leaves the last 7 days and the newest of each of the last 4 weeks.
func TestPruneKeepsSevenDailyFourWeekly(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a backup"), 0o600)
	day0 := time.Date(2026, 10, 1, 3, 0, 0, 0, time.UTC)
	var last time.Time
	for d := 0; d < 60; d++ {
		last = day0.AddDate(0, 0, d)
		os.WriteFile(filepath.Join(dir, backup.Name(backup.SQLite, last, 42)), []byte("x"), 0o600)
		if _, err := backup.Prune(dir, backup.Kept{Daily: 7, Weekly: 4}); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") { // the directory's keys lock
			names = append(names, e.Name())
		}
	}
	for d := 0; d < 7; d++ {
		if !slices.Contains(names, backup.Name(backup.SQLite, last.AddDate(0, 0, -d), 42)) {
			t.Fatalf("day -%d not kept: %v", d, names)
		}
	}
	weeks := map[int]bool{}
	for _, n := range names {
		for d := 0; d < 60; d++ {
			at := day0.AddDate(0, 0, d)
			if n == backup.Name(backup.SQLite, at, 42) {
				_, w := at.ISOWeek()
				weeks[w] = true
			}
		}
	}
	// The last day is a Sunday: the 7 days are one ISO week, and the 4
	// weeks add the 3 Sundays before: 10 backups, and the notes.
	if len(weeks) != 4 || len(names) != 11 || !slices.Contains(names, "notes.txt") {
		t.Fatalf("kept %d (%d weeks): %v", len(names), len(weeks), names)
	}
}

// Of two nodes claiming one day's backup, one gets it.
func TestClaimBackupOnce(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			if engine == "postgres" && !pgtest.Available() {
				t.Skip(pgtest.EnvVar + " is not set")
			}
			var a, b *sqlstore.Store
			var err error
			ctx := context.Background()
			if engine == "postgres" {
				u := pgtest.URL(t)
				a, err = postgres.Open(ctx, postgres.Config{URL: u})
				if err == nil {
					b, err = postgres.Open(ctx, postgres.Config{URL: u})
				}
			} else {
				p := filepath.Join(t.TempDir(), "o.db")
				a, err = sqlite.Open(ctx, sqlite.Config{Path: p})
				if err == nil {
					b, err = sqlite.Open(ctx, sqlite.Config{Path: p})
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			defer b.Close()
			now := time.Now()
			first, err1 := a.ClaimBackup(ctx, "daily 2026-12-04", "node-a", now)
			second, err2 := b.ClaimBackup(ctx, "daily 2026-12-04", "node-b", now)
			if err1 != nil || err2 != nil || !first || second {
				t.Fatalf("claims: %v %v, %v %v", first, err1, second, err2)
			}
			if next, err := b.ClaimBackup(ctx, "daily 2026-12-05", "node-b", now); err != nil || !next {
				t.Fatalf("next day: %v %v", next, err)
			}
		})
	}
}

// A file that is not a backup is refused by Check.
func TestCheckRefusesOtherFiles(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.db")
	os.WriteFile(f, []byte("hello, this is not a database at all"), 0o600)
	if _, _, err := backup.Check(context.Background(), f); err == nil {
		t.Fatal("checked")
	}
}
