// Package smsc is omnigate's SMSC simulator: an SMPP 3.4 server built on the
// same codec and session code as the carrier connector. It accepts binds,
// answers submits with message ids, sends delivery receipts after a delay
// with a configurable mix of outcomes, injects inbound messages on request,
// throttles above a set rate and can drop connections — what development,
// the demo, the tests and the benchmarks need from a carrier.
//
// Receipts for an ESME that is not bound as a receiver are kept until it
// binds again, as a real SMSC keeps them.
package smsc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/lifecycle"
	codec "github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/session"
)

// Config tunes the simulator. Zero values mean the documented defaults.
type Config struct {
	// Listen is the SMPP address; default 127.0.0.1:2775 (":0" picks a port).
	Listen string
	// SystemID and Password, when set, are the only credentials accepted;
	// by default any bind is accepted.
	SystemID, Password string
	// ReceiptDelay is how long after a submit its receipt is sent; default
	// 100 ms. Jitter of ±20 % is added, and receipts due within 2 ms of
	// each other leave together.
	ReceiptDelay time.Duration
	// Outcomes weighs the receipts' states: delivered, undeliverable,
	// expired. Default all delivered.
	Outcomes Outcomes
	// MaxRate caps submits per second across all binds; above it submits
	// are answered ESME_RTHROTTLED. 0: no cap.
	MaxRate float64
	// DropEvery closes a connection after every N submits it carried
	// (without unbinding, as a failing network would). 0: never.
	DropEvery int
	// HexIDs makes message ids hexadecimal; by default they are decimal.
	HexIDs bool
	// ReceiptIDsOtherBase writes ids in receipts in the other base (hex
	// when submit responses gave decimal, and the reverse), as some
	// carriers do.
	ReceiptIDsOtherBase bool
	// Window bounds deliver_sm in flight per session; default 10.
	Window int
	// MaxBinds refuses a bind (ESME_RBINDFAIL) beyond this many bound
	// sessions of one system_id, as carriers limit binds per account;
	// 0: no limit.
	MaxBinds int
	// MaxQueued bounds receipts and messages waiting for a receiver;
	// default 1,000,000 (beyond it the oldest are dropped).
	MaxQueued int
	// OnSubmit, when set, runs on each submit_sm the simulator takes,
	// before it answers: the moment a carrier has a message and its sender
	// has not heard back (tests act there).
	OnSubmit func()
	// OnMessage, when set, sees each submit_sm the simulator takes (tests
	// read what a handset would receive: a one-time code).
	OnMessage func(p *codec.SubmitSM)
	Log       *slog.Logger
}

// Outcomes are relative weights of receipt states.
type Outcomes struct {
	Delivered, Undeliverable, Expired int
}

// Stats count what the simulator did.
type Stats struct {
	Binds, Submits, Throttled, Receipts, Injected, Drops atomic.Int64
	// Refused counts binds refused by MaxBinds.
	Refused atomic.Int64
}

// Server is a running simulator.
type Server struct {
	cfg       Config
	log       *slog.Logger
	listener  net.Listener
	nextID    atomic.Uint64
	injectRef atomic.Uint32 // numbers concatenated inbound messages
	stats     Stats
	rate      *rateWindow

	mu        sync.Mutex
	sessions  map[*session.Session]string // bound session → system_id
	receivers map[string][]*session.Session
	queue     *outbox

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// Start listens and serves until Stop.
func Start(cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:2775"
	}
	if cfg.ReceiptDelay <= 0 {
		cfg.ReceiptDelay = 100 * time.Millisecond
	}
	if cfg.Outcomes == (Outcomes{}) {
		cfg.Outcomes.Delivered = 1
	}
	if cfg.Window <= 0 {
		cfg.Window = 10
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 1_000_000
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("smsc: listening on %s: %w", cfg.Listen, err)
	}
	s := &Server{
		cfg: cfg, log: cfg.Log, listener: l, rate: newRateWindow(cfg.MaxRate),
		sessions: map[*session.Session]string{}, receivers: map[string][]*session.Session{},
		stop: make(chan struct{}),
	}
	s.queue = newOutbox(cfg.MaxQueued, s.deliverDue)
	s.nextID.Store(uint64(time.Now().UnixMilli()%1_000_000) * 1000)
	s.wg.Add(2)
	go s.acceptLoop()
	go func() { defer s.wg.Done(); s.queue.run(s.stop) }()
	return s, nil
}

