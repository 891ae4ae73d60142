package compliance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/store"
)

// Desk carries out what people do about compliance — customers register
// senders, record consents and answer proof requests; operators approve
// senders, suspend accounts, open cases — the same way from the CLI, the
// customer API and the operator API. Changes that concern the account are
// told to it through the notifier's jobs (webhook and email).
type Desk struct {
	store  store.Store
	engine *Engine // nil in the CLI: running servers see changes within the engine's cache time
	cfg    DeskConfig
	notice func() // wakes the notifier after a notice is queued
}

// OnNotice sets what wakes the notifier after a notice is queued.
func (d *Desk) OnNotice(f func()) { d.notice = f }

// DeskConfig tunes the desk.
type DeskConfig struct {
	// ProofDue is how long an account has to answer a proof request;
	// default 24 hours.
	ProofDue time.Duration
	// ComplaintThreshold complaints within ComplaintWindow open a proof
	// case; default 5 within 30 days.
	ComplaintThreshold int
	ComplaintWindow    time.Duration
}

// NewDesk makes a desk; engine may be nil.
func NewDesk(cfg DeskConfig, st store.Store, engine *Engine) *Desk {
	if cfg.ProofDue <= 0 {
		cfg.ProofDue = 24 * time.Hour
	}
	if cfg.ComplaintThreshold <= 0 {
		cfg.ComplaintThreshold = 5
	}
	if cfg.ComplaintWindow <= 0 {
		cfg.ComplaintWindow = 30 * 24 * time.Hour
	}
	return &Desk{store: st, engine: engine, cfg: cfg}
}

// InputError is a request the desk refuses; Field names what is wrong.
type InputError struct{ Field, Reason string }

func (e *InputError) Error() string { return e.Reason }

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func (d *Desk) changed(accountID string) {
	if d.engine != nil {
		d.engine.Invalidate(accountID)
	}
}

// NormalizeSender reads an originator as the engine compares it: a number
// without "+", or an alphanumeric name of at most 11 characters.
func NormalizeSender(originator string) (string, error) {
	o := strings.TrimPrefix(strings.TrimSpace(originator), "+")
	switch {
	case o == "":
		return "", invalid("originator", "originator is required")
	case strings.Trim(o, "0123456789") == "":
		if len(o) > 16 {
			return "", invalid("originator", "a numeric originator has at most 16 digits")
		}
	case len(o) > 11:
		return "", invalid("originator", "an alphanumeric originator has at most 11 characters")
	}
	return o, nil
}

// RegisterSender records a customer's request to send as originator. A
// sender already approved or rejected keeps its decision.
// created says whether the sender is new.
func (d *Desk) RegisterSender(ctx context.Context, accountID, originator, actor string) (s *store.Sender, created bool, err error) {
	o, err := NormalizeSender(originator)
	if err != nil {
		return nil, false, err
	}
	list, err := d.store.Senders(ctx, accountID)
	if err != nil {
		return nil, false, err
	}
	for _, s := range list {
		if s.Originator == o {
			return &s, false, nil
		}
	}
	s = &store.Sender{AccountID: accountID, Originator: o, Status: store.SenderPending, RequestedBy: actor, CreatedAt: time.Now().UTC()}
	return s, true, d.store.SaveSender(ctx, s)
}

// DecideSender is an operator approving (store.SenderApproved) or
// rejecting a sender; a sender nobody registered is created decided.
func (d *Desk) DecideSender(ctx context.Context, accountID, originator, status, actor, note string) (*store.Sender, error) {
	o, err := NormalizeSender(originator)
	if err != nil {
		return nil, err
	}
	if status != store.SenderApproved && status != store.SenderRejected {
		return nil, invalid("status", "status %q: approved or rejected", status)
	}
	now := time.Now().UTC()
	s := &store.Sender{AccountID: accountID, Originator: o, Status: status, DecidedBy: actor, DecidedAt: now, Note: note, CreatedAt: now}
	if err := d.store.SaveSender(ctx, s); err != nil {
		return nil, err
	}
	d.changed(accountID)
	return s, nil
}

