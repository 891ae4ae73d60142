// Package connectors runs the connectors configured in the database, of
// every kind the channel registry knows, and keeps the route table
// current: it starts each enabled connector, restarts one whose settings
// changed, stops one removed or disabled, and reloads routes — at start and
// then every few seconds, so that `omnigate connector add` and `omnigate
// route add` take effect on every node without a restart.
package connectors

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/dispatch"
	"github.com/omnigate/omnigate/internal/lifecycle"
	"github.com/omnigate/omnigate/internal/store"
)

// Manager owns the running connectors.
type Manager struct {
	store    store.Routing
	registry *channel.Registry
	receiver channel.Receiver
	router   *dispatch.TableRouter
	log      *slog.Logger

	mu        sync.RWMutex
	running   map[string]*running
	suspended map[string]suspension // by name: the provider said its account is gone

	stop     chan struct{}
	stopOnce sync.Once
	started  atomic.Bool
	done     chan struct{}

	// Shared binds (binds.go); share is nil on one node.
	share      *BindSharing
	binds      map[string]bindState // by connector, under mu
	claimedAt  time.Time            // the last claim that succeeded, under mu
	claimsDone chan struct{}
}

type suspension struct {
	reason string
	code   int
}

// Suspended reports whether a connector is suspended, and why (for
// dispatch.Config.Suspended).
func (m *Manager) Suspended(name string) (reason string, code int, ok bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.suspended[name]
	return s.reason, s.code, ok
}

// MarkSuspended suspends a connector on this node at once (the database
// says so too once the caller stored it; other nodes learn it at their
// next reload).
func (m *Manager) MarkSuspended(name, reason string, code int) {
	m.mu.Lock()
	m.suspended[name] = suspension{reason, code}
	m.mu.Unlock()
}

type running struct {
	conn    channel.Connector
	updated time.Time
	builtIn bool
}

var _ dispatch.Connectors = (*Manager)(nil)

// New makes a manager of the connector kinds in reg; Start loads and runs
// the connectors. The router is given the route table whenever it is
// reloaded.
func New(st store.Routing, reg *channel.Registry, log *slog.Logger) *Manager {
	m := &Manager{store: st, registry: reg, log: log, running: map[string]*running{}, suspended: map[string]suspension{},
		stop: make(chan struct{}), done: make(chan struct{})}
	return m
}

// SetReceiver sets where connectors deliver receipts and inbound messages
// (before Start).
func (m *Manager) SetReceiver(r channel.Receiver) { m.receiver = r }

// SetRouter sets the router whose table the manager keeps current.
func (m *Manager) SetRouter(r *dispatch.TableRouter) { m.router = r }

// Connector implements dispatch.Connectors.
func (m *Manager) Connector(name string) (channel.Connector, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.running[name]
	if !ok {
		return nil, false
	}
	return r.conn, true
}

// AddBuiltIn adds a connector that is not in the database (the demo's);
// Start starts it with the others.
func (m *Manager) AddBuiltIn(c channel.Connector) {
	m.mu.Lock()
	m.running[c.Name()] = &running{conn: c, builtIn: true}
	m.mu.Unlock()
}

// Start loads the configuration and reloads it every interval until Stop.
func (m *Manager) Start(ctx context.Context, interval time.Duration) error {
	m.mu.RLock()
	for _, r := range m.running {
		if r.builtIn {
			r.conn.Start()
		}
	}
	m.mu.RUnlock()
	if err := m.Reload(ctx); err != nil {
		return err
	}
	m.started.Store(true)
	if m.share != nil {
		m.claimsDone = make(chan struct{})
		go m.every(m.share.TTL/3, m.claimsDone, func(ctx context.Context) { m.claimAll(ctx) })
	}
	go m.every(interval, m.done, func(ctx context.Context) {
		if err := m.Reload(ctx); err != nil {
			m.log.Warn("connectors: reloading configuration", "err", err)
		}
	})
	return nil
}

