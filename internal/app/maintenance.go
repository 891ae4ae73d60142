package app

import (
	"context"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// How long unmatched things are kept.
const (
	pendingReceiptTTL = time.Hour      // a receipt that matched no part
	inboundPartTTL    = 24 * time.Hour // a part of a message whose other parts never came
	maintenanceEvery  = time.Minute
)

// startMaintenance purges what can no longer be matched, suspends
// accounts whose proof-of-consent cases expired and ends the wait of
// recipients whose receipt never came, every MaintenanceEvery (a minute)
// until the returned channel is closed.
func (a *App) startMaintenance() chan struct{} {
	stop := make(chan struct{})
	a.background(func() { every(a.cfg.MaintenanceEvery, stop, a.maintain) })
	a.background(func() { every(foldCountsEvery, stop, a.foldCounts) }) // console.go
	return stop
}

func (a *App) maintain() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now()
	if n, err := a.store.PurgePendingReceipts(ctx, now.Add(-pendingReceiptTTL)); err != nil {
		a.log.Warn("maintenance: purging receipts", "err", err)
	} else if n > 0 {
		a.log.Info("maintenance: dropped receipts that matched no message part", "receipts", n)
	}
	if n, err := a.store.PurgeInboundParts(ctx, now.Add(-inboundPartTTL)); err != nil {
		a.log.Warn("maintenance: purging inbound parts", "err", err)
	} else if n > 0 {
		a.log.Info("maintenance: dropped parts of inbound messages that never completed", "parts", n)
	}
	if !a.cfg.APIOnly {
		a.settleSilent(ctx, now)
		a.expireAwaiting(ctx, now)
	}
	a.syncWATemplates(ctx, false)
	if _, err := a.store.PurgeMarketingSenders(ctx, now.Add(-compliance.RotationWindow)); err != nil {
		a.log.Warn("maintenance: purging marketing senders", "err", err)
	}
	a.maintainNumbers(ctx)
	a.maintainPush(ctx, now)
	a.maintainPrivacy(ctx)
	a.maintainSubscriptions(ctx)
	a.sealClearMessages(ctx)
	a.maintainConsole(ctx, now)
	if cases, err := a.desk.ExpireCases(ctx, now); err != nil {
		a.log.Warn("maintenance: expiring proof cases", "err", err)
	} else {
		for _, c := range cases {
			a.log.Warn("compliance: account suspended, no proof of consent in time", "account", c.AccountID, "case", c.ID)
		}
		if len(cases) > 0 {
			a.notifier.Notify()
		}
	}
}

// ReasonNoReceipt is the statusReason of a recipient that a carrier took
// but whose receipt never came: after its deadline (its validity, or 48
// hours without one) and Config.ReceiptGrace it is expired with it.
const ReasonNoReceipt = "DLR not received"

// Bounds of one pass over recipients awaiting receipts.
const (
	awaitingBatch  = 500
	awaitingPasses = 20
)

// expireAwaiting makes recipients still sent or buffered past their
// deadline and the grace expired, with ReasonNoReceipt and a status report
// where the message or account has a report URL. A receipt that comes
// later does not change them (statuses only move forward). Several nodes
// may do it at once: each recipient changes, and is reported, once.
func (a *App) expireAwaiting(ctx context.Context, now time.Time) {
	expired := 0
	for pass := 0; pass < awaitingPasses; pass++ {
		list, err := a.store.AwaitingReceipt(ctx, now.Add(-a.cfg.ReceiptGrace), awaitingBatch)
		if err != nil {
			a.log.Warn("maintenance: listing recipients awaiting receipts", "err", err)
			return
		}
		if len(list) == 0 {
			break
		}
		out := &store.Outcome{Updates: make([]store.StatusUpdate, len(list))}
		for i, w := range list {
			st, reason := message.Expired, ReasonNoReceipt
			if sp, ok := a.channels.Channel(w.Channel); ok && sp.Silence != nil {
				// A channel whose silence means something says what.
				st, reason = sp.Silence.Status, sp.Silence.Reason
			}
			out.Updates[i] = store.StatusUpdate{AccountID: w.AccountID, MessageID: w.MessageID, Seq: w.Seq, Status: st,
				Reason: reason, At: now.UTC(), Channel: w.Channel, Notify: w.Notify}
		}
		if err := a.store.Finish(ctx, []*store.Outcome{out}); err != nil {
			a.log.Warn("maintenance: expiring recipients whose receipt never came", "err", err)
			return
		}
		for i, u := range out.Updates {
			if u.Applied {
				expired++
				a.metrics.Statuses.WithLabelValues(u.Channel, list[i].Connector, string(u.Status)).Inc()
			}
		}
		if len(list) < awaitingBatch {
			break
		}
	}
	if expired > 0 {
		a.log.Info("maintenance: expired recipients whose receipt never came", "recipients", expired, "grace", a.cfg.ReceiptGrace)
		a.webhooks.Notify()
	}
}

