// Command kannel benchmarks omnigate against Kannel on the same machine in
// the same run: one fresh SMSC simulator per run (same receipt delay),
// omnigate (serve + one SMPP connector, window 10) and Kannel (bearerbox +
// smsbox, max-pending-submits 10), each driven by bench/load's generator
// with the same load, with delivery tracked on both through status
// reports (reportUrl / dlr-url). It writes a dated JSON and Markdown
// result and an SVG chart per run. bench/compare-kannel.sh installs Kannel
// and runs it; see bench/README.md.
//
// Phases:
//
//	capacity  closed loop: --concurrency requests in flight for --duration,
//	          each system as fast as it answers (this saturates both)
//	rate      open loop at --rate requests/s (default: half the lower
//	          delivered/s of the capacity phase), to compare latency at
//	          a load both sustain
//	smoke     (--smoke) a few hundred messages per system; checks that
//	          both report numbers and lose nothing, judges no timing
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/omnigate/omnigate/bench/load/loadgen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line.
type options struct {
	omnigateBin  string
	bearerbox    string
	smsbox       string
	outDir       string
	name         string
	repo         string
	version      string
	phases       []string
	smoke        bool
	smokeCount   int
	concurrency  int
	duration     time.Duration
	rate         float64
	rateDuration time.Duration
	recipients   int
	mix          loadgen.Mix
	receiptDelay time.Duration
	smscWindow   int
	window       int
	grace        time.Duration
	sqliteSync   string
	debugAddr    string
	profileDir   string
	stdHTTP      bool
	harnessProcs int
	billing      bool
	kannelSpool  bool
	postgres     string
	systems      []string
	timeout      time.Duration
	keep         bool
	quietWait    time.Duration
	invocation   string
	note         string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("compare-kannel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var phases, mix, systems, kannelStore string
	fs.StringVar(&o.omnigateBin, "omnigate-bin", "", "omnigate binary (default: go build ./cmd/omnigate into the work directory)")
	fs.StringVar(&o.bearerbox, "bearerbox", "", "Kannel's bearerbox (default: from PATH or /usr/sbin)")
	fs.StringVar(&o.smsbox, "smsbox", "", "Kannel's smsbox (default: from PATH or /usr/sbin)")
	fs.StringVar(&o.outDir, "out", "bench/results", "directory for the dated result files (\"\" for none)")
	fs.StringVar(&o.name, "name", time.Now().UTC().Format("2006-01-02")+"-kannel", "base name of the result files")
	fs.StringVar(&o.repo, "repo", ".", "omnigate's source tree, for the version in the results")
	fs.StringVar(&o.version, "omnigate-version", "", "omnigate's version for the results (default: the commit of --repo)")
	fs.StringVar(&phases, "phases", "capacity,rate", "phases to run: capacity, rate")
	fs.BoolVar(&o.smoke, "smoke", false, "tiny run for CI: a few hundred messages per system, checks numbers and zero lost, no timing judged, no result files unless --out is given explicitly")
	fs.IntVar(&o.smokeCount, "smoke-requests", 300, "requests per system in --smoke")
	fs.IntVar(&o.concurrency, "concurrency", 64, "requests in flight (both phases)")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "how long the capacity phase sends")
	fs.Float64Var(&o.rate, "rate", 0, "requests/s of the rate phase (0: half the lower delivered/s of the capacity phase)")
	fs.DurationVar(&o.rateDuration, "rate-duration", 15*time.Second, "how long the rate phase sends")
	fs.IntVar(&o.recipients, "recipients", 1, "recipients per request")
	fs.StringVar(&mix, "mix", loadgen.DefaultMix, "message mix (gsm, arabic, long)")
	fs.DurationVar(&o.receiptDelay, "receipt-delay", 50*time.Millisecond, "the simulator's delay before each delivery receipt")
	fs.IntVar(&o.smscWindow, "smsc-window", 10, "receipts the simulator sends before it waits for their responses, per bind")
	fs.IntVar(&o.window, "window", 10, "SMPP window of both gateways")
	fs.DurationVar(&o.grace, "grace", 120*time.Second, "how long to wait for delivery reports after sending")
	fs.StringVar(&o.sqliteSync, "sqlite-sync", "FULL", "omnigate's --sqlite-sync (FULL survives power loss; NORMAL, like Kannel's spool, survives crashes only)")
	fs.StringVar(&o.debugAddr, "omnigate-debug-addr", "", "pass --debug-addr to omnigate serve, to take profiles during a run (go tool pprof http://ADDR/debug/pprof/profile)")
	fs.StringVar(&o.profileDir, "profile", "", "write Go CPU profiles of every run into this directory: the SMSC simulator's, the load generator's and omnigate's (<name>-<phase>-{smsc,load,omnigate}.prof; Kannel is not profiled)")
	fs.BoolVar(&o.stdHTTP, "std-http", false, "the load generator speaks Go's net/http instead of its lean HTTP/1.1 client and report server (to compare the harness's own cost)")
	fs.IntVar(&o.harnessProcs, "harness-procs", 1, "GOMAXPROCS of the load generator and the SMSC simulator (not of the gateways): 1 spares them the cost of waking a second core for every event; 0: Go's default")
	fs.BoolVar(&o.billing, "omnigate-billing", true, "run omnigate with billing on, every message priced and charged, as in production (--omnigate-billing=false: --billing-disabled; Kannel charges nothing)")
	fs.StringVar(&kannelStore, "kannel-store", "spool", "Kannel's durability: spool (message store and DLRs in spool directories) or none (memory)")
	fs.StringVar(&o.postgres, "postgres", os.Getenv("OMNIGATE_BENCH_POSTGRES"), "also run omnigate on this PostgreSQL server (a fresh schema per run; needs psql) [OMNIGATE_BENCH_POSTGRES]")
	fs.StringVar(&systems, "systems", "omnigate,kannel", "systems to run: omnigate, omnigate-postgres, kannel (omnigate-postgres is added to omnigate when --postgres is set)")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "bound on the whole comparison")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (configurations and logs)")
	fs.StringVar(&o.note, "note", "", "a remark written into the results (e.g. what else ran on the machine)")
	fs.DurationVar(&o.quietWait, "quiet-wait", 60*time.Second, "before each run, wait up to this long for other processes to leave the cores (below 0.25 of a core busy)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	outSet := false
	fs.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "out" })
	if o.smoke && !outSet {
		o.outDir = ""
	}
	var err error
	if o.profileDir != "" {
		if o.profileDir, err = filepath.Abs(o.profileDir); err != nil {
			return nil, fmt.Errorf("--profile: %w", err)
		}
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return nil, fmt.Errorf("--profile: %w", err)
		}
	}
	if o.mix, err = loadgen.ParseMix(mix); err != nil {
		return nil, fmt.Errorf("--mix: %w", err)
	}
	for p := range strings.SplitSeq(phases, ",") {
		if p = strings.TrimSpace(p); p != "capacity" && p != "rate" {
			return nil, fmt.Errorf("--phases: unknown phase %q (capacity, rate)", p)
		}
		o.phases = append(o.phases, strings.TrimSpace(p))
	}
	if o.smoke {
		o.phases, o.quietWait = []string{"smoke"}, 0
	}
	for s := range strings.SplitSeq(systems, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "omnigate-postgres" && o.postgres == "":
			return nil, fmt.Errorf("--systems: omnigate-postgres needs --postgres")
		case s != "omnigate" && s != "kannel" && s != "omnigate-postgres":
			return nil, fmt.Errorf("--systems: unknown system %q (omnigate, omnigate-postgres, kannel)", s)
		}
		o.systems = append(o.systems, s)
	}
	if o.postgres != "" && slices.Contains(o.systems, "omnigate") && !slices.Contains(o.systems, "omnigate-postgres") {
		i := slices.Index(o.systems, "omnigate")
		o.systems = slices.Insert(o.systems, i+1, "omnigate-postgres")
	}
	switch kannelStore {
	case "spool":
		o.kannelSpool = true
	case "none":
	default:
		return nil, fmt.Errorf("--kannel-store %q: spool or none", kannelStore)
	}
	switch {
	case o.concurrency < 1:
		return nil, errors.New("--concurrency must be at least 1")
	case o.window < 1:
		return nil, errors.New("--window must be at least 1")
	case o.recipients < 1 || o.recipients > 50:
		return nil, errors.New("--recipients must be 1–50")
	}
	o.invocation = invocation(args)
	return o, nil
}

