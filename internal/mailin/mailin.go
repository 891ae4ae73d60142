// Package mailin is omnigate's inbound SMTP listener: the MX for the
// return-path domains (bounces.<sending domain>). It takes mail only at
// addresses omnigate made — a message's return path (VERP: bounces and
// feedback-loop reports) and its List-Unsubscribe mailto — and refuses
// every other recipient at RCPT with 550 5.1.1, so it is no open relay and
// no mailbox. What it takes becomes durable before it answers 250:
//
//   - a DSN's failed recipient: the recipient's receipt (delivery_failed,
//     "bounced: <category>: <diagnostic>", event "bounced"), and a
//     suppression when the category is hard;
//   - a DSN's delayed recipient: an event ("delayed") without a status change;
//   - an ARF complaint: a suppression, a complaint counted towards the
//     account's threshold, and event "complained";
//   - mail to an unsubscribe address: an opt-out in the consent ledger
//     (which suppresses), and event "unsubscribed".
//
// Mail at a valid address that is none of these (an auto-reply) is taken
// and dropped.
package mailin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-smtp"

	"github.com/omnigate/omnigate/internal/email/bounce"
	"github.com/omnigate/omnigate/internal/email/verp"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
)

// Defaults.
const (
	DefaultMaxSize       = 10 << 20 // a bounce may carry the whole original message
	DefaultMaxRecipients = 20
	DefaultTimeout       = 2 * time.Minute
	// ChannelEmail is the channel suppressions are recorded on.
	ChannelEmail = "email"
	// SourceUnsubscribe is the consent ledger's source for mailto
	// unsubscribes.
	SourceUnsubscribe = "email_unsubscribe"
	// SourceFBL is the complaint source of feedback-loop reports.
	SourceFBL = "email_fbl"
)

// Events the listener records on recipients.
const (
	EventBounced      = store.EventBounced
	EventDelayed      = store.EventDelayed
	EventComplained   = store.EventComplained
	EventUnsubscribed = store.EventUnsubscribed
)

// Config tunes the listener.
type Config struct {
	// Addr is where it listens ("host:port"; port 0 picks one).
	Addr string
	// Domain is the name it greets with.
	Domain string
	// MaxSize bounds a mail (DefaultMaxSize); larger ones get 552.
	MaxSize int64
	// MaxRecipients bounds RCPT TO per mail (DefaultMaxRecipients).
	MaxRecipients int
	// Timeout bounds each read and write (DefaultTimeout).
	Timeout time.Duration
}

// Store is what the listener reads and writes.
type Store interface {
	MessageAccount(ctx context.Context, id string) (string, error)
	GetMessage(ctx context.Context, accountID, id string) (*message.Message, error)
	AddSuppression(ctx context.Context, accountID string, s store.Suppression) error
	AddConsents(ctx context.Context, cs []*store.Consent) error
}

// Receipts takes receipts durably (channel.Receiver's Receipt).
type Receipts interface {
	Receipt(ctx context.Context, r store.Receipt) error
}

// Deps are the parts the app wires in.
type Deps struct {
	Store    Store
	Receipts Receipts
	// Complaint counts a complaint towards the account's threshold
	// (compliance.Desk.Complaint).
	Complaint func(ctx context.Context, accountID, recipient, source, note string) error
	// Secret is the VERP key (keyring.Derive("verp")).
	Secret  []byte
	Metrics *metrics.Metrics
	Log     *slog.Logger
}

// Server is a running listener.
type Server struct {
	cfg  Config
	deps Deps
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{}
}

