package smpp_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smpp/dlr"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/store"
)

// sink records what the connector hands to the platform.
type sink struct {
	mu       sync.Mutex
	receipts []store.Receipt
	inbound  []channel.Inbound
	failNext int
}

func (s *sink) Receipt(ctx context.Context, r store.Receipt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return errors.New("database down")
	}
	s.receipts = append(s.receipts, r)
	return nil
}

func (s *sink) Inbound(ctx context.Context, in channel.Inbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.Destination == "0000" {
		return store.ErrNotFound
	}
	s.inbound = append(s.inbound, in)
	return nil
}

func (s *sink) counts() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.receipts), len(s.inbound)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func setup(t *testing.T, cfg smsc.Config, settings smppconn.Settings) (*smsc.Server, *smppconn.Connector, *sink) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	cfg.ReceiptDelay = 20 * time.Millisecond
	srv, err := smsc.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	host, port, _ := net.SplitHostPort(srv.Addr())
	settings.Host = host
	settings.Port, _ = strconv.Atoi(port)
	if settings.SystemID == "" {
		settings.SystemID = "omnigate"
	}
	settings.ReconnectMin = smppconn.Duration(20 * time.Millisecond)
	settings.ReconnectMax = smppconn.Duration(200 * time.Millisecond)
	sk := &sink{}
	c, err := smppconn.New("test-smsc", settings, sk, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(func() { c.Stop(context.Background()) })
	waitFor(t, "bind", func() bool { return c.Bound() > 0 })
	return srv, c, sk
}

func submission(body, coding string) channel.Submission {
	m := &message.Message{ID: "m1", AccountID: "a1", Channel: message.ChannelSMS, Type: message.TypeSMS,
		Originator: "Acme", Body: body, Details: message.Details{SMS: &message.SMS{DataCoding: coding, MClass: 1}}, CreatedAt: time.Now()}
	r := &message.Recipient{Seq: 0, Address: "31612345678"}
	return channel.Submission{Message: m, Recipient: r}
}

func TestSubmitAndReceipts(t *testing.T) {
	for _, long := range []string{smppconn.LongUDH8, smppconn.LongUDH16, smppconn.LongSAR, smppconn.LongPayload} {
		for _, packed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/packed=%v", long, packed), func(t *testing.T) {
				_, c, sk := setup(t, smsc.Config{HexIDs: true, ReceiptIDsOtherBase: true}, smppconn.Settings{LongMessages: long, GSMPacked: packed})
				cases := []struct {
					body, coding string
					parts        int
				}{
					{"Hello", "plain", 1},
					{strings.Repeat("x", 200), "plain", 2},
					{strings.Repeat("مرحبا ", 20), "unicode", 2},
				}
				want := 0
				var ids []string
				for _, tc := range cases {
					res, err := c.Send(context.Background(), submission(tc.body, tc.coding))
					if err != nil {
						t.Fatal(err)
					}
					n := tc.parts
					if long == smppconn.LongPayload {
						n = 1
					}
					if len(res.PartIDs) != n || res.Status != message.Sent {
						t.Fatalf("%q: %d part ids, want %d", tc.body[:5], len(res.PartIDs), n)
					}
					ids = append(ids, res.PartIDs...)
					want += n
				}
				waitFor(t, "receipts", func() bool { r, _ := sk.counts(); return r == want })
				sk.mu.Lock()
				defer sk.mu.Unlock()
				for _, r := range sk.receipts {
					if r.Status != message.Delivered || r.Connector != "test-smsc" {
						t.Fatalf("receipt %+v", r)
					}
					// Receipts write decimal ids for hex submit ids: one of
					// the receipt's id forms must be a submitted part id.
					found := false
					for _, f := range r.ProviderIDs {
						found = found || slices.Contains(ids, f)
					}
					if !found {
						t.Fatalf("receipt ids %v match none of %v", r.ProviderIDs, ids)
					}
				}
			})
		}
	}
}

func TestInbound(t *testing.T) {
	srv, _, sk := setup(t, smsc.Config{SystemID: "omnigate"}, smppconn.Settings{})
	long := strings.Repeat("stop ", 40)
	if err := srv.Inject("", "31612345678", "3197010000001", long); err != nil {
		t.Fatal(err)
	}
	if err := srv.Inject("", "31612345678", "3197010000001", "توقف"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "inbound parts", func() bool { _, n := sk.counts(); return n == 3 })
	sk.mu.Lock()
	defer sk.mu.Unlock()
	// Parts may arrive in any order; reassembly is the platform's job.
	parts := map[int]string{}
	arabic := false
	for _, in := range sk.inbound {
		if in.Source != "31612345678" || in.Destination != "3197010000001" {
			t.Fatalf("inbound %+v", in)
		}
		if in.Total == 1 {
			arabic = in.Text == "توقف"
			continue
		}
		if in.Total != 2 || in.Ref == 0 {
			t.Fatalf("part %+v", in)
		}
		parts[in.Part] = in.Text
	}
	if parts[1]+parts[2] != long || !arabic {
		t.Fatalf("parts %v, Arabic seen %v", parts, arabic)
	}
}

