// Package compliance is the policy engine every outbound message passes
// before it is charged: it decides to allow, defer until a time, reject with
// a named rule, or hold for an operator's review — from the account's
// standing (suspended?), the sender's identity, the text, the message's
// purpose and restricted categories against the consent ledger, the
// account's suppression list, national do-not-disturb registries and the
// recipient's local daytime. Every channel calls the same engine.
//
// Every decision is counted per rule; those that stop or change a message
// are recorded with the rule and the reason.
package compliance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/ttlcache"
)

// now is the request's time, or the clock's.
func (r *Request) now() time.Time {
	if r.Time.IsZero() {
		return time.Now()
	}
	return r.Time
}

// Outcome is what the engine decided.
type Outcome string

// Outcomes.
const (
	Allow  Outcome = "allow"
	Defer  Outcome = "defer"
	Reject Outcome = "reject"
	Hold   Outcome = "hold"
)

// Purposes.
const (
	Transactional = "transactional"
	Marketing     = "marketing"
)

// Categories are restricted topics: they need an opt-in from a recipient
// of legal age and respect the recipient's daytime.
// Rotating senders (SMS-6): marketing to a recipient who has had
// marketing from MaxMarketingSenders of the account's originators within
// RotationWindow is refused from any further one. An operator's sender
// relaxation lifts the check.
const (
	MaxMarketingSenders = 3
	RotationWindow      = 24 * time.Hour
)

var Categories = []string{"alcohol", "gambling", "tobacco", "firearms", "adult"}

// ValidCategory reports whether c is a restricted category.
func ValidCategory(c string) bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

// Recipient is one destination of a request.
type Recipient struct {
	Address string // international digits (or an email address, a channel id …)
	Country string // ISO 3166-1 alpha-2, "" if unknown
	// TimeZone is the recipient's IANA time zone where it is known (a
	// contact's); quiet hours then use it rather than the number's or the
	// country's zones.
	TimeZone string
}

// Request is a message to decide on.
type Request struct {
	AccountID  string
	Channel    string
	Sender     string // the originator
	Recipients []Recipient
	Purpose    string   // "" for the account's default
	Categories []string // restricted categories
	// Content is the text the content rules read: MessageText (an email's
	// subject and HTML text besides its body).
	Content string
	Time    time.Time
	// Urgent lets a message through quiet hours.
	Urgent bool
	// Reply marks the platform's own answers to a recipient's keyword (an
	// opt-out confirmation, a help text): they reach the recipient even
	// though they just opted out, at any hour.
	Reply bool
	// Type is the message's type as its channel names it (a WhatsApp
	// template is "hsm"); the channel's own rules read it.
	Type string
}

// Decision is the engine's answer. A request is decided per recipient:
// rules about one recipient (consent, suppression, registries, rotating
// senders, a channel's own) refuse that recipient alone, listed in Refused,
// and the others go; rules about the message (account, purpose, sender,
// content) decide for all. Only when every recipient is refused is the
// Outcome Reject, with the first refusal's rule.
type Decision struct {
	Outcome   Outcome
	Rule      string    // the rule that decided (for allow: "")
	Reason    string    // in words
	Recipient string    // the recipient the rule was about, if one
	Until     time.Time // Defer: when the message may go
	Purpose   string    // the purpose the request was judged with
	// Sender replaces the originator where a recipient's country does not
	// carry alphanumeric senders and the account chose a fallback number.
	Sender string
	// Refused are the recipients refused while the rest go (Outcome is not
	// Reject), in request order.
	Refused []Refusal
}

// Refusal is one recipient refused by a rule.
type Refusal struct {
	Index     int    // position in Request.Recipients
	Recipient string // its address
	Rule      string
	Reason    string
	// Code is the platform's error code for the rule (see RuleCode), the
	// recipient's statusErrorCode.
	Code int
}

// Describe says what refused the recipient and why, in words.
func (r Refusal) Describe() string { return r.Rule + ": " + r.Reason }

