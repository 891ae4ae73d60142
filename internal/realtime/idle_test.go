package realtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/realtime"
)

// rawWS is a client speaking WebSocket by hand on a bare TCP socket, so
// that it holds no goroutine: counting the process's goroutines then
// counts the server's.
type rawWS struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, wsURL string) *rawWS {
	t.Helper()
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	c := &rawWS{t: t, nc: nc, br: bufio.NewReader(nc)}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	status, err := c.br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		t.Fatalf("handshake: %q, %v", status, err)
	}
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	return c
}

// event reads the next text frame (unmasked, short: the server's) and
// returns its event name.
func (c *rawWS) event() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var h [2]byte
	if _, err := c.br.Read(h[:1]); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.br.Read(h[1:]); err != nil {
		c.t.Fatal(err)
	}
	if h[0] != 0x81 || h[1] >= 126 {
		c.t.Fatalf("frame header % x: want a short text frame", h)
	}
	p := make([]byte, h[1])
	for n := 0; n < len(p); {
		m, err := c.br.Read(p[n:])
		if err != nil {
			c.t.Fatal(err)
		}
		n += m
	}
	var f struct{ Event string }
	if err := json.Unmarshal(p, &f); err != nil {
		c.t.Fatalf("frame %q: %v", p, err)
	}
	return f.Event
}

// sendText writes a masked text frame (short).
func (c *rawWS) sendText(s string) {
	c.t.Helper()
	mask := [4]byte{1, 2, 3, 4}
	b := append([]byte{0x81, 0x80 | byte(len(s))}, mask[:]...)
	for i := 0; i < len(s); i++ {
		b = append(b, s[i]^mask[i%4])
	}
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// TestIdleConnectionsHoldNoGoroutine: on Linux an idle connection is
// parked with the idle poller and has no goroutine; a frame arriving
// wakes it (ping, pong), it parks again, and a client going away ends it.
func TestIdleConnectionsHoldNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the idle poller is Linux only")
	}
	b := setup(t, setupOpts{})
	const n = 60
	settle := func() int {
		time.Sleep(50 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	base := settle()
	clients := make([]*rawWS, n)
	for i := range clients {
		clients[i] = dialRaw(t, b.ws+"/app/"+b.app.Key+"?protocol=7")
		if ev := clients[i].event(); ev != "pusher:connection_established" {
			t.Fatalf("got %s", ev)
		}
	}
	eventually(t, "idle connections to give up their goroutines", func() bool {
		return settle()-base < n/4
	})
	for round := 0; round < 2; round++ {
		for _, c := range clients {
			c.sendText(`{"event":"pusher:ping","data":{}}`)
		}
		for _, c := range clients {
			if ev := c.event(); ev != "pusher:pong" {
				t.Fatalf("round %d: got %s, want pusher:pong", round, ev)
			}
		}
		eventually(t, "woken connections to park again", func() bool {
			return settle()-base < n/4
		})
	}
	if got := b.srv.Stats().Connections; got != n {
		t.Fatalf("%d connections, want %d", got, n)
	}
	for _, c := range clients[:n/2] {
		c.nc.Close()
	}
	eventually(t, "closed sockets to end their connections", func() bool {
		return b.srv.Stats().Connections == n-n/2
	})
}

// TestTLSConnectionsKeepTheirReader: a connection over TLS terminated by
// the server cannot be watched by the idle poller (tls.Conn buffers what
// it decrypts), so it keeps a reader goroutine and works as before.
func TestTLSConnectionsKeepTheirReader(t *testing.T) {
	b := setup(t, setupOpts{})
	ts := httptest.NewTLSServer(b.srv.Handler())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(ts.URL, "https")+"/app/"+b.app.Key+"?protocol=7",
		&websocket.DialOptions{HTTPClient: ts.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	read := func() string {
		_, p, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var f struct{ Event string }
		json.Unmarshal(p, &f)
		return f.Event
	}
	if ev := read(); ev != "pusher:connection_established" {
		t.Fatalf("got %s", ev)
	}
	for i := 0; i < 3; i++ {
		time.Sleep(20 * time.Millisecond)
		if err := ws.Write(ctx, websocket.MessageText, []byte(`{"event":"pusher:ping","data":{}}`)); err != nil {
			t.Fatal(err)
		}
		if ev := read(); ev != "pusher:pong" {
			t.Fatalf("got %s, want pusher:pong", ev)
		}
	}
	ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, "the TLS connection to end", func() bool { return b.srv.Stats().Connections == 0 })
}

// TestCutOffReaderMidFrame: the reader does not read with the connection's
// context, so ending the connection must fail a read in progress some
// other way (a past read deadline). A client that sent half a frame, its
// reader waiting for the rest, is cut off for falling behind (an event
// over its outbox's bytes): the connection must still end and be cleaned
// up, though the client never sends another byte.
func TestCutOffReaderMidFrame(t *testing.T) {
	b := setup(t, setupOpts{cfg: realtime.Config{SendQueueBytes: 1024}})
	c := dialRaw(t, b.ws+"/app/"+b.app.Key+"?protocol=7")
	if ev := c.event(); ev != "pusher:connection_established" {
		t.Fatalf("got %s", ev)
	}
	c.sendText(`{"event":"pusher:subscribe","data":{"channel":"news"}}`)
	if ev := c.event(); ev != "pusher_internal:subscription_succeeded" {
		t.Fatalf("got %s", ev)
	}
	// A masked text frame announcing 100 bytes, of which 3 are sent.
	if _, err := c.nc.Write([]byte{0x81, 0x80 | 100, 1, 2, 3, 4, 'a', 'b', 'c'}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the reader wakes and waits for the rest
	b.trigger(t, []string{"news"}, "big", strings.Repeat("x", 2048), nil)
	eventually(t, "the cut-off connection to end", func() bool { return b.srv.Stats().Connections == 0 })
}
