package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/groupcommit"
	_ "modernc.org/sqlite"
)

// openShared opens a single-writer store on a fresh SQLite file, with a
// table t (v TEXT PRIMARY KEY) to write to.
func openShared(t *testing.T) *Store {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "db")+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	s, err := Open(context.Background(), db, db, SQLite())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if s.share == nil {
		t.Fatal("a single-writer store shares no commits")
	}
	if _, err := db.Exec(`CREATE TABLE t (v TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return s
}

func insert(v string) txFunc {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, v)
		return err
	}
}

func values(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.w.Query(`SELECT v FROM t ORDER BY v`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestSharedWritesFailAlone queues writes while the writer is busy, so that
// they share one transaction, and checks that the one that fails leaves no
// trace and takes none of the others with it — even a write that changed
// rows before failing, and even when its caller has gone.
func TestSharedWritesFailAlone(t *testing.T) {
	s := openShared(t)
	ctx := context.Background()
	release := make(chan struct{})
	busy := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		busy <- s.sharedTx(ctx, "blocking", func(ctx context.Context, tx *sql.Tx) error {
			close(started)
			<-release
			return insert("a")(ctx, tx)
		})
	}()
	<-started

	boom := errors.New("boom")
	gone, cancel := context.WithCancel(ctx)
	writes := map[string]txFunc{
		"b": insert("b"),
		"c": func(ctx context.Context, tx *sql.Tx) error {
			if err := insert("c")(ctx, tx); err != nil {
				return err
			}
			return boom
		},
		"dup": insert("b"), // violates the key: fails in SQLite
		"d":   insert("d"),
		"e":   insert("e"), // its caller cancels once it is queued
	}
	results := map[string]chan error{}
	for _, k := range []string{"b", "c", "dup", "d", "e"} {
		result := make(chan error, 1)
		results[k] = result
		c := ctx
		if k == "e" {
			c = gone
		}
		f := writes[k]
		go func() { result <- s.sharedTx(c, k, f) }()
		// Wait until it is queued, so the order is known.
		for deadline := time.Now().Add(5 * time.Second); s.share.Queued() < len(results); {
			if time.Now().After(deadline) {
				t.Fatalf("write %s was not queued", k)
			}
			time.Sleep(time.Millisecond)
		}
	}
	cancel()
	close(release)

	if err := <-busy; err != nil {
		t.Fatalf("blocking write: %v", err)
	}
	for k, want := range map[string]error{"b": nil, "d": nil, "e": nil} {
		if err := <-results[k]; !errors.Is(err, want) {
			t.Errorf("write %s: %v, want %v", k, err, want)
		}
	}
	if err := <-results["c"]; !errors.Is(err, boom) {
		t.Errorf("failing write: %v, want boom", err)
	}
	if err := <-results["dup"]; err == nil {
		t.Error("duplicate key: no error")
	}
	if got, want := values(t, s), []string{"a", "b", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("committed %v, want %v", got, want)
	}
}

// TestSharedAfterClose: a write after Close fails and changes nothing.
func TestSharedAfterClose(t *testing.T) {
	s := openShared(t)
	if err := s.sharedTx(context.Background(), "before", insert("a")); err != nil {
		t.Fatal(err)
	}
	s.share.Stop(context.Background())
	if err := s.sharedTx(context.Background(), "after", insert("b")); !errors.Is(err, groupcommit.ErrStopped) {
		t.Fatalf("after close: %v", err)
	}
	if got := values(t, s); !slices.Equal(got, []string{"a"}) {
		t.Errorf("committed %v", got)
	}
}

// TestSharedJournalInMemory checks that a shared write runs with its
// statement journal in memory (temp_store 2) and that the connection goes
// back to the default (0) for the writes that do not share, such as an
// import's merge, whose journal may be as large as a registry.
func TestSharedJournalInMemory(t *testing.T) {
	s := openShared(t)
	ctx := context.Background()
	tempStore := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) int {
		t.Helper()
		var v int
		if err := q.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	var inside int
	if err := s.sharedTx(ctx, "a write", func(ctx context.Context, tx *sql.Tx) error {
		inside = tempStore(tx)
		return insert("a")(ctx, tx)
	}); err != nil {
		t.Fatal(err)
	}
	if inside != 2 {
		t.Errorf("temp_store in a shared write = %d, want 2 (memory)", inside)
	}
	if got := tempStore(s.w); got != 0 {
		t.Errorf("temp_store after a shared write = %d, want 0 (the default)", got)
	}
	if err := s.inTx(ctx, "a write of its own", func(tx *sql.Tx) error {
		inside = tempStore(tx)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if inside != 0 {
		t.Errorf("temp_store in a write that does not share = %d, want 0", inside)
	}
}

// The shared writer waits for company only while writes carry few rows
// (how often they come is groupcommit's LingerRate, tested there).
func TestSharePace(t *testing.T) {
	writes := func(rows, n int) []*shareRequest {
		b := make([]*shareRequest, n)
		for i := range b {
			b[i] = &shareRequest{rows: rows}
		}
		return b
	}
	var p sharePace
	for range 100 {
		p.wrote(writes(1, 2))
	}
	if !p.small() {
		t.Errorf("no wait at %.1f rows per write", p.rows)
	}
	// Batches under a heavy load: 40 rows each.
	for range 100 {
		p.wrote(writes(40, 2))
	}
	if p.small() {
		t.Errorf("waits at %.1f rows per write", p.rows)
	}
}
