package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"

	"github.com/omnigate/omnigate/internal/api/smtpsubmit"
	"github.com/omnigate/omnigate/internal/mailin"
)

// verpPurpose names the keyring-derived key that tags return paths and
// unsubscribe addresses (internal/email/verp).
const verpPurpose = "verp"

// VERPSecret is the key return-path and unsubscribe local parts are tagged
// with: the same on every node sharing the database, and across key
// rotations (keyring.Derive).
func (a *App) VERPSecret() []byte { return a.store.Keyring().Derive(verpPurpose) }

// startMailIn binds the inbound SMTP listener when it is configured.
func (a *App) startMailIn() error {
	addr := a.cfg.SMTPInbound
	if addr == "" && a.cfg.Demo {
		addr = "127.0.0.1:0"
	}
	if addr == "" {
		return nil
	}
	secret := a.VERPSecret()
	if secret == nil {
		return errors.New("smtp-inbound: the keyring has no data key")
	}
	host, _ := os.Hostname()
	srv, err := mailin.New(mailin.Config{Addr: addr, Domain: host}, mailin.Deps{
		Store: a.store, Receipts: a.receiver, Secret: secret, Metrics: a.metrics, Log: a.log,
		Complaint: func(ctx context.Context, accountID, recipient, source, note string) error {
			_, _, err := a.desk.Complaint(ctx, accountID, recipient, source, note)
			return err
		},
	})
	if err != nil {
		return fmt.Errorf("smtp-inbound: listening on %s: %w", addr, err)
	}
	a.mailIn = srv
	return nil
}

// SMTPInboundAddr is the inbound SMTP listener's address, "" when off.
func (a *App) SMTPInboundAddr() string {
	if a.mailIn == nil {
		return ""
	}
	return a.mailIn.Addr()
}

// startSubmission binds the SMTP submission door when it is configured;
// it offers STARTTLS with the API's certificate when there is one.
func (a *App) startSubmission(tlsCfg *tls.Config) error {
	if a.cfg.SMTPSubmission == "" {
		return nil
	}
	host, _ := os.Hostname()
	srv, err := smtpsubmit.New(smtpsubmit.Config{Addr: a.cfg.SMTPSubmission, Domain: host, TLS: tlsCfg, InsecureAuth: a.cfg.SMTPSubmissionInsecureAuth},
		a.auth, a.guard, a.pipeline, a.metrics, a.log)
	if err != nil {
		return fmt.Errorf("smtp-submission: listening on %s: %w", a.cfg.SMTPSubmission, err)
	}
	a.submission = srv
	return nil
}

// SMTPSubmissionAddr is the submission door's address, "" when off.
func (a *App) SMTPSubmissionAddr() string {
	if a.submission == nil {
		return ""
	}
	return a.submission.Addr()
}