// PolicyChange is a change to an account's policy: nil fields stay.
type PolicyChange struct {
	DefaultPurpose          *string
	TransactionalToOptedOut *bool
	HelpText                *string
	OptOutInstruction       *bool
	Window                  *string // "08:00-21:00"
	CountryWindows          *string // "FR=08:00-20:00;IN=09:00-21:00"
	SenderFallback          *string // a number the account owns; "" to reject instead
	ContentRules            *string // "content.iban=reject;content.link_shortener=off"
	PostalAddress           *string // printed in marketing email (EMAIL-3)
	RoleAddresses           *string // "info,sales": role addresses marketing email may go to (EMAIL-5)
}

// PolicyChangeJSON is a policy change as the operator and customer APIs
// take it: absent fields stay as they are.
type PolicyChangeJSON struct {
	DefaultPurpose          *string            `json:"defaultPurpose"`
	TransactionalToOptedOut *bool              `json:"transactionalToOptedOut"`
	HelpText                *string            `json:"helpText"`
	OptOutInstruction       *bool              `json:"optOutInstruction"`
	QuietHours              *string            `json:"quietHours"`
	CountryQuietHours       *map[string]string `json:"countryQuietHours"`
	SenderFallback          *string            `json:"senderFallback"`
	ContentRules            *map[string]string `json:"contentRules"`
	PostalAddress           *string            `json:"postalAddress"`
	RoleAddresses           *[]string          `json:"roleAddresses"`
}

func (j PolicyChangeJSON) Change() PolicyChange {
	ch := PolicyChange{DefaultPurpose: j.DefaultPurpose, TransactionalToOptedOut: j.TransactionalToOptedOut,
		HelpText: j.HelpText, OptOutInstruction: j.OptOutInstruction, Window: j.QuietHours, SenderFallback: j.SenderFallback,
		PostalAddress: j.PostalAddress}
	if j.RoleAddresses != nil {
		s := strings.Join(*j.RoleAddresses, ",")
		ch.RoleAddresses = &s
	}
	if j.CountryQuietHours != nil {
		s := joinPairs(*j.CountryQuietHours)
		ch.CountryWindows = &s
	}
	if j.ContentRules != nil {
		s := joinPairs(*j.ContentRules)
		ch.ContentRules = &s
	}
	return ch
}

func joinPairs(m map[string]string) string {
	pairs := make([]string, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ";")
}

// PolicyView is a policy as the APIs show it.
type PolicyView struct {
	DefaultPurpose          string            `json:"defaultPurpose"`
	TransactionalToOptedOut bool              `json:"transactionalToOptedOut"`
	HelpText                string            `json:"helpText"`
	OptOutInstruction       bool              `json:"optOutInstruction"`
	QuietHours              string            `json:"quietHours"` // the window marketing may arrive in
	CountryQuietHours       map[string]string `json:"countryQuietHours"`
	SenderFallback          string            `json:"senderFallback"`
	ContentRules            map[string]string `json:"contentRules"` // rule → reject or hold (off: absent)
	SendersRelaxed          string            `json:"sendersRelaxed"`
	Suspended               string            `json:"suspended"`
	// Absent when unset, so that policies without them read as before.
	PostalAddress string   `json:"postalAddress,omitempty"`
	RoleAddresses []string `json:"roleAddresses,omitempty"` // role addresses marketing email may go to
}

// View shows p.
func View(p *store.Policy) PolicyView {
	v := PolicyView{DefaultPurpose: p.DefaultPurpose, TransactionalToOptedOut: p.TransactionalToOptedOut, HelpText: p.HelpText,
		OptOutInstruction: p.OptOutInstruction, QuietHours: Window{p.WindowStart, p.WindowEnd}.String(),
		CountryQuietHours: map[string]string{}, SenderFallback: p.SenderFallback, ContentRules: map[string]string{},
		SendersRelaxed: p.SenderRelaxed, Suspended: p.Suspended, PostalAddress: p.PostalAddress}
	if p.RoleAddresses != "" {
		v.RoleAddresses = strings.Split(p.RoleAddresses, ",")
	}
	windows, _ := ParseCountryWindows(p.CountryWindows)
	for cc, w := range windows {
		v.CountryQuietHours[cc] = w.String()
	}
	rules, err := ApplyContentRules(DefaultContentRules(), p.ContentRules)
	if err != nil {
		rules = DefaultContentRules()
	}
	for _, r := range rules {
		v.ContentRules[r.Name] = string(r.Outcome)
	}
	return v
}

