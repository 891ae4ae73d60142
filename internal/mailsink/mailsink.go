// Package mailsink is a receiving mail server for tests and the demo, in
// the spirit of internal/smsc: an SMTP server on a loopback port that takes
// mail for any domain, keeps each message in a maildir
// (<dir>/<recipient>/new/<unique>) and behaves by the recipient's local
// part, so that every delivery path can be shown without the Internet:
//
//	bounce…@       550 5.1.1 at RCPT (no such mailbox)
//	full…@         552 5.2.2 at RCPT (mailbox full)
//	blocked…@      554 5.7.1 at RCPT (refused as spam / by policy)
//	defer…@        451 4.3.0 at RCPT the first DeferTimes times, then accepted
//	asyncbounce…@  250, then an RFC 3464 DSN (5.1.1) mailed to the envelope sender
//	complain…@     250 (kept), then an RFC 5965 ARF abuse report mailed to the feedback address
//	anything else  250, kept
//
// Reports are mailed over SMTP to ReportRelay (omnigate's inbound
// listener), as a real receiving system would send them.
package mailsink

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Config configures a sink; zero values mean the defaults.
type Config struct {
	// Listen is the address to listen on; default 127.0.0.1:0.
	Listen string
	// Dir is the maildir root; required.
	Dir string
	// Hostname is the name in the greeting and in reports; default
	// "mailsink.test".
	Hostname string
	// TLS, when set, offers STARTTLS with this configuration.
	TLS *tls.Config
	// Users, when set, requires AUTH PLAIN (over TLS) with one of these
	// username → password pairs before MAIL: the sink acts as a relay.
	Users map[string]string
	// DeferTimes is how many times a defer…@ recipient is answered 451
	// before it is accepted; default 1.
	DeferTimes int
	// ReportRelay is "host:port" where DSNs and ARF reports are mailed;
	// empty means none are sent.
	ReportRelay string
	// FeedbackTo is where ARF complaints go; default the envelope sender
	// of the message complained about.
	FeedbackTo string
	// NoSMTPUTF8 does not offer SMTPUTF8 (RFC 6531): a server that takes
	// only ASCII addresses.
	NoSMTPUTF8 bool
	// MaxMessageBytes bounds a message; default 25 MiB.
	MaxMessageBytes int64
	Log             *slog.Logger
}

// Stats count what the sink saw.
type Stats struct {
	Connections int64 // SMTP sessions opened
	TLS         int64 // messages received over TLS
	Messages    int64 // messages kept (once per DATA)
	Delivered   int64 // recipient copies written to maildirs
	Refused     int64 // recipients answered 4xx or 5xx
	Reports     int64 // DSNs and ARF reports mailed
	ReportFails int64 // reports that could not be mailed
	MaxPerConn  int64 // the most messages one session carried
}

// Sink is a running mail sink.
type Sink struct {
	cfg    Config
	srv    *smtp.Server
	l      net.Listener
	log    *slog.Logger
	wg     sync.WaitGroup
	mu     sync.Mutex
	defers map[string]int
	seq    atomic.Int64
	stats  struct {
		conns, tls, msgs, delivered, refused, reports, reportFails, maxPerConn atomic.Int64
	}
}

// Start listens and serves until Stop.
func Start(cfg Config) (*Sink, error) {
	if cfg.Dir == "" {
		return nil, errors.New("mailsink: a maildir root (Dir) is required")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "mailsink.test"
	}
	if cfg.DeferTimes <= 0 {
		cfg.DeferTimes = 1
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 25 << 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("mailsink: %w", err)
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("mailsink: %w", err)
	}
	s := &Sink{cfg: cfg, l: l, log: cfg.Log, defers: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = cfg.Hostname
	srv.TLSConfig = cfg.TLS
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = 1000
	srv.EnableSMTPUTF8 = !cfg.NoSMTPUTF8
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	srv.ErrorLog = slogLogger{cfg.Log}
	s.srv = srv
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		srv.Serve(l)
	}()
	return s, nil
}

// Addr is the address the sink listens on.
func (s *Sink) Addr() string { return s.l.Addr().String() }

// Port is the port the sink listens on.
func (s *Sink) Port() int { return s.l.Addr().(*net.TCPAddr).Port }

