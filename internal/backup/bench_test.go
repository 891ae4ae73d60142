package backup_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/backup"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/sqlite"
)

// benchRows is how many messages the backup benchmarks' store holds
// (OMNIGATE_BENCH_BACKUP_ROWS; default 200,000, about 140 MB on SQLite).
// Each has a 300-byte body that does not compress.
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("OMNIGATE_BENCH_BACKUP_ROWS")); err == nil && n > 0 {
		return n
	}
	return 200000
}

// BenchmarkBackupSQLite: backup.Make (online backup API, integrity check)
// and backup.Restore (integrity check, copy) of a filled SQLite store.
func BenchmarkBackupSQLite(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "omnigate.db")
	st, err := sqlite.Open(ctx, sqlite.Config{Path: path, Synchronous: sqlite.SyncNormal})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	if _, err := st.Writer().Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
		INSERT INTO messages (id, account_id, channel, direction, type, originator, body, created_at)
		SELECT printf('m%012d', i), 'acct', 'sms', 'mt', 'sms', 'Shop', hex(randomblob(150)), 1700000000000000 + i FROM n`,
		benchRows()); err != nil {
		b.Fatal(err)
	}
	st.Writer().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	fi, _ := os.Stat(path)
	b.Logf("filled %d rows, %d MB in %v", benchRows(), fi.Size()>>20, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	var made, restored time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		res, err := backup.Make(ctx, backup.Source{SQLitePath: path}, dir, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		made += res.Took
		rr, err := backup.Restore(ctx, res.File, backup.Source{SQLitePath: filepath.Join(b.TempDir(), "restored", "omnigate.db")}, backup.RestoreOptions{})
		if err != nil {
			b.Fatal(err)
		}
		restored += rr.Took
	}
	b.ReportMetric(float64(fi.Size())/1e6, "MB")
	b.ReportMetric(made.Seconds()/float64(b.N), "backup-s")
	b.ReportMetric(restored.Seconds()/float64(b.N), "restore-s")
}

// BenchmarkBackupPostgres: pg_dump (custom format) with the full-read
// check, and pg_restore into a new database, of a filled schema.
func BenchmarkBackupPostgres(b *testing.B) {
	if !pgtest.Available() {
		b.Skip(pgtest.EnvVar + " is not set")
	}
	ctx := context.Background()
	u := pgtest.URL(b)
	st, err := postgres.Open(ctx, postgres.Config{URL: u})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	if _, err := st.Writer().Exec(`INSERT INTO messages (id, account_id, channel, direction, type, originator, body, created_at)
		SELECT 'm' || lpad(i::text, 12, '0'), 'acct', 'sms', 'mt', 'sms', 'Shop',
			encode(decode(md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) ||
			md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text), 'hex'), 'hex'),
			1700000000000000 + i FROM generate_series(1, $1) i`, benchRows()); err != nil {
		b.Fatal(err)
	}
	var size int64
	st.Writer().QueryRow(`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r'`).Scan(&size)
	b.Logf("filled %d rows, %d MB in %v", benchRows(), size>>20, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	var made, restored time.Duration
	for i := 0; i < b.N; i++ {
		res, err := backup.Make(ctx, backup.Source{DatabaseURL: u}, b.TempDir(), time.Now())
		if err != nil {
			b.Fatal(err)
		}
		made += res.Took
		b.StopTimer()
		target := benchDatabase(b, u)
		b.StartTimer()
		rr, err := backup.Restore(ctx, res.File, backup.Source{DatabaseURL: target}, backup.RestoreOptions{})
		if err != nil {
			b.Fatal(err)
		}
		restored += rr.Took
	}
	b.ReportMetric(float64(size)/1e6, "MB")
	b.ReportMetric(made.Seconds()/float64(b.N), "backup-s")
	b.ReportMetric(restored.Seconds()/float64(b.N), "restore-s")
}

func benchDatabase(b *testing.B, src string) string {
	name := "bench_" + strings.ToLower(ids.New()[12:])
	admin, err := sql.Open("pgx", os.Getenv(pgtest.EnvVar))
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if admin, err := sql.Open("pgx", os.Getenv(pgtest.EnvVar)); err == nil {
			admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`)
			admin.Close()
		}
	})
	u, _ := url.Parse(src)
	u.Path = "/" + name
	return u.String()
}