// New binds the listener; Start serves.
func New(cfg Config, deps Deps) (*Server, error) {
	if len(deps.Secret) == 0 {
		return nil, errors.New("inbound SMTP: no VERP secret")
	}
	if cfg.MaxSize <= 0 {
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
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, deps: deps, ln: ln, done: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = cfg.Domain
	s.srv.MaxMessageBytes = cfg.MaxSize
	s.srv.MaxRecipients = cfg.MaxRecipients
	s.srv.ReadTimeout, s.srv.WriteTimeout = cfg.Timeout, cfg.Timeout
	s.srv.ErrorLog = logAdapter{deps.Log}
	// A reply or complaint from a UTF-8 address (RFC 6531) comes with
	// SMTPUTF8.
	s.srv.EnableSMTPUTF8 = true
	return s, nil
}

// Addr is the address it listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Start serves in the background until Shutdown.
func (s *Server) Start() {
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			s.deps.Log.Error("inbound SMTP stopped", "err", err)
		}
	}()
}

// Shutdown stops taking connections and waits for sessions in flight
// until ctx ends (then closes them: their mail was not acknowledged, so the
// sender keeps it).
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}

type logAdapter struct{ log *slog.Logger }

func (l logAdapter) Printf(format string, v ...any) {
	l.log.Debug("inbound SMTP: " + fmt.Sprintf(format, v...))
}
func (l logAdapter) Println(v ...any) { l.log.Debug("inbound SMTP: " + fmt.Sprintln(v...)) }

// target is one accepted recipient: a message's recipient and what the
// address is for.
type target struct {
	unsubscribe bool
	address     string // the RCPT address as given
	accountID   string
	messageID   string
	seq         int
}

type session struct {
	s       *Server
	remote  string
	from    string
	targets []target
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.count("sessions")
	return &session{s: s, remote: c.Conn().RemoteAddr().String()}, nil
}

func (s *Server) count(result string) {
	if s.deps.Metrics == nil {
		return
	}
	if result == "sessions" {
		s.deps.Metrics.Mail.Sessions.WithLabelValues("inbound").Inc()
		return
	}
	s.deps.Metrics.Mail.Inbound.WithLabelValues(result).Inc()
}

func (ss *session) Reset()        { ss.from, ss.targets = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from // bounces come from <>; anyone may complain or unsubscribe
	return nil
}

var (
	errNoMailbox = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	errTryLater  = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
)

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	at := strings.LastIndexByte(to, '@')
	if at <= 0 {
		ss.s.count("refused_rcpt")
		return errNoMailbox
	}
	local := to[:at]
	t := target{address: to}
	var ok bool
	if t.messageID, t.seq, ok = verp.Decode(ss.s.deps.Secret, local); !ok {
		if t.messageID, t.seq, ok = verp.DecodeUnsubscribe(ss.s.deps.Secret, local); !ok {
			ss.s.count("refused_rcpt")
			return errNoMailbox
		}
		t.unsubscribe = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	account, err := ss.s.deps.Store.MessageAccount(ctx, t.messageID)
	if errors.Is(err, store.ErrNotFound) {
		ss.s.count("unknown_message") // erased or never stored: nothing to record
		return errNoMailbox
	}
	if err != nil {
		ss.s.deps.Log.Warn("inbound SMTP: reading message", "message", t.messageID, "err", err)
		return errTryLater
	}
	t.accountID = account
	ss.targets = append(ss.targets, t)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // too large (552) or the connection broke
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, t := range ss.targets {
		if err := ss.s.handle(ctx, t, ss.from, raw); err != nil {
			ss.s.count("error")
			ss.s.deps.Log.Warn("inbound SMTP: recording failed; the sender will retry", "message", t.messageID, "seq", t.seq, "err", err)
			return errTryLater
		}
	}
	return nil
}

