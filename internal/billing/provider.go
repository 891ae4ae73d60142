package billing

import (
	"context"

	"github.com/omnigate/omnigate/internal/store"
)

// PaymentProvider obtains money for top-ups. RequestTopUp is called once
// for each new pending top-up (automatic or requested); the provider
// settles it later — a card provider when the charge succeeds, through
// store.Billing.SettleTopUp — so the ledger moves only for money actually
// received.
//
// To plug in a real provider (Stripe, Adyen, Mollie …), implement this
// interface: create the payment in RequestTopUp with the top-up's id as
// the provider's idempotency key and metadata, and settle the top-up from
// the provider's webhook (confirmed on success, cancelled on failure).
type PaymentProvider interface {
	Name() string
	RequestTopUp(ctx context.Context, t *store.TopUp) error
}

// InvoiceProvider is the provider for deployments without a payment
// service: a top-up stays pending until an operator confirms it (money
// received by invoice or bank transfer) with `omnigate topup confirm`.
type InvoiceProvider struct{}

// Name implements PaymentProvider.
func (InvoiceProvider) Name() string { return "invoice" }

// RequestTopUp implements PaymentProvider: the pending top-up is the
// invoice; nothing else to do.
func (InvoiceProvider) RequestTopUp(context.Context, *store.TopUp) error { return nil }
