package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Fallback is a message's fallback to another channel, as a door asks for
// it (Options.Fallback): Message is sent, as a new message with id ID, if
// the first one is not delivered (or read) within After of its
// acceptance.
//
// It is stored with the first message, in the same commit, and fired by
// FireFallbacks on whichever node gets to it first: a claim (a conditional
// update) makes one runner decide, and the fallback message is written in
// the commit that marks the fallback sent, so it is sent once. When it
// fires, the first message is cancelled (and refunded) if it has not left
// for its platform yet; one that has left stays, and its later delivery
// changes nothing. Compliance and billing of the fallback's channel apply
// when it fires; a refusal is recorded on the first message.
type Fallback struct {
	// ID is the fallback message's id; NewFallbackID makes one.
	ID string
	// ChannelID names the fallback channel (the door's), shown with the
	// first message.
	ChannelID string
	After     time.Duration
	// Message is the fallback message as the door built it, checked with
	// Check; its recipients are the first message's.
	Message *message.Message
}

// NewFallbackID is a fresh message id for a Fallback.
func NewFallbackID() string { return ids.New() }

// Claims and batches of FireFallbacks.
const (
	// FallbackClaimFor is how long a runner holds a fallback it claimed:
	// long enough to decide and accept the fallback message; a runner that
	// dies leaves it to another after this.
	FallbackClaimFor = time.Minute
	fallbackBatch    = 100
)

// Check runs the channel's preparation on a copy of m, so that a door can
// refuse a message that will only be accepted later (a fallback) with the
// same *message.Invalid an Accept would give.
func (p *Pipeline) Check(m *message.Message) error {
	c := *m
	c.Recipients = slices.Clone(m.Recipients)
	return p.cfg.Prepare(&c)
}

// fallbackItems is what an Accept stores about fallbacks: the fallback of
// m, or the claim m is the fallback under.
func (p *Pipeline) fallbackItems(m *message.Message, opts Options) (*store.Fallback, *store.FallbackClaim, error) {
	if opts.fallbackOf != nil {
		return nil, opts.fallbackOf, nil
	}
	f := opts.Fallback
	if f == nil {
		return nil, nil, nil
	}
	fm := *f.Message
	fm.ID, fm.AccountID, fm.CreatedAt = "", m.AccountID, time.Time{}
	fm.Details.FallbackOf = m.ID
	fm.Recipients = make([]message.Recipient, len(m.Recipients))
	for i, r := range m.Recipients {
		fm.Recipients[i] = message.Recipient{Address: r.Address}
	}
	spec, err := json.Marshal(&fm)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding a fallback: %w", err)
	}
	return &store.Fallback{AccountID: m.AccountID, MessageID: m.ID, FallbackID: f.ID, ChannelID: f.ChannelID, Spec: spec,
		DueAt: m.CreatedAt.Add(f.After), State: store.FallbackWaiting}, nil, nil
}

// FallbackOutcome counts what a FireFallbacks pass did.
type FallbackOutcome struct {
	Sent, Skipped, Refused, Cancelled int
}

// FireFallbacks fires the fallbacks due at now, claiming each for owner (a
// name unique to this runner): a message delivered in time is left alone;
// otherwise the fallback message is accepted (compliance and billing of its
// channel) and the first message cancelled where it has not left yet.
// Several runners, on one node or several, may call it at once.
func (p *Pipeline) FireFallbacks(ctx context.Context, owner string, now time.Time) (FallbackOutcome, error) {
	var out FallbackOutcome
	due, err := p.store.DueFallbacks(ctx, now, fallbackBatch)
	if err != nil {
		return out, err
	}
	var errs []error
	for _, f := range due {
		if err := p.fire(ctx, owner, f, now, &out); err != nil {
			errs = append(errs, fmt.Errorf("fallback of %s: %w", f.MessageID, err))
		}
	}
	return out, errors.Join(errs...)
}

// fire decides one due fallback.
func (p *Pipeline) fire(ctx context.Context, owner string, f store.Fallback, now time.Time, out *FallbackOutcome) error {
	c, err := p.store.ClaimFallback(ctx, f.AccountID, f.MessageID, owner, now, now.Add(FallbackClaimFor))
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return nil // another runner has it
	}
	if err != nil {
		return err
	}
	settle := func(state, reason string) error {
		err := p.store.SettleFallback(ctx, c.AccountID, c.MessageID, owner, state, reason, time.Now().UTC())
		if errors.Is(err, store.ErrConflict) {
			return nil // our claim ran out and another runner took over
		}
		if err == nil && state == store.FallbackSkipped {
			out.Skipped++
		} else if err == nil {
			out.Refused++
		}
		return err
	}
	first, err := p.store.GetMessage(ctx, c.AccountID, c.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return settle(store.FallbackSkipped, "the message is gone (erased or deleted)")
	}
	if err != nil {
		return err
	}
	if delivered(first) {
		return settle(store.FallbackSkipped, "delivered in time")
	}
	if first.Body == "" && first.Content == nil {
		// Redacted (RedactMessage): its copy is not sent on either.
		return settle(store.FallbackSkipped, "the message was redacted")
	}
	var fm message.Message
	if err := json.Unmarshal(c.Spec, &fm); err != nil {
		return settle(store.FallbackRefused, "the stored fallback is unreadable")
	}
	err = p.Accept(ctx, &fm, Options{fallbackOf: &store.FallbackClaim{AccountID: c.AccountID, MessageID: c.MessageID, Owner: owner, ID: c.FallbackID}})
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil // our claim ran out and another runner took over
	case err != nil:
		reason := refusalReason(err)
		if reason == "" {
			return err // not a refusal: the claim runs out and it is tried again
		}
		return settle(store.FallbackRefused, reason)
	}
	out.Sent++
	n, err := p.store.CancelForFallback(ctx, c.AccountID, c.MessageID, store.CancelledForFallback(c.FallbackID), time.Now().UTC())
	out.Cancelled += n
	return err
}

// delivered reports whether every recipient of m was delivered (a read
// message was delivered first).
func delivered(m *message.Message) bool {
	for _, r := range m.Recipients {
		if r.Status != message.Delivered {
			return false
		}
	}
	return len(m.Recipients) > 0
}

// refusalReason says why an Accept refused a message for good ("" for an
// error worth trying again).
func refusalReason(err error) string {
	var rej *compliance.Rejection
	var inv *message.Invalid
	var le *store.LimitError
	switch {
	case errors.As(err, &rej):
		return rej.Error()
	case errors.As(err, &inv):
		return "the fallback channel refused the message: " + inv.Error()
	case errors.Is(err, store.ErrInsufficientBalance):
		return "insufficient balance for the fallback message"
	case errors.As(err, &le):
		return "a usage limit stops the fallback message: " + le.Error()
	case errors.Is(err, billing.ErrNoPrice):
		return "the fallback message has no price: " + err.Error()
	}
	return ""
}
