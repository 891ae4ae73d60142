// Package postgrestest gives tests a PostgreSQL database already migrated,
// in a fraction of the time migrating a new one takes.
//
// Running every migration on a new schema takes 1.2–1.7 s, one transaction
// and disk sync per statement; most tests that start the platform spend
// more than half their time there. URL instead copies a template database
// (CREATE DATABASE … TEMPLATE, about 75 ms), migrated once per schema
// version and kept on the server between runs under a name that carries
// sqlstore.SchemaFingerprint. Tests that need an empty database (restores,
// upgrades from an old schema) use pgtest.URL.
package postgrestest

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// templatePrefix starts the names of the template databases.
const templatePrefix = "omnigate_template_"

// URL creates a fresh database holding the migrated, empty schema, dropped
// when the test ends, and returns its URL. It skips the test when no
// server is set (pgtest.EnvVar).
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(pgtest.EnvVar)
	if base == "" {
		t.Skip(pgtest.EnvVar + " is not set")
	}
	tmpl, err := template(base)
	if err != nil {
		t.Fatalf("postgrestest: the template database: %v", err)
	}
	return pgtest.Database(t, tmpl)
}

var (
	templateMu   sync.Mutex
	templateName string
)

// template returns the name of the template database of this binary's
// schema, making it if the server has none: in a database of another
// name, renamed when migrated, so that no process ever copies a template
// half made; processes that start together take turns on an advisory lock.
func template(base string) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	if templateName != "" {
		return templateName, nil
	}
	name := templatePrefix + sqlstore.SchemaFingerprint()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx) // the advisory lock is the session's
	if err != nil {
		return "", err
	}
	defer conn.Close()
	h := fnv.New64a()
	h.Write([]byte(templatePrefix))
	lock := int64(h.Sum64() >> 1)
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lock); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, lock)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if err := build(ctx, conn, base, name); err != nil {
			return "", err
		}
		dropOthers(ctx, conn, name)
	}
	templateName = name
	return name, nil
}

// build makes the template database name: a new database, migrated by
// opening a store on it, then renamed.
func build(ctx context.Context, conn *sql.Conn, base, name string) error {
	tmp := name + "_" + strings.ToLower(ids.New()[20:])
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+tmp); err != nil {
		return err
	}
	u, err := pgtest.WithDatabase(base, tmp)
	if err != nil {
		return err
	}
	st, err := postgres.Open(ctx, postgres.Config{URL: u, MaxConns: 2})
	if err != nil {
		conn.ExecContext(ctx, `DROP DATABASE `+tmp+` WITH (FORCE)`)
		return fmt.Errorf("migrating: %w", err)
	}
	st.Close()
	// The store's sessions end a moment after they are closed: a rename
	// waits for them.
	return pgtest.RetryBusy(func() error {
		_, err := conn.ExecContext(ctx, `ALTER DATABASE `+tmp+` RENAME TO `+name)
		return err
	})
}

// keepOthers is how many templates of other schema versions are kept: a
// run of another checkout (CI of the commit before) may still copy one.
const keepOthers = 3

// dropOthers drops the templates of other schema versions but the newest
// few, unless in use.
func dropOthers(ctx context.Context, conn *sql.Conn, keep string) {
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2
		ORDER BY oid DESC OFFSET $3`, templatePrefix+"%", keep, keepOthers)
	if err != nil {
		return
	}
	var old []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			old = append(old, n)
		}
	}
	rows.Close()
	for _, n := range old {
		conn.ExecContext(ctx, `DROP DATABASE `+n)
	}
}
