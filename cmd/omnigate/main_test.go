package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres/postgrestest"
)

// binary is omnigate built once for these tests: they run the real program
// as a user would, as a child process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "omnigate-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "omnigate")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building omnigate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is the environment of one omnigate installation: data dir and database.
type env struct {
	t     *testing.T
	data  string
	db    string
	extra []string // more environment variables, NAME=value
}

func newEnv(t *testing.T, engine string) *env {
	e := &env{t: t, data: t.TempDir()}
	if engine == "postgres" {
		e.db = postgrestest.URL(t)
	}
	return e
}

func engines(t *testing.T, f func(t *testing.T, e *env)) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			if engine == "postgres" && !pgtest.Available() {
				t.Skip(pgtest.EnvVar + " is not set")
			}
			f(t, newEnv(t, engine))
		})
	}
}

func (e *env) cmd(args ...string) *exec.Cmd {
	c := exec.Command(binary, args...)
	c.Env = append(append(os.Environ(), "OMNIGATE_DATA="+e.data, "OMNIGATE_DATABASE="+e.db, "OMNIGATE_SQLITE_SYNC=FULL"), e.extra...)
	return c
}

// run runs a CLI command and decodes its JSON output into v.
func (e *env) run(v any, args ...string) {
	e.t.Helper()
	var stderr bytes.Buffer
	c := e.cmd(args...)
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		e.t.Fatalf("omnigate %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	if err := json.Unmarshal(out, v); err != nil {
		e.t.Fatalf("omnigate %s printed %q: %v", strings.Join(args, " "), out, err)
	}
}

