package webhook

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// ConvRender renders a Conversations webhook delivery.
type ConvRender func(ctx context.Context, d *store.WebhookDelivery) (ConvCall, error)

// ConvCall is a rendered Conversations webhook delivery: the URL to POST
// to, the body, and the webhook's settings; Skip says it is not to be
// sent (the webhook is gone or disabled, or takes another channel's
// events).
type ConvCall struct {
	URL      string
	Body     []byte
	Settings Settings
	Skip     bool
}

// ConvDeliverer sends the Conversations API's webhook deliveries
// (store.Conversations): signed like every report, retried with the
// Sender's backoff up to its MaxAttempts, and in order per conversation
// and webhook — the store leases only the oldest undone delivery of each,
// so a later event waits until the one before succeeded or was given up.
type ConvDeliverer struct {
	s      *Sender
	render ConvRender
	batch  int
	lease  time.Duration
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	start  sync.Once
	ran    bool
}

// Conversations makes the deliverer of Conversations webhooks; call Start
// to run it.
func (s *Sender) Conversations(render ConvRender) *ConvDeliverer {
	return &ConvDeliverer{s: s, render: render, batch: 64, lease: 2*s.cfg.Timeout + 5*time.Second,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// Start runs the deliverer until Stop.
func (c *ConvDeliverer) Start() {
	c.start.Do(func() {
		c.ran = true
		go c.run()
	})
}

// Notify wakes the deliverer: deliveries are due.
func (c *ConvDeliverer) Notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Stop ends the deliverer after the attempts in progress, or when ctx
// ends (a lease then expires and the delivery is made again).
func (c *ConvDeliverer) Stop(ctx context.Context) error {
	c.once.Do(func() { close(c.stop) })
	c.start.Do(func() {}) // never started: nothing to wait for
	if !c.ran {
		return nil
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *ConvDeliverer) run() {
	defer close(c.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	poll := c.s.cfg.Pool.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	for {
		now := time.Now()
		ds, err := c.s.store.LeaseDeliveries(ctx, now, now.Add(c.lease), c.batch)
		if err != nil {
			c.s.log.Warn("webhook: leasing conversation deliveries", "err", err)
		}
		if len(ds) > 0 {
			var wg sync.WaitGroup
			for _, d := range ds {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c.deliver(ctx, d)
				}()
			}
			wg.Wait()
			select {
			case <-c.stop:
				return
			default:
			}
			continue // the next of each conversation may be due now
		}
		t := time.NewTimer(poll)
		select {
		case <-c.stop:
			t.Stop()
			return
		case <-c.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// deliver makes one attempt at one delivery.
func (c *ConvDeliverer) deliver(ctx context.Context, d *store.WebhookDelivery) {
	ctx, t := withTrace(ctx)
	start := time.Now()
	maxAttempts, err := c.attempt(ctx, d)
	var drop *dropError
	attempts := d.Attempts + 1
	var serr error
	retried := false
	defer func() {
		// The log of attempts, after the delivery's own record.
		if a := convAttempt(d, t, err, retried, time.Since(start)); a != nil {
			if lerr := c.s.store.RecordWebhookAttempts(ctx, []*store.WebhookAttempt{a}); lerr != nil {
				c.s.log.Warn("webhook: logging a conversation attempt", "id", d.ID, "err", lerr)
			}
		}
	}()
	switch {
	case err == nil:
		c.s.metrics.Webhooks.WithLabelValues("conversation", "ok").Inc()
		serr = c.s.store.FinishDelivery(ctx, d.ID, "")
	case errors.As(err, &drop):
		c.s.metrics.Webhooks.WithLabelValues("conversation", "dropped").Inc()
		if drop.log {
			c.s.log.Warn("webhook: conversation event dropped", "event", d.Event, "conversation", d.ConversationID, "reason", drop.reason)
		}
		serr = c.s.store.FinishDelivery(ctx, d.ID, drop.reason)
	case attempts >= maxAttempts:
		c.s.metrics.Webhooks.WithLabelValues("conversation", "dropped").Inc()
		c.s.log.Warn("webhook: conversation event dropped after retries", "event", d.Event, "conversation", d.ConversationID,
			"attempts", attempts, "err", err)
		serr = c.s.store.FinishDelivery(ctx, d.ID, err.Error())
	default:
		retried = true
		c.s.metrics.Webhooks.WithLabelValues("conversation", "retry").Inc()
		serr = c.s.store.RetryDelivery(ctx, d.ID, time.Now().Add(c.s.cfg.Retry.Delay(attempts)), err.Error())
	}
	if serr != nil {
		c.s.log.Warn("webhook: recording a conversation delivery", "id", d.ID, "err", serr)
	}
}

// attempt makes one call for d; maxAttempts is how many d gets in all
// (its webhook's retry setting, else the sender's).
func (c *ConvDeliverer) attempt(ctx context.Context, d *store.WebhookDelivery) (maxAttempts int, err error) {
	maxAttempts = c.s.cfg.MaxAttempts
	acct, err := c.s.accounts.Get(ctx, d.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return maxAttempts, &dropError{reason: "account gone"}
	} else if err != nil {
		return maxAttempts, err
	}
	call, err := c.render(ctx, d)
	if err != nil {
		return maxAttempts, err
	}
	if call.Skip {
		return maxAttempts, &dropError{reason: "not for this webhook"}
	}
	if call.Settings.Retry > 0 {
		maxAttempts = call.Settings.Retry + 1
	}
	return maxAttempts, c.s.callWith(ctx, acct, call.URL, call.Body, call.Settings)
}
