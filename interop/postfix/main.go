// Command postfix-interop is the Postfix interop test (interop/postfix/run.sh
// builds and runs it): Debian's Postfix, in a private loopback-only
// instance, is the receiving MX of the test domain inbox.test and
// delivers into a maildir that the test reads.
//
// Recipients of inbox.test, by local part:
//
//	ok@     accepted and delivered into the maildir
//	reject@ refused at RCPT: 550 5.1.1
//	defer@  refused at RCPT: 450 4.2.0, until the test accepts it (access
//	        table rewritten, postfix reload)
//	jörg@   accepted and delivered into the maildir: a UTF-8 local part,
//	        which Postfix takes with SMTPUTF8 (RFC 6531) only
//	async@  accepted, then bounced by Postfix (a virtual alias to a
//	        domain whose transport is error:5.1.1, so smtpd accepts it):
//	        Postfix mails a DSN to the envelope sender, omnigate's VERP
//	        return path bounces.sender.test, which a transport table
//	        routes to omnigate's inbound listener on loopback.
//
// First a self-check of the Postfix side alone (a plain SMTP client; the
// DSN goes to Postfix's smtp-sink). Then, unless --postfix-only: omnigate
// serve with an account, the DKIM domain sender.test verified against the
// test's own DNS zone, an smtp connector whose resolver is that zone (MX
// of inbox.test → 127.0.0.1, port of the Postfix instance), four emails
// through POST /v1/send, and the checks: ok lands in the maildir with a
// DKIM signature that dkimpy verifies and the VERP return path; reject
// ends failed; defer is retried and delivered once accepted; async ends
// failed after the DSN reached omnigate, and is suppressed; jörg lands in
// the maildir, sent with SMTPUTF8.
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
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/omnigate/omnigate/interop/postfix/dnszone"
	"github.com/omnigate/omnigate/interop/postfix/pfinstance"
)

const (
	inboxDomain  = "inbox.test"
	senderDomain = "sender.test"
	bounceDomain = "bounces." + senderDomain
	selfBounce   = "bounces.selfcheck.test"
)

var (
	bin         = flag.String("omnigate", "", "the omnigate binary (required unless --postfix-only)")
	work        = flag.String("work", "", "work directory (required; left for the caller to remove)")
	dkimCheck   = flag.String("dkimcheck", "", "dkimcheck.py (default: beside this source, from run.sh)")
	postfixOnly = flag.Bool("postfix-only", false, "only the self-check of the Postfix side")
	retryWait   = flag.Duration("retry-wait", 3*time.Minute, "how long the deferred recipient may take to be retried and delivered")
	wait        = flag.Duration("wait", 90*time.Second, "how long any other expected state may take")
)

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "interop/postfix: "+format+"\n", a...)
}

// cleanups stop what the test started (newest first), on the way out or
// on SIGTERM/SIGINT: Postfix's master is a daemon and would outlive us.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func atExit(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

func runCleanups() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

func main() {
	flag.Parse()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sig
		logf("%v: stopping", s)
		runCleanups()
		os.Exit(143)
	}()
	defer runCleanups()
	if *work == "" || (!*postfixOnly && *bin == "") {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(); err != nil {
		logf("FAIL: %v", err)
		runCleanups()
		os.Exit(1)
	}
}

