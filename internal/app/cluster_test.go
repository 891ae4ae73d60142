package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
)

// Two full nodes on one PostgreSQL database and a carrier that allows two
// binds: the binds are shared out (one each, never a third), a node's
// expired leases are taken over, receipts find their message whichever
// node's bind they arrive on, a node without binds hands its jobs to the
// other, and a node stopped with SIGTERM fails /readyz first, keeps
// answering through the drain, and hands its bind to the other at once.
func TestClusterSharesBinds(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.EnvVar + " is not set")
	}
	const lease = 2 * time.Second
	tune := func(c *Config) {
		c.Demo = false
		c.BindLease = lease
		c.HeartbeatEvery = 200 * time.Millisecond
		c.Drain = 1500 * time.Millisecond // longer than a health check takes under -race on a busy machine
		c.Dispatch.Retry.Min, c.Dispatch.Retry.Max = 50*time.Millisecond, 500*time.Millisecond
	}
	cfg := Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), DatabaseURL: pgtest.URL(t), ShutdownTimeout: 10 * time.Second}
	cfg.Dispatch.Pool.Poll = 20 * time.Millisecond
	cfg.Webhook.Pool.Poll = 20 * time.Millisecond
	tune(&cfg)
	a, stopA := serveUntil(t, cfg, nil)
	a.accountID, a.key, a.testKey, a.signingKey = a.newAccount("acme")
	ctx := context.Background()

	// A node that died holding both slots: its leases still run.
	for _, node := range []string{"ghost"} {
		st, err := a.app.store.ClaimBinds(ctx, store.BindClaim{Connector: "carrier", Node: node, Total: 2, Want: 2,
			Now: time.Now(), Until: time.Now().Add(lease)})
		if err != nil || st.Held != 2 {
			t.Fatalf("ghost claim: %+v, %v", st, err)
		}
	}
	dead := time.Now()
	srv := a.useSMSC(smsc.Config{MaxBinds: 2, ReceiptDelay: 10 * time.Millisecond}, smppconn.Settings{Binds: 2})

	cfgB := a.app.cfg
	cfgB.DataDir, cfgB.HTTPAddr = t.TempDir(), "127.0.0.1:0"
	cfgB.MasterKeyFile = filepath.Join(cfg.DataDir, "master.key") // every node has the cluster's master key
	b := serve(t, cfgB)
	b.accountID, b.key = a.accountID, a.key

	// Accepted while no live node holds a bind: sent once they do.
	var ids []string
	for i := 0; i < 10; i++ {
		for _, n := range []*server{a, b} {
			ids = append(ids, n.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": fmt.Sprintf("early %d", i)})["id"].(string))
		}
	}
	held := func(s *server) int { n, _ := s.app.connectors.Binds("carrier"); return n }
	waitFor(t, "the dead node's binds to be taken over, one by each node", 10*lease, func() bool {
		return held(a) == 1 && held(b) == 1 && srv.Bound() == 2
	})
	t.Logf("binds taken over %v after the dead node's last renewal (lease %v)", time.Since(dead).Round(10*time.Millisecond), lease)

	for i := 0; i < 20; i++ {
		for _, n := range []*server{a, b} {
			ids = append(ids, n.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": fmt.Sprintf("shared %d", i)})["id"].(string))
		}
	}
	for _, id := range ids {
		a.waitStatus(id, "delivered")
	}
	if got := srv.Stats().Refused.Load(); got != 0 {
		t.Errorf("the SMSC refused %d binds: a node opened more than its share", got)
	}

	// A stops gracefully under traffic: /readyz fails first, requests keep
	// being answered, then its bind moves to B.
	var sent, failed atomic.Int64
	var mu sync.Mutex
	var lateErrs []error
	sawNotReady := make(chan struct{})
	var notReady sync.Once
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the load balancer's health check
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			r, err := http.Get(a.url + "/readyz")
			if err == nil {
				r.Body.Close()
				if r.StatusCode == http.StatusServiceUnavailable {
					notReady.Do(func() { close(sawNotReady) })
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	var drained []string
	go func() { // a client of A until the health check saw it fail
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-sawNotReady:
				return
			default:
			}
			body := strings.NewReader(fmt.Sprintf(`{"originator":"Shop","recipients":["31612345678"],"body":"drain %d"}`, i))
			req, _ := http.NewRequest("POST", a.url+"/messages", body)
			req.Header.Set("Authorization", "AccessKey "+a.key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			sent.Add(1)
			if err != nil {
				failed.Add(1)
				mu.Lock()
				lateErrs = append(lateErrs, err)
				mu.Unlock()
				continue
			}
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode == http.StatusCreated {
				m := mustJSON(t, raw)
				mu.Lock()
				drained = append(drained, m["id"].(string))
				mu.Unlock()
			} else {
				failed.Add(1)
				mu.Lock()
				lateErrs = append(lateErrs, errors.New(resp.Status))
				mu.Unlock()
			}
			resp.Body.Close()
		}
	}()
	time.Sleep(200 * time.Millisecond) // traffic before the stop
	stopped := time.Now()
	stoppedA := make(chan struct{})
	go func() { stopA(); close(stoppedA) }()
	<-sawNotReady
	close(done)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d requests to the draining node failed: %v", failed.Load(), sent.Load(), lateErrs)
	}
	t.Logf("%d requests to the stopping node, all answered 201; /readyz failed %v after the stop began", sent.Load(), time.Since(stopped).Round(time.Millisecond))
	waitFor(t, "B to hold both binds", 10*lease, func() bool { return held(b) == 2 && srv.Bound() == 2 })
	t.Logf("B holds both binds %v after the stop began", time.Since(stopped).Round(10*time.Millisecond))
	<-stoppedA
	for _, id := range drained {
		b.waitStatus(id, "delivered")
	}
	for i := 0; i < 10; i++ {
		b.waitStatus(b.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "after"})["id"].(string), "delivered")
	}
}
