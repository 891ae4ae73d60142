package realtime_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
)

// refusal dials and expects a refusal before the upgrade: the status and
// a plain-text reason, with the connection closed after it.
func refusal(t *testing.T, rawURL, from string, status int) {
	t.Helper()
	c, resp, err := wsDial(rawURL, from)
	if err == nil {
		c.CloseNow()
		t.Fatalf("from %s: admitted, want HTTP %d", from, status)
	}
	if resp == nil || resp.StatusCode != status {
		t.Fatalf("from %s: %v %v, want HTTP %d", from, resp, err, status)
	}
	body, _ := io.ReadAll(resp.Body)
	if !resp.Close || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || len(body) == 0 {
		t.Fatalf("from %s: %d %v %q, want a plain-text reason and Connection: close", from, resp.StatusCode, resp.Header, body)
	}
}

// One address holds at most MaxConnectionsPerIP WebSockets, the node at
// most MaxSockets; both are refused before the upgrade, and a closed
// connection makes room again.
func TestConnectionLimitsBeforeUpgrade(t *testing.T) {
	b := setup(t, setupOpts{cfg: realtime.Config{MaxConnectionsPerIP: 2, MaxSockets: 3}})
	url := b.ws + "/app/" + b.app.Key + "?protocol=7"
	first := dialFrom(t, url, "127.0.0.2")
	first.expect("pusher:connection_established")
	dialFrom(t, url, "127.0.0.2").expect("pusher:connection_established")
	refusal(t, url, "127.0.0.2", http.StatusTooManyRequests)
	// (a refused socket counts until its handler has returned)
	eventually(t, "the refused socket to be given back", func() bool { return b.srv.Stats().Sockets == 2 })
	dialFrom(t, url, "127.0.0.3").expect("pusher:connection_established")
	refusal(t, url, "127.0.0.4", http.StatusServiceUnavailable)
	// Refused before the app is looked up: an unknown key gets the same.
	refusal(t, b.ws+"/app/nope?protocol=7", "127.0.0.4", http.StatusServiceUnavailable)

	st := b.srv.Stats()
	if st.Connections != 3 || st.RefusedPerIP != 1 || st.RefusedFull != 2 {
		t.Fatalf("stats %+v", st)
	}
	first.c.CloseNow()
	eventually(t, "the closed connection's socket to be given back", func() bool { return b.srv.Stats().Sockets == 2 })
	dialFrom(t, url, "127.0.0.4").expect("pusher:connection_established")
}

// An app with no limit of its own has the server's default: more
// connections are refused with 4004, as over a limit of its own.
func TestDefaultAppConnectionLimit(t *testing.T) {
	b := setup(t, setupOpts{cfg: realtime.Config{DefaultAppMaxConnections: 2}})
	own := setup(t, setupOpts{st: b.st, acct: b.acct, app: func(a *store.RealtimeApp) { a.MaxConnections = 3 }})
	b.connect(t)
	b.connect(t)
	c := dial(t, b.ws+"/app/"+b.app.Key+"?protocol=7")
	f := c.expect("pusher:error")
	if !strings.Contains(string(f.Data), "4004") || c.closed() != 4004 {
		t.Fatalf("over the default limit: %s, want 4004", f.Data)
	}
	for range 3 {
		own.connect(t) // an app's own limit wins over the default
	}
}
