// Package subscriptions runs an account's commercial life (ACCT-2…4):
// plans with a monthly fee, included seats and add-ons; trials with a
// credit and an end date; subscriptions renewed monthly in advance with
// numbered invoices charged through the ledger; dunning of an unpaid
// invoice (retried daily for 14 days, suspension on day 15, deletion 15
// days later with a 45-day archive, a disputed invoice pausing it); and
// deletion of ended trials and inactive free accounts. Every step is a
// notice to the account (written in the step's transaction), an entry in
// the audit log, and happens in Run, which the maintenance loop calls on
// every node while one node at a time does the work (a lease).
//
//	svc := subscriptions.New(subscriptions.Config{Store: st, Desk: desk, Audit: changes, Node: node})
//	svc.PutPlan(ctx, store.Plan{ID: "team", Name: "Team", Currency: "EUR", MonthlyFee: 49_000_000, IncludedSeats: 5})
//	svc.StartTrial(ctx, accountID, "team", 10_000_000, 14*24*time.Hour, actor)
//	svc.Run(ctx) // every minute, from the maintenance loop
package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/store"
)

// Day is 24 hours: every period of the lifecycle counts whole days.
const Day = 24 * time.Hour

// The lifecycle's periods (ACCT-3, ACCT-4).
const (
	// RetryEvery spaces the charges of an unpaid invoice.
	RetryEvery = Day
	// SuspendAfter is how long after an invoice failed the account is
	// suspended: retried for 14 days, suspended on day 15.
	SuspendAfter = 15 * Day
	// DeleteAfterSuspension is how long a suspended account waits for
	// payment before it is deleted.
	DeleteAfterSuspension = 15 * Day
	// ArchiveFor is how long a deleted account's archive is kept.
	ArchiveFor = 45 * Day
	// TrialDataFor is how long an ended trial's data is kept without a
	// subscription.
	TrialDataFor = 12 * Day
	// InactiveAfter is how long a free account may go unused.
	InactiveAfter = 60 * Day
	// InactiveNotice is how long before deleting an inactive free account
	// it is told.
	InactiveNotice = 7 * Day
	// DeletionNotice is how long before any deletion the account is told
	// again, with the export it can take.
	DeletionNotice = 3 * Day
	// MaxTrial bounds a trial's length.
	MaxTrial = 90 * Day
)

// Notice types, one per step.
const (
	NoticeTrialStarted            = "subscription.trial_started"
	NoticeTrialEnded              = "subscription.trial_ended"
	NoticeSubscribed              = "subscription.started"
	NoticeCancelled               = "subscription.cancelled"
	NoticeInvoiceIssued           = "invoice.issued"
	NoticePaymentFailed           = "invoice.payment_failed"
	NoticeDunningReminder         = "invoice.payment_reminder"
	NoticeDunningFinal            = "invoice.suspension_tomorrow"
	NoticeInvoicePaid             = "invoice.paid"
	NoticeInvoiceDisputed         = "invoice.disputed"
	NoticeInvoiceUndisputed       = "invoice.dispute_closed"
	NoticeInvoiceVoided           = "invoice.voided"
	NoticeSuspended               = "account.suspended_unpaid"
	NoticeReactivated             = "account.reactivated"
	NoticeInactive                = "account.inactive"
	NoticeDeletionSoon            = "account.deletion_soon"
	NoticeDeleted                 = "account.deleted"
	maxName, maxAddons            = 200, 50
	maxMoney                int64 = 1_000_000_000_000_000 // a billion in micro-units
)

// Suspender suspends and reinstates an account's sending: the compliance
// desk (internal/compliance), the same suspension the console's operator
// page and `omnigate accounts suspend` use.
type Suspender interface {
	Suspend(ctx context.Context, accountID, reason, actor string) (*store.Policy, error)
	Lift(ctx context.Context, accountID, actor string) (*store.Policy, error)
}