// Stop closes the listener and every session, and waits for reports in
// flight.
func (s *Sink) Stop() error {
	err := s.srv.Close()
	s.wg.Wait()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Stats returns the counters.
func (s *Sink) Stats() Stats {
	return Stats{Connections: s.stats.conns.Load(), TLS: s.stats.tls.Load(), Messages: s.stats.msgs.Load(),
		Delivered: s.stats.delivered.Load(), Refused: s.stats.refused.Load(), Reports: s.stats.reports.Load(),
		ReportFails: s.stats.reportFails.Load(), MaxPerConn: s.stats.maxPerConn.Load()}
}

// Mailbox returns the messages in a recipient's maildir (new/), oldest
// first by name.
func (s *Sink) Mailbox(addr string) ([][]byte, error) {
	return ReadMaildir(filepath.Join(s.cfg.Dir, mailboxName(addr)))
}

// ReadMaildir reads the messages in dir/new, sorted by file name.
func ReadMaildir(dir string) ([][]byte, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "new"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, "new", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// mailboxName is the maildir folder of an address: lower case, with path
// separators and dots at the start made harmless.
func mailboxName(addr string) string {
	a := strings.ToLower(addr)
	a = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, a)
	if strings.HasPrefix(a, ".") {
		a = "_" + a[1:]
	}
	return a
}

// behaviour of a recipient, by its local part.
type behaviour int

const (
	accept behaviour = iota
	bounce
	full
	blocked
	deferred
	asyncBounce
	complain
)

func behaviourOf(addr string) behaviour {
	local := strings.ToLower(addr)
	if at := strings.LastIndexByte(local, '@'); at >= 0 {
		local = local[:at]
	}
	for _, p := range []struct {
		prefix string
		b      behaviour
	}{{"asyncbounce", asyncBounce}, {"bounce", bounce}, {"full", full}, {"blocked", blocked}, {"defer", deferred}, {"complain", complain}} {
		if strings.HasPrefix(local, p.prefix) {
			return p.b
		}
	}
	return accept
}

type session struct {
	s      *Sink
	c      *smtp.Conn
	from   string
	utf8   bool // MAIL said SMTPUTF8
	rcpts  []string
	authed bool
	n      int64
}

func (s *Sink) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.stats.conns.Add(1)
	return &session{s: s, c: c}, nil
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.cfg.Users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.s.cfg.Users == nil || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnsupported
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if want, ok := ss.s.cfg.Users[username]; !ok || want != password || (identity != "" && identity != username) {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		ss.authed = true
		return nil
	}), nil
}

// errNeedSMTPUTF8 refuses a non-ASCII address in a mail whose MAIL did not
// say SMTPUTF8 (RFC 6531 §3.7.4.1).
var errNeedSMTPUTF8 = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7}, Message: "non-ASCII address without SMTPUTF8"}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.s.cfg.Users != nil && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.utf8 = opts != nil && opts.UTF8
	if !ss.utf8 && !ascii(from) {
		return errNeedSMTPUTF8
	}
	ss.from, ss.rcpts = from, nil
	return nil
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	refuse := func(code int, enh smtp.EnhancedCode, text string) error {
		ss.s.stats.refused.Add(1)
		return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: text}
	}
	if !ss.utf8 && !ascii(to) {
		ss.s.stats.refused.Add(1)
		return errNeedSMTPUTF8
	}
	switch behaviourOf(to) {
	case bounce:
		return refuse(550, smtp.EnhancedCode{5, 1, 1}, "<"+to+">: recipient address rejected: user unknown")
	case full:
		return refuse(552, smtp.EnhancedCode{5, 2, 2}, "<"+to+">: mailbox full")
	case blocked:
		return refuse(554, smtp.EnhancedCode{5, 7, 1}, "message refused as spam by policy")
	case deferred:
		ss.s.mu.Lock()
		n := ss.s.defers[strings.ToLower(to)]
		ss.s.defers[strings.ToLower(to)] = n + 1
		ss.s.mu.Unlock()
		if n < ss.s.cfg.DeferTimes {
			return refuse(451, smtp.EnhancedCode{4, 3, 0}, "temporary local problem, try again later")
		}
	}
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.n++
	for {
		cur := ss.s.stats.maxPerConn.Load()
		if ss.n <= cur || ss.s.stats.maxPerConn.CompareAndSwap(cur, ss.n) {
			break
		}
	}
	if _, ok := ss.c.TLSConnectionState(); ok {
		ss.s.stats.tls.Add(1)
	}
	ss.s.stats.msgs.Add(1)
	received := fmt.Sprintf("Return-Path: <%s>\r\nReceived: from %s by %s (omnigate mailsink); %s\r\n",
		ss.from, ss.c.Hostname(), ss.s.cfg.Hostname, time.Now().Format(time.RFC1123Z))
	for _, to := range ss.rcpts {
		if err := ss.s.deliver(to, append([]byte(received), body...)); err != nil {
			ss.s.log.Error("mailsink: writing maildir", "to", to, "err", err)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot store the message now"}
		}
		switch behaviourOf(to) {
		case asyncBounce:
			ss.s.report(ss.from, "", dsn(ss.s.cfg.Hostname, ss.from, to, body))
		case complain:
			fbl := ss.s.cfg.FeedbackTo
			if fbl == "" {
				fbl = ss.from
			}
			ss.s.report(fbl, "fbl@"+ss.s.cfg.Hostname, arf(ss.s.cfg.Hostname, fbl, ss.from, to, body))
		}
	}
	return nil
}

func (ss *session) Reset() { ss.from, ss.utf8, ss.rcpts = "", false, nil }

func (ss *session) Logout() error { return nil }

// deliver writes one copy into the recipient's maildir: tmp/, then a
// rename into new/.
func (s *Sink) deliver(to string, msg []byte) error {
	dir := filepath.Join(s.cfg.Dir, mailboxName(to))
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	name := fmt.Sprintf("%d.M%dP%d.%s", time.Now().Unix(), s.seq.Add(1), os.Getpid(), s.cfg.Hostname)
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, msg, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "new", name)); err != nil {
		return err
	}
	s.stats.delivered.Add(1)
	return nil
}

