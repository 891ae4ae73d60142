// Package fanouttest is the behaviour suite every fanout.Broker must pass.
// Implementations call Run from their tests with a function that makes
// brokers joined to one fresh, isolated cluster.
package fanouttest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/realtime/fanout"
)

// Cluster returns a function that makes a new, unstarted broker of one
// cluster; each call of Cluster starts a new, isolated cluster.
type Cluster func(t *testing.T) func() fanout.Broker

// Run runs the suite.
func Run(t *testing.T, cluster Cluster) {
	for _, tc := range []struct {
		name string
		f    func(*testing.T, func() fanout.Broker)
	}{
		{"EventsReachSubscribers", testEvents},
		{"StateReachesEveryone", testState},
		{"OrderPerPublisher", testOrder},
		{"StopEndsHandling", testStop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.f(t, cluster(t))
		})
	}
}

// recorder is a Handler that keeps what it receives.
type recorder struct {
	mu     sync.Mutex
	events []string // "app/channel/payload"
	states []string
}

func (r *recorder) HandleEvent(app, channel string, p []byte) {
	r.mu.Lock()
	r.events = append(r.events, app+"/"+channel+"/"+string(p))
	r.mu.Unlock()
}

func (r *recorder) HandleState(p []byte) {
	r.mu.Lock()
	r.states = append(r.states, string(p))
	r.mu.Unlock()
}

func (r *recorder) snapshot() (events, states []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...), append([]string(nil), r.states...)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, b fanout.Broker, h fanout.Handler) {
	t.Helper()
	if err := b.Start(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
}

// settle makes sure subscriptions made so far are in force: it publishes
// state from a and waits until b has it.
func settle(t *testing.T, a fanout.Broker, b *recorder, n *int) {
	t.Helper()
	*n++
	mark := "settle-" + strconv.Itoa(*n)
	if err := a.PublishState([]byte(mark)); err != nil {
		t.Fatal(err)
	}
	eventually(t, mark, func() bool {
		_, states := b.snapshot()
		for _, s := range states {
			if s == mark {
				return true
			}
		}
		return false
	})
}

func testEvents(t *testing.T, newBroker func() fanout.Broker) {
	a, b, c := newBroker(), newBroker(), newBroker()
	ra, rb, rc := &recorder{}, &recorder{}, &recorder{}
	start(t, a, ra)
	start(t, b, rb)
	start(t, c, rc)
	if err := b.Subscribe("app1", "presence-room.1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe("app2", "presence-room.1"); err != nil {
		t.Fatal(err)
	}
	// Subscribing twice is harmless.
	if err := b.Subscribe("app1", "presence-room.1"); err != nil {
		t.Fatal(err)
	}
	n := 0
	settle(t, c, rb, &n)
	settle(t, b, rc, &n)
	if err := a.PublishEvent("app1", "presence-room.1", []byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := a.PublishEvent("app1", "other", []byte(`nobody`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the event on b", func() bool { ev, _ := rb.snapshot(); return len(ev) == 1 })
	if ev, _ := rb.snapshot(); ev[0] != `app1/presence-room.1/{"x":1}` {
		t.Fatalf("b got %q", ev[0])
	}
	// c subscribed to the same channel name of another app; a never
	// hears its own event.
	settle(t, a, rc, &n)
	settle(t, a, rb, &n)
	if ev, _ := rc.snapshot(); len(ev) != 0 {
		t.Fatalf("c got %q", ev)
	}
	if ev, _ := ra.snapshot(); len(ev) != 0 {
		t.Fatalf("the publisher got its own event: %q", ev)
	}
	if err := b.Unsubscribe("app1", "presence-room.1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Unsubscribe("app1", "presence-room.1"); err != nil {
		t.Fatalf("unsubscribing twice: %v", err)
	}
	settle(t, b, ra, &n) // b's unsubscription has reached the server
	if err := a.PublishEvent("app1", "presence-room.1", []byte(`late`)); err != nil {
		t.Fatal(err)
	}
	settle(t, a, rb, &n)
	if ev, _ := rb.snapshot(); len(ev) != 1 {
		t.Fatalf("b got events after unsubscribing: %q", ev)
	}
}

func testState(t *testing.T, newBroker func() fanout.Broker) {
	a, b, c := newBroker(), newBroker(), newBroker()
	ra, rb, rc := &recorder{}, &recorder{}, &recorder{}
	start(t, a, ra)
	start(t, b, rb)
	start(t, c, rc)
	if err := a.PublishState([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*recorder{"b": rb, "c": rc} {
		eventually(t, "state on "+name, func() bool { _, s := r.snapshot(); return len(s) == 1 && s[0] == "hello" })
	}
	n := 0
	settle(t, b, ra, &n)
	if _, s := ra.snapshot(); len(s) != 1 {
		t.Fatalf("a has %q, want only b's settle mark (never its own message)", s)
	}
}

func testOrder(t *testing.T, newBroker func() fanout.Broker) {
	a, b := newBroker(), newBroker()
	ra, rb := &recorder{}, &recorder{}
	start(t, a, ra)
	start(t, b, rb)
	if err := b.Subscribe("app", "ch"); err != nil {
		t.Fatal(err)
	}
	n := 0
	settle(t, b, ra, &n)
	const count = 2000
	for i := 0; i < count; i++ {
		if err := a.PublishEvent("app", "ch", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		if err := a.PublishState([]byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "every message", func() bool { ev, st := rb.snapshot(); return len(ev) == count && len(st) == count })
	ev, st := rb.snapshot()
	for i := 0; i < count; i++ {
		if ev[i] != fmt.Sprintf("app/ch/%d", i) || st[i] != strconv.Itoa(i) {
			t.Fatalf("message %d out of order: event %q, state %q", i, ev[i], st[i])
		}
	}
}

func testStop(t *testing.T, newBroker func() fanout.Broker) {
	a, b := newBroker(), newBroker()
	ra, rb := &recorder{}, &recorder{}
	start(t, a, ra)
	if err := b.Start(context.Background(), rb); err != nil {
		t.Fatal(err)
	}
	n := 0
	settle(t, a, rb, &n)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	_, before := rb.snapshot()
	for i := 0; i < 10; i++ {
		a.PublishState([]byte("after stop"))
	}
	// a's own settle goes through a third broker: the messages above
	// have been delivered to everyone still listening by then.
	c := newBroker()
	rc := &recorder{}
	start(t, c, rc)
	settle(t, a, rc, &n)
	if _, after := rb.snapshot(); len(after) != len(before) {
		t.Fatalf("a stopped broker handled %d more messages", len(after)-len(before))
	}
}