// handle records what one mail means for one accepted recipient.
func (s *Server) handle(ctx context.Context, t target, from string, raw []byte) error {
	m, err := s.deps.Store.GetMessage(ctx, t.accountID, t.messageID)
	if errors.Is(err, store.ErrNotFound) {
		s.count("unknown_message")
		return nil
	}
	if err != nil {
		return err
	}
	var rcpt *message.Recipient
	for i := range m.Recipients {
		if m.Recipients[i].Seq == t.seq {
			rcpt = &m.Recipients[i]
		}
	}
	if rcpt == nil {
		s.count("unknown_message")
		return nil
	}
	if rcpt.Connector == "" {
		// Its submission is not recorded yet (the connector is written
		// just after the status), so the receipt could not be matched:
		// the sender tries again later.
		return errNotSubmitted
	}
	if t.unsubscribe {
		return s.unsubscribe(ctx, m, rcpt, from, raw)
	}
	rep, err := bounce.Parse(raw)
	if err != nil {
		// An auto-reply, or a report too damaged to read: sending it
		// again would not help.
		s.count("ignored")
		s.deps.Log.Debug("inbound SMTP: not a report", "message", m.ID, "err", err)
		return nil
	}
	if rep.Kind == bounce.KindComplaint {
		return s.complaint(ctx, m, rcpt, rep.Complaint)
	}
	return s.bounce(ctx, m, rcpt, rep.DSN)
}

var errNotSubmitted = errors.New("the recipient's submission is not recorded yet")

// pick chooses the DSN entry about the recipient: the one naming its
// address, else the first failed, else the first delayed.
func pick(d *bounce.DSN, address string) *bounce.Recipient {
	for i := range d.Recipients {
		if strings.EqualFold(d.Recipients[i].FinalRecipient, address) || strings.EqualFold(d.Recipients[i].OriginalRecipient, address) {
			return &d.Recipients[i]
		}
	}
	for _, action := range []string{"failed", "delayed"} {
		for i := range d.Recipients {
			if d.Recipients[i].Action == action {
				return &d.Recipients[i]
			}
		}
	}
	return nil
}

func (s *Server) bounce(ctx context.Context, m *message.Message, rcpt *message.Recipient, d *bounce.DSN) error {
	e := pick(d, rcpt.Address)
	if e == nil || (!e.Failed() && !e.Delayed()) {
		s.count("ignored") // delivered, relayed, expanded: success notices
		return nil
	}
	detail := map[string]string{"action": e.Action, "category": string(e.Category)}
	for k, v := range map[string]string{"status": e.Status, "diagnostic": clean(e.Diagnostic, 500), "remoteMta": clean(e.RemoteMTA, 200),
		"reportingMta": clean(d.ReportingMTA, 200)} {
		if v != "" {
			detail[k] = v
		}
	}
	rc := store.Receipt{Connector: rcpt.Connector, Channel: m.Channel, ProviderIDs: []string{ProviderID(m.ID, rcpt.Seq)},
		Detail: detail, ReceivedAt: time.Now().UTC()}
	if e.Delayed() {
		rc.Event = EventDelayed
		if err := s.deps.Receipts.Receipt(ctx, rc); err != nil {
			return err
		}
		s.count("delay")
		return nil
	}
	rc.Event, rc.Status, rc.ErrorCode = EventBounced, message.DeliveryFailed, e.Category.ErrorCode()
	rc.Reason = "bounced: " + string(e.Category)
	if diag := strings.Join(strings.Fields(clean(e.Diagnostic, 300)), " "); diag != "" {
		rc.Reason += ": " + diag
	}
	if e.Category.Hard() {
		// Suppress first: a retry after a failed receipt suppresses
		// again (a no-op) and records the receipt.
		if err := s.deps.Store.AddSuppression(ctx, m.AccountID, store.Suppression{Recipient: rcpt.Address, Channel: ChannelEmail,
			Reason: store.SuppressBounce, Actor: "bounce", CreatedAt: time.Now().UTC()}); err != nil {
			return err
		}
	}
	if err := s.deps.Receipts.Receipt(ctx, rc); err != nil {
		return err
	}
	s.count("bounce")
	if s.deps.Metrics != nil {
		s.deps.Metrics.Mail.Bounces.WithLabelValues(string(e.Category)).Inc()
	}
	return nil
}

