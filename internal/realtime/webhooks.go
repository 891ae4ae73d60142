package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/lifecycle"
)

// Webhook headers, as Pusher sends them.
const (
	HeaderWebhookKey       = "X-Pusher-Key"
	HeaderWebhookSignature = "X-Pusher-Signature"
)

// webhookEvent is one event of a webhook body.
type webhookEvent struct {
	Name     string `json:"name"`
	Channel  string `json:"channel"`
	UserID   string `json:"user_id,omitempty"`
	Event    string `json:"event,omitempty"`
	Data     string `json:"data,omitempty"`
	SocketID string `json:"socket_id,omitempty"`
	// SubscriptionCount is set on subscription_count events.
	SubscriptionCount *int `json:"subscription_count,omitempty"`
}

// webhookBody is what is POSTed to an app's webhook URL.
type webhookBody struct {
	TimeMS int64          `json:"time_ms"`
	Events []webhookEvent `json:"events"`
}

type queuedEvent struct {
	app string
	ev  webhookEvent
}

// webhookBatch is a signed body ready to send.
type webhookBatch struct {
	app, url, key, signature string
	body                     []byte
	events                   int
}

// webhooks batches events per app (BatchSize events or BatchWait after the
// first), signs each batch as Pusher does (X-Pusher-Key, X-Pusher-Signature:
// hex HMAC-SHA256 of the body with the app's secret), and POSTs it with
// retries. An app's batches are sent one at a time, in order: the next
// waits until the one before succeeded or was given up (after Attempts),
// while the workers serve other apps. Both queues are bounded; events that
// do not fit are dropped and counted, never waited for.
type webhooks struct {
	cfg     WebhookConfig
	apps    *appCache
	log     *slog.Logger
	in      chan queuedEvent
	out     *sendQueue
	dropped atomic.Int64

	ctx    context.Context // cancelled when Stop's deadline passes
	cancel context.CancelFunc

	startOnce, stopOnce sync.Once
	quit                chan struct{}
	batcherDone         chan struct{}
	senders             sync.WaitGroup
}

func newWebhooks(cfg WebhookConfig, apps *appCache, log *slog.Logger) *webhooks {
	ctx, cancel := context.WithCancel(context.Background())
	return &webhooks{cfg: cfg, apps: apps, log: log, in: make(chan queuedEvent, cfg.Queue),
		out: newSendQueue(max(2*cfg.Workers, cfg.Queue/cfg.BatchSize)), ctx: ctx, cancel: cancel,
		quit: make(chan struct{}), batcherDone: make(chan struct{})}
}

// add queues an event for the app's webhook. It never blocks. An event
// the app is known (from the cache) not to want is not queued: dispatch
// would drop it, after the batcher's work (2.5 % of the CPU of presence
// churn for an app without a webhook).
func (w *webhooks) add(app string, ev webhookEvent) {
	if a, ok := w.apps.peekID(app); ok && (a == nil || a.WebhookURL == "" ||
		len(a.WebhookEvents) > 0 && !slices.Contains(a.WebhookEvents, ev.Name)) {
		return
	}
	select {
	case w.in <- queuedEvent{app, ev}:
	default:
		w.dropped.Add(1)
	}
}

func (w *webhooks) start() {
	w.startOnce.Do(func() {
		go w.batch()
		for range w.cfg.Workers {
			w.senders.Add(1)
			go w.send()
		}
	})
}

type pendingBatch struct {
	events []webhookEvent
	first  time.Time
}

// batch gathers events per app and hands full or old batches to senders.
func (w *webhooks) batch() {
	defer close(w.batcherDone)
	defer w.out.close()
	pending := map[string]*pendingBatch{}
	tick := time.NewTicker(max(w.cfg.BatchWait/10, 5*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case q := <-w.in:
			b := pending[q.app]
			if b == nil {
				b = &pendingBatch{first: time.Now()}
				pending[q.app] = b
			}
			b.events = append(b.events, q.ev)
			if len(b.events) >= w.cfg.BatchSize {
				delete(pending, q.app)
				w.dispatch(q.app, b.events)
			}
		case now := <-tick.C:
			for app, b := range pending {
				if now.Sub(b.first) >= w.cfg.BatchWait {
					delete(pending, app)
					w.dispatch(app, b.events)
				}
			}
		case <-w.quit:
			for {
				select {
				case q := <-w.in:
					b := pending[q.app]
					if b == nil {
						b = &pendingBatch{}
						pending[q.app] = b
					}
					b.events = append(b.events, q.ev)
					continue
				default:
				}
				break
			}
			for app, b := range pending {
				for len(b.events) > 0 {
					n := min(len(b.events), w.cfg.BatchSize)
					w.dispatch(app, b.events[:n])
					b.events = b.events[n:]
				}
			}
			return
		}
	}
}

