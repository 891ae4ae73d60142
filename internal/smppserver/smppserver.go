// Package smppserver is the SMPP 3.4 door: customers' gateways bind to
// omnigate as to an SMSC (bind_transmitter, bind_receiver or
// bind_transceiver) with the system_id and password omnigate issued to
// their account (omnigate smpp credentials), and submit messages that go
// through the pipeline like any door's: submit_sm and submit_multi, long
// messages by UDH, SAR TLVs or message_payload (reassembled into one
// message), query_sm, cancel_sm and replace_sm. Refusals become command_status values
// (docs/smpp-server.md). It reuses internal/smpp's codec and sessions.
package smppserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/lifecycle"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/session"
	"github.com/omnigate/omnigate/internal/store"
)

// Door names the door in the audit trail and the authentication metrics.
const Door = "smpp"

// Defaults.
const (
	DefaultWindow    = 10
	DefaultMaxWindow = 100
	DefaultMaxRate   = 200 // submits per second per account
	DefaultPartsWait = time.Minute
	serverSystemID   = "omnigate"
	maxParts         = 255
	// maxPendingParts bounds the parts of long messages an account may
	// have waiting for the rest; a new long message beyond it is answered
	// ESME_RMSGQFUL.
	maxPendingParts = 10_000
)

// Config tunes the door.
type Config struct {
	Addr string
	// TLS, when set, makes the listener speak SMPP over TLS.
	TLS *tls.Config
	// Window is the default bound of requests in flight per bind; beyond
	// it requests are answered ESME_RTHROTTLED.
	Window int
	// MaxWindow bounds an account's own window (its credentials'
	// --window); default 100.
	MaxWindow int
	// MaxRate is the default submits per second per account.
	MaxRate int
	// PartsWait bounds the wait for the rest of a long message, from its
	// first part; a message still incomplete then is recorded as refused.
	PartsWait time.Duration
	// ReceiverBound, when set, is called (in its own goroutine) after a
	// receiver or transceiver of an account binds: the app makes the
	// receipts and inbound messages waiting for one due now.
	ReceiverBound func(accountID string)
	Log           *slog.Logger
}

// Store is what the door reads.
type Store interface {
	SMPPCredentialBySystemID(ctx context.Context, systemID string) (*store.SMPPCredential, error)
	SMPPCredential(ctx context.Context, accountID string) (*store.SMPPCredential, error)
	GetMessage(ctx context.Context, accountID, id string) (*message.Message, error)
	MessageAccount(ctx context.Context, id string) (string, error)
	CancelScheduled(ctx context.Context, accountID, id string) error
	StagePart(ctx context.Context, p store.SMPPPart, maxParts int) (id string, have int, err error)
	SMPPPartSet(ctx context.Context, k store.SMPPPartKey) ([]store.SMPPPart, error)
	DeleteSMPPParts(ctx context.Context, k store.SMPPPartKey, id string) (int, error)
	DeleteSMPPPartsByID(ctx context.Context, accountID, id string) (int, error)
	SMPPPartsWaiting(ctx context.Context, accountID, id string) (bool, error)
	ExpiredSMPPParts(ctx context.Context, before time.Time, limit int) ([][]store.SMPPPart, error)
}

// Acceptor takes messages (pipeline.Pipeline).
type Acceptor interface {
	Accept(ctx context.Context, m *message.Message, opts pipeline.Options) error
	Replace(ctx context.Context, m *message.Message, opts pipeline.Options) error
	Refused(ctx context.Context, m *message.Message, id, reason string, code int) error
}