// report mails a DSN or ARF report to rcpt from the envelope sender from
// ("" is the null sender of DSNs), in the background, a few times.
func (s *Sink) report(rcpt, from string, msg []byte) {
	if s.cfg.ReportRelay == "" || rcpt == "" {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			if attempt > 0 {
				time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
			}
			if err = sendMail(s.cfg.ReportRelay, s.cfg.Hostname, from, rcpt, msg); err == nil {
				s.stats.reports.Add(1)
				return
			}
		}
		s.stats.reportFails.Add(1)
		s.log.Warn("mailsink: mailing a report", "to", rcpt, "relay", s.cfg.ReportRelay, "err", err)
	}()
}

func sendMail(addr, helo, from, to string, msg []byte) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = 10*time.Second, 30*time.Second
	if err := c.Hello(helo); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// headerBlock is the original message's header section (for
// text/rfc822-headers).
func headerBlock(msg []byte) []byte {
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		return msg[:i+2]
	}
	if i := bytes.Index(msg, []byte("\n\n")); i >= 0 {
		return msg[:i+1]
	}
	return msg
}

func boundary() string {
	var b [12]byte
	rand.Read(b[:])
	return "sink=" + hex.EncodeToString(b[:])
}

// dsn is an RFC 3464 delivery status notification: the recipient failed
// with 550 5.1.1 after the sink had answered 250.
func dsn(host, sender, rcpt string, original []byte) []byte {
	bd := boundary()
	now := time.Now().Format(time.RFC1123Z)
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", host)
	fmt.Fprintf(&b, "To: <%s>\r\n", sender)
	fmt.Fprintf(&b, "Subject: Undelivered Mail Returned to Sender\r\n")
	fmt.Fprintf(&b, "Date: %s\r\n", now)
	fmt.Fprintf(&b, "Message-ID: <dsn.%s@%s>\r\n", bd[5:], host)
	fmt.Fprintf(&b, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/report; report-type=delivery-status; boundary=\"%s\"\r\n\r\n", bd)
	fmt.Fprintf(&b, "This is a MIME-encapsulated message.\r\n\r\n--%s\r\n", bd)
	fmt.Fprintf(&b, "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
	fmt.Fprintf(&b, "This is the mail system at host %s.\r\n\r\nYour message could not be delivered to <%s>:\r\nthe mailbox does not exist.\r\n\r\n", host, rcpt)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: message/delivery-status\r\n\r\n", bd)
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\r\nArrival-Date: %s\r\n\r\n", host, now)
	fmt.Fprintf(&b, "Final-Recipient: rfc822; %s\r\nOriginal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\n", rcpt, rcpt)
	fmt.Fprintf(&b, "Remote-MTA: dns; %s\r\nDiagnostic-Code: smtp; 550 5.1.1 <%s>: Recipient address rejected: User unknown in local recipient table\r\n\r\n", host, rcpt)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", bd)
	b.Write(headerBlock(original))
	fmt.Fprintf(&b, "\r\n--%s--\r\n", bd)
	return b.Bytes()
}

// arf is an RFC 5965 abuse report about a message the recipient marked
// as spam.
func arf(host, to, sender, rcpt string, original []byte) []byte {
	bd := boundary()
	now := time.Now().Format(time.RFC1123Z)
	domain := sender[strings.LastIndexByte(sender, '@')+1:]
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Feedback Loop <fbl@%s>\r\n", host)
	fmt.Fprintf(&b, "To: <%s>\r\n", to)
	fmt.Fprintf(&b, "Subject: FW: abuse report\r\n")
	fmt.Fprintf(&b, "Date: %s\r\n", now)
	fmt.Fprintf(&b, "Message-ID: <arf.%s@%s>\r\n", bd[5:], host)
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/report; report-type=feedback-report; boundary=\"%s\"\r\n\r\n", bd)
	fmt.Fprintf(&b, "This is a MIME-formatted message.\r\n\r\n--%s\r\n", bd)
	fmt.Fprintf(&b, "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	fmt.Fprintf(&b, "This is an email abuse report for an email message received from IP 127.0.0.1 on %s.\r\n\r\n", now)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: message/feedback-report\r\n\r\n", bd)
	fmt.Fprintf(&b, "Feedback-Type: abuse\r\nUser-Agent: omnigate-mailsink/1.0\r\nVersion: 1\r\n")
	fmt.Fprintf(&b, "Original-Mail-From: <%s>\r\nOriginal-Rcpt-To: <%s>\r\nArrival-Date: %s\r\n", sender, rcpt, now)
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\r\nSource-IP: 127.0.0.1\r\nReported-Domain: %s\r\n\r\n", host, domain)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n", bd)
	b.Write(original)
	if !bytes.HasSuffix(original, []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", bd)
	return b.Bytes()
}

type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) {
	l.l.Debug("mailsink: " + fmt.Sprintf(format, v...))
}
func (l slogLogger) Println(v ...any) { l.l.Debug("mailsink: " + fmt.Sprint(v...)) }
