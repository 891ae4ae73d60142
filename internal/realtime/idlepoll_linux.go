//go:build linux

package realtime

import (
	"sync"
	"sync/atomic"
	"syscall"
)

// idlePoller watches the sockets of idle connections with one epoll
// instance for the whole process, so that an idle connection has no
// goroutine: a reader blocked on its socket kept a stack of 8 KiB, half of
// an idle connection's memory. A connection parks when it has read all
// that arrived (conn.park); when its socket becomes readable (data, close,
// error) the poller starts a goroutine that reads it (conn.wake).
//
// Each registration is one-shot (EPOLLONESHOT): an event wakes one
// goroutine and the socket is not watched again until that goroutine
// parks it. The Go runtime's own poller keeps its registration of the same
// socket, which the woken goroutine's reads use.
type idlePoller struct {
	epfd   int
	broken atomic.Bool // epoll_wait failed: connections keep their readers

	mu    sync.Mutex
	conns map[uint64]*conn // by pollID
	next  uint64
}

var (
	idlePollerOnce sync.Once
	idlePollerInst *idlePoller
)

// sharedIdlePoller is the process's poller, started on first use; nil if
// epoll is unavailable (connections then keep their reader goroutine).
func sharedIdlePoller() *idlePoller {
	idlePollerOnce.Do(func() {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		p := &idlePoller{epfd: fd, conns: map[uint64]*conn{}}
		idlePollerInst = p
		go p.run()
	})
	return idlePollerInst
}

// run waits for readable sockets and wakes their connections, for the
// life of the process (its thread sits in epoll_wait; the runtime gives
// the thread's processor to other goroutines meanwhile).
func (p *idlePoller) run() {
	events := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			// EBADF, EFAULT, EINVAL: cannot happen. Rather than strand
			// the parked connections, give each its reader back and
			// park none again.
			p.broken.Store(true)
			p.mu.Lock()
			for _, c := range p.conns {
				c.wake()
			}
			p.mu.Unlock()
			return
		}
		p.mu.Lock()
		for _, ev := range events[:n] {
			if c := p.conns[uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32]; c != nil {
				c.wake()
			}
		}
		p.mu.Unlock()
	}
}

// arm watches c's socket until it becomes readable, once. It reports
// false when the socket cannot be watched (then c reads on its goroutine)
// or is closed. Only c's reader calls it.
func (p *idlePoller) arm(c *conn) bool {
	if p == nil || c.wire.raw == nil || p.broken.Load() {
		return false
	}
	op := syscall.EPOLL_CTL_MOD
	if c.pollID == 0 {
		op = syscall.EPOLL_CTL_ADD
		p.mu.Lock()
		p.next++
		c.pollID = p.next
		p.conns[c.pollID] = c
		p.mu.Unlock()
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
		Fd: int32(uint32(c.pollID)), Pad: int32(uint32(c.pollID >> 32))}
	var err error
	// Control holds the descriptor open during the call, so a socket
	// closed meanwhile cannot have its number reused by another one here.
	if cerr := c.wire.raw.Control(func(fd uintptr) {
		err = syscall.EpollCtl(p.epfd, op, int(fd), &ev)
	}); cerr != nil || err != nil {
		return false
	}
	return !p.broken.Load() // the poller may have stopped meanwhile
}

// forget drops c when it has ended (closing its socket has removed it
// from the epoll set).
func (p *idlePoller) forget(c *conn) {
	if p == nil || c.pollID == 0 {
		return
	}
	p.mu.Lock()
	delete(p.conns, c.pollID)
	p.mu.Unlock()
}
