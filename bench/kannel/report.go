package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/omnigate/omnigate/bench/load/loadgen"
)

// runRecord is one system's run in one phase.
type runRecord struct {
	Phase  string          `json:"phase"`
	System string          `json:"system"`
	Setup  string          `json:"setup"`
	Result *loadgen.Result `json:"result"`
	// CPU seconds used during the run (load and drain, Wall seconds) by
	// the system under test (all its processes), the SMSC simulator, the
	// load generator, and every other process of the machine: work that
	// is not the benchmark's and competed with it for the cores.
	CPU struct {
		Wall      float64 `json:"wall_seconds"`
		System    float64 `json:"system_seconds"`
		Simulator float64 `json:"simulator_seconds"`
		Load      float64 `json:"load_generator_seconds"`
		Others    float64 `json:"other_processes_seconds"`
		// Database is the PostgreSQL server's CPU for the run (its
		// backends for the run's database and its writers), counted
		// apart from Others; only for omnigate-postgres.
		Database float64 `json:"database_seconds,omitempty"`
	} `json:"cpu"`
	// CPUMillisPerMessage is the system's CPU time per delivered recipient.
	CPUMillisPerMessage float64 `json:"cpu_ms_per_delivered"`
	// DBMillisPerMessage is the database server's CPU per delivered
	// recipient (omnigate-postgres).
	DBMillisPerMessage float64 `json:"db_cpu_ms_per_delivered,omitempty"`
	// HarnessMillisPerMessage is the simulator's and the load generator's
	// CPU per delivered recipient, and HarnessCeiling the deliveries per
	// second a gateway costing nothing would reach on this machine's
	// cores: what the harness itself allows to be shown.
	HarnessMillisPerMessage float64  `json:"harness_cpu_ms_per_delivered"`
	HarnessCeiling          float64  `json:"harness_ceiling_per_second"`
	PeakRSSMiB              float64  `json:"peak_rss_mib"`
	Simulator               simStats `json:"simulator"`
	// LoadAvg is /proc/loadavg just before the run: other work on the
	// machine shows here.
	LoadAvg string `json:"loadavg_before"`
	// BusyBefore is how many cores other processes used just before.
	BusyBefore  float64  `json:"other_cores_busy_before"`
	Commands    []string `json:"commands"`
	LoadCommand string   `json:"load_command"`
}

