package app

import (
	"context"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
)

// fallbackEvery is Config.FallbackEvery's default: how late past its time
// a fallback may fire.
const fallbackEvery = time.Second

// startFallbacks fires the due fallbacks of Conversations sends
// (pipeline.FireFallbacks) every Config.FallbackEvery until the returned
// channel is closed. Every node that dispatches runs it; a claim makes
// each fallback fire once. An API-only node leaves them to the others.
func (a *App) startFallbacks() chan struct{} {
	stop := make(chan struct{})
	if a.cfg.APIOnly {
		return stop
	}
	owner := "fallbacks-" + ids.New() // this run's name in claims
	a.background(func() {
		every(a.cfg.FallbackEvery, stop, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := a.pipeline.FireFallbacks(ctx, owner, time.Now())
			if err != nil {
				a.log.Warn("fallbacks: firing", "err", err)
			}
			if out.Sent+out.Refused > 0 {
				a.webhooks.Notify() // the first messages' "fallback" reports
			}
			if out.Sent+out.Skipped+out.Refused > 0 {
				a.log.Info("fallbacks fired", "sent", out.Sent, "skipped", out.Skipped, "refused", out.Refused, "cancelled", out.Cancelled)
			}
		})
	})
	return stop
}