// invocation is the command line for the results, as a person would type
// it: without the binary and source paths bench/compare-kannel.sh passes
// (they are temporary), and with arguments holding spaces quoted.
func invocation(args []string) string {
	out := []string{"bench/compare-kannel.sh"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "omnigate-bin" || name == "repo") {
			if !hasValue {
				i++ // its value is the next argument
			}
			continue
		}
		if strings.ContainsAny(a, " \t'\"") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "compare-kannel: %v\n", err)
		return 2
	}
	if opts.harnessProcs > 0 {
		runtime.GOMAXPROCS(opts.harnessProcs) // this process is the load generator
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()
	rep, err := compare(ctx, opts, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "compare-kannel: %v\n", err)
		return 1
	}
	rep.printSummary(stdout)
	if opts.outDir != "" {
		paths, err := rep.write(opts.outDir, opts.name)
		if err != nil {
			fmt.Fprintf(stderr, "compare-kannel: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "\nwrote %s\n", strings.Join(paths, ", "))
	}
	if problems := rep.problems(opts.smoke); len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "compare-kannel: FAIL: %s\n", p)
		}
		return 1
	}
	return 0
}

// compare runs every phase on every system.
func compare(ctx context.Context, o *options, log io.Writer) (*report, error) {
	work, err := os.MkdirTemp("", "omnigate-vs-kannel-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintf(log, "compare-kannel: work directory %s (kept)\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	if err := o.findBinaries(ctx, work); err != nil {
		return nil, err
	}
	rep := newReport(ctx, o)
	for _, phase := range o.phases {
		if phase == "rate" && o.rate == 0 {
			r, err := rep.autoRate()
			if err != nil {
				return nil, err
			}
			o.rate = r
		}
		for _, name := range o.systems {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("stopped: %w", err)
			}
			rec, err := runOne(ctx, o, phase, name, filepath.Join(work, phase+"-"+name), log)
			if err != nil {
				return nil, fmt.Errorf("%s, %s phase: %w", name, phase, err)
			}
			rep.Runs = append(rep.Runs, rec)
		}
	}
	rep.finish()
	return rep, nil
}

