// Command smppserver measures omnigate's SMPP server door against its
// MessageBird HTTP door and against Kannel's smsbox HTTP path in one run:
// the same number of messages through each, from submit until every
// delivered receipt is back (deliver_sm receipts on the SMPP binds; status
// reports at a loopback reportUrl for HTTP; Kannel's dlr-url for Kannel),
// in messages/s and CPU per message (utime+stime from /proc/PID/stat: of
// one `omnigate serve --demo`, which runs its SMSC simulator in the
// process, and of Kannel's bearerbox + smsbox, whose SMSC is `omnigate
// smsc` with the same receipt delay). With --profile it runs the SMPP door
// once more under pprof (serve --debug-addr) and prints the top functions.
//
//	go build -o /tmp/omnigate ./cmd/omnigate
//	go run ./bench/smppserver --bin /tmp/omnigate --n 3000 --profile /tmp/smpp.pprof --out bench/results/DATE-smpp-server.md
package main

import (
	"bytes"
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
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/session"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "smppserver:", err)
		os.Exit(1)
	}
}

type result struct {
	Door        string
	Setup       string
	Accepted    int64
	Refused     int64
	Delivered   int64
	AcceptSecs  float64 // until the last submit was answered
	Secs        float64 // until the last delivered receipt arrived
	CPUSecs     float64 // serve's utime+stime over the phase (Kannel: bearerbox + smsbox)
	SimCPUSecs  float64 // Kannel's column: the separate SMSC simulator's
	RefusedWhat string
}

func (r result) rate() float64       { return float64(r.Delivered) / r.Secs }
func (r result) acceptRate() float64 { return float64(r.Accepted) / r.AcceptSecs }
func (r result) cpuPerMsg() float64  { return r.CPUSecs / float64(r.Delivered) * 1e6 }

