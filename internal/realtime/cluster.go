package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/lifecycle"
	"github.com/omnigate/omnigate/internal/realtime/fanout"
	"github.com/omnigate/omnigate/internal/realtime/tagfilter"
)

// The cluster view.
//
// Every node keeps the same picture of the cluster: for each channel, how
// many subscriptions each node has and which presence members; for each
// app, how many connections. A node's own part changes under its clients'
// actions and is sent to the others as numbered deltas (batched for
// StateFlushInterval); the others apply them in order. A gap in the
// numbers, a node heard of for the first time, or a heartbeat announcing a
// delta that never came makes the receiver ask for a snapshot, which
// replaces what it held of that node. A node not heard from for NodeTimeout
// is dead: its part is removed.
//
// Each node derives events from changes of its own view: a member who
// appears in the union of all nodes' members is member_added for this
// node's subscribers, one who disappears is member_removed; a channel whose
// total goes from 0 is occupied, to 0 vacated. So every subscriber sees each
// change once, without coordination. Webhooks for channel and presence
// changes must be sent once for the cluster: the leader sends them, which
// is the oldest node alive (node ids begin with the start time) once it has
// listened for WarmUp.
//
// Lock order: cluster.mu, then hub.mu. Listener calls are made with
// cluster.mu held and may take hub.mu.

// chanKey names a channel of an app.
type chanKey struct{ app, channel string }

// clusterListener is told of changes of the view (with cluster.mu held).
type clusterListener interface {
	occupied(k chanKey, leader bool)
	vacated(k chanKey, leader bool)
	memberAdded(k chanKey, userID string, info json.RawMessage, leader bool)
	memberRemoved(k chanKey, userID string, leader bool)
	terminate(appID, userID string)
	// cacheUpdate is told of another node's event on a cache channel
	// (without cluster.mu).
	cacheUpdate(k chanKey, frame []byte, tags map[string]string, at time.Time)
	// subscriptionsChanged is told that a channel's total changed.
	subscriptionsChanged(k chanKey)
}

// contrib is one node's part of a channel.
type contrib struct {
	subs    int
	members map[string]json.RawMessage
}

func (c *contrib) empty() bool { return c.subs == 0 && len(c.members) == 0 }

// viewChannel is a channel across the cluster.
type viewChannel struct {
	subs    int
	members map[string]*viewMember
}

type viewMember struct {
	info  json.RawMessage
	nodes int // nodes where the user is present
}

// peer is another node as this one knows it.
type peer struct {
	id        string
	seq       uint64 // last delta applied
	synced    bool   // holds a snapshot and every delta since
	lastSeen  time.Time
	syncAsked time.Time
	conns     map[string]int
	channels  map[chanKey]*contrib
}

type memberKey struct {
	chanKey
	user string
}

type localMember struct {
	info  json.RawMessage
	conns int
}

type cluster struct {
	id      string
	cfg     ClusterConfig
	broker  fanout.Broker
	l       clusterListener
	log     *slog.Logger
	started time.Time

	mu           sync.Mutex
	view         map[string]map[string]*viewChannel // app → channel
	local        map[chanKey]*contrib
	localMembers map[chanKey]map[string]*localMember
	localConns   map[string]int
	peers        map[string]*peer
	dirtySubs    map[chanKey]struct{}
	dirtyMembers map[memberKey]struct{}
	seq          uint64

	kick, snapshot chan struct{}
	stop, done     chan struct{}
	stopOnce       sync.Once
}

// newNodeID makes a node id that sorts by start time.
func newNodeID(name string, now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%013d.%s.%s", now.UnixMilli(), name, hex.EncodeToString(b[:]))
}

