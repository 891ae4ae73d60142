// Package verify is omnigate's one-time-code machinery, which the doors
// call (the MessageBird door's /verify today): it creates a verification —
// a code drawn from crypto/rand, stored only as a salted SHA-256 hash —
// and sends the code through the pipeline like any message (so it is
// checked by compliance, charged and dispatched by the SMS or email
// channel), checks codes (a bounded number of wrong ones, expiry, a code
// used once), and cancels verifications.
//
// Fraud protection (fraud.go), on by default and configurable per account,
// runs before a code is sent: premium-rate and shared-cost numbers are
// refused, geo permissions, velocity limits per number, prefix, caller IP
// and account, and the conversion watch, which blocks a prefix or country
// whose verifications are sent but not completed (SMS pumping). Every
// refusal and block is a compliance decision with a rule id: counted in
// omnigate_compliance_decisions_total and written to the decision log.
package verify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/big"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// Defaults and bounds, as MessageBird documents them where it does.
const (
	DefaultTimeout     = 30 * time.Second
	MinTimeout         = 30 * time.Second
	MaxTimeout         = 72 * time.Hour
	DefaultTokenLength = 6
	MinTokenLength     = 6
	MaxTokenLength     = 10
	// DefaultMaxAttempts is how many wrong codes a verification takes
	// before it fails.
	DefaultMaxAttempts = 5
	// DefaultOriginator sends codes when the request names no originator
	// (like every originator, it must be approved for the account).
	DefaultOriginator = "Code"
	// Token is what a template's code placeholder is.
	Token = "%token"
)

// Types of verification.
const (
	TypeSMS   = "sms"
	TypeFlash = "flash"
	TypeEmail = "email"
	TypeTTS   = "tts"
)

// Config tunes the service. Zero values mean the documented defaults.
type Config struct {
	// MaxAttempts is how many wrong codes fail a verification; default 5.
	MaxAttempts int
	// Fraud are the platform's fraud protection defaults, which accounts
	// override (store.VerifySettings).
	Fraud FraudDefaults
	// Now is the clock; default time.Now (tests move it).
	Now func() time.Time
	// OnNotice wakes the notifier after a block queued a notice.
	OnNotice func()
	// Commit tunes the group commit of new and checked verifications.
	Commit groupcommit.Config
	Log    *slog.Logger
}

// Service creates and checks verifications.
type Service struct {
	cfg      Config
	store    store.Store
	pipeline *pipeline.Pipeline
	metrics  *metrics.Metrics
	log      *slog.Logger
	writes   *groupcommit.Committer[*store.VerifyWrite]
	// locks serialise the checks of one verification on this node (by a
	// hash of its id), so that concurrent guesses queue rather than race;
	// across nodes the conditional update decides.
	locks [64]sync.Mutex
}

// lock takes the lock of verification id's stripe.
func (s *Service) lock(id string) func() {
	h := fnv.New32a()
	h.Write([]byte(id))
	m := &s.locks[h.Sum32()%uint32(len(s.locks))]
	m.Lock()
	return m.Unlock
}