// every calls f each period, with a context that ends with the period,
// until Stop; then it closes done.
func (m *Manager) every(period time.Duration, done chan struct{}, f func(ctx context.Context)) {
	defer close(done)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), period)
		f(ctx)
		cancel()
	}
}

// Reload brings the running connectors and routes in line with the
// database.
func (m *Manager) Reload(ctx context.Context) error {
	configs, err := m.store.ListConnectors(ctx)
	if err != nil {
		return err
	}
	routes, err := m.store.ListRoutes(ctx)
	if err != nil {
		return err
	}
	want := map[string]store.ConnectorConfig{}
	for _, c := range configs {
		if c.Enabled {
			want[c.Name] = c
		}
	}
	var stop []channel.Connector
	m.mu.Lock()
	// Suspensions are the database's, and built-in connectors' (which are
	// not in it) as marked on this node.
	suspended := map[string]suspension{}
	for name, sp := range m.suspended {
		if r, ok := m.running[name]; ok && r.builtIn {
			suspended[name] = sp
		}
	}
	for _, c := range configs {
		if c.Suspended != "" {
			suspended[c.Name] = suspension{c.Suspended, c.SuspendedCode}
		}
	}
	m.suspended = suspended
	for name, r := range m.running {
		c, ok := want[name]
		if r.builtIn {
			continue
		}
		if !ok || !c.UpdatedAt.Equal(r.updated) {
			stop = append(stop, r.conn)
			delete(m.running, name)
		}
	}
	var start []channel.Connector
	for name, c := range want {
		if _, ok := m.running[name]; ok {
			continue
		}
		conn, err := m.registry.Build(c.Name, c.Kind, c.Settings, m.receiver, m.log)
		if err != nil {
			m.log.Error("connectors: not starting a connector with bad settings", "connector", name, "err", err)
			continue
		}
		m.running[name] = &running{conn: conn, updated: c.UpdatedAt}
		start = append(start, conn)
	}
	m.mu.Unlock()
	for _, c := range stop {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c.Stop(ctx)
		if _, ok := c.(channel.Scaled); ok {
			if err := m.releaseBinds(ctx, c.Name()); err != nil {
				m.log.Warn("connectors: freeing the binds of a stopped connector", "connector", c.Name(), "err", err)
			}
		}
		cancel()
		m.log.Info("connectors: stopped", "connector", c.Name())
	}
	var scaled []channel.Scaled
	for _, c := range start {
		if s, ok := c.(channel.Scaled); ok && m.share != nil {
			s.Leased()
			scaled = append(scaled, s)
		}
		c.Start()
		m.log.Info("connectors: started", "connector", c.Name())
	}
	if len(scaled) > 0 {
		m.claimAll(ctx, scaled...)
	}
	if m.router != nil {
		m.router.SetRoutes(routes)
	}
	return nil
}

// Running lists the running connectors by name, with how many
// connections (binds, sessions) each has up.
func (m *Manager) Running() map[string]int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]int, len(m.running))
	for name, r := range m.running {
		out[name] = r.conn.Up()
	}
	return out
}

// Stop stops reloading and unbinds every connector.
func (m *Manager) Stop(ctx context.Context) error {
	m.stopOnce.Do(func() { close(m.stop) })
	finished := !m.started.Load() || lifecycle.WaitDone(ctx, m.done) == nil
	m.mu.Lock()
	all := m.running
	m.running = map[string]*running{}
	m.mu.Unlock()
	var errs []error
	if m.claimsDone != nil {
		errs = append(errs, lifecycle.WaitDone(ctx, m.claimsDone))
	}
	for _, r := range all {
		errs = append(errs, r.conn.Stop(ctx))
	}
	if err := m.releaseBinds(ctx, ""); err != nil {
		errs = append(errs, err)
	}
	if !finished {
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}
