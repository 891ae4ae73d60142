package realtime

import (
	"runtime"
	"sync"
)

// readers runs the readers of woken connections (conn.wake) on a few
// goroutines kept between wakes. A goroutine started for each wake began
// with a small stack and grew it while reading and handling a frame:
// copying stacks was 8 % of the server's CPU under presence churn, where
// every subscribe and unsubscribe wakes its connection. A kept goroutine
// has its stack grown already. At most max wait idle (an idle connection
// still has no goroutine of its own); a wake that finds none idle starts
// one, which stays if there is room when its connection parks.
type readers struct {
	mu     sync.Mutex
	idle   []chan *conn // waiting workers, the last one idle the shortest
	max    int
	closed bool
}

func newReaders() *readers {
	return &readers{max: min(2*runtime.GOMAXPROCS(0), 8)}
}

// run reads c (woken) on an idle worker or a new one. It never blocks.
func (r *readers) run(c *conn) {
	r.mu.Lock()
	if n := len(r.idle); n > 0 {
		w := r.idle[n-1]
		r.idle = r.idle[:n-1]
		r.mu.Unlock()
		w <- c // buffered, and only run or close hand it anything
		return
	}
	r.mu.Unlock()
	go r.work(c)
}

func (r *readers) work(c *conn) {
	var in chan *conn
	for c != nil {
		c.serve(true)
		r.mu.Lock()
		if r.closed || len(r.idle) >= r.max {
			r.mu.Unlock()
			return
		}
		if in == nil {
			in = make(chan *conn, 1)
		}
		r.idle = append(r.idle, in)
		r.mu.Unlock()
		c = <-in
	}
}

// close ends the idle workers and keeps the busy ones from waiting again.
func (r *readers) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, w := range r.idle {
		w <- nil
	}
	r.idle = nil
}
