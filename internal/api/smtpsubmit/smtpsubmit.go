// Package smtpsubmit is the SMTP submission door: applications that only
// know SMTP send email through omnigate (RFC 6409, usually port 587). The
// client authenticates with AUTH PLAIN or LOGIN — any user name, an access
// key as the password — after STARTTLS (AUTH in clear is refused except on
// loopback or when the operator allows it, behind a TLS-terminating
// proxy). MAIL FROM is the sender (the compliance engine checks the
// account may send from its domain), each RCPT TO a recipient, and DATA
// the message (text, HTML, attachments, inline images, subject, reply-to,
// the author's To, Cc and Message-ID, In-Reply-To, References and the
// other headers a sender may set), which becomes one email message
// accepted through the pipeline like any door's. The reply names the
// message: "250 2.0.0 OK id=<id>". Errors map to SMTP replies
// (docs/email.md, "SMTP submission").
package smtpsubmit

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/email/rules"
	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// Door names the door in the audit trail and the authentication metrics.
const Door = "smtp"

// Defaults.
const (
	// DefaultMaxSize is the SIZE advertised (RFC 1870) and the most DATA
	// takes: the email channel's bound on a message (rules.MaxSize),
	// so that the limit a client is told is the one that applies.
	DefaultMaxSize       = rules.MaxSize
	DefaultMaxRecipients = 50
	DefaultTimeout       = 2 * time.Minute
	// ChannelEmail is the channel submitted messages go out on.
	ChannelEmail = "email"
)

// Config tunes the door.
type Config struct {
	Addr   string
	Domain string // the name it greets with
	// TLS enables STARTTLS; nil offers none (then AUTH only works on
	// loopback or with InsecureAuth).
	TLS *tls.Config
	// InsecureAuth takes AUTH without TLS from any address.
	InsecureAuth  bool
	MaxSize       int64 // DefaultMaxSize, and never more; larger mails get 552 5.3.4
	MaxRecipients int   // DefaultMaxRecipients; more get 452
	Timeout       time.Duration
}

// Authenticator resolves access keys (auth.Authenticator).
type Authenticator interface {
	Authenticate(ctx context.Context, key string) (auth.Principal, error)
}

// Acceptor takes messages (pipeline.Pipeline).
type Acceptor interface {
	Accept(ctx context.Context, m *message.Message, opts pipeline.Options) error
}

// Door is a running submission listener.
type Server struct {
	cfg      Config
	auth     Authenticator
	guard    *authguard.Guard
	pipeline Acceptor
	metrics  *metrics.Metrics
	log      *slog.Logger
	srv      *smtp.Server
	ln       net.Listener
}

// New binds the listener; Start serves.
func New(cfg Config, a Authenticator, guard *authguard.Guard, p Acceptor, m *metrics.Metrics, log *slog.Logger) (*Server, error) {
	if cfg.MaxSize <= 0 || cfg.MaxSize > DefaultMaxSize {
		// More would be advertised, then refused by the email channel.
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, auth: a, guard: guard, pipeline: p, metrics: m, log: log, ln: ln}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = cfg.Domain
	s.srv.MaxMessageBytes = cfg.MaxSize
	s.srv.MaxRecipients = cfg.MaxRecipients
	s.srv.ReadTimeout, s.srv.WriteTimeout = cfg.Timeout, cfg.Timeout
	s.srv.TLSConfig = cfg.TLS
	// UTF-8 local parts (RFC 6531), for a mail whose MAIL says SMTPUTF8.
	s.srv.EnableSMTPUTF8 = true
	// go-smtp decides per server; the session decides per connection
	// (loopback, InsecureAuth), so the library's check is off.
	s.srv.AllowInsecureAuth = true
	s.srv.ErrorLog = logAdapter{log}
	return s, nil
}

// Addr is the address it listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Start serves in the background until Shutdown.
func (s *Server) Start() {
	go func() {
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			s.log.Error("SMTP submission stopped", "err", err)
		}
	}()
}

// Shutdown stops taking connections and waits for sessions until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}

type logAdapter struct{ log *slog.Logger }

