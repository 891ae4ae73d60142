package smpp

import (
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/worker"
)

// TestRedial: the wait before a reconnect doubles, jittered, with each bind
// in a row that did not work, up to the maximum, and starts over from the
// minimum once a bind has worked.
func TestRedial(t *testing.T) {
	const min, max = 100 * time.Millisecond, time.Second
	r := redial{b: worker.Backoff{Min: min, Max: max}}
	// Each step: whether the bind that ended had worked, and the wait's
	// ceiling (it is jittered within [ceiling/2, ceiling]).
	steps := []struct {
		worked bool
		want   time.Duration
	}{
		{false, min}, {false, 2 * min}, {false, 4 * min}, {false, 8 * min}, {false, max}, {false, max},
		{true, min}, {false, 2 * min}, {false, 4 * min},
		{true, min}, {true, min}, {true, min},
		{false, 2 * min},
	}
	for i, s := range steps {
		got := r.next(s.worked)
		if got < s.want/2 || got > s.want {
			t.Fatalf("step %d (worked %v): wait %v, want within [%v, %v]", i, s.worked, got, s.want/2, s.want)
		}
	}
	// The waits are jittered: binds dropped together do not all come back
	// at the same moment.
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[r.next(true)] = true
	}
	if len(seen) < 2 {
		t.Fatalf("20 waits after a working bind were all %v: no jitter", seen)
	}
}