// Addr is the SMPP address the simulator listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Stats are the simulator's counters.
func (s *Server) Stats() *Stats { return &s.stats }

// Bound is how many sessions are bound now.
func (s *Server) Bound() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Stop closes every session and the listener.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.listener.Close()
		s.mu.Lock()
		var all []*session.Session
		for sess := range s.sessions {
			all = append(all, sess)
		}
		s.mu.Unlock()
		for _, sess := range all {
			sess.Close(ctx)
		}
	})
	return lifecycle.Wait(ctx, &s.wg)
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			select {
			case <-s.stop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c := &client{srv: s}
		// Submits are answered on the reading goroutine (cheaper, and the
		// answers to a window of submits leave together) unless a test's
		// OnSubmit may block there.
		inline := s.cfg.OnSubmit == nil
		sess := session.Accept(conn, session.Config{Window: s.cfg.Window, Log: s.log, Inline: inline}, "omnigate-smsc", c.auth, session.HandlerFunc(c.handle))
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			select {
			case <-sess.Done():
			case <-s.stop:
			}
			s.forget(sess)
		}()
	}
}

// client is one ESME connection.
type client struct {
	srv      *Server
	systemID string // set at bind, before any other request is handled
	submits  atomic.Int64
	dropping atomic.Bool
}

func (c *client) auth(sess *session.Session, b *codec.Bind) codec.Status {
	cfg := c.srv.cfg
	if cfg.SystemID != "" && b.SystemID != cfg.SystemID {
		return codec.ESME_RINVSYSID
	}
	if cfg.Password != "" && b.Password != cfg.Password {
		return codec.ESME_RINVPASWD
	}
	if !c.srv.register(sess, b.SystemID, b.Kind != codec.BindTransmitter) {
		c.srv.stats.Refused.Add(1)
		return codec.ESME_RBINDFAIL
	}
	c.systemID = b.SystemID
	c.srv.stats.Binds.Add(1)
	return codec.ESME_ROK
}

func (s *Server) register(sess *session.Session, systemID string, receives bool) bool {
	s.mu.Lock()
	if s.cfg.MaxBinds > 0 {
		n := 0
		for _, id := range s.sessions {
			if id == systemID {
				n++
			}
		}
		if n >= s.cfg.MaxBinds {
			s.mu.Unlock()
			return false
		}
	}
	s.sessions[sess] = systemID
	if receives {
		s.receivers[systemID] = append(s.receivers[systemID], sess)
	}
	s.mu.Unlock()
	if receives {
		s.queue.wake()
	}
	return true
}

func (s *Server) forget(sess *session.Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.sessions[sess]
	if !ok {
		return
	}
	delete(s.sessions, sess)
	rs := s.receivers[id]
	for i, r := range rs {
		if r == sess {
			s.receivers[id] = append(rs[:i:i], rs[i+1:]...)
			break
		}
	}
}

// receiver picks a bound receiver for a system_id.
func (s *Server) receiver(systemID string) *session.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.receivers[systemID]
	if len(rs) == 0 {
		return nil
	}
	return rs[rand.N(len(rs))]
}

func (c *client) handle(ctx context.Context, sess *session.Session, req codec.PDU) codec.PDU {
	switch p := req.(type) {
	case *codec.SubmitSM:
		return c.submit(sess, p)
	case *codec.QuerySM:
		resp := codec.NewResponse(p).(*codec.QuerySMResp)
		resp.MessageID, resp.MessageState = p.MessageID, codec.StateDelivered
		return resp
	case *codec.CancelSM, *codec.ReplaceSM:
		return codec.NewErrorResponse(req.CommandID(), req.Hdr().Seq, codec.ESME_RCANCELFAIL)
	case *codec.DataSM:
		resp := codec.NewResponse(p).(*codec.DataSMResp)
		resp.MessageID = c.srv.newID()
		return resp
	}
	if req.CommandID().HasResponse() {
		return codec.NewErrorResponse(req.CommandID(), req.Hdr().Seq, codec.ESME_RINVCMDID)
	}
	return nil
}

