package sqlstore

import (
	"context"
	"sync"
	"time"
)

// writePriority lets the writes that answer a carrier go before the next
// batch of new messages on an engine with one writer (SQLite). A delivery
// receipt is acknowledged to the SMSC only once it is committed, and the
// SMSC sends a window of receipts at a time; when every commit of
// receipts waits behind the API's accept batches, the SMSC's window stalls
// and delivery falls behind intake (measured: receipts at ~530/s while
// accepting ~3,900 messages/s, ~4,500/s once intake stopped). Accepting
// waits, at most maxAcceptWait, while such writes are queued; the HTTP
// clients feel it as back-pressure.
type writePriority struct {
	mu     sync.Mutex
	urgent int           // urgent writes waiting or running
	clear  chan struct{} // closed when urgent drops to 0; nil while it is 0
}

// maxAcceptWait bounds how long one accept batch yields to urgent writes,
// so that a steady stream of receipts cannot stop intake.
const maxAcceptWait = 50 * time.Millisecond

// urgentWrite marks an urgent write until the returned function is called.
func (p *writePriority) urgentWrite() (done func()) {
	p.mu.Lock()
	if p.urgent == 0 {
		p.clear = make(chan struct{})
	}
	p.urgent++
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		p.urgent--
		if p.urgent == 0 {
			close(p.clear)
			p.clear = nil
		}
		p.mu.Unlock()
	}
}

// yield waits until no urgent write is queued, maxAcceptWait at most.
func (p *writePriority) yield(ctx context.Context) {
	p.mu.Lock()
	c := p.clear
	p.mu.Unlock()
	if c == nil {
		return
	}
	t := time.NewTimer(maxAcceptWait)
	defer t.Stop()
	select {
	case <-c:
	case <-t.C:
	case <-ctx.Done():
	}
}
