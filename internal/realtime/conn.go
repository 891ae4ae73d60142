package realtime

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// conn is one client connection. Its reader is a goroutine of its own
// (runConn, started by the HTTP handler, which returns) while frames
// arrive; once it has read all that arrived it parks the connection with
// the idle poller and ends, and the poller starts a new one when the
// socket becomes readable (on Linux, for TCP; elsewhere and for TLS the
// reader waits on the socket). The reader that sees the connection end
// cleans up. Its writer is a goroutine that runs only while the outbox
// holds frames (an idle connection has no writer), writing all that is
// queued at once. Nothing else writes events to the socket (the WebSocket
// library writes its control frames through wire).
type conn struct {
	srv       *Server
	ws        *websocket.Conn
	wire      *wireConn
	appID     string
	accountID string
	socketID  string
	ip        string

	// ended: the connection is over (end). It replaces a context per
	// connection, whose cancel state, Done channel and the AfterFunc that
	// acted on its end were about 0.6 KiB of every idle connection's heap.
	ended atomic.Bool

	// The outbox: frames waiting for the writer, bounded in count and
	// bytes. A client that falls further behind is cut off (4100) so that
	// delivery never waits for it.
	mu          sync.Mutex
	queue       [][]byte
	queued      int
	closing     bool
	closeCode   Code
	closeMsg    string
	writing     bool           // a writer is running
	readerEnded bool           // the reader has ended: no writer may start
	writers     sync.WaitGroup // the writer, while it runs

	lastRead atomic.Int64 // unix nanoseconds of the last frame read
	pingSent atomic.Int64 // when the server pinged; 0 when answered

	// parked: no reader runs; the idle poller or the end of ctx starts
	// one (wake). Setting it hands the fields below to the next reader.
	parked atomic.Bool

	// Used by the reader goroutine only (userID is also read by hub
	// methods it calls).
	pollID    uint64 // the idle poller's name for the connection; 0 before it parks
	admitted  bool   // registered in the hub: cleanup unregisters it
	deltaOn   bool   // pusher:enable_delta_compression was sent
	addr      netip.Addr
	subs      map[string]*subscription
	userID    string
	watchlist []string // user ids whose online state this connection follows
	bucket    tokenBucket
}

// subscription is a channel a connection subscribed to.
type subscription struct {
	kind   channelKind
	userID string // presence: the member this connection is
}

// newSocketID makes a Pusher socket id: two random decimal numbers.
func newSocketID() string {
	var b [8]byte
	rand.Read(b[:])
	a := binary.BigEndian.Uint32(b[:4]) % 1_000_000_000
	c := binary.BigEndian.Uint32(b[4:]) % 1_000_000_000
	return strconv.FormatUint(uint64(a), 10) + "." + strconv.FormatUint(uint64(c), 10)
}

// send queues a frame. It never blocks; it returns false when the
// connection is closing, or has just been cut off for falling behind.
func (c *conn) send(frame []byte) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	if len(c.queue) >= c.srv.cfg.SendQueueFrames || c.queued+len(frame) > c.srv.cfg.SendQueueBytes {
		c.closing, c.closeCode, c.closeMsg = true, CodeOverCapacity, "Client too slow: send queue full"
		c.queue, c.queued = nil, 0
		c.mu.Unlock()
		c.srv.logError(c, CodeOverCapacity, c.closeMsg)
		// The writer may be stuck on the socket: ending aborts its
		// write and the reader's read, and the reader cleans up.
		c.end()
		return false
	}
	c.queue = append(c.queue, frame)
	c.queued += len(frame)
	c.startWriterLocked()
	c.mu.Unlock()
	return true
}

