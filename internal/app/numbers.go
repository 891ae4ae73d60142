package app

import (
	"context"
	"log/slog"

	"github.com/omnigate/omnigate/internal/numbers"
)

// newNumbers makes the numbers service (docs/numbers.md); its notices
// wake the notifier.
func (a *App) newNumbers(cfg numbers.Config, log *slog.Logger) *numbers.Service {
	if cfg.Notify == nil {
		cfg.Notify = a.notifier.Notify
	}
	return numbers.New(cfg, a.store, log)
}

// Numbers is the numbers service (the CLI and tests use it).
func (a *App) Numbers() *numbers.Service { return a.numbers }

// maintainNumbers renews due numbers and reclaims idle ones (NUM-4).
func (a *App) maintainNumbers(ctx context.Context) {
	if n, err := a.numbers.Maintain(ctx); err != nil {
		a.log.Warn("maintenance: numbers", "err", err)
	} else if n > 0 {
		a.log.Info("maintenance: numbers returned to the inventory", "numbers", n)
	}
}