// CustomerChange applies a change an account makes itself: content rules
// are the operator's, and quiet hours may only narrow the default daytime
// window (08:00-21:00), never widen it.
// dryRun validates and answers the would-be policy without storing it (a
// test key).
func (d *Desk) CustomerChange(ctx context.Context, accountID string, j PolicyChangeJSON, dryRun bool) (*store.Policy, error) {
	if j.ContentRules != nil {
		return nil, invalid("contentRules", "content rules are set by the platform's operator")
	}
	if j.RoleAddresses != nil {
		return nil, invalid("roleAddresses", "role addresses are allowed by the platform's operator")
	}
	ch := j.Change()
	inside := func(field, s string) error {
		w, err := ParseWindow(s)
		if err != nil {
			return invalid(field, "%v", err)
		}
		if w.Start < DefaultWindow.Start || w.End > DefaultWindow.End || w.End <= w.Start {
			return invalid(field, "quiet hours may only narrow %s (the daytime window); ask an operator for another", DefaultWindow)
		}
		return nil
	}
	if ch.Window != nil {
		if err := inside("quietHours", *ch.Window); err != nil {
			return nil, err
		}
	}
	if j.CountryQuietHours != nil {
		for cc, w := range *j.CountryQuietHours {
			if err := inside("countryQuietHours."+cc, w); err != nil {
				return nil, err
			}
		}
	}
	if dryRun {
		return d.applyPolicy(ctx, accountID, ch, false)
	}
	return d.ChangePolicy(ctx, accountID, ch)
}

// maxHelpText bounds the HELP answer: it is sent as an SMS.
const maxHelpText = 480

// ChangePolicy applies a customer's or operator's change.
func (d *Desk) ChangePolicy(ctx context.Context, accountID string, ch PolicyChange) (*store.Policy, error) {
	return d.applyPolicy(ctx, accountID, ch, true)
}

func (d *Desk) applyPolicy(ctx context.Context, accountID string, ch PolicyChange, save bool) (*store.Policy, error) {
	update := d.updatePolicy
	if !save {
		update = d.previewPolicy
	}
	return update(ctx, accountID, func(p *store.Policy) error {
		if ch.DefaultPurpose != nil {
			if *ch.DefaultPurpose != Transactional && *ch.DefaultPurpose != Marketing {
				return invalid("defaultPurpose", "default purpose %q: transactional or marketing", *ch.DefaultPurpose)
			}
			p.DefaultPurpose = *ch.DefaultPurpose
		}
		if ch.TransactionalToOptedOut != nil {
			p.TransactionalToOptedOut = *ch.TransactionalToOptedOut
		}
		if ch.HelpText != nil {
			if len(*ch.HelpText) > maxHelpText {
				return invalid("helpText", "the help text has at most %d bytes", maxHelpText)
			}
			p.HelpText = *ch.HelpText
		}
		if ch.OptOutInstruction != nil {
			p.OptOutInstruction = *ch.OptOutInstruction
		}
		if ch.Window != nil {
			w, err := ParseWindow(*ch.Window)
			if err != nil {
				return invalid("quietHours", "%v", err)
			}
			p.WindowStart, p.WindowEnd = w.Start, w.End
		}
		if ch.CountryWindows != nil {
			m, err := ParseCountryWindows(*ch.CountryWindows)
			if err != nil {
				return invalid("countryQuietHours", "%v", err)
			}
			p.CountryWindows = FormatCountryWindows(m)
		}
		if ch.ContentRules != nil {
			if _, err := ApplyContentRules(DefaultContentRules(), *ch.ContentRules); err != nil {
				return invalid("contentRules", "%v", err)
			}
			p.ContentRules = *ch.ContentRules
		}
		if ch.PostalAddress != nil {
			a, err := NormalizePostalAddress(*ch.PostalAddress)
			if err != nil {
				return err
			}
			p.PostalAddress = a
		}
		if ch.RoleAddresses != nil {
			list, err := ParseRoleAddresses(*ch.RoleAddresses)
			if err != nil {
				return err
			}
			p.RoleAddresses = strings.Join(list, ",")
		}
		if ch.SenderFallback != nil {
			n := strings.TrimPrefix(strings.TrimSpace(*ch.SenderFallback), "+")
			if n != "" {
				numbers, err := d.store.ListNumbers(ctx, accountID)
				if err != nil {
					return err
				}
				if !slices.ContainsFunc(numbers, func(x store.Number) bool { return x.Number == n }) {
					return invalid("senderFallback", "%q is not a number the account owns", n)
				}
			}
			p.SenderFallback = n
		}
		return nil
	})
}

