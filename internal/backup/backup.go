// Package backup makes, checks, restores and prunes backups of omnigate's
// database while the platform runs.
//
// SQLite is copied with SQLite's online backup API (modernc.org/sqlite's
// Backup: sqlite3_backup_step over all pages in one step, under one read
// transaction, so the copy is one consistent moment while writers go on in
// WAL mode). PostgreSQL is dumped with pg_dump in its custom format
// (pg_dump and pg_restore from PATH: Debian's postgresql-client).
//
// A backup is one file named omnigate-<engine>-<UTC time>-s<schema>.<db|pgdump>;
// the schema version is also inside it (the schema_migrations table), and
// Check reads it from there. Check also proves the file whole: PRAGMA
// integrity_check for SQLite, a full read by pg_restore for PostgreSQL, so
// a truncated or corrupt backup is refused before anything is restored.
package backup

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to look into the target database
	"modernc.org/sqlite"

	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// Engines.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Source is the database to back up or restore into: a SQLite file or a
// PostgreSQL URL (a search_path query parameter names the schema).
type Source struct {
	SQLitePath  string
	DatabaseURL string
}

func (s Source) engine() string {
	if s.DatabaseURL != "" {
		return Postgres
	}
	return SQLite
}

// Result describes a backup file.
type Result struct {
	File   string        `json:"file"`
	Engine string        `json:"engine"`
	Schema int           `json:"schema"`
	Bytes  int64         `json:"bytes"`
	Took   time.Duration `json:"took"`
}

// timeLayout is the time in backup names.
const timeLayout = "20060102T150405Z"

// Name is a backup's file name.
func Name(engine string, at time.Time, schema int) string {
	ext := ".db"
	if engine == Postgres {
		ext = ".pgdump"
	}
	return fmt.Sprintf("omnigate-%s-%s-s%03d%s", engine, at.UTC().Format(timeLayout), schema, ext)
}

// parseName reads a backup name's engine and time.
func parseName(name string) (engine string, at time.Time, ok bool) {
	rest, found := strings.CutPrefix(name, "omnigate-")
	if !found {
		return "", time.Time{}, false
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 3 {
		return "", time.Time{}, false
	}
	at, err := time.Parse(timeLayout, parts[1])
	return parts[0], at, err == nil
}

// Make backs src up into dir (created if missing) and returns the file.
// The copy is written under a temporary name and renamed once checked, so
// a file with a backup's name is always whole.
func Make(ctx context.Context, src Source, dir string, now time.Time) (Result, error) {
	start := time.Now()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Result{}, fmt.Errorf("backup: creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".partial-*")
	if err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	switch src.engine() {
	case SQLite:
		err = copySQLite(ctx, src.SQLitePath, tmp.Name())
	default:
		err = dumpPostgres(ctx, src.DatabaseURL, tmp.Name())
	}
	if err != nil {
		return Result{}, err
	}
	engine, schema, err := Check(ctx, tmp.Name())
	if err != nil {
		return Result{}, fmt.Errorf("backup: the copy does not check: %w", err)
	}
	if err := syncFile(tmp.Name()); err != nil {
		return Result{}, err
	}
	file := filepath.Join(dir, Name(engine, now, schema))
	if err := os.Rename(tmp.Name(), file); err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		return Result{}, err
	}
	return Result{File: file, Engine: engine, Schema: schema, Bytes: fi.Size(), Took: time.Since(start)}, nil
}

func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: syncing: %w", err)
	}
	return nil
}

// backuper is what modernc.org/sqlite's connections offer.
type backuper interface {
	NewBackup(dstURI string) (*sqlite.Backup, error)
}

