// Package session runs SMPP 3.4 sessions over TCP on top of the smpp codec:
// the bind exchange, an asynchronous window of requests matched to their
// responses by sequence number, response timeouts, enquire_link keep-alive,
// a throughput cap, answers to broken PDUs, and a clean unbind.
//
// Both ends use it: omnigate's carrier connector dials an SMSC (Dial), and
// the SMSC simulator and the SMPP server for customers accept ESMEs (Accept).
// Requests from the peer go to a Handler; the session answers enquire_link
// and unbind itself.
package session

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/lifecycle"
	"github.com/omnigate/omnigate/internal/smpp"
)

// Errors a request can end with besides a peer's error status.
var (
	ErrClosed   = errors.New("smpp session closed")
	ErrTimeout  = errors.New("smpp response timeout")
	ErrNotBound = errors.New("smpp session not bound")
)

// Config tunes a session. Zero values mean the documented defaults.
type Config struct {
	// Window bounds requests awaiting a response; default 10.
	Window int
	// RespTimeout bounds the wait for a response; default 10 s.
	RespTimeout time.Duration
	// EnquireInterval is how long the link may stay quiet before an
	// enquire_link is sent; default 30 s. A keep-alive that gets no answer
	// within RespTimeout closes the session.
	EnquireInterval time.Duration
	// MaxRate caps requests per second this side sends (0: no cap), e.g.
	// the throughput a carrier allows per bind.
	MaxRate float64
	// MaxPDU bounds a PDU read from the peer; default smpp.DefaultMaxLen.
	MaxPDU int
	// HandlerConcurrency bounds peer requests handled at once; default 64.
	// Beyond it requests are answered ESME_RTHROTTLED; reading goes on, so
	// responses and enquire_links still flow.
	HandlerConcurrency int
	// Inline runs the handler on the reading goroutine, for handlers that
	// answer at once and never block (the SMSC simulator): no goroutine
	// per request, and the answers to requests read together leave in one
	// write. HandlerConcurrency does not apply.
	Inline bool
	// Log receives one line per problem with the peer.
	Log *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Window <= 0 {
		c.Window = 10
	}
	if c.RespTimeout <= 0 {
		c.RespTimeout = 10 * time.Second
	}
	if c.EnquireInterval <= 0 {
		c.EnquireInterval = 30 * time.Second
	}
	if c.MaxPDU <= 0 {
		c.MaxPDU = smpp.DefaultMaxLen
	}
	if c.HandlerConcurrency <= 0 {
		c.HandlerConcurrency = 64
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Handler answers the peer's requests (submit_sm, deliver_sm, bind …). It
// returns the response to send, or nil to send none. It runs on its own
// goroutine and may block (e.g. until a database commit).
type Handler interface {
	Handle(ctx context.Context, s *Session, req smpp.PDU) smpp.PDU
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, s *Session, req smpp.PDU) smpp.PDU

// Handle implements Handler.
func (f HandlerFunc) Handle(ctx context.Context, s *Session, req smpp.PDU) smpp.PDU {
	return f(ctx, s, req)
}

// Session is one SMPP connection.
type Session struct {
	cfg     Config
	conn    net.Conn
	handler Handler
	log     *slog.Logger

	wmu sync.Mutex
	w   *bufio.Writer
	buf []byte
	// writers counts the writes that are waiting for wmu or hold it. The
	// last of them flushes, so that PDUs written at the same moment (a
	// window of submits, a burst of receipts, their responses) leave in
	// one syscall instead of one each, and none waits for a later write.
	writers atomic.Int32

	seq     atomic.Uint32
	window  chan struct{}
	pmu     sync.Mutex
	pending map[uint32]chan smpp.PDU

	bound    atomic.Int32 // smpp.BindKind+1 once bound; 0 before
	lastRead atomic.Int64 // unix nanos of the last PDU from the peer

	limiter *limiter
	handled chan struct{}

	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	done      chan struct{}
	err       error
	handlers  sync.WaitGroup
}

func newSession(conn net.Conn, cfg Config, h Handler) *Session {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		cfg: cfg, conn: conn, handler: h,
		log:     cfg.Log.With("peer", conn.RemoteAddr().String()),
		w:       bufio.NewWriterSize(conn, 32<<10),
		window:  make(chan struct{}, cfg.Window),
		pending: make(map[uint32]chan smpp.PDU),
		limiter: newLimiter(cfg.MaxRate),
		handled: make(chan struct{}, cfg.HandlerConcurrency),
		ctx:     ctx, cancel: cancel,
		done: make(chan struct{}),
	}
	s.lastRead.Store(time.Now().UnixNano())
	go s.readLoop()
	go s.keepAlive()
	return s
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is why the session ended (nil while it runs, ErrClosed after Close).
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// RemoteAddr is the peer's address.
func (s *Session) RemoteAddr() net.Addr { return s.conn.RemoteAddr() }

// Bound reports the bind kind once the bind exchange succeeded.
func (s *Session) Bound() (smpp.BindKind, bool) {
	v := s.bound.Load()
	return smpp.BindKind(v - 1), v > 0
}

// SetBound records a successful bind (the server side calls it when it
// accepts one).
func (s *Session) SetBound(k smpp.BindKind) { s.bound.Store(int32(k) + 1) }

// nextSeq returns the next sequence number, 1 to smpp.MaxSeq.
func (s *Session) nextSeq() uint32 {
	for {
		n := s.seq.Add(1)
		if n >= 1 && n <= smpp.MaxSeq {
			return n
		}
		s.seq.CompareAndSwap(n, 0)
	}
}

// Send sends a request and waits for its response. It waits for a window
// slot and the rate cap first. A response with a non-zero status is
// returned with a nil error: the caller decides what the status means.
func (s *Session) Send(ctx context.Context, req smpp.PDU) (smpp.PDU, error) {
	select {
	case s.window <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.done:
		return nil, s.closedErr()
	}
	defer func() { <-s.window }()
	if err := s.limiter.wait(ctx, s.done); err != nil {
		if errors.Is(err, errLimiterDone) {
			return nil, s.closedErr()
		}
		return nil, err
	}
	seq := s.nextSeq()
	req.Hdr().Seq = seq
	ch := make(chan smpp.PDU, 1)
	s.pmu.Lock()
	s.pending[seq] = ch
	s.pmu.Unlock()
	defer func() {
		s.pmu.Lock()
		delete(s.pending, seq)
		s.pmu.Unlock()
	}()
	if err := s.write(req); err != nil {
		return nil, err
	}
	t := time.NewTimer(s.cfg.RespTimeout)
	defer t.Stop()
	select {
	case resp := <-ch:
		return resp, nil
	case <-t.C:
		return nil, fmt.Errorf("%s seq %d: %w", req.CommandID(), seq, ErrTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.done:
		return nil, s.closedErr()
	}
}

// Notify sends a request that has no response (outbind, alert_notification).
func (s *Session) Notify(req smpp.PDU) error {
	req.Hdr().Seq = s.nextSeq()
	return s.write(req)
}

// write encodes and sends one PDU. When other writes are waiting, the
// PDU is left in the buffer for the last of them to flush with theirs.
func (s *Session) write(p smpp.PDU) error {
	s.writers.Add(1)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	last := func() bool { return s.writers.Add(-1) == 0 }
	select {
	case <-s.done:
		if last() && s.w.Buffered() > 0 {
			// What others left for this write to flush (an unbind_resp
			// before the session closed): send it if the line still takes it.
			s.conn.SetWriteDeadline(time.Now().Add(time.Second))
			s.w.Flush()
		}
		return s.closedErr()
	default:
	}
	if err := s.buffer(p); err != nil {
		lastWriter := last()
		if !errors.Is(err, errEncoding) {
			return s.closedErr() // the write failed: the session has failed
		}
		if lastWriter {
			s.flush() // what others left for this write to flush
		}
		return err
	}
	if last() {
		if err := s.flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeHeld encodes p into the write buffer without sending it: the
// reading goroutine sends it with the answers to the other requests it
// has already read (flushHeld), or a write meanwhile takes it along.
func (s *Session) writeHeld(p smpp.PDU) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	select {
	case <-s.done:
		return
	default:
	}
	if err := s.buffer(p); errors.Is(err, errEncoding) {
		s.log.Warn("smpp: encoding an answer", "command", p.CommandID().String(), "err", err)
	}
}

// errEncoding marks a PDU that could not be encoded (nothing was written).
var errEncoding = errors.New("encoding")

// buffer encodes p into the write buffer; wmu is held. An encoding error
// wraps errEncoding; a failed write (bufio writes part of a PDU straight
// away when its buffer is full, so the deadline is set for that) fails the
// session and is returned as it is.
func (s *Session) buffer(p smpp.PDU) error {
	var err error
	if s.buf, err = smpp.AppendPDU(s.buf[:0], p); err != nil {
		return fmt.Errorf("%w %s: %w", errEncoding, p.CommandID(), err)
	}
	if s.w.Available() < len(s.buf) {
		s.conn.SetWriteDeadline(time.Now().Add(s.cfg.RespTimeout))
	}
	if _, err := s.w.Write(s.buf); err != nil {
		s.fail(fmt.Errorf("writing: %w", err))
		return err
	}
	return nil
}

// flushHeld sends what writeHeld left in the buffer.
func (s *Session) flushHeld() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	select {
	case <-s.done:
		return
	default:
	}
	s.flush()
}

// flush sends what is buffered; wmu is held.
func (s *Session) flush() error {
	if s.w.Buffered() == 0 {
		return nil
	}
	s.conn.SetWriteDeadline(time.Now().Add(s.cfg.RespTimeout))
	if err := s.w.Flush(); err != nil {
		s.fail(fmt.Errorf("writing: %w", err))
		return s.closedErr()
	}
	return nil
}

func (s *Session) closedErr() error {
	<-s.done
	if s.err != nil && !errors.Is(s.err, ErrClosed) {
		return fmt.Errorf("%w: %v", ErrClosed, s.err)
	}
	return ErrClosed
}

// readLoop reads PDUs until the connection ends.
func (s *Session) readLoop() {
	br := bufio.NewReaderSize(s.conn, 32<<10)
	r := smpp.NewReader(br, s.cfg.MaxPDU)
	for {
		if s.cfg.Inline && br.Buffered() == 0 {
			s.flushHeld() // answers held for the requests read together
		}
		p, err := r.ReadPDU()
		if err != nil {
			var de *smpp.DecodeError
			if errors.As(err, &de) {
				s.log.Warn("smpp: bad PDU from peer", "err", err)
				s.failPending(de)
				if resp := de.Response(); resp != nil {
					s.write(resp)
				}
				if de.Fatal {
					s.fail(err)
					return
				}
				continue
			}
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				s.fail(ErrClosed)
			} else {
				s.fail(fmt.Errorf("reading: %w", err))
			}
			return
		}
		s.lastRead.Store(time.Now().UnixNano())
		id := p.CommandID()
		if id.IsResponse() {
			s.deliverResponse(p)
			continue
		}
		switch p.(type) {
		case *smpp.EnquireLink:
			s.write(smpp.NewResponse(p))
			continue
		case *smpp.Unbind:
			s.write(smpp.NewResponse(p))
			s.fail(ErrClosed)
			return
		}
		if s.cfg.Inline {
			var resp smpp.PDU
			if s.handler != nil {
				resp = s.handler.Handle(s.ctx, s, p)
			} else if id.HasResponse() {
				resp = smpp.NewErrorResponse(id, p.Hdr().Seq, smpp.ESME_RINVCMDID)
			}
			if resp != nil {
				resp.Hdr().Seq = p.Hdr().Seq
				s.writeHeld(resp)
			}
			continue
		}
		// A request for the handler, with bounded concurrency. When every
		// handler is busy the request is answered ESME_RTHROTTLED (the peer
		// sends it again later) instead of waiting: a reader that stopped
		// would also stop the responses to our own requests and the peer's
		// enquire_links, and both sides would time the session out.
		select {
		case s.handled <- struct{}{}:
		default:
			if id.HasResponse() {
				s.write(smpp.NewErrorResponse(id, p.Hdr().Seq, smpp.ESME_RTHROTTLED))
			}
			s.log.Debug("smpp: every handler busy; request throttled", "command", id.String(), "seq", p.Hdr().Seq)
			continue
		}
		s.handlers.Add(1)
		go func() {
			defer s.handlers.Done()
			var resp smpp.PDU
			if s.handler != nil {
				resp = s.handler.Handle(s.ctx, s, p)
			} else if id.HasResponse() {
				resp = smpp.NewErrorResponse(id, p.Hdr().Seq, smpp.ESME_RINVCMDID)
			}
			// The slot is free before the answer leaves: a peer that sends
			// its next request on reading this answer (a bind's, say) must
			// not find it still taken and be throttled.
			<-s.handled
			if resp != nil {
				resp.Hdr().Seq = p.Hdr().Seq
				s.write(resp)
			}
		}()
	}
}

// deliverResponse hands a response to the request waiting for it.
func (s *Session) deliverResponse(p smpp.PDU) {
	seq := p.Hdr().Seq
	s.pmu.Lock()
	ch, ok := s.pending[seq]
	delete(s.pending, seq)
	s.pmu.Unlock()
	if !ok {
		s.log.Debug("smpp: response to no pending request (late or unknown)", "command", p.CommandID().String(), "seq", seq)
		return
	}
	ch <- p
}

// failPending answers a pending request whose response could not be
// decoded with a generic_nack carrying the decode status.
func (s *Session) failPending(de *smpp.DecodeError) {
	if !de.CommandID.IsResponse() || de.Seq == 0 {
		return
	}
	nack := smpp.NewErrorResponse(smpp.CmdGenericNack, de.Seq, de.Status)
	s.deliverResponse(nack)
}

// keepAlive sends enquire_link when the link has been quiet.
func (s *Session) keepAlive() {
	t := time.NewTicker(s.cfg.EnquireInterval / 2)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		quiet := time.Since(time.Unix(0, s.lastRead.Load()))
		if quiet < s.cfg.EnquireInterval {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RespTimeout)
		_, err := s.Send(ctx, &smpp.EnquireLink{})
		cancel()
		if err != nil && !errors.Is(err, ErrClosed) {
			s.log.Warn("smpp: keep-alive failed; closing", "err", err)
			s.fail(fmt.Errorf("keep-alive: %w", err))
			return
		}
	}
}

// fail ends the session with err.
func (s *Session) fail(err error) {
	s.closeOnce.Do(func() {
		s.err = err
		s.cancel()
		close(s.done)
		s.conn.Close()
	})
}

// Abort drops the connection at once, without unbinding, as a failing
// network would.
func (s *Session) Abort() { s.fail(errors.New("aborted")) }

// Close unbinds politely (waiting up to ctx for unbind_resp when bound) and
// closes the connection. Requests in flight end with ErrClosed.
func (s *Session) Close(ctx context.Context) error {
	if _, bound := s.Bound(); bound && s.Err() == nil {
		uctx, cancel := context.WithTimeout(ctx, s.cfg.RespTimeout)
		s.Send(uctx, &smpp.Unbind{})
		cancel()
	}
	s.fail(ErrClosed)
	return lifecycle.Wait(ctx, &s.handlers)
}