// ChannelRules say which of the engine's rules apply to a channel, and add
// the channel's own. Channels without rules of their own get every common
// rule (StrictRules).
type ChannelRules struct {
	// Numbers: recipients are phone numbers, so national do-not-disturb
	// registries apply and local time can be read from the number.
	Numbers bool
	// SenderIdentity: an originator must be an approved sender or a number
	// the account owns.
	SenderIdentity bool
	// QuietHours: marketing and restricted categories wait for the
	// recipient's daytime.
	QuietHours bool
	// Check is the channel's own rule (an email's unsubscribe link, a chat
	// app's session window), run on the recipients the common rules let
	// through. It may reject or hold the message, or refuse recipients
	// (Decision.Refused, indexes into req.Recipients); nil: none.
	Check func(ctx context.Context, req Request) (Decision, error)
}

// PhoneRules are the rules of a channel whose recipients are phone numbers
// (SMS, voice): every common rule.
var PhoneRules = ChannelRules{Numbers: true, SenderIdentity: true, QuietHours: true}

// StrictRules apply to a channel the engine was given no rules for.
var StrictRules = PhoneRules

// Error codes of recipients refused by a rule, shown as their
// statusErrorCode (docs/compliance.md lists them).
var ruleCodes = map[string]int{
	"consent.opt_in":      4101,
	"consent.legal_age":   4102,
	"suppression":         4103,
	"dnd":                 4104,
	"sender.rotation":     4105,
	RuleEmailRole:         4106,
	RuleWhatsAppWindow:    4107,
	RuleWhatsAppOptIn:     4108,
	RulePrivacyRestricted: 4109,
}

// RulePrivacyRestricted refuses a recipient a data-subject restriction
// covers (PRIV-2): nothing is sent to the identifier on any channel, not
// even the platform's own replies, until the request is closed.
const RulePrivacyRestricted = "privacy.restricted"

// RuleCode is the error code of a recipient refused by rule: 4100 plus the
// rule's number, 4199 for a channel's own rules.
func RuleCode(rule string) int {
	if c, ok := ruleCodes[rule]; ok {
		return c
	}
	return 4199
}

// Describe says what decided and why, in words.
func (d Decision) Describe() string {
	if d.Recipient != "" {
		return fmt.Sprintf("%s: %s (recipient %s)", d.Rule, d.Reason, d.Recipient)
	}
	return d.Rule + ": " + d.Reason
}

// Rejection is a rejected message as an error.
type Rejection struct{ Decision Decision }

func (r *Rejection) Error() string { return "refused by compliance rule " + r.Decision.Describe() }

// Config tunes the engine.
type Config struct {
	// CacheTTL is how long account policies and sender lists are cached;
	// default 5 s. Changes made through the CLI by another process take
	// effect within that time; the APIs invalidate at once.
	CacheTTL time.Duration
	// Content are the text checks; default DefaultContentRules().
	Content []ContentRule
	// Channels are each channel's rules; a channel not listed gets
	// StrictRules.
	Channels map[string]ChannelRules
}

// Engine decides.
type Engine struct {
	cfg     Config
	store   store.Store
	metrics *metrics.Metrics
	zones   zones
	cache   *ttlcache.Cache[string, cachedAccount] // by account
}

type cachedAccount struct {
	policy  *store.Policy
	senders map[string]string // originator → status
	numbers map[string]bool   // numbers the account owns
	windows map[string]Window // quiet-hours windows that differ by country
	content []ContentRule     // the engine's rules with the account's overrides
}

// New makes an engine over st.
func New(cfg Config, st store.Store, m *metrics.Metrics) *Engine {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	if cfg.Content == nil {
		cfg.Content = DefaultContentRules()
	}
	e := &Engine{cfg: cfg, store: st, metrics: m}
	e.cache = ttlcache.New(cfg.CacheTTL, 10000, e.readAccount)
	return e
}

// Invalidate drops an account's cached policy and senders after a change.
func (e *Engine) Invalidate(accountID string) { e.cache.Delete(accountID) }