// proc is a running `omnigate serve`.
type proc struct {
	cmd    *exec.Cmd
	url    string
	stdout *lockedBuffer
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (e *env) serve(addr string, args ...string) *proc {
	e.t.Helper()
	return e.start(e.cmd(append([]string{"serve", "--http", addr}, args...)...), addr)
}

// start runs c, a `serve` listening on addr, until the test ends, and
// waits until it is ready.
func (e *env) start(c *exec.Cmd, addr string) *proc {
	e.t.Helper()
	p := &proc{cmd: c, url: "http://" + addr, stdout: &lockedBuffer{}}
	c.Stdout = p.stdout
	stderr, _ := c.StderrPipe()
	if err := c.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { // keep the server's log in the test output
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			e.t.Log(sc.Text())
		}
	}()
	e.t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("server did not become ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type created struct {
	ID, Key, TestKey, SigningKey string
	Balance                      string
}

func (c *created) UnmarshalJSON(b []byte) error {
	var raw struct {
		ID         string `json:"id"`
		Key        string `json:"key"`
		TestKey    string `json:"test_key"`
		SigningKey string `json:"signing_key"`
		Balance    string `json:"balance"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*c = created{raw.ID, raw.Key, raw.TestKey, raw.SigningKey, raw.Balance}
	return nil
}

func post(url, key, body string) (int, map[string]any, error) {
	req, _ := http.NewRequest("POST", url+"/messages", strings.NewReader(body))
	req.Header.Set("Authorization", "AccessKey "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m, nil
}

func getStatus(url, key, id string) (string, error) {
	req, _ := http.NewRequest("GET", url+"/messages/"+id, nil)
	req.Header.Set("Authorization", "AccessKey "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var m struct {
		Recipients struct {
			Items []struct{ Status string }
		}
	}
	if resp.StatusCode != 200 {
		return fmt.Sprintf("http %d", resp.StatusCode), nil
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return "", err
	}
	st := ""
	for _, it := range m.Recipients.Items {
		if st == "" || it.Status != "delivered" {
			st = it.Status
		}
	}
	return st, nil
}

func TestCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme", "--balance", "12.50")
		if len(acct.ID) != 32 || !strings.HasPrefix(acct.Key, "live_") || !strings.HasPrefix(acct.TestKey, "test_") || acct.Balance != "12.5" {
			t.Fatalf("account create printed %+v", acct)
		}
		// Works while the server runs on the same data.
		p := e.serve(freePort(t))
		var key struct {
			Key  string `json:"key"`
			Test bool   `json:"test"`
		}
		e.run(&key, "key", "create", "--account", acct.ID)
		// An alphanumeric sender is refused until an operator approves it.
		if code, _, err := post(p.url, key.Key, `{"originator":"Acme","recipients":"31612345678","body":"x"}`); err != nil || code != 422 {
			t.Fatalf("unapproved sender: %d %v, want 422", code, err)
		}
		var sender map[string]any
		e.run(&sender, "sender", "approve", "--account", acct.ID, "--originator", "Acme", "--note", "trade register checked")
		if sender["status"] != "approved" {
			t.Fatalf("sender approve printed %v", sender)
		}
		// The running server sees the CLI's change once its policy cache
		// (5 s) expires.
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(250 * time.Millisecond) {
			code, _, err := post(p.url, key.Key, `{"originator":"Acme","recipients":"31612345678","body":"x"}`)
			if err == nil && code == 201 {
				break
			}
			if err != nil || code != 422 || time.Now().After(deadline) {
				t.Fatalf("approved sender: %d %v", code, err)
			}
		}
		var list []map[string]any
		e.run(&list, "account", "list")
		if len(list) != 1 || list[0]["id"] != acct.ID || list[0]["name"] != "Acme" || list[0]["key"] != nil {
			t.Fatalf("account list printed %v (keys must not be listed)", list)
		}
		var updated map[string]any
		e.run(&updated, "account", "update", "--id", acct.ID, "--report-url", "https://example.com/dlr")
		if updated["report_url"] != "https://example.com/dlr" {
			t.Fatalf("account update printed %v", updated)
		}
		// Mistakes: clear message, non-zero exit, nothing created.
		for _, args := range [][]string{
			{"account", "create"},
			{"account", "create", "--name", "x", "--balance", "-5"},
			{"account", "create", "--name", "x", "--balance", "abc"},
			{"account", "create", "--name", "x", "--currency", "EURO"},
			{"account", "create", "--name", "x", "--currency", "ABC"},
			{"account", "update", "--id", acct.ID, "--report-url", "ftp://x"},
			{"account", "update", "--id", "nope", "--report-url", "https://x"},
			{"key", "create"},
			{"key", "create", "--account", "nope"},
			{"account", "frobnicate"},
			{"nonsense"},
		} {
			var stderr bytes.Buffer
			c := e.cmd(args...)
			c.Stderr = &stderr
			if err := c.Run(); err == nil || stderr.Len() == 0 {
				t.Errorf("omnigate %v: err %v, stderr %q; want a failure with a message", args, err, stderr.String())
			}
		}
		e.run(&list, "account", "list")
		if len(list) != 1 {
			t.Fatalf("failed commands created accounts: %v", list)
		}
	})
}

// SIGTERM stops the server cleanly: exit status 0, accepted work finished.
func TestGracefulStop(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		p := e.serve(freePort(t), "--demo")
		if !strings.Contains(p.stdout.String(), "curl -X POST") {
			t.Fatalf("demo banner without a curl: %s", p.stdout.String())
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after SIGTERM: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("server did not stop after SIGTERM")
		}
	})
}

// startSMSC runs `omnigate smsc` as its own process and returns its SMPP
// port and control URL.
func (e *env) startSMSC(args ...string) (port string, control string) {
	e.t.Helper()
	smppAddr, ctl := freePort(e.t), freePort(e.t)
	c := e.cmd(append([]string{"smsc", "--listen", smppAddr, "--control", ctl, "--receipt-delay", "20ms"}, args...)...)
	c.Stdout, c.Stderr = &lockedBuffer{}, &lockedBuffer{}
	if err := c.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get("http://" + ctl + "/stats"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("smsc did not start: %s", c.Stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, port, _ = net.SplitHostPort(smppAddr)
	return port, "http://" + ctl
}

// carrier configures a connector to the SMSC and a catch-all route to it.
func (e *env) carrier(port string) {
	e.t.Helper()
	var out any
	e.run(&out, "connector", "add", "--name", "carrier", "--host", "127.0.0.1", "--port", port, "--system-id", "omnigate", "--window", "20")
	e.run(&out, "route", "add", "--connectors", "carrier")
}

// A 2xx means durable: kill -9 the server in the middle of a load, start it
// again, and every message it accepted reaches a final state. The SMSC is a
// separate process that keeps the receipts of a client that went away, as a
// carrier does.
func TestKillDuringLoad(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		port, _ := e.startSMSC()
		e.carrier(port)
		var acct created
		e.run(&acct, "account", "create", "--name", "load", "--balance", "100")
		var sender map[string]any
		e.run(&sender, "sender", "approve", "--account", acct.ID, "--originator", "Load")
		addr := freePort(t)
		p := e.serve(addr)
		var mu sync.Mutex
		var accepted []string
		var sent atomic.Int64
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					code, m, err := post(p.url, acct.Key, `{"originator":"Load","recipients":["31612345678","31612345679","31612345670"],"body":"durable?"}`)
					sent.Add(1)
					if err == nil && code == 201 {
						mu.Lock()
						accepted = append(accepted, m["id"].(string))
						mu.Unlock()
					}
				}
			}()
		}
		// Kill once a fair number are in and the dispatcher is busy.
		loadStart := time.Now()
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			n := len(accepted)
			mu.Unlock()
			if n >= 300 || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.cmd.Wait()
		stop()
		wg.Wait()
		mu.Lock()
		ids := append([]string(nil), accepted...)
		mu.Unlock()
		t.Logf("%d requests sent, %d accepted in %v before SIGKILL", sent.Load(), len(ids), time.Since(loadStart).Round(time.Millisecond))
		if len(ids) < 100 {
			t.Fatalf("only %d accepted before the kill; the test needs a real load", len(ids))
		}
		// Restart on the same data: every accepted message must be there and finish.
		p = e.serve(addr)
		waitDelivered(t, p.url, acct.Key, ids)
	})
}

// waitDelivered polls until every message's recipients are delivered.
func waitDelivered(t *testing.T, url, key string, ids []string) {
	t.Helper()
	pending := map[string]string{}
	for _, id := range ids {
		pending[id] = ""
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(pending) > 0 {
		for id := range pending {
			st, err := getStatus(url, key, id)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(st, "http") {
				t.Fatalf("accepted message %s lost: %s", id, st)
			}
			if st == "delivered" {
				delete(pending, id)
			} else {
				pending[id] = st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d accepted messages never reached a final state: %v", len(pending), pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
