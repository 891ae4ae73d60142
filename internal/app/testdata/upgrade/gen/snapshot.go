package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"database/sql"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/omnigate/omnigate/internal/ids"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver
)

// The SQLite fixture: the database file, gzipped (the upgrade test
// gunzips it into a fresh data directory), and the demo account's file.
const (
	sqliteDB   = "omnigate.db"
	sqliteGz   = "omnigate.db.gz"
	demoFile   = "demo-account.json"
	postgresDB = "postgres.sql"
)

// snapshotSQLite checkpoints the stopped server's database so that one
// file holds everything, and writes it gzipped, with the demo account's
// file, to dir.
func snapshotSQLite(dataDir, dir string) {
	path := filepath.Join(dataDir, sqliteDB)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		fail("opening %s: %v", path, err)
	}
	var busy, logged, moved int
	if err := db.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &moved); err != nil || busy != 0 {
		fail("checkpointing %s: busy %d, %v", path, busy, err)
	}
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		fail("integrity check of %s: %q %v", path, check, err)
	}
	db.Close()
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		fail("%s-wal still holds %d bytes after the checkpoint", path, fi.Size())
	}
	if err := os.RemoveAll(dir); err != nil {
		fail("%v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail("%v", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	writeFile(filepath.Join(dir, sqliteGz), buf.Bytes())
	demo, err := os.ReadFile(filepath.Join(dataDir, demoFile))
	if err != nil {
		fail("%v", err)
	}
	writeFile(filepath.Join(dir, demoFile), demo)
	step("sqlite: %s is %d bytes, %d gzipped", sqliteDB, len(raw), buf.Len())
}

// restoreSQLite makes a data directory from the fixture, as the upgrade
// test does.
func restoreSQLite(dir, dataDir string) {
	zr, err := os.Open(filepath.Join(dir, sqliteGz))
	if err != nil {
		fail("%v", err)
	}
	defer zr.Close()
	r, err := gzip.NewReader(zr)
	if err != nil {
		fail("%v", err)
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		fail("%v", err)
	}
	writeFile(filepath.Join(dataDir, sqliteDB), raw)
	demo, err := os.ReadFile(filepath.Join(dir, demoFile))
	if err != nil {
		fail("%v", err)
	}
	writeFile(filepath.Join(dataDir, demoFile), demo)
}

func writeFile(path string, b []byte) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fail("%v", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		fail("%v", err)
	}
}

// newSchema creates a fresh schema on the server at base, as the tests'
// pgtest does, and returns a URL whose search_path points at it and a
// function that drops it.
func newSchema(base string) (string, string, func()) {
	schema := "fixture_" + strings.ToLower(ids.New()[12:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		fail("%v", err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		fail("creating schema %s: %v", schema, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		fail("%v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema, func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	}
}

// dumpPostgres dumps a schema with pg_dump and rewrites the script so
// that it loads into whatever schema the connection's search_path names.
func dumpPostgres(base, schema, file string) {
	cmd := exec.Command("pg_dump", "--inserts", "--no-owner", "--no-privileges", "--schema="+schema, "--dbname="+base)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		fail("pg_dump: %v: %s", err, stderr.Bytes())
	}
	script := schemaFree(out, schema)
	writeFile(file, script)
	step("postgres: %s is %d bytes", filepath.Base(file), len(script))
}

// schemaFree strips the dump's ties to its schema: the schema qualifier of
// every name, CREATE SCHEMA, the search_path settings, and pg_dump's
// \restrict and \unrestrict meta-commands (psql only).
func schemaFree(dump []byte, schema string) []byte {
	qualified := regexp.MustCompile(`\b` + regexp.QuoteMeta(schema) + `\.`)
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, `\restrict`), strings.HasPrefix(line, `\unrestrict`),
			strings.HasPrefix(line, "CREATE SCHEMA "), strings.HasPrefix(line, "SET search_path"),
			strings.Contains(line, "set_config('search_path'"),
			strings.HasPrefix(line, "-- Name: "+schema+"; Type: SCHEMA"):
			continue
		}
		line = qualified.ReplaceAllString(line, "")
		line = strings.ReplaceAll(line, "Schema: "+schema+";", "Schema: -;")
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		fail("reading the dump: %v", err)
	}
	if i := bytes.Index(out.Bytes(), []byte(schema)); i >= 0 {
		fail("the dump still names schema %s: %q", schema, out.Bytes()[max(0, i-200):min(out.Len(), i+100)])
	}
	return out.Bytes()
}

// loadPostgres runs the script on the database at dbURL (its search_path
// names the schema to fill) through the pgx driver, in one simple-protocol
// exchange — as the upgrade test does.
func loadPostgres(dbURL string, script []byte) {
	u, err := url.Parse(dbURL)
	if err != nil {
		fail("%v", err)
	}
	q := u.Query()
	q.Set("default_query_exec_mode", "simple_protocol")
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		fail("%v", err)
	}
	defer db.Close()
	if _, err := db.Exec(string(script)); err != nil {
		fail("loading %s: %v", postgresDB, err)
	}
}
