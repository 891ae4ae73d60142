package smsc

import (
	"sync"
	"time"
)

// rateWindow admits at most rate events per second (a token bucket holding
// one second's worth); rate 0 admits everything.
type rateWindow struct {
	rate   float64
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newRateWindow(rate float64) *rateWindow {
	return &rateWindow{rate: rate, tokens: rate, last: time.Now()}
}

func (r *rateWindow) allow() bool {
	if r.rate <= 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	r.tokens = min(r.rate, r.tokens+now.Sub(r.last).Seconds()*r.rate)
	r.last = now
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}
