package dispatch_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
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

// carrier is a scripted connector: per address, how many "try later"
// answers come before success, or a permanent refusal.
type carrier struct {
	mu        sync.Mutex
	throttle  map[string]int
	refuse    map[string]bool
	calls     map[string]int
	callTimes map[string][]time.Time
	// slow is how long an address's answer takes; answered is when each
	// answer came.
	slow     map[string]time.Duration
	answered map[string][]time.Time
}

func (c *carrier) Name() string                   { return "test-carrier" }
func (c *carrier) Channel() string                { return message.ChannelSMS }
func (c *carrier) Start()                         {}
func (c *carrier) Stop(ctx context.Context) error { return nil }
func (c *carrier) Up() int                        { return 1 }

func (c *carrier) Send(ctx context.Context, s channel.Submission) (channel.Result, error) {
	addr := s.Recipient.Address
	c.mu.Lock()
	c.calls[addr]++
	c.callTimes[addr] = append(c.callTimes[addr], time.Now())
	wait := c.slow[addr]
	c.mu.Unlock()
	time.Sleep(wait)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answered != nil {
		c.answered[addr] = append(c.answered[addr], time.Now())
	}
	if c.refuse[addr] {
		return channel.Result{}, &channel.PermanentError{Code: 11, Reason: "invalid destination"}
	}
	if c.throttle[addr] > 0 {
		c.throttle[addr]--
		return channel.Result{}, &channel.TemporaryError{Reason: "throttled"}
	}
	return channel.Result{Status: message.Sent, PartIDs: []string{"p1"}}, nil
}

func setup(t *testing.T, c channel.Connector) (store.Store, *dispatch.Dispatcher, *store.Account) {
	t.Helper()
	return setupWith(t, dispatch.ChannelRouter{message.ChannelSMS: c})
}

func setupWith(t *testing.T, router dispatch.Router) (store.Store, *dispatch.Dispatcher, *store.Account) {
	t.Helper()
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
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := dispatch.New(dispatch.Config{
		Pool:  worker.Config{Poll: 10 * time.Millisecond},
		Retry: worker.Backoff{Min: 40 * time.Millisecond, Max: 200 * time.Millisecond},
	}, st, router, store.NewAccountCache(st, 0), metrics.New(), nil, log)
	d.Start()
	t.Cleanup(func() { d.Stop(context.Background()) })
	return st, d, a
}

func msg(a *store.Account, addrs ...string) *message.Message {
	now := time.Now().UTC()
	m := &message.Message{ID: ids.New(), AccountID: a.ID, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
		Originator: "x", Body: "x", Details: message.Details{SMS: &message.SMS{DataCoding: "plain", MClass: 1}}, CreatedAt: now}
	for i, addr := range addrs {
		m.Recipients = append(m.Recipients, message.Recipient{Seq: i, Address: addr, Country: "NL", CountryPrefix: 31,
			Status: message.Sent, StatusAt: now, PartCount: 1, Length: 1})
	}
	return m
}

func statuses(t *testing.T, st store.Store, a *store.Account, id string) map[string]message.Recipient {
	t.Helper()
	m, err := st.GetMessage(context.Background(), a.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]message.Recipient{}
	for _, r := range m.Recipients {
		out[r.Address] = r
	}
	return out
}

func TestRetriesTemporaryFailsPermanent(t *testing.T) {
	// Recipient 2 answers more slowly than the shortest backoff, so a wait
	// counted from the start of the attempt would have passed already.
	c := &carrier{throttle: map[string]int{"2": 2}, refuse: map[string]bool{"3": true}, calls: map[string]int{}, callTimes: map[string][]time.Time{},
		slow: map[string]time.Duration{"2": 50 * time.Millisecond}, answered: map[string][]time.Time{}}
	st, d, a := setup(t, c)
	m := msg(a, "1", "2", "3")
	if err := st.AcceptMessages(context.Background(), []*message.Message{m}); err != nil {
		t.Fatal(err)
	}
	d.Notify()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rs := statuses(t, st, a, m.ID)
		if rs["2"].Connector != "" && rs["3"].Status == message.DeliveryFailed {
			if rs["1"].Status != message.Sent || rs["1"].Connector != "test-carrier" {
				t.Fatalf("recipient 1: %+v", rs["1"])
			}
			if rs["3"].StatusErrorCode != 11 || rs["3"].StatusReason != "invalid destination" {
				t.Fatalf("recipient 3: %+v", rs["3"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done: %+v", rs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Each recipient is submitted until it is taken or refused, never again.
	if c.calls["1"] != 1 || c.calls["2"] != 3 || c.calls["3"] != 1 {
		t.Fatalf("calls %v, want 1:1 2:3 3:1", c.calls)
	}
	// Retries wait at least half the backoff minimum (equal jitter) after
	// the answer that asked for them.
	times, answers := c.callTimes["2"], c.answered["2"]
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(answers[i-1]); gap < 20*time.Millisecond {
			t.Fatalf("retry %d came %v after the answer", i, gap)
		}
	}
}
