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

// generated is a registry file of n numbers made as it is read (every
// third number from 917000000000 on, as registry() writes them).
type generated struct {
	n, i int
	buf  []byte
}

func (g *generated) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.i < g.n {
		g.buf = fmt.Appendf(g.buf, "91%010d,2025-01-15\n", 7000000000+3*g.i)
		g.i++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// BenchmarkScreenDND measures send-time screening (Store.Screen, marketing:
// every query of the check) of 1 and of 50 recipients, half of them
// listed, against a registry of OMNIGATE_BENCH_DND_ROWS numbers (default
// 10,000). The registry is loaded through RunDND unless the database has
// it already: OMNIGATE_BENCH_DND_SQLITE (a file) and
// OMNIGATE_BENCH_DND_POSTGRES (a URL) keep a loaded database between runs
// (bench/results/2026-12-04-imports.md has the commands for 1M–100M).
func BenchmarkScreenDND(b *testing.B) {
	rows := 10000
	if v := os.Getenv("OMNIGATE_BENCH_DND_ROWS"); v != "" {
		rows, _ = strconv.Atoi(v)
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var st *sqlstore.Store
			var err error
			if engine == "postgres" {
				url := os.Getenv("OMNIGATE_BENCH_DND_POSTGRES")
				if url == "" {
					if !pgtest.Available() {
						b.Skip(pgtest.EnvVar + " is not set")
					}
					url = pgtest.URL(b)
				}
				st, err = postgres.Open(ctx, postgres.Config{URL: url})
			} else {
				path := os.Getenv("OMNIGATE_BENCH_DND_SQLITE")
				if path == "" {
					path = filepath.Join(b.TempDir(), "bench.db")
				}
				st, err = sqlite.Open(ctx, sqlite.Config{Path: path, Synchronous: sqlite.SyncNormal})
			}
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
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
				if err := rn.RunDND(ctx, im, &generated{n: rows}, p, nil); err != nil {
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

// generatedSuppressions is an account's suppression file of n email addresses
// (u0@example.com, u1@…), made as it is read.
type generatedSuppressions struct {
	n, i int
	buf  []byte
}

func (g *generatedSuppressions) Read(p []byte) (int, error) {
	if g.i == 0 && len(g.buf) == 0 {
		g.buf = append(g.buf, "channel,recipient,reason\n"...)
	}
	for len(g.buf) < len(p) && g.i < g.n {
		g.buf = fmt.Appendf(g.buf, "email,u%d@example.com,unsubscribe\n", g.i)
		g.i++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// BenchmarkScreenSuppressions measures send-time screening (Store.Screen,
// marketing, email) of 1 and of 50 recipients, half of them suppressed,
// for an account with OMNIGATE_BENCH_SUPPRESSIONS_ROWS suppressions
// (default 10,000), loaded through RunSuppressions unless the database has
// them already: OMNIGATE_BENCH_SUPPRESSIONS_SQLITE (a file) and
// OMNIGATE_BENCH_SUPPRESSIONS_POSTGRES (a URL) keep a loaded database
// between runs.
func BenchmarkScreenSuppressions(b *testing.B) {
	rows := 10000
	if v := os.Getenv("OMNIGATE_BENCH_SUPPRESSIONS_ROWS"); v != "" {
		rows, _ = strconv.Atoi(v)
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var st *sqlstore.Store
			var err error
			if engine == "postgres" {
				url := os.Getenv("OMNIGATE_BENCH_SUPPRESSIONS_POSTGRES")
				if url == "" {
					if !pgtest.Available() {
						b.Skip(pgtest.EnvVar + " is not set")
					}
					url = pgtest.URL(b)
				}
				st, err = postgres.Open(ctx, postgres.Config{URL: url})
			} else {
				path := os.Getenv("OMNIGATE_BENCH_SUPPRESSIONS_SQLITE")
				if path == "" {
					path = filepath.Join(b.TempDir(), "bench.db")
				}
				st, err = sqlite.Open(ctx, sqlite.Config{Path: path, Synchronous: sqlite.SyncNormal})
			}
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
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
				if _, err := rn.RunSuppressions(ctx, im, &generatedSuppressions{n: rows}, "bench", nil); err != nil {
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
