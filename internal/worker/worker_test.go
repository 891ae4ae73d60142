package worker_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
	"github.com/omnigate/omnigate/internal/worker"
)

// openStore opens a SQLite store in the test's directory, closed when the
// test ends.
func openStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	st, err := sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestHandOver: jobs handed over run at once, one reserved slot each, and
// their outcomes are committed; reservations are bounded by the free
// slots; after Stop nothing is reserved or run.
func TestHandOver(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	var mu sync.Mutex
	ran := map[int64]bool{}
	release := make(chan struct{})
	handle := func(ctx context.Context, j *store.Job) *store.Outcome {
		<-release
		mu.Lock()
		ran[j.ID] = true
		mu.Unlock()
		return &store.Outcome{}
	}
	committed := make(chan int, 10)
	after := func(outs []*store.Outcome) { committed <- len(outs) }
	p := worker.New(worker.Config{Kind: "custom", Batch: 2, Concurrency: 3, Owner: "node-a", Lease: time.Minute},
		st, handle, after, slog.New(slog.DiscardHandler))

	n, owner, lease := p.Reserve(5)
	if n != 3 || owner != "node-a" || lease != time.Minute {
		t.Fatalf("Reserve(5) = %d, %q, %v; want the 3 free slots, node-a, 1m", n, owner, lease)
	}
	if n, _, _ := p.Reserve(1); n != 0 {
		t.Fatalf("reserved %d slots of a full pool", n)
	}
	p.Unreserve(1)
	p.Run([]*store.Job{{ID: 1, Kind: "custom"}, {ID: 2, Kind: "custom"}})
	close(release)
	for got := 0; got < 2; {
		select {
		case n := <-committed:
			got += n
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of 2 handed jobs committed", got)
		}
	}
	mu.Lock()
	if !ran[1] || !ran[2] {
		t.Errorf("ran %v, want jobs 1 and 2", ran)
	}
	mu.Unlock()

	// A slot reserved before Stop, its job handed over after: not run.
	if n, _, _ := p.Reserve(1); n != 1 {
		t.Fatalf("reserved %d slots of an idle pool", n)
	}
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := p.Reserve(1); n != 0 {
		t.Errorf("reserved %d slots after Stop", n)
	}
	p.Run([]*store.Job{{ID: 3, Kind: "custom"}})
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if ran[3] {
		t.Error("a job handed over after Stop ran")
	}
}

// TestHandOverPreloads: jobs handed over without their message (status
// reports stored leased by a receipt) have it read by the pool's Preload
// first, in one call; those that carry theirs are not read again.
func TestHandOverPreloads(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	var mu sync.Mutex
	var preloaded [][]int64
	got := map[int64]string{} // job → the message its handler saw
	done := make(chan struct{}, 3)
	preload := func(ctx context.Context, jobs []*store.Job) {
		mu.Lock()
		defer mu.Unlock()
		var ids []int64
		for _, j := range jobs {
			ids = append(ids, j.ID)
			j.Message = &message.Message{ID: j.MessageID, Body: "read"}
		}
		preloaded = append(preloaded, ids)
	}
	handle := func(ctx context.Context, j *store.Job) *store.Outcome {
		mu.Lock()
		if j.Message != nil {
			got[j.ID] = j.Message.Body
		}
		mu.Unlock()
		done <- struct{}{}
		return &store.Outcome{}
	}
	p := worker.New(worker.Config{Kind: "custom", Batch: 4, Owner: "node-a", Lease: time.Minute, Preload: preload},
		st, handle, nil, slog.New(slog.DiscardHandler))
	defer p.Stop(ctx)
	if n, _, _ := p.Reserve(3); n != 3 {
		t.Fatalf("reserved %d of 3", n)
	}
	p.Run([]*store.Job{{ID: 1, Kind: "custom", MessageID: "m1"}, {ID: 2, Kind: "custom", MessageID: "m2", Message: &message.Message{ID: "m2", Body: "carried"}},
		{ID: 3, Kind: "custom", MessageID: "m3"}})
	for range 3 {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("handed jobs did not run")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(preloaded) != 1 || len(preloaded[0]) != 2 || preloaded[0][0] != 1 || preloaded[0][1] != 3 {
		t.Errorf("preloaded %v, want jobs 1 and 3 in one call", preloaded)
	}
	if got[1] != "read" || got[2] != "carried" || got[3] != "read" {
		t.Errorf("handlers saw %v", got)
	}
}

// TestLingerWhileHandling: with a commit that waits for company, an
// outcome waits for the jobs still being handled, and the batch is written
// as soon as none is: the waiting never outlasts the jobs that could join.
func TestLingerWhileHandling(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	started2, release2 := make(chan struct{}), make(chan struct{})
	handle := func(ctx context.Context, j *store.Job) *store.Outcome {
		if j.ID == 1 {
			<-started2 // job 2 is being handled when job 1's outcome is
		} else {
			close(started2)
			<-release2
		}
		return &store.Outcome{}
	}
	committed := make(chan int, 10)
	after := func(outs []*store.Outcome) { committed <- len(outs) }
	p := worker.New(worker.Config{Kind: "custom", Batch: 2, Concurrency: 2, Owner: "node-a", Lease: time.Minute,
		Commit: groupcommit.Config{Linger: time.Hour}}, st, handle, after, slog.New(slog.DiscardHandler))
	defer func() {
		// Bounded: a pool that waits out the hour would never stop.
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		p.Stop(sctx)
	}()
	if n, _, _ := p.Reserve(2); n != 2 {
		t.Fatalf("reserved %d of 2 slots", n)
	}
	p.Run([]*store.Job{{ID: 1, Kind: "custom"}, {ID: 2, Kind: "custom"}})
	select {
	case n := <-committed:
		t.Fatalf("%d outcome(s) committed while job 2 was being handled", n)
	case <-time.After(100 * time.Millisecond):
	}
	close(release2)
	select {
	case n := <-committed:
		if n != 2 {
			t.Errorf("committed %d outcomes together, want both", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the outcomes waited for more after no job was being handled")
	}
}
