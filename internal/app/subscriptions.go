package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/omnigate/omnigate/internal/subscriptions"
)

// SubscriptionsConfig tunes the account lifecycle's pass.
type SubscriptionsConfig struct {
	// Every is how often a pass runs, over all nodes together (one node
	// holds the pass's lease that long); default a minute.
	Every time.Duration
	// Now is the clock tests move; default time.Now.
	Now func() time.Time
}

// newSubscriptions makes the service the APIs and the maintenance loop
// share; suspensions go through the compliance desk, the same one the
// console and the admin API use; a deleted account's numbers go back to
// the inventory.
func (a *App) newSubscriptions(cfg SubscriptionsConfig, node string, log *slog.Logger) *subscriptions.Service {
	return subscriptions.New(subscriptions.Config{Store: a.store, Desk: a.desk, Audit: a.changes, Node: node, Every: cfg.Every,
		Now: cfg.Now, Notify: a.notifier.Notify, Log: log,
		Release: func(ctx context.Context, accountID string) error {
			_, err := a.numbers.ReleaseAccount(ctx, accountID, "account deleted")
			return err
		}})
}

// maintainSubscriptions renews subscriptions, runs dunning and deletes
// ended trials and unused free accounts, on one node per pass.
func (a *App) maintainSubscriptions(ctx context.Context) {
	if _, err := a.subs.Run(ctx); err != nil {
		a.log.Warn("maintenance: subscriptions", "err", err)
	}
}