// copySQLite copies the database at path to dst with the online backup
// API, every page in one step (one consistent read transaction).
func copySQLite(ctx context.Context, path, dst string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: no SQLite database at %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("backup: opening %s: %w", path, err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup: opening %s: %w", path, err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		b, ok := dc.(backuper)
		if !ok {
			return errors.New("backup: the SQLite driver has no online backup API")
		}
		bk, err := b.NewBackup(dst)
		if err != nil {
			return fmt.Errorf("backup: starting: %w", err)
		}
		for {
			more, err := bk.Step(-1)
			if err != nil {
				bk.Finish()
				return fmt.Errorf("backup: copying: %w", err)
			}
			if !more {
				break
			}
		}
		if err := bk.Finish(); err != nil {
			return fmt.Errorf("backup: finishing: %w", err)
		}
		return nil
	})
}

// pgTool finds a PostgreSQL client program.
func pgTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("backup: %s is not on PATH: install PostgreSQL's client programs (Debian: apt-get install postgresql-client) of the server's major version or newer", name)
	}
	return p, nil
}

// libpq splits a pgx URL into one libpq takes and the schema its
// search_path names (libpq knows no search_path parameter).
func libpq(raw string) (conn, schema string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("backup: database URL: %w", err)
	}
	q := u.Query()
	schema = q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String(), schema, nil
}

func runTool(ctx context.Context, name string, args []string, env []string) ([]byte, error) {
	path, err := pgTool(name)
	if err != nil {
		return nil, err
	}
	c := exec.CommandContext(ctx, path, args...)
	c.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %v: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// dumpPostgres runs pg_dump --format=custom into dst; only the URL's
// schema when it names one.
func dumpPostgres(ctx context.Context, rawURL, dst string) error {
	conn, schema, err := libpq(rawURL)
	if err != nil {
		return err
	}
	args := []string{"--format=custom", "--no-owner", "--file=" + dst}
	if schema != "" {
		args = append(args, "--schema="+schema)
	}
	if _, err := runTool(ctx, "pg_dump", append(args, conn), nil); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Check proves a backup file whole and says its engine and schema version.
func Check(ctx context.Context, file string) (engine string, schema int, err error) {
	f, err := os.Open(file)
	if err != nil {
		return "", 0, fmt.Errorf("backup %s: %w", file, err)
	}
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	f.Close()
	switch {
	case n == 16 && string(head) == "SQLite format 3\x00":
		schema, err = checkSQLite(ctx, file)
		return SQLite, schema, err
	case n >= 5 && string(head[:5]) == "PGDMP":
		schema, err = checkPostgres(ctx, file)
		return Postgres, schema, err
	}
	return "", 0, fmt.Errorf("backup %s: not an omnigate backup (neither a SQLite database nor a pg_dump custom-format file)", file)
}

func checkSQLite(ctx context.Context, file string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro&immutable=1")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return 0, fmt.Errorf("backup %s is corrupt or truncated: %w", file, err)
	}
	var problems []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("backup %s is corrupt or truncated: %w", file, err)
	}
	rows.Close()
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("… %d more", len(problems)-3))
		}
		return 0, fmt.Errorf("backup %s is corrupt or truncated (integrity check: %s)", file, strings.Join(problems, "; "))
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || !v.Valid {
		return 0, fmt.Errorf("backup %s: not an omnigate database (no schema version)", file)
	}
	return int(v.Int64), nil
}

// checkPostgres reads the whole dump with pg_restore (a truncated or
// corrupt dump fails), then the schema_migrations rows from it.
func checkPostgres(ctx context.Context, file string) (int, error) {
	if _, err := runTool(ctx, "pg_restore", []string{"--file=" + os.DevNull, file}, nil); err != nil {
		return 0, fmt.Errorf("backup %s is corrupt or truncated: %w", file, err)
	}
	out, err := runTool(ctx, "pg_restore", []string{"--file=-", "--data-only", "--table=schema_migrations", file}, nil)
	if err != nil {
		return 0, fmt.Errorf("backup %s: %w", file, err)
	}
	v, ok := copyMax(out)
	if !ok {
		return 0, fmt.Errorf("backup %s: not an omnigate database (no schema version)", file)
	}
	return v, nil
}

