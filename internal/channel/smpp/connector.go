package smpp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/lifecycle"
	"github.com/omnigate/omnigate/internal/message"
	codec "github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/dlr"
	"github.com/omnigate/omnigate/internal/smpp/session"
	"github.com/omnigate/omnigate/internal/worker"
)

// Connector is one SMPP carrier connection (one or more binds).
type Connector struct {
	name string
	s    Settings
	sink channel.Receiver
	log  *slog.Logger
	enc  encoder

	mu       sync.Mutex
	senders  []*bind // bound sessions that can submit
	next     atomic.Uint32
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	stats    Stats

	slotMu sync.Mutex
	leased bool            // Scale, not Start, says how many binds to keep
	slots  []chan struct{} // one per bind kept; closing it closes the bind
}

// Stats count what the connector did.
type Stats struct {
	Submitted, Receipts, Inbound, Reconnects atomic.Int64
}

var _ channel.Scaled = (*Connector)(nil)

// New makes a connector; Start connects it.
func New(name string, s Settings, sink channel.Receiver, log *slog.Logger) (*Connector, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s = s.WithDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Connector{name: name, s: s, sink: sink, log: log.With("connector", name), enc: encoder{s: s}, stop: make(chan struct{})}, nil
}

// Kind is the SMPP connector kind for the channel registry: it carries
// SMS.
func Kind() channel.Kind {
	return channel.Kind{Name: KindName, Channel: message.ChannelSMS,
		Check: func(settings []byte) error { _, err := ParseSettings(settings); return err },
		New: func(name string, settings []byte, rx channel.Receiver, log *slog.Logger) (channel.Connector, error) {
			s, err := ParseSettings(settings)
			if err != nil {
				return nil, err
			}
			return New(name, s, rx, log)
		}}
}

// KindName is the SMPP connector kind's name.
const KindName = "smpp"

// Name implements channel.Connector.
func (c *Connector) Name() string { return c.name }

// Channel implements channel.Connector: SMPP carries SMS.
func (c *Connector) Channel() string { return message.ChannelSMS }

// Up implements channel.Connector: the binds that can submit now.
func (c *Connector) Up() int { return c.Bound() }

// Settings are the connector's settings with defaults filled in.
func (c *Connector) Settings() Settings { return c.s }

// Stats are the connector's counters.
func (c *Connector) Stats() *Stats { return &c.stats }

// Start opens the binds; each reconnects with backoff until Stop. A
// leased connector (Leased) opens none: Scale does.
func (c *Connector) Start() {
	c.slotMu.Lock()
	leased := c.leased
	c.slotMu.Unlock()
	if !leased {
		c.Scale(c.s.Binds)
	}
}

// Total implements channel.Scaled: the binds setting, for every node
// together.
func (c *Connector) Total() int { return c.s.Binds }

// Leased implements channel.Scaled.
func (c *Connector) Leased() {
	c.slotMu.Lock()
	c.leased = true
	c.slotMu.Unlock()
}

// Scale implements channel.Scaled: it keeps n bind slots (each one bind,
// or a transmitter and a receiver with tx+rx), closing the newest first.
func (c *Connector) Scale(n int) {
	n = max(0, min(n, c.s.Binds))
	c.slotMu.Lock()
	defer c.slotMu.Unlock()
	select {
	case <-c.stop:
		return
	default:
	}
	for len(c.slots) < n {
		quit := make(chan struct{})
		c.slots = append(c.slots, quit)
		switch c.s.BindMode {
		case BindTxRx:
			c.keepBound(codec.BindTransmitter, quit)
			c.keepBound(codec.BindReceiver, quit)
		case BindTransmitter:
			c.keepBound(codec.BindTransmitter, quit)
		default:
			c.keepBound(codec.BindTransceiver, quit)
		}
	}
	for len(c.slots) > n {
		close(c.slots[len(c.slots)-1])
		c.slots = c.slots[:len(c.slots)-1]
	}
}

// Bound reports how many binds can submit now.
func (c *Connector) Bound() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.senders)
}