func run() error {
	bin := flag.String("bin", "", "omnigate binary (required: go build -o … ./cmd/omnigate)")
	n := flag.Int("n", 2000, "messages per door")
	binds := flag.Int("binds", 4, "SMPP transceiver binds")
	window := flag.Int("window", 10, "requests in flight per bind (the server's default window is 10)")
	conc := flag.Int("concurrency", 40, "HTTP requests in flight (binds × window by default)")
	out := flag.String("out", "", "write a Markdown table here too")
	timeout := flag.Duration("timeout", 5*time.Minute, "bound on each phase")
	kannel := flag.String("kannel", "auto", "the Kannel column: auto (when bearerbox and smsbox are installed), on, off")
	profile := flag.String("profile", "", "run the SMPP door once more under pprof, save the CPU profile here and print its top functions")
	flag.Parse()
	if *bin == "" {
		return errors.New("--bin is required")
	}
	if *conc <= 0 {
		*conc = *binds * *window
	}
	dir, err := os.MkdirTemp("", "omnigate-bench-smppserver.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	httpAddr, smppAddr, debugAddr := freeAddr(), freeAddr(), freeAddr()
	cmd := exec.Command(*bin, "serve", "--demo", "--http", httpAddr, "--smpp-listen", smppAddr, "--data", dir, "--debug-addr", debugAddr)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OMNIGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	logf, _ := os.Create(filepath.Join(dir, "serve.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	base := "http://" + httpAddr
	if err := waitHealthy(base); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
		return fmt.Errorf("%w\n%s", err, b)
	}
	var acct struct{ ID, Key string }
	b, err := os.ReadFile(filepath.Join(dir, "demo-account.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &acct); err != nil {
		return err
	}
	credOut, err := exec.Command(*bin, "smpp", "credentials", "--account", acct.ID, "--max-rate", "1000000", "--data", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("smpp credentials: %v: %s", err, credOut)
	}
	sysID := regexp.MustCompile(`(?m)^system_id: *(\S+)`).FindSubmatch(credOut)
	pw := regexp.MustCompile(`(?m)^password: *(\S+)`).FindSubmatch(credOut)
	if sysID == nil || pw == nil {
		return fmt.Errorf("cannot read the credentials: %s", credOut)
	}
	if out, err := exec.Command(*bin, "balance", "topup", "--account", acct.ID, "--amount", "100000", "--reason", "bench/smppserver", "--data", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("balance topup: %v: %s", err, out)
	}
	pid := cmd.Process.Pid
	fmt.Fprintf(os.Stderr, "serve pid %d, HTTP %s, SMPP %s, %d messages per door, %d CPUs\n", pid, httpAddr, smppAddr, *n, runtime.NumCPU())

	// Warm-up: a few messages through each door, not counted.
	if _, err := smppPhase(smppAddr, string(sysID[1]), string(pw[1]), 20, 1, *window, pid, *timeout, nil); err != nil {
		return fmt.Errorf("smpp warm-up: %w", err)
	}
	if _, err := httpPhase(base, acct.Key, 20, *conc, pid, *timeout); err != nil {
		return fmt.Errorf("http warm-up: %w", err)
	}

	var results []result
	s, err := smppPhase(smppAddr, string(sysID[1]), string(pw[1]), *n, *binds, *window, pid, *timeout, nil)
	if err != nil {
		return fmt.Errorf("smpp: %w", err)
	}
	results = append(results, s)
	h, err := httpPhase(base, acct.Key, *n, *conc, pid, *timeout)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	results = append(results, h)
	withKannel := *kannel == "on"
	if *kannel == "auto" {
		_, e1 := kannelBin("bearerbox")
		_, e2 := kannelBin("smsbox")
		withKannel = e1 == nil && e2 == nil
	}
	if withKannel {
		k, err := kannelPhase(*bin, *n, 20, *conc, *window, *timeout)
		if err != nil {
			return fmt.Errorf("kannel: %w", err)
		}
		results = append(results, k)
	} else {
		fmt.Fprintln(os.Stderr, "Kannel column skipped (--kannel off, or bearerbox/smsbox not installed)")
	}
	var top []byte
	if *profile != "" {
		if top, err = profileSMPP(*bin, debugAddr, *profile, smppAddr, string(sysID[1]), string(pw[1]), *n, *binds, *window, pid, *timeout, s.Secs); err != nil {
			return fmt.Errorf("profile: %w", err)
		}
	}

	var md bytes.Buffer
	fmt.Fprintf(&md, "| door | load | accepted | refused | delivered | accept msg/s | submit→delivered msg/s | gateway CPU µs/msg |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&md, "| %s | %s | %d | %d | %d | %.0f | %.0f | %.0f |\n", r.Door, r.Setup, r.Accepted, r.Refused, r.Delivered, r.acceptRate(), r.rate(), r.cpuPerMsg())
	}
	for _, r := range results {
		if r.SimCPUSecs > 0 {
			fmt.Fprintf(&md, "\n%s: bearerbox + smsbox; the separate SMSC simulator took another %.0f µs/msg (omnigate's figures include its in-process demo SMSC).\n",
				r.Door, r.SimCPUSecs/float64(r.Delivered)*1e6)
		}
	}
	for _, r := range results {
		if r.RefusedWhat != "" {
			fmt.Fprintf(&md, "\n%s refusals: %s\n", r.Door, r.RefusedWhat)
		}
	}
	if len(top) > 0 {
		fmt.Fprintf(&md, "\nCPU profile of serve during a further SMPP door run (go tool pprof -top):\n\n```\n%s```\n", top)
	}
	os.Stdout.Write(md.Bytes())
	if *out != "" {
		return os.WriteFile(*out, md.Bytes(), 0o644)
	}
	return nil
}

// profileSMPP runs the SMPP door again while serve's pprof records a CPU
// profile for about as long as the measured run took, saves it and
// returns `go tool pprof -top` of it.
func profileSMPP(bin, debugAddr, file, addr, sysID, pw string, n, binds, window, pid int, timeout time.Duration, secs float64) ([]byte, error) {
	seconds := int(secs) + 1
	type got struct {
		b   []byte
		err error
	}
	ch := make(chan got, 1)
	start := func() {
		go func() {
			resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, seconds))
			if err != nil {
				ch <- got{nil, err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("pprof: HTTP %d: %s", resp.StatusCode, b)
			}
			ch <- got{b, err}
		}()
		time.Sleep(50 * time.Millisecond)
	}
	// The profile starts once the binds are up (a bind's password check is
	// deliberately slow and would fill a short profile).
	if _, err := smppPhase(addr, sysID, pw, n, binds, window, pid, timeout, start); err != nil {
		return nil, err
	}
	g := <-ch
	if g.err != nil {
		return nil, g.err
	}
	if err := os.WriteFile(file, g.b, 0o644); err != nil {
		return nil, err
	}
	flat, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=15", bin, file).Output()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof: %w", err)
	}
	cum, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=40", bin, file).Output()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof: %w", err)
	}
	return append(append(flat, "\n-cum:\n"...), cum...), nil
}

