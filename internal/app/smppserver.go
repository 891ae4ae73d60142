package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smppserver"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/webhook"
)

// startSMPPServer binds the SMPP server for customers when configured;
// with SMPPTLS it speaks SMPP over TLS with the API's certificate.
func (a *App) startSMPPServer(tlsCfg *tls.Config) error {
	if a.cfg.SMPPListen == "" {
		return nil
	}
	cfg := smppserver.Config{Addr: a.cfg.SMPPListen, Log: a.log, ReceiverBound: a.smppReceiverBound, PartsWait: a.cfg.SMPPPartsWait}
	if a.cfg.SMPPTLS {
		if tlsCfg == nil {
			return errors.New("smpp-tls needs tls-cert and tls-key")
		}
		cfg.TLS = tlsCfg
	}
	srv, err := smppserver.New(cfg, a.store, a.guard, a.pipeline)
	if err != nil {
		return fmt.Errorf("smpp-listen: listening on %s: %w", a.cfg.SMPPListen, err)
	}
	a.smppDoor = srv
	return nil
}

// SMPPAddr is the SMPP server's address, "" when off.
func (a *App) SMPPAddr() string {
	if a.smppDoor == nil {
		return ""
	}
	return a.smppDoor.Addr()
}

// smppWait is how long a receipt or inbound message waits before it looks
// again for a receiver of its account; a bind wakes it sooner.
const smppWait = 5 * time.Minute

// smppReceipt is the webhook sender's deliverer of reports of messages
// submitted over SMPP: deliver_sm receipts to the account's receivers.
func (a *App) smppReceipt(ctx context.Context, m *message.Message, rep store.Report) error {
	if a.smppDoor == nil {
		return &webhook.WaitError{Reason: smppserver.WaitReason, After: smppWait}
	}
	return smppOutcome(a.smppDoor.DeliverReport(ctx, m, rep))
}

// smppInbound is the webhook sender's forwarder of inbound messages of
// accounts without an inbound URL: deliver_sm to the account's receivers
// when it has SMPP credentials.
func (a *App) smppInbound(ctx context.Context, m *message.Message) error {
	if a.smppDoor == nil {
		return webhook.Drop("no inbound URL")
	}
	return smppOutcome(a.smppDoor.DeliverInbound(ctx, m))
}

// smppOutcome maps the SMPP server's answers to the webhook sender's.
func smppOutcome(err error) error {
	switch {
	case errors.Is(err, smppserver.ErrNotWanted), errors.Is(err, smppserver.ErrNoCredentials):
		return webhook.Drop(err.Error())
	case errors.Is(err, smppserver.ErrNoReceiver):
		return &webhook.WaitError{Reason: smppserver.WaitReason, After: smppWait}
	}
	return err
}

// smppReceiverBound makes what waits for a receiver of the account due.
func (a *App) smppReceiverBound(accountID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, kind := range []string{store.JobReport, store.JobInbound} {
		n, err := a.store.WakeJobs(ctx, kind, accountID, smppserver.WaitReason)
		if err != nil {
			a.log.Warn("SMPP server: waking receipts", "account", accountID, "err", err)
			continue
		}
		if n > 0 && kind == store.JobReport {
			a.webhooks.Notify()
		} else if n > 0 {
			a.webhooks.NotifyInbound()
		}
	}
}
