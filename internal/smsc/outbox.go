package smsc

import (
	"container/heap"
	"sync"
	"time"

	codec "github.com/omnigate/omnigate/internal/smpp"
)

// queued is a deliver_sm waiting to go to a system_id's receiver.
type queued struct {
	due      time.Time
	systemID string
	pdu      *codec.DeliverSM
}

// outbox holds receipts and inbound messages until they are due and a
// receiver is bound, and sends them with bounded concurrency.
type outbox struct {
	max     int
	deliver func(*queued) bool

	mu    sync.Mutex
	items queueHeap
	// sleepingUntil is when run will look again (zero while it works): an
	// item due later than that needs no wake-up, so a steady stream of
	// receipts does not wake run once per submit.
	sleepingUntil time.Time
	wakeC         chan struct{}
}

// retryAfter is how long an undeliverable item waits before another try.
const retryAfter = 250 * time.Millisecond

// batchEvery is the shortest pause between two passes over the due items:
// receipts due within it leave together (their deliver_sm share writes),
// instead of one timer, one wake-up and one write each. It adds at most
// this much to a receipt's delay.
const batchEvery = 2 * time.Millisecond

// senders is how many items are sent at once. A fixed set of goroutines
// sends them, rather than one new goroutine an item: under a steady stream
// of receipts that was a goroutine start and a stack growth per receipt,
// which cost the simulator more than the PDU itself (issue 20).
const senders = 64

func newOutbox(max int, deliver func(*queued) bool) *outbox {
	return &outbox{max: max, deliver: deliver, wakeC: make(chan struct{}, 1)}
}

func (o *outbox) add(q *queued) {
	o.mu.Lock()
	if len(o.items) >= o.max {
		heap.Pop(&o.items) // drop the oldest rather than grow without bound
	}
	heap.Push(&o.items, q)
	wake := o.sleepingUntil.IsZero() || q.due.Before(o.sleepingUntil)
	o.mu.Unlock()
	if wake {
		o.wake()
	}
}

func (o *outbox) wake() {
	select {
	case o.wakeC <- struct{}{}:
	default:
	}
}

// len is how many items wait.
func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items)
}

func (o *outbox) run(stop <-chan struct{}) {
	work := make(chan *queued)
	for range senders {
		go o.send(work, stop)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		o.mu.Lock()
		now := time.Now()
		var due []*queued
		for len(o.items) > 0 && !o.items[0].due.After(now) && len(due) < 1024 {
			due = append(due, heap.Pop(&o.items).(*queued))
		}
		next := time.Hour
		if len(o.items) > 0 {
			next = o.items[0].due.Sub(now)
		}
		next = max(next, batchEvery)
		o.sleepingUntil = now.Add(next)
		o.mu.Unlock()
		for _, q := range due {
			select {
			case work <- q:
			case <-stop:
				return
			}
		}
		timer.Reset(next)
		select {
		case <-stop:
			return
		case <-o.wakeC:
		case <-timer.C:
		}
		o.mu.Lock()
		o.sleepingUntil = time.Time{}
		o.mu.Unlock()
	}
}

// send delivers the items it is handed until stop; one that could not go
// is tried again after retryAfter.
func (o *outbox) send(work <-chan *queued, stop <-chan struct{}) {
	for {
		select {
		case q := <-work:
			if !o.deliver(q) {
				q.due = time.Now().Add(retryAfter)
				o.add(q)
			}
		case <-stop:
			return
		}
	}
}

type queueHeap []*queued

func (h queueHeap) Len() int           { return len(h) }
func (h queueHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h queueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *queueHeap) Push(x any)        { *h = append(*h, x.(*queued)) }
func (h *queueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
