package dispatch

import (
	"errors"
	"strings"
	"sync"

	"github.com/omnigate/omnigate/internal/channel"
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

// TableRouter routes SMS by the route table: an account's own routes first,
// then the default ones. Within a table the longest matching number prefix
// wins, then a matching country, then the catch-all route. Connectors that
// are not running are skipped. Fallback, when set, is tried last (the demo's
// simulator).
type TableRouter struct {
	connectors Connectors
	fallback   channel.Connector

	mu     sync.RWMutex
	routes []store.Route
}

// NewTableRouter makes a router over the running connectors.
func NewTableRouter(connectors Connectors, fallback channel.Connector) *TableRouter {
	return &TableRouter{connectors: connectors, fallback: fallback}
}

// SetFallback sets the connector tried last for every destination.
func (t *TableRouter) SetFallback(c channel.Connector) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fallback = c
}

// SetRoutes replaces the route table (the app reloads it periodically).
func (t *TableRouter) SetRoutes(routes []store.Route) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.routes = routes
}

// Route implements Router.
func (t *TableRouter) Route(m *message.Message, r *message.Recipient) ([]channel.Connector, error) {
	t.mu.RLock()
	best := bestRoute(t.routes, m.AccountID, r)
	if best == nil {
		best = bestRoute(t.routes, "", r)
	}
	fallback := t.fallback
	t.mu.RUnlock()
	var out []channel.Connector
	if best != nil {
		for _, name := range best.Connectors {
			if c, ok := t.connectors.Connector(name); ok {
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

// bestRoute picks the most specific route of one table for a recipient.
func bestRoute(routes []store.Route, accountID string, r *message.Recipient) *store.Route {
	var best *store.Route
	bestScore := -1
	for i := range routes {
		rt := &routes[i]
		if rt.AccountID != accountID {
			continue
		}
		if rt.Prefix != "" && !strings.HasPrefix(r.Address, rt.Prefix) {
			continue
		}
		if rt.Country != "" && !strings.EqualFold(rt.Country, r.Country) {
			continue
		}
		score := 0
		switch {
		case rt.Prefix != "":
			score = 100 + len(rt.Prefix)
		case rt.Country != "":
			score = 50
		}
		if score > bestScore {
			best, bestScore = rt, score
		}
	}
	return best
}
