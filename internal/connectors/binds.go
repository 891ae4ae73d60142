package connectors

import (
	"context"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/store"
)

// DefaultBindLease is how long a node's lease on a bind slot lasts unless
// renewed; a dead node's binds are taken over within about 4/3 of it.
const DefaultBindLease = 10 * time.Second

// BindSharing shares the binds of channel.Scaled connectors (SMPP) out
// between the nodes of one database through lease rows: each node renews
// its own every TTL/3 and takes free or expired slots up to its share, the
// connector's total divided by the live nodes (those whose heartbeat is
// younger than Live), rounded up. A slot left free longer than TTL/2 is
// taken by any node, so binds never stay closed for want of a node under
// its share. A node that cannot renew for 2/3 of TTL closes its binds
// before another node may take them.
type BindSharing struct {
	Store store.BindLeases
	Node  string
	// TTL is the lease; default DefaultBindLease.
	TTL time.Duration
	// Live is how recent a node's heartbeat must be for it to count.
	Live time.Duration
}

type bindState struct {
	held      int
	elsewhere bool // another node holds a slot and this one none
}

// ShareBinds makes the manager lease the binds of Scaled connectors
// (before Start). Without it each node opens every bind.
func (m *Manager) ShareBinds(b BindSharing) {
	if b.TTL <= 0 {
		b.TTL = DefaultBindLease
	}
	if b.Live <= 0 {
		b.Live = 3 * b.TTL
	}
	m.share = &b
	m.binds = map[string]bindState{}
}

// Elsewhere says whether the connector's binds are all held by other
// nodes: this node cannot send on it, another can (dispatch hands the job
// back to the queue for that node).
func (m *Manager) Elsewhere(name string) bool {
	if m.share == nil {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.binds[name].elsewhere
}

// Binds says how many of the connector's bind slots this node holds.
func (m *Manager) Binds(name string) (int, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.binds[name]
	return b.held, ok
}

// scaled lists the running connectors whose binds are shared.
func (m *Manager) scaled() []channel.Scaled {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []channel.Scaled
	for _, r := range m.running {
		if s, ok := r.conn.(channel.Scaled); ok && !r.builtIn {
			out = append(out, s)
		}
	}
	return out
}

// claimAll renews and takes this node's share of every scaled connector's
// binds and scales each to what it holds.
func (m *Manager) claimAll(ctx context.Context, only ...channel.Scaled) { // every TTL/3 (Start)
	conns := only
	if len(conns) == 0 {
		conns = m.scaled()
	}
	if len(conns) == 0 {
		return
	}
	sh := m.share
	now := time.Now()
	live, err := sh.Store.LiveNodes(ctx, now.Add(-sh.Live))
	if err != nil {
		m.claimFailed(err)
		return
	}
	live = max(live, 1)
	for _, c := range conns {
		want := (c.Total() + live - 1) / live
		st, err := sh.Store.ClaimBinds(ctx, store.BindClaim{Connector: c.Name(), Node: sh.Node, Total: c.Total(),
			Want: want, Max: want, Orphan: sh.TTL / 2, Now: now, Until: now.Add(sh.TTL)})
		if err != nil {
			m.claimFailed(err)
			return
		}
		m.mu.Lock()
		before, had := m.binds[c.Name()]
		m.binds[c.Name()] = bindState{held: st.Held, elsewhere: st.Held == 0 && len(st.Holders) > 0}
		m.mu.Unlock()
		if !had || before.held != st.Held {
			m.log.Info("connectors: binds leased", "connector", c.Name(), "held", st.Held, "total", c.Total(), "nodes", live)
		}
		c.Scale(st.Held)
	}
	m.mu.Lock()
	m.claimedAt = now
	m.mu.Unlock()
}

// claimFailed closes every shared bind once the leases may have run out
// (2/3 of TTL without a renewal): another node may take them next.
func (m *Manager) claimFailed(err error) {
	m.mu.Lock()
	since := time.Since(m.claimedAt)
	m.mu.Unlock()
	if since < 2*m.share.TTL/3 {
		m.log.Warn("connectors: renewing bind leases", "err", err)
		return
	}
	m.log.Error("connectors: bind leases not renewed; closing this node's binds until they are", "err", err, "since", since.Round(time.Second))
	for _, c := range m.scaled() {
		c.Scale(0)
		m.mu.Lock()
		m.binds[c.Name()] = bindState{}
		m.mu.Unlock()
	}
}

// releaseBinds frees this node's slots (of one connector, or all with "")
// so that other nodes take them at once.
func (m *Manager) releaseBinds(ctx context.Context, connector string) error {
	if m.share == nil {
		return nil
	}
	m.mu.Lock()
	if connector == "" {
		m.binds = map[string]bindState{}
	} else {
		delete(m.binds, connector)
	}
	m.mu.Unlock()
	return m.share.Store.ReleaseBinds(ctx, m.share.Node, connector)
}