// env is what the phases share.
type env struct {
	ctx      context.Context
	pf       *pfinstance.Instance
	dns      *dnszone.Server
	pfAddr   string
	sinkAddr string
	sinkDir  string
	inbound  string // omnigate's inbound listener, host:port
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	e := &env{ctx: ctx}
	var err error
	if e.dns, err = dnszone.Start(); err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	atExit(e.dns.Close)
	e.dns.Add(inboxDomain, "MX", "10 mx."+inboxDomain)

	e.pfAddr, e.sinkAddr, e.inbound = freeAddr(), freeAddr(), freeAddr()
	pfHost, pfPort, _ := net.SplitHostPort(e.pfAddr)
	e.dns.Add("mx."+inboxDomain, "A", pfHost)

	stopSink, err := e.startSink()
	if err != nil {
		return err
	}
	atExit(stopSink)

	nobodyUID, nobodyGID, err := pfinstance.UserIDs("nobody")
	if err != nil {
		return err
	}
	pfDir := filepath.Join(*work, "postfix")
	// A signal during Start waits for it, then stops what it started.
	var starting sync.WaitGroup
	starting.Add(1)
	atExit(func() { starting.Wait(); pfinstance.StopDir(pfDir) })
	e.pf, err = pfinstance.Start(ctx, pfinstance.Config{
		Dir:      pfDir,
		Listen:   e.pfAddr,
		Hostname: "mx." + inboxDomain,
		Main: map[string]string{
			"virtual_mailbox_domains":      inboxDomain,
			"virtual_mailbox_maps":         "texthash:{conf}/vmailbox",
			"virtual_uid_maps":             fmt.Sprintf("static:%d", nobodyUID),
			"virtual_gid_maps":             fmt.Sprintf("static:%d", nobodyGID),
			"transport_maps":               "texthash:{conf}/transport",
			"virtual_alias_maps":           "texthash:{conf}/virtual_alias",
			"smtpd_recipient_restrictions": "check_recipient_access texthash:{conf}/recipient_access, permit_mynetworks, reject_unauth_destination",
			// Retry a DSN that omnigate's listener did not take quickly.
			"queue_run_delay":      "5s",
			"minimal_backoff_time": "5s",
			"maximal_backoff_time": "30s",
			// SMTPUTF8 offered, for jörg@ (pfinstance's base turns it
			// off), and a UTF-8 address taken only in a mail that asks
			// for it.
			"smtputf8_enable": "yes",
			"strict_smtputf8": "yes",
		},
		Maps: map[string]string{
			"vmailbox":         mailboxes,
			"recipient_access": accessDeferring,
			"virtual_alias":    "async@" + inboxDomain + " gone@gone." + inboxDomain + "\n",
			"transport": fmt.Sprintf("gone.%s error:5.1.1 mailbox no longer exists\n%s smtp:[%s]:%s\n%s smtp:[%s]:%s\n",
				inboxDomain, selfBounce, hostOf(e.sinkAddr), portOf(e.sinkAddr), bounceDomain, hostOf(e.inbound), portOf(e.inbound)),
		},
	})
	starting.Done()
	if err != nil {
		return err
	}
	if err := os.Chown(e.pf.Mail, nobodyUID, nobodyGID); err != nil {
		return err
	}
	logf("postfix %s listening on %s (inbox.test MX via DNS %s, port %s)", postfixVersion(), e.pfAddr, e.dns.Addr, pfPort)

	if err := e.selfCheck(); err != nil {
		return fmt.Errorf("postfix self-check: %w\n--- postfix log (last lines):\n%s", err, e.pf.LogTail(30))
	}
	logf("OK: postfix self-check (delivered to maildir, 550 reject, 450 defer, async DSN to the return path)")
	if *postfixOnly {
		return nil
	}
	if err := e.omnigate(); err != nil {
		return fmt.Errorf("%w\n--- postfix log (last lines):\n%s", err, e.pf.LogTail(40))
	}
	return nil
}

const mailboxes = `ok@inbox.test inbox.test/ok/
jörg@inbox.test inbox.test/jorg/
defer@inbox.test inbox.test/defer/
selfcheck@inbox.test inbox.test/selfcheck/
`

const accessAccepting = `reject@inbox.test 550 5.1.1 <reject@inbox.test>: no such mailbox here
`

const accessDeferring = accessAccepting + `defer@inbox.test 450 4.2.0 <defer@inbox.test>: mailbox busy, try again later
`

