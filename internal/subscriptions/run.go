package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/store"
)

// leaseName is the maintenance lease one node holds per pass.
const leaseName = "subscriptions"

// Pass is what one pass did, for the log.
type Pass struct {
	Renewed     int `json:"renewed"`     // invoices issued for a new period
	Retried     int `json:"retried"`     // charges of unpaid invoices tried
	Paid        int `json:"paid"`        // of which paid
	Reminded    int `json:"reminded"`    // dunning reminders
	Suspended   int `json:"suspended"`   // accounts suspended for an unpaid invoice
	TrialsEnded int `json:"trialsEnded"` // trials ended without a subscription
	Inactive    int `json:"inactive"`    // free accounts told they are unused
	Warned      int `json:"warned"`      // accounts told of their deletion ahead
	Deleted     int `json:"deleted"`     // accounts deleted
	Purged      int `json:"purged"`      // archives purged
}

func (p *Pass) any() bool { return *p != Pass{} }

// Run makes a pass if this node gets the lease (held for Every): nil when
// another node, or this one, made one within Every.
func (s *Service) Run(ctx context.Context) (*Pass, error) {
	now := s.now()
	ok, err := s.cfg.Store.ClaimLease(ctx, leaseName, s.cfg.Node, now, now.Add(s.cfg.Every))
	if err != nil || !ok {
		return nil, err
	}
	return s.Pass(ctx)
}

// Pass makes one pass now, whatever the lease: renewals, dunning, ended
// trials, inactive free accounts, deletions and archive purges, in that
// order. Each step checks the state it moves from, so a pass run twice
// does each step once.
func (s *Service) Pass(ctx context.Context) (*Pass, error) {
	p := &Pass{}
	var errs []error
	errs = append(errs, s.renewals(ctx, p), s.dunning(ctx, p), s.trials(ctx, p), s.inactivity(ctx, p), s.deletions(ctx, p))
	if p.any() {
		s.notify()
		s.cfg.Log.Info("subscriptions: pass", "renewed", p.Renewed, "retried", p.Retried, "paid", p.Paid, "reminded", p.Reminded,
			"suspended", p.Suspended, "trials_ended", p.TrialsEnded, "inactive", p.Inactive, "warned", p.Warned, "deleted", p.Deleted, "purged", p.Purged)
	}
	return p, errors.Join(errs...)
}

// maxCatchUp bounds the periods one pass invoices for a subscription
// (after a long stop): the rest come in the next passes.
const maxCatchUp = 3

