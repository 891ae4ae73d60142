// Command compare-centrifugo measures omnigate's realtime server against
// Centrifugo on this machine, in one run, with the same load shape.
//
// Each server runs as a process of its own on loopback (omnigate serve with
// one realtime app on SQLite; Centrifugo with an HTTP API key and anonymous
// clients), one after the other. This program is the clients and the
// publisher: it opens the connections (omnigate: the Pusher protocol over
// WebSocket; Centrifugo: its JSON protocol over WebSocket), publishes
// through each server's own HTTP API (omnigate: the Pusher HTTP API,
// signed; Centrifugo: /api/publish and /api/batch with its API key) at
// fixed rates (open loop), and measures:
//
//   - idle memory: the server's resident memory before and after opening
//     -conns connections (and after subscribing each to two channels);
//   - one channel: every connection subscribed to it; each event reaches
//     -conns clients; the rate is stepped until the server falls behind
//     (not everything delivered, or p99 over -max-p99);
//   - many channels: the connections spread over -channels channels, a few
//     subscribers each, events published in batches of 10;
//   - presence churn: -churners connections joining and leaving presence
//     channels in a closed loop (subscribe, wait for the confirmation,
//     unsubscribe), the others in the channel told of each join and leave.
//
// Latency is from the publisher's clock in the event's data ("ts=<ns>;")
// to its arrival at a client. Server CPU is the server process's user and
// system time; the load average and the CPU that other processes took
// during each step are recorded, as the machine is shared.
//
//	bench/compare-centrifugo.sh            # builds, installs Centrifugo, runs
//	bench/compare-centrifugo.sh --quick    # a smoke run (about 30 s)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/omnigate/omnigate/internal/connlimit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "compare-centrifugo:", err)
		os.Exit(1)
	}
}

type options struct {
	omnigateBin, centrifugoBin string
	systems                    []string
	conns, channels, dialers   int
	oneRates, manyRates        []int
	duration                   time.Duration
	churners, churnChannels    int
	churnDuration              time.Duration
	maxP99                     time.Duration
	payload                    int
	out, jsonOut, label        string
	debugAddr                  string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("compare-centrifugo", flag.ContinueOnError)
	var o options
	var systems, one, many string
	quick := fs.Bool("quick", false, "a smoke run: 500 connections, one short step per scenario")
	fs.StringVar(&o.omnigateBin, "omnigate-bin", "", "the omnigate binary (required for omnigate)")
	fs.StringVar(&o.centrifugoBin, "centrifugo-bin", "", "the centrifugo binary (required for Centrifugo)")
	fs.StringVar(&systems, "systems", "omnigate,centrifugo", "systems to run, in this order")
	fs.IntVar(&o.conns, "conns", 10000, "connections")
	fs.IntVar(&o.channels, "channels", 1000, `channels of the "many" scenario`)
	fs.IntVar(&o.dialers, "dialers", 50, "connections opened at once")
	fs.StringVar(&one, "one-rates", "1,2,5,10,20,40", "events/s published to the single channel, stepped")
	fs.StringVar(&many, "many-rates", "1000,2000,5000,10000", `events/s published over the channels ("many"), stepped`)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "publishing time per step")
	fs.IntVar(&o.churners, "churners", 200, "connections joining and leaving presence channels")
	fs.IntVar(&o.churnChannels, "churn-channels", 50, "presence channels of the churn")
	fs.DurationVar(&o.churnDuration, "churn-duration", 10*time.Second, "churn time")
	fs.DurationVar(&o.maxP99, "max-p99", time.Second, "a step whose p99 exceeds this has fallen behind")
	fs.IntVar(&o.payload, "payload", 100, "bytes of each event's data")
	fs.StringVar(&o.out, "out", "", "also write the report (Markdown) to this file")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.debugAddr, "omnigate-debug-addr", "", "pass --debug-addr to omnigate serve, to take profiles during a run (go tool pprof http://ADDR/debug/pprof/profile)")
	fs.StringVar(&o.label, "label", "", "a note for the report's title (e.g. the build)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.systems = strings.Split(systems, ",")
	var err error
	if o.oneRates, err = ints(one); err != nil {
		return err
	}
	if o.manyRates, err = ints(many); err != nil {
		return err
	}
	if *quick {
		o.conns, o.channels, o.duration = 500, 50, 2*time.Second
		o.oneRates, o.manyRates = []int{20}, []int{200}
		o.churners, o.churnChannels, o.churnDuration = 20, 5, 2*time.Second
	}
	connlimit.RaiseFileLimit()
	var results []*result
	for _, name := range o.systems {
		var sys system
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "omnigate":
			if o.omnigateBin == "" {
				return fmt.Errorf("-omnigate-bin is required")
			}
			sys = &omnigate{bin: o.omnigateBin, debugAddr: o.debugAddr}
		case "centrifugo":
			if o.centrifugoBin == "" {
				return fmt.Errorf("-centrifugo-bin is required")
			}
			sys = &centrifugo{bin: o.centrifugoBin}
		default:
			return fmt.Errorf("unknown system %q (omnigate, centrifugo)", name)
		}
		r, err := measure(ctx, o, sys, out)
		if err != nil {
			return fmt.Errorf("%s: %w", sys.name(), err)
		}
		results = append(results, r)
	}
	var md strings.Builder
	report(&md, o, results)
	fmt.Fprint(out, "\n"+md.String())
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md.String()), 0o644); err != nil {
			return err
		}
	}
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	return nil
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

