// Package inbound receives what carriers send on their own — delivery
// receipts and messages from handsets — and makes it durable: receipts are
// group-committed against the parts they are about; inbound messages are
// routed to the account owning the destination number, reassembled when
// concatenated, stored and handed to the pipeline's inbound hooks.
package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// Receiver implements channel.Receiver.
type Receiver struct {
	store     store.Store
	pipeline  *pipeline.Pipeline
	metrics   *metrics.Metrics
	onReports func()
	log       *slog.Logger
	receipts  *groupcommit.Committer[store.Receipt]
	touched   sync.Map // number → time.Time of the last traffic recorded
	// Reports, when set, takes the status reports that receipts queue in
	// memory: they are stored leased to it and handed over once
	// committed, which saves the report sender a transaction to lease
	// them (store.Receipts.ApplyReceiptsLeased). Set it before the first
	// receipt.
	Reports Handoff
}

// Handoff takes jobs in memory: the webhook sender's report pool
// (worker.Pool's Reserve, Unreserve and Run).
type Handoff interface {
	Reserve(n int) (taken int, owner string, lease time.Duration)
	Unreserve(n int)
	Run(jobs []*store.Job)
}

var _ channel.Receiver = (*Receiver)(nil)

// New makes a Receiver; onReports is called after receipts queued status
// reports (store.ReceiptOutcome.Reported).
func New(st store.Store, p *pipeline.Pipeline, m *metrics.Metrics, commit groupcommit.Config, onReports func(), log *slog.Logger) *Receiver {
	if onReports == nil {
		onReports = func() {}
	}
	r := &Receiver{store: st, pipeline: p, metrics: m, onReports: onReports, log: log}
	r.receipts = groupcommit.New(commit, r.flushReceipts)
	return r
}

// Stop commits queued receipts and refuses more.
func (r *Receiver) Stop(ctx context.Context) error { return r.receipts.Stop(ctx) }

// Receipt records one delivery receipt, batched with concurrent ones.
func (r *Receiver) Receipt(ctx context.Context, rc store.Receipt) error {
	return r.receipts.Submit(ctx, rc, 1)
}

func (r *Receiver) flushReceipts(ctx context.Context, rs []store.Receipt) error {
	var lease *store.Lease
	if r.Reports != nil {
		// A receipt queues a report at most, and a WhatsApp read its
		// event's too: those beyond the slots are queued for the sender
		// to lease.
		if n, owner, d := r.Reports.Reserve(len(rs)); n > 0 {
			lease = &store.Lease{Kind: store.JobReport, N: n, Owner: owner, For: d}
		}
	}
	outs, leased, queued, err := r.store.ApplyReceiptsLeased(ctx, rs, lease)
	if lease != nil {
		if lease.N > len(leased) {
			r.Reports.Unreserve(lease.N - len(leased))
		}
		if len(leased) > 0 {
			r.Reports.Run(leased)
		}
	}
	if err != nil {
		return err
	}
	for i, o := range outs {
		result := "matched"
		if !o.Matched {
			result = "pending"
		}
		r.metrics.Receipts.WithLabelValues(rs[i].Connector, result).Inc()
		if o.Changed && o.Status.Final() {
			r.metrics.Statuses.WithLabelValues(rs[i].Channel, rs[i].Connector, string(o.Status)).Inc()
		}
	}
	r.metrics.CommitBatch.WithLabelValues("receipts").Observe(float64(len(rs)))
	if queued > 0 {
		// Only for reports left queued: an idle report sender that wakes
		// leases nothing, in a write of its own, and reports handed over
		// need no waking.
		r.onReports()
	}
	return nil
}

