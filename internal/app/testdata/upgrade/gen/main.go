// Command gen writes omnigate's upgrade fixture: databases filled by this
// release's own code, and the answers this release gives about them, for
// internal/app/upgrade_test.go to hold later releases to.
//
// It runs the real server (app.New and app.Run, as `omnigate serve --demo`)
// on a loopback port, with the demo SMSC in the process and three more SMSC
// simulators behind connectors and routes, and fills a fresh database the
// way a customer and an operator would: the REST API with the account's
// key, the admin API with the operator's token, and the store functions
// behind the CLI (`account create`, `connector add`, `route add`, `number
// add`) — see scenario.go for everything the fixture holds and how each
// state was reached. Then it stops the server cleanly, snapshots the
// database (SQLite: the checkpointed file; PostgreSQL: pg_dump made
// schema-free), starts the release again on a copy of the snapshot, and
// records its answers to every read (golden/).
//
// From the module root:
//
//	go run ./internal/app/testdata/upgrade/gen -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// Nothing is contacted beyond loopback.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/smsc"
)

func main() {
	out := flag.String("out", filepath.Join("internal", "app", "testdata", "upgrade"), "the fixture directory")
	engines := flag.String("engines", "sqlite,postgres", "which engines to generate")
	pg := flag.String("postgres", envOr("OMNIGATE_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL server (a fresh schema is used and dropped)")
	verbose := flag.Bool("v", false, "log the servers' info messages")
	flag.Parse()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(os.Stderr, "gen:", r)
			os.Exit(1)
		}
	}()
	if _, err := os.Stat("go.mod"); err != nil {
		fail("run it from the module root (go.mod not found)")
	}
	log := logger(*verbose)
	for _, engine := range strings.Split(*engines, ",") {
		start := time.Now()
		switch engine {
		case "sqlite":
			genSQLite(*out, log)
		case "postgres":
			genPostgres(*out, *pg, log)
		default:
			fail("unknown engine %q", engine)
		}
		step("%s: done in %s", engine, time.Since(start).Round(time.Second))
	}
}

// newGen prepares a generation: the customer's web server and the three
// carriers' simulators.
func newGen(engine string, log *slog.Logger) *gen {
	return &gen{
		engine:  engine,
		log:     log,
		sink:    newSink(),
		failing: startCarrier("carrier-failing", smsc.Outcomes{Undeliverable: 1}, 50*time.Millisecond),
		expires: startCarrier("carrier-expiring", smsc.Outcomes{Expired: 1}, 50*time.Millisecond),
		silent:  startCarrier("carrier-silent", smsc.Outcomes{Delivered: 1}, 24*time.Hour),
	}
}

func (g *gen) close() {
	for _, c := range []*carrier{g.failing, g.expires, g.silent} {
		c.srv.Stop(context.Background())
	}
	g.sink.srv.Close()
	g.closeOperator()
}

func genSQLite(out string, log *slog.Logger) {
	g := newGen("sqlite", log)
	defer g.close()
	dataDir, err := os.MkdirTemp("", "omnigate-fixture-")
	if err != nil {
		fail("%v", err)
	}
	defer os.RemoveAll(dataDir)
	g.cfg = baseConfig(dataDir, "")
	g.generate()
	step("sqlite: %s", g.statusCounts())
	g.closeOperator()
	snapshotSQLite(dataDir, filepath.Join(out, "sqlite"))

	// The golden answers come from the release running on a copy of the
	// snapshot, exactly as the upgrade test starts it.
	copyDir, err := os.MkdirTemp("", "omnigate-fixture-copy-")
	if err != nil {
		fail("%v", err)
	}
	defer os.RemoveAll(copyDir)
	restoreSQLite(filepath.Join(out, "sqlite"), copyDir)
	srv, err := startServer(baseConfig(copyDir, ""), log)
	if err != nil {
		fail("starting on the snapshot: %v", err)
	}
	g.capture(srv, filepath.Join(out, "golden", "sqlite"))
	if err := srv.stop(); err != nil {
		fail("stopping: %v", err)
	}
}

func genPostgres(out, base string, log *slog.Logger) {
	g := newGen("postgres", log)
	defer g.close()
	dbURL, schema, drop := newSchema(base)
	defer drop()
	dataDir, err := os.MkdirTemp("", "omnigate-fixture-")
	if err != nil {
		fail("%v", err)
	}
	defer os.RemoveAll(dataDir)
	g.cfg = baseConfig(dataDir, dbURL)
	g.generate()
	step("postgres: %s", g.statusCounts())
	g.closeOperator()
	file := filepath.Join(out, postgresDB)
	dumpPostgres(base, schema, file)

	script, err := os.ReadFile(file)
	if err != nil {
		fail("%v", err)
	}
	copyURL, _, dropCopy := newSchema(base)
	defer dropCopy()
	loadPostgres(copyURL, script)
	copyDir, err := os.MkdirTemp("", "omnigate-fixture-copy-")
	if err != nil {
		fail("%v", err)
	}
	defer os.RemoveAll(copyDir)
	srv, err := startServer(baseConfig(copyDir, copyURL), log)
	if err != nil {
		fail("starting on the dump: %v", err)
	}
	g.capture(srv, filepath.Join(out, "golden", "postgres"))
	if err := srv.stop(); err != nil {
		fail("stopping: %v", err)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
