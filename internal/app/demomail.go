package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	emailchan "github.com/omnigate/omnigate/internal/channel/email"
	smtpconn "github.com/omnigate/omnigate/internal/channel/smtp"
	"github.com/omnigate/omnigate/internal/email/domains"
	"github.com/omnigate/omnigate/internal/mailsink"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// The demo's email: a sending domain of the demo account (its DKIM key
// made here, taken as verified since a demo has no DNS to publish in), a
// built-in receiving mail server (the mail sink) that keeps what it gets
// in a maildir under the data directory, and a connector relaying every
// email to it.
const (
	// DemoEmailDomain is the demo account's sending domain (.test: never a
	// real one).
	DemoEmailDomain = "demo.omnigate.test"
	// demoEmailFrom is the From of the demo's email.
	demoEmailFrom = "news@" + DemoEmailDomain
	// demoMailConnector is the built-in connector to the mail sink.
	demoMailConnector = "demo-mail"
	// demoMailDir is the mail sink's maildir root in the data directory.
	demoMailDir = "demo-mail"
	// DemoEmailSettle is how long after the sink's 250 a demo email without
	// a bounce becomes delivered (serve --demo without --email-settle).
	DemoEmailSettle = 5 * time.Second
)

// startDemoMail runs the mail sink and the connector relaying to it; bounces
// and complaints the sink sends back go to the inbound listener (which the
// demo always runs). It returns the connector every email falls back to.
func (a *App) startDemoMail() (channel.Connector, error) {
	sink, err := mailsink.Start(mailsink.Config{Listen: "127.0.0.1:0", Dir: a.DemoMailDir(), Hostname: "inbox.test",
		ReportRelay: a.SMTPInboundAddr(), Log: a.log})
	if err != nil {
		return nil, fmt.Errorf("starting the demo mail server: %w", err)
	}
	a.demoMail = sink
	settings, _ := json.Marshal(map[string]any{"relay": sink.Addr(), "tls": "off", "heloName": DemoEmailDomain})
	conn, err := smtpconn.New(demoMailConnector, settings, a.composer.compose, a.log)
	if err != nil {
		sink.Stop()
		return nil, err
	}
	a.connectors.AddBuiltIn(conn)
	return conn, nil
}

// DemoMailDir is where the demo's mail server keeps what it receives: one
// maildir per recipient address (<dir>/<address>/new/…).
func (a *App) DemoMailDir() string { return filepath.Join(a.cfg.DataDir, demoMailDir) }

// ensureDemoEmail gives the demo account its sending domain (once) and an
// email price when the price list has none.
func ensureDemoEmail(ctx context.Context, st store.Store, accountID string) error {
	if _, err := st.EmailDomain(ctx, accountID, DemoEmailDomain); errors.Is(err, store.ErrNotFound) {
		d, err := domains.New(accountID, DemoEmailDomain, "ed25519", "", time.Now().UTC())
		if err != nil {
			return err
		}
		if err := st.AddEmailDomain(ctx, d); err != nil {
			return err
		}
		if err := st.RecordEmailDomainCheck(ctx, accountID, DemoEmailDomain,
			json.RawMessage(`{"demo":"taken as verified: a demo domain has no DNS to publish in"}`), true, time.Now().UTC()); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	prices, err := st.Prices(ctx)
	if err != nil {
		return err
	}
	for _, p := range prices {
		if p.Channel == message.ChannelEmail {
			return nil
		}
	}
	return st.UpsertPrices(ctx, []store.Price{{Channel: message.ChannelEmail, Currency: "EUR", Price: demoEmailPrice, UpdatedAt: time.Now().UTC()}})
}

// demoEmailPrice is the demo's price of an email: 0.001 EUR.
const demoEmailPrice = message.MicrosPerUnit / 1000

// printDemoEmail writes the demo banner's email part: a first email, where
// it lands, and the addresses that show bounces and complaints.
func (a *App) printDemoEmail(w io.Writer) {
	if a.demoMail == nil {
		return
	}
	fmt.Fprintf(w, `Send your first email (DKIM-signed by %[3]s; the built-in mail server keeps it):

curl -X POST %[1]s/v1/send \
  -H "Authorization: AccessKey %[2]s" -H "Content-Type: application/json" \
  -d '{"type":"email","content":{"email":{"from":{"email":"%[4]s","name":"omnigate demo"},"to":[{"email":"ann@inbox.test"}],"subject":"Hello","content":{"text":"Hello from omnigate"}}}}'

Read it back with curl -H "Authorization: AccessKey %[2]s" %[1]s/v1/messages/ID
(sent, then delivered after %[6]s without a bounce); the mail itself, with its
DKIM-Signature, is in %[5]s/ann@inbox.test/new/.
Send to bounce@inbox.test (refused), asyncbounce@inbox.test (a bounce report
later) or complain@inbox.test (a spam complaint) to see those paths.

`, a.URL(), a.Demo.Key, DemoEmailDomain, demoEmailFrom, a.DemoMailDir(), cmp.Or(a.cfg.EmailSettle, emailchan.SettleAfter))
}
