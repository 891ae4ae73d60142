package ttlcache_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ttlcache"
)

// counter loads "key#n", n counting the loads of that key.
type counter struct {
	mu    sync.Mutex
	loads map[string]int
	fail  bool
}

func (l *counter) load(_ context.Context, k string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return "partial", errors.New("database down")
	}
	l.loads[k]++
	return fmt.Sprintf("%s#%d", k, l.loads[k]), nil
}

func get(t *testing.T, c *ttlcache.Cache[string, string], k string) string {
	t.Helper()
	v, err := c.Get(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFreshExpiredDeleted(t *testing.T) {
	l := &counter{loads: map[string]int{}}
	c := ttlcache.New(50*time.Millisecond, 100, l.load)
	if v := get(t, c, "a"); v != "a#1" {
		t.Fatalf("first Get: %q", v)
	}
	if v := get(t, c, "a"); v != "a#1" {
		t.Fatalf("fresh: %q, want the cached a#1", v)
	}
	c.Delete("a")
	if v := get(t, c, "a"); v != "a#2" {
		t.Fatalf("after Delete: %q, want a#2", v)
	}
	time.Sleep(60 * time.Millisecond)
	if v := get(t, c, "a"); v != "a#3" {
		t.Fatalf("expired: %q, want a#3", v)
	}
}

func TestErrorsAreNotKept(t *testing.T) {
	l := &counter{loads: map[string]int{}, fail: true}
	c := ttlcache.New(time.Minute, 100, l.load)
	if v, err := c.Get(context.Background(), "a"); err == nil || v != "" {
		t.Fatalf("failing load: %q, %v; want no value and the error", v, err)
	}
	l.fail = false
	if v := get(t, c, "a"); v != "a#1" {
		t.Fatalf("after the failure: %q, want a fresh load", v)
	}
}

func TestBound(t *testing.T) {
	l := &counter{loads: map[string]int{}}
	c := ttlcache.New(time.Minute, 2, l.load)
	get(t, c, "a")
	get(t, c, "b")
	get(t, c, "b") // a key already held does not count twice
	if v := get(t, c, "a"); v != "a#1" {
		t.Fatalf("a within the bound: %q", v)
	}
	get(t, c, "c") // past the bound with nothing expired: all go
	if v := get(t, c, "a"); v != "a#2" {
		t.Fatalf("a after the bound was passed: %q, want reloaded", v)
	}

	short := ttlcache.New(30*time.Millisecond, 2, l.load)
	get(t, short, "x")
	time.Sleep(40 * time.Millisecond)
	get(t, short, "y")
	get(t, short, "z") // past the bound: only the expired x goes
	if v := get(t, short, "y"); v != "y#1" {
		t.Fatalf("fresh y after the bound was passed: %q, want kept", v)
	}
}

func TestConcurrentUse(t *testing.T) {
	l := &counter{loads: map[string]int{}}
	c := ttlcache.New(time.Millisecond, 8, l.load)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				k := fmt.Sprint((g + i) % 12)
				if v, err := c.Get(context.Background(), k); err != nil || v[:len(k)+1] != k+"#" {
					t.Errorf("Get(%s) = %q, %v", k, v, err)
					return
				}
				if i%7 == 0 {
					c.Delete(k)
				}
			}
		}()
	}
	wg.Wait()
}

// TestPeek: Peek returns a fresh value without loading, and nothing for a
// key never loaded or expired.
func TestPeek(t *testing.T) {
	loads := 0
	c := ttlcache.New(50*time.Millisecond, 10, func(_ context.Context, k string) (string, error) {
		loads++
		return "v-" + k, nil
	})
	if v, ok := c.Peek("a"); ok {
		t.Fatalf("Peek before any Get = %q, true", v)
	}
	if _, err := c.Get(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Peek("a"); !ok || v != "v-a" {
		t.Fatalf("Peek after Get = %q, %v", v, ok)
	}
	time.Sleep(60 * time.Millisecond)
	if v, ok := c.Peek("a"); ok {
		t.Fatalf("Peek after expiry = %q, true", v)
	}
	if loads != 1 {
		t.Fatalf("%d loads, want 1 (Peek never loads)", loads)
	}
}