// Stop unbinds every session and stops reconnecting.
func (c *Connector) Stop(ctx context.Context) error {
	c.slotMu.Lock() // Scale adds no bind once stop is closed
	c.stopOnce.Do(func() { close(c.stop) })
	c.slotMu.Unlock()
	return lifecycle.Wait(ctx, &c.wg)
}

func (c *Connector) keepBound(kind codec.BindKind, quit <-chan struct{}) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		waits := redial{b: worker.Backoff{Min: time.Duration(c.s.ReconnectMin), Max: time.Duration(c.s.ReconnectMax)}}
		for {
			start := time.Now()
			worked, err := c.runBind(kind, quit)
			select {
			case <-c.stop:
				return
			case <-quit:
				return
			default:
			}
			// A bind that was up a while, even idle, worked too.
			worked = worked || time.Since(start) > time.Duration(c.s.ReconnectMax)
			c.stats.Reconnects.Add(1)
			wait := waits.next(worked)
			var refused *session.BindError
			if errors.As(err, &refused) {
				c.log.Error("smpp: the SMSC refused the bind; check the connector's credentials", "bind", kind.String(), "status", refused.Status.String(), "retry_in", wait.Round(time.Millisecond))
			} else {
				c.log.Warn("smpp: bind lost; reconnecting", "bind", kind.String(), "in", wait.Round(time.Millisecond), "err", err)
			}
			select {
			case <-c.stop:
				return
			case <-quit:
				return
			case <-time.After(wait):
			}
		}
	}()
}

// redial spaces out the reconnects of one bind: the wait doubles from
// ReconnectMin to ReconnectMax, jittered (worker.Backoff), with each bind in
// a row that did not work, and starts over from ReconnectMin once a bind has
// worked. A link that drops every few seconds under load thus comes back
// within ReconnectMin each time, while an SMSC that is down or refuses the
// bind is not hammered.
type redial struct {
	b     worker.Backoff
	fails int // binds in a row that did not work, counting the last one
}

// next is the wait before reconnecting after a bind that ended; worked says
// whether it carried traffic (see bind.worked).
func (r *redial) next(worked bool) time.Duration {
	if worked {
		r.fails = 0
	}
	r.fails++
	return r.b.Delay(r.fails)
}

// bind is one bound session and whether it has worked: the SMSC accepted a
// submit on it, or it delivered a receipt or a message that was taken.
type bind struct {
	sess     *session.Session
	worked   atomic.Bool
	inflight atomic.Int32 // submits awaiting their response
}

// runBind connects, binds, serves until the session ends, and returns
// whether the bind worked and why it ended.
func (c *Connector) runBind(kind codec.BindKind, quit <-chan struct{}) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.s.RespTimeout))
	defer cancel()
	addr := net.JoinHostPort(c.s.Host, strconv.Itoa(c.s.Port))
	b := &bind{}
	handle := func(ctx context.Context, s *session.Session, req codec.PDU) codec.PDU {
		resp := c.handle(ctx, s, req)
		if resp != nil && resp.Hdr().Status == codec.ESME_ROK {
			b.worked.Store(true)
		}
		return resp
	}
	sess, err := session.Dial(ctx, addr, &codec.Bind{
		Kind: kind, SystemID: c.s.SystemID, Password: c.s.Password, SystemType: c.s.SystemType,
		InterfaceVersion: codec.InterfaceVersion34,
	}, session.Config{
		Window: c.s.Window, RespTimeout: time.Duration(c.s.RespTimeout), EnquireInterval: time.Duration(c.s.EnquireInterval),
		MaxRate: c.s.Throughput, Log: c.log,
	}, session.HandlerFunc(handle))
	if err != nil {
		return false, err
	}
	b.sess = sess
	c.log.Info("smpp: bound", "bind", kind.String(), "addr", addr)
	if kind != codec.BindReceiver {
		c.mu.Lock()
		c.senders = append(c.senders, b)
		c.mu.Unlock()
	}
	defer c.forget(b)
	select {
	case <-sess.Done():
		return b.worked.Load(), sess.Err()
	case <-c.stop:
	case <-quit:
	}
	// No new submit on it; those in flight get their answers before the
	// unbind (else they would be retried, and sent twice).
	c.forget(b)
	for wait := time.Now().Add(time.Duration(c.s.RespTimeout)); b.inflight.Load() > 0 && time.Now().Before(wait); {
		select {
		case <-sess.Done():
			wait = time.Time{}
		case <-time.After(5 * time.Millisecond):
		}
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.worked.Load(), sess.Close(ctx)
}

