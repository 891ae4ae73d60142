package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/omnigate/omnigate/internal/api/conversations"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"

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

// ensureDemoWhatsAppChannel gives the demo account a Conversations channel
// on the demo's WhatsApp number (once), which POST /v1/send takes as its
// "from"; it returns the channel's id.
func ensureDemoWhatsAppChannel(ctx context.Context, st store.Store, accountID string) (string, error) {
	list, _, err := st.ListConvChannels(ctx, accountID, 1000, 0)
	if err != nil {
		return "", err
	}
	for _, c := range list {
		if c.Kind == message.ChannelWhatsApp && c.Sender == demoWhatsAppNumberID {
			return c.ID, nil
		}
	}
	c, err := conversations.AddChannel(ctx, st, accountID, message.ChannelWhatsApp, demoWhatsAppNumberID, "demo WhatsApp")
	if err != nil {
		return "", err
	}
	return c.ID, nil
}

// printDemoWhatsApp writes the demo banner's WhatsApp part.
func (a *App) printDemoWhatsApp(w io.Writer) {
	if a.demoChat == nil || a.demoWhatsAppChannel == "" {
		return
	}
	fmt.Fprintf(w, `Send your first WhatsApp message (to the built-in WhatsApp Cloud API simulator; the handset reads it):

curl -X POST %[1]s/v1/send \
  -H "Authorization: AccessKey %[2]s" -H "Content-Type: application/json" \
  -d '{"to":"+31612345678","from":"%[3]s","type":"text","content":{"text":"Hello from omnigate"}}'

Read it back with curl -H "Authorization: AccessKey %[2]s" %[1]s/v1/messages/ID
(sent, delivered, then the "read" event).

`, a.URL(), a.Demo.Key, a.demoWhatsAppChannel)
}