// settleSilent gives recipients of channels with a Silence rule (email:
// delivered when no bounce came within the settle window) that status
// once they have been sent for the rule's After. A bounce that comes
// later is still recorded as an event; the status only moves forward.
func (a *App) settleSilent(ctx context.Context, now time.Time) {
	for _, name := range a.channels.Channels() {
		sp, _ := a.channels.Channel(name)
		if sp.Silence == nil {
			continue
		}
		settled := 0
		for pass := 0; pass < awaitingPasses; pass++ {
			list, err := a.store.Silent(ctx, name, now.Add(-sp.Silence.After), awaitingBatch)
			if err != nil {
				a.log.Warn("maintenance: listing silent recipients", "channel", name, "err", err)
				return
			}
			if len(list) == 0 {
				break
			}
			out := &store.Outcome{Updates: make([]store.StatusUpdate, len(list))}
			for i, w := range list {
				out.Updates[i] = store.StatusUpdate{AccountID: w.AccountID, MessageID: w.MessageID, Seq: w.Seq, Status: sp.Silence.Status,
					Reason: sp.Silence.Reason, At: now.UTC(), Channel: w.Channel, Notify: w.Notify}
			}
			if err := a.store.Finish(ctx, []*store.Outcome{out}); err != nil {
				a.log.Warn("maintenance: settling silent recipients", "channel", name, "err", err)
				return
			}
			for i, u := range out.Updates {
				if u.Applied {
					settled++
					a.metrics.Statuses.WithLabelValues(u.Channel, list[i].Connector, string(u.Status)).Inc()
				}
			}
			if len(list) < awaitingBatch {
				break
			}
		}
		if settled > 0 {
			a.log.Info("maintenance: recipients settled after silence", "channel", name, "recipients", settled,
				"status", sp.Silence.Status, "after", sp.Silence.After)
			a.webhooks.Notify()
		}
	}
}

// Bounds of one pass sealing messages an earlier release stored in clear:
// sealClearBatch messages a transaction, sealClearBatches transactions a
// pass (some 300,000 messages an hour at one pass a minute).
const (
	sealClearBatch   = 500
	sealClearBatches = 10
)

// sealClearMessages seals, a few batches a pass, the messages' bodies,
// contents and addresses an earlier release stored in clear
// (docs/operations.md, "Data at rest"); once none is left a pass costs one
// index probe.
func (a *App) sealClearMessages(ctx context.Context) {
	total := map[string]int{}
	for i := 0; i < sealClearBatches; i++ {
		done, err := a.store.SealClearMessages(ctx, sealClearBatch)
		if err != nil {
			a.log.Warn("maintenance: sealing messages stored in clear", "err", err)
			break
		}
		n := 0
		for k, v := range done {
			total[k] += v
			n += v
		}
		if n == 0 {
			break
		}
	}
	if len(total) > 0 {
		a.log.Info("maintenance: sealed messages an earlier release stored in clear", "sealed", total)
	}
}

// maintainPrivacy finishes erasures that waited for sends in flight, sends
// data-subject request reminders, and runs the retention schedule's pass
// when it is due (one node per pass; docs/privacy.md).
func (a *App) maintainPrivacy(ctx context.Context) {
	if n, err := a.privacy.Maintain(ctx); err != nil {
		a.log.Warn("maintenance: data-subject requests", "err", err)
	} else if n > 0 {
		a.notifier.Notify()
	}
	run, err := a.retention.Run(ctx)
	if err != nil {
		a.log.Warn("maintenance: retention", "err", err)
		return
	}
	if run != nil {
		total := 0
		for _, n := range run.Counts {
			total += n
		}
		if total > 0 || run.Error != "" {
			a.log.Info("maintenance: retention pass", "purged", total, "counts", run.Counts, "error", run.Error)
		}
	}
}
