package subscriptions

import (
	"encoding/json"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// The JSON the admin API, the account API and the CLI answer with:
// amounts are decimal numbers of the currency, times RFC 3339 (null when
// unset).

// AddonView is an add-on as shown.
type AddonView struct {
	Code  string      `json:"code"`
	Name  string      `json:"name"`
	Price json.Number `json:"price"`
}

// PlanView is a plan as shown.
type PlanView struct {
	ID            string      `json:"id"`
	Name          string      `json:"name"`
	Currency      string      `json:"currency"`
	MonthlyFee    json.Number `json:"monthlyFee"`
	IncludedSeats int         `json:"includedSeats"`
	SeatPrice     json.Number `json:"seatPrice"`
	Addons        []AddonView `json:"addons"`
	CreatedAt     *string     `json:"createdAt"`
	UpdatedAt     *string     `json:"updatedAt"`
}

// SubscriptionView is a subscription with the account's lifecycle.
type SubscriptionView struct {
	AccountID   string         `json:"accountId"`
	Plan        string         `json:"plan"`
	Status      string         `json:"status"`
	Addons      []string       `json:"addons"`
	TrialCredit *json.Number   `json:"trialCredit"`
	TrialEndsAt *string        `json:"trialEndsAt"`
	PeriodStart *string        `json:"periodStart"`
	PeriodEnd   *string        `json:"periodEnd"`
	CreatedAt   *string        `json:"createdAt"`
	Lifecycle   *LifecycleView `json:"lifecycle"`
}

// LifecycleView is where an account is on its way out; nil: active.
type LifecycleView struct {
	State        string  `json:"state"`
	Reason       string  `json:"reason"`
	SuspendedAt  *string `json:"suspendedAt"`
	DeleteAt     *string `json:"deleteAt"`
	DeletedAt    *string `json:"deletedAt"`
	ArchiveUntil *string `json:"archiveUntil"`
}

// InvoiceLineView is an invoice line as shown.
type InvoiceLineView struct {
	Text     string      `json:"text"`
	Quantity int         `json:"quantity"`
	Price    json.Number `json:"price"`
	Amount   json.Number `json:"amount"`
}

// InvoiceView is an invoice as shown.
type InvoiceView struct {
	ID          string            `json:"id"`
	Number      string            `json:"number"`
	AccountID   string            `json:"accountId"`
	Plan        string            `json:"plan"`
	Status      string            `json:"status"`
	Currency    string            `json:"currency"`
	Total       json.Number       `json:"total"`
	Lines       []InvoiceLineView `json:"lines"`
	PeriodStart *string           `json:"periodStart"`
	PeriodEnd   *string           `json:"periodEnd"`
	IssuedAt    *string           `json:"issuedAt"`
	PaidAt      *string           `json:"paidAt"`
	FailedAt    *string           `json:"failedAt"`
	DisputedAt  *string           `json:"disputedAt"`
	Attempts    int               `json:"attempts"`
	NextRetryAt *string           `json:"nextRetryAt"`
	SuspendsAt  *string           `json:"suspendsAt"`
	Note        string            `json:"note,omitempty"`
}

func ts(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func num(v int64) json.Number { return json.Number(message.FormatMicros(v)) }

// ViewPlan renders a plan.
func ViewPlan(p *store.Plan) PlanView {
	v := PlanView{ID: p.ID, Name: p.Name, Currency: p.Currency, MonthlyFee: num(p.MonthlyFee), IncludedSeats: p.IncludedSeats,
		SeatPrice: num(p.SeatPrice), Addons: []AddonView{}, CreatedAt: ts(p.CreatedAt), UpdatedAt: ts(p.UpdatedAt)}
	for _, a := range p.Addons {
		v.Addons = append(v.Addons, AddonView{a.Code, a.Name, num(a.Price)})
	}
	return v
}

// ViewSubscription renders a subscription and the lifecycle (nil: none).
func ViewSubscription(sub *store.Subscription, l *store.Lifecycle) SubscriptionView {
	v := SubscriptionView{AccountID: sub.AccountID, Plan: sub.PlanID, Status: sub.Status, Addons: sub.Addons, TrialEndsAt: ts(sub.TrialEndsAt),
		PeriodStart: ts(sub.PeriodStart), PeriodEnd: ts(sub.PeriodEnd), CreatedAt: ts(sub.CreatedAt), Lifecycle: ViewLifecycle(l)}
	if v.Addons == nil {
		v.Addons = []string{}
	}
	if sub.TrialCredit != 0 {
		c := num(sub.TrialCredit)
		v.TrialCredit = &c
	}
	return v
}

// ViewLifecycle renders a lifecycle; nil for none.
func ViewLifecycle(l *store.Lifecycle) *LifecycleView {
	if l == nil {
		return nil
	}
	return &LifecycleView{State: l.State, Reason: l.Reason, SuspendedAt: ts(l.SuspendedAt), DeleteAt: ts(l.DeleteAt), DeletedAt: ts(l.DeletedAt),
		ArchiveUntil: ts(l.ArchiveUntil)}
}

// ViewInvoice renders an invoice, with when its next retry and the
// suspension it leads to are due while it is unpaid.
func ViewInvoice(inv *store.Invoice) InvoiceView {
	v := InvoiceView{ID: inv.ID, Number: inv.Number, AccountID: inv.AccountID, Plan: inv.PlanID, Status: inv.Status, Currency: inv.Currency,
		Total: num(inv.Total), Lines: []InvoiceLineView{}, PeriodStart: ts(inv.PeriodStart), PeriodEnd: ts(inv.PeriodEnd), IssuedAt: ts(inv.IssuedAt),
		PaidAt: ts(inv.PaidAt), FailedAt: ts(inv.FailedAt), DisputedAt: ts(inv.DisputedAt), Attempts: inv.Attempts, Note: inv.Note}
	for _, l := range inv.Lines {
		v.Lines = append(v.Lines, InvoiceLineView{l.Text, l.Quantity, num(l.Price), num(l.Amount)})
	}
	if inv.Status == store.InvoiceFailed {
		next := inv.RetryAt
		if next.IsZero() {
			next = inv.FailedAt.Add(RetryEvery)
		}
		v.NextRetryAt, v.SuspendsAt = ts(next), ts(inv.FailedAt.Add(SuspendAfter))
	}
	return v
}
