// Command realtime-flood repeats the WebSocket flood of issue 13 against
// a running `omnigate serve` and measures what it does to the SMS API: the
// latency of GET /balance before the flood (idle) and during it, the
// connections admitted and refused, and the server's file descriptors.
//
// bench/realtime-flood.sh builds omnigate, starts it and runs this; run it
// by hand against a server of yours:
//
//	go run ./bench/realtime-flood --url http://127.0.0.1:8080 --key live_… \
//	    --app-key KEY --pid $(pgrep -n omnigate) --conns 20000
//
// The attack comes from -sources loopback addresses (127.0.0.2, .3, …:
// one address by default, as the attacker), opened by -procs child
// processes of this program (so that the attacker's own open files limit
// does not cap it), -dialers connections at once each, and held open until
// the end. Each connection is a Pusher client: it upgrades and waits for
// pusher:connection_established. The SMS API is probed from 127.0.0.1 at
// -rate requests per second, open loop, each on a new connection (as
// another client would come), with a 10 s timeout.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/connlimit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "realtime-flood:", err)
		os.Exit(1)
	}
}

type options struct {
	role            string
	url, key        string
	appKey          string
	pid             int
	conns           int
	sources         int
	firstSource     int
	procs           int
	dialers         int
	rate            int
	idle, hold      time.Duration
	jsonOut, label  string
	attackSources   string // attacker role: comma-separated addresses
	attackConns     int    // attacker role: connections to open
	attackerTimeout time.Duration
}

func run(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("realtime-flood", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.role, "role", "bench", "bench (the default), or attacker (started by the bench)")
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "omnigate's API address")
	fs.StringVar(&o.key, "key", "", "an access key, for GET /balance")
	fs.StringVar(&o.appKey, "app-key", "", "a realtime app's key, for /app/{key}")
	fs.IntVar(&o.pid, "pid", 0, "the server's process id, to count its file descriptors (/proc); 0: not counted")
	fs.IntVar(&o.conns, "conns", 20000, "WebSocket connections the attacker opens")
	fs.IntVar(&o.sources, "sources", 1, "loopback addresses the attack comes from (127.0.0.2 onwards)")
	fs.IntVar(&o.firstSource, "first-source", 2, "the last byte of the first attacking address")
	fs.IntVar(&o.procs, "procs", 2, "attacking processes")
	fs.IntVar(&o.dialers, "dialers", 200, "connections each attacking process opens at once")
	fs.IntVar(&o.rate, "rate", 20, "GET /balance probes per second")
	fs.DurationVar(&o.idle, "idle", 10*time.Second, "probing before the flood")
	fs.DurationVar(&o.hold, "hold", 10*time.Second, "probing after the attacker opened all it could, with its connections held")
	fs.DurationVar(&o.attackerTimeout, "dial-timeout", 5*time.Second, "an attacking connection's time to be established or refused")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.label, "label", "", "a name for this run in the output")
	fs.StringVar(&o.attackSources, "attack-sources", "", "attacker role: addresses to attack from")
	fs.IntVar(&o.attackConns, "attack-conns", 0, "attacker role: connections to open")
	if err := fs.Parse(args); err != nil {
		return err
	}
	connlimit.RaiseFileLimit() // the soft open files limit to the hard one
	switch o.role {
	case "attacker":
		return attack(ctx, o, in, out)
	case "bench":
		if o.key == "" || o.appKey == "" {
			return errors.New("--key and --app-key are required")
		}
		return bench(ctx, o, out)
	}
	return fmt.Errorf("unknown --role %q", o.role)
}

// tally is what became of the attacking connections.
type tally struct {
	Open     int64            `json:"open"`      // established: pusher:connection_established
	Refused  map[string]int64 `json:"refused"`   // by answer: "HTTP 429", "HTTP 503", "close 4004" …
	Failed   map[string]int64 `json:"failed"`    // no answer: timeout, reset, the attacker's own limits
	Duration float64          `json:"seconds"`   // to open or be refused
	Attacker int              `json:"attackers"` // processes
}

func (t *tally) add(o tally) {
	t.Open += o.Open
	for k, v := range o.Refused {
		t.Refused[k] += v
	}
	for k, v := range o.Failed {
		t.Failed[k] += v
	}
	t.Duration = max(t.Duration, o.Duration)
	t.Attacker++
}

func newTally() tally { return tally{Refused: map[string]int64{}, Failed: map[string]int64{}} }

