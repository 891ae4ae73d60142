// Package pfinstance runs a private Postfix instance for the interop test
// and the benchmark: its own configuration directory, queue, data
// directory and log file under one work directory, listening on one
// loopback port, started with `postfix -c DIR start`. The system's own
// instance (port 25, /etc/postfix) is never touched.
package pfinstance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config describes one instance.
type Config struct {
	// Dir holds everything: conf/, queue/, data/, mail/ and maillog.
	Dir string
	// Listen is the smtpd address, e.g. 127.0.0.1:2525.
	Listen string
	// Hostname is myhostname (banner, HELO, MAILER-DAEMON's domain).
	Hostname string
	// Main holds main.cf parameters that are added to, or replace, the base.
	Main map[string]string
	// Maps are files written into conf/ (texthash tables), by name.
	Maps map[string]string
	// SMTPDArgs are -o overrides on the smtpd line of master.cf.
	SMTPDArgs []string
}

// Instance is a started instance.
type Instance struct {
	Config
	Conf, Queue, Mail, LogFile string
}

// Installed says whether Debian's postfix binaries are present.
func Installed() bool {
	for _, p := range []string{"/usr/sbin/postfix", "/usr/lib/postfix/sbin/master"} {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

// base is main.cf for a loopback-only instance without DNS: nothing is
// delivered to the local machine's users, nothing is looked up outside.
func base(c Config, conf, queue, data, mail, logfile string) map[string]string {
	return map[string]string{
		"compatibility_level":      "3.6",
		"queue_directory":          queue,
		"data_directory":           data,
		"command_directory":        "/usr/sbin",
		"daemon_directory":         "/usr/lib/postfix/sbin",
		"meta_directory":           "/etc/postfix",
		"shlib_directory":          "/usr/lib/postfix",
		"mail_owner":               "postfix",
		"setgid_group":             "postdrop",
		"myhostname":               c.Hostname,
		"mydomain":                 c.Hostname,
		"myorigin":                 "$myhostname",
		"mydestination":            "",
		"local_recipient_maps":     "",
		"alias_maps":               "",
		"alias_database":           "",
		"inet_interfaces":          "loopback-only",
		"inet_protocols":           "ipv4",
		"mynetworks":               "127.0.0.0/8",
		"smtp_dns_support_level":   "disabled",
		"lmtp_dns_support_level":   "disabled",
		"smtp_host_lookup":         "native",
		"smtpd_peername_lookup":    "no",
		"biff":                     "no",
		"append_dot_mydomain":      "no",
		"smtputf8_enable":          "no",
		"maillog_file":             logfile,
		"maillog_file_prefixes":    filepath.Dir(logfile),
		"smtpd_banner":             "$myhostname ESMTP Postfix (interop)",
		"smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
		"virtual_mailbox_base":     mail,
		// Nothing reaches another host: every domain without an entry in
		// transport_maps fails (instances add their own maps first).
		"default_transport": "error:5.4.4 loopback-only test instance: no route",
	}
}

// master.cf: the usual services, none chrooted (the queue lives in a temp
// directory), smtpd only on the configured loopback address.
const masterServices = `pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`

// Start writes the configuration and starts the instance. The caller
// stops it with Stop.
func Start(ctx context.Context, c Config) (*Instance, error) {
	if c.Hostname == "" {
		c.Hostname = "mx.postfix.test"
	}
	in := &Instance{Config: c,
		Conf:    filepath.Join(c.Dir, "conf"),
		Queue:   filepath.Join(c.Dir, "queue"),
		Mail:    filepath.Join(c.Dir, "mail"),
		LogFile: filepath.Join(c.Dir, "log", "maillog"),
	}
	data := filepath.Join(c.Dir, "data")
	for _, d := range []string{c.Dir, in.Conf, in.Queue, in.Mail, data, filepath.Dir(in.LogFile)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		// The work directory comes from mktemp (0700); Postfix's daemons
		// run as the postfix user and virtual(8) as the mailbox owner.
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, err
		}
	}
	// The daemons run as the postfix user (and virtual(8) as the mailbox
	// owner): every directory above Dir must let others through.
	abs, err := filepath.Abs(c.Dir)
	if err != nil {
		return nil, err
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o001 == 0 {
			return nil, fmt.Errorf("%s is not searchable by others (chmod o+x): Postfix's daemons run as the postfix user", p)
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	if err := os.Chown(data, uid("postfix"), -1); err != nil {
		return nil, err
	}
	params := base(c, in.Conf, in.Queue, data, in.Mail, in.LogFile)
	for k, v := range c.Main {
		params[k] = v
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by interop/postfix/pfinstance: a private, loopback-only instance.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, strings.ReplaceAll(params[k], "{conf}", in.Conf))
	}
	if err := os.WriteFile(filepath.Join(in.Conf, "main.cf"), []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	smtpd := c.Listen + " inet n - n - - smtpd"
	for _, a := range c.SMTPDArgs {
		smtpd += "\n  -o " + a
	}
	if err := os.WriteFile(filepath.Join(in.Conf, "master.cf"), []byte(smtpd+"\n"+masterServices), 0o644); err != nil {
		return nil, err
	}
	for name, content := range c.Maps {
		if err := in.WriteMap(name, content); err != nil {
			return nil, err
		}
	}
	// Not cut short by ctx: a start killed half-way may still leave a
	// master running; callers stop it with StopDir once Start returned.
	if out, err := in.postfix(context.WithoutCancel(ctx), "start"); err != nil {
		return nil, fmt.Errorf("postfix -c %s start: %v\n%s%s", in.Conf, err, out, in.LogTail(20))
	}
	// The master answers on its port once it is up.
	for i := 0; i < 100; i++ {
		if _, err := in.MasterPID(); err == nil && listening(c.Listen) {
			return in, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	in.Stop()
	return nil, fmt.Errorf("postfix did not listen on %s within 10 s\n%s", c.Listen, in.LogTail(20))
}

// WriteMap writes a texthash table into conf/ (read again by Reload).
func (in *Instance) WriteMap(name, content string) error {
	return os.WriteFile(filepath.Join(in.Conf, name), []byte(content), 0o644)
}

// Reload makes the daemons read the configuration and tables again.
func (in *Instance) Reload(ctx context.Context) error {
	out, err := in.postfix(ctx, "reload")
	if err != nil {
		return fmt.Errorf("postfix reload: %v: %s", err, out)
	}
	return nil
}

// Flush asks the queue manager to retry deferred mail now.
func (in *Instance) Flush(ctx context.Context) error {
	out, err := in.postfix(ctx, "flush")
	if err != nil {
		return fmt.Errorf("postfix flush: %v: %s", err, out)
	}
	return nil
}

// Stop stops the instance and waits (≤15 s) for its master to exit.
func (in *Instance) Stop() error {
	pid, perr := in.MasterPID()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := in.postfix(ctx, "stop")
	if perr == nil {
		for i := 0; i < 150 && alive(pid); i++ {
			time.Sleep(100 * time.Millisecond)
		}
		if alive(pid) {
			_ = syscallKill(pid)
		}
	}
	if err != nil {
		return fmt.Errorf("postfix stop: %v: %s", err, out)
	}
	return nil
}

func (in *Instance) postfix(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "/usr/sbin/postfix", append([]string{"-c", in.Conf}, args...)...)
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+in.Conf)
	return cmd.CombinedOutput()
}

// MasterPID reads the master's pid file.
func (in *Instance) MasterPID() (int, error) {
	b, err := os.ReadFile(filepath.Join(in.Queue, "pid", "master.pid"))
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || !alive(pid) {
		return 0, errors.New("postfix master is not running")
	}
	return pid, nil
}

// Log returns the instance's log so far.
func (in *Instance) Log() string {
	b, _ := os.ReadFile(in.LogFile)
	return string(b)
}

// LogTail returns the last n lines of the log.
func (in *Instance) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(in.Log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// CountLog counts log lines that contain every one of the strings.
func (in *Instance) CountLog(all ...string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(in.Log()))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
line:
	for sc.Scan() {
		for _, s := range all {
			if !strings.Contains(sc.Text(), s) {
				continue line
			}
		}
		n++
	}
	return n
}

// CPU is the processor time of the instance: the master, every daemon it
// has reaped (the master's cutime and cstime) and every daemon still
// running (a direct child of the master). Postfix's daemons are all
// children of the master, so the difference of two readings is what the
// instance spent between them.
func (in *Instance) CPU() (time.Duration, error) {
	pid, err := in.MasterPID()
	if err != nil {
		return 0, err
	}
	return TreeCPU(pid)
}

// TreeCPU is the processor time of process pid, its reaped children and
// its running direct children.
func TreeCPU(pid int) (time.Duration, error) {
	st, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	ticks := st.utime + st.stime + st.cutime + st.cstime
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p == pid {
			continue
		}
		if s, err := readStat(p); err == nil && s.ppid == int64(pid) {
			ticks += s.utime + s.stime
		}
	}
	return time.Duration(ticks) * time.Second / clkTck, nil
}

// clkTck is USER_HZ, 100 on Linux.
const clkTck = 100

type procStat struct{ ppid, utime, stime, cutime, cstime int64 }

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); ppid is field 4, utime..cstime 14..17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	n := func(k int) int64 { v, _ := strconv.ParseInt(f[k-3], 10, 64); return v }
	return procStat{ppid: n(4), utime: n(14), stime: n(15), cutime: n(16), cstime: n(17)}, nil
}

func uid(name string) int {
	b, _ := os.ReadFile("/etc/passwd")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) > 3 && f[0] == name {
			n, _ := strconv.Atoi(f[2])
			return n
		}
	}
	return -1
}

// UserIDs returns the uid and gid of a system user (e.g. "nobody").
func UserIDs(name string) (int, int, error) {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) > 3 && f[0] == name {
			u, _ := strconv.Atoi(f[2])
			g, _ := strconv.Atoi(f[3])
			return u, g, nil
		}
	}
	return 0, 0, fmt.Errorf("no user %q in /etc/passwd", name)
}

// StopDir stops an instance under dir (Config.Dir) whose master is
// running, for clean-ups that may run before Start returned.
func StopDir(dir string) {
	in := &Instance{Config: Config{Dir: dir}, Conf: filepath.Join(dir, "conf"), Queue: filepath.Join(dir, "queue")}
	if _, err := in.MasterPID(); err == nil {
		in.Stop()
	}
}
