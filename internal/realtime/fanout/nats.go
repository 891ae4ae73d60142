package fanout

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/omnigate/omnigate/internal/lifecycle"
)

// NATS defaults.
const (
	DefaultNATSURL    = "nats://127.0.0.1:4222"
	DefaultNATSPrefix = "omnigate.realtime"
	DefaultNATSQueue  = 65536
)

// NATSConfig configures a NATS broker. Zero values mean the defaults.
type NATSConfig struct {
	// URL of the NATS server(s), comma separated; default DefaultNATSURL.
	URL string
	// Prefix starts every subject, so that several clusters (or tests)
	// share a server without hearing each other; default
	// DefaultNATSPrefix. Tokens of letters, digits, '-' and '_',
	// separated by dots.
	Prefix string
	// Name names the connection in the server's monitoring; default
	// "omnigate-realtime".
	Name string
	// Queue bounds the messages received and not yet handled, per kind
	// (events, state); beyond it NATS drops them. Default
	// DefaultNATSQueue.
	Queue int
	// Options are added to the connection's options (credentials, TLS).
	Options []nats.Option
}

// NATS is the Broker for nodes in several processes. Events travel on one
// subject per channel (PREFIX.e.<app>.<channel>, names base64url-encoded),
// so a node receives only the channels its clients subscribed to; state
// messages on PREFIX.s reach every node.
type NATS struct {
	cfg    NATSConfig
	nc     *nats.Conn
	h      Handler
	events chan *nats.Msg
	states chan *nats.Msg

	mu   sync.Mutex
	subs map[subKey]*nats.Subscription

	stopOnce sync.Once
	stop     chan struct{}
	wg       sync.WaitGroup
}

var _ Broker = (*NATS)(nil)

// NewNATS makes a NATS broker; Start connects it.
func NewNATS(cfg NATSConfig) (*NATS, error) {
	if cfg.URL == "" {
		cfg.URL = DefaultNATSURL
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultNATSPrefix
	}
	if cfg.Name == "" {
		cfg.Name = "omnigate-realtime"
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultNATSQueue
	}
	for _, tok := range strings.Split(cfg.Prefix, ".") {
		if tok == "" || strings.Trim(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return nil, fmt.Errorf("fanout: NATSConfig.Prefix %q: want dot-separated tokens of letters, digits, '-' and '_'", cfg.Prefix)
		}
	}
	return &NATS{cfg: cfg, subs: map[subKey]*nats.Subscription{}, stop: make(chan struct{}),
		events: make(chan *nats.Msg, cfg.Queue), states: make(chan *nats.Msg, cfg.Queue)}, nil
}

var token = base64.RawURLEncoding

var errNotStarted = errors.New("fanout: broker not started")

func (n *NATS) eventSubject(appID, channel string) string {
	return n.cfg.Prefix + ".e." + token.EncodeToString([]byte(appID)) + "." + token.EncodeToString([]byte(channel))
}

func (n *NATS) stateSubject() string { return n.cfg.Prefix + ".s" }

// Start connects to NATS and subscribes to state messages.
func (n *NATS) Start(ctx context.Context, h Handler) error {
	opts := append([]nats.Option{
		nats.Name(n.cfg.Name),
		nats.NoEcho(), // never hear our own messages
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.Timeout(5 * time.Second),
	}, n.cfg.Options...)
	nc, err := nats.Connect(n.cfg.URL, opts...)
	if err != nil {
		return fmt.Errorf("connecting to NATS: %w", err)
	}
	if _, err := nc.ChanSubscribe(n.stateSubject(), n.states); err != nil {
		nc.Close()
		return fmt.Errorf("subscribing to NATS state subject: %w", err)
	}
	// The subscription is in place on the server before Start returns.
	if err := flush(ctx, nc); err != nil {
		nc.Close()
		return fmt.Errorf("flushing NATS subscription: %w", err)
	}
	n.nc, n.h = nc, h
	n.wg.Add(2)
	go n.consume(n.states, func(m *nats.Msg) { h.HandleState(m.Data) })
	go n.consume(n.events, n.handleEvent)
	return nil
}

func (n *NATS) consume(ch chan *nats.Msg, f func(*nats.Msg)) {
	defer n.wg.Done()
	for {
		select {
		case <-n.stop:
			return
		case m := <-ch:
			f(m)
		}
	}
}

func (n *NATS) handleEvent(m *nats.Msg) {
	rest, ok := strings.CutPrefix(m.Subject, n.cfg.Prefix+".e.")
	if !ok {
		return
	}
	appTok, chTok, ok := strings.Cut(rest, ".")
	if !ok {
		return
	}
	app, err1 := token.DecodeString(appTok)
	channel, err2 := token.DecodeString(chTok)
	if err1 != nil || err2 != nil {
		return
	}
	n.h.HandleEvent(string(app), string(channel), m.Data)
}

// Subscribe subscribes to the channel's subject.
func (n *NATS) Subscribe(appID, channel string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := subKey{appID, channel}
	if _, ok := n.subs[k]; ok || n.nc == nil {
		return nil
	}
	sub, err := n.nc.ChanSubscribe(n.eventSubject(appID, channel), n.events)
	if err != nil {
		return fmt.Errorf("subscribing to a channel on NATS: %w", err)
	}
	n.subs[k] = sub
	return nil
}

// Unsubscribe drops the channel's subscription.
func (n *NATS) Unsubscribe(appID, channel string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := subKey{appID, channel}
	sub, ok := n.subs[k]
	if !ok {
		return nil
	}
	delete(n.subs, k)
	if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("unsubscribing from a channel on NATS: %w", err)
	}
	return nil
}

// PublishEvent publishes on the channel's subject.
func (n *NATS) PublishEvent(appID, channel string, payload []byte) error {
	if n.nc == nil {
		return errNotStarted
	}
	if err := n.nc.Publish(n.eventSubject(appID, channel), payload); err != nil {
		return fmt.Errorf("publishing an event on NATS: %w", err)
	}
	return nil
}

// PublishState publishes on the state subject.
func (n *NATS) PublishState(payload []byte) error {
	if n.nc == nil {
		return errNotStarted
	}
	if err := n.nc.Publish(n.stateSubject(), payload); err != nil {
		return fmt.Errorf("publishing state on NATS: %w", err)
	}
	return nil
}

// Flush waits until the server has every message published so far.
func (n *NATS) Flush(ctx context.Context) error {
	if err := flush(ctx, n.nc); err != nil {
		return fmt.Errorf("flushing NATS: %w", err)
	}
	return nil
}

// flush is FlushWithContext with a 5 s bound when ctx has no deadline.
func flush(ctx context.Context, nc *nats.Conn) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	return nc.FlushWithContext(ctx)
}

// Stop stops the handler goroutines, flushes what was published and
// closes the connection.
func (n *NATS) Stop(ctx context.Context) error {
	var err error
	n.stopOnce.Do(func() {
		close(n.stop)
		err = lifecycle.Wait(ctx, &n.wg)
		if n.nc != nil {
			// Last state messages (a node saying goodbye) go out first.
			fctx, cancel := context.WithTimeout(ctx, time.Second)
			flush(fctx, n.nc)
			cancel()
			n.nc.Close()
		}
	})
	return err
}
