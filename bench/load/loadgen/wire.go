package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The load generator shares the cores with the system it measures, so
// what it spends per message caps what any system can show (issue 20:
// the harness ceiling). net/http costs two extra goroutine hand-offs per
// client request (its read and write loops) and a background read per
// served request; the lean HTTP/1.1 below does one write and one read a
// request on the goroutine that asked. It speaks only what the load needs:
// keep-alive requests with a Content-Length or chunked body. Config.StdHTTP
// goes back to net/http, to compare.

// maxLine bounds a request or status line and each header line.
const maxLine = 8 << 10

// maxHeaders bounds the header lines of one message.
const maxHeaders = 100

// wireConn is one worker's keep-alive connection to the target.
type wireConn struct {
	addr string // host:port
	c    net.Conn
	br   *bufio.Reader
	out  []byte // the request being sent, reused
}

// do sends raw, one encoded request (Target.AppendRequest), and reads the
// answer's status and body (at most limit bytes are kept) by deadline. A
// broken connection is dialled again on the next call.
func (w *wireConn) do(ctx context.Context, raw []byte, deadline time.Time, limit int) (status int, body []byte, err error) {
	for attempt := 0; ; attempt++ {
		reused := w.c != nil
		if w.c == nil {
			d := net.Dialer{Timeout: 5 * time.Second, Deadline: deadline}
			c, err := d.DialContext(ctx, "tcp", w.addr)
			if err != nil {
				return 0, nil, err
			}
			w.c = c
			if w.br == nil {
				w.br = bufio.NewReaderSize(c, 4<<10)
			} else {
				w.br.Reset(c)
			}
		}
		w.c.SetDeadline(deadline)
		status, body, keep, err := w.roundTrip(raw, limit)
		if err != nil {
			w.close()
			// A kept-alive connection the server closed while idle fails
			// before any answer: try once more on a new one, as net/http does.
			if reused && attempt == 0 && status == 0 && isStaleConn(err) {
				continue
			}
			return 0, nil, err
		}
		if !keep {
			w.close()
		}
		return status, body, nil
	}
}

func isStaleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection reset")
}

func (w *wireConn) close() {
	if w.c != nil {
		w.c.Close()
		w.c = nil
	}
}

// roundTrip writes an encoded request and reads one response.
func (w *wireConn) roundTrip(raw []byte, limit int) (status int, body []byte, keep bool, err error) {
	if _, err := w.c.Write(raw); err != nil {
		return 0, nil, false, err
	}
	line, err := readLine(w.br)
	if err != nil {
		return 0, nil, false, err
	}
	proto, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(rest) < 3 {
		return 0, nil, false, fmt.Errorf("malformed status line %q", line)
	}
	if status, ok = atoi3(rest[:3]); !ok {
		return 0, nil, false, fmt.Errorf("malformed status line %q", line)
	}
	http11 := string(proto) == "HTTP/1.1"
	h, err := readHeaders(w.br)
	if err != nil {
		return status, nil, false, err
	}
	keep = http11 && !h.close
	switch {
	case h.chunked:
		body, err = readChunked(w.br, limit)
	case h.length >= 0:
		body, err = readN(w.br, h.length, limit)
	case status == http.StatusNoContent || status == http.StatusNotModified || status < 200:
	default: // the body runs to the end of the connection
		keep = false
		body, err = io.ReadAll(io.LimitReader(w.br, int64(limit)))
	}
	return status, body, keep, err
}

// header is what the lean HTTP reads of a header block.
type header struct {
	length      int // -1: not given
	chunked     bool
	close       bool
	keep        bool // Connection: keep-alive (HTTP/1.0)
	continue100 bool
}

// readLine reads one line without its CR LF. The line is only valid until
// the next read from br.
func readLine(br *bufio.Reader) ([]byte, error) {
	b, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) || len(b) >= maxLine {
			return nil, errors.New("line too long")
		}
		return nil, err
	}
	return bytes.TrimRight(b, "\r\n"), nil
}

// atoi3 reads a three-digit status code.
func atoi3(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) == 3
}

func readHeaders(br *bufio.Reader) (header, error) {
	h := header{length: -1}
	for n := 0; ; n++ {
		if n > maxHeaders {
			return h, errors.New("too many header lines")
		}
		line, err := readLine(br)
		if err != nil {
			return h, err
		}
		if len(line) == 0 {
			return h, nil
		}
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return h, fmt.Errorf("malformed header line %q", line)
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			n, err := strconv.Atoi(string(v))
			if err != nil || n < 0 {
				return h, fmt.Errorf("bad Content-Length %q", v)
			}
			h.length = n
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(v, []byte("chunked")) {
				return h, fmt.Errorf("unsupported Transfer-Encoding %q", v)
			}
			h.chunked = true
		case bytes.EqualFold(k, []byte("Connection")):
			for tok := range bytes.SplitSeq(v, []byte{','}) {
				tok = bytes.TrimSpace(tok)
				switch {
				case bytes.EqualFold(tok, []byte("close")):
					h.close = true
				case bytes.EqualFold(tok, []byte("keep-alive")):
					h.keep = true
				}
			}
		case bytes.EqualFold(k, []byte("Expect")):
			h.continue100 = bytes.EqualFold(v, []byte("100-continue"))
		}
	}
}

