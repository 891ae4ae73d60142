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
//
// A backup holds no data key (the data_keys rows): they are in its keys
// file, "<backup file>.keys" (internal/backupkeys), read after the copy
// and written under the directory's lock, less every key shredded
// meanwhile (shredded_keys). Shredding an account rewrites the keys files,
// so what its keys sealed reads as erased in every backup. Restore puts
// the keys back, less those the erasure journal says were shredded, and
// hands the journal's erasures made since the copy to the caller to apply
// again.
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

	"github.com/omnigate/omnigate/internal/backupkeys"
	"github.com/omnigate/omnigate/internal/keyring"
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
// The copy, without the data keys, is written under a temporary name and
// checked; then, under the directory's lock, its keys file is written and
// the copy renamed, so a file with a backup's name is always whole and has
// its keys beside it.
func Make(ctx context.Context, src Source, dir string, now time.Time) (Result, error) {
	start := time.Now()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Result{}, fmt.Errorf("backup: creating %s: %w", dir, err)
	}
	if err := backupkeys.EnsureJournal(dir); err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
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
		if err == nil {
			err = stripSQLiteKeys(ctx, tmp.Name())
		}
	default:
		err = dumpPostgres(ctx, src.DatabaseURL, tmp.Name())
	}
	if err != nil {
		return Result{}, err
	}
	engine, schema, err := checkCopy(ctx, tmp.Name())
	if err != nil {
		return Result{}, fmt.Errorf("backup: the copy does not check: %w", err)
	}
	if err := syncFile(tmp.Name()); err != nil {
		return Result{}, err
	}
	// The keys after the copy: every key the copy's values name is
	// among them unless it was shredded since, which its tombstone says.
	keys, err := liveKeys(ctx, src)
	if err != nil {
		return Result{}, err
	}
	file := filepath.Join(dir, Name(engine, now, schema))
	if err := place(ctx, src, tmp.Name(), file, start, keys); err != nil {
		return Result{}, err
	}
	fi, err := os.Stat(file)
	if err != nil {
		return Result{}, err
	}
	return Result{File: file, Engine: engine, Schema: schema, Bytes: fi.Size(), Took: time.Since(start)}, nil
}

// place writes the keys file of file, keys less those shredded by now,
// and renames the checked copy tmp to file, under the directory's lock.
func place(ctx context.Context, src Source, tmp, file string, started time.Time, keys []backupkeys.Key) error {
	return backupkeys.Locked(filepath.Dir(file), func() error {
		// Read under the lock: a shred that committed before it is left
		// out here, one after it rewrites this file (it waits for the
		// lock, then finds it).
		gone, err := shreddedKeys(ctx, src)
		if err != nil {
			return err
		}
		kf := &backupkeys.File{Backup: filepath.Base(file), Started: started.UTC(), Keys: backupkeys.Without(keys, gone)}
		if err := backupkeys.Write(backupkeys.Path(file), kf); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if err := os.Rename(tmp, file); err != nil {
			os.Remove(backupkeys.Path(file))
			return fmt.Errorf("backup: %w", err)
		}
		return nil
	})
}

// stripSQLiteKeys deletes the data keys from a SQLite copy and leaves no
// trace of them in it: secure_delete overwrites what is deleted, VACUUM
// rebuilds the file without free pages (the online backup copies the live
// database's free pages too, which may hold keys shredded there), and
// neither journal nor temporary database touches the disk.
func stripSQLiteKeys(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(MEMORY)&_pragma=secure_delete(ON)&_pragma=temp_store(MEMORY)")
	if err != nil {
		return fmt.Errorf("backup: opening the copy: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{`DELETE FROM data_keys`, `VACUUM`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("backup: removing the data keys from the copy (%s): %w", q, err)
		}
	}
	return db.Close()
}