func (c *client) submit(sess *session.Session, p *codec.SubmitSM) codec.PDU {
	s := c.srv
	if p.DestAddr == "" {
		return codec.NewErrorResponse(codec.CmdSubmitSM, p.Seq, codec.ESME_RINVDSTADR)
	}
	if !s.rate.allow() {
		s.stats.Throttled.Add(1)
		return codec.NewErrorResponse(codec.CmdSubmitSM, p.Seq, codec.ESME_RTHROTTLED)
	}
	id := s.newID()
	s.stats.Submits.Add(1)
	if s.cfg.OnSubmit != nil {
		s.cfg.OnSubmit()
	}
	if s.cfg.OnMessage != nil {
		s.cfg.OnMessage(p)
	}
	if p.RegisteredDelivery&codec.RegisteredDeliveryReceiptMask != 0 {
		s.queue.add(s.receiptFor(c.systemID, id, p))
	}
	resp := codec.NewResponse(p).(*codec.SubmitSMResp)
	resp.MessageID = id
	if n := c.submits.Add(1); s.cfg.DropEvery > 0 && n%int64(s.cfg.DropEvery) == 0 && c.dropping.CompareAndSwap(false, true) {
		// Answer, then cut the line after a moment: the response may or may
		// not get out first, exactly the window a real drop leaves.
		s.stats.Drops.Add(1)
		go func() {
			time.Sleep(time.Millisecond)
			sess.Abort()
		}()
	}
	return resp
}

func (s *Server) newID() string {
	n := s.nextID.Add(1)
	if s.cfg.HexIDs {
		return strconv.FormatUint(n, 16)
	}
	return strconv.FormatUint(n, 10)
}

// outcome draws a receipt state from the configured mix.
func (s *Server) outcome() (codec.MessageState, string, int) {
	o := s.cfg.Outcomes
	total := o.Delivered + o.Undeliverable + o.Expired
	n := rand.N(max(total, 1))
	switch {
	case n < o.Delivered:
		return codec.StateDelivered, "DELIVRD", 0
	case n < o.Delivered+o.Undeliverable:
		return codec.StateUndeliverable, "UNDELIV", 1
	}
	return codec.StateExpired, "EXPIRED", 0
}

// receiptFor builds the deliver_sm receipt for a submit.
func (s *Server) receiptFor(systemID, id string, p *codec.SubmitSM) *queued {
	state, stat, errCode := s.outcome()
	now := time.Now().UTC()
	rid := id
	if s.cfg.ReceiptIDsOtherBase {
		if s.cfg.HexIDs {
			n, _ := strconv.ParseUint(id, 16, 64)
			rid = strconv.FormatUint(n, 10)
		} else {
			n, _ := strconv.ParseUint(id, 10, 64)
			rid = strconv.FormatUint(n, 16)
		}
	}
	text := fmt.Sprintf("id:%s sub:001 dlvrd:%03d submit date:%s done date:%s stat:%s err:%03d text:",
		rid, boolInt(state == codec.StateDelivered), now.Format("0601021504"), now.Format("0601021504"), stat, errCode)
	d := &codec.DeliverSM{
		SourceTON: p.DestTON, SourceNPI: p.DestNPI, SourceAddr: p.DestAddr,
		DestTON: p.SourceTON, DestNPI: p.SourceNPI, DestAddr: p.SourceAddr,
		ESMClass: codec.ESMClassReceipt, ShortMessage: []byte(text),
	}
	d.TLVs.SetReceiptedMessageID(rid)
	d.TLVs.SetMessageState(state)
	jitter := time.Duration(float64(s.cfg.ReceiptDelay) * (0.8 + 0.4*rand.Float64()))
	s.stats.Receipts.Add(1)
	return &queued{due: now.Add(jitter), systemID: systemID, pdu: d}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// deliverDue sends one queued deliver_sm; false means "keep it, no receiver".
func (s *Server) deliverDue(q *queued) bool {
	sess := s.receiver(q.systemID)
	if sess == nil {
		return false
	}
	// No deadline of its own: the session bounds the wait for the answer
	// (RespTimeout), and a context per receipt cost a timer and a channel.
	pdu := *q.pdu // each attempt gets its own sequence number
	resp, err := sess.Send(context.Background(), &pdu)
	if err != nil {
		return false // the session dropped: try again on another
	}
	switch st := resp.Hdr().Status; {
	case st == codec.ESME_ROK:
		return true
	case st == codec.ESME_RSYSERR || st.Temporary():
		return false // the ESME could not store it now: it wants it again
	default:
		s.log.Warn("smsc: deliver_sm refused; dropped", "status", st.String())
		return true
	}
}
