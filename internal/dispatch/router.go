package dispatch

import (
	"errors"
	"sync"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// ErrNoRoute means no connector can take a recipient now; the dispatcher
// retries later (a connector may be configured or come back).
var ErrNoRoute = errors.New("no connector for this destination")

// Router picks the connectors for one recipient, in order of preference:
// the dispatcher tries the next when one is down or refuses the route.
type Router interface {
	Route(m *message.Message, r *message.Recipient) ([]channel.Connector, error)
}

// ChannelRouter sends every message of a channel to one connector.
type ChannelRouter map[string]channel.Connector

// Route implements Router.
func (cr ChannelRouter) Route(m *message.Message, _ *message.Recipient) ([]channel.Connector, error) {
	if c, ok := cr[m.Channel]; ok {
		return []channel.Connector{c}, nil
	}
	return nil, ErrNoRoute
}

// Connectors finds running connectors by name.
type Connectors interface {
	Connector(name string) (channel.Connector, bool)
}

// TableRouter routes by the route table: a message's channel first, then an
// account's own routes before the default ones; within a table a route for
// the message's sender before one for any sender, and then the most
// specific destination (destination.Best: the longest number prefix or
// domain, then a country, then the catch-all). Connectors that are not
// running or carry another channel are skipped. A channel's fallback, when
// set, is tried last (the demo's simulator).
type TableRouter struct {
	connectors Connectors

	mu       sync.RWMutex
	routes   []store.Route
	fallback map[string]channel.Connector
}

// NewTableRouter makes a router over the running connectors.
func NewTableRouter(connectors Connectors) *TableRouter {
	return &TableRouter{connectors: connectors, fallback: map[string]channel.Connector{}}
}

// SetFallback sets the connector tried last for every destination of its
// channel.
func (t *TableRouter) SetFallback(c channel.Connector) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fallback[c.Channel()] = c
}

// SetRoutes replaces the route table (the app reloads it periodically).
func (t *TableRouter) SetRoutes(routes []store.Route) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.routes = routes
}

// Route implements Router.
func (t *TableRouter) Route(m *message.Message, r *message.Recipient) ([]channel.Connector, error) {
	to := destination.Address{Address: r.Address, Country: r.Country}
	t.mu.RLock()
	var best *store.Route
	// An account's routes before the default table; in each, routes for
	// this sender before routes for any.
	for _, table := range [...]struct{ account, sender string }{
		{m.AccountID, m.Originator}, {m.AccountID, ""}, {"", m.Originator}, {"", ""},
	} {
		i := destination.Best(t.routes, func(rt *store.Route) destination.Pattern { return rt.Pattern },
			func(rt *store.Route) bool {
				return rt.AccountID == table.account && rt.Channel == m.Channel && rt.Sender == table.sender
			}, to)
		if i >= 0 {
			best = &t.routes[i]
			break
		}
	}
	fallback := t.fallback[m.Channel]
	t.mu.RUnlock()
	var out []channel.Connector
	if best != nil {
		for _, name := range best.Connectors {
			if c, ok := t.connectors.Connector(name); ok && c.Channel() == m.Channel {
				out = append(out, c)
			}
		}
	}
	if fallback != nil {
		out = append(out, fallback)
	}
	if len(out) == 0 {
		return nil, ErrNoRoute
	}
	return out, nil
}
