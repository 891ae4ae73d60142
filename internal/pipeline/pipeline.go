// Package pipeline is the one way into omnigate for a message, whichever
// door it came through (MessageBird REST today; SMPP, Twilio and
// Conversations later) and whichever channel it travels on. A door parses
// its wire format into a channel-neutral *message.Message; Accept completes
// it (ids, initial statuses; the channel's own preparation — SMS encoding
// and segments, email MIME … — through Config.Prepare), runs the stages
// every message passes — compliance and billing plug in here — and makes it
// durable with its dispatch job in a group-committed transaction. When
// Accept returns nil the message survives a crash.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
)

// Config tunes the accept path. Zero values mean the documented defaults.
type Config struct {
	// Prepare is the channel's preparation of a message (the channel
	// registry's): it checks the content fits the channel and sets each
	// recipient's PartCount and Length, or returns a *message.Invalid.
	// Required.
	Prepare func(m *message.Message) error
	// Commit tunes group commit; its MaxWeight counts recipients.
	Commit groupcommit.Config
	// Charger prices and charges messages; nil: messages are free.
	Charger Charger
	// Compliance decides on every outbound message before it is charged;
	// nil: no checks.
	Compliance Checker
	// Instruction is the opt-out instruction of a channel for a recipient
	// country ("" for none), appended to marketing messages of accounts that
	// ask for it.
	Instruction func(channel, country string) string
	// Log receives the pipeline's warnings.
	Log *slog.Logger
	// Reach, when set, is the check before sending (reach.go).
	Reach Reach
}

// Pipeline accepts messages.
type Pipeline struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	commits *groupcommit.Committer[*store.Accept]
	metrics *metrics.Metrics
	// onAccepted wakes the dispatcher after a commit.
	onAccepted func()
	// OnInbound, when set, wakes the inbound forwarder after an inbound
	// message is stored.
	OnInbound func()
	// OnBilling, when set, wakes the billing notifier after a commit that
	// queued usage alerts or automatic top-ups.
	OnBilling func()
	// Handoff, when set, runs the send jobs of messages due at once from
	// memory: they are stored leased to it and handed over once committed,
	// with no lease transaction and no read (see worker.Pool.Reserve). Set
	// it before the first Accept.
	Handoff Handoff

	mu    sync.RWMutex
	hooks []InboundHook
}

// InboundHook sees every inbound message once it is stored — the place
// where keyword handling (STOP, START, HELP) plugs in. An error is the
// hook's own affair: the message stays stored and forwarded.
type InboundHook func(ctx context.Context, m *message.Message) error

// AddInboundHook adds a hook; hooks run in the order added.
func (p *Pipeline) AddInboundHook(h InboundHook) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hooks = append(p.hooks, h)
}

// AcceptInbound stores a message received from a handset, mailbox or
// chat user (direction mo), queues it for the account's inbound URL and
// runs the inbound hooks. m needs AccountID, Channel, Originator (the
// sender), Body and one recipient (the address it was sent to);
// PrepareInbound fills in the rest. Hook errors are returned joined, after
// the message is stored.
func (p *Pipeline) AcceptInbound(ctx context.Context, m *message.Message) error {
	if err := p.PrepareInbound(m); err != nil {
		return err
	}
	if err := p.commits.Submit(ctx, &store.Accept{Message: m}, len(m.Recipients)+1); err != nil {
		return fmt.Errorf("accepting inbound message: %w", err)
	}
	return p.Inbound(ctx, m)
}

// PrepareInbound fills in an inbound message: id, times, the channel's
// preparation (coding, parts), statuses. Callers that store it themselves
// (reassembled parts) call Inbound once it is stored.
func (p *Pipeline) PrepareInbound(m *message.Message) error {
	now := time.Now().UTC()
	m.ID, m.CreatedAt, m.Direction = ids.New(), now, message.MO
	if err := p.cfg.Prepare(m); err != nil {
		return fmt.Errorf("preparing inbound message: %w", err)
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		r.Seq, r.Status, r.StatusAt = i, message.Delivered, now
	}
	return nil
}