// startWriterLocked starts the writer unless it runs (c.mu held).
func (c *conn) startWriterLocked() {
	if c.writing || c.readerEnded {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.writeLoop()
}

// endWriters lets no writer start again and waits for the one running.
func (c *conn) endWriters() {
	c.mu.Lock()
	c.readerEnded = true
	c.mu.Unlock()
	c.writers.Wait()
}

// closeWith sends what is queued, then closes the connection with code.
func (c *conn) closeWith(code Code, message string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing, c.closeCode, c.closeMsg = true, code, message
	c.startWriterLocked()
	c.mu.Unlock()
}

// fail sends pusher:error with code and closes with it.
func (c *conn) fail(code Code, message string) {
	if message == "" {
		message = code.info().Message
	}
	c.srv.logError(c, code, message)
	c.send(errorFrame(code, message))
	c.closeWith(code, message)
}

func (c *conn) isClosing() (bool, Code, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing, c.closeCode, c.closeMsg
}

// writeLoop drains the outbox, several frames per system call, and ends
// when it is empty (send starts it again) or the connection ends.
func (c *conn) writeLoop() {
	defer c.writers.Done()
	for {
		c.mu.Lock()
		frames, closing, code, msg := c.queue, c.closing, c.closeCode, c.closeMsg
		c.queue, c.queued = nil, 0
		if len(frames) == 0 && !closing {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		if len(frames) > 0 {
			if err := c.wire.writeFrames(&c.ended, frames); err != nil {
				c.mu.Lock()
				c.readerEnded, c.writing, c.queue, c.queued = true, false, nil, 0
				c.mu.Unlock()
				c.end()
				return
			}
		}
		if closing {
			// Close waits (up to 5 s) for the client's close frame, which
			// the reader receives.
			c.ws.Close(websocket.StatusCode(code), truncateReason(msg))
			c.end()
			c.mu.Lock()
			c.readerEnded, c.writing = true, false
			c.mu.Unlock()
			return
		}
	}
}

// truncateReason fits a close reason in a control frame (123 bytes).
func truncateReason(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

// serve reads frames until the socket has nothing more to read, then
// parks the connection, or until the connection ends, then cleans up.
// A reader woken by the poller reads first: the socket has something.
func (c *conn) serve(woken bool) {
	if c.readLoop(woken) {
		return
	}
	c.srv.finish(c)
}

// readLoop reads frames until it parks the connection (true) or the
// connection ends (false).
func (c *conn) readLoop(woken bool) bool {
	for {
		if !woken && c.park() {
			return true
		}
		woken = false
		// Read without a context that can end: given one, the library
		// registers and removes a callback on it for every message (4 %
		// of the CPU of presence churn). end sets a past read deadline
		// instead, which fails a read in progress or to come; what is
		// already buffered is not read after it.
		if c.ended.Load() {
			return false
		}
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				c.srv.logError(c, CodeMessageTooBig, CodeMessageTooBig.info().Message)
			}
			return false
		}
		now := time.Now().UnixNano()
		c.lastRead.Store(now)
		c.pingSent.Store(0)
		if closing, _, _ := c.isClosing(); closing {
			continue // read on until the close handshake ends
		}
		if typ != websocket.MessageText {
			c.fail(CodeUnsupportedData, "")
			continue
		}
		c.handle(data)
	}
}

// park hands the connection to the idle poller when all that arrived has
// been read, and reports whether it did: the caller's goroutine must then
// end at once, since the next reader may already run.
func (c *conn) park() bool {
	p := c.srv.idle
	if p == nil || c.wire.raw == nil {
		return false
	}
	// Once closing, the writer's close handshake reads the socket through
	// the library's buffer: the reader stays in its read, as it did
	// before parking existed, and leaves the buffer alone. closing is set
	// under c.mu before that writer starts.
	c.mu.Lock()
	idle := !c.closing && c.wire.drained()
	c.mu.Unlock()
	if !idle {
		return false
	}
	add := p.register(c) // before parked: the next reader may read what it sets
	c.parked.Store(true)
	if !c.ended.Load() && p.arm(c, add) {
		return true
	}
	// Ending, or the socket cannot be watched: read on here, unless the
	// end of ctx has already started another reader.
	return !c.parked.CompareAndSwap(true, false)
}

// end ends the connection (cut off, failed write, the server's stop, the
// reader's cleanup), once: a write in progress is aborted, a read in
// progress or to come fails, and a parked connection gets a reader, which
// cleans up.
func (c *conn) end() {
	if !c.ended.CompareAndSwap(false, true) {
		return
	}
	c.wire.Conn.SetWriteDeadline(time.Unix(1, 0))
	c.wire.Conn.SetReadDeadline(time.Unix(1, 0))
	c.wake()
}

// wake starts a reader for a parked connection: its socket is readable,
// or it is ending (the reader's read then fails, and it cleans up).
func (c *conn) wake() {
	if c.parked.CompareAndSwap(true, false) {
		c.srv.readers.run(c)
	}
}

// handle acts on one text frame.
func (c *conn) handle(data []byte) {
	f, err := ParseFrame(data)
	if err != nil {
		c.send(errorFrame(0, "Invalid message: "+err.Error()))
		return
	}
	switch f.Event {
	case "pusher:ping":
		c.send(pongFrame)
	case "pusher:pong":
	case "pusher:subscribe":
		c.subscribe(f)
	case "pusher:unsubscribe":
		c.unsubscribe(f)
	case "pusher:signin":
		c.signin(f)
	case "pusher:enable_delta_compression":
		c.enableDelta(f)
	case "pusher:delta_sync_error":
		c.deltaSyncError(f)
	default:
		if len(f.Event) > len("client-") && f.Event[:len("client-")] == "client-" {
			c.clientEvent(f)
			return
		}
		c.send(errorFrame(0, "Unsupported event: "+truncateReason(f.Event)))
	}
}

var pongFrame = encodeFrame("pusher:pong", "", jsonString("{}"), "")
var pingFrame = encodeFrame("pusher:ping", "", jsonString("{}"), "")

// keepAlive is called periodically: it pings a silent client and closes
// one that did not answer.
func (c *conn) keepAlive(now time.Time) {
	if sent := c.pingSent.Load(); sent != 0 {
		if now.Sub(time.Unix(0, sent)) > c.srv.cfg.PongTimeout {
			c.fail(CodePongNotReceived, "")
		}
		return
	}
	if now.Sub(time.Unix(0, c.lastRead.Load())) > c.srv.cfg.ActivityTimeout {
		c.pingSent.Store(now.UnixNano())
		c.send(pingFrame)
	}
}
