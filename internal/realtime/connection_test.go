package realtime_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
)

func TestConnectPingPong(t *testing.T) {
	b := setup(t, setupOpts{})
	c := b.connect(t)
	if !strings.Contains(c.socketID, ".") {
		t.Fatalf("socket id %q", c.socketID)
	}
	c.send(map[string]any{"event": "pusher:ping", "data": map[string]any{}})
	c.expect("pusher:pong")
	// The protocol's own form: data as a string.
	c.send(map[string]any{"event": "pusher:ping", "data": "{}"})
	c.expect("pusher:pong")
	if n := b.srv.Stats().Connections; n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

func TestHandshakeRefusals(t *testing.T) {
	b := setup(t, setupOpts{})
	disabled := setup(t, setupOpts{st: b.st, acct: b.acct, app: func(a *store.RealtimeApp) { a.Enabled = false }})
	for _, tc := range []struct {
		name string
		url  string
		code realtime.Code
	}{
		{"unknown app", b.ws + "/app/nope?protocol=7", realtime.CodeUnknownApp},
		{"disabled app", b.ws + "/app/" + disabled.app.Key + "?protocol=7", realtime.CodeAppDisabled},
		{"no protocol", b.ws + "/app/" + b.app.Key, realtime.CodeNoProtocol},
		{"old protocol", b.ws + "/app/" + b.app.Key + "?protocol=3", realtime.CodeUnsupportedProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, tc.url)
			f := c.expect("pusher:error")
			var d struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			f.decode(t, &d)
			if d.Code != int(tc.code) || d.Message == "" {
				t.Fatalf("pusher:error %s, want code %d", f.Data, tc.code)
			}
			if got := c.closed(); got != websocket.StatusCode(tc.code) {
				t.Fatalf("closed with %d, want %d", got, tc.code)
			}
		})
	}
	// A refused connection of a known app is in its error log, with the IP.
	eventually(t, "the refusal in the error log", func() bool {
		errs, _ := b.st.ListRealtimeErrors(context.Background(), b.acct.ID, b.app.ID)
		return len(errs) == 2 && errs[0].IP == "127.0.0.1"
	})
}

func TestNodeCapacity(t *testing.T) {
	b := setup(t, setupOpts{cfg: realtime.Config{MaxConnections: 2}})
	b.connect(t)
	b.connect(t)
	c := dial(t, b.ws+"/app/"+b.app.Key+"?protocol=7")
	c.expect("pusher:error")
	if got := c.closed(); got != websocket.StatusCode(realtime.CodeOverCapacity) {
		t.Fatalf("closed with %d, want 4100", got)
	}
}

func TestMalformedInput(t *testing.T) {
	b := setup(t, setupOpts{cfg: realtime.Config{MaxFrameBytes: 16 << 10}})
	other := b.connect(t)
	other.subscribe("news", "", "")
	c := b.connect(t)
	for _, raw := range []string{`not json`, `[1,2]`, `{"event": 5}`, `{"data": {}}`, `{"event":"pusher:subscribe","data":"{broken"}`,
		`{"event":"pusher:subscribe","data":{"channel":"bad channel!"}}`, `{"event":"nonsense"}`, `{"event":"pusher:subscribe","data":{"channel":"` + strings.Repeat("x", 201) + `"}}`,
		"\xff\xfe"} {
		c.sendRaw(websocket.MessageText, []byte(raw))
		f := c.expect("pusher:error")
		var d struct {
			Code    *int   `json:"code"`
			Message string `json:"message"`
		}
		f.decode(t, &d)
		if d.Message == "" || d.Code != nil {
			t.Fatalf("%q: error %s, want a message and no code", raw, f.Data)
		}
	}
	c.quiet() // still connected
	// A binary frame closes with 1003 after a pusher:error.
	c.sendRaw(websocket.MessageBinary, []byte{1, 2, 3})
	c.expect("pusher:error")
	if got := c.closed(); got != websocket.StatusUnsupportedData {
		t.Fatalf("binary frame: closed with %d, want 1003", got)
	}
	// An oversized frame closes with 1009.
	big := b.connect(t)
	// The server may close before the client has written the whole frame
	// (it reads only the header): the write may then fail; the close code
	// is what counts.
	big.sendRawMayFail(websocket.MessageText, []byte(`{"event":"pusher:ping","data":"`+strings.Repeat("x", 20<<10)+`"}`))
	if got := big.closed(); got != websocket.StatusMessageTooBig {
		t.Fatalf("oversized frame: closed with %d, want 1009", got)
	}
	// Nobody else noticed.
	b.trigger(t, []string{"news"}, "still-here", "1", nil)
	if f := other.expect("still-here"); f.Channel != "news" {
		t.Fatalf("event on %q", f.Channel)
	}
	eventually(t, "the two errors in the log", func() bool {
		errs, _ := b.st.ListRealtimeErrors(context.Background(), b.acct.ID, b.app.ID)
		return len(errs) == 2
	})
}

func TestActivityTimeout(t *testing.T) {
	b := setup(t, setupOpts{cfg: realtime.Config{ActivityTimeout: time.Second, PongTimeout: 300 * time.Millisecond}})
	c := b.connect(t)
	// A client that answers pings stays.
	c.expect("pusher:ping")
	c.send(map[string]any{"event": "pusher:pong", "data": map[string]any{}})
	c.expect("pusher:ping")
	c.send(map[string]any{"event": "pusher:pong", "data": map[string]any{}})
	// One that does not is closed with 4201.
	c.expect("pusher:ping")
	c.expect("pusher:error")
	if got := c.closed(); got != websocket.StatusCode(realtime.CodePongNotReceived) {
		t.Fatalf("closed with %d, want 4201", got)
	}
}

func TestStopClosesWith4200(t *testing.T) {
	b := setup(t, setupOpts{})
	c := b.connect(t)
	c.subscribe("news", "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.closed(); got != websocket.StatusCode(realtime.CodeReconnect) {
		t.Fatalf("closed with %d, want 4200", got)
	}
	if err := b.srv.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if n := b.srv.Stats().Connections; n != 0 {
		t.Fatalf("%d connections left", n)
	}
	r := rawRequest(t, "GET", b.http.URL+"/app/"+b.app.Key+"?protocol=7", nil)
	if r.status != 503 {
		t.Fatalf("after Stop: %d, want 503", r.status)
	}
}