// Inbound stores a message from a handset for the account owning the
// destination number.
func (r *Receiver) Inbound(ctx context.Context, in channel.Inbound) error {
	dest := digits(in.Destination)
	owner, err := r.store.NumberOwner(ctx, dest)
	if err != nil {
		return err // store.ErrNotFound: nobody has the number
	}
	if refused, err := r.refused(ctx, dest, owner, in.Channel); refused || err != nil {
		return err
	}
	m := &message.Message{AccountID: owner, Channel: in.Channel, Originator: digits(in.Source), Type: in.Type, Content: in.Content}
	m.Details.Endpoint = in.Endpoint
	rcpt := message.Recipient{Address: dest}
	if n, err := phone.Parse(dest); err == nil {
		rcpt.Country, rcpt.CountryPrefix = n.Country, n.CountryPrefix
	}
	m.Recipients = []message.Recipient{rcpt}
	if in.Total <= 1 {
		m.Body = in.Text
		err := r.pipeline.AcceptInbound(ctx, m)
		var hookErr *pipeline.HookError
		if errors.As(err, &hookErr) {
			r.log.Warn("inbound: hook failed", "message", m.ID, "err", err)
			return nil // stored: the carrier must not resend it
		}
		return err
	}
	stored, err := r.store.AddInboundPart(ctx, store.InboundPart{
		Connector: in.Connector, Source: m.Originator, Destination: dest,
		Ref: in.Ref, Total: in.Total, Part: in.Part, Body: in.Text, ReceivedAt: time.Now().UTC(),
	}, func(bodies []string) (*message.Message, error) {
		m.Body = strings.Join(bodies, "")
		return m, r.pipeline.PrepareInbound(m)
	})
	if err != nil {
		return fmt.Errorf("storing inbound part: %w", err)
	}
	if stored != nil {
		if err := r.pipeline.Inbound(ctx, stored); err != nil {
			r.log.Warn("inbound: hook failed", "message", stored.ID, "err", err)
		}
	}
	return nil
}

// refused drops inbound to a number of a suspended account (NUM-3) with a
// line in the number's history, and otherwise records traffic on the
// number (for reclamation, NUM-4) at most once an hour per node.
func (r *Receiver) refused(ctx context.Context, number, owner, ch string) (bool, error) {
	p, err := r.store.GetPolicy(ctx, owner)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	now := time.Now().UTC()
	if p != nil && p.Suspended != "" {
		r.log.Info("inbound: dropped, the number's account is suspended", "number", number, "account", owner, "channel", ch)
		return true, r.store.AddNumberEvent(ctx, store.NumberEvent{Number: number, AccountID: owner, Event: store.NumberInboundRefused,
			Detail: ch + " message dropped: account suspended: " + p.Suspended, Actor: "inbound", CreatedAt: now})
	}
	if last, ok := r.touched.Load(number); ok && now.Sub(last.(time.Time)) < time.Hour {
		return false, nil
	}
	if err := r.store.TouchNumber(ctx, number, now); err != nil {
		r.log.Warn("inbound: recording traffic on a number", "number", number, "err", err)
		return false, nil
	}
	r.touched.Store(number, now)
	return false, nil
}

// digits strips "+" and formatting from an address.
func digits(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "+"))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
}

var _ channel.TemplateReceiver = (*Receiver)(nil)

// TemplateStatus records a provider's review of a template in the
// registry (store.WATemplates); a review of a template the registry does
// not have is acknowledged and dropped.
func (r *Receiver) TemplateStatus(ctx context.Context, t channel.TemplateStatus) error {
	status := t.Status
	switch status {
	case "FLAGGED":
		return nil // a warning: the template is still approved until paused
	case "REINSTATED":
		status = store.TemplateApproved
	case "PENDING_DELETION", "DELETED":
		status = store.TemplateDisabled
	}
	n, err := r.store.ReviewWATemplates(ctx, store.TemplateReview{WABAID: t.Account, ProviderID: t.ProviderID,
		Name: t.Name, Language: t.Language, Status: status, Reason: t.Reason})
	if err != nil {
		return fmt.Errorf("recording template review: %w", err)
	}
	if n == 0 {
		r.log.Info("template review of a template the registry does not have; dropped", "connector", t.Connector, "template", t.Name)
	}
	return nil
}