func newCluster(id string, cfg ClusterConfig, broker fanout.Broker, l clusterListener, log *slog.Logger) *cluster {
	return &cluster{
		id: id, cfg: cfg, broker: broker, l: l, log: log, started: time.Now(),
		view: map[string]map[string]*viewChannel{}, local: map[chanKey]*contrib{},
		localMembers: map[chanKey]map[string]*localMember{}, localConns: map[string]int{},
		peers: map[string]*peer{}, dirtySubs: map[chanKey]struct{}{}, dirtyMembers: map[memberKey]struct{}{},
		kick: make(chan struct{}, 1), snapshot: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// --- the view ---------------------------------------------------------

func (c *cluster) viewChannel(k chanKey, create bool) *viewChannel {
	chans := c.view[k.app]
	if chans == nil {
		if !create {
			return nil
		}
		chans = map[string]*viewChannel{}
		c.view[k.app] = chans
	}
	vc := chans[k.channel]
	if vc == nil && create {
		vc = &viewChannel{}
		chans[k.channel] = vc
	}
	return vc
}

func (c *cluster) dropIfEmpty(k chanKey, vc *viewChannel) {
	if vc.subs == 0 && len(vc.members) == 0 {
		delete(c.view[k.app], k.channel)
		if len(c.view[k.app]) == 0 {
			delete(c.view, k.app)
		}
	}
}

// addSubs changes a channel's total and reports occupied/vacated.
func (c *cluster) addSubs(k chanKey, delta int, leader bool) {
	if delta == 0 {
		return
	}
	vc := c.viewChannel(k, true)
	before := vc.subs
	vc.subs = max(0, vc.subs+delta)
	switch {
	case before == 0 && vc.subs > 0:
		c.l.occupied(k, leader)
	case before > 0 && vc.subs == 0:
		c.l.vacated(k, leader)
	}
	if vc.subs != before {
		c.l.subscriptionsChanged(k)
	}
	c.dropIfEmpty(k, vc)
}

func (c *cluster) memberUp(k chanKey, user string, info json.RawMessage, leader bool) {
	vc := c.viewChannel(k, true)
	if vc.members == nil {
		vc.members = map[string]*viewMember{}
	}
	vm := vc.members[user]
	if vm == nil {
		vm = &viewMember{info: info}
		vc.members[user] = vm
	}
	vm.nodes++
	if vm.nodes == 1 {
		c.l.memberAdded(k, user, vm.info, leader)
	}
}

func (c *cluster) memberDown(k chanKey, user string, leader bool) {
	vc := c.viewChannel(k, false)
	if vc == nil || vc.members[user] == nil {
		return
	}
	vm := vc.members[user]
	vm.nodes--
	if vm.nodes <= 0 {
		delete(vc.members, user)
		c.l.memberRemoved(k, user, leader)
		c.dropIfEmpty(k, vc)
	}
}

// leader reports whether this node sends the cluster's webhooks now.
func (c *cluster) leader(now time.Time) bool {
	if now.Sub(c.started) < c.cfg.WarmUp {
		return false
	}
	for id, p := range c.peers {
		if id < c.id && now.Sub(p.lastSeen) < c.cfg.NodeTimeout {
			return false
		}
	}
	return true
}

// --- this node's part (callers hold c.mu) -------------------------------

func (c *cluster) localContrib(k chanKey) *contrib {
	cb := c.local[k]
	if cb == nil {
		cb = &contrib{}
		c.local[k] = cb
	}
	return cb
}

func (c *cluster) changed(k chanKey) {
	c.dirtySubs[k] = struct{}{}
	c.kickFlush()
}

func (c *cluster) kickFlush() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// subscribeLocked counts a local subscription.
func (c *cluster) subscribeLocked(k chanKey) {
	cb := c.localContrib(k)
	cb.subs++
	if cb.subs == 1 {
		// Subscribe before the delta goes out, on the same connection: a
		// node that has heard of the subscription can reach it.
		if err := c.broker.Subscribe(k.app, k.channel); err != nil {
			c.log.Error("realtime: subscribing to a channel on the broker", "err", err)
		}
	}
	c.addSubs(k, 1, c.leader(time.Now()))
	c.changed(k)
}

// unsubscribeLocked removes a local subscription.
func (c *cluster) unsubscribeLocked(k chanKey) {
	cb := c.local[k]
	if cb == nil || cb.subs == 0 {
		return
	}
	cb.subs--
	if cb.subs == 0 {
		if err := c.broker.Unsubscribe(k.app, k.channel); err != nil {
			c.log.Error("realtime: unsubscribing from a channel on the broker", "err", err)
		}
	}
	if cb.empty() {
		delete(c.local, k)
	}
	c.addSubs(k, -1, c.leader(time.Now()))
	c.changed(k)
}

// joinLocked adds a local connection of user to a presence channel.
func (c *cluster) joinLocked(k chanKey, user string, info json.RawMessage) {
	lms := c.localMembers[k]
	if lms == nil {
		lms = map[string]*localMember{}
		c.localMembers[k] = lms
	}
	lm := lms[user]
	if lm == nil {
		lm = &localMember{info: info}
		lms[user] = lm
	}
	lm.conns++
	if lm.conns > 1 {
		return
	}
	cb := c.localContrib(k)
	if cb.members == nil {
		cb.members = map[string]json.RawMessage{}
	}
	cb.members[user] = info
	c.memberUp(k, user, info, c.leader(time.Now()))
	c.dirtyMembers[memberKey{k, user}] = struct{}{}
	c.kickFlush()
}

// leaveLocked removes a local connection of user from a presence channel.
func (c *cluster) leaveLocked(k chanKey, user string) {
	lm := c.localMembers[k][user]
	if lm == nil {
		return
	}
	lm.conns--
	if lm.conns > 0 {
		return
	}
	delete(c.localMembers[k], user)
	if len(c.localMembers[k]) == 0 {
		delete(c.localMembers, k)
	}
	if cb := c.local[k]; cb != nil {
		delete(cb.members, user)
		if cb.empty() {
			delete(c.local, k)
		}
	}
	c.memberDown(k, user, c.leader(time.Now()))
	c.dirtyMembers[memberKey{k, user}] = struct{}{}
	c.kickFlush()
}

// connDelta counts a local connection of an app in or out.
func (c *cluster) connDelta(app string, d int) {
	c.mu.Lock()
	c.localConns[app] += d
	if c.localConns[app] <= 0 {
		delete(c.localConns, app)
	}
	c.mu.Unlock()
}

// --- queries ----------------------------------------------------------

// connections counts an app's connections on every live node.
func (c *cluster) connections(app string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.localConns[app]
	now := time.Now()
	for _, p := range c.peers {
		if now.Sub(p.lastSeen) < c.cfg.NodeTimeout {
			n += p.conns[app]
		}
	}
	return n
}

// channelStats is what the HTTP API tells of a channel.
type channelStats struct {
	Subscriptions int
	Users         int
}

func (c *cluster) channel(k chanKey) channelStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	vc := c.viewChannel(k, false)
	if vc == nil {
		return channelStats{}
	}
	return channelStats{Subscriptions: vc.subs, Users: len(vc.members)}
}

// channels lists an app's occupied channels whose names start with prefix.
func (c *cluster) channels(app, prefix string) map[string]channelStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]channelStats{}
	for name, vc := range c.view[app] {
		if vc.subs > 0 && strings.HasPrefix(name, prefix) {
			out[name] = channelStats{Subscriptions: vc.subs, Users: len(vc.members)}
		}
	}
	return out
}

