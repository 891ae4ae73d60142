// Package fanout carries a realtime cluster's traffic between nodes: channel
// events published on one node for subscribers connected to another, and the
// small state messages (subscription counts, presence members, heartbeats)
// with which every node keeps its view of the cluster.
//
// A Broker is the transport. Memory connects the nodes of one process (a
// single node needs nothing else; tests join several nodes to one
// MemoryBus); NATS connects nodes in different processes through a NATS
// server, with core publish/subscribe only. Both pass the same suite in
// package fanouttest.
//
// Guarantees, for both: delivery is at most once (a slow or disconnected
// node misses messages; the realtime server detects gaps in state messages
// by their sequence numbers and asks for a snapshot); messages from one
// publishing node arrive in the order it published them; a node never
// receives its own messages.
package fanout

import "context"

// Handler receives what other nodes publish. Calls come from one goroutine
// per kind (events, state) and must not block for long.
type Handler interface {
	// HandleEvent is called with an event another node published on a
	// channel this node subscribed to.
	HandleEvent(appID, channel string, payload []byte)
	// HandleState is called with a state message another node broadcast.
	HandleState(payload []byte)
}

// Broker connects this node to the others.
type Broker interface {
	// Start connects and begins handing messages to h. It is called once.
	Start(ctx context.Context, h Handler) error
	// Subscribe declares that this node wants the channel's events, until
	// Unsubscribe. The caller subscribes once per channel (when the first
	// local connection subscribes) and unsubscribes once (after the last).
	Subscribe(appID, channel string) error
	Unsubscribe(appID, channel string) error
	// PublishEvent sends an event to the other nodes subscribed to the
	// channel. It does not block on slow receivers.
	PublishEvent(appID, channel string, payload []byte) error
	// PublishState sends a state message to every other node.
	PublishState(payload []byte) error
	// Stop disconnects; no handler call starts after it returns. It
	// honours ctx's deadline.
	Stop(ctx context.Context) error
}
