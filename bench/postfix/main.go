// Command postfix compares omnigate with Postfix as an email relay on the
// same machine in the same run (bench/compare-postfix.sh builds and runs
// it): the same load of emails (--size bytes of body, --sessions parallel
// senders, a new SMTP connection per message) to the same sink MX,
// Postfix's smtp-sink (a fresh one per system, dumping every message to a
// file: the count and the arrival times).
//
// Systems, each on its own fresh sink:
//
//	postfix/smtp-source  Postfix's own load tool into a private Postfix
//	                     instance (stock settings: an fsync per message
//	                     before the 250) relaying to the sink — the bar the
//	                     issue quotes; no per-message latency
//	postfix              the same instance, fed by this program's SMTP
//	                     generator (a timestamp header in each message)
//	omnigate/http        omnigate serve (SQLite, --sqlite-sync FULL, DKIM
//	                     signing, an smtp connector relaying to the sink),
//	                     fed through POST /v1/send by this program
//	omnigate/submission  the same, fed over SMTP through omnigate's
//	                     submission door (AUTH PLAIN with the access key)
//
// Reported per system: accepted/s (messages over the time to the last
// 250/202), delivered/s (messages at the sink over the time from the
// start to the last arrival), CPU per message (utime+stime of the
// gateway's processes: Postfix's master, its reaped and its running
// daemons; omnigate serve), accept and end-to-end latency percentiles,
// and the ratios omnigate/Postfix. The omnigate systems run only when the
// binary has the email channel (see missing()); until then they are
// listed as waiting, with what they wait for.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/omnigate/omnigate/interop/postfix/dnszone"
	"github.com/omnigate/omnigate/interop/postfix/pfinstance"
)

type options struct {
	omnigateBin string
	repo        string
	outDir      string
	name        string
	messages    int
	sessions    int
	size        int
	grace       time.Duration
	systems     []string
	smoke       bool
	note        string
	profileDir  string
}

func main() {
	o := &options{}
	fs := flag.NewFlagSet("compare-postfix", flag.ExitOnError)
	fs.StringVar(&o.omnigateBin, "omnigate-bin", "", "the omnigate binary")
	fs.StringVar(&o.repo, "repo", ".", "the repository (results go to its bench/results)")
	fs.StringVar(&o.outDir, "out", "", "where to write DATE-NAME.{md,json} (default: REPO/bench/results; smoke: nowhere)")
	fs.StringVar(&o.name, "name", "postfix", "results file name after the date")
	fs.IntVar(&o.messages, "messages", 10000, "messages per system")
	fs.IntVar(&o.sessions, "sessions", 20, "parallel senders (SMTP sessions, HTTP requests in flight)")
	fs.IntVar(&o.size, "size", 5120, "message body bytes")
	fs.DurationVar(&o.grace, "grace", 3*time.Minute, "how long delivery may go on after the last message is accepted")
	systems := fs.String("systems", "postfix/smtp-source,postfix,omnigate/http,omnigate/submission", "systems to run, in order")
	fs.BoolVar(&o.smoke, "smoke", false, "tiny counts for CI: every system that runs must deliver everything; no results written")
	fs.StringVar(&o.note, "note", "", "a note for the results file (the machine's state, …)")
	fs.StringVar(&o.profileDir, "cpuprofile", "", "write a CPU profile of omnigate serve during each omnigate system's load to DIR/<system>.pprof (serve --debug-addr)")
	fs.Parse(os.Args[1:])
	o.systems = strings.Split(*systems, ",")
	if o.smoke {
		o.messages, o.sessions, o.grace = 200, 5, time.Minute
	}
	if o.outDir == "" && !o.smoke {
		o.outDir = filepath.Join(o.repo, "bench", "results")
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "compare-postfix: FAIL: %v\n", err)
		os.Exit(1)
	}
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "compare-postfix: "+format+"\n", a...)
}