// report is the whole comparison, written as JSON and Markdown.
type report struct {
	Date     string    `json:"date"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Machine  machine   `json:"machine"`
	Versions struct {
		Go       string `json:"go"`
		Omnigate string `json:"omnigate"`
		Kannel   string `json:"kannel,omitempty"`
	} `json:"versions"`
	Settings   settings     `json:"settings"`
	Invocation string       `json:"invocation"`
	Note       string       `json:"note,omitempty"`
	Runs       []*runRecord `json:"runs"`
	Ratios     []ratio      `json:"ratios"`
}

type machine struct {
	Cores           int    `json:"cores"` // nproc
	CPU             string `json:"cpu"`
	MemTotalMiB     int    `json:"mem_total_mib"`
	MemAvailableMiB int    `json:"mem_available_mib"`
	FreeM           string `json:"free_m,omitempty"` // free -m, as printed
	Kernel          string `json:"kernel"`
	// LoadAvgStart and LoadAvgEnd are /proc/loadavg (1, 5, 15 min) at
	// the start and the end of the comparison.
	LoadAvgStart string `json:"loadavg_start"`
	LoadAvgEnd   string `json:"loadavg_end,omitempty"`
}

type settings struct {
	Phases             []string `json:"phases"`
	Systems            []string `json:"systems"`
	Concurrency        int      `json:"concurrency"`
	CapacityDuration   string   `json:"capacity_duration,omitempty"`
	Rate               float64  `json:"rate,omitempty"`
	RateDuration       string   `json:"rate_duration,omitempty"`
	SmokeRequests      int      `json:"smoke_requests,omitempty"`
	RecipientsPerReq   int      `json:"recipients_per_request"`
	Mix                string   `json:"mix"`
	ReceiptDelay       string   `json:"simulator_receipt_delay"`
	Window             int      `json:"smpp_window"`
	SMSCWindow         int      `json:"simulator_window"`
	Grace              string   `json:"grace"`
	OmnigateSQLiteSync string   `json:"omnigate_sqlite_sync"`
	OmnigateBilling    bool     `json:"omnigate_billing"`
	KannelStore        string   `json:"kannel_store"`
	HarnessHTTP        string   `json:"harness_http"`
	HarnessProcs       int      `json:"harness_gomaxprocs"`
}

// ratio compares omnigate (or omnigate-postgres) with Kannel in a phase.
type ratio struct {
	Phase  string `json:"phase"`
	System string `json:"system"`
	// Throughput ratios: higher is better for omnigate.
	Accepted  float64 `json:"accepted_per_second"`
	Delivered float64 `json:"delivered_per_second"`
	// Latency ratios: lower is better for omnigate.
	RequestP50  float64 `json:"request_p50"`
	RequestP99  float64 `json:"request_p99"`
	EndToEndP50 float64 `json:"end_to_end_p50"`
	EndToEndP99 float64 `json:"end_to_end_p99"`
	// CPU per delivered message: lower is better for omnigate. With the
	// database: omnigate plus the PostgreSQL server's CPU for the run.
	CPUPerMessage       float64 `json:"cpu_per_message"`
	CPUPerMessageWithDB float64 `json:"cpu_per_message_with_database,omitempty"`
}

func newReport(ctx context.Context, o *options) *report {
	r := &report{Started: time.Now().UTC(), Invocation: o.invocation, Note: o.note}
	r.Date = r.Started.Format("2006-01-02")
	r.Machine = readMachine(ctx)
	r.Versions.Go = runtime.Version()
	r.Versions.Omnigate = o.version
	if r.Versions.Omnigate == "" {
		r.Versions.Omnigate = omnigateVersion(ctx, o.repo)
	}
	if o.bearerbox != "" {
		r.Versions.Kannel = kannelVersion(ctx, o.bearerbox)
	}
	store := "none"
	if o.kannelSpool {
		store = "spool"
	}
	r.Settings = settings{Phases: o.phases, Systems: o.systems, Concurrency: o.concurrency,
		RecipientsPerReq: o.recipients, Mix: o.mix.String(), ReceiptDelay: o.receiptDelay.String(),
		Window: o.window, SMSCWindow: o.smscWindow, Grace: o.grace.String(), OmnigateSQLiteSync: o.sqliteSync,
		OmnigateBilling: o.billing, KannelStore: store, HarnessHTTP: "lean HTTP/1.1 (bench/load/loadgen/wire.go)", HarnessProcs: o.harnessProcs}
	if o.stdHTTP {
		r.Settings.HarnessHTTP = "net/http"
	}
	for _, p := range o.phases {
		switch p {
		case "capacity":
			r.Settings.CapacityDuration = o.duration.String()
		case "rate":
			r.Settings.RateDuration = o.rateDuration.String()
		case "smoke":
			r.Settings.SmokeRequests = o.smokeCount
		}
	}
	return r
}

// autoRate is half the lowest delivered/s of the capacity phase, so that
// every system can sustain it.
func (r *report) autoRate() (float64, error) {
	lowest := math.Inf(1)
	for _, rec := range r.Runs {
		if rec.Phase == "capacity" && rec.Result.Throughput.Delivered > 0 {
			lowest = min(lowest, rec.Result.Throughput.Delivered)
		}
	}
	if math.IsInf(lowest, 1) {
		return 0, errors.New("the rate phase needs --rate, or the capacity phase before it")
	}
	rate := math.Max(10, math.Round(lowest/2/10)*10)
	r.Settings.Rate = rate
	return rate, nil
}

// finish computes the ratios.
func (r *report) finish() {
	r.Finished = time.Now().UTC()
	r.Machine.LoadAvgEnd = loadAvg()
	for _, phase := range r.Settings.Phases {
		k := r.find(phase, "kannel")
		if k == nil {
			continue
		}
		for _, rec := range r.Runs {
			if rec.Phase != phase || rec.System == "kannel" {
				continue
			}
			o, kr := rec.Result, k.Result
			rt := ratio{Phase: phase, System: rec.System,
				Accepted:      div(o.Throughput.Accepted, kr.Throughput.Accepted),
				Delivered:     div(o.Throughput.Delivered, kr.Throughput.Delivered),
				RequestP50:    div(o.RequestLatency.P50, kr.RequestLatency.P50),
				RequestP99:    div(o.RequestLatency.P99, kr.RequestLatency.P99),
				CPUPerMessage: div(rec.CPUMillisPerMessage, k.CPUMillisPerMessage),
			}
			if rec.DBMillisPerMessage > 0 {
				rt.CPUPerMessageWithDB = div(rec.CPUMillisPerMessage+rec.DBMillisPerMessage, k.CPUMillisPerMessage)
			}
			if o.EndToEnd != nil && kr.EndToEnd != nil {
				rt.EndToEndP50 = div(o.EndToEnd.P50, kr.EndToEnd.P50)
				rt.EndToEndP99 = div(o.EndToEnd.P99, kr.EndToEnd.P99)
			}
			r.Ratios = append(r.Ratios, rt)
		}
	}
}

func (r *report) find(phase, system string) *runRecord {
	for _, rec := range r.Runs {
		if rec.Phase == phase && rec.System == system {
			return rec
		}
	}
	return nil
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*100) / 100
}

// problems are what makes the run a failure: always a run that lost
// messages, failed requests or measured nothing; in smoke mode, also a
// system that delivered nothing.
func (r *report) problems(smoke bool) []string {
	var out []string
	for _, rec := range r.Runs {
		for _, p := range rec.Result.Problems() {
			out = append(out, fmt.Sprintf("%s, %s phase: %s", rec.System, rec.Phase, p))
		}
		if smoke && rec.Result.Recipients.Delivered == 0 {
			out = append(out, fmt.Sprintf("%s, %s phase: no delivery report came", rec.System, rec.Phase))
		}
	}
	return out
}

// phaseTitle describes a phase's load.
func (r *report) phaseTitle(phase string) string {
	s := r.Settings
	switch phase {
	case "capacity":
		return fmt.Sprintf("Capacity: closed loop, %d requests in flight for %s", s.Concurrency, s.CapacityDuration)
	case "rate":
		return fmt.Sprintf("Latency at a fixed load: open loop, %g requests/s for %s", s.Rate, s.RateDuration)
	default:
		return fmt.Sprintf("Smoke: %d requests per system, %d in flight", s.SmokeRequests, min(s.Concurrency, 8))
	}
}

// printSummary writes the comparison tables for people.
func (r *report) printSummary(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, phase := range r.Settings.Phases {
		fmt.Fprintf(w, "\n%s\n", r.phaseTitle(phase))
		fmt.Fprintln(tw, "system\taccepted/s\tdelivered/s\treq p50 ms\treq p99 ms\te2e p50 ms\te2e p99 ms\tlost\terrors\tCPU ms/msg\t")
		for _, rec := range r.Runs {
			if rec.Phase != phase {
				continue
			}
			res := rec.Result
			e2e := res.EndToEnd
			if e2e == nil {
				e2e = &loadgen.Summary{}
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.1f\t%.1f\t%.0f\t%.0f\t%d\t%d\t%.3f\t\n", rec.System,
				res.Throughput.Accepted, res.Throughput.Delivered, res.RequestLatency.P50, res.RequestLatency.P99,
				e2e.P50, e2e.P99, res.Recipients.Lost, res.Requests.Errors, rec.CPUMillisPerMessage)
		}
		for _, rt := range r.Ratios {
			if rt.Phase == phase {
				fmt.Fprintf(tw, "%s/kannel\t%.2f×\t%.2f×\t%.2f×\t%.2f×\t%.2f×\t%.2f×\t\t\t%.2f×\t\n", rt.System,
					rt.Accepted, rt.Delivered, rt.RequestP50, rt.RequestP99, rt.EndToEndP50, rt.EndToEndP99, rt.CPUPerMessage)
				if rt.CPUPerMessageWithDB > 0 {
					fmt.Fprintf(tw, "%s+db/kannel\t\t\t\t\t\t\t\t\t%.2f×\t\n", rt.System, rt.CPUPerMessageWithDB)
				}
			}
		}
		tw.Flush()
	}
}

// write saves NAME.json, NAME.md and a chart per run in dir.
func (r *report) write(dir, name string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("writing results: %w", err)
	}
	var paths []string
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding results: %w", err)
	}
	jsonPath := filepath.Join(dir, name+".json")
	if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("writing results: %w", err)
	}
	paths = append(paths, jsonPath)
	charts := map[*runRecord]string{}
	for _, rec := range r.Runs {
		p := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.svg", name, rec.Phase, rec.System))
		if err := rec.Result.WriteSVG(p); err != nil {
			return nil, err
		}
		charts[rec] = filepath.Base(p)
		paths = append(paths, p)
	}
	mdPath := filepath.Join(dir, name+".md")
	if err := os.WriteFile(mdPath, r.markdown(charts), 0o644); err != nil {
		return nil, fmt.Errorf("writing results: %w", err)
	}
	return append(paths, mdPath), nil
}

// markdown renders the report.
func (r *report) markdown(charts map[*runRecord]string) []byte {
	var b bytes.Buffer
	m := r.Machine
	s := r.Settings
	fmt.Fprintf(&b, "# omnigate vs Kannel, %s\n\n", r.Date)
	fmt.Fprintf(&b, "Generated by `%s` (bench/kannel); %s to %s UTC.\n\n", strings.TrimSpace(r.Invocation),
		r.Started.Format("15:04:05"), r.Finished.Format("15:04:05"))
	fmt.Fprintf(&b, "- Machine: %d cores (`nproc`), %s; %d MiB memory, %d MiB available at the start; %s\n",
		m.Cores, m.CPU, m.MemTotalMiB, m.MemAvailableMiB, m.Kernel)
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min): %s at the start, %s at the end; per run, the CPU seconds other processes used are in the tables' last column.\n",
		m.LoadAvgStart, m.LoadAvgEnd)
	if r.Note != "" {
		fmt.Fprintf(&b, "- Note: %s\n", r.Note)
	}
	fmt.Fprintf(&b, "- Versions: %s; omnigate %s; Kannel %s\n", r.Versions.Go, r.Versions.Omnigate, r.Versions.Kannel)
	fmt.Fprintf(&b, "- Everything on this one machine over loopback: the load generator, one fresh SMSC simulator per run (`omnigate smsc`, receipt delay %s, %d receipts in flight per bind before it waits for their responses) and the gateway share the cores.\n", s.ReceiptDelay, s.SMSCWindow)
	fmt.Fprintf(&b, "- Load: %d recipient(s) per request, mix %s (gsm: one GSM part; arabic: one UCS-2 part; long: two GSM parts), status reports for every recipient to the load generator (omnigate `reportUrl`, Kannel `dlr-url` with `dlr-mask=3`). Grace for reports: %s.\n",
		s.RecipientsPerReq, s.Mix, s.Grace)
	fmt.Fprintf(&b, "- Throughput: *accepted/s* is recipients accepted per second of sending; *delivered/s* is recipients whose delivered report came, per second from the start to the last report (end to end). Latency is measured from each request's due time (open loop) or send time (closed loop); *e2e* is request to delivered report. *lost* = accepted recipients not delivered within the grace. *CPU ms/msg* = the gateway's CPU time (all its processes) per delivered recipient; for omnigate on PostgreSQL, \"+ db\" is the PostgreSQL server's CPU for the run (the backends of the run's database and the server's WAL writer, checkpointer, background writer and autovacuum), measured apart. *Harness ms/msg* = the SMSC simulator's and the load generator's CPU per delivered recipient; *ceiling* = the deliveries per second a gateway costing nothing could reach on these cores with this harness. Harness: %s, GOMAXPROCS %d for the simulator and the load generator (0: Go's default).\n\n", s.HarnessHTTP, s.HarnessProcs)
	for _, rec := range r.Runs {
		if rec.Phase == s.Phases[0] {
			fmt.Fprintf(&b, "- %s: %s\n", rec.System, rec.Setup)
		}
	}
	b.WriteString("\n")
	for _, phase := range s.Phases {
		fmt.Fprintf(&b, "## %s\n\n", r.phaseTitle(phase))
		b.WriteString("| system | accepted/s | delivered/s | request p50 / p90 / p99 / p99.9 / max (ms) | e2e p50 / p99 / max (ms) | lost | errors | CPU ms/msg | harness ms/msg (ceiling/s) | peak RSS MiB | CPU s: gateway / db / simulator / load / other processes, in wall s | load avg before |\n")
		b.WriteString("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|---|\n")
		for _, rec := range r.Runs {
			if rec.Phase != phase {
				continue
			}
			res := rec.Result
			q := res.RequestLatency
			e2e := "–"
			if e := res.EndToEnd; e != nil {
				e2e = fmt.Sprintf("%s / %s / %s", num(e.P50), num(e.P99), num(e.Max))
			}
			c := rec.CPU
			cpu := fmt.Sprintf("%.3f", rec.CPUMillisPerMessage)
			if rec.DBMillisPerMessage > 0 {
				cpu += fmt.Sprintf(" + db %.3f", rec.DBMillisPerMessage)
			}
			fmt.Fprintf(&b, "| %s | %.0f | %.0f | %s / %s / %s / %s / %s | %s | %d | %d | %s | %.3f (%.0f) | %.0f | %.1f / %.1f / %.1f / %.1f / %.1f in %.0f | %s |\n",
				rec.System, res.Throughput.Accepted, res.Throughput.Delivered,
				num(q.P50), num(q.P90), num(q.P99), num(q.P999), num(q.Max), e2e,
				res.Recipients.Lost, res.Requests.Errors, cpu, rec.HarnessMillisPerMessage, rec.HarnessCeiling, rec.PeakRSSMiB,
				c.System, c.Database, c.Simulator, c.Load, c.Others, c.Wall, rec.LoadAvg)
		}
		for _, rt := range r.Ratios {
			if rt.Phase == phase {
				cpu := fmt.Sprintf("%.2f×", rt.CPUPerMessage)
				if rt.CPUPerMessageWithDB > 0 {
					cpu += fmt.Sprintf(" (with db %.2f×)", rt.CPUPerMessageWithDB)
				}
				fmt.Fprintf(&b, "| **%s / kannel** | **%.2f×** | **%.2f×** | p50 %.2f×, p99 %.2f× | p50 %.2f×, p99 %.2f× | | | %s | | | | |\n",
					rt.System, rt.Accepted, rt.Delivered, rt.RequestP50, rt.RequestP99, rt.EndToEndP50, rt.EndToEndP99, cpu)
			}
		}
		b.WriteString("\n")
		for _, rec := range r.Runs {
			if rec.Phase == phase && charts[rec] != "" {
				fmt.Fprintf(&b, "![%s, %s](%s) ", rec.System, phase, charts[rec])
			}
		}
		b.WriteString("\n\n")
	}
	b.WriteString("## Commands\n\n```sh\n")
	for _, rec := range r.Runs {
		fmt.Fprintf(&b, "# %s, %s phase\n", rec.System, rec.Phase)
		for _, c := range rec.Commands {
			fmt.Fprintln(&b, c)
		}
		fmt.Fprintln(&b, rec.LoadCommand)
	}
	b.WriteString("```\n")
	return b.Bytes()
}