func (l logAdapter) Printf(format string, v ...any) {
	l.log.Debug("SMTP submission: " + fmt.Sprintf(format, v...))
}
func (l logAdapter) Println(v ...any) { l.log.Debug("SMTP submission: " + fmt.Sprintln(v...)) }

func (s *Server) count(result string) {
	if s.metrics != nil {
		s.metrics.Mail.Submissions.WithLabelValues(result).Inc()
	}
}

type session struct {
	s         *Server
	conn      *smtp.Conn
	source    string
	principal *auth.Principal
	from      string
	utf8      bool // MAIL said SMTPUTF8
	to        []string
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	if s.metrics != nil {
		s.metrics.Mail.Sessions.WithLabelValues("submission").Inc()
	}
	source := c.Conn().RemoteAddr().String()
	if host, _, err := net.SplitHostPort(source); err == nil {
		source = host
	}
	return &session{s: s, conn: c, source: source}, nil
}

func reply(code int, c1, c2, c3 int, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{c1, c2, c3}, Message: msg}
}

var (
	errAuthRequired = reply(530, 5, 7, 0, "Authentication required")
	errNeedTLS      = reply(538, 5, 7, 11, "Encryption required: STARTTLS first")
	errBadKey       = reply(535, 5, 7, 8, "Authentication credentials invalid: the password is an access key")
	errInternal     = reply(451, 4, 3, 0, "Temporary server error, try again later")
)

func (ss *session) Reset()        { ss.from, ss.utf8, ss.to = "", false, nil }
func (ss *session) Logout() error { return nil }

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if _, isTLS := ss.conn.TLSConnectionState(); !isTLS && !ss.s.cfg.InsecureAuth && !loopback(ss.source) {
		return nil, errNeedTLS
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			return ss.login(password)
		}), nil
	case sasl.Login:
		return &loginServer{check: ss.login}, nil
	}
	return nil, reply(504, 5, 5, 4, "Unrecognised authentication mechanism")
}