// renewals invoices every active subscription whose period ended for the
// next month, in advance; a cancelled one ends.
func (s *Service) renewals(ctx context.Context, p *Pass) error {
	subs, err := s.cfg.Store.Subscriptions(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for i := range subs {
		sub := &subs[i]
		now := s.now()
		if sub.Status != store.SubActive || now.Before(sub.PeriodEnd) {
			continue
		}
		if l, err := s.cfg.Store.GetLifecycle(ctx, sub.AccountID); err == nil && l.State != store.LifeInactive {
			continue // suspended or on its way out: nothing more is invoiced
		}
		a, err := s.cfg.Store.GetAccount(ctx, sub.AccountID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pl, err := s.cfg.Store.GetPlan(ctx, sub.PlanID)
		if err != nil {
			errs = append(errs, fmt.Errorf("renewing %s: plan %s: %w", sub.AccountID, sub.PlanID, err))
			continue
		}
		for n := 0; n < maxCatchUp && !now.Before(sub.PeriodEnd); n++ {
			before := subView(sub)
			inv, err := s.issue(ctx, a, pl, sub, sub.PeriodEnd, "", "")
			if err != nil {
				errs = append(errs, fmt.Errorf("renewing %s: %w", sub.AccountID, err))
				break
			}
			p.Renewed++
			s.record(ctx, s.system(), sub.AccountID, "subscription.renewed", before,
				map[string]any{"subscription": subView(sub), "invoice": inv.Number, "status": inv.Status, "total": money(inv.Total)})
			if inv.Status != store.InvoicePaid {
				break
			}
		}
	}
	for i := range subs {
		sub := &subs[i]
		if sub.Status == store.SubCancelled && !s.now().Before(sub.PeriodEnd) && sub.PeriodEnd.After(sub.PeriodStart) {
			// The subscription ended: the account goes on without one.
			before := subView(sub)
			sub.PeriodStart, sub.UpdatedAt = sub.PeriodEnd, s.now()
			if err := s.cfg.Store.PutSubscription(ctx, sub, 0, "", nil); err != nil {
				errs = append(errs, err)
				continue
			}
			s.record(ctx, s.system(), sub.AccountID, "subscription.ended", before, subView(sub))
		}
	}
	return errors.Join(errs...)
}

// dunning retries failed invoices daily, reminds the account on day 7 and
// day 14, and suspends it on day 15 unless an invoice is disputed.
func (s *Service) dunning(ctx context.Context, p *Pass) error {
	failed, err := s.cfg.Store.Invoices(ctx, "", store.InvoiceFailed)
	if err != nil {
		return err
	}
	var errs []error
	for i := range failed {
		inv := &failed[i]
		now := s.now()
		l, err := s.cfg.Store.GetLifecycle(ctx, inv.AccountID)
		if err == nil && (l.State == store.LifeDeleted || l.State == store.LifePurged) {
			continue
		}
		retryAt := inv.RetryAt
		if retryAt.IsZero() {
			retryAt = inv.FailedAt.Add(RetryEvery)
		}
		if !now.Before(retryAt) {
			p.Retried++
			paid, err := s.retry(ctx, inv, s.system())
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if paid {
				p.Paid++
				continue
			}
		}
		for _, step := range []struct {
			name  string
			after time.Duration
			kind  string
			text  string
		}{
			{"day7", 7 * Day, NoticeDunningReminder, "Invoice %s (%s %s) is still unpaid: we retry every day. Top up your balance; unpaid, your account is suspended on %s."},
			{"day14", 14 * Day, NoticeDunningFinal, "Invoice %s (%s %s) is still unpaid after 14 days of retries: your account is suspended on %s unless it is paid."},
		} {
			if now.Before(inv.FailedAt.Add(step.after)) || strings.Contains(","+inv.Notified+",", ","+step.name+",") {
				continue
			}
			nt := notice.Notice{Type: step.kind, Subject: "Invoice " + inv.Number + " is unpaid",
				Text: fmt.Sprintf(step.text, inv.Number, money(inv.Total), inv.Currency, rfc(inv.FailedAt.Add(SuspendAfter))), Data: invoiceData(inv)}
			done, err := s.cfg.Store.MarkInvoiceNotified(ctx, inv.AccountID, inv.ID, step.name, s.jobs(inv.AccountID, now, nt))
			if err != nil {
				errs = append(errs, err)
			} else if done {
				p.Reminded++
				s.record(ctx, s.system(), inv.AccountID, "invoice.reminder", nil, map[string]any{"invoice": inv.Number, "step": step.name})
			}
		}
		if now.Before(inv.FailedAt.Add(SuspendAfter)) || l != nil {
			continue // not yet, or suspended (or on its way out) already
		}
		if disputed, err := s.cfg.Store.Invoices(ctx, inv.AccountID, store.InvoiceDisputed); err != nil {
			errs = append(errs, err)
			continue
		} else if len(disputed) > 0 {
			continue // a disputed invoice pauses suspension
		}
		if err := s.suspend(ctx, inv, now); err != nil {
			errs = append(errs, err)
			continue
		}
		p.Suspended++
	}
	return errors.Join(errs...)
}

// suspend suspends the account of an unpaid invoice and schedules its
// deletion, offering the export.
func (s *Service) suspend(ctx context.Context, inv *store.Invoice, now time.Time) error {
	l := &store.Lifecycle{AccountID: inv.AccountID, State: store.LifeSuspended, Reason: reasonUnpaid + " " + inv.Number,
		SuspendedAt: now, DeleteAt: now.Add(DeleteAfterSuspension), UpdatedAt: now}
	nt := notice.Notice{Type: NoticeSuspended, Subject: "Your account is suspended: invoice " + inv.Number + " is unpaid",
		Text: fmt.Sprintf("Invoice %s (%s %s) is unpaid after 14 days of retries: your account is suspended, and it is deleted on %s "+
			"unless the invoice is paid (top up your balance: the next daily retry pays it and reactivates the account). "+
			"Before then, take an export of your data: %s. After deletion an archive is kept for %d days.",
			inv.Number, money(inv.Total), inv.Currency, rfc(l.DeleteAt), s.cfg.ExportHint, int(ArchiveFor/Day)),
		Data: map[string]any{"invoice": inv.Number, "deleteAt": rfc(l.DeleteAt), "export": s.cfg.ExportHint}}
	if err := s.cfg.Store.PutLifecycle(ctx, inv.AccountID, l, s.jobs(inv.AccountID, now, nt)); err != nil {
		return err
	}
	if s.cfg.Desk != nil {
		if _, err := s.cfg.Desk.Suspend(ctx, inv.AccountID, l.Reason, "subscriptions"); err != nil {
			return fmt.Errorf("suspending %s: %w", inv.AccountID, err)
		}
	}
	s.record(ctx, s.system(), inv.AccountID, "account.suspended", nil, lifeView(l))
	return nil
}

// trials ends trials past their end date: the account is suspended and
// its data deleted TrialDataFor later unless it subscribes.
func (s *Service) trials(ctx context.Context, p *Pass) error {
	subs, err := s.cfg.Store.Subscriptions(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for i := range subs {
		sub := &subs[i]
		now := s.now()
		if sub.Status != store.SubTrial || now.Before(sub.TrialEndsAt) {
			continue
		}
		before := subView(sub)
		sub.Status, sub.UpdatedAt = store.SubTrialEnded, now
		deleteAt := sub.TrialEndsAt.Add(TrialDataFor)
		if deleteAt.Before(now.Add(DeletionNotice)) {
			deleteAt = now.Add(DeletionNotice) // found late: still told first
		}
		l := &store.Lifecycle{AccountID: sub.AccountID, State: store.LifeTrialEnded, Reason: reasonTrialEnded, DeleteAt: deleteAt, UpdatedAt: now}
		nt := notice.Notice{Type: NoticeTrialEnded, Subject: "Your trial has ended",
			Text: fmt.Sprintf("Your trial ended on %s without a subscription: sending is blocked, and the account and its data are deleted on %s. "+
				"Subscribe before then to keep them. Take an export of your data: %s.", rfc(sub.TrialEndsAt), rfc(deleteAt), s.cfg.ExportHint),
			Data: map[string]any{"trialEndedAt": rfc(sub.TrialEndsAt), "deleteAt": rfc(deleteAt), "export": s.cfg.ExportHint}}
		if err := s.cfg.Store.PutSubscription(ctx, sub, 0, "", nil); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := s.cfg.Store.PutLifecycle(ctx, sub.AccountID, l, s.jobs(sub.AccountID, now, nt)); err != nil {
			errs = append(errs, err)
			continue
		}
		if s.cfg.Desk != nil {
			if _, err := s.cfg.Desk.Suspend(ctx, sub.AccountID, reasonTrialEnded, "subscriptions"); err != nil {
				errs = append(errs, err)
			}
		}
		p.TrialsEnded++
		s.record(ctx, s.system(), sub.AccountID, "subscription.trial_ended", before, map[string]any{"subscription": subView(sub), "lifecycle": lifeView(l)})
	}
	return errors.Join(errs...)
}

// inactivity tells free accounts unused for InactiveAfter-InactiveNotice
// that they are deleted at InactiveAfter, and forgets it when they are
// used again.
func (s *Service) inactivity(ctx context.Context, p *Pass) error {
	subs, err := s.cfg.Store.Subscriptions(ctx)
	if err != nil {
		return err
	}
	plans := map[string]*store.Plan{}
	var errs []error
	for i := range subs {
		sub := &subs[i]
		if sub.Status != store.SubActive {
			continue
		}
		pl := plans[sub.PlanID]
		if pl == nil {
			if pl, err = s.cfg.Store.GetPlan(ctx, sub.PlanID); err != nil {
				errs = append(errs, err)
				continue
			}
			plans[sub.PlanID] = pl
		}
		if pl.MonthlyFee != 0 {
			continue
		}
		last, err := s.lastActive(ctx, sub)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		now := s.now()
		l, err := s.cfg.Store.GetLifecycle(ctx, sub.AccountID)
		switch {
		case err == nil && l.State == store.LifeInactive && last.After(l.UpdatedAt):
			if err := s.reactivate(ctx, sub.AccountID, "used again", s.system()); err != nil {
				errs = append(errs, err)
			}
		case errors.Is(err, store.ErrNotFound) && !now.Before(last.Add(InactiveAfter-InactiveNotice)):
			deleteAt := last.Add(InactiveAfter)
			if deleteAt.Before(now.Add(InactiveNotice)) {
				deleteAt = now.Add(InactiveNotice)
			}
			l := &store.Lifecycle{AccountID: sub.AccountID, State: store.LifeInactive, Reason: "free account unused since " + rfc(last),
				DeleteAt: deleteAt, UpdatedAt: now}
			nt := notice.Notice{Type: NoticeInactive, Subject: "Your free account is unused",
				Text: fmt.Sprintf("Your free account has not been used since %s: it is deleted with its data on %s unless it is used "+
					"(a message sent or a request made with one of its keys) or subscribed to a paid plan before then. Take an export of your data: %s.",
					rfc(last), rfc(deleteAt), s.cfg.ExportHint),
				Data: map[string]any{"lastActive": rfc(last), "deleteAt": rfc(deleteAt), "export": s.cfg.ExportHint}}
			if err := s.cfg.Store.PutLifecycle(ctx, sub.AccountID, l, s.jobs(sub.AccountID, now, nt)); err != nil {
				errs = append(errs, err)
				continue
			}
			p.Inactive++
			s.record(ctx, s.system(), sub.AccountID, "account.inactive", nil, lifeView(l))
		case err != nil && !errors.Is(err, store.ErrNotFound):
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// lastActive is the later of the account's last use and its subscription.
func (s *Service) lastActive(ctx context.Context, sub *store.Subscription) (time.Time, error) {
	last, err := s.cfg.Store.LastActivity(ctx, sub.AccountID)
	if err != nil {
		return time.Time{}, err
	}
	if sub.CreatedAt.After(last) {
		last = sub.CreatedAt
	}
	return last, nil
}

// deletions warns accounts due for deletion DeletionNotice ahead with the
// export they can take, deletes them when due (archiving their export),
// and purges archives past ArchiveFor.
func (s *Service) deletions(ctx context.Context, p *Pass) error {
	list, err := s.cfg.Store.Lifecycles(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for i := range list {
		l := &list[i]
		now := s.now()
		switch l.State {
		case store.LifeDeleted:
			if now.Before(l.ArchiveUntil) {
				continue
			}
			if err := s.purge(ctx, l, now); err != nil {
				errs = append(errs, err)
				continue
			}
			p.Purged++
			continue
		case store.LifePurged:
			continue
		}
		if l.State == store.LifeSuspended {
			if disputed, err := s.cfg.Store.Invoices(ctx, l.AccountID, store.InvoiceDisputed); err != nil || len(disputed) > 0 {
				errs = append(errs, err)
				continue // a disputed invoice pauses it
			}
		}
		if now.Before(l.DeleteAt.Add(-DeletionNotice)) {
			continue
		}
		if !strings.Contains(","+l.Notified+",", ",predelete,") {
			before := lifeView(l)
			if l.DeleteAt.Before(now.Add(DeletionNotice)) {
				l.DeleteAt = now.Add(DeletionNotice) // told late: the notice still comes DeletionNotice ahead
			}
			l.Notified, l.UpdatedAt = addStep(l.Notified, "predelete"), now
			nt := notice.Notice{Type: NoticeDeletionSoon, Subject: "Your account is deleted on " + l.DeleteAt.Format("2 January 2006"),
				Text: fmt.Sprintf("Your account (%s) and its data are deleted on %s. Take an export of your data before then: %s. "+
					"After deletion an archive is kept for %d days, then it is gone too.", l.Reason, rfc(l.DeleteAt), s.cfg.ExportHint, int(ArchiveFor/Day)),
				Data: map[string]any{"deleteAt": rfc(l.DeleteAt), "reason": l.Reason, "export": s.cfg.ExportHint}}
			if err := s.cfg.Store.PutLifecycle(ctx, l.AccountID, l, s.jobs(l.AccountID, now, nt)); err != nil {
				errs = append(errs, err)
				continue
			}
			p.Warned++
			s.record(ctx, s.system(), l.AccountID, "account.deletion_notice", before, lifeView(l))
			continue
		}
		if now.Before(l.DeleteAt) {
			continue
		}
		if l.State == store.LifeInactive {
			sub, err := s.cfg.Store.GetSubscription(ctx, l.AccountID)
			if err == nil {
				last, err := s.lastActive(ctx, sub)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if last.After(l.UpdatedAt) {
					continue // used since: the inactivity step reactivates it
				}
			}
		}
		if err := s.deleteAccount(ctx, l, now); err != nil {
			errs = append(errs, err)
			continue
		}
		p.Deleted++
	}
	return errors.Join(errs...)
}

// deleteAccount archives the account's export, deletes its data and
// shreds its data keys.
func (s *Service) deleteAccount(ctx context.Context, l *store.Lifecycle, now time.Time) error {
	zip, err := s.Export(ctx, l.AccountID)
	if err != nil {
		return fmt.Errorf("exporting %s before deletion: %w", l.AccountID, err)
	}
	before := lifeView(l)
	l.State, l.DeletedAt, l.ArchiveUntil, l.UpdatedAt = store.LifeDeleted, now, now.Add(ArchiveFor), now
	nt := notice.Notice{Type: NoticeDeleted, Subject: "Your account is deleted",
		Text: fmt.Sprintf("Your account (%s) and its data are deleted. An archive is kept until %s, then deleted too; ask the operator for it before then. "+
			"Billing records are kept as the law requires.", l.Reason, rfc(l.ArchiveUntil)),
		Data: map[string]any{"reason": l.Reason, "archiveUntil": rfc(l.ArchiveUntil)}}
	if s.cfg.Release != nil {
		if err := s.cfg.Release(ctx, l.AccountID); err != nil {
			return fmt.Errorf("releasing what %s holds: %w", l.AccountID, err)
		}
	}
	d, err := s.cfg.Store.DeleteAccount(ctx, l, zip, s.jobs(l.AccountID, now, nt))
	if err != nil {
		return fmt.Errorf("deleting %s: %w", l.AccountID, err)
	}
	s.record(ctx, s.system(), l.AccountID, "account.deleted", before, map[string]any{"lifecycle": lifeView(l), "deleted": d.Deleted,
		"kept": d.Kept, "dataKeys": d.DataKeys, "backupKeyFiles": d.BackupKeyFiles, "archiveBytes": len(zip)})
	return nil
}

// purge removes a deleted account's archive and its alert contacts;
// the deletion's notice said when.
func (s *Service) purge(ctx context.Context, l *store.Lifecycle, now time.Time) error {
	before := lifeView(l)
	l.State, l.UpdatedAt = store.LifePurged, now
	if err := s.cfg.Store.PurgeArchive(ctx, l.AccountID); err != nil {
		return err
	}
	if err := s.cfg.Store.PutLifecycle(ctx, l.AccountID, l, nil); err != nil {
		return err
	}
	s.record(ctx, s.system(), l.AccountID, "account.archive_purged", before, lifeView(l))
	return nil
}
