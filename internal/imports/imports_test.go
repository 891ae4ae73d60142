package imports_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/postgres/postgrestest"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

var ctx = context.Background()

// engines runs f on a fresh SQLite store, and on PostgreSQL when
// OMNIGATE_TEST_POSTGRES is set.
func engines(t *testing.T, f func(t *testing.T, st *sqlstore.Store)) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			var st *sqlstore.Store
			var err error
			if engine == "postgres" {
				if !pgtest.Available() {
					t.Skip(pgtest.EnvVar + " is not set")
				}
				st, err = postgres.Open(ctx, postgres.Config{URL: postgrestest.URL(t)})
			} else {
				st, err = sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "imports.db"), Synchronous: sqlite.SyncNormal})
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			f(t, st)
		})
	}
}

// registry is a file of n numbers from 91700000000 on (every third), a
// header row and a date on each.
func registry(n int, extra ...string) string {
	var b strings.Builder
	b.WriteString("number,listed\n")
	for i := range n {
		fmt.Fprintf(&b, "91%010d,2025-01-15\n", 7000000000+3*i)
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

func staged(t *testing.T, st *sqlstore.Store) int {
	t.Helper()
	var n int
	if err := st.Writer().QueryRowContext(ctx, `SELECT COUNT(*) FROM dnd_staging`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func dndCount(t *testing.T, st *sqlstore.Store, registry string) int {
	t.Helper()
	var n int
	q := `SELECT COUNT(*) FROM dnd WHERE registry = '` + registry + `'`
	if err := st.Writer().QueryRowContext(ctx, q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A registry file streams into staging in batches (more rows than one
// batch), is merged in at the end, and the import's row says so; a new
// full edition (replace) drops what is not in it.
func TestDNDImport(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		rn := imports.New(st)
		defer rn.Close()
		p := imports.DNDParams{Registry: "IN-NCPR", Scope: store.DNDMarketing}
		// 12,000 numbers (three staging batches), one of them twice with
		// another date, one prefix.
		file := registry(12000, "+917000000000,2025-02-01", "9180")
		im, err := rn.Job(ctx, store.ImportDND, "", false, p, "test", int64(len(file)))
		if err != nil {
			t.Fatal(err)
		}
		var seen []imports.Status
		if err := rn.RunDND(ctx, im, strings.NewReader(file), p, func(s imports.Status) { seen = append(seen, s) }); err != nil {
			t.Fatal(err)
		}
		got, err := st.GetImport(ctx, "", false, im.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != store.ImportDone || got.Imported != 12001 || got.RowsRead != 12003 || got.BytesRead != int64(len(file)) || got.FinishedAt.IsZero() {
			t.Fatalf("import after its end: %+v", got)
		}
		if len(seen) == 0 || !seen[len(seen)-1].Merging || seen[len(seen)-1].Rows != 12003 {
			t.Fatalf("progress: %+v", seen)
		}
		if n := dndCount(t, st, "IN-NCPR"); n != 12001 {
			t.Fatalf("%d entries, want 12001", n)
		}
		if n := staged(t, st); n != 0 {
			t.Fatalf("%d staged rows left", n)
		}
		listed, err := st.DNDListed(ctx, []string{"917000000000", "917000035997", "917000035998", "918012345678", "31612345678"})
		if err != nil {
			t.Fatal(err)
		}
		if len(listed) != 3 || listed["917000035997"] != "IN-NCPR" || listed["918012345678"] != "IN-NCPR" || listed["917000000000"] != "IN-NCPR" {
			t.Fatalf("listed: %v", listed)
		}
		// Marketing only: a transactional message passes, marketing does not.
		sc, err := st.Screen(ctx, "acc", "sms", []string{"917000000003"}, false, time.Time{})
		if err != nil || len(sc.Listed) != 0 {
			t.Fatalf("transactional screening: %+v %v", sc, err)
		}
		if sc, err = st.Screen(ctx, "acc", "sms", []string{"917000000003"}, true, time.Time{}); err != nil || sc.Listed["917000000003"] != "IN-NCPR" {
			t.Fatalf("marketing screening: %+v %v", sc, err)
		}

		// The next full edition: 10 numbers, for every message.
		p2 := imports.DNDParams{Registry: "IN-NCPR", Scope: store.DNDAll, Replace: true}
		im2, _ := rn.Job(ctx, store.ImportDND, "", false, p2, "test", 0)
		if err := rn.RunDND(ctx, im2, strings.NewReader(registry(10)), p2, nil); err != nil {
			t.Fatal(err)
		}
		if n := dndCount(t, st, "IN-NCPR"); n != 10 || im2.Imported != 10 {
			t.Fatalf("after the new edition: %d entries, imported %d", n, im2.Imported)
		}
		if sc, err = st.Screen(ctx, "acc", "sms", []string{"917000000003"}, false, time.Time{}); err != nil || sc.Listed["917000000003"] != "IN-NCPR" {
			t.Fatalf("screening after the new edition: %+v %v", sc, err)
		}
		if sc, err = st.Screen(ctx, "acc", "sms", []string{"918012345678"}, true, time.Time{}); err != nil || len(sc.Listed) != 0 {
			t.Fatalf("a prefix off the new edition: %+v %v", sc, err)
		}
		list, err := st.ListImports(ctx, "", false, 10)
		if err != nil || len(list) != 2 || list[0].ID != im2.ID {
			t.Fatalf("list: %+v %v", list, err)
		}
	})
}

// A file with bad rows changes nothing: every bad row is reported by line
// (the first store.MaxImportErrors kept, all counted), the staging is
// dropped, the import is failed.
func TestDNDImportBadRows(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		rn := imports.New(st)
		defer rn.Close()
		p := imports.DNDParams{Registry: "NL", Scope: store.DNDAll}
		im, _ := rn.Job(ctx, store.ImportDND, "", false, p, "test", 0)
		if err := rn.RunDND(ctx, im, strings.NewReader("3120\n3130\n"), p, nil); err != nil {
			t.Fatal(err)
		}
		// Bad rows after more than a staging batch of good ones.
		var extra []string
		for range store.MaxImportErrors + 5 {
			extra = append(extra, "31x")
		}
		file := registry(6000, append([]string{"3140,yesterday"}, extra...)...)
		im, _ = rn.Job(ctx, store.ImportDND, "", false, p, "test", 0)
		err := rn.RunDND(ctx, im, strings.NewReader(file), p, nil)
		var bad *imports.ImportError
		if !errors.As(err, &bad) || bad.Count != store.MaxImportErrors+6 || len(bad.Rows) != store.MaxImportErrors ||
			bad.Rows[0] != `line 6002: date "yesterday": write it as YYYY-MM-DD` || !strings.HasPrefix(bad.Rows[1], "line 6003: ") {
			t.Fatalf("bad rows: %v", err)
		}
		got, _ := st.GetImport(ctx, "", false, im.ID)
		if got.State != store.ImportFailed || got.ErrorCount != bad.Count || len(got.Errors) != store.MaxImportErrors || got.Errors[0] != bad.Rows[0] || got.Imported != 0 {
			t.Fatalf("failed import: %+v", got)
		}
		if n := dndCount(t, st, "NL"); n != 2 {
			t.Fatalf("the registry has %d entries, want the 2 it had", n)
		}
		if n := staged(t, st); n != 0 {
			t.Fatalf("%d staged rows left", n)
		}
		// No numbers at all.
		im, _ = rn.Job(ctx, store.ImportDND, "", false, p, "test", 0)
		if err := rn.RunDND(ctx, im, strings.NewReader("number\n\n"), p, nil); err == nil || err.Error() != "the file has no numbers" {
			t.Fatalf("empty file: %v", err)
		}
	})
}

// failingReader yields a file's start, then fails (an upload that broke).
type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

// An upload that breaks fails the import, nothing imported.
func TestDNDImportBrokenUpload(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		rn := imports.New(st)
		defer rn.Close()
		p := imports.DNDParams{Registry: "NL", Scope: store.DNDAll}
		im, _ := rn.Job(ctx, store.ImportDND, "", false, p, "test", 0)
		err := rn.RunDND(ctx, im, &failingReader{strings.NewReader(registry(7000))}, p, nil)
		if err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Fatalf("broken upload: %v", err)
		}
		if got, _ := st.GetImport(ctx, "", false, im.ID); got.State != store.ImportFailed || dndCount(t, st, "NL") != 0 || staged(t, st) != 0 {
			t.Fatalf("after a broken upload: %+v", got)
		}
	})
}

// An import whose process stopped (no heartbeat for StaleAfter) is failed
// by the next Sweep, its staged rows dropped, and can no longer merge.
func TestStaleImportFails(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		rn := imports.New(st)
		defer rn.Close()
		now := time.Now().UTC()
		rn.Now = func() time.Time { return now.Add(-2 * imports.StaleAfter) }
		p := imports.DNDParams{Registry: "NL", Scope: store.DNDAll}
		im, _ := rn.Job(ctx, store.ImportDND, "", false, p, "test", 0)
		fresh, _ := rn.Job(ctx, store.ImportDND, "", false, p, "test", 0)
		if err := st.StageDND(ctx, im.ID, []store.DNDEntry{{Prefix: "3120", ListedAt: now}, {Prefix: "3120", ListedAt: now}}); err != nil {
			t.Fatal(err)
		}
		if err := st.ImportProgress(ctx, fresh.ID, 0, 0, now); err != nil { // heard of now
			t.Fatal(err)
		}
		rn.Now = func() time.Time { return now }
		if n, err := rn.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		got, _ := st.GetImport(ctx, "", false, im.ID)
		if got.State != store.ImportFailed || len(got.Errors) != 1 || !strings.Contains(got.Errors[0], "restarted") || staged(t, st) != 0 {
			t.Fatalf("stale import: %+v", got)
		}
		if got, _ := st.GetImport(ctx, "", false, fresh.ID); got.State != store.ImportRunning {
			t.Fatalf("a running import was failed: %+v", got)
		}
		im.State, im.FinishedAt = store.ImportDone, now
		if _, err := st.MergeDND(ctx, im, store.DNDImport{Registry: "NL", Scope: store.DNDAll}); !errors.Is(err, store.ErrConflict) || dndCount(t, st, "NL") != 0 {
			t.Fatalf("merging a failed import: %v", err)
		}
	})
}

