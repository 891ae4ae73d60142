package realtime

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Sizes of a connection's buffers. The WebSocket library reads client
// frames through a bufio.Reader of readBufferSize, the smallest bufio
// allows: the bytes of a socket read wait in a buffer of socketReadSize
// lent by readBuffers only until they are consumed, so that an idle
// connection holds no read buffer (a 512-byte one of its own was a tenth
// of an idle connection's heap). writeBufferSize only carries the
// library's own control frames (pong, close: a 2-byte header and at most
// 125 bytes of payload, so one fits whole and goes out in one Write),
// since events are written by wireConn.writeFrames.
const (
	readBufferSize  = 16
	socketReadSize  = 4096
	writeBufferSize = 128
)

// readBuffers lends connections the buffers of their socket reads.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, socketReadSize); return &b }}

// wireConn is the network connection under a client's WebSocket. The
// WebSocket library reads through it and writes its control frames
// through it; the connection's writer writes events with writeFrames,
// several frames in one system call, each frame's payload the frame that
// was encoded once for every subscriber. A mutex keeps the two writers'
// frames whole: the library's go out in one Write each (they fit its
// buffer, which it flushes once per frame).
type wireConn struct {
	net.Conn
	rest []byte          // read but not consumed yet: with the handshake, or into lent
	lent *[]byte         // the buffer of readBuffers rest is in; nil if none
	err  error           // the error of the socket read that filled lent, after rest
	br   *bufio.Reader   // the WebSocket library reads through it
	tcp  *net.TCPConn    // the TCP socket under Conn; nil for TLS
	raw  syscall.RawConn // tcp's descriptor, for the idle poller

	mu       sync.Mutex
	timeout  time.Duration // bounds one write
	deadline time.Time     // the socket's write deadline, set lazily
	hdrs     []byte        // frame headers of the batch being written
	bufs     net.Buffers
	flat     []byte // one batch, for connections without writev (TLS)
}

// drained reports whether everything read from the socket so far has
// been consumed: a read now would wait for the socket (only the reader
// calls it, between messages).
func (w *wireConn) drained() bool {
	return len(w.rest) == 0 && w.br.Buffered() == 0
}

// Read serves what an earlier socket read left, else reads the socket:
// straight into p when p is as large as a lent buffer, else into a lent
// buffer that goes back to readBuffers once consumed. Only the library's
// reader calls it (one at a time).
func (w *wireConn) Read(p []byte) (int, error) {
	if len(w.rest) == 0 {
		if err := w.err; err != nil {
			w.err = nil
			return 0, err
		}
		if len(p) >= socketReadSize {
			return w.Conn.Read(p)
		}
		b := readBuffers.Get().(*[]byte)
		n, err := w.Conn.Read(*b)
		if n == 0 {
			readBuffers.Put(b)
			return 0, err
		}
		w.rest, w.lent, w.err = (*b)[:n], b, err
	}
	n := copy(p, w.rest)
	w.rest = w.rest[n:]
	if len(w.rest) == 0 {
		w.rest = nil
		if w.lent != nil {
			readBuffers.Put(w.lent)
			w.lent = nil
		}
	}
	return n, nil
}

func (w *wireConn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.refreshDeadline(time.Now()); err != nil {
		return 0, err
	}
	return w.Conn.Write(p)
}

// refreshDeadline keeps the socket's write deadline between half the
// timeout and the timeout ahead (w.mu held): setting it for every write
// costs more than the write's own bookkeeping.
func (w *wireConn) refreshDeadline(now time.Time) error {
	if w.timeout <= 0 || w.deadline.Sub(now) >= w.timeout/2 {
		return nil
	}
	w.deadline = now.Add(w.timeout)
	return w.Conn.SetWriteDeadline(w.deadline)
}

