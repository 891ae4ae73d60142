// Command realtime measures omnigate's realtime (Pusher-compatible) server
// on loopback: memory per idle connection, deliveries per second and
// publish-to-receive latency (p50/p99/p99.9 from a histogram), with 10,000
// connections on one channel and on many channels.
//
// It runs three processes so that each is measured alone: the server (the
// realtime server with an SQLite store), the clients (all WebSocket
// connections, reporting what they receive) and itself, the publisher,
// which triggers events through the HTTP API, signed as the Pusher SDKs
// sign, at fixed rates (open loop). Each event's data is the publisher's
// clock; the clients subtract it from theirs on arrival (same machine).
//
//	go run ./bench/realtime                                # defaults below
//	go run ./bench/realtime -conns 2000 -scenarios one -one-rates 5,20
//
// Scenarios: "one": every connection on one channel (each event is
// delivered -conns times); "many": connections spread over -channels
// channels (each event reaches conns/channels clients). The open-files
// limit is raised to its hard limit in every process.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/omnigate/omnigate/internal/connlimit"
	"github.com/omnigate/omnigate/internal/realtime"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/realtime:", err)
		os.Exit(1)
	}
}

type options struct {
	role      string
	conns     int
	channels  int
	scenarios []string
	oneRates  []int
	manyRates []int
	duration  time.Duration
	dialers   int
	url       string
	jsonOut   string
}

func run(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("realtime", flag.ContinueOnError)
	var o options
	var scen, one, many string
	fs.StringVar(&o.role, "role", "bench", "bench (the default), or server / clients (started by the bench)")
	fs.IntVar(&o.conns, "conns", 10000, "connections")
	fs.IntVar(&o.channels, "channels", 1000, `channels of the "many" scenario`)
	fs.StringVar(&scen, "scenarios", "one,many", "scenarios to run: one, many")
	fs.StringVar(&one, "one-rates", "2,10,25", `events per second published to the single channel ("one")`)
	fs.StringVar(&many, "many-rates", "1000,5000,10000", `events per second published over the channels ("many")`)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "publishing time per rate")
	fs.IntVar(&o.dialers, "dialers", 100, "connections opened at once")
	fs.StringVar(&o.url, "url", "", "clients role: the WebSocket URL")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.scenarios = strings.Split(scen, ",")
	var err error
	if o.oneRates, err = ints(one); err != nil {
		return err
	}
	if o.manyRates, err = ints(many); err != nil {
		return err
	}
	connlimit.RaiseFileLimit() // the soft open files limit to the hard one
	switch o.role {
	case "server":
		return runServer(ctx, in, out)
	case "clients":
		channels := 1
		if o.channels > 0 {
			channels = o.channels
		}
		return runClients(ctx, clientsConfig{URL: o.url, Conns: o.conns, Channels: channels, Dialers: o.dialers}, in, out)
	case "bench":
		return bench(ctx, o, out)
	}
	return fmt.Errorf("unknown -role %q", o.role)
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a list of positive numbers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// child is a process of this program in another role, talked to over its
// standard input and output.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
}

func startChild(ctx context.Context, args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	return &child{cmd: cmd, stdin: stdin, lines: sc}, nil
}

func (c *child) line() (string, error) {
	if !c.lines.Scan() {
		if err := c.lines.Err(); err != nil {
			return "", err
		}
		return "", errors.New("child ended")
	}
	return c.lines.Text(), nil
}

func (c *child) stop() error {
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		c.cmd.Process.Kill()
		return errors.New("child did not stop within 60 s")
	}
}