// result is one system's run.
type result struct {
	System          string  `json:"system"`
	Messages        int     `json:"messages"`
	Accepted        int     `json:"accepted"`
	Errors          int     `json:"errors"`
	Delivered       int     `json:"delivered"`
	Signed          int     `json:"dkim_signed"` // messages at the sink with a DKIM-Signature
	AcceptSeconds   float64 `json:"accept_seconds"`
	DeliverSeconds  float64 `json:"deliver_seconds"`
	AcceptedPerSec  float64 `json:"accepted_per_second"`
	DeliveredPerSec float64 `json:"delivered_per_second"`
	CPUSeconds      float64 `json:"cpu_seconds"`
	CPUMsPerMessage float64 `json:"cpu_ms_per_message"`
	AcceptP50       float64 `json:"accept_p50_ms"`
	AcceptP99       float64 `json:"accept_p99_ms"`
	E2EP50          float64 `json:"e2e_p50_ms"`
	E2EP90          float64 `json:"e2e_p90_ms"`
	E2EP99          float64 `json:"e2e_p99_ms"`
	E2EMax          float64 `json:"e2e_max_ms"`
	// Delays is where a Postfix message's time went (p50 / p99 seconds
	// of the log's delays=a/b/c/d: before the queue manager, waiting in
	// it, connection setup, transmission).
	Delays     string `json:"postfix_delays,omitempty"`
	Skipped    string `json:"skipped,omitempty"`
	FirstError string `json:"first_error,omitempty"`
}