// forget stops submitting on b.
func (c *Connector) forget(b *bind) {
	c.mu.Lock()
	c.senders = slices.DeleteFunc(c.senders, func(s *bind) bool { return s == b })
	c.mu.Unlock()
}

// sender picks a bound session round-robin.
func (c *Connector) sender() *bind {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.senders) == 0 {
		return nil
	}
	return c.senders[int(c.next.Add(1))%len(c.senders)]
}

// Send submits every part of one recipient's message and returns the SMSC's
// id for each part.
func (c *Connector) Send(ctx context.Context, sub channel.Submission) (channel.Result, error) {
	pdus, err := c.enc.parts(sub)
	if err != nil {
		return channel.Result{}, err
	}
	ids := make([]string, len(pdus))
	for i, p := range pdus {
		b := c.sender()
		if b == nil {
			return channel.Result{}, &channel.TemporaryError{Reason: "not bound", Err: channel.ErrUnavailable}
		}
		b.inflight.Add(1)
		resp, err := b.sess.Send(ctx, p)
		b.inflight.Add(-1)
		if err != nil {
			if errors.Is(err, session.ErrClosed) {
				return channel.Result{}, &channel.TemporaryError{Reason: "bind dropped", Err: channel.ErrUnavailable}
			}
			return channel.Result{}, &channel.TemporaryError{Reason: "submit_sm", Err: err}
		}
		if err := c.checkStatus(resp.Hdr().Status); err != nil {
			return channel.Result{}, err
		}
		b.worked.Store(true)
		r, ok := resp.(*codec.SubmitSMResp)
		if !ok || r.MessageID == "" {
			return channel.Result{}, &channel.TemporaryError{Reason: fmt.Sprintf("submit_sm answered with %s and no message id", resp.CommandID())}
		}
		ids[i] = dlr.NormalizeID(r.MessageID)
		c.stats.Submitted.Add(1)
	}
	return channel.Result{Status: message.Sent, PartIDs: ids}, nil
}

// checkStatus turns a submit_sm_resp status into what the dispatcher
// should do: retry later, try another connector, or give up.
func (c *Connector) checkStatus(st codec.Status) error {
	switch {
	case st == codec.ESME_ROK:
		return nil
	case st.Temporary():
		return &channel.TemporaryError{Reason: st.String(), After: time.Second}
	case slices.Contains(c.s.RouteErrors, uint32(st)):
		return &channel.RouteError{Code: int(st), Reason: st.String()}
	}
	return &channel.PermanentError{Code: int(st), Reason: st.String()}
}

// handle answers the SMSC's requests: deliver_sm and data_sm carry receipts
// and inbound messages.
func (c *Connector) handle(ctx context.Context, s *session.Session, req codec.PDU) codec.PDU {
	var d deliverFields
	switch p := req.(type) {
	case *codec.DeliverSM:
		d = deliverFields{p.SourceAddr, p.DestAddr, p.ESMClass, p.DataCoding, p.ShortMessage, p.TLVs}
	case *codec.DataSM:
		d = deliverFields{p.SourceAddr, p.DestAddr, p.ESMClass, p.DataCoding, nil, p.TLVs}
	default:
		if req.CommandID().HasResponse() {
			return codec.NewErrorResponse(req.CommandID(), req.Hdr().Seq, codec.ESME_RINVCMDID)
		}
		return nil
	}
	st := c.receive(ctx, d)
	return codec.NewErrorResponse(req.CommandID(), req.Hdr().Seq, st)
}
