package app

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/omnigate/omnigate/internal/smppserver"
)

// startSMPPServer binds the SMPP server for customers when configured;
// with SMPPTLS it speaks SMPP over TLS with the API's certificate.
func (a *App) startSMPPServer(tlsCfg *tls.Config) error {
	if a.cfg.SMPPListen == "" {
		return nil
	}
	cfg := smppserver.Config{Addr: a.cfg.SMPPListen, Log: a.log}
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
