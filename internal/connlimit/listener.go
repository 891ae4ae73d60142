package connlimit

import (
	"net"
	"net/netip"
	"sync"
)

// Listener admits at most its Limiter's Max connections from one address.
// A connection over the limit is never returned by Accept: it goes to
// Over, where a server answers it (an HTTP 429) and closes it. Over holds
// at most a bounded number at a time; beyond that a refused connection is
// closed at once, so that refusing costs little however many come.
type Listener struct {
	net.Listener
	limit    *Limiter
	onRefuse func(netip.Addr)
	over     *overListener
}

// NewListener wraps inner. answering bounds the refused connections
// queued on or being answered through Over (0: none are answered, all are
// closed at once); onRefuse, when set, is called for each refusal.
// When answering > 0, Over must be served (http.Server.Serve).
func NewListener(inner net.Listener, limit *Limiter, answering int, onRefuse func(netip.Addr)) *Listener {
	return &Listener{Listener: inner, limit: limit, onRefuse: onRefuse, over: &overListener{
		addr: inner.Addr(), conns: make(chan net.Conn, max(answering, 0)), slots: make(chan struct{}, max(answering, 0)), done: make(chan struct{}),
	}}
}

// Accept returns the next connection whose address is within the limit.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := AddrOf(c.RemoteAddr())
		if l.limit.Acquire(addr) {
			return &limitedConn{Conn: c, release: func() { l.limit.Release(addr) }}, nil
		}
		if l.onRefuse != nil {
			l.onRefuse(addr)
		}
		l.over.offer(c)
	}
}

// Close closes the listener and Over.
func (l *Listener) Close() error {
	l.over.Close()
	return l.Listener.Close()
}

// Over is the listener of the connections refused for being over the
// limit, to be answered by a server of their own.
func (l *Listener) Over() net.Listener { return l.over }

// limitedConn gives its address's slot back when it closes (once, however
// often Close is called; a hijacked connection too).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite half-closes a TCP connection, as net/http does before it
// closes one it answered with an error (so the client reads the answer).
func (c *limitedConn) CloseWrite() error { return closeWrite(c.Conn) }

// NetConn is the connection it wraps: the realtime server writes batches
// with writev and watches idle sockets with epoll on the TCP socket itself.
func (c *limitedConn) NetConn() net.Conn { return c.Conn }

func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// overListener hands refused connections to the server that answers them.
type overListener struct {
	addr  net.Addr
	conns chan net.Conn
	slots chan struct{} // one per connection queued or being answered
	mu    sync.Mutex    // offer against Close
	done  chan struct{}
	once  sync.Once
}

func (o *overListener) offer(c net.Conn) {
	select {
	case o.slots <- struct{}{}:
	default:
		c.Close() // enough are being answered: this one is only closed
		return
	}
	sc := &slotConn{Conn: c, o: o}
	o.mu.Lock()
	defer o.mu.Unlock()
	select {
	case <-o.done:
		sc.Close()
	default:
		o.conns <- sc // never blocks: conns has room for every slot
	}
}

func (o *overListener) Accept() (net.Conn, error) {
	select {
	case c := <-o.conns:
		return c, nil
	case <-o.done:
		return nil, net.ErrClosed
	}
}

func (o *overListener) Close() error {
	o.once.Do(func() {
		o.mu.Lock()
		close(o.done)
		o.mu.Unlock()
		for {
			select {
			case c := <-o.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return nil
}

func (o *overListener) Addr() net.Addr { return o.addr }

// slotConn frees its slot in Over when it closes.
type slotConn struct {
	net.Conn
	o    *overListener
	once sync.Once
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.o.slots })
	return err
}

func (c *slotConn) CloseWrite() error { return closeWrite(c.Conn) }