func hostOf(addr string) string { h, _, _ := net.SplitHostPort(addr); return h }
func portOf(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func postfixVersion() string {
	out, _ := exec.Command("/usr/sbin/postconf", "-d", "-h", "mail_version").Output()
	return strings.TrimSpace(string(out))
}

// startSink runs Postfix's smtp-sink, dumping every message to a file:
// the self-check's DSNs land there.
func (e *env) startSink() (func(), error) {
	e.sinkDir = filepath.Join(*work, "sink")
	if err := os.MkdirAll(e.sinkDir, 0o777); err != nil {
		return nil, err
	}
	os.Chmod(*work, 0o755)
	os.Chmod(e.sinkDir, 0o777)
	cmd := exec.Command("/usr/sbin/smtp-sink", "-u", "nobody", "-d", e.sinkDir+"/%H%M%S.", e.sinkAddr, "64")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("smtp-sink: %w", err)
	}
	for i := 0; i < 50; i++ {
		if c, err := net.Dial("tcp", e.sinkAddr); err == nil {
			c.Close()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return func() { cmd.Process.Kill(); cmd.Wait() }, nil
}

// send speaks SMTP to Postfix and returns the reply to RCPT (nil: 250).
func send(addr, from, to string, body []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("selfcheck.test"); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		c.Quit()
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func (e *env) selfCheck() error {
	msg := func(to string) []byte {
		return []byte("From: <selfcheck@" + selfBounce + ">\r\nTo: <" + to + ">\r\nSubject: self-check\r\nMessage-ID: <" +
			fmt.Sprint(time.Now().UnixNano()) + "@selfcheck.test>\r\n\r\nPostfix self-check.\r\n")
	}
	from := "verp-selfcheck@" + selfBounce
	if err := send(e.pfAddr, from, "selfcheck@"+inboxDomain, msg("selfcheck@"+inboxDomain)); err != nil {
		return fmt.Errorf("selfcheck@: want 250, got %v", err)
	}
	if err := send(e.pfAddr, from, "reject@"+inboxDomain, msg("reject@"+inboxDomain)); code(err) != 550 {
		return fmt.Errorf("reject@: want 550, got %v", err)
	}
	if err := send(e.pfAddr, from, "defer@"+inboxDomain, msg("defer@"+inboxDomain)); code(err) != 450 {
		return fmt.Errorf("defer@: want 450, got %v", err)
	}
	if err := send(e.pfAddr, from, "nobody@"+inboxDomain, msg("nobody@"+inboxDomain)); code(err) != 550 {
		return fmt.Errorf("an unknown mailbox: want 550, got %v", err)
	}
	if err := send(e.pfAddr, from, "async@"+inboxDomain, msg("async@"+inboxDomain)); err != nil {
		return fmt.Errorf("async@: want 250, got %v", err)
	}
	if _, err := waitFile(filepath.Join(e.pf.Mail, inboxDomain, "selfcheck", "new"), "", *wait); err != nil {
		return fmt.Errorf("selfcheck@ not in the maildir: %w", err)
	}
	dsn, err := waitFile(e.sinkDir, "Original-Recipient: rfc822;async@"+inboxDomain, *wait)
	if err != nil {
		return fmt.Errorf("no DSN for async@ at the return path: %w", err)
	}
	for _, want := range []string{"Action: failed", "Status: 5.1.1", "multipart/report", "report-type=delivery-status", "verp-selfcheck@" + selfBounce} {
		if !bytes.Contains(dsn, []byte(want)) {
			return fmt.Errorf("the DSN has no %q:\n%s", want, dsn)
		}
	}
	return nil
}

// waitFile waits for a file in dir (that contains needle, when given)
// and returns its content.
func waitFile(dir, needle string, d time.Duration) ([]byte, error) {
	deadline := time.Now().Add(d)
	for {
		var found []byte
		filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
			if err != nil || de.IsDir() || found != nil {
				return nil
			}
			b, err := os.ReadFile(p)
			if err == nil && (needle == "" || bytes.Contains(b, []byte(needle))) {
				found = b
			}
			return nil
		})
		if found != nil {
			return found, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("nothing in %s after %v", dir, d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ---- omnigate ----

// cli runs one omnigate command and returns its standard output.
func cli(ctx context.Context, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, *bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("omnigate %s: %v: %s%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.Bytes(), nil
}

// help returns a command's -h text (flag's usage goes to stderr).
func help(ctx context.Context, args ...string) string {
	out, _ := exec.CommandContext(ctx, *bin, append(args, "-h")...).CombinedOutput()
	return string(out)
}

// missing lists what the email channel's merge must bring before the
// omnigate half can run.
func missing(ctx context.Context) []string {
	var out []string
	serve := help(ctx, "serve")
	for _, f := range []string{"smtp-inbound", "dns-resolver"} {
		if !strings.Contains(serve, "-"+f) {
			out = append(out, "serve --"+f)
		}
	}
	if h := help(ctx, "email", "domain", "add"); strings.Contains(h, "unknown command") || !strings.Contains(h, "-account") {
		out = append(out, "the CLI `omnigate email domain add`")
	}
	if h := help(ctx, "connector", "add"); !strings.Contains(h, "smtp") {
		out = append(out, "connector kind smtp")
	}
	return out
}

// mxHost names omnigate's inbound MX for the return-path record
// (bounces.sender.test MX mx.omnigate.test, 127.0.0.1 in the zone), to a
// command that takes --email-mx-host.
func mxHost(ctx context.Context, cmd ...string) []string {
	if strings.Contains(help(ctx, cmd...), "-email-mx-host") {
		return []string{"--email-mx-host", "mx.omnigate.test"}
	}
	return nil
}

type omni struct {
	*env
	api, key, account string
	reports           *reportSink
	serve             *exec.Cmd
	serveLog          string
}

func (e *env) omnigate() error {
	ctx := e.ctx
	if m := missing(ctx); len(m) > 0 {
		return fmt.Errorf("this omnigate lacks what the test needs (the email channel's merge brings it): %s", strings.Join(m, ", "))
	}
	o := &omni{env: e}
	data := filepath.Join(*work, "data")
	out, err := cli(ctx, "account", "create", "--name", "interop-postfix", "--balance", "1000", "--data", data)
	if err != nil {
		return err
	}
	var acct struct{ ID, Key string }
	if err := json.Unmarshal(out, &acct); err != nil || acct.ID == "" || acct.Key == "" {
		return fmt.Errorf("account create: no id and key in %s", out)
	}
	o.account, o.key = acct.ID, acct.Key

	// The sending domain: its DKIM key and the records to publish, which
	// go into the test's zone as an operator would publish them.
	out, err = cli(ctx, append([]string{"email", "domain", "add", senderDomain, "--account", o.account, "--data", data}, mxHost(ctx, "email", "domain", "add")...)...)
	if err != nil {
		return err
	}
	recs := e.dns.Publish(out)
	if len(recs) == 0 {
		return fmt.Errorf("email domain add printed no DNS records: %s", out)
	}
	for _, r := range recs {
		logf("published %s %s %.60s", r.Name, r.Type, r.Value)
	}

	settings, _ := json.Marshal(map[string]any{"resolver": e.dns.Addr, "port": atoi(portOf(e.pfAddr))})
	if _, err := cli(ctx, "connector", "add", "--name", "postfix", "--kind", "smtp", "--settings", string(settings), "--data", data); err != nil {
		return err
	}
	if _, err := cli(ctx, "route", "add", "--channel", "email", "--connectors", "postfix", "--data", data); err != nil {
		return err
	}

	o.reports, err = startReportSink()
	if err != nil {
		return err
	}
	atExit(o.reports.close)
	atExit(o.stop)
	if err := o.start(data); err != nil {
		return err
	}
	if err := o.verifyDomain(data); err != nil {
		return err
	}

	ids := map[string]string{}
	for _, local := range []string{"ok", "reject", "defer", "async", "jörg"} {
		id, err := o.sendEmail(local + "@" + inboxDomain)
		if err != nil {
			return err
		}
		ids[local] = id
		logf("sent to %s@%s: message %s", local, inboxDomain, id)
	}

	// ok: in the maildir, signed, with the VERP return path.
	msg, err := waitFile(filepath.Join(e.pf.Mail, inboxDomain, "ok", "new"), "", *wait)
	if err != nil {
		return fmt.Errorf("ok@: %w", err)
	}
	if err := o.checkDelivered(msg); err != nil {
		return fmt.Errorf("ok@: %w", err)
	}
	if err := o.waitStatus(ids["ok"], "ok@"+inboxDomain, *wait, "sent", "delivered"); err != nil {
		return err
	}
	logf("OK: ok@ delivered into Postfix's maildir, DKIM verified by dkimpy, VERP return path")

	// jörg: a UTF-8 local part, which Postfix takes only with SMTPUTF8 on
	// MAIL FROM.
	msg, err = waitFile(filepath.Join(e.pf.Mail, inboxDomain, "jorg", "new"), "", *wait)
	if err != nil {
		return fmt.Errorf("jörg@: %w (postfix log lines with jörg: %d)", err, e.pf.CountLog("jörg"))
	}
	if !bytes.Contains(msg, []byte("<jörg@"+inboxDomain+">")) {
		return fmt.Errorf("jörg@: the delivered copy does not show the UTF-8 address:\n%s", msg)
	}
	if err := o.checkDelivered(msg); err != nil { // a signature over a UTF-8 header
		return fmt.Errorf("jörg@: %w", err)
	}
	if err := o.waitStatus(ids["jörg"], "jörg@"+inboxDomain, *wait, "sent", "delivered"); err != nil {
		return err
	}
	logf("OK: jörg@ (a UTF-8 local part) delivered into Postfix's maildir with SMTPUTF8, DKIM verified by dkimpy")

	// reject: a 5xx at RCPT fails the recipient.
	if err := o.waitStatus(ids["reject"], "reject@"+inboxDomain, *wait, "failed"); err != nil {
		return err
	}
	logf("OK: reject@ failed on Postfix's 550 5.1.1")

	// async: accepted (sent), then Postfix's DSN to the VERP address
	// reaches omnigate's listener and fails it; the address is suppressed.
	if err := o.waitStatus(ids["async"], "async@"+inboxDomain, *wait, "failed"); err != nil {
		return fmt.Errorf("%w (postfix's DSN deliveries: %d to omnigate's listener, log lines with %s: %d)", err,
			e.pf.CountLog("status=sent", "127.0.0.1]:"+portOf(e.inbound)), bounceDomain, e.pf.CountLog(bounceDomain))
	}
	if n := e.pf.CountLog("to=<", bounceDomain, "relay=127.0.0.1[127.0.0.1]:"+portOf(e.inbound), "status=sent"); n < 1 {
		return fmt.Errorf("async@ failed, but Postfix's log shows no DSN delivered to omnigate's listener")
	}
	if err := o.waitSuppressed("async@"+inboxDomain, *wait); err != nil {
		return err
	}
	logf("OK: async@: Postfix's DSN reached omnigate's inbound listener; failed and suppressed")

	// defer: 450 at RCPT, retried; accepted once the access table lets it.
	deferLine := "450 4.2.0 <defer@" + inboxDomain + ">"
	deadline := time.Now().Add(*wait)
	for e.pf.CountLog(deferLine) < 1 {
		if time.Now().After(deadline) {
			return fmt.Errorf("defer@: Postfix never answered it 450")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st := o.statuses(ids["defer"], "defer@"+inboxDomain); contains(st, "failed") {
		return fmt.Errorf("defer@: failed after a 4xx (statuses %v): a 4xx must be retried", st)
	}
	if err := e.pf.WriteMap("recipient_access", accessAccepting); err != nil {
		return err
	}
	if err := e.pf.Reload(ctx); err != nil {
		return err
	}
	logf("defer@ got 450 (%d time(s)); Postfix now accepts it; waiting up to %v for omnigate's retry", e.pf.CountLog(deferLine), *retryWait)
	if _, err := waitFile(filepath.Join(e.pf.Mail, inboxDomain, "defer", "new"), "", *retryWait); err != nil {
		return fmt.Errorf("defer@ was not retried into the maildir: %w", err)
	}
	if err := o.waitStatus(ids["defer"], "defer@"+inboxDomain, *wait, "sent", "delivered"); err != nil {
		return err
	}
	logf("OK: defer@ retried after Postfix's 450 4.2.0 and delivered (%d deferral(s))", e.pf.CountLog(deferLine))
	if n := o.reports.count(); n == 0 {
		return fmt.Errorf("no status report reached the reportUrl")
	}
	logf("OK: %d status reports received", o.reports.count())
	return nil
}

func atoi(s string) int { var n int; fmt.Sscan(s, &n); return n }

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// start runs omnigate serve with the inbound listener and the test's
// resolver, and waits until it is ready.
func (o *omni) start(data string) error {
	httpAddr := freeAddr()
	args := []string{"serve", "--http", httpAddr, "--data", data, "--smtp-inbound", o.inbound, "--dns-resolver", o.dns.Addr}
	args = append(args, mxHost(o.ctx, "serve")...)
	o.serveLog = filepath.Join(*work, "serve.log")
	f, err := os.Create(o.serveLog)
	if err != nil {
		return err
	}
	o.serve = exec.Command(*bin, args...)
	o.serve.Stdout, o.serve.Stderr = f, f
	if err := o.serve.Start(); err != nil {
		return err
	}
	o.api = "http://" + httpAddr
	for i := 0; i < 200; i++ {
		if r, err := http.Get(o.api + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				logf("omnigate serving on %s, inbound SMTP on %s", o.api, o.inbound)
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("omnigate serve not ready on %s:\n%s", o.api, tail(o.serveLog, 30))
}

func (o *omni) stop() {
	if o.serve == nil || o.serve.Process == nil {
		return
	}
	o.serve.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { o.serve.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		o.serve.Process.Kill()
		<-done
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// call makes an account API request and decodes a JSON answer.
func (o *omni) call(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(o.ctx, method, o.api+path, rd)
	req.Header.Set("Authorization", "AccessKey "+o.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, nil
}

// verifyDomain checks the published records through omnigate's resolver
// (the test's zone): the account API, or the CLI where the API has no
// such route.
func (o *omni) verifyDomain(data string) error {
	code, body, err := o.call("POST", "/email/domains/"+senderDomain+"/verify", nil)
	if err == nil && code == 200 {
		if !bytes.Contains(body, []byte("verified")) {
			return fmt.Errorf("domain verify answered 200 without saying verified: %s", body)
		}
		logf("OK: %s verified through the test's DNS zone", senderDomain)
		return nil
	}
	out, cerr := cli(o.ctx, "email", "domain", "verify", senderDomain, "--account", o.account, "--data", data, "--dns-resolver", o.dns.Addr)
	if cerr != nil {
		return fmt.Errorf("domain verify: API %d %s; CLI: %v", code, body, cerr)
	}
	logf("OK: %s verified through the test's DNS zone (CLI): %s", senderDomain, bytes.TrimSpace(out))
	return nil
}

func (o *omni) sendEmail(to string) (string, error) {
	local := strings.SplitN(to, "@", 2)[0]
	// The Conversations envelope: the email in content.email.
	body := map[string]any{"type": "email", "content": map[string]any{"email": map[string]any{
		"from":      map[string]string{"email": "news@" + senderDomain, "name": "Omnigate interop"},
		"to":        []map[string]string{{"email": to, "name": "Postfix " + local}},
		"subject":   "omnigate → Postfix interop (" + local + ")",
		"content":   map[string]string{"text": "Hello " + local + ",\n\nthis went through omnigate and Postfix.\n", "html": "<p>Hello " + local + ",</p><p>this went through omnigate and Postfix.</p>"},
		"reportUrl": o.reports.url,
	}}}
	code, b, err := o.call("POST", "/v1/send", body)
	if err != nil {
		return "", err
	}
	if code/100 != 2 {
		return "", fmt.Errorf("POST /v1/send to %s: %d %s", to, code, b)
	}
	var ans struct{ ID string }
	if json.Unmarshal(b, &ans) != nil || ans.ID == "" {
		return "", fmt.Errorf("POST /v1/send to %s: no id in %s", to, b)
	}
	return ans.ID, nil
}

// checkDelivered checks a message from the maildir: DKIM by dkimpy, and
// the return path Postfix recorded is a VERP address at the bounce domain.
func (o *omni) checkDelivered(msg []byte) error {
	rp := regexp.MustCompile(`(?mi)^Return-Path: <([^>]*)>`).FindSubmatch(msg)
	if rp == nil || !strings.HasSuffix(strings.ToLower(string(rp[1])), "@"+bounceDomain) {
		return fmt.Errorf("return path %q is not at %s", rp, bounceDomain)
	}
	if !bytes.Contains(msg, []byte("DKIM-Signature:")) {
		return fmt.Errorf("no DKIM-Signature header:\n%s", head(msg))
	}
	msgFile := filepath.Join(*work, "ok.eml")
	recFile := filepath.Join(*work, "zone.json")
	zone := map[string][]string{}
	for name, rs := range o.dns.All() {
		for _, r := range rs {
			if r.Type == "TXT" {
				zone[name] = append(zone[name], r.Value)
			}
		}
	}
	zb, _ := json.Marshal(zone)
	if err := os.WriteFile(msgFile, msg, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(recFile, zb, 0o644); err != nil {
		return err
	}
	script := *dkimCheck
	if script == "" {
		script = "dkimcheck.py"
	}
	out, err := exec.CommandContext(o.ctx, "/usr/bin/python3", script, msgFile, recFile).CombinedOutput()
	logf("dkimpy: %s", bytes.TrimSpace(out))
	if err != nil {
		return fmt.Errorf("dkimpy does not verify the signature: %v\n%s", err, head(msg))
	}
	return nil
}

func head(msg []byte) []byte {
	if i := bytes.Index(msg, []byte("\n\n")); i > 0 {
		return msg[:i]
	}
	return msg
}

// statuses are the recipient's statuses seen so far: in the message read
// back through GET /v1/messages/{id}, and in the status reports.
func (o *omni) statuses(id, rcpt string) []string {
	var st []string
	if code, b, err := o.call("GET", "/v1/messages/"+id, nil); err == nil && code == 200 {
		st = append(st, statusesIn(b, rcpt)...)
	}
	for _, b := range o.reports.all() {
		if bytes.Contains(b, []byte(id)) {
			st = append(st, statusesIn(b, rcpt)...)
		}
	}
	return st
}

// statusesIn finds the recipient's status in a JSON document of unknown
// shape: every "status" of an object that names the recipient, or else
// the top-level status (a message to one recipient).
func statusesIn(b []byte, rcpt string) []string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		// A form-encoded or query report: status=…
		if m := regexp.MustCompile(`(?:^|[&?])status=([a-z_]+)`).FindSubmatch(b); m != nil {
			return []string{string(m[1])}
		}
		return nil
	}
	var out []string
	var walk func(x any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			names := false
			for _, y := range t {
				if s, ok := y.(string); ok && strings.EqualFold(s, rcpt) {
					names = true
				}
			}
			if s, ok := t["status"].(string); ok && names {
				out = append(out, normal(s))
			}
			for _, y := range t {
				walk(y)
			}
		case []any:
			for _, y := range t {
				walk(y)
			}
		}
	}
	walk(v)
	if len(out) == 0 {
		if m, ok := v.(map[string]any); ok {
			if s, ok := m["status"].(string); ok {
				out = append(out, normal(s))
			}
			if msg, ok := m["message"].(map[string]any); ok {
				if s, ok := msg["status"].(string); ok {
					out = append(out, normal(s))
				}
			}
		}
	}
	return out
}

// normal folds the names a door may give a failure into "failed".
func normal(s string) string {
	switch s {
	case "delivery_failed", "bounced", "rejected", "failed":
		return "failed"
	}
	return s
}

func (o *omni) waitStatus(id, rcpt string, d time.Duration, want ...string) error {
	deadline := time.Now().Add(d)
	var st []string
	for time.Now().Before(deadline) {
		st = o.statuses(id, rcpt)
		for _, w := range want {
			if contains(st, w) {
				return nil
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	_, b, _ := o.call("GET", "/v1/messages/"+id, nil)
	return fmt.Errorf("%s (message %s): want status %v within %v, saw %v; read back: %s\n--- omnigate log (last lines):\n%s",
		rcpt, id, want, d, st, b, tail(o.serveLog, 30))
}

func (o *omni) waitSuppressed(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	var b []byte
	for time.Now().Before(deadline) {
		var code int
		code, b, _ = o.call("GET", "/suppressions?channel=email", nil)
		if code == 200 && bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(addr))) {
			return nil
		}
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("%s is not in GET /suppressions?channel=email within %v: %s", addr, d, b)
}

// reportSink takes status reports on loopback (any method), as they come.
type reportSink struct {
	url  string
	srv  *http.Server
	mu   sync.Mutex
	seen [][]byte
}

func startReportSink() (*reportSink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &reportSink{url: "http://" + l.Addr().String() + "/reports"}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if len(b) == 0 {
			b = []byte(r.URL.RawQuery)
		}
		s.mu.Lock()
		s.seen = append(s.seen, b)
		s.mu.Unlock()
		w.WriteHeader(200)
	})}
	go s.srv.Serve(l)
	return s, nil
}

func (s *reportSink) all() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.seen...)
}

func (s *reportSink) count() int { return len(s.all()) }

func (s *reportSink) close() { s.srv.Close() }
