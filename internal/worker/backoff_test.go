package worker_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/worker"
)

func TestBackoff(t *testing.T) {
	b := worker.Backoff{Min: time.Second, Max: 8 * time.Second}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 10: 8 * time.Second} {
		for i := 0; i < 50; i++ {
			d := b.Delay(attempt)
			if d < want/2 || d > want {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestRetryDefaults(t *testing.T) {
	if b, n := worker.RetryDefaults(worker.Backoff{}, 0); b != (worker.Backoff{Min: 10 * time.Second, Max: time.Hour}) || n != 12 {
		t.Fatalf("defaults %v, %d", b, n)
	}
	set := worker.Backoff{Min: time.Millisecond, Max: time.Second}
	if b, n := worker.RetryDefaults(set, 3); b != set || n != 3 {
		t.Fatalf("set values changed to %v, %d", b, n)
	}
}

func TestRetrying(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	var err error
	handle := worker.Retrying(func(context.Context, *store.Job) error { return err }, worker.Backoff{Min: time.Minute, Max: time.Minute}, 3, log, "gave up")

	if o := handle(context.Background(), &store.Job{Attempts: 1}); !o.RetryAt.IsZero() || o.LastError != "" {
		t.Fatalf("success: %+v", o)
	}
	err = errors.New("busy")
	before := time.Now()
	if o := handle(context.Background(), &store.Job{Attempts: 2}); o.RetryAt.Before(before.Add(30*time.Second)) || o.LastError != "busy" {
		t.Fatalf("failed attempt 2 of 3: %+v", o)
	}
	if logged.Len() > 0 {
		t.Fatalf("logged before giving up: %s", logged.String())
	}
	if o := handle(context.Background(), &store.Job{Attempts: 3}); !o.RetryAt.IsZero() || !strings.Contains(logged.String(), "gave up") {
		t.Fatalf("failed attempt 3 of 3: %+v, log %q", o, logged.String())
	}
}