func (s *Server) complaint(ctx context.Context, m *message.Message, rcpt *message.Recipient, a *bounce.ARF) error {
	if a.FeedbackType == "not-spam" {
		s.count("ignored")
		return nil
	}
	if err := s.deps.Store.AddSuppression(ctx, m.AccountID, store.Suppression{Recipient: rcpt.Address, Channel: ChannelEmail,
		Reason: store.SuppressComplaint, Actor: "feedback loop", CreatedAt: time.Now().UTC()}); err != nil {
		return err
	}
	detail := map[string]string{"feedbackType": clean(a.FeedbackType, 50)}
	for k, v := range map[string]string{"userAgent": clean(a.UserAgent, 200), "sourceIp": clean(a.SourceIP, 100),
		"reportedDomain": clean(strings.Join(a.ReportedDomain, ","), 300), "arrivalDate": clean(a.ArrivalDate, 100)} {
		if v != "" {
			detail[k] = v
		}
	}
	if s.deps.Complaint != nil {
		note := "feedback report (" + detail["feedbackType"] + ") on message " + m.ID
		if ua := detail["userAgent"]; ua != "" {
			note += " from " + ua
		}
		if err := s.deps.Complaint(ctx, m.AccountID, rcpt.Address, SourceFBL, note); err != nil {
			return err
		}
	}
	if err := s.deps.Receipts.Receipt(ctx, store.Receipt{Connector: rcpt.Connector, Channel: m.Channel,
		ProviderIDs: []string{ProviderID(m.ID, rcpt.Seq)}, Event: EventComplained, Detail: detail, ReceivedAt: time.Now().UTC()}); err != nil {
		return err
	}
	s.count("complaint")
	return nil
}

func (s *Server) unsubscribe(ctx context.Context, m *message.Message, rcpt *message.Recipient, from string, raw []byte) error {
	evidence := map[string]string{"messageId": m.ID, "seq": strconv.Itoa(rcpt.Seq), "mailFrom": clean(from, 300)}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		evidence["headers"] = headerText(msg.Header, 4096)
	}
	if err := s.deps.Store.AddConsents(ctx, []*store.Consent{{AccountID: m.AccountID, Recipient: rcpt.Address, Purpose: "marketing",
		Action: store.OptOut, Source: SourceUnsubscribe, Evidence: evidence, Actor: "recipient", CreatedAt: time.Now().UTC()}}); err != nil {
		return err
	}
	if err := s.deps.Receipts.Receipt(ctx, store.Receipt{Connector: rcpt.Connector, Channel: m.Channel,
		ProviderIDs: []string{ProviderID(m.ID, rcpt.Seq)}, Event: EventUnsubscribed,
		Detail: map[string]string{"method": "mailto"}, ReceivedAt: time.Now().UTC()}); err != nil {
		return err
	}
	s.count("unsubscribe")
	return nil
}

// ProviderID is an email recipient's provider id, as the email channel
// records it (emailchan.ProviderID: message id "." seq), so that the
// receipt matches the part the connector reported.
func ProviderID(messageID string, seq int) string { return messageID + "." + strconv.Itoa(seq) }

// headerText writes the mail's headers as evidence, sorted, bounded.
func headerText(h mail.Header, max int) string {
	var b strings.Builder
	for _, k := range []string{"From", "To", "Subject", "Date", "Message-Id", "List-Unsubscribe", "Received", "Dkim-Signature", "Authentication-Results"} {
		for _, v := range h[k] {
			b.WriteString(k + ": " + clean(v, 1000) + "\n")
		}
	}
	return clean(b.String(), max)
}

// clean keeps text printable (line breaks allowed) and at most max bytes,
// cut on a character boundary.
func clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			if unicode.IsSpace(r) {
				return ' '
			}
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.TrimSpace(s)
	if len(s) > max {
		s = s[:max]
		for len(s) > 0 && !utf8Start(s[len(s)-1]) {
			s = s[:len(s)-1]
		}
		s = strings.ToValidUTF8(s, "")
	}
	return s
}

func utf8Start(b byte) bool { return b < 0x80 || b >= 0xC0 }
