package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A flood of WebSocket connections leaves the SMS API answering. A real
// `omnigate serve` runs with a hard limit of 256 open files, so that a
// flood of a few hundred connections reaches it, and at most 100
// WebSockets per address. 450 connections come from three addresses and
// are held open. The first address gets its 100 and is refused the rest
// with 429; the others fill the WebSockets' share of the descriptors
// (256 less the default reserve of 64) and are refused beyond it with 503.
// Meanwhile /healthz, GET /balance and POST /messages succeed, and once
// connections close new ones are admitted again.
//
// Before the limits, the flood took every descriptor: the server could
// no longer accept a connection ("accept4: too many open files"), and the
// API's requests went unanswered.
func TestWebSocketFlood(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Flood", "--balance", "100")
		var sender map[string]any
		e.run(&sender, "sender", "approve", "--account", acct.ID, "--originator", "Acme")
		var app rtApp
		e.run(&app, "app", "create", "--account", acct.ID, "--name", "chat")

		const nofile, perIP, wsBudget = 256, 100, 256 - 256/4
		addr := freePort(t)
		args := []string{"serve", "--http", addr, "--ws-conns-per-ip", strconv.Itoa(perIP)}
		c := exec.Command("sh", append([]string{"-c", `ulimit -n ` + strconv.Itoa(nofile) + ` && exec "$0" "$@"`, binary}, args...)...)
		c.Env = e.cmd().Env
		p := e.start(c, addr)

		wsURL := "ws://" + addr + "/app/" + app.Key + "?protocol=7"
		var held []*websocket.Conn
		t.Cleanup(func() {
			for _, c := range held {
				c.CloseNow()
			}
		})
		type tally struct{ open, tooMany, full int }
		counts := map[string]*tally{}
		for _, from := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
			n := &tally{}
			counts[from] = n
			for range 150 {
				c, status, err := wsDialFrom(from, wsURL)
				switch {
				case err == nil:
					held = append(held, c)
					n.open++
				case status == http.StatusTooManyRequests:
					n.tooMany++
				case status == http.StatusServiceUnavailable:
					n.full++
				default:
					t.Fatalf("a flood connection from %s: status %d, %v", from, status, err)
				}
			}
		}
		a, b, cc := counts["127.0.0.2"], counts["127.0.0.3"], counts["127.0.0.4"]
		if a.open != perIP || a.tooMany != 150-perIP || a.full != 0 {
			t.Errorf("the first address: %+v, want %d open and the rest refused with 429", *a, perIP)
		}
		if total := a.open + b.open + cc.open; total != wsBudget || b.full+cc.full != 300-(wsBudget-perIP) || b.tooMany+cc.tooMany != 0 {
			t.Errorf("the other addresses: %+v %+v, want %d open in all and the rest refused with 503", *b, *cc, wsBudget)
		}

		// The SMS API answers during the flood.
		api := &http.Client{Timeout: 10 * time.Second}
		get := func(path string) (int, string) {
			req, _ := http.NewRequest("GET", p.url+path, nil)
			req.Header.Set("Authorization", "AccessKey "+acct.Key)
			resp, err := api.Do(req)
			if err != nil {
				t.Fatalf("GET %s during the flood: %v", path, err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(raw)
		}
		if code, body := get("/healthz"); code != 200 {
			t.Fatalf("/healthz during the flood: %d %s", code, body)
		}
		if code, body := get("/balance"); code != 200 || !strings.Contains(body, `"amount"`) {
			t.Fatalf("GET /balance during the flood: %d %s", code, body)
		}
		if code, m, err := post(p.url, acct.Key, `{"originator":"Acme","recipients":"31612345678","body":"still here"}`); err != nil || code != 201 {
			t.Fatalf("POST /messages during the flood: %d %v %v", code, m, err)
		}
		_, metrics := get("/metrics")
		if want := `omnigate_connections_refused_total{listener="api",reason="ws_full"} ` + strconv.Itoa(b.full+cc.full); !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}

		// Connections that close make room for new ones.
		for _, c := range held[:10] {
			c.Close(websocket.StatusNormalClosure, "")
		}
		held = held[10:]
		waitFor(t, "a new connection to be admitted", 10*time.Second, func() bool {
			c, _, err := wsDialFrom("127.0.0.5", wsURL)
			if err == nil {
				held = append(held, c)
			}
			return err == nil
		})
	})
}

// wsDialFrom connects a Pusher client from a local address of its own and
// waits for pusher:connection_established; a refusal before the upgrade
// returns its HTTP status.
func wsDialFrom(from, url string) (*websocket.Conn, int, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, status, err
	}
	_, b, err := c.Read(ctx)
	var f struct{ Event string }
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil || f.Event != "pusher:connection_established" {
		c.CloseNow()
		return nil, 0, fmt.Errorf("the first frame %q, %v: want pusher:connection_established", b, err)
	}
	return c, 0, nil
}

// waitFor polls until cond holds, or fails the test after timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Limits that cannot work stop `serve` with a message naming them.
func TestServeLimitFlags(t *testing.T) {
	e := newEnv(t, "sqlite")
	addr := freePort(t)
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"", []string{"--ws-conns-per-ip", "-1"}, "ws-conns-per-ip"},
		{"OMNIGATE_HTTP_CONNS_PER_IP=lots", nil, "OMNIGATE_HTTP_CONNS_PER_IP"},
		{"", []string{"--conn-limit-exempt", "10.0.0.0/40"}, "conn-limit-exempt"},
		{"", []string{"--fd-reserve", "100000000"}, "fd-reserve"},
		{"", []string{"--realtime-http", addr}, "realtime-http"},
	} {
		var stderr strings.Builder
		c := e.cmd(append([]string{"serve", "--http", addr}, tc.args...)...)
		if tc.env != "" {
			c.Env = append(c.Env, tc.env)
		}
		c.Stderr = &stderr
		if err := c.Run(); err == nil || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("serve %v %v: %v, %q; want a failure naming %s", tc.env, tc.args, err, stderr.String(), tc.want)
		}
	}
}