func smppPhase(addr, sysID, pw string, n, binds, window, pid int, timeout time.Duration, bound func()) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var delivered atomic.Int64
	h := session.HandlerFunc(func(ctx context.Context, s *session.Session, req smpp.PDU) smpp.PDU {
		if d, ok := req.(*smpp.DeliverSM); ok {
			if d.IsReceipt() {
				delivered.Add(1)
			}
			return &smpp.DeliverSMResp{Header: smpp.Header{Seq: d.Seq}}
		}
		return nil
	})
	var sessions []*session.Session
	defer func() {
		for _, s := range sessions {
			s.Close(context.Background())
		}
	}()
	for i := 0; i < binds; i++ {
		s, err := session.Dial(ctx, addr, &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: sysID, Password: pw}, session.Config{Window: window}, h)
		if err != nil {
			return result{}, err
		}
		sessions = append(sessions, s)
	}
	if bound != nil {
		bound()
	}
	r := result{Door: "SMPP server", Setup: fmt.Sprintf("%d transceiver binds × window %d", binds, window)}
	cpu0, t0 := procCPU(pid), time.Now()
	var next, accepted, refused atomic.Int64
	var refusedMu sync.Mutex
	refusals := map[string]int{}
	var wg sync.WaitGroup
	for _, s := range sessions {
		for w := 0; w < window; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					resp, err := s.Send(ctx, &smpp.SubmitSM{SourceAddr: "omnigate", SourceTON: 5, DestAddr: "31612345678", DestTON: 1, DestNPI: 1,
						RegisteredDelivery: 1, ShortMessage: []byte("Benchmark message over SMPP")})
					if err == nil && resp.Hdr().Status == smpp.ESME_ROK {
						accepted.Add(1)
						continue
					}
					refused.Add(1)
					what := fmt.Sprint(err)
					if err == nil {
						what = resp.Hdr().Status.String()
					}
					refusedMu.Lock()
					refusals[what]++
					refusedMu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	r.AcceptSecs = time.Since(t0).Seconds()
	r.Accepted, r.Refused = accepted.Load(), refused.Load()
	for delivered.Load() < r.Accepted {
		if ctx.Err() != nil {
			return r, fmt.Errorf("%d of %d receipts within %s", delivered.Load(), r.Accepted, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.Secs = time.Since(t0).Seconds()
	r.CPUSecs = procCPU(pid) - cpu0
	r.Delivered = delivered.Load()
	if len(refusals) > 0 {
		r.RefusedWhat = fmt.Sprint(refusals)
	}
	return r, nil
}

func httpPhase(base, key string, n, conc, pid int, timeout time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var delivered atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("status") == "delivered" {
			delivered.Add(1)
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	reportURL := "http://" + ln.Addr().String() + "/report"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}, Timeout: 30 * time.Second}
	body, _ := json.Marshal(map[string]any{"originator": "omnigate", "recipients": []string{"31612345678"},
		"body": "Benchmark message over HTTP", "reportUrl": reportURL})

	r := result{Door: "MessageBird HTTP", Setup: fmt.Sprintf("%d requests in flight", conc)}
	cpu0, t0 := procCPU(pid), time.Now()
	err = loadHTTP(ctx, &r, client, n, conc, http.StatusCreated, &delivered, t0, func() *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/messages", bytes.NewReader(body))
		req.Header.Set("Authorization", "AccessKey "+key)
		req.Header.Set("Content-Type", "application/json")
		return req
	})
	r.CPUSecs = procCPU(pid) - cpu0
	return r, err
}

// loadHTTP sends n requests made by newReq from conc workers, counts those
// answered with status ok as accepted and the others as refused (by what
// went wrong), then waits until delivered reaches the accepted count; it
// fills r's counts and times from t0.
func loadHTTP(ctx context.Context, r *result, client *http.Client, n, conc, ok int, delivered *atomic.Int64, t0 time.Time, newReq func() *http.Request) error {
	var next, accepted, refused atomic.Int64
	var mu sync.Mutex
	refusals := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				resp, err := client.Do(newReq())
				what := fmt.Sprint(err)
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == ok {
						accepted.Add(1)
						continue
					}
					what = fmt.Sprintf("HTTP %d %.80s", resp.StatusCode, b)
				}
				refused.Add(1)
				mu.Lock()
				refusals[what]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.AcceptSecs = time.Since(t0).Seconds()
	r.Accepted, r.Refused = accepted.Load(), refused.Load()
	if len(refusals) > 0 {
		r.RefusedWhat = fmt.Sprint(refusals)
	}
	for delivered.Load() < r.Accepted {
		if ctx.Err() != nil {
			r.Delivered = delivered.Load()
			return fmt.Errorf("%d of %d reports within the timeout", r.Delivered, r.Accepted)
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.Secs = time.Since(t0).Seconds()
	r.Delivered = delivered.Load()
	return nil
}

// procCPU is a process's user+system CPU seconds (clock ticks of 1/100 s,
// Linux's USER_HZ).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// After the command name: state is field 3, utime 14, stime 15.
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(base string) error {
	for i := 0; i < 300; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("serve did not answer /healthz within 30 s")
}