// openLive opens the database backed up, for reading its keys.
func openLive(src Source) (*sql.DB, error) {
	if src.engine() == SQLite {
		return sql.Open("sqlite", "file:"+src.SQLitePath+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	}
	return sql.Open("pgx", src.DatabaseURL)
}

// liveKeys reads every data key of the database.
func liveKeys(ctx context.Context, src Source) ([]backupkeys.Key, error) {
	db, err := openLive(src)
	if err != nil {
		return nil, fmt.Errorf("backup: reading the data keys: %w", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT id, master_id, scope, wrapped, created_at FROM data_keys ORDER BY created_at, id, master_id`)
	if err != nil {
		return nil, fmt.Errorf("backup: reading the data keys: %w", err)
	}
	defer rows.Close()
	var out []backupkeys.Key
	for rows.Next() {
		var k backupkeys.Key
		var created int64
		if err := rows.Scan(&k.ID, &k.MasterID, &k.Scope, &k.Wrapped, &created); err != nil {
			return nil, fmt.Errorf("backup: reading the data keys: %w", err)
		}
		k.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("backup: reading the data keys: %w", err)
	}
	return out, nil
}

// shreddedKeys reads the database's tombstones of shredded keys (none
// before migration 058).
func shreddedKeys(ctx context.Context, src Source) (map[string]bool, error) {
	db, err := openLive(src)
	if err != nil {
		return nil, fmt.Errorf("backup: reading the shredded keys: %w", err)
	}
	defer db.Close()
	return tombstones(ctx, db, src.engine())
}

func tombstones(ctx context.Context, db *sql.DB, engine string) (map[string]bool, error) {
	exists := `SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'shredded_keys'`
	if engine == Postgres {
		exists = `SELECT to_regclass('shredded_keys') IS NOT NULL`
	}
	var has bool
	if err := db.QueryRowContext(ctx, exists).Scan(&has); err != nil {
		return nil, fmt.Errorf("backup: reading the shredded keys: %w", err)
	}
	ids := map[string]bool{}
	if !has {
		return ids, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT id FROM shredded_keys`)
	if err != nil {
		return nil, fmt.Errorf("backup: reading the shredded keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("backup: reading the shredded keys: %w", err)
		}
		ids[id] = true
	}
	return ids, rows.Err()
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
	// The data keys stay out: they go into the keys file.
	args := []string{"--format=custom", "--no-owner", "--file=" + dst, "--exclude-table-data=data_keys"}
	if schema != "" {
		args = append(args, "--schema="+schema, "--exclude-table-data="+schema+".data_keys")
	}
	if _, err := runTool(ctx, "pg_dump", append(args, conn), nil); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Check proves a backup file and its keys file whole and says its engine
// and schema version. A missing keys file is an error satisfying
// errors.Is(err, backupkeys.ErrNoKeys).
func Check(ctx context.Context, file string) (engine string, schema int, err error) {
	if engine, schema, err = checkCopy(ctx, file); err != nil {
		return "", 0, err
	}
	if _, err := backupkeys.Read(backupkeys.Path(file)); err != nil {
		return "", 0, fmt.Errorf("backup %s: %w", file, err)
	}
	return engine, schema, nil
}

// checkCopy proves a backup file whole and says its engine and schema
// version.
func checkCopy(ctx context.Context, file string) (engine string, schema int, err error) {
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

// RestoreOptions are what a restore needs beside the backup.
type RestoreOptions struct {
	// Master is the master key the keys file is checked against before
	// anything is restored: a wrong one is refused. nil checks nothing.
	Master keyring.Wrapper
	// WithoutKeys restores a backup whose keys file is missing: what its
	// data keys sealed (message bodies, addresses, stored credentials)
	// then reads as erased. A backup made before keys files existed holds
	// its keys inside and is restored as it is.
	WithoutKeys bool
	// Journal is the erasure journal; "" is the one in the backup's
	// directory. A missing journal is refused unless WithoutJournal.
	Journal        string
	WithoutJournal bool
	// Finish runs on the restored database, its keys back in, before a
	// SQLite restore takes its name (a failure leaves nothing): the
	// caller applies the journal's erasures there (sqlstore's
	// ReplayErasures). SQLitePath is then a file in a temporary
	// directory beside the target, under the target's base name.
	Finish func(ctx context.Context, db Source, erasures []backupkeys.Entry, since time.Time) error
}

// RestoreResult describes a restore.
type RestoreResult struct {
	Result
	// Keys is how many data keys were put back.
	Keys int `json:"keys"`
	// Shredded is how many keys of the keys file the journal or the
	// database's tombstones say were shredded, left out.
	Shredded int `json:"shredded_left_out"`
	// Erasures is how many journalled erasures and account deletions
	// were handed to Finish.
	Erasures int `json:"erasures"`
	// NoKeys is set when the backup was restored without its keys file.
	NoKeys bool `json:"without_keys"`
}

// replayMargin is how much earlier than a copy's start the journal is
// replayed from: erasing is idempotent, and nodes' clocks differ.
const replayMargin = 5 * time.Minute

// Restore checks file, its keys file, the erasure journal and the master
// key, then restores the backup into dst: for SQLite a new data file
// (dst.SQLitePath must not exist), for PostgreSQL a database (or the
// dump's schema in it) holding no omnigate tables yet. It puts the data
// keys back, less the shredded ones, and hands the journal's erasures made
// since the copy to opts.Finish.
func Restore(ctx context.Context, file string, dst Source, opts RestoreOptions) (RestoreResult, error) {
	start := time.Now()
	engine, schema, err := checkCopy(ctx, file)
	if err != nil {
		return RestoreResult{}, err
	}
	if latest := sqlstore.LatestSchema(); schema > latest {
		return RestoreResult{}, fmt.Errorf("%w: the backup is at schema %d, this binary at %d; restore it with a newer omnigate", ErrNewer, schema, latest)
	}
	if engine != dst.engine() {
		return RestoreResult{}, fmt.Errorf("restore: %s is a %s backup; restore it into a %s database", file, engine, engine)
	}
	kf, err := backupkeys.Read(backupkeys.Path(file))
	switch {
	case errors.Is(err, backupkeys.ErrNoKeys) && opts.WithoutKeys:
		kf = nil
	case errors.Is(err, backupkeys.ErrNoKeys):
		return RestoreResult{}, fmt.Errorf("restore: refused: %w. A backup holds no data keys: they are in its keys file, which shredding "+
			"rewrites. Copy the keys file beside the backup, or restore with --without-keys: everything encrypted (message bodies, "+
			"addresses, stored credentials) then reads as erased", err)
	case err != nil:
		return RestoreResult{}, fmt.Errorf("restore: refused: %w", err)
	}
	journal := opts.Journal
	if journal == "" {
		journal = backupkeys.JournalPath(filepath.Dir(file))
	}
	entries, err := backupkeys.ReadJournal(journal)
	switch {
	case errors.Is(err, backupkeys.ErrNoJournal) && opts.WithoutJournal:
		entries = nil
	case errors.Is(err, backupkeys.ErrNoJournal):
		return RestoreResult{}, fmt.Errorf("restore: refused: %w. It records the shreds and erasures made since the backup, which "+
			"a restore applies again: give it (--journal FILE, the newest copy), or restore with --without-journal and apply them yourself", err)
	case err != nil:
		return RestoreResult{}, fmt.Errorf("restore: refused: %w", err)
	}
	res := RestoreResult{NoKeys: kf == nil}
	var keys []backupkeys.Key
	since := time.Time{}
	if kf != nil {
		gone := backupkeys.ShreddedKeys(entries)
		keys = backupkeys.Without(kf.Keys, gone)
		res.Shredded = len(kf.Keys) - len(keys)
		if err := checkMaster(keys, opts.Master); err != nil {
			return RestoreResult{}, err
		}
		since = kf.Started.Add(-replayMargin)
	}
	var erasures []backupkeys.Entry // and account deletions
	for _, e := range entries {
		if (e.Kind == backupkeys.KindErase || e.Kind == backupkeys.KindDelete) && !e.At.Before(since) {
			erasures = append(erasures, e)
		}
	}
	if kf == nil {
		// Without the keys nothing the journal sealed opens, and
		// nothing sealed in the backup does either.
		erasures = nil
	}
	if len(erasures) > 0 && opts.Master == nil {
		return RestoreResult{}, fmt.Errorf("restore: refused: the erasure journal holds %d erasures made since this backup, which a "+
			"restore applies again with the master key: give it (--master-key-file or OMNIGATE_MASTER_KEY)", len(erasures))
	}
	res.Erasures = len(erasures)
	fi, _ := os.Stat(file)
	res.Result = Result{File: file, Engine: engine, Schema: schema, Bytes: fi.Size()}
	finish := func(ctx context.Context, db Source) error {
		n, err := putKeys(ctx, db, keys, backupkeys.ShreddedKeys(entries))
		if err != nil {
			return err
		}
		res.Keys = n
		if opts.Finish != nil {
			return opts.Finish(ctx, db, erasures, since)
		}
		return nil
	}
	if engine == SQLite {
		err = restoreSQLite(ctx, file, dst.SQLitePath, finish)
	} else {
		err = restorePostgres(ctx, file, dst.DatabaseURL, finish)
	}
	res.Took = time.Since(start)
	return res, err
}

// checkMaster refuses a master key that wraps none of keys, or fails to
// unwrap one it wrapped.
func checkMaster(keys []backupkeys.Key, m keyring.Wrapper) error {
	if m == nil || len(keys) == 0 {
		return nil
	}
	others := map[string]bool{}
	mine := 0
	for _, k := range keys {
		if k.MasterID != m.ID() {
			others[k.MasterID] = true
			continue
		}
		if _, err := m.Unwrap(k.Wrapped, k.ID); err != nil {
			return fmt.Errorf("restore: refused: the master key given (%s) does not unwrap data key %s of the keys file (altered?): %w", m.ID(), k.ID, err)
		}
		mine++
	}
	if mine == 0 {
		var ids []string
		for id := range others {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return fmt.Errorf("restore: refused: the backup's data keys are wrapped by master key %s, not by the master key given (%s): "+
			"give the master key the database used when the backup was made", strings.Join(ids, ", "), m.ID())
	}
	return nil
}

// putKeys stores keys into a restored database (whose data_keys the
// backup left empty) and deletes the keys named in gone or in its own
// tombstones (a backup made by an earlier release holds its keys inside).
func putKeys(ctx context.Context, db Source, keys []backupkeys.Key, gone map[string]bool) (int, error) {
	var h *sql.DB
	var err error
	if db.engine() == SQLite {
		h, err = sql.Open("sqlite", "file:"+db.SQLitePath+"?_pragma=busy_timeout(10000)")
	} else {
		h, err = sql.Open("pgx", db.DatabaseURL)
	}
	if err != nil {
		return 0, fmt.Errorf("restore: putting the data keys back: %w", err)
	}
	defer h.Close()
	h.SetMaxOpenConns(1)
	own, err := tombstones(ctx, h, db.engine())
	if err != nil {
		return 0, err
	}
	tx, err := h.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("restore: putting the data keys back: %w", err)
	}
	defer tx.Rollback()
	ph := "?, ?, ?, ?, ?"
	del := `DELETE FROM data_keys WHERE id = ?`
	if db.engine() == Postgres {
		ph, del = "$1, $2, $3, $4, $5", `DELETE FROM data_keys WHERE id = $1`
	}
	n := 0
	for _, k := range keys {
		if own[k.ID] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO data_keys (id, master_id, scope, wrapped, created_at) VALUES (`+ph+`)`,
			k.ID, k.MasterID, k.Scope, k.Wrapped, k.CreatedAt.UnixMicro()); err != nil {
			return 0, fmt.Errorf("restore: putting data key %s back: %w", k.ID, err)
		}
		n++
	}
	for id := range gone {
		if _, err := tx.ExecContext(ctx, del, id); err != nil {
			return 0, fmt.Errorf("restore: deleting shredded data key %s: %w", id, err)
		}
	}
	for id := range own {
		if _, err := tx.ExecContext(ctx, del, id); err != nil {
			return 0, fmt.Errorf("restore: deleting shredded data key %s: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("restore: putting the data keys back: %w", err)
	}
	return n, nil
}

// restoreSQLite copies file into a temporary directory beside path, lets
// finish put the keys back and apply erasures there, then moves the
// database to path: a failure leaves nothing at path.
func restoreSQLite(ctx context.Context, file, path string, finish func(context.Context, Source) error) error {
	for _, p := range []string{path, path + "-wal"} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("restore: %s exists; restore into a new data directory", p)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	work, err := os.MkdirTemp(filepath.Dir(path), ".restoring-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(work)
	tmp := filepath.Join(work, filepath.Base(path))
	in, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("restore: copying: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := finish(ctx, Source{SQLitePath: tmp}); err != nil {
		return err
	}
	// Whatever finish wrote goes into the file itself, then to disk.
	db, err := sql.Open("sqlite", "file:"+tmp)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	db.Close()
	if err != nil {
		return fmt.Errorf("restore: checkpointing: %w", err)
	}
	for _, side := range []string{"-wal", "-shm"} {
		if fi, err := os.Stat(tmp + side); err == nil && side == "-wal" && fi.Size() > 0 {
			return fmt.Errorf("restore: the restored database's log was not emptied")
		}
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func restorePostgres(ctx context.Context, file, rawURL string, finish func(context.Context, Source) error) error {
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
	if err := finish(ctx, Source{DatabaseURL: rawURL}); err != nil {
		return fmt.Errorf("%w (the database is restored but not finished: empty it before restoring again)", err)
	}
	return nil
}

// Kept is which backups a schedule keeps: the newest of each of the last
// daily days and of each of the last weekly ISO weeks (ACCT-5: 7 daily, 4
// weekly).
type Kept struct{ Daily, Weekly int }

// Prune removes the backups in dir that k does not keep, with their keys
// files, and says which. Files that are not backups are left alone, but
// for keys files whose backup is gone (a backup that failed between the
// two). It holds the directory's lock: a backup being made is not seen
// half-made.
func Prune(dir string, k Kept) ([]string, error) {
	var removed []string
	err := backupkeys.Locked(dir, func() error {
		var err error
		removed, err = prune(dir, k)
		return err
	})
	return removed, err
}

func prune(dir string, k Kept) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup: pruning: %w", err)
	}
	type file struct {
		name string
		at   time.Time
	}
	var files []file
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
		if strings.HasSuffix(e.Name(), backupkeys.Suffix) {
			continue
		}
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
		delete(names, f.name)
		removed = append(removed, f.name)
	}
	// Keys files go after their backups (a crash in between leaves a keys
	// file alone, removed next time).
	for name := range names {
		backupName, ok := strings.CutSuffix(name, backupkeys.Suffix)
		if !ok || names[backupName] {
			continue
		}
		if _, _, ok := parseName(backupName); !ok {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return removed, fmt.Errorf("backup: pruning: %w", err)
		}
	}
	return removed, nil
}
