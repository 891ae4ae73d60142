package session

import (
	"context"
	"errors"
	"sync"
	"time"
)

var errLimiterDone = errors.New("limiter: session done")

// limiter spaces requests to at most rate per second, allowing a burst of
// one second's worth after a quiet spell (a token bucket).
type limiter struct {
	rate   float64
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newLimiter(rate float64) *limiter {
	return &limiter{rate: rate, tokens: rate, last: time.Now()}
}

// wait takes a token, sleeping until one is available.
func (l *limiter) wait(ctx context.Context, done <-chan struct{}) error {
	if l.rate <= 0 {
		return nil
	}
	for {
		l.mu.Lock()
		now := time.Now()
		l.tokens = min(l.rate, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		l.last = now
		if l.tokens >= 1 {
			l.tokens--
			l.mu.Unlock()
			return nil
		}
		wait := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-done:
			t.Stop()
			return errLimiterDone
		}
	}
}