func TestReconnectsAndThrottles(t *testing.T) {
	srv, c, _ := setup(t, smsc.Config{DropEvery: 5, MaxRate: 1000}, smppconn.Settings{Window: 5})
	sent := 0
	deadline := time.Now().Add(20 * time.Second)
	// Keep sending across drops until the SMSC has cut the line four times.
	for srv.Stats().Drops.Load() < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sent, %d drops: the connection did not keep coming back", sent, srv.Stats().Drops.Load())
		}
		_, err := c.Send(context.Background(), submission("x", "plain"))
		if err == nil {
			sent++
			continue
		}
		if !channel.IsTemporary(err) {
			t.Fatalf("a drop gave a permanent error: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Every drop is followed by a reconnect (the last may still be under way).
	waitFor(t, "reconnects", func() bool { return c.Stats().Reconnects.Load() >= srv.Stats().Drops.Load()-1 })
	// Bound() can still report the connection the SMSC has just cut, so
	// the proof is a send that succeeds once the client has come back.
	var last error
	waitFor(t, "a send after the last drop", func() bool {
		_, last = c.Send(context.Background(), submission("x", "plain"))
		if last != nil && !channel.IsTemporary(last) {
			t.Fatalf("send after the drops: %v", last)
		}
		return last == nil
	})
}

func TestReceiptMapping(t *testing.T) {
	_, c, sk := setup(t, smsc.Config{Outcomes: smsc.Outcomes{Undeliverable: 1}}, smppconn.Settings{})
	if _, err := c.Send(context.Background(), submission("x", "plain")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "receipt", func() bool { r, _ := sk.counts(); return r == 1 })
	if r := sk.receipts[0]; r.Status != message.DeliveryFailed || r.ErrorCode != 1 || r.Reason == "" {
		t.Fatalf("undeliverable receipt %+v", r)
	}
	_ = dlr.Delivered
}

func TestBadCredentials(t *testing.T) {
	srv, err := smsc.Start(smsc.Config{Listen: "127.0.0.1:0", SystemID: "right", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	host, port, _ := net.SplitHostPort(srv.Addr())
	p, _ := strconv.Atoi(port)
	c, err := smppconn.New("bad", smppconn.Settings{Host: host, Port: p, SystemID: "right", Password: "wrong",
		ReconnectMin: smppconn.Duration(10 * time.Millisecond), ReconnectMax: smppconn.Duration(50 * time.Millisecond)}, &sink{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	defer c.Stop(context.Background())
	time.Sleep(200 * time.Millisecond)
	if c.Bound() != 0 {
		t.Fatal("bound with a wrong password")
	}
	if _, err := c.Send(context.Background(), submission("x", "plain")); !errors.Is(err, channel.ErrUnavailable) {
		t.Fatalf("send while unbound: %v", err)
	}
}

// waits records the waits the connector chose before each reconnect, from
// its log.
type waits struct {
	mu  sync.Mutex
	all []time.Duration
}

func (w *waits) Enabled(context.Context, slog.Level) bool { return true }
func (w *waits) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *waits) WithGroup(string) slog.Handler            { return w }
func (w *waits) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "smpp: bind lost; reconnecting" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "in" {
			w.mu.Lock()
			w.all = append(w.all, a.Value.Duration())
			w.mu.Unlock()
		}
		return true
	})
	return nil
}

func (w *waits) list() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.all)
}

// TestReconnectAfterWorkingBind: the SMSC drops the link after every few
// submits, each bind having carried traffic; every reconnect then waits
// within the minimum, instead of the wait doubling towards the maximum as
// if the SMSC were down.
func TestReconnectAfterWorkingBind(t *testing.T) {
	const dropEvery, drops = 3, 6
	srv, err := smsc.Start(smsc.Config{Listen: "127.0.0.1:0", DropEvery: dropEvery})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	host, port, _ := net.SplitHostPort(srv.Addr())
	p, _ := strconv.Atoi(port)
	min := 20 * time.Millisecond
	w := &waits{}
	c, err := smppconn.New("dropping", smppconn.Settings{Host: host, Port: p, SystemID: "omnigate",
		ReconnectMin: smppconn.Duration(min), ReconnectMax: smppconn.Duration(time.Minute)}, &sink{}, slog.New(w))
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	defer c.Stop(context.Background())
	for srv.Stats().Drops.Load() < drops {
		_, err := c.Send(context.Background(), submission("x", "plain"))
		if err != nil && !channel.IsTemporary(err) {
			t.Fatalf("a drop gave a permanent error: %v", err)
		}
		if err != nil {
			time.Sleep(5 * time.Millisecond) // not bound yet
		}
	}
	waitFor(t, "a reconnect after each drop", func() bool { return len(w.list()) >= drops })
	for i, d := range w.list() {
		if d < min/2 || d > min {
			t.Fatalf("reconnect %d of %v waited %v after a bind that carried traffic; want within [%v, %v]", i+1, w.list(), d, min/2, min)
		}
	}
}
