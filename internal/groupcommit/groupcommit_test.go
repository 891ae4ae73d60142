package groupcommit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// held builds a flush that blocks its first call until released, so that a
// test can queue requests behind it, and records every batch it writes.
type held struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	batches [][]int
	fail    func(items []int) error
}

func newHeld() *held {
	return &held{entered: make(chan struct{}), release: make(chan struct{})}
}

func (h *held) flush(ctx context.Context, items []int) error {
	h.once.Do(func() { close(h.entered); <-h.release })
	h.mu.Lock()
	h.batches = append(h.batches, append([]int(nil), items...))
	h.mu.Unlock()
	if h.fail != nil {
		return h.fail(items)
	}
	return nil
}

// run submits item 0, waits until its flush is held, submits 1..n-1 with
// the given weight, waits until they are all queued, then releases.
func run(t *testing.T, c *Committer[int], h *held, n, weight int) []error {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); errs[0] = c.Submit(context.Background(), 0, weight) }()
	<-h.entered
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.Submit(context.Background(), i, weight) }()
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(c.in) < n-1 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests queued", len(c.in), n-1)
		}
		time.Sleep(time.Millisecond)
	}
	close(h.release)
	wg.Wait()
	return errs
}

func TestBatchesConcurrentSubmits(t *testing.T) {
	h := newHeld()
	c := New(Config{}, h.flush)
	for i, err := range run(t, c, h, 100, 1) {
		if err != nil {
			t.Errorf("item %d: %v", i, err)
		}
	}
	if len(h.batches) != 2 || len(h.batches[0]) != 1 || len(h.batches[1]) != 99 {
		t.Fatalf("batch sizes %v, want [1 99]", sizes(h.batches))
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Submit(context.Background(), 1, 1); !errors.Is(err, ErrStopped) {
		t.Fatalf("Submit after Stop = %v, want ErrStopped", err)
	}
}

func TestBadItemFailsAlone(t *testing.T) {
	bad := errors.New("bad item")
	h := newHeld()
	h.fail = func(items []int) error {
		for _, it := range items {
			if it == 7 {
				return bad
			}
		}
		return nil
	}
	c := New(Config{}, h.flush)
	defer c.Stop(context.Background())
	for i, err := range run(t, c, h, 10, 1) {
		if (i == 7) != errors.Is(err, bad) {
			t.Errorf("item %d: err %v", i, err)
		}
	}
}

func TestWeightBound(t *testing.T) {
	h := newHeld()
	c := New(Config{MaxWeight: 10}, h.flush)
	defer c.Stop(context.Background())
	run(t, c, h, 50, 5)
	for _, b := range h.batches {
		if len(b) > 2 {
			t.Fatalf("batch sizes %v: a batch over weight 10", sizes(h.batches))
		}
	}
	if len(h.batches) != 26 {
		t.Fatalf("batch sizes %v, want 1 then 25 batches of 2", sizes(h.batches))
	}
}

func TestStopWritesQueued(t *testing.T) {
	h := newHeld()
	c := New(Config{}, h.flush)
	errs := make(chan error, 5)
	go func() { errs <- c.Submit(context.Background(), 0, 1) }()
	<-h.entered
	for i := 1; i < 5; i++ {
		go func() { errs <- c.Submit(context.Background(), i, 1) }()
	}
	for len(c.in) < 4 {
		time.Sleep(time.Millisecond)
	}
	stopped := make(chan error)
	go func() { stopped <- c.Stop(context.Background()) }()
	close(h.release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("queued item lost at stop: %v", err)
		}
	}
}

func sizes(bs [][]int) []int {
	var out []int
	for _, b := range bs {
		out = append(out, len(b))
	}
	return out
}

// LingerIf decides each wait: false writes a lone item at once however
// long Linger is; true waits for more, here until the batch is full.
func TestLingerIf(t *testing.T) {
	var mu sync.Mutex
	var batches [][]int
	flush := func(ctx context.Context, items []int) error {
		mu.Lock()
		batches = append(batches, append([]int(nil), items...))
		mu.Unlock()
		return nil
	}
	var linger sync.Mutex
	wait := false
	c := New(Config{MaxWeight: 2, Linger: time.Hour, LingerIf: func() bool {
		linger.Lock()
		defer linger.Unlock()
		return wait
	}}, flush)
	defer c.Stop(context.Background())

	if err := c.Submit(context.Background(), 1, 1); err != nil {
		t.Fatal(err) // an hour's linger would have timed the test out
	}
	linger.Lock()
	wait = true
	linger.Unlock()
	done := make(chan error, 1)
	go func() { done <- c.Submit(context.Background(), 2, 1) }()
	// The flusher holds item 2 for more; item 3 fills the batch.
	deadline := time.Now().Add(10 * time.Second)
	for c.Queued() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("item 2 was not taken")
		}
		time.Sleep(time.Millisecond)
	}
	if err := c.Submit(context.Background(), 3, 1); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != 2 {
		t.Fatalf("batches %v, want [[1] [2 3]]", batches)
	}
}