// Inbound runs what follows a stored inbound message: metrics, waking the
// forwarder, the hooks.
func (p *Pipeline) Inbound(ctx context.Context, m *message.Message) error {
	p.metrics.Inbound.WithLabelValues(m.Channel).Inc()
	if p.OnInbound != nil {
		p.OnInbound()
	}
	p.mu.RLock()
	hooks := p.hooks
	p.mu.RUnlock()
	var errs []error
	for _, h := range hooks {
		if err := h(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return &HookError{Err: errors.Join(errs...)}
	}
	return nil
}

// HookError reports inbound hooks that failed after the message was stored:
// the message is safe, only the hooks' work is missing.
type HookError struct{ Err error }

func (e *HookError) Error() string { return "inbound hook: " + e.Err.Error() }

func (e *HookError) Unwrap() error { return e.Err }

// New starts a pipeline writing to st; onAccepted is called after each
// commit.
func New(cfg Config, st store.Store, m *metrics.Metrics, onAccepted func()) *Pipeline {
	if cfg.Prepare == nil {
		panic("pipeline: Config.Prepare is required")
	}
	if onAccepted == nil {
		onAccepted = func() {}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{cfg: cfg, log: cfg.Log, store: st, metrics: m, onAccepted: onAccepted}
	p.commits = groupcommit.New(cfg.Commit, p.flush)
	return p
}

// Stop writes what is queued and refuses more.
func (p *Pipeline) Stop(ctx context.Context) error { return p.commits.Stop(ctx) }

// Options says how to accept.
type Options struct {
	// Test accepts without storing, sending or charging: the message is
	// prepared and validated exactly as a live one and then dropped.
	Test bool
	// Urgent lets a message through quiet hours.
	Urgent bool
	// Reply marks the platform's own answer to a recipient's keyword.
	Reply bool
	// Fallback, when set, is stored with the message: sent on another
	// channel if the message is not delivered in time (see fallback.go).
	Fallback *Fallback
	// ID, when set, is the message's id instead of a new one: the id a
	// door answered before the message was whole (the SMPP server answers
	// each part of a long message with it). A message already stored under
	// it makes the accept fail (the store's duplicate key); the door checks
	// for it.
	ID string
	// fallbackOf makes the message the fallback of another (FireFallbacks).
	fallbackOf *store.FallbackClaim
}

// Accept prepares m and, unless opts.Test, stores it durably. On return m
// holds what was accepted (id, statuses, segments).
//
// A message the account cannot pay for (store.ErrInsufficientBalance), that
// a blocking usage limit stops (*store.LimitError) or that has no price
// (*billing.NoPriceError) is refused with that error and nothing is stored.
func (p *Pipeline) Accept(ctx context.Context, m *message.Message, opts Options) error {
	now := time.Now().UTC()
	if err := p.prepare(m, now); err != nil {
		return err
	}
	if opts.fallbackOf != nil {
		m.ID = opts.fallbackOf.ID // answered when the first message was accepted
	} else if opts.ID != "" {
		m.ID = opts.ID
	}
	var hold *store.Review
	if p.cfg.Compliance != nil {
		var err error
		if hold, err = p.comply(ctx, m, opts, now); err != nil {
			return err
		}
	}
	if p.cfg.Reach != nil && !opts.Test {
		if err := p.reach(ctx, m, now); err != nil {
			return err
		}
	}
	it := &store.Accept{Message: m}
	if p.cfg.Charger != nil {
		var err error
		if it, err = p.cfg.Charger.Charge(ctx, m); err != nil {
			return err
		}
	}
	if opts.Test {
		return nil // priced like a live message, never stored or charged
	}
	it.Hold = hold
	var err error
	if it.Fallback, it.FallbackOf, err = p.fallbackItems(m, opts); err != nil {
		return err
	}
	if err := p.submit(ctx, it, opts.ID != ""); err != nil {
		return fmt.Errorf("accepting message: %w", err)
	}
	if it.Err != nil {
		p.metrics.Refused.WithLabelValues(m.Channel, refusal(it.Err)).Inc()
		return it.Err
	}
	p.metrics.Accepted.WithLabelValues(m.Channel).Add(float64(len(m.Recipients)))
	return nil
}

// Replace puts m, a stored message changed by its door (body, schedule,
// validity, report URL), in the place of the stored one with its id
// (SMPP's replace_sm): it is prepared, checked by compliance and priced as
// a new message would be, and store.ReplaceScheduled charges the
// difference. m keeps its ID and CreatedAt. The store's ErrNotFound and
// ErrConflict (sending has started, or it is held for review) and the
// refusals of Accept are returned; nothing changes then.
func (p *Pipeline) Replace(ctx context.Context, m *message.Message, opts Options) error {
	now := time.Now().UTC()
	if len(m.Recipients) == 0 || m.ID == "" {
		return errors.New("pipeline: replacing a message without id or recipients")
	}
	if !m.ScheduledAt.IsZero() && !m.ScheduledAt.After(now) {
		m.ScheduledAt = time.Time{}
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		r.Price, r.PriceCurrency, r.StatusErrorCode, r.Connector = 0, "", 0, ""
	}
	if err := p.segment(m, now); err != nil {
		return err
	}
	var hold *store.Review
	if p.cfg.Compliance != nil {
		var err error
		if hold, err = p.comply(ctx, m, opts, now); err != nil {
			return err
		}
	}
	// Recipients compliance refused end at the message's creation, as at
	// accept: that is how the store tells them from recipients that were
	// sent and failed (see store.Messages.CancelScheduled).
	for i := range m.Recipients {
		if r := &m.Recipients[i]; r.Status.Final() {
			r.StatusAt = m.CreatedAt
		}
	}
	it := &store.Accept{Message: m}
	if p.cfg.Charger != nil {
		var err error
		if it, err = p.cfg.Charger.Charge(ctx, m); err != nil {
			return err
		}
	}
	it.Hold = hold
	if err := p.store.ReplaceScheduled(ctx, it); err != nil {
		return err
	}
	p.onAccepted()
	if (len(it.Alerts) > 0 || it.TopUp != nil) && p.OnBilling != nil {
		p.OnBilling()
	}
	return nil
}

// refusal names why billing refused a message, for metrics.
func refusal(err error) string {
	var le *store.LimitError
	if errors.As(err, &le) {
		return "usage_limit"
	}
	if errors.Is(err, store.ErrConflict) {
		return "fallback_claim" // another runner sent the fallback (fallback.go)
	}
	return "balance"
}

// comply runs the compliance engine: a rejection of the whole message is
// returned (and recorded); recipients refused alone end at once, failed
// with the rule as their reason and code, uncharged; a deferral schedules
// the message; a hold is returned for the review queue; marketing may get
// the opt-out instruction appended.
func (p *Pipeline) comply(ctx context.Context, m *message.Message, opts Options, now time.Time) (*store.Review, error) {
	req := compliance.Request{AccountID: m.AccountID, Channel: m.Channel, Sender: m.Originator, Purpose: m.Purpose,
		Categories: m.Categories, Content: compliance.MessageText(m), Time: m.SendAt(), Urgent: opts.Urgent, Reply: opts.Reply, Type: string(m.Type)}
	for _, r := range m.Recipients {
		req.Recipients = append(req.Recipients, compliance.Recipient{Address: r.Address, Country: r.Country, TimeZone: r.TimeZone})
	}
	d, err := p.cfg.Compliance.Check(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("compliance: %w", err)
	}
	m.Purpose = d.Purpose
	var decisions []store.Decision
	record := func() {
		decisions = append(decisions, store.Decision{AccountID: m.AccountID, MessageID: m.ID, Recipient: d.Recipient,
			Rule: d.Rule, Outcome: string(d.Outcome), Reason: d.Reason, CreatedAt: now})
	}
	defer func() {
		if len(decisions) == 0 || opts.Test {
			return
		}
		if err := p.store.RecordDecisions(ctx, decisions); err != nil {
			p.log.Warn("compliance: recording a decision", "rule", decisions[0].Rule, "err", err)
		}
	}()
	switch d.Outcome {
	case compliance.Reject:
		record()
		return nil, &compliance.Rejection{Decision: d}
	case compliance.Defer:
		record()
		m.ScheduledAt = d.Until
		m.Compliance = "deferred by " + d.Rule + " until " + d.Until.Format(time.RFC3339)
	case compliance.Hold:
		record()
		m.Compliance = "held for review by " + d.Rule
	default:
		m.Compliance = "allowed as " + d.Purpose
	}
	for _, r := range d.Refused {
		decisions = append(decisions, store.Decision{AccountID: m.AccountID, MessageID: m.ID, Recipient: r.Recipient,
			Rule: r.Rule, Outcome: string(compliance.Reject), Reason: r.Reason, CreatedAt: now})
	}
	if len(d.Refused) > 0 {
		m.Compliance += fmt.Sprintf("; %d of %d recipients refused", len(d.Refused), len(m.Recipients))
	}
	if d.Sender != "" {
		decisions = append(decisions, store.Decision{AccountID: m.AccountID, MessageID: m.ID, Rule: "sender.country", Outcome: "replace",
			Reason: "sender " + m.Originator + " replaced by " + d.Sender + ": alphanumeric senders are not carried in a recipient's country", CreatedAt: now})
		m.Compliance += "; sender " + m.Originator + " replaced by " + d.Sender + " (sender.country)"
		m.Originator = d.Sender
	}
	if d.Purpose == compliance.Marketing && p.cfg.Instruction != nil && len(m.Recipients) > 0 {
		if pol, err := p.cfg.Compliance.Policy(ctx, m.AccountID); err == nil && pol.OptOutInstruction {
			if text := p.cfg.Instruction(m.Channel, m.Recipients[0].Country); text != "" && !strings.Contains(m.Body, text) {
				m.Body += "\n" + text // counted in the parts and the price
			}
		}
	}
	if err := p.segment(m, now); err != nil {
		return nil, err
	}
	var review *store.Review
	if d.Outcome == compliance.Hold {
		// Waiting for an operator, like a scheduled message waits for its time.
		for i := range m.Recipients {
			m.Recipients[i].Status, m.Recipients[i].StatusAt = message.Scheduled, time.Time{}
		}
		review = &store.Review{Rule: d.Rule, Reason: d.Reason}
	}
	for _, r := range d.Refused {
		rc := &m.Recipients[r.Index]
		rc.Status, rc.StatusAt = message.DeliveryFailed, now
		rc.StatusReason, rc.StatusErrorCode = "refused by compliance rule "+r.Describe(), r.Code
	}
	return review, nil
}

// Checker is the compliance engine as the pipeline uses it.
type Checker interface {
	Check(ctx context.Context, r compliance.Request) (compliance.Decision, error)
	Policy(ctx context.Context, accountID string) (*store.Policy, error)
}

// Charger prices messages and returns them ready to be charged.
type Charger interface {
	Charge(ctx context.Context, m *message.Message) (*store.Accept, error)
}

// Handoff takes send jobs in memory: a dispatcher's worker pool.
type Handoff interface {
	Reserve(n int) (taken int, owner string, lease time.Duration)
	Unreserve(n int)
	Run(jobs []*store.Job)
}

func (p *Pipeline) flush(ctx context.Context, items []*store.Accept) error {
	reserved := p.reserve(items)
	err := p.store.AcceptCharged(ctx, items)
	if err != nil && p.committedAnyway(items) {
		p.log.Warn("accept batch failed at its commit but is stored; answered as accepted", "messages", len(items), "err", err)
		err = nil
	}
	left := p.handOver(items, reserved, err == nil)
	if err != nil {
		return err
	}
	rows, billing := 0, false
	for _, it := range items {
		rows += len(it.Message.Recipients) + 1
		billing = billing || len(it.Alerts) > 0 || it.TopUp != nil
	}
	p.metrics.CommitBatch.WithLabelValues("accept").Observe(float64(rows))
	if left {
		p.onAccepted()
	}
	if billing && p.OnBilling != nil {
		p.OnBilling()
	}
	return nil
}

// submit stores it: in a shared batch, or, for a message under an id its
// door chose (preset), in a transaction of its own. A preset id may be
// stored already (the SMPP server's long message completed twice, on two
// nodes or by the sweep and its last part at once); in a batch its
// duplicate key would fail every message of the batch, and committedAnyway
// would find the earlier message under it and answer them all as
// accepted. Alone, the duplicate fails only itself, and committedAnyway
// answers it as stored, which it is.
func (p *Pipeline) submit(ctx context.Context, it *store.Accept, preset bool) error {
	if !preset {
		return p.commits.Submit(ctx, it, len(it.Message.Recipients)+1)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), presetTimeout)
	defer cancel()
	return p.flush(ctx, []*store.Accept{it})
}

// presetTimeout bounds the transaction of a message under a preset id, as
// groupcommit bounds a batch's.
const presetTimeout = 30 * time.Second

// committedAnyway says whether a batch whose AcceptCharged failed was
// stored all the same: a commit whose answer was lost (its deadline hit
// while PostgreSQL committed) looks like a failure. Retried, item by item,
// such a batch would fail on its own rows (a duplicate message id) or be
// charged twice; answered as failed, its messages would go out while their
// senders are told they did not. One transaction writes every item not
// refused, so the first of them being stored means all were, with the
// outcomes (Err, Job, alerts) the items hold. The read has its own
// deadline: the batch's may be spent.
func (p *Pipeline) committedAnyway(items []*store.Accept) bool {
	for _, it := range items {
		if it.Err != nil || it.Message == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		account, err := p.store.MessageAccount(ctx, it.Message.ID)
		return err == nil && account == it.Message.AccountID
	}
	return false
}

// reserve takes handoff slots for the items due at once (not held, not
// scheduled or deferred) and marks as many of them to be stored leased.
func (p *Pipeline) reserve(items []*store.Accept) int {
	for _, it := range items {
		it.Lease, it.Job = nil, nil
	}
	if p.Handoff == nil {
		return 0
	}
	now := time.Now()
	due := make([]*store.Accept, 0, len(items))
	for _, it := range items {
		if it.Hold == nil && !it.Message.SendAt().After(now) {
			due = append(due, it)
		}
	}
	if len(due) == 0 {
		return 0
	}
	n, owner, lease := p.Handoff.Reserve(len(due))
	l := &store.Lease{Kind: store.JobSend, Owner: owner, For: lease}
	for _, it := range due[:n] {
		it.Lease = l
	}
	return n
}

// handOver runs the jobs stored leased, once committed, and gives back the
// slots left unused; it says whether any stored message was left for the
// dispatcher to find.
func (p *Pipeline) handOver(items []*store.Accept, reserved int, committed bool) (left bool) {
	var jobs []*store.Job
	for _, it := range items {
		switch {
		case !committed || it.Err != nil:
		case it.Job == nil:
			left = true
		default:
			// The dispatcher gets its own copy: the caller of Accept still
			// reads the message.
			j, m := *it.Job, *it.Message
			m.Recipients = slices.Clone(m.Recipients)
			j.Message = &m
			jobs = append(jobs, &j)
		}
	}
	if reserved > len(jobs) {
		p.Handoff.Unreserve(reserved - len(jobs))
	}
	if len(jobs) > 0 {
		p.Handoff.Run(jobs)
	}
	return left
}

// prepare fills in everything that follows from the request: id, times,
// the channel's preparation and initial statuses.
func (p *Pipeline) prepare(m *message.Message, now time.Time) error {
	if len(m.Recipients) == 0 {
		return errors.New("pipeline: message without recipients")
	}
	m.ID = ids.New()
	m.CreatedAt = now
	if m.Direction == "" {
		m.Direction = message.MT
	}
	if !m.ScheduledAt.IsZero() && !m.ScheduledAt.After(now) {
		m.ScheduledAt = time.Time{} // a time in the past means now
	}
	return p.segment(m, now)
}

// segment runs the channel's preparation and sets the initial statuses; it
// runs again when compliance appends to the body or defers the message.
func (p *Pipeline) segment(m *message.Message, now time.Time) error {
	if err := p.cfg.Prepare(m); err != nil {
		return err
	}
	status, statusAt := message.Sent, now
	if !m.ScheduledAt.IsZero() {
		status, statusAt = message.Scheduled, time.Time{}
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		r.Seq = i
		r.Status, r.StatusAt = status, statusAt
		r.StatusReason = ""
	}
	return nil
}
