package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/omnigate/omnigate/internal/api/conversations"
	"github.com/omnigate/omnigate/internal/ids"
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
	// demoTemplateComponents are the demo's approved template's.
	demoTemplateComponents = `[{"type":"BODY","text":"Hello World"}]`
)

func (a *App) startDemoWhatsApp() (channel.Connector, error) {
	sim, err := chatsim.Start(chatsim.Config{AutoRead: true, Log: a.log})
	if err != nil {
		return nil, fmt.Errorf("starting the demo WhatsApp simulator: %w", err)
	}
	a.demoTemplateID = sim.AddTemplate(demoWhatsAppWABA, "hello_world", "en_US", "UTILITY", "APPROVED", demoTemplateComponents)
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

// pinned is a client TLS configuration that trusts exactly cert, the
// server's own: the demo's simulator posts its webhooks to the server in
// the same process at 127.0.0.1, so with --tls-cert it must trust that
// certificate whatever names it holds and whoever issued it (often
// itself: a self-signed one). Anything else presented is refused.
func pinned(cert tls.Certificate) *tls.Config {
	want := cert.Certificate[0]
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by the exact comparison below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], want) {
				return errors.New("not the server's own certificate")
			}
			return nil
		},
	}
}

// DemoWhatsApp is the demo's WhatsApp simulator (nil without --demo).
func (a *App) DemoWhatsApp() *chatsim.Server { return a.demoChat }

// ensureDemoWhatsAppChannel gives the demo account a Conversations channel
// on the demo's WhatsApp number (once), which POST /v1/send takes as its
// "from"; it returns the channel's id.
func ensureDemoWhatsAppChannel(ctx context.Context, st store.Store, accountID, templateID string) (string, error) {
	id, err := demoWhatsAppChannel(ctx, st, accountID)
	if err != nil {
		return "", err
	}
	return id, ensureDemoTemplate(ctx, st, accountID, id, templateID)
}

func demoWhatsAppChannel(ctx context.Context, st store.Store, accountID string) (string, error) {
	// The account owns the business number, so that what the demo's
	// handsets write reaches it (and opens their 24-hour window).
	if err := st.AddNumber(ctx, store.Number{Number: demoWhatsAppNumberID, AccountID: accountID, CreatedAt: time.Now().UTC()}); err != nil && !errors.Is(err, store.ErrConflict) {
		return "", err
	}
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

// ensureDemoTemplate puts the simulator's approved hello_world (en_US) in
// the registry of the demo's WhatsApp channel, so that the demo can send
// it as an hsm.
func ensureDemoTemplate(ctx context.Context, st store.Store, accountID, channelID, providerID string) error {
	err := st.CreateWATemplate(ctx, &store.WATemplate{ID: ids.New(), AccountID: accountID, ChannelID: channelID,
		Connector: DemoWhatsAppConnector, WABAID: demoWhatsAppWABA, Name: "hello_world", Language: "en_US", Category: "UTILITY",
		Components: demoTemplateComponents, Status: store.TemplateApproved, ProviderID: providerID})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
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

// DemoHandset is the demo's handset number, the one the banner's WhatsApp
// send goes to.
const DemoHandset = "31612345678"

// demoHandsetWrites has the demo's handset write to the demo's WhatsApp
// number through the simulator (as POST /_control/reply would), and waits
// (a few seconds at most) until the message is stored: the handset is then
// inside its 24-hour customer-service window, so the banner's free-form
// send goes (whatsapp.session_window refuses free-form messages to anyone
// who has not written in 24 hours).
func (a *App) demoHandsetWrites(ctx context.Context) {
	if a.demoChat == nil || a.Demo == nil {
		return
	}
	since := time.Now().Add(-time.Second)
	if _, err := a.demoChat.HandsetReply(chatsim.Reply{From: DemoHandset, PhoneNumberID: demoWhatsAppNumberID,
		Name: "Demo handset", Text: "Hi! Please keep me posted here."}); err != nil {
		a.log.Warn("demo: the WhatsApp handset could not write", "err", err)
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		last, err := a.store.LastInbound(ctx, a.Demo.ID, message.ChannelWhatsApp, []string{DemoHandset})
		if err == nil && last[DemoHandset].After(since) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	a.log.Warn("demo: the WhatsApp handset's message did not arrive; free-form sends to it are outside the 24-hour window")
}