// account is what the engine knows of an account (cached).
func (e *Engine) account(ctx context.Context, accountID string) (cachedAccount, error) {
	return e.cache.Get(ctx, accountID)
}

func (e *Engine) readAccount(ctx context.Context, accountID string) (cachedAccount, error) {
	p, err := e.store.GetPolicy(ctx, accountID)
	if err != nil {
		return cachedAccount{}, fmt.Errorf("reading policy: %w", err)
	}
	senders, err := e.store.Senders(ctx, accountID)
	if err != nil {
		return cachedAccount{}, err
	}
	numbers, err := e.store.ListNumbers(ctx, accountID)
	if err != nil {
		return cachedAccount{}, err
	}
	c := cachedAccount{policy: p, senders: map[string]string{}, numbers: map[string]bool{}, content: e.cfg.Content}
	// Settings are validated when written; one that no longer parses (a
	// rule renamed since) falls back to the defaults.
	if c.windows, err = ParseCountryWindows(p.CountryWindows); err != nil {
		c.windows = nil
	}
	if p.ContentRules != "" {
		if rules, err := ApplyContentRules(e.cfg.Content, p.ContentRules); err == nil {
			c.content = rules
		}
	}
	for _, s := range senders {
		c.senders[s.Originator] = s.Status
	}
	for _, n := range numbers {
		c.numbers[n.Number] = true
	}
	return c, nil
}

// Policy is an account's policy (cached).
func (e *Engine) Policy(ctx context.Context, accountID string) (*store.Policy, error) {
	c, err := e.account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return c.policy, nil
}

// Check decides on a request.
func (e *Engine) Check(ctx context.Context, req Request) (Decision, error) {
	d, err := e.check(ctx, req)
	if err != nil {
		return d, err
	}
	rule := d.Rule
	if rule == "" {
		rule = "none"
	}
	e.metrics.Compliance.WithLabelValues(rule, string(d.Outcome)).Inc()
	return d, nil
}