// attack opens its connections, reports the tally as one JSON line, and
// holds what is open until its standard input closes.
func attack(ctx context.Context, o options, in io.Reader, out io.Writer) error {
	sources := strings.Split(o.attackSources, ",")
	wsURL := "ws" + strings.TrimPrefix(o.url, "http") + "/app/" + o.appKey + "?protocol=7&client=flood&version=1"
	clients := make([]*http.Client, len(sources))
	for i, s := range sources {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(s)}, Timeout: o.attackerTimeout}
		clients[i] = &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	}
	var mu sync.Mutex
	t := newTally()
	var held []*websocket.Conn
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(o.dialers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(o.attackConns) || ctx.Err() != nil {
					return
				}
				c, refused, failed := connect(ctx, clients[i%int64(len(clients))], wsURL, o.attackerTimeout)
				mu.Lock()
				switch {
				case c != nil:
					held = append(held, c)
					t.Open++
				case refused != "":
					t.Refused[refused]++
				default:
					t.Failed[failed]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Duration = time.Since(start).Seconds()
	b, _ := json.Marshal(t)
	fmt.Fprintln(out, string(b))
	io.Copy(io.Discard, in) // hold until the bench says stop
	for _, c := range held {
		c.CloseNow()
	}
	return nil
}

// connect opens one Pusher connection: established, refused (with the
// answer) or failed (with why).
func connect(ctx context.Context, client *http.Client, url string, timeout time.Duration) (c *websocket.Conn, refused, failed string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		if resp != nil && resp.StatusCode != 0 {
			return nil, "HTTP " + strconv.Itoa(resp.StatusCode), ""
		}
		return nil, "", failure(err)
	}
	_, b, err := c.Read(ctx)
	if err != nil {
		c.CloseNow()
		if code := websocket.CloseStatus(err); code != -1 {
			return nil, "close " + strconv.Itoa(int(code)), ""
		}
		return nil, "", failure(err)
	}
	var f struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	json.Unmarshal(b, &f)
	if f.Event != "pusher:connection_established" {
		c.CloseNow()
		// pusher:error's data is an object; other events' a string of one.
		var d struct {
			Code int `json:"code"`
		}
		if json.Unmarshal(f.Data, &d) != nil {
			var s string
			json.Unmarshal(f.Data, &s)
			json.Unmarshal([]byte(s), &d)
		}
		return nil, fmt.Sprintf("%s %d", f.Event, d.Code), ""
	}
	return c, "", ""
}

// failure names why a connection got no answer, in a few words.
func failure(err error) string {
	s := err.Error()
	for _, k := range []string{"too many open files", "connection reset", "connection refused", "deadline exceeded", "timeout", "EOF", "cannot assign requested address"} {
		if strings.Contains(s, k) {
			return k
		}
	}
	return s
}

// probes is a series of GET /balance latencies and failures.
type probes struct {
	mu       sync.Mutex
	lat      []time.Duration
	failures map[string]int
}

// summary of a series.
type summary struct {
	Requests int            `json:"requests"`
	OK       int            `json:"ok"`
	P50ms    float64        `json:"p50_ms"`
	P99ms    float64        `json:"p99_ms"`
	MaxMs    float64        `json:"max_ms"`
	Failures map[string]int `json:"failures"`
}

func (p *probes) summary() summary {
	p.mu.Lock()
	defer p.mu.Unlock()
	lat := slices.Clone(p.lat)
	slices.Sort(lat)
	s := summary{OK: len(lat), Failures: p.failures}
	s.Requests = len(lat)
	for _, n := range p.failures {
		s.Requests += n
	}
	q := func(f float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(f*float64(len(lat))))]) / 1e6
	}
	s.P50ms, s.P99ms = q(0.5), q(0.99)
	if len(lat) > 0 {
		s.MaxMs = float64(lat[len(lat)-1]) / 1e6
	}
	return s
}

// probe sends GET /balance at rate per second, open loop, into the
// series cur points to, until ctx ends; each request on a new connection.
func probe(ctx context.Context, o options, cur *atomic.Pointer[probes]) *sync.WaitGroup {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(max(o.rate, 1)))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			p := cur.Load()
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				req, _ := http.NewRequest("GET", o.url+"/balance", nil)
				req.Header.Set("Authorization", "AccessKey "+o.key)
				resp, err := client.Do(req)
				why := ""
				if err != nil {
					why = failure(err)
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						why = "HTTP " + strconv.Itoa(resp.StatusCode)
					}
				}
				p.mu.Lock()
				defer p.mu.Unlock()
				if why != "" {
					p.failures[why]++
					return
				}
				p.lat = append(p.lat, time.Since(start))
			}()
		}
	}()
	return &wg
}

func newProbes() *probes { return &probes{failures: map[string]int{}} }

// fds samples the server's open descriptors; the highest count seen.
type fds struct {
	max atomic.Int64
}