// login authenticates an access key, guarded like the REST doors: failures
// are limited per address and key prefix, and audited.
func (ss *session) login(key string) error {
	at := authguard.Attempt{Door: Door, Source: ss.source, Prefix: authguard.Prefix(key)}
	if wait, ok := ss.s.guard.Allow(at); !ok {
		return reply(454, 4, 7, 0, fmt.Sprintf("Too many failed authentications, try again in %s seconds", authguard.RetryAfter(wait)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := ss.s.auth.Authenticate(ctx, key)
	at.KeyID, at.AccountID, at.Test = p.KeyID, p.AccountID, p.Test
	if err != nil {
		if !errors.Is(err, auth.ErrUnauthorized) {
			ss.s.log.Error("SMTP submission: authenticating", "err", err)
			return errInternal
		}
		reason := "unknown_key"
		if errors.Is(err, auth.ErrRevoked) {
			reason = "revoked_key"
		}
		ss.s.guard.Failed(at, reason)
		return errBadKey
	}
	if p.UserID != "" && !users.Can(p.Role, users.SendMessages) {
		// A personal API token whose user's role may not send.
		ss.s.guard.Failed(at, "role_refused")
		return errBadKey
	}
	ss.s.guard.Succeeded(at)
	ss.principal = &p
	return nil
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// errNeedSMTPUTF8 answers a UTF-8 local part in a mail whose MAIL did not
// say SMTPUTF8 (RFC 6531 §3.7.4.1). A domain in U-labels is taken either
// way: it is sent as its A-labels.
var errNeedSMTPUTF8 = reply(553, 5, 6, 7, "A non-ASCII local part needs SMTPUTF8 on MAIL FROM")

// asciiLocal reports whether an address's local part is ASCII.
func asciiLocal(addr string) bool {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		addr = addr[:at]
	}
	return rules.ASCII(addr)
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.principal == nil {
		return errAuthRequired
	}
	ss.utf8 = opts != nil && opts.UTF8
	if !ss.utf8 && !asciiLocal(from) {
		return errNeedSMTPUTF8
	}
	// The email channel's rules for an originator (Prepare), checked
	// here so that a bad one is refused at MAIL (RFC 3463 5.1.7).
	a, err := rules.Address(from)
	if err != nil {
		return reply(553, 5, 1, 7, oneLine("The sender address is not valid: "+err.Error()))
	}
	ss.from = a
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.principal == nil {
		return errAuthRequired
	}
	if !ss.utf8 && !asciiLocal(to) {
		return errNeedSMTPUTF8
	}
	// The email channel's rules for a recipient (Prepare), checked here:
	// one the pipeline would refuse is refused at RCPT (RFC 5321 §3.3,
	// RFC 3463 5.1.3) and the mail goes to the others, instead of failing
	// for every recipient at the end of DATA.
	a, err := rules.Address(to)
	if err != nil {
		return reply(553, 5, 1, 3, oneLine("The recipient address is not valid: "+err.Error()))
	}
	ss.to = append(ss.to, a)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.principal == nil {
		return errAuthRequired
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // too large: go-smtp answers 552
	}
	parsed, err := Parse(raw)
	if err != nil {
		ss.s.count("invalid")
		return reply(550, 5, 6, 0, "The message cannot be read: "+oneLine(err.Error()))
	}
	m := &message.Message{
		AccountID:  ss.principal.AccountID,
		Channel:    ChannelEmail,
		Direction:  message.MT,
		Type:       "email",
		Originator: ss.from,
		Body:       parsed.Body,
		Content:    &message.Content{Email: &parsed.Email},
		// Email's status reports and read-back are the Conversations
		// door's (POST JSON reports; GET /v1/messages/{id}).
		Details: message.Details{Report: message.ReportConversations},
	}
	for _, a := range ss.to {
		m.Recipients = append(m.Recipients, message.Recipient{Address: a})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ss.s.pipeline.Accept(ctx, m, pipeline.Options{Test: ss.principal.Test}); err != nil {
		return ss.s.refusal(err)
	}
	ss.s.count("accepted")
	text := "OK id=" + m.ID
	if ss.principal.Test {
		text += " (test key: validated, not sent)"
	}
	return reply(250, 2, 0, 0, text)
}

// refusal maps the pipeline's errors to SMTP replies.
func (s *Server) refusal(err error) error {
	var inv *message.Invalid
	var limit *store.LimitError
	var noPrice *billing.NoPriceError
	var refused *compliance.Rejection
	switch {
	case errors.Is(err, rules.ErrTooLarge):
		// RFC 1870 §6.3 (and RFC 3463 5.3.4): too large is 552, which
		// clients tell from other refusals.
		s.count("invalid")
		return reply(552, 5, 3, 4, oneLine(inv0(err)))
	case errors.As(err, &inv):
		s.count("invalid")
		return reply(550, 5, 6, 0, oneLine(inv.Field+": "+inv.Reason))
	case errors.As(err, &refused):
		s.count("refused")
		return reply(550, 5, 7, 1, oneLine(refused.Error()))
	case errors.Is(err, store.ErrInsufficientBalance):
		s.count("refused")
		return reply(452, 4, 3, 1, "Insufficient balance")
	case errors.As(err, &limit):
		s.count("refused")
		return reply(451, 4, 7, 0, oneLine(limit.Error()))
	case errors.As(err, &noPrice):
		s.count("refused")
		return reply(550, 5, 7, 1, oneLine(noPrice.Error()))
	case errors.Is(err, groupcommit.ErrStopped):
		s.count("error")
		return reply(421, 4, 3, 2, "Shutting down, try again later")
	}
	s.count("error")
	s.log.Error("SMTP submission: accepting", "err", err)
	return errInternal
}

// inv0 is the text of an *message.Invalid in err: "field: reason".
func inv0(err error) string {
	var inv *message.Invalid
	if errors.As(err, &inv) {
		return inv.Field + ": " + inv.Reason
	}
	return err.Error()
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400]
	}
	return strings.ToValidUTF8(s, "")
}

// loginServer is the server side of AUTH LOGIN (draft-murchison-sasl-login):
// "Username:", then "Password:".
type loginServer struct {
	check func(password string) error
	step  int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough // an initial response carries the user name
	case 1:
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(string(response))
	}
	return nil, false, errors.New("unexpected response")
}
