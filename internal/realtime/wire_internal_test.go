package realtime

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWireFrames writes batches of frames of every header size through
// wireConn, over plain TCP (writev) and TLS (one flat write), with the
// library's own control frames in between, and reads them with the
// WebSocket library as a client.
func TestWireFrames(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 1000, 65535, 65536, 200_000}
	payloads := make([][]byte, len(sizes))
	for i, n := range sizes {
		payloads[i] = bytes.Repeat([]byte{byte('a' + i)}, n)
	}
	for _, tlsOn := range []bool{false, true} {
		name := "tcp"
		if tlsOn {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				up := &upgrader{ResponseWriter: w, writeTimeout: 5 * time.Second}
				ws, err := websocket.Accept(up, r, nil)
				if err != nil {
					t.Error(err)
					return
				}
				defer ws.CloseNow()
				ctx := context.Background()
				// Two batches, a ping from the library between them.
				if err := up.wire.writeFrames(new(atomic.Bool), payloads[:5]); err != nil {
					t.Error(err)
					return
				}
				go ws.Ping(ctx) // its pong is read by the reader below
				if err := up.wire.writeFrames(new(atomic.Bool), payloads[5:]); err != nil {
					t.Error(err)
					return
				}
				// The client's close; the library answers it.
				ws.Read(ctx)
			})
			var srv *httptest.Server
			if tlsOn {
				srv = httptest.NewTLSServer(handler)
			} else {
				srv = httptest.NewServer(handler)
			}
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			opts := &websocket.DialOptions{}
			if tlsOn {
				opts.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			}
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			c.SetReadLimit(1 << 20)
			for i, want := range payloads {
				typ, got, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("frame %d (%d bytes): %v", i, len(want), err)
				}
				if typ != websocket.MessageText || !bytes.Equal(got, want) {
					t.Fatalf("frame %d: %v of %d bytes, want text of %d", i, typ, len(got), len(want))
				}
			}
			c.Close(websocket.StatusNormalClosure, "")
		})
	}
}

// TestWireReadsHandshakeLeftover: bytes the HTTP server read past the
// handshake reach the WebSocket before the socket's.
func TestWireReadsHandshakeLeftover(t *testing.T) {
	w := &wireConn{rest: []byte("abc")}
	b := make([]byte, 2)
	if n, _ := w.Read(b); string(b[:n]) != "ab" {
		t.Fatalf("read %q", b[:n])
	}
	if n, _ := w.Read(b); string(b[:n]) != "c" || w.rest != nil {
		t.Fatalf("read %q, rest %q", b[:n], w.rest)
	}
}

// scriptedConn is a socket whose reads return the given chunks in turn,
// each with its error.
type scriptedConn struct {
	net.Conn
	reads []scriptedRead
}

type scriptedRead struct {
	data string
	err  error
}

func (c *scriptedConn) Read(p []byte) (int, error) {
	if len(c.reads) == 0 {
		return 0, io.EOF
	}
	r := c.reads[0]
	n := copy(p, r.data)
	if n < len(r.data) {
		c.reads[0].data = r.data[n:]
		return n, nil
	}
	c.reads = c.reads[1:]
	return n, r.err
}

// TestWireLendsReadBuffers: the bytes of a socket read are served in
// small reads from a lent buffer, which goes back once consumed (drained
// then holds); a read as large as a lent buffer goes straight to the
// socket; an error that came with data follows the data.
func TestWireLendsReadBuffers(t *testing.T) {
	boom := errors.New("boom")
	big := strings.Repeat("x", socketReadSize)
	sock := &scriptedConn{reads: []scriptedRead{{data: "hello world"}, {data: big}, {data: "tail", err: boom}}}
	w := &wireConn{Conn: sock}
	w.br = bufio.NewReaderSize(w, readBufferSize)
	p := make([]byte, 5)
	if n, err := w.Read(p); err != nil || string(p[:n]) != "hello" || w.lent == nil {
		t.Fatalf("read %q, %v; lent %v", p[:n], err, w.lent)
	}
	if w.drained() {
		t.Fatal("drained with bytes left")
	}
	if n, err := w.Read(make([]byte, 64)); err != nil || n != len(" world") {
		t.Fatalf("read %d, %v", n, err)
	}
	if w.lent != nil || w.rest != nil || !w.drained() {
		t.Fatalf("after consuming: lent %v, rest %q, drained %v", w.lent, w.rest, w.drained())
	}
	large := make([]byte, socketReadSize)
	if n, err := w.Read(large); err != nil || n != socketReadSize || w.lent != nil {
		t.Fatalf("large read: %d, %v, lent %v", n, err, w.lent)
	}
	if n, err := w.Read(p); err != nil || string(p[:n]) != "tail" {
		t.Fatalf("read %q, %v: the data before the error", p[:n], err)
	}
	if _, err := w.Read(p); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the error after its data", err)
	}
	if _, err := w.Read(p); !errors.Is(err, io.EOF) {
		t.Fatalf("got %v, want EOF", err)
	}
}

// wrapped is a listener's wrapper that only watches Close, as connlimit's.
type wrapped struct{ net.Conn }

func (w wrapped) NetConn() net.Conn { return w.Conn }

// TestTCPConnUnwraps: the TCP socket is found under Close-watching
// wrappers, never under TLS.
func TestTCPConnUnwraps(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if got := tcpConn(wrapped{wrapped{nc}}); got != nc {
		t.Fatalf("tcpConn(wrapped) = %v, want the TCP socket", got)
	}
	if got := tcpConn(tls.Client(wrapped{nc}, &tls.Config{})); got != nil {
		t.Fatalf("tcpConn(TLS) = %v, want nil", got)
	}
}