// writeFrames writes each payload as a WebSocket text frame (a server's
// frames are not masked, so every subscriber's frame is the same bytes
// after its header), all in one system call where the connection allows,
// within the timeout (at least half of it). The buffers of a large batch
// are not kept. It fails at once when the connection has ended (see
// conn.end: ending also aborts a write in progress).
func (w *wireConn) writeFrames(ended *atomic.Bool, payloads [][]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	hdrs := w.hdrs[:0]
	for _, p := range payloads {
		hdrs = appendTextHeader(hdrs, len(p))
	}
	if err := w.refreshDeadline(time.Now()); err != nil {
		return err
	}
	if ended.Load() {
		return errEnded
	}
	var err error
	if tcp := w.tcp; tcp != nil {
		bufs := w.bufs[:0]
		off := 0
		for _, p := range payloads {
			n := textHeaderLen(len(p))
			bufs = append(bufs, hdrs[off:off+n:off+n], p)
			off += n
		}
		keep := bufs
		_, err = bufs.WriteTo(tcp) // writev; consumes bufs
		clear(keep)                // drop references to the payloads
		if cap(keep) <= 64 {
			w.bufs = keep[:0]
		} else {
			w.bufs = nil
		}
	} else {
		flat := w.flat[:0]
		off := 0
		for _, p := range payloads {
			n := textHeaderLen(len(p))
			flat = append(flat, hdrs[off:off+n]...)
			flat = append(flat, p...)
			off += n
		}
		_, err = w.Conn.Write(flat)
		if cap(flat) <= 4096 {
			w.flat = flat[:0]
		} else {
			w.flat = nil
		}
	}
	if cap(hdrs) <= 256 {
		w.hdrs = hdrs[:0]
	} else {
		w.hdrs = nil
	}
	return err
}

// textHeaderLen is the size of an unmasked text frame's header.
func textHeaderLen(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xffff:
		return 4
	}
	return 10
}

// appendTextHeader appends the header of an unmasked, final text frame
// with an n-byte payload (RFC 6455 section 5.2).
func appendTextHeader(b []byte, n int) []byte {
	const finText = 0x81
	switch {
	case n < 126:
		return append(b, finText, byte(n))
	case n <= 0xffff:
		return append(b, finText, 126, byte(n>>8), byte(n))
	}
	u := uint64(n)
	return append(b, finText, 127, byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32), byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
}

// upgrader is the ResponseWriter the WebSocket library upgrades: its
// Hijack hands the library a wireConn with small buffers instead of the
// HTTP server's (4 KiB each), which the connection would otherwise hold
// for its whole life.
type upgrader struct {
	http.ResponseWriter
	writeTimeout time.Duration
	wire         *wireConn
}

func (u *upgrader) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(u.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if brw.Writer.Buffered() > 0 { // the server flushes the 101 before hijacking
		if err := brw.Writer.Flush(); err != nil {
			nc.Close()
			return nil, nil, err
		}
	}
	w := &wireConn{Conn: nc, timeout: u.writeTimeout}
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		w.rest = bytes.Clone(b)
	}
	if w.tcp = tcpConn(nc); w.tcp != nil {
		w.raw, _ = w.tcp.SyscallConn()
	}
	w.br = bufio.NewReaderSize(w, readBufferSize)
	u.wire = w
	return w, bufio.NewReadWriter(w.br, bufio.NewWriterSize(w, writeBufferSize)), nil
}

// tcpConn finds the TCP socket under wrappers that only watch Close (they
// have a NetConn method, as connlimit's do). TLS is not such a wrapper: it
// encrypts and buffers, so nil.
func tcpConn(c net.Conn) *net.TCPConn {
	for range 4 {
		switch t := c.(type) {
		case *net.TCPConn:
			return t
		case *tls.Conn:
			return nil
		case interface{ NetConn() net.Conn }:
			c = t.NetConn()
		default:
			return nil
		}
	}
	return nil
}

var errEnded = errors.New("realtime: the connection has ended")

var errNoWire = errors.New("realtime: the WebSocket was not upgraded through upgrader")
