package fanout

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/omnigate/omnigate/internal/lifecycle"
)

// DefaultMemoryQueue is how many messages a Memory broker holds for its
// handler before it drops (at most once, like NATS).
const DefaultMemoryQueue = 65536

// MemoryBus joins Memory brokers of one process into a cluster: what one
// publishes reaches the others. It exists for single-process tests of
// several nodes; a lone node uses NewMemory.
type MemoryBus struct {
	mu    sync.RWMutex
	nodes map[*Memory]struct{}
}

// NewMemoryBus makes an empty bus.
func NewMemoryBus() *MemoryBus { return &MemoryBus{nodes: map[*Memory]struct{}{}} }

// Broker makes a broker on the bus; it joins when started.
func (b *MemoryBus) Broker() *Memory {
	return &Memory{bus: b, subs: map[subKey]struct{}{}, queue: make(chan memoryMsg, DefaultMemoryQueue),
		stop: make(chan struct{}), done: make(chan struct{})}
}

// NewMemory makes a broker for a single node: it has nobody to talk to, so
// publishing costs nothing.
func NewMemory() *Memory { return NewMemoryBus().Broker() }

// Memory is the in-process Broker.
type Memory struct {
	bus     *MemoryBus
	h       Handler
	mu      sync.RWMutex
	subs    map[subKey]struct{}
	queue   chan memoryMsg
	dropped atomic.Int64

	startOnce, stopOnce sync.Once
	started             atomic.Bool
	stop, done          chan struct{}
}

var _ Broker = (*Memory)(nil)

type subKey struct{ app, channel string }

type memoryMsg struct {
	state        bool
	app, channel string
	payload      []byte
}

// Start joins the bus and runs the delivery goroutine until Stop.
func (m *Memory) Start(_ context.Context, h Handler) error {
	m.startOnce.Do(func() {
		m.h = h
		m.started.Store(true)
		m.bus.mu.Lock()
		m.bus.nodes[m] = struct{}{}
		m.bus.mu.Unlock()
		go m.run()
	})
	return nil
}

func (m *Memory) run() {
	defer close(m.done)
	for {
		select {
		case <-m.stop:
			return
		case msg := <-m.queue:
			if msg.state {
				m.h.HandleState(msg.payload)
			} else {
				m.h.HandleEvent(msg.app, msg.channel, msg.payload)
			}
		}
	}
}

// Subscribe declares interest in a channel.
func (m *Memory) Subscribe(appID, channel string) error {
	m.mu.Lock()
	m.subs[subKey{appID, channel}] = struct{}{}
	m.mu.Unlock()
	return nil
}

// Unsubscribe withdraws interest in a channel.
func (m *Memory) Unsubscribe(appID, channel string) error {
	m.mu.Lock()
	delete(m.subs, subKey{appID, channel})
	m.mu.Unlock()
	return nil
}

func (m *Memory) wants(k subKey) bool {
	m.mu.RLock()
	_, ok := m.subs[k]
	m.mu.RUnlock()
	return ok
}

func (m *Memory) deliver(msg memoryMsg) {
	select {
	case m.queue <- msg:
	default:
		m.dropped.Add(1)
	}
}

// PublishEvent hands the event to the other started brokers that want it.
func (m *Memory) PublishEvent(appID, channel string, payload []byte) error {
	k := subKey{appID, channel}
	p := append([]byte(nil), payload...)
	m.bus.mu.RLock()
	defer m.bus.mu.RUnlock()
	for n := range m.bus.nodes {
		if n != m && n.wants(k) {
			n.deliver(memoryMsg{app: appID, channel: channel, payload: p})
		}
	}
	return nil
}

// PublishState hands the message to every other started broker.
func (m *Memory) PublishState(payload []byte) error {
	p := append([]byte(nil), payload...)
	m.bus.mu.RLock()
	defer m.bus.mu.RUnlock()
	for n := range m.bus.nodes {
		if n != m {
			n.deliver(memoryMsg{state: true, payload: p})
		}
	}
	return nil
}

// Dropped counts messages this broker dropped because its queue was full.
func (m *Memory) Dropped() int64 { return m.dropped.Load() }

// Stop leaves the bus and stops delivering.
func (m *Memory) Stop(ctx context.Context) error {
	m.stopOnce.Do(func() {
		m.bus.mu.Lock()
		delete(m.bus.nodes, m)
		m.bus.mu.Unlock()
		close(m.stop)
	})
	if !m.started.Load() {
		return nil
	}
	return lifecycle.WaitDone(ctx, m.done)
}