// Server is the running door.
type Server struct {
	cfg      Config
	store    Store
	guard    *authguard.Guard
	pipeline Acceptor
	log      *slog.Logger
	ln       net.Listener

	mu       sync.Mutex
	sessions map[*session.Session]*conn
	rates    map[string]*rate
	// completing are the ids of long messages being completed here.
	completing map[string]bool
	turn       int // spreads receipts over an account's receivers

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// New listens on cfg.Addr; Start serves.
func New(cfg Config, st Store, guard *authguard.Guard, p Acceptor) (*Server, error) {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxWindow <= 0 {
		cfg.MaxWindow = DefaultMaxWindow
	}
	if cfg.MaxWindow < cfg.Window {
		cfg.MaxWindow = cfg.Window
	}
	if cfg.MaxRate <= 0 {
		cfg.MaxRate = DefaultMaxRate
	}
	if cfg.PartsWait <= 0 {
		cfg.PartsWait = DefaultPartsWait
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	return &Server{cfg: cfg, store: st, guard: guard, pipeline: p, log: cfg.Log, ln: ln,
		sessions: map[*session.Session]*conn{}, rates: map[string]*rate{}, completing: map[string]bool{},
		stop: make(chan struct{})}, nil
}

// Addr is the address the door listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Start serves in the background until Shutdown.
func (s *Server) Start() {
	go dummyHash() // ready before the first bind that needs it
	s.wg.Add(2)
	go s.acceptLoop()
	go s.sweeper()
}

// Shutdown unbinds every session and stops listening.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.ln.Close()
		s.mu.Lock()
		all := make([]*session.Session, 0, len(s.sessions))
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
		nc, err := s.ln.Accept()
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
		s.serve(nc)
	}
}

// serve runs one connection's session.
func (s *Server) serve(nc net.Conn) {
	source := nc.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(source); err == nil {
		source = host
	}
	c := &conn{srv: s, source: source}
	// The session handles up to the largest window an account may have;
	// handle holds each bind to its account's window (ESME_RTHROTTLED
	// beyond it).
	sess := session.Accept(nc, session.Config{Window: s.cfg.Window, HandlerConcurrency: s.cfg.MaxWindow, Log: s.log},
		serverSystemID, c.bind, session.HandlerFunc(c.handle))
	s.mu.Lock()
	s.sessions[sess] = c
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-sess.Done():
		case <-s.stop:
		}
		s.mu.Lock()
		delete(s.sessions, sess)
		s.mu.Unlock()
	}()
}

// conn is one customer connection.
type conn struct {
	srv    *Server
	source string
	// Set at bind, before any other request is handled.
	accountID string
	systemID  string
	window    int
	rate      *rate
	inflight  atomic.Int32
}

// bind checks a bind's system_id and password, guarded against guessing:
// failures are limited per address and system_id, and audited.
func (c *conn) bind(sess *session.Session, b *smpp.Bind) smpp.Status {
	s := c.srv
	at := authguard.Attempt{Door: Door, Source: c.source, Prefix: b.SystemID}
	if _, ok := s.guard.Allow(at); !ok {
		return smpp.ESME_RBINDFAIL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cred, err := s.store.SMPPCredentialBySystemID(ctx, b.SystemID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("SMPP server: reading credentials", "err", err)
		return smpp.ESME_RSYSERR
	}
	if cred == nil {
		// The same work as a real check, so that timing tells nothing.
		CheckPassword(dummyHash(), b.Password)
		s.guard.Failed(at, "unknown_system_id")
		return smpp.ESME_RINVSYSID
	}
	at.AccountID = cred.AccountID
	if !CheckPassword(cred.PasswordHash, b.Password) {
		s.guard.Failed(at, "wrong_password")
		return smpp.ESME_RINVPASWD
	}
	if !ipAllowed(cred.AllowedIPs, c.source) {
		s.guard.Failed(at, "address_not_allowed")
		return smpp.ESME_RBINDFAIL
	}
	s.guard.Succeeded(at)
	s.mu.Lock() // the receipt deliverer reads accountID
	c.accountID, c.systemID = cred.AccountID, cred.SystemID
	c.window = cred.Window
	s.mu.Unlock()
	if b.Kind == smpp.BindReceiver || b.Kind == smpp.BindTransceiver {
		// After the bind_resp is on its way; Shutdown waits for it.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t := time.NewTimer(100 * time.Millisecond)
			defer t.Stop()
			select {
			case <-t.C:
				s.receiverBound(cred.AccountID)
			case <-s.stop:
			}
		}()
	}
	limit := cred.MaxRate
	if limit <= 0 {
		limit = s.cfg.MaxRate
	}
	c.rate = s.rateFor(cred.AccountID, limit)
	return smpp.ESME_ROK
}