// previewPolicy is the policy as change would leave it, not stored.
func (d *Desk) previewPolicy(ctx context.Context, accountID string, change func(*store.Policy) error) (*store.Policy, error) {
	p, err := d.store.GetPolicy(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return p, change(p)
}

func (d *Desk) updatePolicy(ctx context.Context, accountID string, change func(*store.Policy) error) (*store.Policy, error) {
	p, err := d.store.GetPolicy(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if err := change(p); err != nil {
		return nil, err
	}
	if err := d.store.SetPolicy(ctx, accountID, p); err != nil {
		return nil, err
	}
	d.changed(accountID)
	return p, nil
}

func stamp(actor, reason string) string {
	return fmt.Sprintf("%s (%s, %s)", reason, actor, time.Now().UTC().Format(time.RFC3339))
}

// RelaxSenders lets an account send from any originator; the operator,
// time and reason are recorded. reason "" makes the rule strict again.
func (d *Desk) RelaxSenders(ctx context.Context, accountID, reason, actor string) (*store.Policy, error) {
	return d.updatePolicy(ctx, accountID, func(p *store.Policy) error {
		p.SenderRelaxed = ""
		if strings.TrimSpace(reason) != "" {
			p.SenderRelaxed = stamp(actor, reason)
		}
		return nil
	})
}

// Suspend blocks an account's sending with a reason every refused request
// repeats; the account is told.
func (d *Desk) Suspend(ctx context.Context, accountID, reason, actor string) (*store.Policy, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, invalid("reason", "a suspension needs a reason")
	}
	p, err := d.updatePolicy(ctx, accountID, func(p *store.Policy) error {
		p.Suspended = stamp(actor, reason)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, d.notify(ctx, accountID, notice.Notice{Type: "compliance.suspended",
		Subject: "Your account is suspended",
		Text:    "Sending is blocked: " + p.Suspended + "\nAn operator lifts the suspension once the matter is resolved.",
		Data:    map[string]any{"reason": p.Suspended}})
}

// Lift ends a suspension; the account is told.
func (d *Desk) Lift(ctx context.Context, accountID, actor string) (*store.Policy, error) {
	p, err := d.updatePolicy(ctx, accountID, func(p *store.Policy) error {
		p.Suspended = ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, d.notify(ctx, accountID, notice.Notice{Type: "compliance.reinstated",
		Subject: "Your account may send again",
		Text:    "The suspension was lifted by " + actor + "."})
}

func (d *Desk) notify(ctx context.Context, accountID string, nt notice.Notice) error {
	if err := d.store.EnqueueJob(ctx, notice.Job(accountID, nt, time.Now().UTC())); err != nil {
		return fmt.Errorf("queueing the notice to the account: %w", err)
	}
	if d.notice != nil {
		d.notice()
	}
	return nil
}

// MaxProofDue bounds how long an account may be given to answer a proof
// request.
const MaxProofDue = 90 * 24 * time.Hour

// RequestProof opens a case asking an account for proof of consent
// (about one recipient, or in general) and tells the account; without an
// answer by the due time the account is suspended (ExpireCases).
func (d *Desk) RequestProof(ctx context.Context, accountID, recipient, reason, actor string, due time.Duration) (*store.ProofCase, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, invalid("reason", "a proof request needs a reason")
	}
	if recipient != "" {
		c, err := ParseConsent(recipient, Marketing, store.OptIn, "", nil, "", time.Now())
		if err != nil {
			return nil, invalid("recipient", "%v", err)
		}
		recipient = c.Recipient
	}
	if due <= 0 {
		due = d.cfg.ProofDue
	}
	if due > MaxProofDue {
		return nil, invalid("due", "an account has at most %d days to answer a proof request", int(MaxProofDue.Hours()/24))
	}
	if _, err := d.store.GetAccount(ctx, accountID); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	c := &store.ProofCase{ID: ids.New(), AccountID: accountID, Recipient: recipient, Reason: reason, OpenedBy: actor,
		Status: store.CaseOpen, DueAt: now.Add(due), CreatedAt: now}
	if err := d.store.OpenProofCase(ctx, c); err != nil {
		return nil, err
	}
	about := "your consent records"
	if recipient != "" {
		about = "the consent of " + recipient
	}
	return c, d.notify(ctx, accountID, notice.Notice{Type: "compliance.proof_requested",
		Subject: "Proof of consent requested (case " + c.ID + ")",
		Text: fmt.Sprintf("An operator asks for proof of %s: %s\nAnswer with POST /compliance/cases/%s/proof before %s, or sending will be suspended.",
			about, reason, c.ID, c.DueAt.Format(time.RFC3339)),
		Data: map[string]any{"case": c}})
}

// maxProof bounds the proof an account uploads.
const maxProof = 1 << 20

// AnswerProof records an account's proof on its open case.
func (d *Desk) AnswerProof(ctx context.Context, accountID, caseID, proof string) (*store.ProofCase, error) {
	if strings.TrimSpace(proof) == "" {
		return nil, invalid("proof", "the proof is empty")
	}
	if len(proof) > maxProof {
		return nil, invalid("proof", "the proof has at most %d bytes", maxProof)
	}
	return d.store.AnswerProofCase(ctx, accountID, caseID, proof)
}

// ExpireCases suspends the accounts whose proof cases passed their due
// time unanswered, and tells them. Every node may run it: each case
// expires once.
func (d *Desk) ExpireCases(ctx context.Context, now time.Time) ([]store.ProofCase, error) {
	cases, err := d.store.ExpireProofCases(ctx, now)
	var errs []error
	for _, c := range cases {
		d.changed(c.AccountID)
		errs = append(errs, d.notify(ctx, c.AccountID, notice.Notice{Type: "compliance.suspended",
			Subject: "Your account is suspended: no proof of consent (case " + c.ID + ")",
			Text:    fmt.Sprintf("No proof of consent arrived by %s for case %s (%s). Sending is blocked until an operator lifts the suspension.", c.DueAt.Format(time.RFC3339), c.ID, c.Reason),
			Data:    map[string]any{"case": c}}))
	}
	return cases, errors.Join(append(errs, err)...)
}

// Complaint records a complaint against an account (a recipient reported
// spam, a carrier forwarded one). Reaching the threshold within the window
// opens a proof case, unless one is open already; the case is returned.
func (d *Desk) Complaint(ctx context.Context, accountID, recipient, source, note string) (int, *store.ProofCase, error) {
	if _, err := d.store.GetAccount(ctx, accountID); err != nil {
		return 0, nil, err
	}
	n, err := d.store.AddComplaint(ctx, accountID, recipient, source, note, time.Now().Add(-d.cfg.ComplaintWindow))
	if err != nil || n < d.cfg.ComplaintThreshold {
		return n, nil, err
	}
	cases, err := d.store.ProofCases(ctx, accountID)
	if err != nil {
		return n, nil, err
	}
	for _, c := range cases {
		if c.Status == store.CaseOpen {
			return n, nil, nil
		}
	}
	c, err := d.RequestProof(ctx, accountID, "", fmt.Sprintf("%d complaints within %d days", n, int(d.cfg.ComplaintWindow.Hours()/24)), "complaint threshold", 0)
	return n, c, err
}
