package smpp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
)

// Connector is one SMPP carrier connection (one or more binds).
type Connector struct {
	name string
	s    Settings
	sink channel.Receiver
	log  *slog.Logger
	enc  encoder

	mu       sync.Mutex
	senders  []*session.Session // bound sessions that can submit
	next     atomic.Uint32
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	stats    Stats
}

// Stats count what the connector did.
type Stats struct {
	Submitted, Receipts, Inbound, Reconnects atomic.Int64
}

var _ channel.Connector = (*Connector)(nil)

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

// Start opens the binds; each reconnects with backoff until Stop.
func (c *Connector) Start() {
	for i := 0; i < c.s.Binds; i++ {
		switch c.s.BindMode {
		case BindTxRx:
			c.keepBound(codec.BindTransmitter)
			c.keepBound(codec.BindReceiver)
		case BindTransmitter:
			c.keepBound(codec.BindTransmitter)
		default:
			c.keepBound(codec.BindTransceiver)
		}
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
	c.stopOnce.Do(func() { close(c.stop) })
	return lifecycle.Wait(ctx, &c.wg)
}

func (c *Connector) keepBound(kind codec.BindKind) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		delay := time.Duration(c.s.ReconnectMin)
		for {
			start := time.Now()
			err := c.runBind(kind)
			select {
			case <-c.stop:
				return
			default:
			}
			if time.Since(start) > time.Duration(c.s.ReconnectMax) {
				delay = time.Duration(c.s.ReconnectMin) // it was up for a while: start over
			}
			c.stats.Reconnects.Add(1)
			wait := delay/2 + rand.N(delay/2+1)
			var refused *session.BindError
			if errors.As(err, &refused) {
				c.log.Error("smpp: the SMSC refused the bind; check the connector's credentials", "bind", kind.String(), "status", refused.Status.String(), "retry_in", wait.Round(time.Millisecond))
			} else {
				c.log.Warn("smpp: bind lost; reconnecting", "bind", kind.String(), "in", wait.Round(time.Millisecond), "err", err)
			}
			select {
			case <-c.stop:
				return
			case <-time.After(wait):
			}
			delay = min(2*delay, time.Duration(c.s.ReconnectMax))
		}
	}()
}

// runBind connects, binds, serves until the session ends, and returns why.
func (c *Connector) runBind(kind codec.BindKind) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.s.RespTimeout))
	defer cancel()
	addr := net.JoinHostPort(c.s.Host, strconv.Itoa(c.s.Port))
	sess, err := session.Dial(ctx, addr, &codec.Bind{
		Kind: kind, SystemID: c.s.SystemID, Password: c.s.Password, SystemType: c.s.SystemType,
		InterfaceVersion: codec.InterfaceVersion34,
	}, session.Config{
		Window: c.s.Window, RespTimeout: time.Duration(c.s.RespTimeout), EnquireInterval: time.Duration(c.s.EnquireInterval),
		MaxRate: c.s.Throughput, Log: c.log,
	}, session.HandlerFunc(c.handle))
	if err != nil {
		return err
	}
	c.log.Info("smpp: bound", "bind", kind.String(), "addr", addr)
	if kind != codec.BindReceiver {
		c.mu.Lock()
		c.senders = append(c.senders, sess)
		c.mu.Unlock()
	}
	defer func() {
		c.mu.Lock()
		c.senders = slices.DeleteFunc(c.senders, func(s *session.Session) bool { return s == sess })
		c.mu.Unlock()
	}()
	select {
	case <-sess.Done():
		return sess.Err()
	case <-c.stop:
		c.mu.Lock()
		c.senders = slices.DeleteFunc(c.senders, func(s *session.Session) bool { return s == sess })
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return sess.Close(ctx)
	}
}

// sender picks a bound session round-robin.
func (c *Connector) sender() *session.Session {
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
		sess := c.sender()
		if sess == nil {
			return channel.Result{}, &channel.TemporaryError{Reason: "not bound", Err: channel.ErrUnavailable}
		}
		resp, err := sess.Send(ctx, p)
		if err != nil {
			if errors.Is(err, session.ErrClosed) {
				return channel.Result{}, &channel.TemporaryError{Reason: "bind dropped", Err: channel.ErrUnavailable}
			}
			return channel.Result{}, &channel.TemporaryError{Reason: "submit_sm", Err: err}
		}
		if err := c.checkStatus(resp.Hdr().Status); err != nil {
			return channel.Result{}, err
		}
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