// dispatch filters a batch by the app's settings, signs it and queues it.
func (w *webhooks) dispatch(appID string, events []webhookEvent) {
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	app, err := w.apps.byID(ctx, appID)
	cancel()
	if err != nil || app.WebhookURL == "" {
		return
	}
	if len(app.WebhookEvents) > 0 {
		events = slices.DeleteFunc(slices.Clone(events), func(e webhookEvent) bool { return !slices.Contains(app.WebhookEvents, e.Name) })
	}
	if len(events) == 0 {
		return
	}
	body, err := json.Marshal(webhookBody{TimeMS: time.Now().UnixMilli(), Events: events})
	if err != nil {
		w.log.Error("realtime: encoding a webhook", "err", err)
		return
	}
	b := webhookBatch{app: appID, url: app.WebhookURL, key: app.Key, signature: Sign(app.Secret, string(body)), body: body, events: len(events)}
	if !w.out.push(b) {
		// Senders are behind: bounded, so this batch goes.
		w.dropped.Add(int64(len(events)))
		w.log.Warn("realtime: webhook queue full; batch dropped", "app", appID, "events", len(events))
	}
}

// send delivers batches until the batcher closes the queue.
func (w *webhooks) send() {
	defer w.senders.Done()
	for {
		b, ok := w.out.pop()
		if !ok {
			return
		}
		if err := w.deliver(b); err != nil {
			w.dropped.Add(int64(b.events))
			w.log.Warn("realtime: webhook dropped", "app", b.app, "events", b.events, "err", err)
		}
		w.out.done(b.app)
	}
}

// sendQueue holds signed batches per app, and hands a worker the oldest
// batch of an app that has none in flight, so each app's batches go out
// in order without one slow app holding up the others.
type sendQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	apps   map[string]*appBatches
	ready  []string // apps with batches waiting and none in flight, in turn
	total  int      // batches waiting
	max    int
	closed bool
}

type appBatches struct {
	waiting []webhookBatch
	busy    bool // a worker is sending one
}

func newSendQueue(max int) *sendQueue {
	q := &sendQueue{apps: map[string]*appBatches{}, max: max}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push queues a batch, or reports false when the queue is full or closed.
func (q *sendQueue) push(b webhookBatch) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.total >= q.max {
		return false
	}
	a := q.apps[b.app]
	if a == nil {
		a = &appBatches{}
		q.apps[b.app] = a
	}
	a.waiting = append(a.waiting, b)
	q.total++
	if !a.busy && len(a.waiting) == 1 {
		q.ready = append(q.ready, b.app)
		q.cond.Signal()
	}
	return true
}

// pop waits for a batch to send; false when the queue is closed and
// nothing is ready. The caller calls done with the batch's app after.
func (q *sendQueue) pop() (webhookBatch, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ready) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.ready) == 0 {
		return webhookBatch{}, false
	}
	app := q.ready[0]
	q.ready = q.ready[1:]
	a := q.apps[app]
	b := a.waiting[0]
	a.waiting = a.waiting[1:]
	a.busy = true
	q.total--
	return b, true
}

// done ends an app's batch in flight and makes its next one ready.
func (q *sendQueue) done(app string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	a := q.apps[app]
	a.busy = false
	if len(a.waiting) == 0 {
		delete(q.apps, app)
		return
	}
	q.ready = append(q.ready, app)
	q.cond.Signal()
}

// close lets the workers end once every queued batch is sent.
func (q *sendQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// deliver POSTs a batch, retrying with backoff and jitter.
func (w *webhooks) deliver(b webhookBatch) error {
	u, err := url.Parse(b.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook URL is not an absolute http(s) URL")
	}
	var last error
	delay := w.cfg.RetryMin
	for attempt := 1; attempt <= w.cfg.Attempts; attempt++ {
		if last = w.post(b); last == nil {
			return nil
		}
		if attempt == w.cfg.Attempts {
			break
		}
		// Full jitter in [delay/2, delay].
		d := delay/2 + time.Duration(rand.Int64N(int64(delay/2)+1))
		select {
		case <-time.After(d):
		case <-w.ctx.Done():
			return w.ctx.Err()
		}
		delay = min(2*delay, w.cfg.RetryMax)
	}
	return fmt.Errorf("after %d attempts: %w", w.cfg.Attempts, last)
}

func (w *webhooks) post(b webhookBatch) error {
	ctx, cancel := context.WithTimeout(w.ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader(b.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderWebhookKey, b.key)
	req.Header.Set(HeaderWebhookSignature, b.signature)
	req.Header.Set("User-Agent", "omnigate-realtime-webhooks/1")
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("calling the webhook URL: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook URL answered %d", resp.StatusCode)
	}
	return nil
}

// stop sends what is queued, or gives up (dropping the rest) when ctx ends.
func (w *webhooks) stop(ctx context.Context) error {
	w.stopOnce.Do(func() { close(w.quit) })
	w.startOnce.Do(func() { close(w.batcherDone); w.out.close() })
	done := make(chan struct{})
	go func() { <-w.batcherDone; w.senders.Wait(); close(done) }()
	err := lifecycle.WaitDone(ctx, done)
	w.cancel()
	if err != nil {
		<-done // cancelled, the senders give up at once
		return fmt.Errorf("stopping webhooks: %w", err)
	}
	return nil
}
