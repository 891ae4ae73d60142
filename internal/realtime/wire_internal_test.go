package realtime

import (
	"bytes"
	"context"
	"crypto/tls"
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
