//go:build linux

package realtime

import (
	"os"
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
//
// The epoll descriptor itself is watched by the runtime's poller (an epoll
// set is readable while it has events), so the poller's goroutine waits
// like any network read and no thread sleeps in epoll_wait. A thread
// blocked there held its processor until the runtime's monitor took it
// back, which kept the monitor waking every 20 µs: under presence churn
// the monitor's and the poller thread's sleeps and wakes were 8 % of the
// server's CPU.
type idlePoller struct {
	epfd   int
	rc     syscall.RawConn // epfd in the runtime's poller; nil: wait in epoll_wait
	broken atomic.Bool     // epoll_wait failed: connections keep their readers

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
		// A non-blocking descriptor given to os.NewFile joins the
		// runtime's poller; if it cannot, RawConn.Read fails and run
		// falls back to a thread waiting in epoll_wait. The File is kept
		// for the life of the process (p.rc refers to it).
		if syscall.SetNonblock(fd, true) == nil {
			if rc, err := os.NewFile(uintptr(fd), "realtime-idle-poller").SyscallConn(); err == nil {
				p.rc = rc
			}
		}
		idlePollerInst = p
		go p.run()
	})
	return idlePollerInst
}

// run waits for readable sockets and wakes their connections, for the
// life of the process.
func (p *idlePoller) run() {
	events := make([]syscall.EpollEvent, 256)
	if p.rc != nil {
		var failed error
		err := p.rc.Read(func(fd uintptr) bool {
			for {
				n, err := syscall.EpollWait(int(fd), events, 0)
				switch {
				case err == syscall.EINTR:
					continue
				case err != nil:
					failed = err
					return true
				case n == 0:
					return false // wait in the runtime's poller
				}
				p.wakeAll(events[:n])
			}
		})
		if err == nil && failed == nil {
			return // cannot happen: the File is never closed
		}
		if failed != nil {
			p.fail()
			return
		}
		// Not pollable after all: wait in epoll_wait on a thread.
		if syscall.SetNonblock(p.epfd, false) != nil {
			p.fail()
			return
		}
	}
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			p.fail()
			return
		}
		p.wakeAll(events[:n])
	}
}

// wakeAll wakes the connections of ready events.
func (p *idlePoller) wakeAll(events []syscall.EpollEvent) {
	p.mu.Lock()
	for _, ev := range events {
		if c := p.conns[uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32]; c != nil {
			c.wake()
		}
	}
	p.mu.Unlock()
}

// fail handles an epoll_wait error (EBADF, EFAULT, EINVAL: cannot
// happen): rather than strand the parked connections, it gives each its
// reader back and parks none again.
func (p *idlePoller) fail() {
	p.broken.Store(true)
	p.mu.Lock()
	for _, c := range p.conns {
		c.wake()
	}
	p.mu.Unlock()
}

// register names c in the poller the first time it parks, and reports
// whether its socket is yet to be added to the epoll set. Its reader calls
// it before it sets c.parked: once parked is set, the next reader (woken
// by the end of the connection, perhaps before arm has even run) may read
// c.pollID.
func (p *idlePoller) register(c *conn) (add bool) {
	if p == nil || c.pollID != 0 {
		return false
	}
	p.mu.Lock()
	p.next++
	c.pollID = p.next
	p.conns[c.pollID] = c
	p.mu.Unlock()
	return true
}

// arm watches c's socket until it becomes readable, once: add says it
// is not in the epoll set yet (register). It reports false when the
// socket cannot be watched (then c reads on its goroutine) or is closed.
// Only c's reader calls it, after register; it writes nothing of c's.
func (p *idlePoller) arm(c *conn, add bool) bool {
	if p == nil || c.wire.raw == nil || c.pollID == 0 || p.broken.Load() {
		return false
	}
	op := syscall.EPOLL_CTL_MOD
	if add {
		op = syscall.EPOLL_CTL_ADD
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
