package lifecycle_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/lifecycle"
)

func TestWait(t *testing.T) {
	var wg sync.WaitGroup
	release := make(chan struct{})
	wg.Add(1)
	go func() { defer wg.Done(); <-release }()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := lifecycle.Wait(ctx, &wg); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("goroutine still running: %v, want the deadline", err)
	}
	close(release)
	if err := lifecycle.Wait(context.Background(), &wg); err != nil {
		t.Fatalf("goroutine ended: %v", err)
	}
}

func TestWaitDone(t *testing.T) {
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := lifecycle.WaitDone(ctx, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("open channel: %v, want canceled", err)
	}
	close(done)
	if err := lifecycle.WaitDone(context.Background(), done); err != nil {
		t.Fatalf("closed channel: %v", err)
	}
}
