package billing

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/worker"
)

// TopUpConfig tunes the passing of automatic top-ups to the payment
// provider.
type TopUpConfig struct {
	// Pool tunes leasing of top-up jobs; its Kind is set to store.JobTopUp.
	Pool worker.Config
	// Retry spaces attempts; default 10 s doubling to 1 hour.
	Retry worker.Backoff
	// MaxAttempts before a top-up job is dropped (the top-up stays
	// pending); default 12.
	MaxAttempts int
}

// topUps passes automatic top-ups to the payment provider.
type topUps struct {
	store    store.Store
	provider PaymentProvider
	log      *slog.Logger
}

// NewTopUps makes the pool that passes automatic top-ups to the payment
// provider (nil: invoice). They come from jobs written in the transaction
// that charged the message, so none is lost. Start runs it; Notify wakes
// it after a commit that queued top-ups.
func NewTopUps(cfg TopUpConfig, st store.Store, provider PaymentProvider, log *slog.Logger) *worker.Pool {
	cfg.Retry, cfg.MaxAttempts = worker.RetryDefaults(cfg.Retry, cfg.MaxAttempts)
	if provider == nil {
		provider = InvoiceProvider{}
	}
	t := &topUps{store: st, provider: provider, log: log}
	cfg.Pool.Kind = store.JobTopUp
	handle := worker.Retrying(t.request, cfg.Retry, cfg.MaxAttempts, log, "billing: top-up request dropped after retries")
	return worker.New(cfg.Pool, st, handle, nil, log)
}

// request asks the provider for the job's top-up if it is still pending.
func (t *topUps) request(ctx context.Context, j *store.Job) error {
	var p struct {
		TopUp string `json:"topup"`
	}
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		t.log.Error("billing: undecodable top-up job dropped", "err", err)
		return nil
	}
	list, err := t.store.TopUps(ctx, j.AccountID)
	if err != nil {
		return err
	}
	for i := range list {
		if list[i].ID == p.TopUp && list[i].Status == store.TopUpPending {
			return t.provider.RequestTopUp(ctx, &list[i])
		}
	}
	return nil // settled or gone already
}
