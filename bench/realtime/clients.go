package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// clientsConfig is what the clients process needs.
type clientsConfig struct {
	URL      string // ws://127.0.0.1:port/app/key?protocol=7
	Conns    int
	Channels int
	Dialers  int // connections opened at once
}

// clientStats is what the clients report: deliveries and their latency
// since the last report.
type clientStats struct {
	Deliveries uint64     `json:"deliveries"`
	Errors     uint64     `json:"errors"`
	Closed     uint64     `json:"closed"`
	Latency    *histogram `json:"latency"`
}

// clients holds the connections and their measurements, in shards so that
// readers rarely contend.
type clients struct {
	shards [64]shard
	errs   atomic.Uint64
	closed atomic.Uint64
	conns  []*websocket.Conn
}

type shard struct {
	mu    sync.Mutex
	hist  *histogram
	count uint64
}

// take returns the measurements since the last take.
func (cl *clients) take() (*histogram, uint64) {
	h, n := newHistogram(), uint64(0)
	for i := range cl.shards {
		s := &cl.shards[i]
		s.mu.Lock()
		h.merge(s.hist)
		n += s.count
		s.hist, s.count = newHistogram(), 0
		s.mu.Unlock()
	}
	return h, n
}

// runClients opens and subscribes the connections, says READY, then
// answers REPORT lines on in with a JSON line of stats on out, until in ends.
func runClients(ctx context.Context, cfg clientsConfig, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cl := &clients{conns: make([]*websocket.Conn, cfg.Conns)}
	for i := range cl.shards {
		cl.shards[i].hist = newHistogram()
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, cfg.Dialers))
	ready := make(chan error, cfg.Conns)
	for i := 0; i < cfg.Conns; i++ {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			c, err := cl.open(ctx, cfg.URL, fmt.Sprintf("bench-%d", i%max(1, cfg.Channels)))
			if err != nil {
				ready <- err
				return
			}
			cl.conns[i] = c
			ready <- nil
			wg.Add(1)
			go func() { defer wg.Done(); cl.read(ctx, c, &cl.shards[i%len(cl.shards)]) }()
		}()
	}
	for i := 0; i < cfg.Conns; i++ {
		if err := <-ready; err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
	}
	fmt.Fprintln(out, "READY")
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if sc.Text() != "REPORT" {
			continue
		}
		h, n := cl.take()
		b, _ := json.Marshal(clientStats{Deliveries: n, Errors: cl.errs.Load(), Closed: cl.closed.Load(), Latency: h})
		fmt.Fprintln(out, string(b))
	}
	cancel()
	for _, c := range cl.conns {
		if c != nil {
			c.CloseNow()
		}
	}
	wg.Wait()
	return nil
}

// open connects one client and subscribes it to a channel.
func (cl *clients) open(ctx context.Context, url, channel string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, err
	}
	if _, b, err := c.Read(dctx); err != nil || !bytes.Contains(b, []byte("connection_established")) {
		c.CloseNow()
		return nil, fmt.Errorf("handshake: %q, %v", b, err)
	}
	sub := `{"event":"pusher:subscribe","data":{"channel":"` + channel + `"}}`
	if err := c.Write(dctx, websocket.MessageText, []byte(sub)); err != nil {
		c.CloseNow()
		return nil, err
	}
	if _, b, err := c.Read(dctx); err != nil || !bytes.Contains(b, []byte("subscription_succeeded")) {
		c.CloseNow()
		return nil, fmt.Errorf("subscribe: %q, %v", b, err)
	}
	return c, nil
}

var dataPrefix = []byte(`"data":"`)

// read receives events, whose data is the publisher's clock in unix
// nanoseconds, and records the latency.
func (cl *clients) read(ctx context.Context, c *websocket.Conn, sh *shard) {
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				cl.closed.Add(1)
			}
			return
		}
		now := time.Now()
		i := bytes.Index(b, dataPrefix)
		if i < 0 {
			continue // a ping or other protocol message
		}
		rest := b[i+len(dataPrefix):]
		j := bytes.IndexByte(rest, '"')
		sent, err := strconv.ParseInt(string(rest[:max(j, 0)]), 10, 64)
		if err != nil {
			cl.errs.Add(1)
			continue
		}
		sh.mu.Lock()
		sh.hist.record(now.Sub(time.Unix(0, sent)))
		sh.count++
		sh.mu.Unlock()
	}
}