func run(o *options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	work, err := os.MkdirTemp("", "omnigate-compare-postfix.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	os.Chmod(work, 0o755)
	started := time.Now()
	logf("%d messages of %d bytes per system, %d sessions; systems %s", o.messages, o.size, o.sessions, strings.Join(o.systems, ", "))

	var results []result
	for i, sys := range o.systems {
		dir := filepath.Join(work, strconv.Itoa(i))
		os.MkdirAll(dir, 0o755)
		var r result
		var err error
		switch sys {
		case "postfix/smtp-source", "postfix":
			r, err = runPostfix(ctx, o, dir, sys)
		case "omnigate/http", "omnigate/submission":
			r, err = runOmnigate(ctx, o, dir, sys)
		default:
			return fmt.Errorf("unknown system %q", sys)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", sys, err)
		}
		r.System = sys
		results = append(results, r)
		if r.Skipped != "" {
			logf("%s: skipped: %s", sys, r.Skipped)
		} else {
			logf("%s: accepted %d/%d (%.0f/s), delivered %d (%.0f/s), %.2f ms CPU/msg, e2e p50 %s p99 %s",
				sys, r.Accepted, r.Messages, r.AcceptedPerSec, r.Delivered, r.DeliveredPerSec, r.CPUMsPerMessage, ms(r.E2EP50), ms(r.E2EP99))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	report := markdown(o, results, started)
	fmt.Println(report)
	if o.outDir != "" {
		base := filepath.Join(o.outDir, started.Format("2006-01-02")+"-"+o.name)
		js, _ := json.MarshalIndent(map[string]any{"date": started.UTC().Format(time.RFC3339), "messages": o.messages,
			"sessions": o.sessions, "size": o.size, "note": o.note, "results": results}, "", "  ")
		if err := os.WriteFile(base+".json", append(js, '\n'), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(base+".md", []byte(report), 0o644); err != nil {
			return err
		}
		logf("wrote %s.{md,json}", base)
	}
	if o.smoke {
		for _, r := range results {
			if r.Skipped == "" && (r.Delivered < r.Messages || r.Errors > 0) {
				return fmt.Errorf("smoke: %s delivered %d of %d (%d errors: %s)", r.System, r.Delivered, r.Messages, r.Errors, r.FirstError)
			}
			if r.Skipped == "" && strings.HasPrefix(r.System, "omnigate") && r.Signed < r.Delivered {
				return fmt.Errorf("smoke: %s: %d of %d messages at the sink are DKIM-signed; the comparison is with DKIM on", r.System, r.Signed, r.Delivered)
			}
		}
	}
	return nil
}

// ---- the sink ----

type sink struct {
	addr, dir string
	cmd       *exec.Cmd
}

// startSink runs smtp-sink on a free loopback port, dumping each message
// into dir (one file per message; its modification time is its arrival).
func startSink(dir string) (*sink, error) {
	s := &sink{addr: freeAddr(), dir: filepath.Join(dir, "sink")}
	if err := os.MkdirAll(s.dir, 0o777); err != nil {
		return nil, err
	}
	os.Chmod(s.dir, 0o777)
	s.cmd = exec.Command("/usr/sbin/smtp-sink", "-u", "nobody", "-d", s.dir+"/%H%M%S.", s.addr, "256")
	log, _ := os.Create(filepath.Join(dir, "smtp-sink.log"))
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("smtp-sink: %w", err)
	}
	for i := 0; i < 50; i++ {
		if c, err := net.Dial("tcp", s.addr); err == nil {
			c.Close()
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, errors.New("smtp-sink is not listening")
}

func (s *sink) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func (s *sink) count() int {
	ents, _ := os.ReadDir(s.dir)
	return len(ents)
}

// waitFor waits until n messages arrived or grace passed since the last
// new arrival, and returns how many arrived.
func (s *sink) waitFor(ctx context.Context, n int, grace time.Duration) int {
	last, lastChange := -1, time.Now()
	for ctx.Err() == nil {
		c := s.count()
		if c >= n {
			return c
		}
		if c != last {
			last, lastChange = c, time.Now()
		}
		if time.Since(lastChange) > grace {
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s.count()
}

var (
	sentHeader = regexp.MustCompile(`(?mi)^X-Bench-Sent: *(\d+)`)
	dkimHeader = regexp.MustCompile(`(?mi)^DKIM-Signature:`)
)

// settle waits (at most 3 s) until the dumped messages stop growing:
// smtp-sink creates a message's file before it has written it, so the
// last one counted may still be partial.
func (s *sink) settle() {
	size := func() (n int64) {
		ents, _ := os.ReadDir(s.dir)
		for _, e := range ents {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
		return n
	}
	prev, stable := size(), 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && stable < 2; {
		time.Sleep(150 * time.Millisecond)
		if cur := size(); cur == prev {
			stable++
		} else {
			prev, stable = cur, 0
		}
	}
}

// arrivals reads the dumped messages: the last arrival, and each
// message's end-to-end latency where it carries X-Bench-Sent.
func (s *sink) arrivals() (last time.Time, lat []float64, signed int) {
	s.settle()
	ents, _ := os.ReadDir(s.dir)
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			continue
		}
		if info.ModTime().After(last) {
			last = info.ModTime()
		}
		f, err := os.Open(filepath.Join(s.dir, e.Name()))
		if err != nil {
			continue
		}
		head := make([]byte, 4096)
		n, _ := io.ReadFull(f, head)
		f.Close()
		if dkimHeader.Match(head[:n]) {
			signed++
		}
		if m := sentHeader.FindSubmatch(head[:n]); m != nil {
			sent, _ := strconv.ParseInt(string(m[1]), 10, 64)
			lat = append(lat, float64(info.ModTime().UnixNano()-sent)/1e6)
		}
	}
	return last, lat, signed
}

// ---- load ----

// body is the message text: lines of 76 characters up to size bytes.
func body(size int) string {
	var b strings.Builder
	line := strings.Repeat("omnigate compare-postfix benchmark payload ", 2)[:76]
	for b.Len()+78 <= size {
		b.WriteString(line + "\r\n")
	}
	for b.Len() < size {
		b.WriteByte('x')
	}
	return b.String()
}

// load runs fn for messages 0..n-1 on sessions goroutines and returns
// each accepted message's accept latency (ms), the errors and the time
// of the last acceptance.
func load(ctx context.Context, n, sessions int, fn func(i int) error) (acc []float64, errs int, firstErr string, end time.Time) {
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < sessions; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				err := fn(i)
				d := time.Since(t)
				mu.Lock()
				if err != nil {
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
				} else {
					acc = append(acc, float64(d)/1e6)
					end = time.Now()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return acc, errs, firstErr, end
}

// smtpSend sends one message over a new connection (AUTH PLAIN when
// auth is set), as smtp-source does by default.
func smtpSend(addr string, auth smtp.Auth, from, to string, i int, text string) error {
	start := time.Now() // X-Bench-Sent: the session's start, connect included
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("bench.test"); err != nil {
		return err
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "From: <%s>\r\nTo: <%s>\r\nSubject: compare-postfix %d\r\nDate: %s\r\nMessage-ID: <%d.%d@bench.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nX-Bench-Sent: %d\r\n\r\n%s",
		from, to, i, start.Format(time.RFC1123Z), i, start.UnixNano(), start.UnixNano(), text)
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// ---- Postfix ----

func runPostfix(ctx context.Context, o *options, dir, sys string) (result, error) {
	r := result{Messages: o.messages}
	sk, err := startSink(dir)
	if err != nil {
		return r, err
	}
	defer sk.stop()
	pfAddr := freeAddr()
	defer pfinstance.StopDir(filepath.Join(dir, "postfix")) // also when Start is cut short
	pf, err := pfinstance.Start(ctx, pfinstance.Config{
		Dir: filepath.Join(dir, "postfix"), Listen: pfAddr, Hostname: "relay.postfix.test",
		Main: map[string]string{
			// Stock settings otherwise: an fsync per message before the
			// 250, default concurrency and process limits.
			"relayhost":         "[" + hostOf(sk.addr) + "]:" + portOf(sk.addr),
			"default_transport": "smtp",
		},
	})
	if err != nil {
		return r, err
	}
	from, to := "bench@sender.test", "rcpt@sink.test"
	cpu0, err := pf.CPU()
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	var acc []float64
	var end time.Time
	if sys == "postfix/smtp-source" {
		cmd := exec.CommandContext(ctx, "/usr/sbin/smtp-source", "-s", strconv.Itoa(o.sessions), "-l", strconv.Itoa(o.size),
			"-m", strconv.Itoa(o.messages), "-f", from, "-t", to, "-M", "bench.test", pfAddr)
		out, err := cmd.CombinedOutput()
		end = time.Now()
		if err != nil {
			r.Errors, r.FirstError = 1, fmt.Sprintf("smtp-source: %v: %s", err, out)
		} else {
			r.Accepted = o.messages
		}
	} else {
		text := body(o.size)
		acc, r.Errors, r.FirstError, end = load(ctx, o.messages, o.sessions, func(i int) error {
			return smtpSend(pfAddr, nil, from, to, i, text)
		})
		r.Accepted = len(acc)
	}
	r.Delivered = sk.waitFor(ctx, r.Accepted, o.grace)
	cpu1, err := pf.CPU()
	if err != nil {
		return r, err
	}
	finish(&r, t0, end, cpu1-cpu0, acc, sk)
	r.Delays = delays(pf.Log())
	return r, nil
}

var delaysRe = regexp.MustCompile(`relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*delays=([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+)`)

// delays summarises Postfix's delays=a/b/c/d of the deliveries to the sink.
func delays(log string) string {
	var parts [4][]float64
	for _, m := range delaysRe.FindAllStringSubmatch(log, -1) {
		for k := 0; k < 4; k++ {
			v, _ := strconv.ParseFloat(m[k+1], 64)
			parts[k] = append(parts[k], v)
		}
	}
	if len(parts[0]) == 0 {
		return ""
	}
	names := []string{"before the queue manager", "in the queue manager", "connection setup", "transmission"}
	var out []string
	for k, n := range names {
		out = append(out, fmt.Sprintf("%s %.2f / %.2f s", n, pct(parts[k], 50), pct(parts[k], 99)))
	}
	return strings.Join(out, "; ")
}

// finish fills in the rates, CPU and percentiles.
func finish(r *result, t0, end time.Time, cpu time.Duration, acc []float64, sk *sink) {
	last, lat, signed := sk.arrivals()
	r.Signed = signed
	if !end.IsZero() {
		r.AcceptSeconds = end.Sub(t0).Seconds()
		r.AcceptedPerSec = float64(r.Accepted) / r.AcceptSeconds
	}
	if r.Delivered > 0 && last.After(t0) {
		r.DeliverSeconds = last.Sub(t0).Seconds()
		r.DeliveredPerSec = float64(r.Delivered) / r.DeliverSeconds
	}
	r.CPUSeconds = cpu.Seconds()
	if r.Delivered > 0 {
		r.CPUMsPerMessage = cpu.Seconds() * 1000 / float64(r.Delivered)
	}
	r.AcceptP50, r.AcceptP99 = pct(acc, 50), pct(acc, 99)
	r.E2EP50, r.E2EP90, r.E2EP99, r.E2EMax = pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 100)
}

// pct is the p-th percentile (nearest rank), -1 without samples.
func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return -1
	}
	s := slices.Clone(v)
	slices.Sort(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}

// ---- omnigate ----

// missing lists what omnigate must have for its half to run: the email
// channel's merge (issue 14) brings each of them.
func missing(bin, sys string) []string {
	var m []string
	serve := help(bin, "serve")
	if !strings.Contains(serve, "-dns-resolver") {
		m = append(m, "serve --dns-resolver (domain verification through the bench's DNS zone)")
	}
	if sys == "omnigate/submission" && !strings.Contains(serve, "-smtp-submission") {
		m = append(m, "serve --smtp-submission (the SMTP submission door)")
	}
	if h := help(bin, "email", "domain", "add"); strings.Contains(h, "unknown command") || !strings.Contains(h, "-account") {
		m = append(m, "`omnigate email domain add` (DKIM domains)")
	}
	if !strings.Contains(help(bin, "connector", "add"), "smtp") {
		m = append(m, "connector kind smtp")
	}
	return m
}

// help is a command's -h text (the flag package prints it on stderr).
func help(bin string, args ...string) string {
	out, _ := exec.Command(bin, append(args, "-h")...).CombinedOutput()
	return string(out)
}

func runOmnigate(ctx context.Context, o *options, dir, sys string) (result, error) {
	r := result{Messages: o.messages}
	if o.omnigateBin == "" {
		r.Skipped = "no --omnigate-bin"
		return r, nil
	}
	if m := missing(o.omnigateBin, sys); len(m) > 0 {
		r.Skipped = "waits for the email channel's merge: " + strings.Join(m, "; ")
		return r, nil
	}
	sk, err := startSink(dir)
	if err != nil {
		return r, err
	}
	defer sk.stop()
	zone, err := dnszone.Start()
	if err != nil {
		return r, err
	}
	defer zone.Close()

	bin, data := o.omnigateBin, filepath.Join(dir, "data")
	cli := func(args ...string) ([]byte, error) {
		out, err := exec.CommandContext(ctx, bin, args...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = fmt.Errorf("%v: %s", err, ee.Stderr)
			}
			return out, fmt.Errorf("omnigate %s: %w", strings.Join(args, " "), err)
		}
		return out, nil
	}
	out, err := cli("account", "create", "--name", "bench", "--balance", "100000000", "--data", data)
	if err != nil {
		return r, err
	}
	var acct struct{ ID, Key string }
	if json.Unmarshal(out, &acct) != nil || acct.Key == "" {
		return r, fmt.Errorf("account create: no id and key in %s", out)
	}
	// The return path's MX (mx.omnigate.test, 127.0.0.1 in the zone) is
	// published and checked when omnigate is told its name.
	mx := []string{}
	if strings.Contains(help(bin, "email", "domain", "add"), "-email-mx-host") {
		mx = []string{"--email-mx-host", "mx.omnigate.test"}
	}
	if out, err = cli(append([]string{"email", "domain", "add", "sender.test", "--account", acct.ID, "--data", data}, mx...)...); err != nil {
		return r, err
	}
	if len(zone.Publish(out)) == 0 {
		return r, fmt.Errorf("email domain add printed no DNS records: %s", out)
	}
	settings, _ := json.Marshal(map[string]any{"relay": sk.addr})
	if _, err := cli("connector", "add", "--name", "sink", "--kind", "smtp", "--settings", string(settings), "--data", data); err != nil {
		return r, err
	}
	if _, err := cli("route", "add", "--channel", "email", "--connectors", "sink", "--data", data); err != nil {
		return r, err
	}
	httpAddr, subAddr := freeAddr(), freeAddr()
	args := append([]string{"serve", "--http", httpAddr, "--data", data, "--sqlite-sync", "FULL", "--dns-resolver", zone.Addr}, mx...)
	debugAddr := ""
	if o.profileDir != "" {
		debugAddr = freeAddr()
		args = append(args, "--debug-addr", debugAddr)
	}
	if sys == "omnigate/submission" {
		args = append(args, "--smtp-submission", subAddr)
	}
	logFile, _ := os.Create(filepath.Join(dir, "serve.log"))
	serve := exec.Command(bin, args...)
	serve.Stdout, serve.Stderr = logFile, logFile
	if err := serve.Start(); err != nil {
		return r, err
	}
	defer func() {
		serve.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { serve.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			serve.Process.Kill()
			<-done
		}
	}()
	api := "http://" + httpAddr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.sessions}, Timeout: time.Minute}
	call := func(method, path string, body []byte) (int, []byte, error) {
		req, _ := http.NewRequestWithContext(ctx, method, api+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "AccessKey "+acct.Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return resp.StatusCode, b, nil
	}
	ready := false
	for i := 0; i < 200 && !ready; i++ {
		if c, _, err := call("GET", "/readyz", nil); err == nil && c == 200 {
			ready = true
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !ready {
		b, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
		return r, fmt.Errorf("omnigate serve is not ready: %s", b)
	}
	if c, b, err := call("POST", "/email/domains/sender.test/verify", nil); err != nil || c != 200 {
		if _, cerr := cli("email", "domain", "verify", "sender.test", "--account", acct.ID, "--data", data, "--dns-resolver", zone.Addr); cerr != nil {
			return r, fmt.Errorf("domain verify: API %d %s %v; CLI: %v", c, b, err, cerr)
		}
	}

	from, to := "bench@sender.test", "rcpt@sink.test"
	text := body(o.size)
	var send func(i int) error
	if sys == "omnigate/http" {
		send = func(i int) error {
			b, _ := json.Marshal(map[string]any{"type": "email", "content": map[string]any{"email": map[string]any{
				"from": map[string]string{"email": from}, "to": []map[string]string{{"email": to}},
				"subject": fmt.Sprintf("compare-postfix %d", i), "content": map[string]string{"text": text},
				"headers": map[string]string{"X-Bench-Sent": strconv.FormatInt(time.Now().UnixNano(), 10)},
			}}})
			c, ans, err := call("POST", "/v1/send", b)
			if err != nil {
				return err
			}
			if c/100 != 2 {
				return fmt.Errorf("POST /v1/send: %d %s", c, ans)
			}
			return nil
		}
	} else {
		auth := smtp.PlainAuth("", "bench", acct.Key, hostOf(subAddr))
		send = func(i int) error { return smtpSend(subAddr, auth, from, to, i, text) }
	}
	pid := serve.Process.Pid
	cpu0, err := pfinstance.TreeCPU(pid)
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	profiled := make(chan struct{})
	if debugAddr != "" {
		// A profile of the accepting part of the load (estimated from the
		// messages and a first guess of 150/s, at least 5 s).
		secs := max(5, o.messages/150)
		go func() {
			defer close(profiled)
			if err := profile(ctx, debugAddr, secs, filepath.Join(o.profileDir, strings.ReplaceAll(sys, "/", "-")+".pprof")); err != nil {
				logf("%s: profile: %v", sys, err)
			}
		}()
	} else {
		close(profiled)
	}
	acc, errs, first, end := load(ctx, o.messages, o.sessions, send)
	r.Accepted, r.Errors, r.FirstError = len(acc), errs, first
	r.Delivered = sk.waitFor(ctx, r.Accepted, o.grace)
	cpu1, err := pfinstance.TreeCPU(pid)
	if err != nil {
		return r, err
	}
	finish(&r, t0, end, cpu1-cpu0, acc, sk)
	<-profiled
	return r, nil
}

// profile fetches a CPU profile of secs seconds from serve's profiler.
func profile(ctx context.Context, addr string, secs int, file string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s", resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// ---- report ----

func ms(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func markdown(o *options, rs []result, started time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# omnigate vs Postfix, %s\n\n", started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "%d messages of %d bytes per system, %d parallel senders, a new SMTP connection per message; sink: Postfix's smtp-sink (one fresh per system); %s.\n",
		o.messages, o.size, o.sessions, machine())
	if o.note != "" {
		fmt.Fprintf(&b, "\n%s\n", o.note)
	}
	b.WriteString("\n| system | accepted | delivered | DKIM-signed | accepted/s | delivered/s | CPU ms/msg | accept p50 / p99 ms | e2e p50 / p90 / p99 / max ms | errors |\n|---|---:|---:|---:|---:|---:|---:|---|---|---:|\n")
	var pf *result
	for i := range rs {
		r := &rs[i]
		if r.Skipped != "" {
			fmt.Fprintf(&b, "| %s | — | — | — | — | — | — | — | — | %s |\n", r.System, r.Skipped)
			continue
		}
		if r.System == "postfix" {
			pf = r
		}
		fmt.Fprintf(&b, "| %s | %d/%d | %d | %d | %.0f | %.0f | %.2f | %s / %s | %s / %s / %s / %s | %d |\n", r.System, r.Accepted, r.Messages,
			r.Delivered, r.Signed, r.AcceptedPerSec, r.DeliveredPerSec, r.CPUMsPerMessage, ms(r.AcceptP50), ms(r.AcceptP99),
			ms(r.E2EP50), ms(r.E2EP90), ms(r.E2EP99), ms(r.E2EMax), r.Errors)
	}
	for _, r := range rs {
		if pf == nil || r.Skipped != "" || !strings.HasPrefix(r.System, "omnigate") {
			continue
		}
		ratio := func(a, b float64) string {
			if a < 0 || b <= 0 {
				return "n/a"
			}
			return fmt.Sprintf("%.2f×", a/b)
		}
		fmt.Fprintf(&b, "| **%s / postfix** | | | | **%s** | **%s** | %s | %s | %s / %s / %s | |\n", r.System,
			ratio(r.AcceptedPerSec, pf.AcceptedPerSec), ratio(r.DeliveredPerSec, pf.DeliveredPerSec), ratio(r.CPUMsPerMessage, pf.CPUMsPerMessage),
			ratio(r.AcceptP50, pf.AcceptP50), ratio(r.E2EP50, pf.E2EP50), ratio(r.E2EP90, pf.E2EP90), ratio(r.E2EP99, pf.E2EP99))
	}
	for _, r := range rs {
		if r.Delays != "" {
			fmt.Fprintf(&b, "\nWhere %s's time goes (Postfix's log, delays= of the deliveries to the sink, p50 / p99): %s.\n", r.System, r.Delays)
		}
	}
	b.WriteString("\nRatio rows: omnigate's figure over the `postfix` row's (the same generator); latency ratios are p50 of accept, and p50 / p90 / p99 end to end.\n")
	b.WriteString("\naccepted/s: messages over the time to the last 250 (SMTP) or 202 (HTTP). delivered/s: messages at the sink over the time from the start to the last arrival. CPU: utime+stime of the gateway's processes (Postfix: the master, its reaped and its running daemons; omnigate: serve) over the run, per delivered message. e2e: the X-Bench-Sent header's time to the sink's file time (smtp-source sends no timestamp).\n")
	return b.String()
}

func machine() string {
	var parts []string
	if out, err := exec.Command("/usr/sbin/postconf", "-d", "-h", "mail_version").Output(); err == nil {
		parts = append(parts, "Postfix "+strings.TrimSpace(string(out)))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		parts = append(parts, "load average before "+strings.Join(strings.Fields(string(b))[:3], " "))
	}
	if n, err := exec.Command("nproc").Output(); err == nil {
		parts = append(parts, strings.TrimSpace(string(n))+" cores")
	}
	return strings.Join(parts, ", ")
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func hostOf(addr string) string { h, _, _ := net.SplitHostPort(addr); return h }
func portOf(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