// result is one system's measurements.
type result struct {
	System       string   `json:"system"`
	Commands     []string `json:"commands"`
	Conns        int      `json:"conns"`
	RSSBase      int64    `json:"rss_base"`
	RSSIdle      int64    `json:"rss_idle"`       // after opening the connections
	RSSSubscribe int64    `json:"rss_subscribed"` // after two subscriptions each
	ConnectTime  float64  `json:"connect_seconds"`
	One          []step   `json:"one"`
	Many         []step   `json:"many"`
	Churn        churn    `json:"churn"`
	Closed       int64    `json:"closed_by_server"` // connections the server closed
	FirstClose   string   `json:"first_close,omitempty"`
}

func (r *result) idlePerConn() float64 {
	return float64(r.RSSIdle-r.RSSBase) / float64(r.Conns)
}

func (r *result) subscribedPerConn() float64 {
	return float64(r.RSSSubscribe-r.RSSBase) / float64(r.Conns)
}

// step is one publishing rate.
type step struct {
	Rate          int     `json:"events_per_s"`
	Expected      int64   `json:"expected"`
	Delivered     int64   `json:"delivered"`
	PublishErrors int64   `json:"publish_errors"`
	DeliveriesPS  float64 `json:"deliveries_per_s"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	MaxMs         float64 `json:"max_ms"`
	CPUmsPer1k    float64 `json:"server_cpu_ms_per_1000"`
	ServerCores   float64 `json:"server_cores"` // CPU time / wall time
	OthersCores   float64 `json:"others_cores"` // other processes (not the server, not this program)
	Load1         float64 `json:"load1"`
	Behind        bool    `json:"fell_behind"`
	FirstError    string  `json:"first_error,omitempty"`
}

// churn is the presence join/leave result.
type churn struct {
	Churners   int     `json:"churners"`
	Channels   int     `json:"channels"`
	CyclesPS   float64 `json:"cycles_per_s"` // join + leave
	P50ms      float64 `json:"join_p50_ms"`
	P99ms      float64 `json:"join_p99_ms"`
	Notices    int64   `json:"join_leave_notices"`
	CPUmsPer1k float64 `json:"server_cpu_ms_per_1000_cycles"`
	// The load tool's own CPU (every client and its signing) per 1,000
	// cycles: the churn is a closed loop on shared cores, so a client
	// that costs more leaves the server less.
	ClientCPUmsPer1k float64 `json:"load_tool_cpu_ms_per_1000_cycles"`
	ReadsPerCycle    float64 `json:"server_reads_per_cycle"`  // system calls
	WritesPerCycle   float64 `json:"server_writes_per_cycle"` // system calls
	OthersCores      float64 `json:"others_cores"`
	Load1            float64 `json:"load1"`
	Errors           int64   `json:"errors"`
}

func measure(ctx context.Context, o options, sys system, log io.Writer) (*result, error) {
	dir, err := os.MkdirTemp("", "omnigate-vs-centrifugo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(log, "== %s\n", sys.name())
	if err := sys.start(ctx, dir); err != nil {
		sys.stop()
		return nil, err
	}
	defer sys.stop()
	r := &result{System: sys.name(), Conns: o.conns}
	switch s := sys.(type) {
	case *omnigate:
		r.Commands = s.cmds
	case *centrifugo:
		r.Commands = s.cmds
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rec := &recorder{}
	// Warm up the API and the process before the baseline.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	if err := sys.publish(ctx, hc, []event{{"warmup", payload(o.payload)}}); err != nil {
		return nil, fmt.Errorf("publishing: %w", err)
	}
	time.Sleep(2 * time.Second)
	r.RSSBase = rss(sys.pid())
	t0 := time.Now()
	cs, err := dialAll(cctx, sys, o.conns, o.dialers, rec)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	defer closeAll(cs)
	r.ConnectTime = time.Since(t0).Seconds()
	time.Sleep(3 * time.Second)
	r.RSSIdle = rss(sys.pid())
	fmt.Fprintf(log, "   %d connections in %.1f s; idle %.1f KiB/connection\n", o.conns, r.ConnectTime, r.idlePerConn()/1024)
	if err := subscribeAll(cctx, sys, cs, func(int) string { return "one" }); err != nil {
		return nil, fmt.Errorf("subscribing to one: %w", err)
	}
	if err := subscribeAll(cctx, sys, cs, func(i int) string { return "many-" + strconv.Itoa(i%o.channels) }); err != nil {
		return nil, fmt.Errorf("subscribing to many: %w", err)
	}
	time.Sleep(2 * time.Second)
	r.RSSSubscribe = rss(sys.pid())
	fmt.Fprintf(log, "   subscribed (2 channels each): %.1f KiB/connection\n", r.subscribedPerConn()/1024)

	for _, rate := range o.oneRates {
		s := runStep(ctx, o, sys, hc, rec, rate, int64(o.conns), 1, func(int) string { return "one" })
		r.One = append(r.One, s)
		printStep(log, "one", s)
		if s.Behind {
			break
		}
	}
	perChan := int64(o.conns / o.channels)
	for _, rate := range o.manyRates {
		s := runStep(ctx, o, sys, hc, rec, rate, perChan, 10, func(i int) string { return "many-" + strconv.Itoa(i%o.channels) })
		r.Many = append(r.Many, s)
		printStep(log, "many", s)
		if s.Behind {
			break
		}
	}
	rec.quiet(60 * time.Second)
	r.Churn = runChurn(cctx, o, sys, rec)
	fmt.Fprintf(log, "   churn: %.0f join+leave/s, join p50 %.1f ms p99 %.1f ms, %d notices, %.2f ms CPU/1000 (load tool %.2f), %.1f reads and %.1f writes per cycle, %d errors\n",
		r.Churn.CyclesPS, r.Churn.P50ms, r.Churn.P99ms, r.Churn.Notices, r.Churn.CPUmsPer1k, r.Churn.ClientCPUmsPer1k,
		r.Churn.ReadsPerCycle, r.Churn.WritesPerCycle, r.Churn.Errors)
	if r.Closed = rec.closed.Load(); r.Closed > 0 {
		r.FirstClose = fmt.Sprint(rec.firstClose.Load())
		fmt.Fprintf(log, "   %d connections were closed by the server during the run (the first: %s)\n", r.Closed, r.FirstClose)
	}
	return r, nil
}

func printStep(w io.Writer, scen string, s step) {
	fmt.Fprintf(w, "   %s %5d ev/s: %8.0f deliveries/s, %d/%d, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %.2f ms CPU/1000, others %.2f cores, load %.1f%s\n",
		scen, s.Rate, s.DeliveriesPS, s.Delivered, s.Expected, s.P50ms, s.P99ms, s.MaxMs, s.CPUmsPer1k, s.OthersCores, s.Load1,
		map[bool]string{true: " — fell behind", false: ""}[s.Behind])
}

var padding = strings.Repeat("x", 4096)

// payload is an event's data: JSON with the publish time, size bytes.
func payload(size int) string {
	d := `{"m":"ts=` + strconv.FormatInt(time.Now().UnixNano(), 10) + `;`
	pad := max(size-len(d)-2, 0)
	return d + padding[:min(pad, len(padding))] + `"}`
}

// runStep publishes rate events/s for o.duration, per events a request,
// each reaching fan clients, and waits for the deliveries.
func runStep(ctx context.Context, o options, sys system, hc *http.Client, rec *recorder, rate int, fan int64, per int, channel func(int) string) step {
	s := step{Rate: rate}
	rec.quiet(60 * time.Second)
	rec.deliveries.Store(0)
	rec.hist.reset()
	cpu0, others0 := cpuSnapshot(sys.pid())
	start := time.Now()
	rec.since.Store(start.UnixNano())
	var published, failed atomic.Int64
	var firstErr atomic.Value
	work := make(chan []event, 1024)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for evs := range work {
				if err := sys.publish(ctx, hc, evs); err != nil {
					failed.Add(int64(len(evs)))
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					published.Add(int64(len(evs)))
				}
			}
		}()
	}
	// Open loop: every tick, the events due by then.
	tick := 10 * time.Millisecond
	if rate < 100 {
		tick = time.Second / time.Duration(rate)
	}
	total := int(float64(rate) * o.duration.Seconds())
	sent, n := 0, 0
	t := time.NewTicker(tick)
	for sent < total && ctx.Err() == nil {
		due := min(total, int(float64(rate)*time.Since(start).Seconds())+1)
		for sent < due {
			k := min(per, due-sent)
			evs := make([]event, k)
			for i := range evs {
				evs[i] = event{channel(n), payload(o.payload)}
				n++
			}
			sent += k
			select {
			case work <- evs:
			default:
				failed.Add(int64(k)) // the publisher itself is behind
			}
		}
		<-t.C
	}
	t.Stop()
	close(work)
	wg.Wait()
	pubEnd := time.Now()
	s.Expected = published.Load() * fan
	s.PublishErrors = failed.Load()
	if e, ok := firstErr.Load().(string); ok {
		s.FirstError = e
	}
	// Drain: until everything arrived, or nothing more for 3 s (at most 30 s).
	last, lastAt := rec.deliveries.Load(), time.Now()
	for time.Since(pubEnd) < 30*time.Second && rec.deliveries.Load() < s.Expected && time.Since(lastAt) < 3*time.Second {
		time.Sleep(20 * time.Millisecond)
		if d := rec.deliveries.Load(); d != last {
			last, lastAt = d, time.Now()
		}
	}
	end := lastAt
	if rec.deliveries.Load() >= s.Expected {
		end = time.Now()
	}
	s.Delivered = rec.deliveries.Load()
	cpu1, others1 := cpuSnapshot(sys.pid())
	wall := end.Sub(start).Seconds()
	s.DeliveriesPS = float64(s.Delivered) / wall
	s.P50ms = ms(rec.hist.quantile(0.50))
	s.P99ms = ms(rec.hist.quantile(0.99))
	s.MaxMs = ms(time.Duration(rec.hist.max.Load()))
	if s.Delivered > 0 {
		s.CPUmsPer1k = (cpu1 - cpu0) * 1e3 / float64(s.Delivered) * 1000
	}
	s.ServerCores = (cpu1 - cpu0) / wall
	s.OthersCores = (others1 - others0) / wall
	s.Load1 = load1()
	s.Behind = s.Delivered < s.Expected || s.PublishErrors > 0 || s.P99ms > ms(o.maxP99)
	return s
}

