package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// client is one WebSocket connection of the load. Both systems' clients
// use the same WebSocket library and the same read loop, so that the
// client side (which shares the machine's cores with the servers) costs
// the same for both; only the protocol differs.
type client struct {
	ws       *websocket.Conn
	sys      system
	socketID string      // Pusher: from pusher:connection_established
	closed   atomic.Bool // closed by this program

	wmu    sync.Mutex
	nextID int // Centrifugo: command ids

	// acks receives one value per subscription confirmed (Pusher
	// subscription_succeeded, Centrifugo subscribe reply).
	acks chan struct{}
}

// write sends one text frame.
func (c *client) write(ctx context.Context, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// command sends a Centrifugo command with the next id.
func (c *client) command(ctx context.Context, body string) error {
	c.wmu.Lock()
	c.nextID++
	id := c.nextID
	c.wmu.Unlock()
	return c.write(ctx, []byte(`{"id":`+itoa(id)+`,`+body+`}`))
}

// recorder counts what the clients receive: every publication carries
// "ts=<unix ns>;" in its data, and each occurrence in a frame is one
// delivery (Centrifugo may put several pushes in one frame).
type recorder struct {
	since      atomic.Int64 // publications older than this (unix ns) are not counted
	frames     atomic.Int64 // every frame received
	deliveries atomic.Int64
	joins      atomic.Int64 // presence joins and leaves seen
	closed     atomic.Int64 // connections that ended during the run
	firstClose atomic.Value // why the first of them ended
	hist       histogram
}

var tsMarker = []byte("ts=")

// frame takes one received frame.
func (r *recorder) frame(b []byte, now int64) {
	for {
		i := bytes.Index(b, tsMarker)
		if i < 0 {
			return
		}
		b = b[i+len(tsMarker):]
		var ts int64
		j := 0
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			ts = ts*10 + int64(b[j]-'0')
			j++
		}
		b = b[j:]
		if j == 0 || ts < r.since.Load() {
			continue // a late one of an earlier step
		}
		r.deliveries.Add(1)
		r.hist.add(time.Duration(now - ts))
	}
}

// readLoop reads until the connection ends, answering pings and
// signalling subscription confirmations. It reads each frame into one
// buffer kept for the connection, and without a context that can end
// (the library would register a callback on it for every frame): the
// connection is closed (closeAll) to end it. Both systems' clients read
// this way, and Pusher's one event per frame is not made to pay for an
// allocation per frame.
func (c *client) readLoop(ctx context.Context, rec *recorder) {
	var buf bytes.Buffer
	for {
		_, r, err := c.ws.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		b := buf.Bytes()
		if err != nil {
			if ctx.Err() == nil && !c.closed.Load() {
				if rec.closed.Add(1) == 1 {
					rec.firstClose.Store(err.Error())
				}
			}
			return
		}
		rec.frames.Add(1)
		rec.frame(b, time.Now().UnixNano())
		c.sys.control(ctx, c, b, rec)
	}
}

// quiet waits until no frame has arrived for 2 s (at most limit): the
// backlog of a step that fell behind must not weigh on the next.
func (r *recorder) quiet(limit time.Duration) {
	end := time.Now().Add(limit)
	last, lastAt := r.frames.Load(), time.Now()
	for time.Now().Before(end) && time.Since(lastAt) < 2*time.Second {
		time.Sleep(50 * time.Millisecond)
		if n := r.frames.Load(); n != last {
			last, lastAt = n, time.Now()
		}
	}
}

// histogram is a latency histogram with buckets 2 % wide from 10 µs up,
// safe for concurrent use.
type histogram struct {
	buckets [histBuckets]atomic.Int64
	max     atomic.Int64
}

const (
	histBase    = 10 * time.Microsecond
	histGrowth  = 1.02
	histBuckets = 800 // up to about 10 µs × 1.02^800 ≈ 75 min
)

var logGrowth = math.Log(histGrowth)

func (h *histogram) add(d time.Duration) {
	i := 0
	if d > histBase {
		i = int(math.Log(float64(d)/float64(histBase))/logGrowth) + 1
	}
	if i >= histBuckets {
		i = histBuckets - 1
	}
	h.buckets[i].Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

func (h *histogram) reset() {
	for i := range h.buckets {
		h.buckets[i].Store(0)
	}
	h.max.Store(0)
}

// quantile is the upper bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	var total int64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	if total == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= want {
			return time.Duration(float64(histBase) * math.Pow(histGrowth, float64(i)))
		}
	}
	return time.Duration(h.max.Load())
}

// dialAll opens n connections, dialers at a time, and starts their read
// loops. It stops at the first error.
func dialAll(ctx context.Context, sys system, n, dialers int, rec *recorder) ([]*client, error) {
	out := make([]*client, n)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := atomic.Int64{}
	for range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				mu.Lock()
				failed := first != nil
				mu.Unlock()
				if failed {
					return
				}
				dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				c, err := sys.dial(dctx)
				cancel()
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				out[i] = c
				go c.readLoop(ctx, rec)
			}
		}()
	}
	wg.Wait()
	if first != nil {
		closeAll(out)
		return nil, first
	}
	return out, nil
}

func closeAll(cs []*client) {
	for _, c := range cs {
		if c != nil {
			c.closed.Store(true)
			c.ws.CloseNow()
		}
	}
}

// subscribeAll subscribes every client to channel(i) and waits for all
// confirmations.
func subscribeAll(ctx context.Context, sys system, cs []*client, channel func(i int) string) error {
	sem := make(chan struct{}, 200)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i, c := range cs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := sys.subscribe(ctx, c, channel(i), ""); err != nil {
				failed.Add(1)
				return
			}
			select {
			case <-c.acks:
			case <-time.After(30 * time.Second):
				failed.Add(1)
			case <-ctx.Done():
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return errors.New(itoa(int(n)) + " subscriptions were not confirmed")
	}
	return ctx.Err()
}

func itoa(n int) string { return strconv.Itoa(n) }
