package worker

import (
	"math/rand/v2"
	"time"
)

// Backoff computes retry delays: exponential from Min, capped at Max, with
// "equal jitter" (half fixed, half random) so that retries of a burst spread
// out instead of returning together.
type Backoff struct {
	Min, Max time.Duration
}

// Delay is the wait before attempt number attempt+1 (attempt counts from 1).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Min
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	half := d / 2
	return half + rand.N(half+1)
}
