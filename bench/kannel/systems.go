package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/omnigate/omnigate/bench/load/loadgen"
)

// SMPP credentials every system binds to the simulator with, and the
// sender of every message.
const (
	smppSystemID = "bench"
	smppPassword = "bench-pw"
	originator   = "Bench"
)

// system is a gateway under test, started fresh for each run.
type system interface {
	// label names it in results: omnigate, omnigate-postgres, kannel.
	label() string
	// describe says how it is set up, for the results.
	describe() string
	// start brings it up in dir, bound to the simulator at smscPort.
	start(ctx context.Context, dir string, smscPort int, sim *simulator) error
	target() loadgen.Target
	// procs are its processes, for CPU and memory figures.
	procs() []*proc
	// commands are the commands that set it up and started it.
	commands() []string
	stop()
}

// simulator is omnigate's SMSC simulator, started fresh for each run.
type simulator struct {
	p       *proc
	control string
	argv    []string
}

func startSimulator(ctx context.Context, bin, dir string, receiptDelay time.Duration, window int, cpuProfile string, procs int) (*simulator, int, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, 0, err
	}
	argv := []string{bin, "smsc", "--listen", fmt.Sprintf("127.0.0.1:%d", ports[0]),
		"--control", fmt.Sprintf("127.0.0.1:%d", ports[1]), "--receipt-delay", receiptDelay.String(), "--window", strconv.Itoa(window),
		"--system-id", smppSystemID, "--password", smppPassword, "--log-level", "warn"}
	if cpuProfile != "" {
		argv = append(argv, "--cpuprofile", cpuProfile)
	}
	var env []string
	if procs > 0 {
		env = append(env, fmt.Sprintf("GOMAXPROCS=%d", procs))
	}
	p, err := startProcEnv(dir, "smsc", env, argv...)
	if err != nil {
		return nil, 0, err
	}
	s := &simulator{p: p, control: fmt.Sprintf("http://127.0.0.1:%d", ports[1]), argv: argv}
	if err := waitFor(ctx, "the SMSC simulator", 10*time.Second, func() bool {
		_, err := s.stats()
		return err == nil
	}, p); err != nil {
		p.stop(5 * time.Second)
		return nil, 0, err
	}
	return s, ports[0], nil
}

// simStats is the simulator's GET /stats.
type simStats struct {
	Binds     int64 `json:"binds"`
	Submits   int64 `json:"submits"`
	Throttled int64 `json:"throttled"`
	Receipts  int64 `json:"receipts"`
	Drops     int64 `json:"drops"`
	Queued    int64 `json:"queued"`
}

func (s *simulator) stats() (simStats, error) {
	var st simStats
	var err error
	ok := httpOK(s.control+"/stats", func(status int, body string) bool {
		if status != 200 {
			return false
		}
		err = json.Unmarshal([]byte(body), &st)
		return err == nil
	})
	if !ok {
		return st, fmt.Errorf("reading the simulator's stats: %v", err)
	}
	return st, nil
}

// bound waits for a bind to the simulator.
func (s *simulator) bound(ctx context.Context, who *proc) error {
	return waitFor(ctx, "a bind to the SMSC simulator", 30*time.Second, func() bool {
		st, err := s.stats()
		return err == nil && st.Binds > 0
	}, who, s.p)
}

// omnigate is omnigate serve with one SMPP connector and a catch-all route.
type omnigate struct {
	name       string
	bin        string
	postgres   string // PostgreSQL server URL; empty: SQLite in the data directory
	sqliteSync string
	billing    bool
	window     int
	debugAddr  string // --debug-addr of serve; empty: none
	cpuProfile string // --cpuprofile of serve; empty: none

	serve    *proc
	key      string
	port     int
	cmds     []string
	database string // the run's URL: postgres with a fresh schema
	schema   string
}

func (o *omnigate) label() string { return o.name }

func (o *omnigate) describe() string {
	store := "SQLite (synchronous=" + o.sqliteSync + ")"
	if o.postgres != "" {
		store = "PostgreSQL (a fresh schema per run)"
	}
	billing := "billing disabled (--billing-disabled), as Kannel does no charging"
	if o.billing {
		billing = "billing on (every message priced and charged against the account's balance)"
	}
	billing += ", compliance checks on (approved alphanumeric sender)"
	return fmt.Sprintf("omnigate serve, %s, %s; one SMPP transceiver bind, window %d", store, billing, o.window)
}

