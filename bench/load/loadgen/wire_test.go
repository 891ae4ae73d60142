package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The lean client against net/http's server, an independent peer.
func TestWireConnAgainstNetHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, "%s %s %s %s", r.Method, r.URL.RawQuery, r.Header.Get("Authorization"), body)
		case "/chunked":
			w.Write([]byte("part one, "))
			w.(http.Flusher).Flush() // forces chunked encoding
			w.Write([]byte("part two"))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	c := &wireConn{addr: strings.TrimPrefix(srv.URL, "http://")}
	defer c.close()
	do := func(method, path, body string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, rd)
		req.Header.Set("Authorization", "AccessKey k")
		var raw bytes.Buffer
		if err := req.Write(&raw); err != nil { // net/http's own encoding
			t.Fatal(err)
		}
		deadline, _ := ctx.Deadline()
		status, got, err := c.do(ctx, raw.Bytes(), deadline, 1<<20)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return status, string(got)
	}
	for range 3 { // the same connection, kept alive
		if st, b := do("POST", "/echo?x=1", `{"a":1}`); st != 201 || b != `POST x=1 AccessKey k {"a":1}` {
			t.Fatalf("echo: %d %q", st, b)
		}
	}
	if st, b := do("GET", "/chunked", ""); st != 200 || b != "part one, part two" {
		t.Fatalf("chunked: %d %q", st, b)
	}
	if st, b := do("GET", "/close", ""); st != 200 || b != "bye" || c.c != nil {
		t.Fatalf("close: %d %q, connection kept: %v", st, b, c.c != nil)
	}
	if st, b := do("GET", "/empty", ""); st != 204 || b != "" {
		t.Fatalf("empty: %d %q", st, b)
	}
	// The server drops idle connections: the next request dials again.
	srv.CloseClientConnections()
	if st, _ := do("POST", "/echo", "again"); st != 201 {
		t.Fatalf("after the server closed the idle connection: %d", st)
	}
}

// The lean report server against net/http's client, an independent peer.
func TestWireServerAgainstNetHTTP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	s := serveWire(l, func(rawQuery string) int {
		if queryValue(rawQuery, "rid") == "" {
			return http.StatusBadRequest
		}
		got.Add(1)
		return http.StatusOK
	})
	defer s.stop(context.Background())
	base := "http://" + l.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second}
	for _, tc := range []struct {
		method, path string
		body         io.Reader
		want         int
	}{
		{"GET", "/report?rid=1&recipient=31612345678&status=delivered", nil, 200},
		{"POST", "/report?rid=2", strings.NewReader("form=body"), 200},
		{"POST", "/report?rid=3", io.MultiReader(strings.NewReader("chunked "), strings.NewReader("body")), 200}, // unknown length: chunked
		{"GET", "/report", nil, 400},
		{"GET", "/elsewhere?rid=1", nil, 404},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, tc.body)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%s %s: %d %q, want %d", tc.method, tc.path, resp.StatusCode, b, tc.want)
		}
	}
	if got.Load() != 3 {
		t.Fatalf("%d reports handled, want 3", got.Load())
	}
	// HTTP/1.0 without keep-alive, pipelined requests, and a malformed line.
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /report?rid=7 HTTP/1.1\r\nHost: x\r\n\r\nGET /report?rid=8 HTTP/1.1\r\nHost: x\r\n\r\nGET /report?rid=9 HTTP/1.0\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	all, _ := io.ReadAll(c) // HTTP/1.0: the server closes after the third
	if n := strings.Count(string(all), "HTTP/1.1 200 OK"); n != 3 {
		t.Fatalf("pipelined: %d answers in %q", n, all)
	}
	c2, _ := net.Dial("tcp", l.Addr().String())
	defer c2.Close()
	fmt.Fprintf(c2, "NONSENSE\r\n\r\n")
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c2).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 400") {
		t.Fatalf("malformed request line: %q", line)
	}
}

// FuzzWireRequest feeds arbitrary bytes to the report server's parser: it
// answers or refuses, and never panics or reads past what it was given.
func FuzzWireRequest(f *testing.F) {
	f.Add([]byte("GET /report?rid=1 HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("POST /report?rid=1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"))
	f.Add([]byte("POST /report HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc"))
	f.Add([]byte("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &wireServer{handle: func(string) int { return http.StatusOK }}
		br := bufio.NewReaderSize(bytes.NewReader(in), 4<<10)
		var out bytes.Buffer
		bw := bufio.NewWriter(&out)
		for range 10 {
			if _, _, err := s.one(br, bw); err != nil {
				break
			}
		}
	})
}