// copyMax is the largest first column of the COPY … schema_migrations
// rows of a pg_restore script.
func copyMax(script []byte) (int, bool) {
	sc := bufio.NewScanner(bytes.NewReader(script))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	in, max, found := false, 0, false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "COPY ") && strings.Contains(line, "schema_migrations"):
			in = true
		case in && line == `\.`:
			in = false
		case in:
			num, _, _ := strings.Cut(line, "\t")
			if v, err := strconv.Atoi(num); err == nil {
				found = true
				if v > max {
					max = v
				}
			}
		}
	}
	return max, found
}

// ErrNewer refuses a backup of a schema newer than this binary's.
var ErrNewer = errors.New("backup is of a newer schema than this omnigate knows")

// Restore checks file and restores it into dst: for SQLite a new data
// file (dst.SQLitePath must not exist), for PostgreSQL a database (or the
// dump's schema in it) holding no omnigate tables yet.
func Restore(ctx context.Context, file string, dst Source) (Result, error) {
	start := time.Now()
	engine, schema, err := Check(ctx, file)
	if err != nil {
		return Result{}, err
	}
	if latest := sqlstore.LatestSchema(); schema > latest {
		return Result{}, fmt.Errorf("%w: the backup is at schema %d, this binary at %d; restore it with a newer omnigate", ErrNewer, schema, latest)
	}
	if engine != dst.engine() {
		return Result{}, fmt.Errorf("restore: %s is a %s backup; restore it into a %s database", file, engine, engine)
	}
	fi, _ := os.Stat(file)
	res := Result{File: file, Engine: engine, Schema: schema, Bytes: fi.Size()}
	if engine == SQLite {
		err = restoreSQLite(file, dst.SQLitePath)
	} else {
		err = restorePostgres(ctx, file, dst.DatabaseURL)
	}
	res.Took = time.Since(start)
	return res, err
}

func restoreSQLite(file, path string) error {
	for _, p := range []string{path, path + "-wal"} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("restore: %s exists; restore into a new data directory", p)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	in, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(path), ".restoring-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(out.Name())
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("restore: copying: %w", err)
	}
	if err := out.Chmod(0o600); err != nil {
		out.Close()
		return fmt.Errorf("restore: %w", err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("restore: %w", err)
	}
	out.Close()
	return os.Rename(out.Name(), path)
}

func restorePostgres(ctx context.Context, file, rawURL string) error {
	conn, _, err := libpq(rawURL)
	if err != nil {
		return err
	}
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("restore: connecting: %w", err)
	}
	if exists {
		return fmt.Errorf("restore: the target database already holds omnigate tables; restore into an empty database")
	}
	if _, err := runTool(ctx, "pg_restore", []string{"--no-owner", "--exit-on-error", "--single-transaction", "--dbname=" + conn, file}, nil); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// Kept is which backups a schedule keeps: the newest of each of the last
// daily days and of each of the last weekly ISO weeks (ACCT-5: 7 daily, 4
// weekly).
type Kept struct{ Daily, Weekly int }

// Prune removes the backups in dir that k does not keep, and says which.
// Files that are not backups are left alone.
func Prune(dir string, k Kept) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup: pruning: %w", err)
	}
	type file struct {
		name string
		at   time.Time
	}
	var files []file
	for _, e := range entries {
		if _, at, ok := parseName(e.Name()); ok && !e.IsDir() {
			files = append(files, file{e.Name(), at})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].at.After(files[j].at) }) // newest first
	keep := map[string]bool{}
	days, weeks := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		day := f.at.Format("2006-01-02")
		y, w := f.at.ISOWeek()
		week := fmt.Sprintf("%d-W%02d", y, w)
		if !days[day] && len(days) < k.Daily {
			days[day] = true
			keep[f.name] = true
		}
		if !weeks[week] && len(weeks) < k.Weekly {
			weeks[week] = true
			keep[f.name] = true
		}
	}
	var removed []string
	for _, f := range files {
		if keep[f.name] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, f.name)); err != nil {
			return removed, fmt.Errorf("backup: pruning: %w", err)
		}
		removed = append(removed, f.name)
	}
	return removed, nil
}