func (o *omnigate) start(ctx context.Context, dir string, smscPort int, sim *simulator) error {
	data := filepath.Join(dir, "data")
	if o.postgres != "" {
		if err := o.createSchema(ctx); err != nil {
			return err
		}
	}
	store := []string{"--data", data}
	shown := []string{"--data", data}
	if o.database != "" {
		store = append(store, "--database", o.database)
		shown = append(shown, "--database", redactURL(o.database))
	} else {
		store = append(store, "--sqlite-sync", o.sqliteSync)
		shown = append(shown, "--sqlite-sync", o.sqliteSync)
	}
	admin := func(args ...string) ([]byte, error) {
		o.cmds = append(o.cmds, strings.Join(append(append([]string{"omnigate"}, args...), shown...), " "))
		cmd := exec.CommandContext(ctx, o.bin, append(args, store...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("omnigate %s: %w: %s", args[0]+" "+args[1], err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	out, err := admin("account", "create", "--name", "bench", "--balance", "999999999")
	if err != nil {
		return err
	}
	var acct struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := json.Unmarshal(out, &acct); err != nil || acct.Key == "" || acct.ID == "" {
		return fmt.Errorf("omnigate account create: no id and key in %q", out)
	}
	o.key = acct.Key
	// An alphanumeric sender needs an operator's approval (compliance).
	if _, err := admin("sender", "approve", "--account", acct.ID, "--originator", originator, "--note", "benchmark"); err != nil {
		return err
	}
	if _, err := admin("connector", "add", "--name", "carrier", "--host", "127.0.0.1", "--port", strconv.Itoa(smscPort),
		"--system-id", smppSystemID, "--password", smppPassword, "--window", strconv.Itoa(o.window)); err != nil {
		return err
	}
	if _, err := admin("route", "add", "--connectors", "carrier"); err != nil {
		return err
	}
	if o.port, err = freePort(); err != nil {
		return err
	}
	args := []string{"serve", "--http", fmt.Sprintf("127.0.0.1:%d", o.port), "--log-level", "warn"}
	if !o.billing {
		args = append(args, "--billing-disabled")
	}
	if o.debugAddr != "" {
		args = append(args, "--debug-addr", o.debugAddr)
	}
	if o.cpuProfile != "" {
		args = append(args, "--cpuprofile", o.cpuProfile)
	}
	o.cmds = append(o.cmds, strings.Join(append(append([]string{"omnigate"}, args...), shown...), " "))
	if o.serve, err = startProc(dir, "omnigate", append([]string{o.bin}, append(args, store...)...)...); err != nil {
		return err
	}
	ready := fmt.Sprintf("http://127.0.0.1:%d/readyz", o.port)
	if err := waitFor(ctx, "omnigate to be ready", 30*time.Second, func() bool {
		return httpOK(ready, func(status int, _ string) bool { return status == 200 })
	}, o.serve); err != nil {
		return err
	}
	return sim.bound(ctx, o.serve)
}

func (o *omnigate) target() loadgen.Target {
	return &loadgen.Omnigate{BaseURL: fmt.Sprintf("http://127.0.0.1:%d", o.port), Key: o.key, Originator: originator}
}

func (o *omnigate) procs() []*proc     { return []*proc{o.serve} }
func (o *omnigate) commands() []string { return o.cmds }

func (o *omnigate) stop() {
	if o.serve != nil {
		o.serve.stop(30 * time.Second)
	}
	if o.schema != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		exec.CommandContext(ctx, "psql", o.postgres, "-qc", "DROP SCHEMA "+o.schema+" CASCADE").Run()
		o.schema = ""
	}
}

// createSchema makes a fresh schema for the run with psql, so that runs
// never see each other's data, and points the run's URL at it.
func (o *omnigate) createSchema(ctx context.Context) error {
	if _, err := exec.LookPath("psql"); err != nil {
		return fmt.Errorf("omnigate on PostgreSQL needs psql to create a schema for the run: %w", err)
	}
	u, err := url.Parse(o.postgres)
	if err != nil {
		return fmt.Errorf("the PostgreSQL URL: %w", err)
	}
	schema := fmt.Sprintf("bench_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	out, err := exec.CommandContext(ctx, "psql", o.postgres, "-qc", "CREATE SCHEMA "+schema).CombinedOutput()
	if err != nil {
		return fmt.Errorf("creating schema %s with psql: %w: %s", schema, err, strings.TrimSpace(string(out)))
	}
	o.schema = schema
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	o.database = u.String()
	return nil
}

//go:embed kannel.conf.tmpl
var kannelConf string

var kannelTmpl = template.Must(template.New("kannel.conf").Parse(kannelConf))

// kannelSettings fill kannel.conf.tmpl.
type kannelSettings struct {
	Dir                                    string
	AdminPort, BoxPort, SendPort, SMSCPort int
	Window                                 int
	Spool                                  bool
	SystemID, SMSCPassword                 string
	User, Password                         string
}

// kannel is Kannel's bearerbox with one SMPP connection, and an smsbox for
// the send-SMS interface.
type kannel struct {
	bearerbox, smsbox string // binaries
	window            int
	spool             bool

	bb, sb   *proc
	sendPort int
	cmds     []string
}

const kannelUser, kannelPassword = "bench", "bench-pw"

func (k *kannel) label() string { return "kannel" }

func (k *kannel) describe() string {
	store := "spool store and DLR spool (crash-safe, no fsync)"
	if !k.spool {
		store = "no store, DLRs in memory"
	}
	return fmt.Sprintf("Kannel bearerbox + smsbox, %s, log level warning, no access log; one SMPP transceiver bind, max-pending-submits %d", store, k.window)
}

func (k *kannel) start(ctx context.Context, dir string, smscPort int, sim *simulator) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	s := kannelSettings{Dir: dir, AdminPort: ports[0], BoxPort: ports[1], SendPort: ports[2], SMSCPort: smscPort,
		Window: k.window, Spool: k.spool, SystemID: smppSystemID, SMSCPassword: smppPassword,
		User: kannelUser, Password: kannelPassword}
	for _, sub := range []string{"store", "dlr"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("kannel: %w", err)
		}
	}
	var conf bytes.Buffer
	if err := kannelTmpl.Execute(&conf, s); err != nil {
		return fmt.Errorf("kannel: writing kannel.conf: %w", err)
	}
	confPath := filepath.Join(dir, "kannel.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("kannel: %w", err)
	}
	// -v 2: warnings and worse on stderr (the default, debug, writes
	// hundreds of megabytes under load and slows Kannel down).
	k.cmds = append(k.cmds, k.bearerbox+" -v 2 "+confPath)
	if k.bb, err = startProc(dir, "bearerbox", k.bearerbox, "-v", "2", confPath); err != nil {
		return err
	}
	status := fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=%s", s.AdminPort, url.QueryEscape(kannelPassword))
	if err := waitFor(ctx, "bearerbox's SMPP connection", 30*time.Second, func() bool {
		return httpOK(status, func(code int, body string) bool {
			return code == 200 && strings.Contains(body, "(online")
		})
	}, k.bb); err != nil {
		return err
	}
	k.cmds = append(k.cmds, k.smsbox+" -v 2 "+confPath)
	if k.sb, err = startProc(dir, "smsbox", k.smsbox, "-v", "2", confPath); err != nil {
		return err
	}
	k.sendPort = s.SendPort
	send := fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", s.SendPort)
	if err := waitFor(ctx, "smsbox's send-SMS interface", 30*time.Second, func() bool {
		// Without parameters it answers an error: any answer means it is up.
		return httpOK(send, func(int, string) bool { return true })
	}, k.sb, k.bb); err != nil {
		return err
	}
	// smsbox must also be connected to bearerbox.
	return waitFor(ctx, "smsbox's connection to bearerbox", 30*time.Second, func() bool {
		return httpOK(status, func(code int, body string) bool {
			return code == 200 && strings.Contains(body, "smsbox:")
		})
	}, k.sb, k.bb)
}

func (k *kannel) target() loadgen.Target {
	return &loadgen.Kannel{BaseURL: fmt.Sprintf("http://127.0.0.1:%d", k.sendPort), Username: kannelUser, Password: kannelPassword, Originator: originator}
}

func (k *kannel) procs() []*proc     { return []*proc{k.bb, k.sb} }
func (k *kannel) commands() []string { return k.cmds }

func (k *kannel) stop() {
	if k.sb != nil {
		k.sb.stop(10 * time.Second)
	}
	if k.bb != nil {
		k.bb.stop(10 * time.Second)
	}
}

// redactURL hides a URL's password.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a PostgreSQL URL)"
	}
	return u.Redacted()
}
