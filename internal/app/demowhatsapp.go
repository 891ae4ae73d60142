package app

import (
	"encoding/json"
	"fmt"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/channel/whatsapp"
	"github.com/omnigate/omnigate/internal/chatsim"
)

// The demo's WhatsApp: the Cloud API simulator in the process, every
// handset reading what it is delivered (so a demo message reaches read),
// no 24-hour window, the template hello_world (en_US) approved, and a
// built-in connector to it that every WhatsApp message falls back to. Its
// webhooks come back to the API server once it listens.
const (
	// DemoWhatsAppConnector is the built-in connector's name (and the
	// last part of its webhook path).
	DemoWhatsAppConnector = "demo-whatsapp"
	demoWhatsAppNumberID  = "100000000000001"
	demoWhatsAppWABA      = "200000000000001"
)

func (a *App) startDemoWhatsApp() (channel.Connector, error) {
	sim, err := chatsim.Start(chatsim.Config{AutoRead: true, Log: a.log})
	if err != nil {
		return nil, fmt.Errorf("starting the demo WhatsApp simulator: %w", err)
	}
	sim.AddTemplate(demoWhatsAppWABA, "hello_world", "en_US", "UTILITY", "APPROVED", `[{"type":"BODY","text":"Hello World"}]`)
	settings, _ := json.Marshal(whatsapp.Settings{BaseURL: sim.URL() + "/v21.0", PhoneNumberID: demoWhatsAppNumberID,
		AccessToken: "test-token", AppSecret: "test-secret", VerifyToken: "test-verify", WABAID: demoWhatsAppWABA})
	conn, err := whatsapp.New(DemoWhatsAppConnector, settings, a.receiver, a.log)
	if err != nil {
		sim.Stop()
		return nil, err
	}
	a.demoChat = sim
	a.connectors.AddBuiltIn(conn)
	return conn, nil
}

// DemoWhatsApp is the demo's WhatsApp simulator (nil without --demo).
func (a *App) DemoWhatsApp() *chatsim.Server { return a.demoChat }
