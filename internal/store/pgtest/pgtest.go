// Package pgtest gives tests an isolated PostgreSQL schema. Tests that need
// PostgreSQL call URL and are skipped unless OMNIGATE_TEST_POSTGRES holds a
// server URL (.ci/run sets it to the local server).
package pgtest

import (
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

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
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skip(EnvVar + " is not set")
	}
	schema := "t_" + strings.ToLower(ids.New()[12:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
