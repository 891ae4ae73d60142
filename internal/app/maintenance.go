package app

import (
	"context"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
)

// How long unmatched things are kept.
const (
	pendingReceiptTTL = time.Hour      // a receipt that matched no part
	inboundPartTTL    = 24 * time.Hour // a part of a message whose other parts never came
	maintenanceEvery  = time.Minute
)

// startMaintenance purges what can no longer be matched and suspends
// accounts whose proof-of-consent cases expired, every minute until the
// returned channel is closed.
func (a *App) startMaintenance() chan struct{} {
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(maintenanceEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			a.maintain()
		}
	}()
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
	if _, err := a.store.PurgeMarketingSenders(ctx, now.Add(-compliance.RotationWindow)); err != nil {
		a.log.Warn("maintenance: purging marketing senders", "err", err)
	}
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
