package worker

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/omnigate/omnigate/internal/store"
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

// RetryDefaults fills in retry settings left unset (zero) with those of
// deliveries to accounts (webhooks, notices, top-up requests): 10 s
// doubling to 1 hour, 12 attempts — about half a day.
func RetryDefaults(b Backoff, maxAttempts int) (Backoff, int) {
	if b.Min <= 0 {
		b.Min = 10 * time.Second
	}
	if b.Max <= 0 {
		b.Max = time.Hour
	}
	if maxAttempts <= 0 {
		maxAttempts = 12
	}
	return b, maxAttempts
}

// Retrying makes a Handler of attempt: a job whose attempt failed is due
// again after b's delay, until it has had maxAttempts attempts; then it is
// dropped and logged with the message dropped.
func Retrying(attempt func(context.Context, *store.Job) error, b Backoff, maxAttempts int, log *slog.Logger, dropped string) Handler {
	return func(ctx context.Context, j *store.Job) *store.Outcome {
		err := attempt(ctx, j)
		switch {
		case err == nil:
			return &store.Outcome{}
		case j.Attempts >= maxAttempts:
			log.Error(dropped, "kind", j.Kind, "account", j.AccountID, "err", err)
			return &store.Outcome{}
		}
		return &store.Outcome{RetryAt: time.Now().Add(b.Delay(j.Attempts)), LastError: err.Error()}
	}
}