func (e *Engine) check(ctx context.Context, req Request) (Decision, error) {
	acct, err := e.account(ctx, req.AccountID)
	if err != nil {
		return Decision{}, err
	}
	p := acct.policy
	purpose := req.Purpose
	if purpose == "" {
		purpose = p.DefaultPurpose
	}
	if purpose == "" {
		purpose = Transactional
	}
	decide := func(o Outcome, rule, reason, recipient string) (Decision, error) {
		return Decision{Outcome: o, Rule: rule, Reason: reason, Recipient: recipient, Purpose: purpose}, nil
	}
	// The platform's own answers to a keyword (a STOP confirmation) go even
	// from a suspended account: the recipient is owed them.
	if p.Suspended != "" && !req.Reply {
		return decide(Reject, "account.suspended", "the account is suspended: "+p.Suspended, "")
	}
	if purpose != Transactional && purpose != Marketing {
		return decide(Reject, "purpose", fmt.Sprintf("purpose %q: use transactional or marketing", purpose), "")
	}
	for _, c := range req.Categories {
		if !ValidCategory(c) {
			return decide(Reject, "category", fmt.Sprintf("category %q: use %s", c, strings.Join(Categories, ", ")), "")
		}
	}
	var sender string // a replacement originator, if one is needed
	rules := e.rules(req.Channel)
	if !req.Reply && rules.SenderIdentity {
		d, ok := e.checkSender(acct, req)
		if !ok {
			d.Purpose = purpose
			return d, nil
		}
		sender = d.Sender
	}
	allow := Decision{Outcome: Allow, Purpose: purpose, Sender: sender}
	decide = func(o Outcome, rule, reason, recipient string) (Decision, error) {
		return Decision{Outcome: o, Rule: rule, Reason: reason, Recipient: recipient, Purpose: purpose, Sender: sender}, nil
	}
	for _, r := range acct.content {
		if req.Reply {
			break // the platform's own text
		}
		if r.Match(req.Content) {
			return decide(r.Outcome, r.Name, r.Reason, "")
		}
	}
	// Recipients are decided one by one; refused ones drop out of the
	// checks that follow.
	var refused []Refusal
	out := make(map[int]bool, len(req.Recipients))
	refuse := func(i int, rule, reason string) {
		if !out[i] {
			out[i] = true
			refused = append(refused, Refusal{Index: i, Recipient: req.Recipients[i].Address, Rule: rule, Reason: reason, Code: RuleCode(rule)})
		}
	}
	addresses := make([]string, len(req.Recipients))
	for i, r := range req.Recipients {
		addresses[i] = r.Address
		if strings.Contains(r.Address, "@") {
			// Email addresses are recorded lowercased (ParseConsent).
			addresses[i] = strings.ToLower(r.Address)
		}
	}
	restricted := len(req.Categories) > 0
	var since time.Time
	if purpose == Marketing && acct.policy.SenderRelaxed == "" && !req.Reply {
		since = req.now().Add(-RotationWindow)
	}
	// Suppressions are per channel: an SMS opt-out does not stop email.
	channel := req.Channel
	if channel == "" {
		channel = message.ChannelSMS
	}
	sc, err := e.store.Screen(ctx, req.AccountID, channel, addresses, !req.Reply && (purpose == Marketing || restricted), since)
	if err != nil {
		return Decision{}, err
	}
	// A restriction stops everything, replies included.
	for i, a := range addresses {
		if id, ok := sc.Restricted[a]; ok {
			refuse(i, RulePrivacyRestricted, "processing of this recipient's data is restricted by data-subject request "+id)
		}
	}
	if !req.Reply {
		from := req.Sender
		if sender != "" {
			from = sender
		}
		for i, a := range addresses {
			if out[i] {
				continue
			}
			if purpose == Marketing || restricted {
				c, ok := sc.Latest[a]
				if !ok || c.Action != store.OptIn {
					refuse(i, "consent.opt_in", "marketing needs the recipient's opt-in, and there is none on record")
					continue
				}
				if restricted && !c.LegalAge {
					refuse(i, "consent.legal_age", "restricted categories need an opt-in that records the recipient is of legal age")
					continue
				}
			}
			// The account may let transactional messages reach recipients who
			// opted out; a manual or complaint entry stops everything.
			if why, ok := sc.Suppressed[a]; ok && (purpose == Marketing || why != store.OptOut || !p.TransactionalToOptedOut) {
				refuse(i, "suppression", "the recipient is on the account's suppression list ("+why+")")
				continue
			}
			// Screen lists only the registries that stop this kind of message.
			if reg, ok := sc.Listed[a]; ok && rules.Numbers {
				refuse(i, "dnd", "the number is on the do-not-disturb registry "+reg)
				continue
			}
			if used := sc.Originators[a]; purpose == Marketing && len(used) >= MaxMarketingSenders && !slices.Contains(used, from) {
				refuse(i, "sender.rotation", fmt.Sprintf(
					"the recipient had marketing from %d of the account's senders in the last %s; a new sender looks like rotating senders to evade filters",
					len(used), RotationWindow))
			}
		}
	}
	if rules.Check != nil && len(refused) < len(req.Recipients) {
		sub := req
		sub.Recipients = nil
		var index []int
		for i, r := range req.Recipients {
			if !out[i] {
				sub.Recipients = append(sub.Recipients, r)
				index = append(index, i)
			}
		}
		// The channel's rule judges with the purpose decided here, and reads
		// the account's policy as the engine has it (cached).
		sub.Purpose = purpose
		d, err := rules.Check(context.WithValue(ctx, accountKey{}, &acct), sub)
		if err != nil {
			return Decision{}, err
		}
		switch d.Outcome {
		case Reject, Hold, Defer:
			out, _ := decide(d.Outcome, d.Rule, d.Reason, d.Recipient)
			out.Until = d.Until
			return out, nil
		}
		for _, r := range d.Refused {
			if r.Index >= 0 && r.Index < len(index) {
				refuse(index[r.Index], r.Rule, r.Reason)
			}
		}
	}
	// Refusals in request order, so that the first one is the first
	// recipient's.
	slices.SortFunc(refused, func(a, b Refusal) int { return a.Index - b.Index })
	if len(refused) == len(req.Recipients) && len(refused) > 0 {
		return decide(Reject, refused[0].Rule, refused[0].Reason, refused[0].Recipient)
	}
	allow.Refused, decide = refused, func(o Outcome, rule, reason, recipient string) (Decision, error) {
		return Decision{Outcome: o, Rule: rule, Reason: reason, Recipient: recipient, Purpose: purpose, Sender: sender, Refused: refused}, nil
	}
	if rules.QuietHours && !req.Reply && !req.Urgent && (purpose == Marketing || restricted) {
		at := req.now()
		// Recipients with the same window and zones are judged once.
		var groups []windowGroup
		seen := map[string]bool{}
		var who string
		var whoWindow Window
		for i, r := range req.Recipients {
			if out[i] {
				continue
			}
			w, ok := acct.windows[r.Country]
			if !ok {
				w = Window{Start: p.WindowStart, End: p.WindowEnd}
			}
			locs := e.zones.forRecipient(r, rules.Numbers)
			key := w.String()
			for _, l := range locs {
				key += "|" + l.String()
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			groups = append(groups, windowGroup{w, locs})
			if who == "" && !inWindow(at, w, locs) {
				who, whoWindow = r.Address, w
			}
		}
		if who != "" {
			until := nextAllowedAll(at, groups)
			if until.IsZero() {
				reason := "no time of day is inside the allowed window in every zone of the number"
				if len(groups) > 1 {
					reason = "no time of day is inside the allowed window of every recipient; send to them separately"
				}
				return decide(Reject, "quiet_hours", reason, who)
			}
			d, _ := decide(Defer, "quiet_hours", "outside "+whoWindow.String()+" in the recipient's local time", who)
			d.Until = until
			return d, nil
		}
	}
	return allow, nil
}

// rules are a channel's rules: its own, or StrictRules.
func (e *Engine) rules(channel string) ChannelRules {
	if r, ok := e.cfg.Channels[channel]; ok {
		return r
	}
	return StrictRules
}

// checkSender enforces sender identity: an alphanumeric originator must be
// an approved sender of the account; a number must be one the account owns
// or has had approved (verified). An operator may relax this per account.
func (e *Engine) checkSender(acct cachedAccount, req Request) (Decision, bool) {
	if acct.policy.SenderRelaxed != "" {
		return Decision{}, true
	}
	s := strings.TrimPrefix(strings.TrimSpace(req.Sender), "+")
	numeric := s != "" && strings.Trim(s, "0123456789") == ""
	if acct.senders[s] == store.SenderApproved || (numeric && acct.numbers[s]) {
		if !numeric {
			for _, r := range req.Recipients {
				if !noAlphanumeric[r.Country] {
					continue
				}
				if fb := acct.policy.SenderFallback; fb != "" && acct.numbers[fb] {
					return Decision{Sender: fb}, true
				}
				return Decision{Outcome: Reject, Rule: "sender.country", Recipient: r.Address,
					Reason: "alphanumeric senders are not allowed in " + r.Country + "; send from a number the account owns, or set a fallback number"}, false
			}
		}
		return Decision{}, true
	}
	kind := "alphanumeric sender"
	if numeric {
		kind = "number"
	}
	return Decision{Outcome: Reject, Rule: "sender.identity",
		Reason: fmt.Sprintf("%s %q is not registered and approved for this account (register it, then an operator approves it)", kind, req.Sender)}, false
}

// noAlphanumeric are countries whose networks do not carry alphanumeric
// sender ids.
var noAlphanumeric = map[string]bool{"US": true, "CA": true, "PR": true, "CN": true}

// AlphanumericAllowed says whether an alphanumeric sender may send to a
// recipient in country (ISO 3166-1 alpha-2).
func AlphanumericAllowed(country string) bool { return !noAlphanumeric[country] }