func TestPace(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	// steady takes n items every step for d.
	steady := func(p *pace, start time.Time, d, step time.Duration, n int) time.Time {
		at := start
		for ; at.Before(start.Add(d)); at = at.Add(step) {
			p.took(n, at)
		}
		return at
	}
	var p pace
	if r := p.rate(t0); r != 0 {
		t.Errorf("rate %.0f before any item", r)
	}
	// 1,600 items a second (two every 1.25 ms).
	end := steady(&p, t0, time.Second, 1250*time.Microsecond, 2)
	if r := p.rate(end); r < 1500 || r > 1700 {
		t.Errorf("rate %.0f at 1,600 items a second", r)
	}
	// The load stopped: after a pause the rate is 0, not the last one.
	if r := p.rate(end.Add(time.Second)); r != 0 {
		t.Errorf("rate %.0f a second after the last item", r)
	}
	var light pace
	end = steady(&light, t0, time.Second, 5*time.Millisecond, 1)
	if r := light.rate(end); r < 190 || r > 210 {
		t.Errorf("rate %.0f at 200 items a second", r)
	}
}

// LingerRate: a committer whose items come rarely does not wait.
func TestLingerRate(t *testing.T) {
	c := New(Config{Linger: time.Hour, LingerRate: 1000}, func(context.Context, []int) error { return nil })
	defer c.Stop(context.Background())
	for i := range 3 {
		if err := c.Submit(context.Background(), i, 1); err != nil {
			t.Fatal(err) // an hour's linger would have timed the test out
		}
	}
	// At 2,000 items a second over the last 150 ms it does.
	busy := New(Config{Linger: time.Hour, LingerRate: 1000}, func(context.Context, []int) error { return nil })
	defer busy.Stop(context.Background())
	start := time.Now().Add(-150 * time.Millisecond)
	for i := range 300 {
		busy.pace.took(1, start.Add(time.Duration(i)*500*time.Microsecond))
	}
	if wait, _ := busy.lingers(1); !wait {
		t.Errorf("does not linger at %.0f items a second", busy.pace.rate(time.Now()))
	}
	// It waits while items keep coming, but stops once none has come for
	// twice their interval (1 ms at 2,000 a second), not after an hour.
	if err := busy.Submit(context.Background(), 1, 1); err != nil {
		t.Fatal(err)
	}
}

// LingerBelow: a flusher that found a batch queued writes it at once.
func TestLingerBelow(t *testing.T) {
	c := New(Config{Linger: time.Hour, LingerBelow: 3}, func(context.Context, []int) error { return nil })
	defer c.Stop(context.Background())
	two, _ := c.lingers(2)
	three, _ := c.lingers(3)
	if !two || three {
		t.Errorf("lingers(2) = %v, lingers(3) = %v; want true, false", two, three)
	}
}

// LingerIf is asked again while the flusher waits: once it says no more
// items will come, the batch is written without waiting out Linger.
func TestLingerIfEndsWait(t *testing.T) {
	var mu sync.Mutex
	more, asked := true, 0
	var batches [][]int
	c := New(Config{Linger: time.Hour, LingerIf: func() bool {
		mu.Lock()
		defer mu.Unlock()
		asked++
		return more
	}}, func(_ context.Context, items []int) error {
		mu.Lock()
		batches = append(batches, append([]int(nil), items...))
		mu.Unlock()
		return nil
	})
	defer c.Stop(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Submit(context.Background(), 1, 1) }()
	// Once asked, the flusher waits with item 1.
	deadline := time.Now().Add(10 * time.Second)
	for {
		time.Sleep(time.Millisecond)
		mu.Lock()
		if asked > 0 {
			more = false
			mu.Unlock()
			break
		}
		mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("item 1 was not taken")
		}
	}
	if err := c.Submit(context.Background(), 2, 1); err != nil {
		t.Fatal(err) // an hour's linger would have timed the test out
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(batches) != 1 || len(batches[0]) != 2 {
		t.Fatalf("batches %v, want [[1 2]]", batches)
	}
}