// New makes the service.
func New(cfg Config, st store.Store, p *pipeline.Pipeline, m *metrics.Metrics) *Service {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OnNotice == nil {
		cfg.OnNotice = func() {}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Fraud = cfg.Fraud.withDefaults()
	s := &Service{cfg: cfg, store: st, pipeline: p, metrics: m, log: cfg.Log}
	s.writes = groupcommit.New(cfg.Commit, func(ctx context.Context, ws []*store.VerifyWrite) error {
		return st.WriteVerifications(ctx, ws)
	})
	return s
}

// Stop writes what is queued and refuses more.
func (s *Service) Stop(ctx context.Context) error { return s.writes.Stop(ctx) }

// write group-commits one verification write and returns its own error.
func (s *Service) write(ctx context.Context, w *store.VerifyWrite) error {
	if err := s.writes.Submit(ctx, w, 1); err != nil {
		return fmt.Errorf("writing verification: %w", err)
	}
	return w.Err
}

// MaxAttempts is how many wrong codes fail a verification.
func (s *Service) MaxAttempts() int { return s.cfg.MaxAttempts }

// Request is a verification to create, as a door parsed it.
type Request struct {
	AccountID  string
	Recipient  string // a number in international format, or an email address (type email)
	Originator string
	Reference  string
	Type       string // sms (default), flash, email; tts is refused
	Template   string // with %token; default by Language
	DataCoding string
	Language   string
	ReportURL  string
	Subject    string        // email
	Timeout    time.Duration // 0: DefaultTimeout
	// TokenLength is the code's number of digits; 0: the default.
	TokenLength int
	// IP is the end user's address the caller passed, for the per-IP
	// velocity limit; "" counts nothing.
	IP string
	// Test validates and prices the message as a live one and stores
	// nothing (a test key).
	Test bool
	// Service is the Twilio Verify service the verification belongs to.
	Service string
	// fromName is the display name of an email originator, which
	// validate takes off Originator for the email's From.
	fromName string
}

// Invalid is a request the service refuses: the parameter and why.
type Invalid = message.Invalid

func invalid(field, reason string) error { return &Invalid{Field: field, Reason: reason} }

// ErrWrongCode is a code that does not match; Left is how many more
// attempts the verification takes (0: it has failed now).
type ErrWrongCode struct{ Left int }

func (e *ErrWrongCode) Error() string {
	return fmt.Sprintf("the token is invalid (%d attempts left)", e.Left)
}

// ErrNotPending is a check of a verification that is no longer waiting
// for its code: verified, failed, expired or deleted.
type ErrNotPending struct{ Status string }

func (e *ErrNotPending) Error() string { return "the verification is " + e.Status }

// Result is a created verification with the code sent, which callers
// other than tests must not show.
type Result struct {
	*store.Verification
	// Message is the message that carried the code.
	Message *message.Message
}

// Create validates r, runs the fraud checks, sends the code through the
// pipeline and stores the verification. A refusal by fraud protection is
// a *Refusal; by the pipeline, its own errors (compliance, balance …).
func (s *Service) Create(ctx context.Context, r Request) (*Result, error) {
	now := s.cfg.Now().UTC()
	v := &store.Verification{ID: ids.New(), AccountID: r.AccountID, Reference: r.Reference, Status: store.VerifySent,
		IP: strings.TrimSpace(r.IP), CreatedAt: now, Service: r.Service}
	if err := s.validate(&r, v); err != nil {
		return nil, err
	}
	v.ValidUntil = now.Add(r.Timeout)
	set, err := s.screen(ctx, v, now, r.Test)
	if err != nil {
		// An attack held at the prefix's velocity limit is still judged:
		// its codes expire unverified, and the watch blocks the prefix.
		var rf *Refusal
		if errors.As(err, &rf) && rf.Rule == RuleVelocityPrefix && set != nil && !r.Test {
			s.watch(ctx, v, set, now)
		}
		return nil, err
	}
	code, err := newCode(r.TokenLength)
	if err != nil {
		return nil, err
	}
	v.Salt = make([]byte, 16)
	if _, err := rand.Read(v.Salt); err != nil {
		return nil, fmt.Errorf("drawing a salt: %w", err)
	}
	v.CodeHash = hash(v.Salt, v.ID, code)
	m := buildMessage(&r, v, code)
	if err := s.pipeline.Accept(ctx, m, pipeline.Options{Test: r.Test, Urgent: true}); err != nil {
		return nil, err
	}
	v.MessageID = m.ID
	if r.Test {
		return &Result{Verification: v, Message: m}, nil
	}
	if err := s.write(ctx, &store.VerifyWrite{V: v, Insert: true}); err != nil {
		return nil, err
	}
	s.watch(ctx, v, set, now)
	return &Result{Verification: v, Message: m}, nil
}

// validate checks what the door cannot (the recipient's kind, bounds) and
// fills in defaults.
func (s *Service) validate(r *Request, v *store.Verification) error {
	switch r.Type {
	case "":
		r.Type = TypeSMS
	case TypeSMS, TypeFlash, TypeEmail:
	case TypeTTS:
		return invalid("type", "type tts (a voice call) is not available: this server has no voice channel yet; use sms, flash or email")
	default:
		return invalid("type", "type must be sms, flash or email")
	}
	v.Type = r.Type
	rc := strings.TrimSpace(r.Recipient)
	if rc == "" {
		return invalid("recipient", "no recipient given")
	}
	if r.Type == TypeEmail {
		// The recipient's display name is dropped: the code goes to the
		// mailbox, and nothing but its address is kept.
		addr, _, ok := emailAddress(rc)
		if !ok {
			return invalid("recipient", "recipient must be one email address for type email: client@example.com or Client Name <client@example.com>")
		}
		v.Recipient = strings.ToLower(addr)
		o := strings.TrimSpace(r.Originator)
		if o == "" {
			return invalid("originator", "no originator given: type email needs the sender's email address")
		}
		if r.Originator, r.fromName, ok = emailAddress(o); !ok {
			return invalid("originator", "originator must be one email address (the sender) for type email: verify@example.com or Name <verify@example.com>")
		}
		if len(r.Subject) > 200 || strings.ContainsAny(r.Subject, "\r\n") {
			return invalid("subject", "subject must be one line of at most 200 characters")
		}
	} else {
		n, err := phone.Parse(rc)
		if err != nil {
			return invalid("recipient", "recipient is not a valid phone number in international format")
		}
		v.Recipient, v.Country = n.MSISDN, n.Country
		v.Prefix = s.prefix(n.MSISDN)
		if r.Originator == "" {
			r.Originator = DefaultOriginator
		}
	}
	switch {
	case r.Timeout == 0:
		r.Timeout = DefaultTimeout
	case r.Timeout < MinTimeout || r.Timeout > MaxTimeout:
		return invalid("timeout", fmt.Sprintf("timeout must be from %d to %d seconds", int(MinTimeout.Seconds()), int(MaxTimeout.Seconds())))
	}
	switch {
	case r.TokenLength == 0:
		r.TokenLength = DefaultTokenLength
	case r.TokenLength < MinTokenLength || r.TokenLength > MaxTokenLength:
		return invalid("tokenLength", fmt.Sprintf("tokenLength must be from %d to %d", MinTokenLength, MaxTokenLength))
	}
	lang, ok := language(r.Language)
	if !ok {
		return invalid("language", "language must be a language tag such as en-gb or nl-nl")
	}
	if r.Template == "" {
		r.Template = templates[lang]
	} else if !strings.Contains(r.Template, Token) {
		return invalid("template", "template must contain %token, where the code goes")
	}
	if len(r.Template) > 1000 {
		return invalid("template", "template is longer than 1000 characters")
	}
	if len(r.Reference) > 512 {
		return invalid("reference", "reference is longer than 512 characters")
	}
	return nil
}

// emailAddress reads an email verification's recipient or originator: an
// address or RFC 5322's name-addr, "Client Name <client@example.com>", as
// MessageBird's SDKs send it. It answers the address and the display name
// apart, since the address alone names the mailbox (what is stored,
// screened, suppressed and counted). Whatever is not one mailbox is
// refused: lists, groups ("Team: client@example.com;", which net/mail
// reads as their one member), comments, bare names, and control
// characters, raw or encoded in the name, which would smuggle a header
// into the email.
func emailAddress(s string) (addr, name string, ok bool) {
	if strings.ContainsFunc(s, control) {
		return "", "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || len(a.Address) > 254 || len(a.Name) > maxFromName || strings.ContainsFunc(a.Name, control) {
		return "", "", false
	}
	if s != a.Address && !strings.HasSuffix(s, ">") {
		return "", "", false
	}
	return a.Address, strings.TrimSpace(a.Name), true
}

// maxFromName is the email channel's bound on a display name.
const maxFromName = 200

// control reports the characters a header line must not carry, as the
// email channel judges them.
func control(r rune) bool {
	return unicode.IsControl(r) && r != '\t' || r == 0x2028 || r == 0x2029
}

// language reads a tag such as "en", "en-gb", "nl_NL" and returns its
// language ("en" when none is given).
func language(tag string) (string, bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if tag == "" {
		return "en", true
	}
	base, region, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
	if len(base) != 2 || strings.Trim(base, "abcdefghijklmnopqrstuvwxyz") != "" || len(region) > 8 {
		return "", false
	}
	if _, ok := templates[base]; !ok {
		return "en", true
	}
	return base, true
}

// templates are the default texts by language.
var templates = map[string]string{
	"en": "Your verification code is %token",
	"nl": "Uw verificatiecode is %token",
	"de": "Ihr Bestätigungscode lautet %token",
	"fr": "Votre code de vérification est %token",
	"es": "Su código de verificación es %token",
}

// buildMessage is the message carrying the code.
func buildMessage(r *Request, v *store.Verification, code string) *message.Message {
	body := strings.ReplaceAll(r.Template, Token, code)
	m := &message.Message{AccountID: v.AccountID, Direction: message.MT, Originator: strings.TrimSpace(r.Originator), Body: body,
		Reference: r.Reference, ReportURL: strings.TrimSpace(r.ReportURL), Purpose: "transactional"}
	if r.Type == TypeEmail {
		subject := r.Subject
		if subject == "" {
			subject = "Your verification code"
		}
		m.Channel, m.Type = message.ChannelEmail, "email"
		m.Content = &message.Content{Email: &message.Email{Subject: subject, FromName: r.fromName}}
		m.Recipients = []message.Recipient{{Address: v.Recipient}}
		return m
	}
	n, _ := phone.Parse(v.Recipient)
	m.Channel, m.Type = message.ChannelSMS, message.TypeSMS
	m.SMS = &message.SMS{DataCoding: r.DataCoding, MClass: 1}
	if r.Type == TypeFlash {
		m.Type, m.SMS.MClass = message.TypeFlash, 0
	}
	m.Recipients = []message.Recipient{{Address: n.MSISDN, Country: n.Country, CountryPrefix: n.CountryPrefix}}
	return m
}

// newCode draws n decimal digits, uniformly, from crypto/rand.
func newCode(n int) (string, error) {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	x, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return "", fmt.Errorf("drawing a code: %w", err)
	}
	return fmt.Sprintf("%0*s", n, x.String()), nil
}

