package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const userHZ = 100

// rss is a process's resident set size in bytes (0 when unknown).
func rss(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// procCPU is a process's user + system CPU time in seconds.
func procCPU(pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces) in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / userHZ
}

// syscalls is a process's count of read and write system calls so far
// (syscr and syscw of /proc/PID/io: read, recv and the like; write,
// writev, send and the like); 0, 0 when unknown.
func syscalls(pid int) (reads, writes int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscr:"); ok {
			reads, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		} else if v, ok := strings.CutPrefix(line, "syscw:"); ok {
			writes, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return reads, writes
}

// busy is the machine's non-idle CPU time in seconds (/proc/stat).
func busy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var total float64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		total += n
	}
	return total / userHZ
}

// cpuSnapshot is the server's CPU seconds and those of every process other
// than the server and this program.
func cpuSnapshot(pid int) (server, others float64) {
	server = procCPU(strconv.Itoa(pid))
	self := procCPU("self")
	return server, busy() - server - self
}

// load1 is the one-minute load average.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// report writes the side-by-side comparison and each system's steps.
func report(w io.Writer, o options, rs []*result) {
	title := "omnigate vs Centrifugo, realtime"
	if o.label != "" {
		title += " (" + o.label + ")"
	}
	fmt.Fprintf(w, "# %s\n\n", title)
	host, _ := os.Hostname()
	fmt.Fprintf(w, "%s on %s, %s; %d connections, %d-byte events, %s per step; one process for all clients and the publisher.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, machine(), o.conns, o.payload, o.duration)
	fmt.Fprint(w, "| measure |")
	for _, r := range rs {
		fmt.Fprintf(w, " %s |", r.System)
	}
	fmt.Fprint(w, "\n|---|")
	for range rs {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	row := func(name string, f func(r *result) string) {
		fmt.Fprintf(w, "| %s |", name)
		for _, r := range rs {
			fmt.Fprintf(w, " %s |", f(r))
		}
		fmt.Fprintln(w)
	}
	row("RSS per idle connection", func(r *result) string { return fmt.Sprintf("%.1f KiB", r.idlePerConn()/1024) })
	row("RSS per connection, subscribed to 2 channels", func(r *result) string { return fmt.Sprintf("%.1f KiB", r.subscribedPerConn()/1024) })
	row("connect time", func(r *result) string { return fmt.Sprintf("%.1f s", r.ConnectTime) })
	row("one channel: highest rate kept up", func(r *result) string { return best(r.One) })
	row("one channel: p50 / p99 at that rate", func(r *result) string { return bestLatency(r.One) })
	row("one channel: server CPU per 1,000 deliveries", func(r *result) string { return bestCPU(r.One) })
	row("many channels: highest rate kept up", func(r *result) string { return best(r.Many) })
	row("many channels: p50 / p99 at that rate", func(r *result) string { return bestLatency(r.Many) })
	row("many channels: server CPU per 1,000 deliveries", func(r *result) string { return bestCPU(r.Many) })
	row("presence join+leave cycles/s", func(r *result) string { return fmt.Sprintf("%.0f", r.Churn.CyclesPS) })
	row("presence join p50 / p99", func(r *result) string { return fmt.Sprintf("%.1f / %.1f ms", r.Churn.P50ms, r.Churn.P99ms) })
	row("presence: server CPU per 1,000 cycles", func(r *result) string { return fmt.Sprintf("%.0f ms", r.Churn.CPUmsPer1k) })
	row("presence: load tool CPU per 1,000 cycles", func(r *result) string { return fmt.Sprintf("%.0f ms", r.Churn.ClientCPUmsPer1k) })
	row("presence: server reads / writes per cycle (system calls)", func(r *result) string {
		return fmt.Sprintf("%.1f / %.1f", r.Churn.ReadsPerCycle, r.Churn.WritesPerCycle)
	})
	row("connections the server closed", func(r *result) string {
		if r.Closed == 0 {
			return "0"
		}
		return fmt.Sprintf("%d (%s)", r.Closed, r.FirstClose)
	})
	fmt.Fprintln(w)
	for _, r := range rs {
		fmt.Fprintf(w, "## %s\n\n", r.System)
		fmt.Fprintf(w, "RSS: %.1f MiB before the connections, %.1f MiB with %d idle, %.1f MiB subscribed.\n\n",
			mib(r.RSSBase), mib(r.RSSIdle), r.Conns, mib(r.RSSSubscribe))
		fmt.Fprintln(w, "| scenario | events/s | deliveries/s | delivered/expected | p50 ms | p99 ms | max ms | server CPU ms/1000 | server cores | other processes' cores | load 1 min | kept up |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
		for _, sc := range []struct {
			name  string
			steps []step
		}{{"one", r.One}, {"many", r.Many}} {
			for _, s := range sc.steps {
				kept := "yes"
				if s.Behind {
					kept = "**no**"
					if s.FirstError != "" {
						kept += " (" + s.FirstError + ")"
					}
				}
				fmt.Fprintf(w, "| %s | %d | %.0f | %d/%d | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.1f | %s |\n",
					sc.name, s.Rate, s.DeliveriesPS, s.Delivered, s.Expected, s.P50ms, s.P99ms, s.MaxMs, s.CPUmsPer1k, s.ServerCores, s.OthersCores, s.Load1, kept)
			}
		}
		c := r.Churn
		fmt.Fprintf(w, "\nPresence churn: %d connections over %d channels, %.0f join+leave cycles/s, join p50 %.1f ms, p99 %.1f ms, %d join/leave notices received, %.0f ms server CPU per 1,000 cycles, other processes %.2f cores, load %.1f, %d errors.\n\n",
			c.Churners, c.Channels, c.CyclesPS, c.P50ms, c.P99ms, c.Notices, c.CPUmsPer1k, c.OthersCores, c.Load1, c.Errors)
		fmt.Fprintln(w, "Commands:\n\n```")
		for _, cmd := range r.Commands {
			fmt.Fprintln(w, cmd)
		}
		fmt.Fprintln(w, "```")
		fmt.Fprintln(w)
	}
}

// bestStep is the last step that kept up.
func bestStep(ss []step) *step {
	var b *step
	for i := range ss {
		if !ss[i].Behind {
			b = &ss[i]
		}
	}
	return b
}

func best(ss []step) string {
	b := bestStep(ss)
	if b == nil {
		return "none"
	}
	s := fmt.Sprintf("%.0f deliveries/s (%d ev/s)", b.DeliveriesPS, b.Rate)
	if len(ss) > 0 && !ss[len(ss)-1].Behind {
		s += ", highest step"
	}
	return s
}

func bestLatency(ss []step) string {
	if b := bestStep(ss); b != nil {
		return fmt.Sprintf("%.1f / %.1f ms", b.P50ms, b.P99ms)
	}
	return "–"
}

func bestCPU(ss []step) string {
	if b := bestStep(ss); b != nil {
		return fmt.Sprintf("%.1f ms", b.CPUmsPer1k)
	}
	return "–"
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func machine() string {
	s := ""
	if out, err := exec.Command("nproc").Output(); err == nil {
		s = strings.TrimSpace(string(out)) + " cores"
	}
	if out, err := exec.Command("uname", "-srm").Output(); err == nil {
		s += ", " + strings.TrimSpace(string(out))
	}
	return s
}