// runChurn joins and leaves presence channels in a closed loop.
func runChurn(ctx context.Context, o options, sys system, rec *recorder) churn {
	ch := churn{Churners: o.churners, Channels: o.churnChannels}
	cs, err := dialAll(ctx, sys, o.churners, o.dialers, rec)
	if err != nil {
		ch.Errors++
		return ch
	}
	defer closeAll(cs)
	rec.joins.Store(0)
	var h histogram
	var cycles, errs atomic.Int64
	cpu0, others0 := cpuSnapshot(sys.pid())
	self0 := procCPU("self")
	r0, w0 := syscalls(sys.pid())
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, o.churnDuration)
	defer cancel()
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			channel := sys.presenceChannel(i % o.churnChannels)
			user := "u" + strconv.Itoa(i)
			for cctx.Err() == nil {
				t := time.Now()
				if sys.subscribe(ctx, c, channel, user) != nil { // not cctx: a write cut by its end would close the connection
					errs.Add(1)
					return
				}
				select {
				case <-c.acks:
				case <-time.After(10 * time.Second):
					errs.Add(1)
					return
				}
				h.add(time.Since(t))
				if sys.unsubscribe(ctx, c, channel) != nil {
					errs.Add(1)
					return
				}
				cycles.Add(1)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start).Seconds()
	cpu1, others1 := cpuSnapshot(sys.pid())
	self1 := procCPU("self")
	r1, w1 := syscalls(sys.pid())
	ch.CyclesPS = float64(cycles.Load()) / wall
	ch.P50ms, ch.P99ms = ms(h.quantile(0.5)), ms(h.quantile(0.99))
	time.Sleep(500 * time.Millisecond)
	ch.Notices = rec.joins.Load()
	if c := cycles.Load(); c > 0 {
		ch.CPUmsPer1k = (cpu1 - cpu0) * 1e3 / float64(c) * 1000
		ch.ClientCPUmsPer1k = (self1 - self0) * 1e3 / float64(c) * 1000
		ch.ReadsPerCycle = float64(r1-r0) / float64(c)
		ch.WritesPerCycle = float64(w1-w0) / float64(c)
	}
	ch.OthersCores = (others1 - others0) / wall
	ch.Load1 = load1()
	ch.Errors = errs.Load()
	return ch
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
