package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// Readiness (GET /readyz): the database answers, every migration is
// applied, and a write committed recently. A database that answers reads
// but cannot write — a full disk, a lock nobody releases, a read-only
// replica after a failover — is not ready, so every node writes a heartbeat
// row (node_heartbeats) every HeartbeatEvery and is ready only while the
// last one succeeded within three periods.

// DefaultHeartbeatEvery is how often a node proves it can write.
const DefaultHeartbeatEvery = 5 * time.Second

// readiness is the api.Pinger of /readyz.
type readiness struct {
	store store.Store
	node  string
	every time.Duration
	log   *slog.Logger

	mu       sync.Mutex
	lastOK   time.Time
	failed   error     // the last heartbeat's error; nil when it succeeded
	draining bool      // stopping: /readyz answers 503
	asked    time.Time // when /readyz last asked
}

func newReadiness(st store.Store, node string, every time.Duration, log *slog.Logger) *readiness {
	return &readiness{store: st, node: node, every: every, log: log}
}

// Ping answers for /readyz.
func (r *readiness) Ping(ctx context.Context) error {
	r.mu.Lock()
	r.asked = time.Now()
	draining := r.draining
	r.mu.Unlock()
	if draining {
		return errDraining
	}
	if err := r.store.Ping(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed != nil {
		return fmt.Errorf("the last write failed: %w", r.failed)
	}
	if age := time.Since(r.lastOK); age > 3*r.every {
		return fmt.Errorf("no write succeeded for %v", age.Round(time.Second))
	}
	return nil
}

// errDraining is /readyz's answer while the node stops.
var errDraining = errors.New("the node is stopping (draining)")

// drain makes /readyz fail from now on and says whether anything asked it
// within the last watched period (a load balancer that will notice).
func (r *readiness) drain(watched time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.draining = true
	return !r.asked.IsZero() && time.Since(r.asked) < watched
}

// beat writes one heartbeat, within one period, and records the outcome;
// a change between working and failing is logged once.
func (r *readiness) beat(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, r.every)
	defer cancel()
	err := r.store.Heartbeat(ctx, r.node, time.Now().UTC())
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	r.mu.Lock()
	was := r.failed
	r.failed = err
	if err == nil {
		r.lastOK = time.Now()
	}
	r.mu.Unlock()
	switch {
	case err != nil && was == nil:
		r.log.Error("readiness: the database does not take writes; /readyz answers 503", "err", err)
	case err == nil && was != nil:
		r.log.Info("readiness: the database takes writes again; /readyz answers 200")
	}
}

// run beats every period until stop is closed.
func (r *readiness) run(stop <-chan struct{}) {
	every(r.every, stop, func() { r.beat(context.Background()) })
}

// every calls f each period until stop is closed.
func every(period time.Duration, stop <-chan struct{}, f func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		f()
	}
}