// membersLocked is a presence channel's members: sorted ids, and infos[i]
// the user_info of ids[i].
func (c *cluster) membersLocked(k chanKey) ([]string, []json.RawMessage) {
	vc := c.viewChannel(k, false)
	if vc == nil {
		return []string{}, nil
	}
	ids := make([]string, 0, len(vc.members))
	for id := range vc.members {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	infos := make([]json.RawMessage, len(ids))
	for i, id := range ids {
		infos[i] = vc.members[id].info
	}
	return ids, infos
}

func (c *cluster) members(k chanKey) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids, _ := c.membersLocked(k)
	return ids
}

// memberCountLocked is the number of members of a presence channel.
func (c *cluster) memberCountLocked(k chanKey) int {
	if vc := c.viewChannel(k, false); vc != nil {
		return len(vc.members)
	}
	return 0
}

// hasMemberLocked reports whether user is a member of the channel.
func (c *cluster) hasMemberLocked(k chanKey, user string) bool {
	vc := c.viewChannel(k, false)
	return vc != nil && vc.members[user] != nil
}

// --- other nodes ------------------------------------------------------

// HandleState applies a state message from another node (fanout.Handler).
func (c *cluster) handleState(payload []byte) {
	var m stateMsg
	if err := json.Unmarshal(payload, &m); err != nil || m.N == "" || m.N == c.id {
		return
	}
	if m.T == msgCache {
		if m.A != "" && len(m.F) > 0 && isCacheChannel(m.Ch) {
			if tagfilter.CheckTags(m.Tg) == nil {
				c.l.cacheUpdate(chanKey{m.A, m.Ch}, m.F, m.Tg, time.Unix(0, m.At))
			}
		}
		return
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.peers[m.N]
	if p == nil && (m.T == msgHeartbeat || m.T == msgDelta || m.T == msgSnapshot) {
		p = &peer{id: m.N, channels: map[chanKey]*contrib{}}
		c.peers[m.N] = p
	}
	if p != nil {
		p.lastSeen = now
	}
	switch m.T {
	case msgHeartbeat:
		p.conns = m.C
		if !p.synced || m.Q > p.seq {
			c.askSync(p, now)
		}
	case msgDelta:
		switch {
		case p.synced && m.Q == p.seq+1:
			leader := c.leader(now)
			for _, op := range m.O {
				c.applyOp(p, op, leader)
			}
			p.seq = m.Q
		case p.synced && m.Q <= p.seq:
			// Already applied.
		default:
			p.synced = false
			c.askSync(p, now)
		}
	case msgSnapshot:
		if !p.synced || m.Q >= p.seq {
			next := map[chanKey]*contrib{}
			for _, op := range m.O {
				k := chanKey{op.A, op.C}
				cb := next[k]
				if cb == nil {
					cb = &contrib{}
					next[k] = cb
				}
				switch op.T {
				case opSubs:
					cb.subs = op.N
				case opMember:
					if op.P {
						if cb.members == nil {
							cb.members = map[string]json.RawMessage{}
						}
						cb.members[op.U] = op.I
					}
				}
			}
			c.replace(p, next, c.leader(now))
			p.seq, p.synced, p.conns = m.Q, true, m.C
		}
	case msgSync:
		if m.To == c.id || m.To == "*" {
			select {
			case c.snapshot <- struct{}{}:
			default:
			}
		}
	case msgBye:
		if p != nil {
			c.replace(p, nil, c.leader(now))
			delete(c.peers, p.id)
		}
	case msgTerminate:
		c.l.terminate(m.A, m.U)
	}
}

// askSync asks a peer for a snapshot, at most twice per heartbeat.
func (c *cluster) askSync(p *peer, now time.Time) {
	if now.Sub(p.syncAsked) < c.cfg.HeartbeatInterval/2 {
		return
	}
	p.syncAsked = now
	c.publish(stateMsg{T: msgSync, N: c.id, To: p.id})
}

func (c *cluster) applyOp(p *peer, op stateOp, leader bool) {
	k := chanKey{op.A, op.C}
	cb := p.channels[k]
	if cb == nil {
		cb = &contrib{}
		p.channels[k] = cb
	}
	switch op.T {
	case opSubs:
		old := cb.subs
		cb.subs = max(0, op.N)
		c.addSubs(k, cb.subs-old, leader)
	case opMember:
		_, had := cb.members[op.U]
		switch {
		case op.P && !had:
			if cb.members == nil {
				cb.members = map[string]json.RawMessage{}
			}
			cb.members[op.U] = op.I
			c.memberUp(k, op.U, op.I, leader)
		case !op.P && had:
			delete(cb.members, op.U)
			c.memberDown(k, op.U, leader)
		}
	}
	if cb.empty() {
		delete(p.channels, k)
	}
}

// replace swaps a peer's part for next (nil: nothing), changing the view by
// the difference only.
func (c *cluster) replace(p *peer, next map[chanKey]*contrib, leader bool) {
	empty := &contrib{}
	for k, old := range p.channels {
		nw := next[k]
		if nw == nil {
			nw = empty
		}
		for u := range old.members {
			if _, ok := nw.members[u]; !ok {
				c.memberDown(k, u, leader)
			}
		}
		for u, info := range nw.members {
			if _, ok := old.members[u]; !ok {
				c.memberUp(k, u, info, leader)
			}
		}
		c.addSubs(k, nw.subs-old.subs, leader)
	}
	for k, nw := range next {
		if _, ok := p.channels[k]; ok {
			continue
		}
		for u, info := range nw.members {
			c.memberUp(k, u, info, leader)
		}
		c.addSubs(k, nw.subs, leader)
	}
	if next == nil {
		next = map[chanKey]*contrib{}
	}
	p.channels = next
}

// expire removes peers not heard from for NodeTimeout.
func (c *cluster) expire(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, p := range c.peers {
		if now.Sub(p.lastSeen) >= c.cfg.NodeTimeout {
			c.log.Warn("realtime: node timed out; removing its members and subscriptions", "node", id)
			delete(c.peers, id)
			c.replace(p, nil, c.leader(now))
		}
	}
}

// --- the loop that speaks for this node --------------------------------

func (c *cluster) publish(m stateMsg) {
	b, err := json.Marshal(m)
	if err != nil {
		c.log.Error("realtime: encoding a state message", "err", err)
		return
	}
	if err := c.broker.PublishState(b); err != nil {
		c.log.Warn("realtime: publishing a state message", "err", err)
	}
}

// terminateUser asks every other node to close a user's connections.
func (c *cluster) terminateUser(app, user string) {
	c.publish(stateMsg{T: msgTerminate, N: c.id, A: app, U: user})
}

// cacheEvent tells the other nodes of an event published here on a cache
// channel. It goes on the state subject, which every node hears, because
// nodes without subscribers of the channel do not get its events.
func (c *cluster) cacheEvent(k chanKey, frame []byte, tags map[string]string, at time.Time) {
	c.publish(stateMsg{T: msgCache, N: c.id, A: k.app, Ch: k.channel, F: frame, Tg: tags, At: at.UnixNano()})
}

// start runs the loop: deltas, snapshots, heartbeats and expiry. All
// numbered messages come from this goroutine, so they leave in order.
func (c *cluster) start() {
	go c.run()
}

func (c *cluster) run() {
	defer close(c.done)
	c.publish(stateMsg{T: msgSync, N: c.id, To: "*"})
	c.heartbeat()
	hb := time.NewTicker(c.cfg.HeartbeatInterval)
	defer hb.Stop()
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	pending := false
	for {
		select {
		case <-c.stop:
			c.flushDelta()
			c.publish(stateMsg{T: msgBye, N: c.id})
			return
		case <-c.kick:
			if !pending {
				pending = true
				flush.Reset(c.cfg.StateFlushInterval)
			}
		case <-flush.C:
			pending = false
			c.flushDelta()
		case <-c.snapshot:
			c.sendSnapshot()
		case now := <-hb.C:
			c.flushDelta()
			c.heartbeat()
			c.expire(now)
		}
	}
}

func (c *cluster) heartbeat() {
	c.mu.Lock()
	m := stateMsg{T: msgHeartbeat, N: c.id, Q: c.seq, C: copyCounts(c.localConns)}
	c.mu.Unlock()
	c.publish(m)
}

func copyCounts(m map[string]int) map[string]int {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// flushDelta sends what changed since the last delta.
func (c *cluster) flushDelta() {
	c.mu.Lock()
	if len(c.dirtySubs) == 0 && len(c.dirtyMembers) == 0 {
		c.mu.Unlock()
		return
	}
	ops := make([]stateOp, 0, len(c.dirtySubs)+len(c.dirtyMembers))
	for k := range c.dirtySubs {
		n := 0
		if cb := c.local[k]; cb != nil {
			n = cb.subs
		}
		ops = append(ops, stateOp{T: opSubs, A: k.app, C: k.channel, N: n})
	}
	for mk := range c.dirtyMembers {
		op := stateOp{T: opMember, A: mk.app, C: mk.channel, U: mk.user}
		if lm := c.localMembers[mk.chanKey][mk.user]; lm != nil {
			op.P, op.I = true, lm.info
		}
		ops = append(ops, op)
	}
	clear(c.dirtySubs)
	clear(c.dirtyMembers)
	c.seq++
	m := stateMsg{T: msgDelta, N: c.id, Q: c.seq, O: ops}
	c.mu.Unlock()
	c.publish(m)
}

// sendSnapshot sends this node's whole part.
func (c *cluster) sendSnapshot() {
	c.mu.Lock()
	ops := make([]stateOp, 0, len(c.local))
	for k, cb := range c.local {
		if cb.subs > 0 {
			ops = append(ops, stateOp{T: opSubs, A: k.app, C: k.channel, N: cb.subs})
		}
		for u, info := range cb.members {
			ops = append(ops, stateOp{T: opMember, A: k.app, C: k.channel, U: u, I: info, P: true})
		}
	}
	m := stateMsg{T: msgSnapshot, N: c.id, Q: c.seq, O: ops, C: copyCounts(c.localConns)}
	c.mu.Unlock()
	c.publish(m)
}

// stopLoop says goodbye and ends the loop, or gives up at ctx's end.
func (c *cluster) stopLoop(ctx context.Context) error {
	c.stopOnce.Do(func() { close(c.stop) })
	return lifecycle.WaitDone(ctx, c.done)
}
