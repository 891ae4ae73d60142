package connlimit_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/connlimit"
)

func TestLimiter(t *testing.T) {
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	l := connlimit.NewLimiter(2, nil)
	if !l.Acquire(a) || !l.Acquire(a) {
		t.Fatal("the first two of an address refused")
	}
	if l.Acquire(a) {
		t.Fatal("a third of an address admitted over a limit of 2")
	}
	if !l.Acquire(b) {
		t.Fatal("another address refused: limits are per address")
	}
	l.Release(a)
	if l.Count(a) != 1 || !l.Acquire(a) {
		t.Fatal("a released slot is not free again")
	}
	// The IPv4-mapped form is the same address.
	if l.Acquire(netip.MustParseAddr("::ffff:192.0.2.1")) {
		t.Fatal("an IPv4-mapped IPv6 address counted apart from its IPv4 address")
	}
	for range 3 {
		l.Release(a)
	}
	if l.Count(a) != 0 {
		t.Fatalf("count %d after releasing everything", l.Count(a))
	}
}

// IPv6 addresses count by /64: one subscriber usually has a whole /64,
// and would otherwise have 2^64 limits.
func TestLimiterIPv6(t *testing.T) {
	l := connlimit.NewLimiter(1, nil)
	if !l.Acquire(netip.MustParseAddr("2001:db8:1:2::1")) {
		t.Fatal("refused the first")
	}
	if l.Acquire(netip.MustParseAddr("2001:db8:1:2:ffff::9")) {
		t.Fatal("another address of the same /64 admitted over the limit")
	}
	if !l.Acquire(netip.MustParseAddr("2001:db8:1:3::1")) {
		t.Fatal("another /64 refused")
	}
}

func TestLimiterExemptAndOff(t *testing.T) {
	exempt, err := connlimit.ParsePrefixes(" 10.0.0.5, 192.168.0.0/16 ,::1")
	if err != nil || len(exempt) != 3 {
		t.Fatalf("ParsePrefixes: %v %v", exempt, err)
	}
	l := connlimit.NewLimiter(1, exempt)
	for _, s := range []string{"10.0.0.5", "192.168.44.3", "::1"} {
		for range 5 {
			if !l.Acquire(netip.MustParseAddr(s)) {
				t.Fatalf("exempt %s refused", s)
			}
		}
	}
	if !l.Acquire(netip.MustParseAddr("10.0.0.6")) || l.Acquire(netip.MustParseAddr("10.0.0.6")) {
		t.Fatal("an address outside the exempt prefixes is not limited")
	}
	off := connlimit.NewLimiter(0, nil)
	for range 100 {
		if !off.Acquire(netip.MustParseAddr("10.0.0.6")) {
			t.Fatal("a limit of 0 refused")
		}
	}
	for _, bad := range []string{"10.0.0.300", "example.com", "10.0.0.0/33"} {
		if _, err := connlimit.ParsePrefixes(bad); err == nil {
			t.Errorf("ParsePrefixes(%q) accepted", bad)
		}
	}
}

func TestGate(t *testing.T) {
	g := connlimit.NewGate(3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g.Acquire() {
				mu.Lock()
				got++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if got != 3 || g.Held() != 3 {
		t.Fatalf("%d acquired, %d held, of a gate of 3", got, g.Held())
	}
	g.Release()
	if !g.Acquire() || g.Acquire() {
		t.Fatal("a released place is not free again, or the gate went over")
	}
	if open := connlimit.NewGate(0); !open.Acquire() || open.Held() != 1 {
		t.Fatal("a gate of 0 must admit and count")
	}
}

// The reserve: a quarter of the limit, at most 1024; WebSockets get the
// rest, and a reserve that leaves them too few is refused.
func TestReserve(t *testing.T) {
	for limit, want := range map[int]int{256: 64, 4096: 1024, 20000: 1024, 1 << 20: 1024} {
		if got := connlimit.DefaultReserve(limit); got != want {
			t.Errorf("DefaultReserve(%d) = %d, want %d", limit, got, want)
		}
	}
	if b, err := connlimit.Budget(20000, 1024); err != nil || b != 18976 {
		t.Errorf("Budget(20000, 1024) = %d, %v", b, err)
	}
	for _, c := range [][2]int{{100, 90}, {100, 100}, {100, 200}, {100, -1}} {
		if _, err := connlimit.Budget(c[0], c[1]); err == nil {
			t.Errorf("Budget(%d, %d) accepted", c[0], c[1])
		}
	}
}

func TestRaiseFileLimit(t *testing.T) {
	l, err := connlimit.RaiseFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	if !l.Known {
		t.Skip("no open files limit on this platform")
	}
	if l.Soft != l.Hard || l.Before > l.Soft {
		t.Fatalf("after raising: %+v, want the soft limit at the hard one", l)
	}
}

// A listener of at most 2 connections per address: the third is not
// returned by Accept but answered through Over, and closing one admits
// another.
func TestListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var refused []netip.Addr
	var mu sync.Mutex
	ln := connlimit.NewListener(inner, connlimit.NewLimiter(2, nil), 4, func(a netip.Addr) {
		mu.Lock()
		refused = append(refused, a)
		mu.Unlock()
	})
	t.Cleanup(func() { ln.Close() })
	over := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		http.Error(w, "too many connections", http.StatusTooManyRequests)
	})}
	go over.Serve(ln.Over())
	t.Cleanup(func() { over.Close() })
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()

	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	c1, _ := dial(), dial()
	s1 := <-accepted
	<-accepted
	third := dial()
	third.Write([]byte("GET /balance HTTP/1.1\r\nHost: x\r\n\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil {
		t.Fatalf("the connection over the limit got no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 429 || !strings.Contains(string(body), "too many connections") {
		t.Fatalf("over the limit: %d %q", resp.StatusCode, body)
	}
	select {
	case c := <-accepted:
		t.Fatalf("Accept returned a connection over the limit from %s", c.RemoteAddr())
	default:
	}
	mu.Lock()
	if len(refused) != 1 || refused[0] != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("onRefuse saw %v", refused)
	}
	mu.Unlock()

	// Closing an admitted connection (on the server's side, as a server
	// does, once or twice) frees its slot.
	c1.Close()
	s1.Close()
	s1.Close()
	dial()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("a connection within the limit was not accepted after another closed")
	}
}

// Refusals are answered a few at a time; beyond that they are closed at
// once, unanswered, so that a flood of them costs nothing.
func TestListenerAnswersBounded(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := connlimit.NewListener(inner, connlimit.NewLimiter(1, nil), 1, nil)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			if _, err := ln.Accept(); err != nil {
				return
			}
		}
	}()
	// Over is not served: the one refusal it may hold waits there.
	conns := make([]net.Conn, 3)
	for i := range conns {
		if conns[i], err = net.Dial("tcp", ln.Addr().String()); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
	}
	// conns[0] is admitted, conns[1] waits in Over, conns[2] is closed.
	conns[2].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conns[2].Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("a refusal beyond the bound: %v, want the connection closed", err)
	}
	waiting, err := ln.Over().Accept()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := waiting.RemoteAddr().String(), conns[1].LocalAddr().String(); got != want {
		t.Fatalf("Over holds %s, want %s", got, want)
	}
	waiting.Close()
	ln.Close()
	if _, err := ln.Over().Accept(); err == nil {
		t.Fatal("Over accepts after Close")
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