// findBinaries locates Kannel and builds omnigate when no binary is given.
func (o *options) findBinaries(ctx context.Context, work string) error {
	if slices.Contains(o.systems, "kannel") {
		for _, b := range []*string{&o.bearerbox, &o.smsbox} {
			name := map[*string]string{&o.bearerbox: "bearerbox", &o.smsbox: "smsbox"}[b]
			if *b != "" {
				continue
			}
			if p, err := exec.LookPath(name); err == nil {
				*b = p
			} else if _, err := os.Stat("/usr/sbin/" + name); err == nil {
				*b = "/usr/sbin/" + name
			} else {
				return fmt.Errorf("Kannel's %s is not installed (bench/compare-kannel.sh installs the Debian package kannel; or pass --%s)", name, name)
			}
		}
	}
	if o.omnigateBin != "" {
		return nil
	}
	o.omnigateBin = filepath.Join(work, "omnigate")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", o.omnigateBin, "./cmd/omnigate")
	cmd.Dir = o.repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building omnigate: %w\n%s", err, out)
	}
	return nil
}

// newSystem makes a fresh system by name.
func (o *options) newSystem(name string) system {
	switch name {
	case "kannel":
		return &kannel{bearerbox: o.bearerbox, smsbox: o.smsbox, window: o.window, spool: o.kannelSpool}
	case "omnigate-postgres":
		return &omnigate{name: name, bin: o.omnigateBin, postgres: o.postgres, billing: o.billing, window: o.window, debugAddr: o.debugAddr}
	default:
		return &omnigate{name: name, bin: o.omnigateBin, sqliteSync: o.sqliteSync, billing: o.billing, window: o.window, debugAddr: o.debugAddr}
	}
}

