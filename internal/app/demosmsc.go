package app

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/smsc"
)

// demoConnector is the name of the demo's built-in connector.
const demoConnector = "demo-smsc"

// startDemoSMSC runs the SMSC simulator in the process, on a free loopback
// port, and a connector bound to it that every SMS falls back to: the demo
// delivers through real SMPP, submits and receipts, without a carrier.
func (a *App) startDemoSMSC() (channel.Connector, error) {
	srv, err := smsc.Start(smsc.Config{Listen: "127.0.0.1:0", SystemID: "demo", ReceiptDelay: a.cfg.DemoReceiptDelay, Log: a.log})
	if err != nil {
		return nil, fmt.Errorf("starting the demo SMSC: %w", err)
	}
	a.demoSMSC = srv
	host, port, _ := net.SplitHostPort(srv.Addr())
	p, _ := strconv.Atoi(port)
	conn, err := smppconn.New(demoConnector, smppconn.Settings{
		Host: host, Port: p, SystemID: "demo", Window: 50,
		ReconnectMin: smppconn.Duration(100 * time.Millisecond), ReconnectMax: smppconn.Duration(2 * time.Second),
	}, a.receiver, a.log)
	if err != nil {
		return nil, err
	}
	a.connectors.AddBuiltIn(conn)
	return conn, nil
}