// An account's import (consents here) ends done with its count, or failed
// with its bad rows; imports are the account's own.
func TestAccountImport(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		rn := imports.New(st)
		defer rn.Close()
		im, _ := rn.Job(ctx, store.ImportConsents, "acc1", false, struct{}{}, "test", 0)
		if err := rn.RunConsents(ctx, im, strings.NewReader("recipient,purpose,action\n31612345678,marketing,opt_in\n31612345679,marketing,opt_in\n"), "test", nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.GetImport(ctx, "acc1", false, im.ID); got.State != store.ImportDone || got.Imported != 2 || got.RowsRead != 2 {
			t.Fatalf("done: %+v", got)
		}
		im, _ = rn.Job(ctx, store.ImportConsents, "acc1", false, struct{}{}, "test", 0)
		err := rn.RunConsents(ctx, im, strings.NewReader("recipient,purpose,action\n31612345670,marketing,opt_in\nnope,marketing,opt_in\n"), "test", nil)
		var bad *imports.ImportError
		if !errors.As(err, &bad) || bad.Count != 1 || !strings.HasPrefix(bad.Rows[0], "line 3: ") {
			t.Fatalf("bad rows: %v", err)
		}
		if cs, _ := st.Consents(ctx, "acc1", "31612345670"); len(cs) != 0 {
			t.Fatalf("a failed import stored %v", cs)
		}
		// Another account, or a test key, does not see them.
		if _, err := st.GetImport(ctx, "acc2", false, im.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another account's import: %v", err)
		}
		if list, _ := st.ListImports(ctx, "acc1", true, 10); len(list) != 0 {
			t.Fatalf("a test key sees live imports: %+v", list)
		}
	})
}

func TestLine(t *testing.T) {
	for _, c := range []struct {
		s    imports.Status
		want string
	}{
		{imports.Status{Rows: 1234567, Elapsed: 10 * time.Second}, "1,234,567 rows  123,456 rows/s  10s"},
		{imports.Status{Rows: 500, Bytes: 250, Size: 1000, Elapsed: 5 * time.Second}, "500 rows  100 rows/s   25%  ETA 15s  5s"},
		{imports.Status{Rows: 10, Bytes: 1000, Size: 1000, Elapsed: time.Second, Merging: true}, "10 rows  10 rows/s  100%  1s  merging…"},
	} {
		if got := imports.Line(c.s); got != c.want {
			t.Errorf("Line(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}
