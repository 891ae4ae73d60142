package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// nodes opens n stores on one database of the engine, as n processes do.
func nodes(t *testing.T, engine string, n int) []*sqlstore.Store {
	t.Helper()
	var out []*sqlstore.Store
	var url, path string
	if engine == "postgres" {
		url = pgtest.URL(t)
	} else {
		path = filepath.Join(t.TempDir(), "omnigate.db")
	}
	for i := 0; i < n; i++ {
		var st *sqlstore.Store
		var err error
		if engine == "postgres" {
			st, err = postgres.Open(context.Background(), postgres.Config{URL: url, MaxConns: 4})
		} else {
			st, err = sqlite.Open(context.Background(), sqlite.Config{Path: path, Synchronous: sqlite.SyncNormal})
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out = append(out, st)
	}
	return out
}

func engines(t *testing.T, f func(t *testing.T, engine string)) {
	for _, e := range []string{"sqlite", "postgres"} {
		t.Run(e, func(t *testing.T) {
			if e == "postgres" && !pgtest.Available() {
				t.Skip(pgtest.EnvVar + " is not set")
			}
			f(t, e)
		})
	}
}

// Three nodes appending at once make one linear chain: every row numbered
// once, each pointing at the one before, and Verify holds.
func TestChainIsLinearAcrossNodes(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		sts := nodes(t, engine, 3)
		ctx := context.Background()
		var wg sync.WaitGroup
		const each = 40
		for i, st := range sts {
			l := audit.NewLog(st, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < each; j++ {
					if err := l.Record(ctx, audit.Change{Actor: audit.Operator("node"), Account: "acc", Action: "test",
						Object: strings.Repeat("x", i), After: map[string]int{"j": j}}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		res, err := audit.NewLog(sts[0], nil).Verify(ctx)
		if err != nil || res.Rows != 3*each {
			t.Fatalf("verify: %+v %v", res, err)
		}
		// Removing the last row is seen by the head.
		db := sts[0].Writer()
		drop := `DROP TRIGGER audit_log_no_delete`
		if engine == "postgres" {
			drop = `DROP TRIGGER audit_log_no_change ON audit_log`
		}
		if _, err := db.Exec(drop); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`DELETE FROM audit_log WHERE seq = 120`); err != nil {
			t.Fatal(err)
		}
		var b *audit.Break
		if _, err := audit.Verify(ctx, sts[1]); !errors.As(err, &b) || b.Seq != 120 {
			t.Fatalf("verify after removing the last row: %v", err)
		}
		if _, err := db.Exec(`DELETE FROM audit_log WHERE seq = 7`); err != nil {
			t.Fatal(err)
		}
		if _, err := audit.Verify(ctx, sts[1]); !errors.As(err, &b) || b.Seq != 7 || !strings.Contains(b.Reason, "missing") {
			t.Fatalf("verify after removing row 7: %v", err)
		}
	})
}

// Secrets are masked at any depth, by name; other fields stay.
func TestMaskedJSON(t *testing.T) {
	got, err := audit.MaskedJSON(json.RawMessage(`{"name":"a","secret":"s3","nested":{"authToken":"t","signing_key":"k","keyId":"k1"},
		"list":[{"password":"p"}],"apiKey":"","token":null}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiKey":"","list":[{"password":"[masked]"}],"name":"a","nested":{"authToken":"[masked]","keyId":"k1","signing_key":"[masked]"},"secret":"[masked]","token":null}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got, _ := audit.MaskedJSON([]byte("a,b,c\n")); got != `"(6 bytes, not JSON)"` {
		t.Fatalf("not JSON: %s", got)
	}
	if got, _ := audit.MaskedJSON(nil); got != "" {
		t.Fatalf("nil: %q", got)
	}
}

// Whatever bytes come in, MaskedJSON answers JSON (or ""), and no secret
// value survives.
func FuzzMaskedJSON(f *testing.F) {
	for _, s := range []string{`{"secret":"x"}`, `[{"a":{"token":"y"}}]`, `"s"`, `12`, `{`, ``, `{"key":{"key":"z"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := audit.MaskedJSON(in)
		if err != nil {
			t.Fatal(err)
		}
		if out != "" && !json.Valid([]byte(out)) {
			t.Fatalf("not JSON: %q", out)
		}
	})
}