// dummyHash is a hash checked for an unknown system_id, so that it takes as
// long as a wrong password. Made when the door starts (Start), not when the
// package loads: 600,000 rounds of PBKDF2 cost every process that imports
// the package, each CLI command included, a quarter of a second.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("omnigate")
	return h
})

func (c *conn) handle(ctx context.Context, sess *session.Session, req smpp.PDU) smpp.PDU {
	kind, _ := sess.Bound()
	// The bind's window: the account's, or the server's default.
	window := c.window
	if window <= 0 {
		window = c.srv.cfg.Window
	}
	window = min(window, c.srv.cfg.MaxWindow)
	if req.CommandID().HasResponse() {
		if c.inflight.Add(1) > int32(window) {
			c.inflight.Add(-1)
			return smpp.NewErrorResponse(req.CommandID(), req.Hdr().Seq, smpp.ESME_RTHROTTLED)
		}
		defer c.inflight.Add(-1)
	}
	switch p := req.(type) {
	case *smpp.SubmitSM:
		if kind == smpp.BindReceiver {
			return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RINVBNDSTS)
		}
		return c.submit(ctx, p)
	case *smpp.SubmitMulti:
		if kind == smpp.BindReceiver {
			return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RINVBNDSTS)
		}
		return c.submitMulti(ctx, p)
	case *smpp.QuerySM:
		return c.query(ctx, p)
	case *smpp.CancelSM:
		return c.cancel(ctx, p)
	case *smpp.ReplaceSM:
		if kind == smpp.BindReceiver {
			return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RINVBNDSTS)
		}
		return c.replace(ctx, p)
	}
	if req.CommandID().HasResponse() {
		return smpp.NewErrorResponse(req.CommandID(), req.Hdr().Seq, smpp.ESME_RINVCMDID)
	}
	return nil
}

// refusal maps the pipeline's errors to command_status values
// (docs/smpp-server.md has the table).
func (s *Server) refusal(err error) smpp.Status {
	var inv *message.Invalid
	var limit *store.LimitError
	var noPrice *billing.NoPriceError
	var refused *compliance.Rejection
	switch {
	case errors.As(err, &inv):
		switch inv.Field {
		case "recipients", "recipient":
			return smpp.ESME_RINVDSTADR
		case "originator":
			return smpp.ESME_RINVSRCADR
		case "body":
			return smpp.ESME_RINVMSGLEN
		case "scheduledDatetime":
			return smpp.ESME_RINVSCHED
		case "validity":
			return smpp.ESME_RINVEXPIRY
		}
		return smpp.ESME_RSUBMITFAIL
	case errors.As(err, &refused):
		return smpp.ESME_RX_R_APPN
	case errors.Is(err, store.ErrInsufficientBalance):
		return smpp.ESME_RX_T_APPN
	case errors.As(err, &limit):
		return smpp.ESME_RTHROTTLED
	case errors.As(err, &noPrice):
		return smpp.ESME_RX_R_APPN
	case errors.Is(err, groupcommit.ErrStopped):
		return smpp.ESME_RSYSERR
	}
	s.log.Error("SMPP server: accepting", "err", err)
	return smpp.ESME_RSYSERR
}

// rate is a per-account token bucket of submits per second.
type rate struct {
	mu     sync.Mutex
	limit  float64
	tokens float64
	last   time.Time
}

func (s *Server) rateFor(accountID string, limit int) *rate {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rates[accountID]
	if r == nil {
		r = &rate{tokens: float64(limit), last: time.Now()}
		s.rates[accountID] = r
	}
	r.mu.Lock()
	r.limit = float64(limit)
	r.mu.Unlock()
	return r
}

// take reports whether one more submit fits in the account's rate.
func (r *rate) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	r.tokens = min(r.limit, r.tokens+now.Sub(r.last).Seconds()*r.limit)
	r.last = now
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
