// Package loopback is a built-in connector for demos and tests that delivers
// every SMS to nowhere: it takes each submission and answers at once that it
// was delivered. No message leaves the machine.
//
// Because the delivery is part of the submission's answer, it is committed
// with the job that sent it: a crash can only repeat a loopback delivery,
// never lose one. It is wired only by `omnigate serve --demo`; real delivery
// goes through a carrier connector (SMPP), which reports asynchronously.
package loopback

import (
	"context"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
)

// Name is the connector name shown in statuses.
const Name = "loopback"

// Config tunes the simulated carrier.
type Config struct {
	// Delay is how long each submission takes; default 0.
	Delay time.Duration
}

// Connector is the loopback connector.
type Connector struct{ cfg Config }

var _ channel.Connector = (*Connector)(nil)

// New returns a loopback connector.
func New(cfg Config) *Connector { return &Connector{cfg: cfg} }

// Name implements channel.Connector.
func (c *Connector) Name() string { return Name }

// Send "delivers" a submission.
func (c *Connector) Send(ctx context.Context, s channel.Submission) (channel.Result, error) {
	if c.cfg.Delay > 0 {
		t := time.NewTimer(c.cfg.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return channel.Result{}, &channel.TemporaryError{Reason: "loopback interrupted", Err: ctx.Err()}
		}
	}
	parts := make([]string, max(s.Recipient.PartCount, 1))
	for i := range parts {
		parts[i] = ids.New()
	}
	return channel.Result{Status: message.Delivered, PartIDs: parts}, nil
}