// result is one measured rate of one scenario.
type result struct {
	Scenario      string  `json:"scenario"`
	Conns         int     `json:"conns"`
	Channels      int     `json:"channels"`
	Rate          int     `json:"rate"`
	Published     int64   `json:"published"`
	PublishErrors int64   `json:"publish_errors"`
	Expected      int64   `json:"expected_deliveries"`
	Delivered     uint64  `json:"delivered"`
	DeliveriesPS  float64 `json:"deliveries_per_s"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	P999ms        float64 `json:"p999_ms"`
	MaxMs         float64 `json:"max_ms"`
	ClosedByPeer  uint64  `json:"closed_by_server"`
	// ServerCPUus is the server process's CPU time per delivery, in
	// microseconds (publishing through the API included).
	ServerCPUus float64 `json:"server_cpu_us_per_delivery"`
}

// memResult is the idle memory of a scenario's connections.
type memResult struct {
	Scenario       string  `json:"scenario"`
	Conns          int     `json:"conns"`
	RSSPerConn     float64 `json:"rss_bytes_per_conn"`
	HeapPerConn    float64 `json:"heap_bytes_per_conn"`
	StackPerConn   float64 `json:"stack_bytes_per_conn"`
	GoroutinesConn float64 `json:"goroutines_per_conn"`
	ConnectSeconds float64 `json:"connect_seconds"`
}

func bench(ctx context.Context, o options, out io.Writer) error {
	var results []result
	var mems []memResult
	for _, sc := range o.scenarios {
		channels := 1
		rates := o.oneRates
		if sc == "many" {
			channels, rates = o.channels, o.manyRates
		} else if sc != "one" {
			return fmt.Errorf("unknown scenario %q", sc)
		}
		m, rs, err := scenario(ctx, o, sc, channels, rates, out)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", sc, err)
		}
		mems = append(mems, m)
		results = append(results, rs...)
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| scenario | conns | channels | idle RSS/conn | Go heap/conn | stacks/conn | connect time |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|")
	for _, m := range mems {
		fmt.Fprintf(out, "| %s | %d | %d | %.1f KiB | %.1f KiB | %.1f KiB | %.1f s |\n", m.Scenario, m.Conns,
			map[string]int{"one": 1, "many": o.channels}[m.Scenario], m.RSSPerConn/1024, m.HeapPerConn/1024, m.StackPerConn/1024, m.ConnectSeconds)
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| scenario | events/s asked | deliveries/s | delivered/expected | p50 | p99 | p99.9 | max | not published | cut off | server CPU/delivery |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		fmt.Fprintf(out, "| %s | %d | %.0f | %d/%d | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %d | %d | %.1f µs |\n", r.Scenario, r.Rate,
			r.DeliveriesPS, r.Delivered, r.Expected, r.P50ms, r.P99ms, r.P999ms, r.MaxMs, r.PublishErrors, r.ClosedByPeer, r.ServerCPUus)
	}
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(map[string]any{"memory": mems, "delivery": results}, "", "  ")
		return os.WriteFile(o.jsonOut, b, 0o644)
	}
	return nil
}

func scenario(ctx context.Context, o options, name string, channels int, rates []int, out io.Writer) (memResult, []result, error) {
	fmt.Fprintf(out, "== %s: %d connections on %d channel(s)\n", name, o.conns, channels)
	srv, err := startChild(ctx, "-role", "server")
	if err != nil {
		return memResult{}, nil, err
	}
	defer srv.stop()
	line, err := srv.line()
	if err != nil {
		return memResult{}, nil, fmt.Errorf("server: %w", err)
	}
	var info serverInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		return memResult{}, nil, fmt.Errorf("server said %q", line)
	}
	base := "http://" + info.Addr
	before, err := readMem(base)
	if err != nil {
		return memResult{}, nil, err
	}
	start := time.Now()
	cl, err := startChild(ctx, "-role", "clients", "-url", "ws://"+info.Addr+"/app/"+info.Key+"?protocol=7",
		"-conns", strconv.Itoa(o.conns), "-channels", strconv.Itoa(channels), "-dialers", strconv.Itoa(o.dialers))
	if err != nil {
		return memResult{}, nil, err
	}
	defer cl.stop()
	if line, err := cl.line(); err != nil || line != "READY" {
		return memResult{}, nil, fmt.Errorf("clients: %q, %v", line, err)
	}
	connectTime := time.Since(start)
	after, err := readMem(base)
	if err != nil {
		return memResult{}, nil, err
	}
	n := float64(o.conns)
	m := memResult{Scenario: name, Conns: o.conns, ConnectSeconds: connectTime.Seconds(),
		RSSPerConn:     float64(after.RSS-before.RSS) / n,
		HeapPerConn:    float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / n,
		StackPerConn:   float64(int64(after.StackInuse)-int64(before.StackInuse)) / n,
		GoroutinesConn: float64(after.Goroutines-before.Goroutines) / n}
	fmt.Fprintf(out, "   connected in %.1f s; idle: %.1f KiB RSS, %.1f KiB heap, %.1f KiB stacks, %.1f goroutines per connection (server has %d)\n",
		m.ConnectSeconds, m.RSSPerConn/1024, m.HeapPerConn/1024, m.StackPerConn/1024, m.GoroutinesConn, after.Connections)

	var results []result
	perChannel := o.conns / channels
	for _, rate := range rates {
		// Discard anything left from the previous rate.
		if _, err := report(cl); err != nil {
			return m, nil, err
		}
		cpuBefore, err := readMem(base)
		if err != nil {
			return m, nil, err
		}
		published, errs := publish(ctx, base, info, channels, rate, o.duration)
		// Let the last deliveries arrive: until all are in, or none came
		// for a second, or a minute has passed.
		var total clientStats
		total.Latency = newHistogram()
		expected := published * int64(perChannel)
		quiet := 0
		for deadline := time.Now().Add(time.Minute); int64(total.Deliveries) < expected && quiet < 4 && time.Now().Before(deadline); {
			time.Sleep(250 * time.Millisecond)
			st, err := report(cl)
			if err != nil {
				return m, nil, err
			}
			total.Deliveries += st.Deliveries
			total.Latency.merge(st.Latency)
			total.Closed = st.Closed
			if st.Deliveries == 0 {
				quiet++
			} else {
				quiet = 0
			}
		}
		cpuAfter, err := readMem(base)
		if err != nil {
			return m, nil, err
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		r := result{Scenario: name, Conns: o.conns, Channels: channels, Rate: rate, Published: published, PublishErrors: errs,
			Expected: expected, Delivered: total.Deliveries, DeliveriesPS: float64(total.Deliveries) / o.duration.Seconds(),
			P50ms: ms(total.Latency.quantile(0.50)), P99ms: ms(total.Latency.quantile(0.99)), P999ms: ms(total.Latency.quantile(0.999)),
			MaxMs: ms(time.Duration(total.Latency.Max)), ClosedByPeer: total.Closed}
		if total.Deliveries > 0 {
			r.ServerCPUus = (cpuAfter.CPUSeconds - cpuBefore.CPUSeconds) * 1e6 / float64(total.Deliveries)
		}
		fmt.Fprintf(out, "   %6d events/s: %9.0f deliveries/s, %d/%d delivered, p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms, %d not published, server %.1f µs CPU/delivery\n",
			rate, r.DeliveriesPS, r.Delivered, r.Expected, r.P50ms, r.P99ms, r.P999ms, r.MaxMs, r.PublishErrors, r.ServerCPUus)
		results = append(results, r)
	}
	return m, results, nil
}

func readMem(base string) (memInfo, error) {
	var mi memInfo
	resp, err := http.Get(base + "/bench/mem")
	if err != nil {
		return mi, err
	}
	defer resp.Body.Close()
	return mi, json.NewDecoder(resp.Body).Decode(&mi)
}

func report(cl *child) (clientStats, error) {
	if _, err := io.WriteString(cl.stdin, "REPORT\n"); err != nil {
		return clientStats{}, err
	}
	line, err := cl.line()
	if err != nil {
		return clientStats{}, err
	}
	var st clientStats
	if err := json.Unmarshal([]byte(line), &st); err != nil {
		return clientStats{}, fmt.Errorf("clients said %q", line)
	}
	return st, nil
}

// publish triggers events at rate per second for d over the channels,
// open loop (a slow answer does not delay the next request), and returns
// how many were accepted and how many were not (refused, failed, or not
// sent because every publisher was busy: the rate was not reached). From
// 1000 events/s on, events go 10 to a batch_events request.
func publish(ctx context.Context, base string, info serverInfo, channels, rate int, d time.Duration) (int64, int64) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	per := 1
	if rate >= 1000 {
		per = 10
	}
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	work := make(chan int, 4096)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if send(ctx, client, base, info, channels, i*per, per) {
					ok.Add(int64(per))
				} else {
					failed.Add(int64(per))
				}
			}
		}()
	}
	requests := int(float64(rate) * d.Seconds() / float64(per))
	interval := time.Second * time.Duration(per) / time.Duration(rate)
	start := time.Now()
	for i := 0; i < requests && ctx.Err() == nil; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		select {
		case work <- i:
		default:
			failed.Add(int64(per)) // every publisher is busy
		}
	}
	close(work)
	wg.Wait()
	return ok.Load(), failed.Load()
}

// send publishes n events, numbered from first, in one request.
func send(ctx context.Context, client *http.Client, base string, info serverInfo, channels, first, n int) bool {
	event := func(i int) map[string]any {
		return map[string]any{"name": "tick", "channel": fmt.Sprintf("bench-%d", i%channels), "data": strconv.FormatInt(time.Now().UnixNano(), 10)}
	}
	path := "/apps/" + info.AppID + "/events"
	var body []byte
	if n == 1 {
		body, _ = json.Marshal(event(first))
	} else {
		path = "/apps/" + info.AppID + "/batch_events"
		batch := make([]map[string]any, n)
		for i := range batch {
			batch[i] = event(first + i)
		}
		body, _ = json.Marshal(map[string]any{"batch": batch})
	}
	q := realtime.SignRequest(info.Key, info.Secret, "POST", path, nil, body, time.Now())
	req, err := http.NewRequestWithContext(ctx, "POST", base+path+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 200
}
