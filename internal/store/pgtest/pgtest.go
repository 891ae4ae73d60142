// Package pgtest gives tests an isolated PostgreSQL schema (URL) or database
// (Database). Tests that need PostgreSQL call them and are skipped unless
// OMNIGATE_TEST_POSTGRES holds a server URL (.ci/run sets it to the local
// server).
package pgtest

import (
	"database/sql"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/omnigate/omnigate/internal/ids"
)

// EnvVar names the variable holding the test server's URL.
const EnvVar = "OMNIGATE_TEST_POSTGRES"

// Available reports whether PostgreSQL tests can run.
func Available() bool { return os.Getenv(EnvVar) != "" }

// URL creates a fresh schema, dropped when the test ends, and returns a URL
// whose search_path points at it. It skips the test when no server is set.
func URL(t testing.TB) string {
	t.Helper()
	schema := "t_" + strings.ToLower(ids.New()[12:])
	base := scratch(t, "schema", `CREATE SCHEMA `+schema, `DROP SCHEMA `+schema+` CASCADE`)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Database creates a database of its own on the test server, a copy of
// template ("" for the server's default, an empty one), dropped when the
// test ends, and returns its URL. It skips the test when no server is set.
func Database(t testing.TB, template string) string {
	t.Helper()
	name := "t_" + strings.ToLower(ids.New()[12:])
	create := `CREATE DATABASE ` + name
	if template != "" {
		create += ` TEMPLATE ` + template
	}
	base := scratch(t, "database", create, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	u, err := WithDatabase(base, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// scratch runs create on the test server (again while what it copies is
// busy, see RetryBusy) and drop when the test ends, and returns the
// server's URL. It skips the test when no server is set.
func scratch(t testing.TB, what, create, drop string) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skip(EnvVar + " is not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := RetryBusy(func() error { _, err := admin.Exec(create); return err }); err != nil {
		t.Fatalf("pgtest: creating a %s: %v", what, err)
	}
	t.Cleanup(func() {
		if admin, err := sql.Open("pgx", base); err == nil {
			admin.Exec(drop)
			admin.Close()
		}
	})
	return base
}

// WithDatabase is the server URL base with its database set to name.
func WithDatabase(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// RetryBusy runs f again while the database it needs is in use by other
// sessions (SQLSTATE 55006: a template being copied, a database whose
// sessions are still closing), for up to 10 s.
func RetryBusy(f func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || pe.Code != "55006" || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