func (f *fds) watch(ctx context.Context, pid int) {
	if pid == 0 {
		return
	}
	go func() {
		for ctx.Err() == nil {
			if entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
				if n := int64(len(entries)); n > f.max.Load() {
					f.max.Store(n)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
}

// openFilesLimit reads a process's soft open files limit from /proc.
func openFilesLimit(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Max open files") {
			if f := strings.Fields(line); len(f) >= 5 {
				return f[3]
			}
		}
	}
	return "?"
}

// report is everything a run measured.
type report struct {
	Label         string           `json:"label,omitempty"`
	Conns         int              `json:"conns"`
	Sources       int              `json:"sources"`
	Idle          summary          `json:"balance_idle"`
	Flood         summary          `json:"balance_during_flood"`
	Attack        tally            `json:"attack"`
	ServerFDsMax  int64            `json:"server_fds_max"`
	ServerFDLimit string           `json:"server_fd_limit"`
	Metrics       map[string]int64 `json:"refused_by_server"`
}

func bench(ctx context.Context, o options, out io.Writer) error {
	rep := report{Label: o.label, Conns: o.conns, Sources: o.sources, Attack: newTally(), ServerFDLimit: openFilesLimit(o.pid)}
	var f fds
	fctx, stopFDs := context.WithCancel(ctx)
	defer stopFDs()
	f.watch(fctx, o.pid)

	var cur atomic.Pointer[probes]
	idle, flood := newProbes(), newProbes()
	cur.Store(idle)
	pctx, stopProbes := context.WithCancel(ctx)
	defer stopProbes()
	probing := probe(pctx, o, &cur)
	fmt.Fprintf(os.Stderr, "realtime-flood: probing GET /balance idle for %v\n", o.idle)
	sleep(ctx, o.idle)
	cur.Store(flood)

	// The attackers: -procs processes share the connections and sources.
	var sources []string
	for i := range max(o.sources, 1) {
		sources = append(sources, fmt.Sprintf("127.0.0.%d", o.firstSource+i))
	}
	fmt.Fprintf(os.Stderr, "realtime-flood: %d connections from %s, %d processes\n", o.conns, strings.Join(sources, ","), o.procs)
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	type attacker struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Scanner
	}
	var attackers []attacker
	defer func() {
		for _, a := range attackers {
			a.stdin.Close()
			a.cmd.Wait()
		}
	}()
	procs := max(o.procs, 1)
	for p := range procs {
		share := o.conns / procs
		if p < o.conns%procs {
			share++
		}
		cmd := exec.CommandContext(ctx, exe, "--role", "attacker", "--url", o.url, "--app-key", o.appKey,
			"--attack-conns", strconv.Itoa(share), "--attack-sources", strings.Join(sources, ","),
			"--dialers", strconv.Itoa(o.dialers), "--dial-timeout", o.attackerTimeout.String())
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		attackers = append(attackers, attacker{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)})
	}
	for _, a := range attackers {
		if !a.out.Scan() {
			return fmt.Errorf("an attacker ended without a tally: %v", a.out.Err())
		}
		var t tally
		if err := json.Unmarshal(a.out.Bytes(), &t); err != nil {
			return fmt.Errorf("an attacker's tally %q: %w", a.out.Text(), err)
		}
		rep.Attack.add(t)
	}
	fmt.Fprintf(os.Stderr, "realtime-flood: attack done in %.1f s: %d open; holding for %v\n", rep.Attack.Duration, rep.Attack.Open, o.hold)
	sleep(ctx, o.hold)
	stopProbes()
	probing.Wait()
	rep.Idle, rep.Flood = idle.summary(), flood.summary()
	rep.ServerFDsMax = f.max.Load()
	rep.Metrics = refusedMetrics(o.url)
	for _, a := range attackers {
		a.stdin.Close()
	}

	printReport(out, rep)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		return os.WriteFile(o.jsonOut, append(b, '\n'), 0o644)
	}
	return nil
}

// refusedMetrics reads omnigate_connections_refused_total from /metrics
// (none on a server without connection limits).
func refusedMetrics(base string) map[string]int64 {
	out := map[string]int64{}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(base + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "omnigate_connections_refused_total{") {
			continue
		}
		labels, value, _ := strings.Cut(strings.TrimPrefix(line, "omnigate_connections_refused_total"), " ")
		n, _ := strconv.ParseFloat(value, 64)
		out[labels] = int64(n)
	}
	return out
}

func printReport(w io.Writer, r report) {
	if r.Label != "" {
		fmt.Fprintf(w, "== %s\n", r.Label)
	}
	fmt.Fprintf(w, "attack: %d connections from %d address(es), %d processes, %.1f s\n", r.Conns, r.Sources, r.Attack.Attacker, r.Attack.Duration)
	fmt.Fprintf(w, "  established: %d\n", r.Attack.Open)
	for _, k := range sortedKeys(r.Attack.Refused) {
		fmt.Fprintf(w, "  refused, %s: %d\n", k, r.Attack.Refused[k])
	}
	for _, k := range sortedKeys(r.Attack.Failed) {
		fmt.Fprintf(w, "  no answer, %s: %d\n", k, r.Attack.Failed[k])
	}
	for _, k := range sortedKeys(r.Metrics) {
		fmt.Fprintf(w, "  server's count %s: %d\n", k, r.Metrics[k])
	}
	fmt.Fprintf(w, "server file descriptors: at most %d open, limit %s\n", r.ServerFDsMax, r.ServerFDLimit)
	fmt.Fprintf(w, "GET /balance     requests  ok     p50 ms   p99 ms   max ms   failures\n")
	for _, row := range []struct {
		name string
		s    summary
	}{{"idle", r.Idle}, {"during flood", r.Flood}} {
		fmt.Fprintf(w, "  %-14s %-9d %-6d %-8.1f %-8.1f %-8.1f %v\n", row.name, row.s.Requests, row.s.OK, row.s.P50ms, row.s.P99ms, row.s.MaxMs, row.s.Failures)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
