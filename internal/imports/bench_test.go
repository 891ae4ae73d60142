package imports_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// generated is a file of n rows made as it is read: head, then row(i)
// for each i from 0.
type generated struct {
	n, i    int
	head    string
	row     func(buf []byte, i int) []byte
	started bool
	buf     []byte
}

// registryFile is a registry of n numbers (every third number from
// 917000000000 on, as registry() writes them).
func registryFile(n int) *generated {
	return &generated{n: n, row: func(buf []byte, i int) []byte {
		return fmt.Appendf(buf, "91%010d,2025-01-15\n", 7000000000+3*i)
	}}
}

func (g *generated) Read(p []byte) (int, error) {
	if !g.started {
		g.buf, g.started = append(g.buf, g.head...), true
	}
	for len(g.buf) < len(p) && g.i < g.n {
		g.buf = g.row(g.buf, g.i)
		g.i++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// benchRows is OMNIGATE_BENCH_<name>_ROWS, 10,000 if not set.
func benchRows(name string) int {
	if v := os.Getenv("OMNIGATE_BENCH_" + name + "_ROWS"); v != "" {
		n, _ := strconv.Atoi(v)
		return n
	}
	return 10000
}

// benchStore opens the engine's store for a screening benchmark:
// OMNIGATE_BENCH_<name>_SQLITE (a file) or OMNIGATE_BENCH_<name>_POSTGRES
// (a URL) when set, so that a loaded database is kept between runs, else
// a new one. It is closed at the benchmark's end.
func benchStore(b *testing.B, engine, name string) *sqlstore.Store {
	var st *sqlstore.Store
	var err error
	if engine == "postgres" {
		url := os.Getenv("OMNIGATE_BENCH_" + name + "_POSTGRES")
		if url == "" {
			if !pgtest.Available() {
				b.Skip(pgtest.EnvVar + " is not set")
			}
			url = pgtest.URL(b)
		}
		st, err = postgres.Open(ctx, postgres.Config{URL: url})
	} else {
		path := os.Getenv("OMNIGATE_BENCH_" + name + "_SQLITE")
		if path == "" {
			path = filepath.Join(b.TempDir(), "bench.db")
		}
		st, err = sqlite.Open(ctx, sqlite.Config{Path: path, Synchronous: sqlite.SyncNormal})
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkScreenDND measures send-time screening (Store.Screen, marketing:
// every query of the check) of 1 and of 50 recipients, half of them
// listed, against a registry of OMNIGATE_BENCH_DND_ROWS numbers (default
// 10,000). The registry is loaded through RunDND unless the database has
// it already: OMNIGATE_BENCH_DND_SQLITE (a file) and
// OMNIGATE_BENCH_DND_POSTGRES (a URL) keep a loaded database between runs
// (bench/results/2026-12-04-imports.md has the commands for 1M–100M).
func BenchmarkScreenDND(b *testing.B) {
	rows := benchRows("DND")
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			st := benchStore(b, engine, "DND")
			var have int
			if err := st.Writer().QueryRowContext(ctx, `SELECT COUNT(*) FROM dnd WHERE registry = 'BENCH'`).Scan(&have); err != nil {
				b.Fatal(err)
			}
			if have != rows {
				rn := imports.New(st)
				p := imports.DNDParams{Registry: "BENCH", Scope: store.DNDAll, Replace: true}
				im, err := rn.Job(ctx, store.ImportDND, "", false, p, "bench", 0)
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := rn.RunDND(ctx, im, registryFile(rows), p, nil); err != nil {
					b.Fatal(err)
				}
				rn.Close()
				b.Logf("loaded %d numbers in %v", rows, time.Since(start).Round(time.Millisecond))
			}
			for _, n := range []int{1, 50} {
				b.Run(fmt.Sprintf("recipients=%d", n), func(b *testing.B) {
					rnd := rand.New(rand.NewPCG(1, 2))
					batch := make([]string, n)
					listed, want := 0, 0
					on := map[string]bool{}
					for b.Loop() {
						clear(on)
						for j := range batch {
							// Half on the registry, half beside it.
							i := rnd.IntN(rows)
							batch[j] = strconv.FormatInt(917000000000+3*int64(i)+int64(j%2), 10)
							if j%2 == 0 {
								on[batch[j]] = true
							}
						}
						want += len(on)
						sc, err := st.Screen(ctx, "acc", "sms", batch, true, time.Time{})
						if err != nil {
							b.Fatal(err)
						}
						listed += len(sc.Listed)
					}
					if listed != want {
						b.Fatalf("%d listed, want %d", listed, want)
					}
				})
			}
		})
	}
}

// BenchmarkScreenSuppressions measures send-time screening (Store.Screen,
// marketing, email) of 1 and of 50 recipients, half of them suppressed,
// for an account with OMNIGATE_BENCH_SUPPRESSIONS_ROWS suppressions
// (default 10,000), loaded through RunSuppressions unless the database has
// them already: OMNIGATE_BENCH_SUPPRESSIONS_SQLITE (a file) and
// OMNIGATE_BENCH_SUPPRESSIONS_POSTGRES (a URL) keep a loaded database
// between runs.
func BenchmarkScreenSuppressions(b *testing.B) {
	rows := benchRows("SUPPRESSIONS")
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			st := benchStore(b, engine, "SUPPRESSIONS")
			var have int
			if err := st.Writer().QueryRowContext(ctx, `SELECT COUNT(*) FROM suppressions WHERE account_id = 'bench'`).Scan(&have); err != nil {
				b.Fatal(err)
			}
			if have != rows {
				if _, err := st.Writer().ExecContext(ctx, `DELETE FROM suppressions WHERE account_id = 'bench'`); err != nil {
					b.Fatal(err)
				}
				rn := imports.New(st)
				im, err := rn.Job(ctx, store.ImportSuppressions, "bench", false, struct{}{}, "bench", 0)
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if _, err := rn.RunSuppressions(ctx, im, &generated{n: rows, head: "channel,recipient,reason\n",
					row: func(buf []byte, i int) []byte { return fmt.Appendf(buf, "email,u%d@example.com,unsubscribe\n", i) }}, "bench", nil); err != nil {
					b.Fatal(err)
				}
				rn.Close()
				b.Logf("loaded %d suppressions in %v", rows, time.Since(start).Round(time.Millisecond))
			}
			for _, n := range []int{1, 50} {
				b.Run(fmt.Sprintf("recipients=%d", n), func(b *testing.B) {
					rnd := rand.New(rand.NewPCG(1, 2))
					batch := make([]string, n)
					suppressed, want := 0, 0
					on := map[string]bool{}
					for b.Loop() {
						clear(on)
						for j := range batch {
							// Half on the list, half beside it.
							if j%2 == 0 {
								batch[j] = fmt.Sprintf("u%d@example.com", rnd.IntN(rows))
								on[batch[j]] = true
							} else {
								batch[j] = fmt.Sprintf("v%d@example.com", rnd.IntN(rows))
							}
						}
						want += len(on)
						sc, err := st.Screen(ctx, "bench", "email", batch, true, time.Time{})
						if err != nil {
							b.Fatal(err)
						}
						suppressed += len(sc.Suppressed)
					}
					if suppressed != want {
						b.Fatalf("%d suppressed, want %d", suppressed, want)
					}
				})
			}
		})
	}
}
