// Package lifecycle holds what stopping a component takes: waiting for its
// goroutines to end, but no longer than the caller's deadline.
package lifecycle

import (
	"context"
	"sync"
)

// Wait waits until wg's count is zero or ctx ends, and returns ctx.Err() in
// the second case. The goroutines are not stopped by giving up: the caller
// signals them to end before waiting.
func Wait(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return WaitDone(ctx, done)
}

// WaitDone waits until done is closed or ctx ends, and returns ctx.Err()
// in the second case.
func WaitDone(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