// Config wires a Service. Store is required.
type Config struct {
	Store store.Store
	// Desk suspends and reinstates accounts; nil: the lifecycle records
	// the state but does not block sending.
	Desk Suspender
	// Audit records every step; nil: none.
	Audit *audit.Log
	// Node names this process in the lease and the audit log.
	Node string
	// Every is how often a pass runs over all nodes together; default a
	// minute (the node holding the lease holds it that long).
	Every time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Notify wakes the notifier after notices were queued; may be nil.
	Notify func()
	// Release returns what the account holds outside its own rows
	// before it is deleted (its phone numbers to the inventory); may be
	// nil.
	Release func(ctx context.Context, accountID string) error
	// ExportHint says, in notices before a deletion, how the account
	// takes its export; default the account API's GET /account/export.
	ExportHint string
	Log        *slog.Logger
}

// Service manages plans, subscriptions, invoices and the account
// lifecycle.
type Service struct{ cfg Config }

// New makes a service from cfg.
func New(cfg Config) *Service {
	if cfg.Every <= 0 {
		cfg.Every = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ExportHint == "" {
		cfg.ExportHint = "GET /account/export with an access key (a zip of every record), or ask the operator (omnigate account export)"
	}
	if cfg.Node == "" {
		cfg.Node = "node"
	}
	return &Service{cfg: cfg}
}

// SetNow replaces the clock (tests).
func (s *Service) SetNow(now func() time.Time) { s.cfg.Now = now }

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// InvalidError names the parameter that is wrong and why.
type InvalidError struct{ Param, Msg string }

func (e *InvalidError) Error() string { return e.Param + ": " + e.Msg }

func invalid(param, format string, a ...any) error {
	return &InvalidError{Param: param, Msg: fmt.Sprintf(format, a...)}
}

// ErrState means the account or invoice is not in a state that allows
// the change (e.g. paying a paid invoice).
var ErrState = errors.New("not in a state that allows this")

func validID(id string) bool {
	return id != "" && len(id) <= 64 && strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) < 0
}

