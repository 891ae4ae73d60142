package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// The third column: Kannel (Debian's bearerbox + smsbox) with the same
// SMSC simulator (omnigate smsc, the demo's receipt delay of 100 ms, as a
// separate process) as its SMSC, loaded through smsbox's
// /cgi-bin/sendsms with dlr-mask 1 and a dlr-url here, counting delivered
// reports. CPU is bearerbox's plus smsbox's (the simulator's is reported
// beside it: omnigate's figure includes its in-process demo SMSC).

const kannelConf = `group = core
admin-port = %[2]d
admin-interface = 127.0.0.1
admin-password = bench-pw
status-password = bench-pw
admin-allow-ip = "127.0.0.1"
smsbox-port = %[3]d
box-allow-ip = "127.0.0.1"
log-file = "%[1]s/bearerbox.log"
log-level = 2
store-type = spool
store-location = "%[1]s/store"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = sim
host = 127.0.0.1
port = %[5]d
transceiver-mode = true
smsc-username = "bench"
smsc-password = "bench-pw"
system-type = ""
max-pending-submits = %[6]d
msg-id-type = 0x00
log-file = "%[1]s/smsc.log"
log-level = 2

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = %[3]d
sendsms-port = %[4]d
sendsms-interface = 127.0.0.1
log-file = "%[1]s/smsbox.log"
log-level = 2

group = sendsms-user
username = "bench"
password = "bench-pw"
max-messages = 1

group = sms-service
keyword = default
text = "ok"
catch-all = true
`

// kannelBin finds a Kannel binary on the PATH or in /usr/sbin.
func kannelBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := "/usr/sbin/" + name
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found (apt-get install kannel)", name)
}

// kannelPhase runs Kannel against a fresh simulator and measures n
// messages, conc requests in flight, the SMSC connection's window window.
func kannelPhase(bin string, n, warm, conc, window int, timeout time.Duration) (result, error) {
	bb, err := kannelBin("bearerbox")
	if err != nil {
		return result{}, err
	}
	sb, err := kannelBin("smsbox")
	if err != nil {
		return result{}, err
	}
	dir, err := os.MkdirTemp("", "omnigate-bench-kannel.")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "store"), 0o755); err != nil {
		return result{}, err
	}
	port := func(addr string) int { _, p, _ := net.SplitHostPort(addr); var i int; fmt.Sscan(p, &i); return i }
	smscAddr, control := freeAddr(), freeAddr()
	admin, box, send := port(freeAddr()), port(freeAddr()), port(freeAddr())

	var procs []*exec.Cmd
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { procs[i].Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				procs[i].Process.Kill()
				<-done
			}
		}
	}()
	startProc := func(name string, argv ...string) (*exec.Cmd, error) {
		logf, err := os.Create(filepath.Join(dir, name+".out"))
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("starting %s: %w", name, err)
		}
		procs = append(procs, cmd)
		return cmd, nil
	}
	sim, err := startProc("smsc", bin, "smsc", "--listen", smscAddr, "--control", control, "--receipt-delay", "100ms",
		"--system-id", "bench", "--password", "bench-pw", "--log-level", "warn")
	if err != nil {
		return result{}, err
	}
	if err := until(30*time.Second, func() bool { return get("http://"+control+"/stats", "") }); err != nil {
		return result{}, fmt.Errorf("the SMSC simulator: %w", err)
	}
	conf := filepath.Join(dir, "kannel.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, kannelConf, dir, admin, box, send, port(smscAddr), window), 0o644); err != nil {
		return result{}, err
	}
	bbCmd, err := startProc("bearerbox", bb, "-v", "2", conf)
	if err != nil {
		return result{}, err
	}
	status := fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=bench-pw", admin)
	if err := until(30*time.Second, func() bool { return get(status, "(online") }); err != nil {
		return result{}, fmt.Errorf("bearerbox's SMPP connection: %w", err)
	}
	sbCmd, err := startProc("smsbox", sb, "-v", "2", conf)
	if err != nil {
		return result{}, err
	}
	if err := until(30*time.Second, func() bool { return get(status, "smsbox:") }); err != nil {
		return result{}, fmt.Errorf("smsbox's connection to bearerbox: %w", err)
	}
	sendURL := fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", send)
	cpu := func() float64 { return procCPU(bbCmd.Process.Pid) + procCPU(sbCmd.Process.Pid) }

	if warm > 0 {
		if _, err := kannelLoad(sendURL, warm, conc, cpu, timeout); err != nil {
			return result{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	sim0 := procCPU(sim.Process.Pid)
	r, err := kannelLoad(sendURL, n, conc, cpu, timeout)
	r.SimCPUSecs = procCPU(sim.Process.Pid) - sim0
	return r, err
}

func kannelLoad(sendURL string, n, conc int, cpu func() float64, timeout time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var delivered atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("type") == "1" { // delivered to the phone
			delivered.Add(1)
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	q := url.Values{}
	q.Set("username", "bench")
	q.Set("password", "bench-pw")
	q.Set("from", "omnigate")
	q.Set("to", "31612345678")
	q.Set("text", "Benchmark message over Kannel")
	q.Set("dlr-mask", "1")
	q.Set("dlr-url", "http://"+ln.Addr().String()+"/dlr?type=%d")
	target := sendURL + "?" + q.Encode()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}, Timeout: 30 * time.Second}

	r := result{Door: "Kannel smsbox HTTP", Setup: fmt.Sprintf("%d requests in flight", conc)}
	cpu0, t0 := cpu(), time.Now()
	err = loadHTTP(ctx, &r, client, n, conc, http.StatusAccepted, &delivered, t0, func() *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		return req
	})
	r.CPUSecs = cpu() - cpu0
	return r, err
}

// get reports whether url answers (any status) with want in its body.
func get(u, want string) bool {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(b), want)
}

func until(d time.Duration, ok func() bool) error {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return nil
		}
	}
	return errors.New("not ready within " + d.String())
}
