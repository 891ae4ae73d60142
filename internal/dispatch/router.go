package dispatch

import (
	"errors"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/message"
)

// ErrNoRoute means no connector can take a recipient now; the dispatcher
// retries later (a connector may be configured or come back).
var ErrNoRoute = errors.New("no connector for this destination")

// Router picks the connector for one recipient. The SMPP work adds a route
// table (country and prefix → ordered connectors, with failover).
type Router interface {
	Route(m *message.Message, r *message.Recipient) (channel.Connector, error)
}

// ChannelRouter sends every message of a channel to one connector.
type ChannelRouter map[string]channel.Connector

// Route implements Router.
func (cr ChannelRouter) Route(m *message.Message, _ *message.Recipient) (channel.Connector, error) {
	if c, ok := cr[m.Channel]; ok {
		return c, nil
	}
	return nil, ErrNoRoute
}
