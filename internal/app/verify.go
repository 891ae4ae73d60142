package app

import (
	"log/slog"

	"github.com/omnigate/omnigate/internal/api/messagebird"
	"github.com/omnigate/omnigate/internal/api/twilio"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/verify"
)

// newVerify makes the one-time-code service; its blocks' notices wake the
// notifier.
func (a *App) newVerify(cfg verify.Config, log *slog.Logger) *verify.Service {
	if cfg.Log == nil {
		cfg.Log = log
	}
	if cfg.OnNotice == nil {
		cfg.OnNotice = a.notifier.Notify
	}
	return verify.New(cfg, a.store, a.pipeline, a.metrics)
}

// messageBird is the MessageBird REST door with /verify.
func (a *App) messageBird(st store.Store) *messagebird.API {
	mb := messagebird.New(a.style, st, a.pipeline, a.metrics)
	mb.SetVerify(a.verify)
	mb.UseHLR(a.hlr)
	return mb
}

// withVerify gives the Twilio door Verify v2.
func (a *App) withVerify(t *twilio.API) *twilio.API {
	t.SetVerify(a.verify)
	return t
}
