package dispatch_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/dispatch"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/worker"
)

// shared is a connector whose binds another node holds until bound is set.
type shared struct {
	carrier
	bound atomic.Bool
}

func (s *shared) Up() int {
	if s.bound.Load() {
		return 1
	}
	return 0
}

// A node that holds none of a connector's binds does not send on it nor
// back off: it hands the job back to the queue, due in a moment, without
// counting an attempt, so that once a bind is here (or on the node that
// leases it next) it goes out at once, not after the retry backoff (a
// minute in this test).
func TestHandsBackWhenBindsAreElsewhere(t *testing.T) {
	c := &shared{carrier: carrier{calls: map[string]int{}, callTimes: map[string][]time.Time{}}}
	ctx := context.Background()
	st, err := sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "d.db"), Synchronous: sqlite.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := &store.Account{ID: ids.New(), Name: "a", Currency: "EUR", SigningKey: "k", CreatedAt: time.Now()}
	if err := st.CreateAccount(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int64
	d := dispatch.New(dispatch.Config{
		Pool:      worker.Config{Poll: 10 * time.Millisecond},
		Retry:     worker.Backoff{Min: time.Minute, Max: time.Minute},
		Elsewhere: func(name string) bool { asked.Add(1); return name == c.Name() && !c.bound.Load() },
		HandBack:  20 * time.Millisecond,
	}, st, dispatch.ChannelRouter{message.ChannelSMS: channel.Connector(c)}, store.NewAccountCache(st, 0), metrics.New(), nil,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Start()
	t.Cleanup(func() { d.Stop(context.Background()) })

	m := msg(a, "1")
	if err := st.AcceptMessages(ctx, []*message.Message{m}); err != nil {
		t.Fatal(err)
	}
	d.Notify()
	start := time.Now()
	defer func() { t.Logf("test body %v", time.Since(start).Round(time.Millisecond)) }()
	for asked.Load() < 5 { // handed back and leased again, several times
		time.Sleep(10 * time.Millisecond)
	}
	c.mu.Lock()
	calls := c.calls["1"]
	c.mu.Unlock()
	if calls != 0 {
		t.Fatalf("sent %d times on a connector without a bind here", calls)
	}
	t.Logf("handed back %d times", asked.Load())
	c.bound.Store(true)
	bound := time.Now()
	for statuses(t, st, a, m.ID)["1"].Connector == "" {
		time.Sleep(10 * time.Millisecond) // the test's timeout if it backed off
	}
	t.Logf("sent %v after the bind came", time.Since(bound).Round(time.Millisecond))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls["1"] != 1 {
		t.Fatalf("sent %d times, want once", c.calls["1"])
	}
}