// readN reads an n-byte body, keeping at most limit bytes.
func readN(br *bufio.Reader, n, limit int) ([]byte, error) {
	keep := min(n, limit)
	body := make([]byte, keep)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, err
	}
	if n > keep {
		if _, err := br.Discard(n - keep); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// readChunked reads a chunked body and its trailers, keeping at most limit
// bytes.
func readChunked(br *bufio.Reader, limit int) ([]byte, error) {
	var body []byte
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		size, _, _ := bytes.Cut(line, []byte{';'})
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 32)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			for {
				line, err := readLine(br)
				if err != nil {
					return nil, err
				}
				if len(line) == 0 {
					return body, nil
				}
			}
		}
		chunk, err := readN(br, int(n), max(0, limit-len(body)))
		if err != nil {
			return nil, err
		}
		body = append(body, chunk...)
		if line, err := readLine(br); err != nil || len(line) != 0 {
			return nil, errors.New("chunk not followed by CRLF")
		}
	}
}

// wireServer serves status reports: one goroutine a connection, one read
// and one write a request (answers to pipelined requests leave together).
type wireServer struct {
	l       net.Listener
	handle  func(rawQuery string) (status int)
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
	idleFor time.Duration
}

func serveWire(l net.Listener, handle func(rawQuery string) int) *wireServer {
	s := &wireServer{l: l, handle: handle, conns: map[net.Conn]struct{}{}, idleFor: 30 * time.Second}
	s.wg.Add(1)
	go s.accept()
	return s
}

func (s *wireServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

func (s *wireServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReaderSize(c, 4<<10)
	bw := bufio.NewWriterSize(c, 4<<10)
	for {
		c.SetReadDeadline(time.Now().Add(s.idleFor))
		status, keep, err := s.one(br, bw)
		if err != nil {
			if status != 0 {
				fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status, http.StatusText(status))
				bw.Flush()
			}
			return
		}
		if br.Buffered() == 0 || !keep {
			if bw.Flush() != nil {
				return
			}
		}
		if !keep {
			return
		}
	}
}

// one reads a request and writes its answer into bw. A non-zero status
// with an error is the answer to a request that could not be read.
func (s *wireServer) one(br *bufio.Reader, bw *bufio.Writer) (status int, keep bool, err error) {
	line, err := readLine(br)
	if err != nil {
		var ne net.Error
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || (errors.As(err, &ne) && ne.Timeout()) {
			return 0, false, err // the client went, or stayed idle too long
		}
		return http.StatusBadRequest, false, err
	}
	_, rest, ok1 := bytes.Cut(line, []byte{' '})
	target, proto, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 || bytes.IndexByte(proto, ' ') >= 0 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) {
		return http.StatusBadRequest, false, fmt.Errorf("malformed request line %q", line)
	}
	http11 := string(proto) == "HTTP/1.1"
	// The line is only valid until the next read: keep the target.
	path, rawQuery, _ := strings.Cut(string(target), "?")
	h, err := readHeaders(br)
	if err != nil {
		return http.StatusBadRequest, false, err
	}
	if h.continue100 {
		bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		if err := bw.Flush(); err != nil {
			return 0, false, err
		}
	}
	switch {
	case h.chunked:
		_, err = readChunked(br, 0)
	case h.length > 0:
		_, err = br.Discard(h.length)
	}
	if err != nil {
		return http.StatusBadRequest, false, err
	}
	keep = !h.close && (http11 || h.keep)
	status = http.StatusNotFound
	if path == "/report" {
		status = s.handle(rawQuery)
	}
	if status == http.StatusOK && keep {
		bw.WriteString(answerOK)
		return status, keep, nil
	}
	text := "ok"
	if status != http.StatusOK {
		text = http.StatusText(status)
	}
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n", status, http.StatusText(status), len(text))
	if !keep {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
	bw.WriteString(text)
	return status, keep, nil
}

// answerOK is the answer to a report, kept alive.
const answerOK = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"

// stop closes the listener and every connection, and waits for their
// goroutines.
func (s *wireServer) stop(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.l.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