// PutPlan validates and stores a plan (created, or changed: a change
// applies from each subscription's next period).
func (s *Service) PutPlan(ctx context.Context, p store.Plan) (*store.Plan, error) {
	p.Name, p.Currency = strings.TrimSpace(p.Name), strings.ToUpper(strings.TrimSpace(p.Currency))
	switch {
	case !validID(p.ID):
		return nil, invalid("id", "a plan id is 1–64 lower-case letters, digits, dashes or underscores")
	case p.Name == "" || utf8.RuneCountInString(p.Name) > maxName:
		return nil, invalid("name", "a name is required, at most %d characters", maxName)
	case len(p.Currency) != 3 || strings.IndexFunc(p.Currency, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0:
		return nil, invalid("currency", "currency is an ISO 4217 code such as EUR")
	case p.MonthlyFee < 0 || p.MonthlyFee > maxMoney:
		return nil, invalid("monthlyFee", "the monthly fee is 0 (a free plan) or more")
	case p.IncludedSeats < 1 || p.IncludedSeats > 100000:
		return nil, invalid("includedSeats", "a plan includes 1 to 100000 seats")
	case p.SeatPrice < 0 || p.SeatPrice > maxMoney:
		return nil, invalid("seatPrice", "the price of an extra seat is 0 or more")
	case len(p.Addons) > maxAddons:
		return nil, invalid("addons", "at most %d add-ons", maxAddons)
	}
	seen := map[string]bool{}
	for i := range p.Addons {
		a := &p.Addons[i]
		a.Name = strings.TrimSpace(a.Name)
		switch {
		case !validID(a.Code) || seen[a.Code]:
			return nil, invalid(fmt.Sprintf("addons[%d].code", i), "an add-on code is 1–64 lower-case letters, digits, dashes or underscores, once")
		case a.Name == "" || utf8.RuneCountInString(a.Name) > maxName:
			return nil, invalid(fmt.Sprintf("addons[%d].name", i), "a name is required, at most %d characters", maxName)
		case a.Price < 0 || a.Price > maxMoney:
			return nil, invalid(fmt.Sprintf("addons[%d].price", i), "a price is 0 or more")
		}
		seen[a.Code] = true
	}
	now := s.now()
	p.CreatedAt, p.UpdatedAt = now, now
	if old, err := s.cfg.Store.GetPlan(ctx, p.ID); err == nil {
		p.CreatedAt = old.CreatedAt
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := s.cfg.Store.PutPlan(ctx, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// plan reads a plan for an account, checking its currency.
func (s *Service) plan(ctx context.Context, id string, a *store.Account) (*store.Plan, error) {
	p, err := s.cfg.Store.GetPlan(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid("plan", "no plan %q (omnigate plan list)", id)
	}
	if err != nil {
		return nil, err
	}
	if p.Currency != a.Currency {
		return nil, invalid("plan", "plan %s is in %s, the account in %s", p.ID, p.Currency, a.Currency)
	}
	return p, nil
}

func checkAddons(p *store.Plan, codes []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, c := range codes {
		c = strings.TrimSpace(c)
		found := false
		for _, a := range p.Addons {
			found = found || a.Code == c
		}
		if !found {
			return nil, invalid("addons", "plan %s has no add-on %q", p.ID, c)
		}
		if !seen[c] {
			out = append(out, c)
			seen[c] = true
		}
	}
	return out, nil
}

// StartTrial makes the account a trial of plan for length with credit
// (micro-units, added to the balance through the ledger once). An account
// that has a subscription cannot start a trial.
func (s *Service) StartTrial(ctx context.Context, accountID, planID string, credit int64, length time.Duration, actor audit.Actor) (*store.Subscription, error) {
	a, err := s.cfg.Store.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	p, err := s.plan(ctx, planID, a)
	if err != nil {
		return nil, err
	}
	if credit < 0 || credit > maxMoney {
		return nil, invalid("credit", "a trial's credit is 0 or more")
	}
	if length < Day || length > MaxTrial {
		return nil, invalid("days", "a trial lasts 1 to %d days", int(MaxTrial/Day))
	}
	if _, err := s.cfg.Store.GetSubscription(ctx, accountID); err == nil {
		return nil, invalid("account", "the account has a subscription already; a trial is for a new account")
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	now := s.now()
	sub := &store.Subscription{AccountID: accountID, PlanID: p.ID, Status: store.SubTrial, Addons: []string{}, TrialCredit: credit,
		TrialEndsAt: now.Add(length), PeriodStart: now, PeriodEnd: now.Add(length), CreatedAt: now, UpdatedAt: now}
	nt := notice.Notice{Type: NoticeTrialStarted, Subject: "Your trial has started",
		Text: fmt.Sprintf("Your trial of %s runs until %s, with a credit of %s %s. Subscribe before it ends to keep your account and its data: "+
			"an ended trial's data is deleted %d days after it ends.", p.Name, rfc(sub.TrialEndsAt), money(credit), a.Currency, int(TrialDataFor/Day)),
		Data: map[string]any{"plan": p.ID, "credit": money(credit), "currency": a.Currency, "trialEndsAt": rfc(sub.TrialEndsAt)}}
	if err := s.cfg.Store.PutSubscription(ctx, sub, credit, "trial:"+accountID, s.jobs(accountID, now, nt)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, invalid("account", "the account had a trial already")
		}
		return nil, err
	}
	if err := s.cfg.Store.PutSeats(ctx, &store.Seats{AccountID: accountID, Seats: p.IncludedSeats, TermStart: now, TermEnd: sub.TrialEndsAt}); err != nil {
		return nil, err
	}
	s.notify()
	return sub, nil
}

// Subscribe puts the account on plan with add-ons from now: a trial is
// converted, an ended trial or an account suspended for an unpaid
// invoice that is now paid is reactivated, a subscription changes plan
// from now. The first period is invoiced and charged at once; if the
// balance cannot cover it, dunning starts.
func (s *Service) Subscribe(ctx context.Context, accountID, planID string, addons []string, actor audit.Actor) (*store.Subscription, *store.Invoice, error) {
	a, err := s.cfg.Store.GetAccount(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	if l, err := s.cfg.Store.GetLifecycle(ctx, accountID); err == nil && (l.State == store.LifeDeleted || l.State == store.LifePurged) {
		return nil, nil, fmt.Errorf("the account was deleted: %w", ErrState)
	}
	p, err := s.plan(ctx, planID, a)
	if err != nil {
		return nil, nil, err
	}
	codes, err := checkAddons(p, addons)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	old, err := s.cfg.Store.GetSubscription(ctx, accountID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	if old != nil && (old.Status == store.SubActive || old.Status == store.SubCancelled) && now.Before(old.PeriodEnd) {
		// A change of plan, or a cancelled subscription taken up again:
		// the period paid for runs on, the next one is invoiced on the
		// new plan.
		sub := *old
		sub.PlanID, sub.Addons, sub.Status, sub.UpdatedAt = p.ID, codes, store.SubActive, now
		nt := notice.Notice{Type: NoticeSubscribed, Subject: "Your subscription changed",
			Text: fmt.Sprintf("From %s your subscription is %s.", rfc(sub.PeriodEnd), p.Name),
			Data: map[string]any{"plan": p.ID, "from": rfc(sub.PeriodEnd)}}
		if err := s.cfg.Store.PutSubscription(ctx, &sub, 0, "", s.jobs(accountID, now, nt)); err != nil {
			return nil, nil, err
		}
		s.notify()
		return &sub, nil, nil
	}
	sub := &store.Subscription{AccountID: accountID, PlanID: p.ID, Status: store.SubActive, Addons: codes, CreatedAt: now, UpdatedAt: now}
	if old != nil {
		sub.CreatedAt, sub.TrialCredit, sub.TrialEndsAt = old.CreatedAt, old.TrialCredit, old.TrialEndsAt
	}
	inv, err := s.issue(ctx, a, p, sub, now, NoticeSubscribed, fmt.Sprintf("You are subscribed to %s.", p.Name))
	if err != nil {
		return nil, nil, err
	}
	if unpaid, err := s.unpaid(ctx, accountID); err != nil {
		return sub, inv, err
	} else if len(unpaid) == 0 {
		if err := s.reactivate(ctx, accountID, "subscribed to "+p.Name, actor); err != nil {
			return sub, inv, err
		}
	}
	s.notify()
	return sub, inv, nil
}

// issue invoices the period that starts at start for sub on p (moving
// sub to it), charges it and queues the notices: kind's text first.
func (s *Service) issue(ctx context.Context, a *store.Account, p *store.Plan, sub *store.Subscription, start time.Time, kind, text string) (*store.Invoice, error) {
	sub.PeriodStart, sub.PeriodEnd, sub.UpdatedAt = start, start.AddDate(0, 1, 0), s.now()
	seats := &store.Seats{AccountID: a.ID, Seats: p.IncludedSeats, TermStart: sub.PeriodStart, TermEnd: sub.PeriodEnd, SeatPrice: p.SeatPrice}
	if cur, err := s.cfg.Store.GetSeats(ctx, a.ID); err == nil && cur.Seats > seats.Seats {
		seats.Seats = cur.Seats // seats added before stay, and are charged
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	inv := &store.Invoice{ID: ids.New(), AccountID: a.ID, PlanID: p.ID, PeriodStart: sub.PeriodStart, PeriodEnd: sub.PeriodEnd,
		Currency: a.Currency, IssuedAt: s.now(), DueAt: s.now()}
	inv.Lines = append(inv.Lines, store.InvoiceLine{Text: p.Name + ", " + sub.PeriodStart.Format("2 Jan 2006") + " – " + sub.PeriodEnd.Format("2 Jan 2006"),
		Quantity: 1, Price: p.MonthlyFee, Amount: p.MonthlyFee})
	if extra := seats.Seats - p.IncludedSeats; extra > 0 {
		inv.Lines = append(inv.Lines, store.InvoiceLine{Text: fmt.Sprintf("seats beyond the %d included", p.IncludedSeats), Quantity: extra,
			Price: p.SeatPrice, Amount: int64(extra) * p.SeatPrice})
	}
	for _, c := range sub.Addons {
		for _, ad := range p.Addons {
			if ad.Code == c {
				inv.Lines = append(inv.Lines, store.InvoiceLine{Text: "add-on: " + ad.Name, Quantity: 1, Price: ad.Price, Amount: ad.Price})
			}
		}
	}
	for _, l := range inv.Lines {
		inv.Total += l.Amount
	}
	// The store numbers and charges the invoice, then asks for the
	// notices (of a paid or a failed invoice) for the same transaction.
	notices := func(inv *store.Invoice) []*store.Job {
		var nts []notice.Notice
		if kind != "" {
			nts = append(nts, notice.Notice{Type: kind, Subject: "Your subscription", Text: text, Data: map[string]any{"plan": sub.PlanID,
				"periodStart": rfc(sub.PeriodStart), "periodEnd": rfc(sub.PeriodEnd)}})
		}
		if inv.Status == store.InvoicePaid {
			nts = append(nts, notice.Notice{Type: NoticeInvoiceIssued, Subject: "Invoice " + inv.Number,
				Text: fmt.Sprintf("Invoice %s for %s %s, %s – %s, is paid from your balance. GET /invoices/%s shows it.",
					inv.Number, money(inv.Total), inv.Currency, rfc(inv.PeriodStart), rfc(inv.PeriodEnd), inv.ID),
				Data: invoiceData(inv)})
		} else {
			nts = append(nts, s.failedNotice(inv))
		}
		return s.jobs(inv.AccountID, inv.IssuedAt, nts...)
	}
	if err := s.cfg.Store.IssueInvoice(ctx, inv, sub, seats, notices); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, invalid("plan", "the period from %s is invoiced already", rfc(inv.PeriodStart))
		}
		return nil, err
	}
	return inv, nil
}

func (s *Service) failedNotice(inv *store.Invoice) notice.Notice {
	return notice.Notice{Type: NoticePaymentFailed, Subject: "Payment of invoice " + inv.Number + " failed",
		Text: fmt.Sprintf("Your balance does not cover invoice %s (%s %s). We retry every day for 14 days; top up your balance to pay it. "+
			"Unpaid, your account is suspended on %s and deleted 15 days later. If the invoice is wrong, dispute it (POST /invoices/%s/dispute): "+
			"a disputed invoice does not suspend the account.", inv.Number, money(inv.Total), inv.Currency, rfc(inv.FailedAt.Add(SuspendAfter)), inv.ID),
		Data: invoiceData(inv)}
}

// Cancel stops the account's subscription renewing: it ends at the end of
// the period paid for.
func (s *Service) Cancel(ctx context.Context, accountID string, actor audit.Actor) (*store.Subscription, error) {
	sub, err := s.cfg.Store.GetSubscription(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if sub.Status != store.SubActive {
		return nil, fmt.Errorf("the subscription is %s: %w", sub.Status, ErrState)
	}
	sub.Status, sub.UpdatedAt = store.SubCancelled, s.now()
	nt := notice.Notice{Type: NoticeCancelled, Subject: "Your subscription is cancelled",
		Text: "Your subscription is not renewed: it ends on " + rfc(sub.PeriodEnd) + ".", Data: map[string]any{"periodEnd": rfc(sub.PeriodEnd)}}
	if err := s.cfg.Store.PutSubscription(ctx, sub, 0, "", s.jobs(accountID, sub.UpdatedAt, nt)); err != nil {
		return nil, err
	}
	s.notify()
	return sub, nil
}

// Pay charges an unpaid (failed or disputed) invoice from the balance
// now; the account is reactivated once nothing is left unpaid.
func (s *Service) Pay(ctx context.Context, accountID, invoiceID string, actor audit.Actor) (*store.Invoice, error) {
	inv, err := s.cfg.Store.GetInvoice(ctx, accountID, invoiceID)
	if err != nil {
		return nil, err
	}
	if inv.Status == store.InvoiceDisputed {
		if inv, err = s.cfg.Store.SetInvoiceStatus(ctx, accountID, invoiceID, store.InvoiceFailed, "paid while disputed", s.now(), nil); err != nil {
			return nil, err
		}
	}
	if inv.Status != store.InvoiceFailed {
		return nil, fmt.Errorf("invoice %s is %s: %w", inv.Number, inv.Status, ErrState)
	}
	paid, err := s.retry(ctx, inv, actor)
	if err != nil {
		return nil, err
	}
	if !paid {
		return nil, store.ErrInsufficientBalance
	}
	s.notify()
	return s.cfg.Store.GetInvoice(ctx, accountID, invoiceID)
}

// retry charges a failed invoice once; paid, it tells the account and
// reactivates it when nothing else is unpaid.
func (s *Service) retry(ctx context.Context, inv *store.Invoice, actor audit.Actor) (bool, error) {
	now := s.now()
	nt := notice.Notice{Type: NoticeInvoicePaid, Subject: "Invoice " + inv.Number + " is paid",
		Text: fmt.Sprintf("Invoice %s (%s %s) is paid from your balance. Thank you.", inv.Number, money(inv.Total), inv.Currency), Data: invoiceData(inv)}
	paid, err := s.cfg.Store.RetryInvoice(ctx, inv.AccountID, inv.ID, now, now.Add(RetryEvery), s.jobs(inv.AccountID, now, nt))
	if err != nil || !paid {
		return false, err
	}
	s.record(ctx, actor, inv.AccountID, "invoice.paid", map[string]any{"invoice": inv.Number, "status": inv.Status},
		map[string]any{"invoice": inv.Number, "status": store.InvoicePaid})
	unpaid, err := s.unpaid(ctx, inv.AccountID)
	if err != nil || len(unpaid) > 0 {
		return true, err
	}
	return true, s.reactivate(ctx, inv.AccountID, "invoice "+inv.Number+" paid", actor)
}

// unpaid lists the account's failed and disputed invoices.
func (s *Service) unpaid(ctx context.Context, accountID string) ([]store.Invoice, error) {
	all, err := s.cfg.Store.Invoices(ctx, accountID, "")
	if err != nil {
		return nil, err
	}
	var out []store.Invoice
	for _, v := range all {
		if v.Status == store.InvoiceFailed || v.Status == store.InvoiceDisputed {
			out = append(out, v)
		}
	}
	return out, nil
}

// SetInvoiceStatus disputes an unpaid invoice, closes a dispute (failed
// again: dunning resumes where it paused) or voids it (the operator). A
// void leaves nothing to collect; the account is reactivated if nothing
// else is unpaid.
func (s *Service) SetInvoiceStatus(ctx context.Context, accountID, invoiceID, status, note string, actor audit.Actor) (*store.Invoice, error) {
	if utf8.RuneCountInString(note) > 2000 {
		return nil, invalid("note", "a note is at most 2000 characters")
	}
	old, err := s.cfg.Store.GetInvoice(ctx, accountID, invoiceID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var nt notice.Notice
	switch status {
	case store.InvoiceDisputed:
		nt = notice.Notice{Type: NoticeInvoiceDisputed, Subject: "Invoice " + old.Number + " is disputed",
			Text: "Invoice " + old.Number + " is disputed: while the dispute lasts, it does not suspend your account and is not charged.", Data: invoiceData(old)}
	case store.InvoiceFailed:
		if old.Status != store.InvoiceDisputed {
			return nil, fmt.Errorf("only a disputed invoice can be made unpaid again: %w", ErrState)
		}
		nt = notice.Notice{Type: NoticeInvoiceUndisputed, Subject: "The dispute of invoice " + old.Number + " is closed",
			Text: "The dispute of invoice " + old.Number + " is closed and the invoice is due: we retry charging it every day. " + note, Data: invoiceData(old)}
	case store.InvoiceVoid:
		nt = notice.Notice{Type: NoticeInvoiceVoided, Subject: "Invoice " + old.Number + " is cancelled",
			Text: "Invoice " + old.Number + " is cancelled: nothing is due for it. " + note, Data: invoiceData(old)}
	default:
		return nil, invalid("status", "an invoice can be disputed, failed (the dispute closed) or void")
	}
	inv, err := s.cfg.Store.SetInvoiceStatus(ctx, accountID, invoiceID, status, note, now, s.jobs(accountID, now, nt))
	if errors.Is(err, store.ErrConflict) {
		return nil, fmt.Errorf("invoice %s is %s: %w", old.Number, old.Status, ErrState)
	}
	if err != nil {
		return nil, err
	}
	// A dispute paused the deletion of a suspended account: it moves on by
	// as long as the dispute lasted.
	if old.Status == store.InvoiceDisputed && !old.DisputedAt.IsZero() {
		if l, err := s.cfg.Store.GetLifecycle(ctx, accountID); err == nil && l.State == store.LifeSuspended {
			l.DeleteAt, l.UpdatedAt = l.DeleteAt.Add(now.Sub(old.DisputedAt)), now
			if err := s.cfg.Store.PutLifecycle(ctx, accountID, l, nil); err != nil {
				return inv, err
			}
		}
	}
	if status == store.InvoiceVoid {
		if unpaid, err := s.unpaid(ctx, accountID); err == nil && len(unpaid) == 0 {
			if err := s.reactivate(ctx, accountID, "invoice "+inv.Number+" voided", actor); err != nil {
				return inv, err
			}
		}
	}
	s.notify()
	return inv, nil
}

// reactivate ends a suspension for non-payment or an ended trial (not
// one for another reason) and clears the account's lifecycle.
func (s *Service) reactivate(ctx context.Context, accountID, why string, actor audit.Actor) error {
	l, err := s.cfg.Store.GetLifecycle(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if l.State == store.LifeDeleted || l.State == store.LifePurged {
		return nil
	}
	now := s.now()
	nt := notice.Notice{Type: NoticeReactivated, Subject: "Your account is active again",
		Text: "Your account is active again (" + why + "): it is no longer due for deletion.", Data: map[string]any{"reason": why}}
	if err := s.cfg.Store.PutLifecycle(ctx, accountID, nil, s.jobs(accountID, now, nt)); err != nil {
		return err
	}
	if err := s.lift(ctx, accountID, l); err != nil {
		return err
	}
	s.record(ctx, actor, accountID, "account.reactivated", lifeView(l), map[string]any{"state": "active", "reason": why})
	return nil
}

// Suspension reasons this package gives, so that it lifts only its own.
const (
	reasonUnpaid     = "unpaid invoice"
	reasonTrialEnded = "trial ended without a subscription"
)

func (s *Service) lift(ctx context.Context, accountID string, l *store.Lifecycle) error {
	if s.cfg.Desk == nil || (l.State != store.LifeSuspended && l.State != store.LifeTrialEnded) {
		return nil
	}
	p, err := s.cfg.Store.GetPolicy(ctx, accountID)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(p.Suspended, reasonUnpaid) && !strings.HasPrefix(p.Suspended, reasonTrialEnded) {
		return nil // suspended since for another reason: an operator lifts that one
	}
	_, err = s.cfg.Desk.Lift(ctx, accountID, "subscriptions")
	return err
}

// jobs makes the notice jobs of nts for the account.
func (s *Service) jobs(accountID string, now time.Time, nts ...notice.Notice) []*store.Job {
	out := make([]*store.Job, 0, len(nts))
	for _, nt := range nts {
		j := notice.Job(accountID, nt, now)
		j.RunAt = time.Now().UTC() // due at once, whatever clock the steps run on
		out = append(out, j)
	}
	return out
}

func (s *Service) notify() {
	if s.cfg.Notify != nil {
		s.cfg.Notify()
	}
}

// system is the actor of the maintenance pass's steps.
func (s *Service) system() audit.Actor { return audit.Actor{Kind: audit.KindSystem, ID: s.cfg.Node} }

// record writes a step to the audit log. What an operator, key or CLI
// command asks for directly is recorded by its door (the admin and
// account APIs' handlers, the CLI's recordCLI); the service records the
// steps it takes by itself (renewals, dunning, suspensions, deletions)
// and the consequences of a request (a reactivation, a payment), with the
// actor who caused them.
func (s *Service) record(ctx context.Context, actor audit.Actor, accountID, action string, before, after any) {
	if s.cfg.Audit == nil {
		return
	}
	s.cfg.Audit.Record(ctx, audit.Change{Actor: actor, Account: accountID, Action: action, Object: "accounts/" + accountID,
		Before: before, After: after, At: s.now()})
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// money writes micro-units as a decimal amount ("12.5").
func money(v int64) string { return message.FormatMicros(v) }

func invoiceData(inv *store.Invoice) map[string]any {
	return map[string]any{"invoice": inv.ID, "number": inv.Number, "total": money(inv.Total), "currency": inv.Currency,
		"periodStart": rfc(inv.PeriodStart), "periodEnd": rfc(inv.PeriodEnd)}
}

func subView(sub *store.Subscription) map[string]any {
	return map[string]any{"plan": sub.PlanID, "status": sub.Status, "addons": sub.Addons, "trialEndsAt": rfc(sub.TrialEndsAt),
		"periodStart": rfc(sub.PeriodStart), "periodEnd": rfc(sub.PeriodEnd)}
}

func lifeView(l *store.Lifecycle) map[string]any {
	return map[string]any{"state": l.State, "reason": l.Reason, "suspendedAt": rfc(l.SuspendedAt), "deleteAt": rfc(l.DeleteAt),
		"deletedAt": rfc(l.DeletedAt), "archiveUntil": rfc(l.ArchiveUntil)}
}