// num writes a latency with a sensible number of digits.
func num(ms float64) string {
	switch {
	case ms >= 100:
		return strconv.FormatFloat(ms, 'f', 0, 64)
	case ms >= 10:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	default:
		return strconv.FormatFloat(ms, 'f', 2, 64)
	}
}

// readMachine describes the machine: cores, CPU model, memory, kernel.
func readMachine(ctx context.Context) machine {
	m := machine{Cores: runtime.NumCPU(), LoadAvgStart: loadAvg()}
	if out, err := exec.CommandContext(ctx, "nproc").Output(); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil {
			m.Cores = n
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			kb, _ := strconv.Atoi(f[1])
			switch f[0] {
			case "MemTotal:":
				m.MemTotalMiB = kb / 1024
			case "MemAvailable:":
				m.MemAvailableMiB = kb / 1024
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "free", "-m").Output(); err == nil {
		m.FreeM = strings.TrimSpace(string(out))
	}
	if out, err := exec.CommandContext(ctx, "uname", "-srm").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	return m
}

// omnigateVersion is the source tree's commit, marked when it has changes.
func omnigateVersion(ctx context.Context, repo string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", repo, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	v := "commit " + strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		v += " with uncommitted changes"
	}
	return v
}

// kannelVersion is bearerbox's version line, with the Debian package's.
func kannelVersion(ctx context.Context, bearerbox string) string {
	v := "unknown"
	out, _ := exec.CommandContext(ctx, bearerbox, "--version").CombinedOutput()
	for line := range strings.SplitSeq(string(out), "\n") {
		if i := strings.Index(line, "version `"); i >= 0 {
			v = strings.Trim(line[i+len("version "):], "`'.")
			break
		}
	}
	if pkg, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Version}", "kannel").Output(); err == nil {
		v += " (Debian package " + strings.TrimSpace(string(pkg)) + ")"
	}
	return v
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
