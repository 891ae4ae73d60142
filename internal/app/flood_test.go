package app

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/connlimit"
)

// dialerFrom dials from a local address of its own (the loopback network
// is 127.0.0.0/8): each stands for another client.
func dialerFrom(ip string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
}

// wsFrom opens a Pusher connection from ip; it returns the connection once
// established, or the HTTP status it was refused with before the upgrade.
func wsFrom(t *testing.T, s *server, key, ip string) (*websocket.Conn, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DialContext: dialerFrom(ip).DialContext, DisableKeepAlives: true}}
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/app/"+key+"?protocol=7", &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		if resp == nil {
			t.Fatalf("a connection from %s: %v", ip, err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { c.CloseNow() })
	wsExpect(t, c, "pusher:connection_established")
	return c, 0
}

// rawFrom opens a TCP connection from ip and, when request is set, sends
// it and reads the answer.
func rawFrom(t *testing.T, s *server, ip, request string) (net.Conn, *http.Response, []byte) {
	t.Helper()
	c, err := dialerFrom(ip).Dial("tcp", s.app.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if request == "" {
		return c, nil, nil
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q from %s: %v", request, ip, err)
	}
	body, _ := io.ReadAll(resp.Body)
	return c, resp, body
}

// A flood of WebSockets from one address, then from several, with the
// limits lowered by configuration: 5 WebSockets per address, 8 TCP
// connections per address, and a reserve that leaves WebSockets 20 of
// the process's file descriptors. One address gets its 5 and 429s; the
// others fill the 20 and get 503s; the SMS API answers throughout; and
// an address over its TCP connections is answered 429 in the API's
// format (plain text on realtime paths).
func TestConnectionLimits(t *testing.T) {
	fl, err := connlimit.RaiseFileLimit()
	if err != nil || !fl.Known {
		t.Skip("no open files limit here:", err)
	}
	engines(t, func(t *testing.T, engine string) {
		const wsPerIP, httpPerIP, wsBudget = 5, 8, 20
		s := start(t, engine, func(c *Config) {
			c.WSConnsPerIP, c.HTTPConnsPerIP = wsPerIP, httpPerIP
			c.FDReserve = int(fl.Soft) - wsBudget
		})
		r := s.do("POST", "/realtime/apps", s.key, "application/json", []byte(`{"name":"chat"}`))
		if r.status != 201 {
			t.Fatalf("create app: %d %s", r.status, r.raw)
		}
		key := r.json["key"].(string)

		// One address: its 5, then 429.
		open := 0
		for range 8 {
			if c, status := wsFrom(t, s, key, "127.0.0.2"); c != nil {
				open++
			} else if status != http.StatusTooManyRequests {
				t.Fatalf("over the per-address limit: HTTP %d, want 429", status)
			}
		}
		if open != wsPerIP {
			t.Fatalf("%d WebSockets from one address, want %d", open, wsPerIP)
		}
		// More addresses fill the WebSockets' share of descriptors; beyond
		// it, 503.
		full := 0
		for i := 3; i < 8; i++ {
			for range wsPerIP {
				if c, status := wsFrom(t, s, key, "127.0.0."+strconv.Itoa(i)); c != nil {
					open++
				} else if status == http.StatusServiceUnavailable {
					full++
				} else {
					t.Fatalf("beyond the WebSockets' descriptors: HTTP %d, want 503", status)
				}
			}
		}
		if open != wsBudget || full != 5*wsPerIP-(wsBudget-wsPerIP) {
			t.Fatalf("%d WebSockets open and %d refused with 503, want %d open", open, full, wsBudget)
		}

		// The SMS API answers.
		if r := s.do("GET", "/healthz", "", "", nil); r.status != 200 {
			t.Fatalf("/healthz during the flood: %d", r.status)
		}
		if r := s.get("/balance"); r.status != 200 || r.json["amount"] == nil {
			t.Fatalf("GET /balance during the flood: %d %s", r.status, r.raw)
		}
		s.send(map[string]any{"originator": "Acme", "recipients": []string{"31612345678"}, "body": "still answering"})

		// TCP connections per address: 8 held, the next answered 429 in
		// MessageBird's format, or the Pusher HTTP API's on its paths.
		for range httpPerIP {
			rawFrom(t, s, "127.0.0.9", "")
		}
		_, resp, body := rawFrom(t, s, "127.0.0.9", "GET /balance HTTP/1.1\r\nHost: x\r\nAuthorization: AccessKey "+s.key+"\r\n\r\n")
		var mb struct {
			Errors []struct {
				Code        int    `json:"code"`
				Description string `json:"description"`
			} `json:"errors"`
		}
		if resp.StatusCode != 429 || json.Unmarshal(body, &mb) != nil || len(mb.Errors) != 1 || mb.Errors[0].Code != 26 {
			t.Fatalf("over the TCP connections of an address: %d %s, want 429 code 26", resp.StatusCode, body)
		}
		_, resp, body = rawFrom(t, s, "127.0.0.9", "GET /app/"+key+"?protocol=7 HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp.StatusCode != 429 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), "Too many connections") {
			t.Fatalf("over the TCP connections of an address, on a realtime path: %d %s", resp.StatusCode, body)
		}
		if r := s.get("/metrics"); !strings.Contains(string(r.raw), `omnigate_connections_refused_total{listener="api",reason="http_per_ip"} 2`) ||
			!strings.Contains(string(r.raw), `omnigate_connections_refused_total{listener="api",reason="ws_full"} 10`) ||
			!strings.Contains(string(r.raw), `omnigate_connections_refused_total{listener="api",reason="ws_per_ip"} 3`) {
			t.Errorf("the refusals are not in /metrics")
		}
	})
}

// An app without a limit of its own has the server's default
// (Config.AppMaxConnections); one with a limit keeps its own.
func TestDefaultAppConnections(t *testing.T) {
	s := start(t, "sqlite", func(c *Config) { c.AppMaxConnections = 2 })
	r := s.do("POST", "/realtime/apps", s.key, "application/json", []byte(`{"name":"default"}`))
	if r.status != 201 || r.json["max_connections"] != 0.0 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	key := r.json["key"].(string)
	wsExpect(t, wsDial(t, s, key), "pusher:connection_established")
	wsExpect(t, wsDial(t, s, key), "pusher:connection_established")
	if code := wsClosed(t, wsDial(t, s, key)); code != 4004 {
		t.Fatalf("over the default limit: close %d, want 4004", code)
	}
	r = s.do("POST", "/realtime/apps", s.key, "application/json", []byte(`{"name":"own","max_connections":3}`))
	for range 3 {
		wsExpect(t, wsDial(t, s, r.json["key"].(string)), "pusher:connection_established")
	}
}

// Over HTTPS, a connection over the per-address limit is answered 429
// over TLS too.
func TestConnectionLimitTLS(t *testing.T) {
	certFile, keyFile, roots := selfSigned(t, t.TempDir())
	s := start(t, "sqlite", func(c *Config) { c.TLSCert, c.TLSKey, c.HTTPConnsPerIP = certFile, keyFile, 1 })
	hold, _, _ := rawFrom(t, s, "127.0.0.2", "")
	defer hold.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DialContext: dialerFrom("127.0.0.2").DialContext}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Get(s.app.URL() + "/balance")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || !strings.Contains(string(body), `"code":26`) {
		t.Fatalf("over the limit, over TLS: %d %s", resp.StatusCode, body)
	}
}