// loadConfig is the load of a phase, the same for every system.
func (o *options) loadConfig(phase string) loadgen.Config {
	cfg := loadgen.Config{Concurrency: o.concurrency, Recipients: o.recipients, Mix: o.mix,
		TrackDelivery: true, Verify: true, Grace: o.grace, Seed: 1, StdHTTP: o.stdHTTP}
	switch phase {
	case "smoke":
		cfg.Requests, cfg.Concurrency, cfg.Grace = o.smokeCount, min(o.concurrency, 8), min(o.grace, 60*time.Second)
	case "capacity":
		cfg.Duration = o.duration
	case "rate":
		cfg.Duration, cfg.Rate = o.rateDuration, o.rate
	}
	return cfg
}

// runOne starts a simulator and the system, sends the phase's load, and
// stops both.
func runOne(ctx context.Context, o *options, phase, name, dir string, log io.Writer) (*runRecord, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	quietBefore := waitQuiet(ctx, o.quietWait, log)
	fmt.Fprintf(log, "compare-kannel: %s phase, %s: starting\n", phase, name)
	profile := func(what string) string {
		if o.profileDir == "" {
			return ""
		}
		return filepath.Join(o.profileDir, fmt.Sprintf("%s-%s-%s.prof", name, phase, what))
	}
	sim, smscPort, err := startSimulator(ctx, o.omnigateBin, dir, o.receiptDelay, o.smscWindow, profile("smsc"), o.harnessProcs)
	if err != nil {
		return nil, err
	}
	defer sim.p.stop(10 * time.Second)
	sys := o.newSystem(name)
	if og, ok := sys.(*omnigate); ok {
		og.cpuProfile = profile("omnigate")
	}
	defer sys.stop()
	if err := sys.start(ctx, dir, smscPort, sim); err != nil {
		return nil, err
	}
	cfg := o.loadConfig(phase)
	cfg.Label, cfg.Target = name, sys.target()
	cfg.Progress = log
	rec := &runRecord{Phase: phase, System: name, Setup: sys.describe(), LoadAvg: loadAvg(), BusyBefore: quietBefore,
		Commands:    append([]string{strings.Join(redactArgv(sim.argv), " ")}, sys.commands()...),
		LoadCommand: loadCommand(cfg)}
	cpu0 := map[*proc]time.Duration{}
	for _, p := range append(sys.procs(), sim.p) {
		cpu0[p] = cpuTime(p.pid())
	}
	start := time.Now()
	var db *dbCPU
	if og, ok := sys.(*omnigate); ok && og.postgres != "" {
		db = startDBCPU(og.postgres)
	}
	self0, busy0 := selfCPU(), machineBusy()
	stopProfile, err := startCPUProfile(profile("load"))
	if err != nil {
		return nil, err
	}
	res, err := loadgen.Run(ctx, cfg)
	stopProfile()
	if err != nil {
		return nil, err
	}
	rec.Result = res
	for _, p := range sys.procs() {
		rec.CPU.System += (cpuTime(p.pid()) - cpu0[p]).Seconds()
		rec.PeakRSSMiB += peakRSS(p.pid())
	}
	rec.CPU.Simulator = (cpuTime(sim.p.pid()) - cpu0[sim.p]).Seconds()
	rec.CPU.Load = (selfCPU() - self0).Seconds()
	if db != nil {
		rec.CPU.Database = round2(db.finish())
	}
	rec.CPU.Others = max(0, (machineBusy()-busy0).Seconds()-rec.CPU.System-rec.CPU.Simulator-rec.CPU.Load-rec.CPU.Database)
	rec.CPU.Wall = time.Since(start).Seconds()
	rec.CPU.System, rec.CPU.Simulator, rec.CPU.Load = round2(rec.CPU.System), round2(rec.CPU.Simulator), round2(rec.CPU.Load)
	rec.CPU.Others, rec.CPU.Wall = round2(rec.CPU.Others), round2(rec.CPU.Wall)
	if n := res.Recipients.Delivered; n > 0 {
		perMsg := func(sec float64) float64 { return math.Round(sec*1e3/float64(n)*1000) / 1000 }
		rec.CPUMillisPerMessage = perMsg(rec.CPU.System)
		rec.DBMillisPerMessage = perMsg(rec.CPU.Database)
		rec.HarnessMillisPerMessage = perMsg(rec.CPU.Simulator + rec.CPU.Load)
		if rec.HarnessMillisPerMessage > 0 {
			rec.HarnessCeiling = math.Round(float64(runtime.NumCPU()) * 1000 / rec.HarnessMillisPerMessage)
		}
	}
	if st, err := sim.stats(); err == nil {
		rec.Simulator = st
	}
	res.PrintTable(log)
	dbPart := ""
	if db != nil {
		dbPart = fmt.Sprintf(", PostgreSQL server %.1fs", rec.CPU.Database)
	}
	fmt.Fprintf(log, "CPU in %.0fs: %s %.1fs%s, simulator %.1fs, load generator %.1fs, other processes %.1fs; %s peak RSS %.0f MiB\n",
		rec.CPU.Wall, name, rec.CPU.System, dbPart, rec.CPU.Simulator, rec.CPU.Load, rec.CPU.Others, name, rec.PeakRSSMiB)
	dbPerMsg := ""
	if db != nil {
		dbPerMsg = fmt.Sprintf(" + PostgreSQL server %.3f ms", rec.DBMillisPerMessage)
	}
	fmt.Fprintf(log, "CPU per delivered message: %s %.3f ms%s; harness (simulator + load generator) %.3f ms, ceiling %.0f/s on %d cores\n\n",
		name, rec.CPUMillisPerMessage, dbPerMsg, rec.HarnessMillisPerMessage, rec.HarnessCeiling, runtime.NumCPU())
	return rec, nil
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// loadCommand is the bench/load command line that sends the same load.
func loadCommand(cfg loadgen.Config) string {
	args := []string{"go run ./bench/load", "--target", cfg.Target.Name(), "--url", cfg.Target.URL()}
	if cfg.Target.Name() == "kannel" {
		args = append(args, "--user", kannelUser, "--password", "…")
	} else {
		args = append(args, "--key", "live_…")
	}
	args = append(args, "--concurrency", fmt.Sprint(cfg.Concurrency), "--recipients", fmt.Sprint(cfg.Recipients),
		"--mix", cfg.Mix.String(), "--grace", cfg.Grace.String(), "--seed", fmt.Sprint(cfg.Seed))
	if cfg.Rate > 0 {
		args = append(args, "--rate", fmt.Sprint(cfg.Rate))
	}
	if cfg.StdHTTP {
		args = append(args, "--std-http")
	}
	if cfg.Requests > 0 {
		args = append(args, "--requests", fmt.Sprint(cfg.Requests), "--duration", "0")
	} else {
		args = append(args, "--duration", cfg.Duration.String())
	}
	return strings.Join(args, " ")
}

// redactArgv hides the value after --password.
func redactArgv(argv []string) []string {
	out := slices.Clone(argv)
	out[0] = filepath.Base(out[0])
	for i := 1; i < len(out); i++ {
		if out[i-1] == "--password" {
			out[i] = "…"
		}
	}
	return out
}

// quietBusy is the share of a core other processes may use before a run
// starts without waiting.
const quietBusy = 0.25

// waitQuiet waits, up to maxWait, until the machine's other processes use
// less than quietBusy of a core over 2 s, and returns the last figure (in
// cores). Nothing of this program runs between runs, so all of it is
// other work.
func waitQuiet(ctx context.Context, maxWait time.Duration, log io.Writer) float64 {
	if maxWait <= 0 {
		return 0
	}
	deadline := time.Now().Add(maxWait)
	said := false
	for {
		b0, t0 := machineBusy(), time.Now()
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(2 * time.Second):
		}
		busy := math.Round((machineBusy()-b0).Seconds()/time.Since(t0).Seconds()*100) / 100
		if busy < quietBusy || !time.Now().Before(deadline) {
			if busy >= quietBusy {
				fmt.Fprintf(log, "compare-kannel: other processes still use %.2f cores; running anyway (see other_processes_seconds in the results)\n", busy)
			}
			return busy
		}
		if !said {
			fmt.Fprintf(log, "compare-kannel: other processes use %.2f cores; waiting up to %s for a quieter machine\n", busy, maxWait)
			said = true
		}
	}
}