// hash is what is stored of a code: SHA-256 of the salt, the
// verification's id and the code.
func hash(salt []byte, id, code string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(code))
	return h.Sum(nil)
}

// Status is a verification's status as shown: a sent one past its
// validity is expired.
func (s *Service) Status(v *store.Verification) string {
	if v.Status == store.VerifySent && !s.cfg.Now().Before(v.ValidUntil) {
		return store.VerifyExpired
	}
	return v.Status
}

// Pending is the newest verification of a Twilio Verify service to a
// recipient that still waits for its code.
func (s *Service) Pending(ctx context.Context, accountID, service, recipient string) (*store.Verification, error) {
	return s.store.PendingVerification(ctx, accountID, service, recipient, s.cfg.Now().UTC())
}

// Get reads a verification with its shown status.
func (s *Service) Get(ctx context.Context, accountID, id string) (*store.Verification, error) {
	v, err := s.store.GetVerification(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	v.Status = s.Status(v)
	return v, nil
}

// Check checks a code: a match verifies the verification (once); a wrong
// code counts, and the MaxAttempts-th fails it. Checks of a verification
// that is not pending (*ErrNotPending) count nothing.
func (s *Service) Check(ctx context.Context, accountID, id, token string) (*store.Verification, error) {
	defer s.lock(id)()
	for range 10 { // concurrent checks of one verification: read again
		v, err := s.store.GetVerification(ctx, accountID, id)
		if err != nil {
			return nil, err
		}
		if st := s.Status(v); st != store.VerifySent {
			return nil, &ErrNotPending{Status: st}
		}
		status, attempts := v.Status, v.Attempts
		ok := subtle.ConstantTimeCompare(hash(v.Salt, v.ID, strings.TrimSpace(token)), v.CodeHash) == 1
		if ok {
			v.Status, v.VerifiedAt = store.VerifyVerified, s.cfg.Now().UTC()
		} else {
			v.Attempts++
			if v.Attempts >= s.cfg.MaxAttempts {
				v.Status = store.VerifyFailed
			}
		}
		err = s.write(ctx, &store.VerifyWrite{V: v, FromStatus: status, FromAttempts: attempts})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !ok {
			return v, &ErrWrongCode{Left: s.cfg.MaxAttempts - v.Attempts}
		}
		return v, nil
	}
	return nil, errors.New("checking a verification: too many concurrent checks")
}

// Delete cancels a verification; ErrNotFound if it is deleted already.
func (s *Service) Delete(ctx context.Context, accountID, id string) error {
	defer s.lock(id)()
	for range 10 {
		v, err := s.store.GetVerification(ctx, accountID, id)
		if err != nil {
			return err
		}
		if v.Status == store.VerifyDeleted {
			return store.ErrNotFound
		}
		status := v.Status
		v.Status = store.VerifyDeleted
		err = s.write(ctx, &store.VerifyWrite{V: v, FromStatus: status, FromAttempts: v.Attempts})
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return errors.New("deleting a verification: too many concurrent changes")
}
