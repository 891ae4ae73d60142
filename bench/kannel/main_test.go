package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/bench/load/loadgen"
)

func TestKannelConfMatchesOmnigatesConnector(t *testing.T) {
	for _, spool := range []bool{true, false} {
		var b bytes.Buffer
		err := kannelTmpl.Execute(&b, kannelSettings{Dir: "/tmp/x", AdminPort: 1, BoxPort: 2, SendPort: 3, SMSCPort: 4,
			Window: 10, Spool: spool, SystemID: "sys", SMSCPassword: "pw", User: "u", Password: "p"})
		if err != nil {
			t.Fatal(err)
		}
		conf := b.String()
		for _, want := range []string{"transceiver-mode = true", "max-pending-submits = 10", "port = 4\n",
			`smsc-username = "sys"`, "sendsms-port = 3", "smsbox-port = 2", "admin-port = 1", "max-messages = 16"} {
			if !strings.Contains(conf, want) {
				t.Errorf("spool=%v: no %q in\n%s", spool, want, conf)
			}
		}
		if got := strings.Contains(conf, "store-type = spool"); got != spool {
			t.Errorf("spool=%v: store-type present %v", spool, got)
		}
		// Every group line is preceded by a blank line (Kannel's groups are
		// separated by blank lines).
		lines := strings.Split(conf, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "group = ") && i > 0 && lines[i-1] != "" {
				t.Errorf("spool=%v: %q follows %q without a blank line", spool, l, lines[i-1])
			}
		}
	}
}

func fakeRecord(phase, system string, accepted, delivered, p50, p99, cpu float64) *runRecord {
	return &runRecord{Phase: phase, System: system, Setup: system + " setup", CPUMillisPerMessage: cpu,
		Commands: []string{system + " --flag"}, LoadCommand: "go run ./bench/load --target " + system,
		Result: &loadgen.Result{Label: system,
			Throughput:     loadgen.Throughput{Accepted: accepted, Delivered: delivered},
			RequestLatency: loadgen.Summary{P50: p50, P99: p99},
			EndToEnd:       &loadgen.Summary{P50: 10 * p50, P99: 10 * p99, Count: 1},
			Recipients:     loadgen.RecipientCounts{Accepted: 100, Delivered: 100},
			Requests:       loadgen.RequestCounts{Sent: 100, Accepted: 100},
			Series:         []loadgen.Point{{T: 0, Accepted: 100, Delivered: 100, P50: p50, P99: p99}},
		}}
}

func TestReportRatiosRateAndFiles(t *testing.T) {
	o, err := parseFlags([]string{"--postgres", "postgres://u:secret@127.0.0.1/db", "--duration", "5s"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.systems, ",") != "omnigate,omnigate-postgres,kannel" {
		t.Errorf("systems %v", o.systems)
	}
	r := &report{Date: "2026-11-25", Settings: settings{Phases: []string{"capacity", "rate"}, Concurrency: 64, CapacityDuration: "5s"}}
	r.Runs = append(r.Runs, fakeRecord("capacity", "omnigate", 3000, 2000, 2, 20, 0.5),
		fakeRecord("capacity", "kannel", 1000, 500, 4, 10, 1))
	rate, err := r.autoRate()
	if err != nil || rate != 250 {
		t.Fatalf("auto rate %v %v, want half of the lower delivered/s (250)", rate, err)
	}
	r.Runs = append(r.Runs, fakeRecord("rate", "omnigate", 250, 250, 1, 5, 0.4),
		fakeRecord("rate", "kannel", 250, 250, 2, 5, 0.8))
	r.finish()
	if len(r.Ratios) != 2 {
		t.Fatalf("ratios %+v", r.Ratios)
	}
	c := r.Ratios[0]
	if c.Accepted != 3 || c.Delivered != 4 || c.RequestP50 != 0.5 || c.RequestP99 != 2 || c.CPUPerMessage != 0.5 {
		t.Errorf("capacity ratios %+v", c)
	}
	dir := t.TempDir()
	paths, err := r.write(dir, "2026-11-25-kannel")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 6 { // json, 4 charts, md
		t.Errorf("wrote %v", paths)
	}
	md, err := os.ReadFile(dir + "/2026-11-25-kannel.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| **omnigate / kannel** | **3.00×** | **4.00×**", "open loop, 250 requests/s",
		"go run ./bench/load --target kannel", "2026-11-25-kannel-capacity-omnigate.svg"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("no %q in the Markdown:\n%s", want, md)
		}
	}
	if len(r.problems(true)) != 0 {
		t.Errorf("problems %v", r.problems(true))
	}
}

func TestLoadCommandAndRedaction(t *testing.T) {
	mix, _ := loadgen.ParseMix(loadgen.DefaultMix)
	cmd := loadCommand(loadgen.Config{Target: &loadgen.Omnigate{BaseURL: "http://127.0.0.1:9", Key: "live_secret"},
		Concurrency: 64, Recipients: 1, Mix: mix, Grace: time.Minute, Duration: 15 * time.Second, Seed: 1})
	if strings.Contains(cmd, "live_secret") || !strings.Contains(cmd, "--duration 15s") || strings.Contains(cmd, "--rate") {
		t.Errorf("load command %q", cmd)
	}
	argv := redactArgv([]string{"/x/omnigate", "smsc", "--password", "pw"})
	if strings.Join(argv, " ") != "omnigate smsc --password …" {
		t.Errorf("redacted %v", argv)
	}
	if got := redactURL("postgres://u:secret@127.0.0.1/db"); strings.Contains(got, "secret") {
		t.Errorf("redactURL kept the password: %s", got)
	}
}

func TestProcessFigures(t *testing.T) {
	if cpuTime(os.Getpid()) < 0 || peakRSS(os.Getpid()) <= 0 {
		t.Errorf("cpu %v, peak RSS %v MiB of this process", cpuTime(os.Getpid()), peakRSS(os.Getpid()))
	}
	if cpuTime(-1) != 0 || peakRSS(-1) != 0 {
		t.Error("a missing process must read 0")
	}
}

func TestInvocationDropsTemporaryPathsAndQuotes(t *testing.T) {
	got := invocation([]string{"--omnigate-bin", "/tmp/x/omnigate", "--repo=/src", "--duration", "30s", "--note", "shared machine, it's busy"})
	want := `bench/compare-kannel.sh --duration 30s --note 'shared machine, it'\''s busy'`
	if got != want {
		t.Errorf("invocation = %s, want %s", got, want)
	}
}
