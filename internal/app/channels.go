package app

import (
	"context"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	emailchan "github.com/omnigate/omnigate/internal/channel/email"
	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/channel/sms"
	smtpconn "github.com/omnigate/omnigate/internal/channel/smtp"
	"github.com/omnigate/omnigate/internal/channel/whatsapp"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/compliance/keywords"
	"github.com/omnigate/omnigate/internal/email/compose"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Channels is the registry of the channels and connector kinds omnigate
// runs with the default dependencies (what the CLI needs: names, kinds,
// settings checks).
func Channels() *channel.Registry { return ChannelsWith(ChannelDeps{}) }

// ChannelDeps are what channels and connector kinds take from the app.
// Zero values mean the defaults.
type ChannelDeps struct {
	// ComposeEmail builds an email for a recipient with its envelope;
	// default composeEmail (MIME, envelope sender = originator).
	ComposeEmail smtpconn.Composer
	// EmailBounced hears of synchronous bounces (nil: none).
	EmailBounced smtpconn.BounceHook
	// EmailSettle is how long after a 250 an email recipient without a
	// bounce becomes delivered; default emailchan.SettleAfter.
	EmailSettle time.Duration
}

// ChannelsWith is the registry of the channels and connector kinds
// omnigate runs, filled here and nowhere else: a new channel or connector
// kind is one line in this function (see docs/architecture.md).
func ChannelsWith(d ChannelDeps) *channel.Registry {
	if d.ComposeEmail == nil {
		d.ComposeEmail = composeEmail
	}
	reg := channel.NewRegistry()
	reg.AddChannel(sms.Spec(sms.Config{}))
	reg.AddKind(smppconn.Kind())
	reg.AddChannel(emailchan.Spec(emailchan.Config{SettleAfter: d.EmailSettle}))
	reg.AddKind(smtpconn.Kind(d.ComposeEmail, d.EmailBounced))
	reg.AddChannel(whatsapp.Spec())
	reg.AddKind(whatsapp.Kind())
	return reg
}

// composeEmail is the composer of a registry without the app (the CLI's,
// which sends nothing): the MIME message, sent from the originator. The
// app's is emailComposer (DKIM, VERP, unsubscribe, tracking).
func composeEmail(_ context.Context, m *message.Message, r *message.Recipient) (smtpconn.Envelope, []byte, error) {
	b, err := compose.Build(m, r, compose.Options{ProviderID: emailchan.ProviderID(m.ID, r.Seq)})
	return smtpconn.Envelope{From: m.Originator}, b, err
}

// complianceRules are each channel's compliance rules: SMS gets every rule
// of a phone channel; email none of the phone rules (no number registries,
// no sender approval — sending domains are verified instead — no quiet
// hours) and its own: postal address, role addresses and the sending domain
// (EmailConfig.SenderDomain).
func complianceRules(st store.Store) map[string]compliance.ChannelRules {
	return map[string]compliance.ChannelRules{
		message.ChannelSMS: compliance.PhoneRules,
		// WhatsApp recipients are phone numbers: consent, suppressions,
		// do-not-disturb registries and quiet hours as for SMS; no sender
		// approval (the business number is verified by Meta); and its own:
		// the 24-hour customer-service window for free-form messages, the
		// recipient's opt-in for templates (compliance.WhatsAppCheck).
		message.ChannelWhatsApp: {Numbers: true, QuietHours: true, Check: compliance.WhatsAppCheck(st)},
		message.ChannelEmail: {Check: compliance.EmailCheck(compliance.EmailConfig{
			SenderDomain: compliance.NewEmailDomains(st, 0).Check})},
	}
}

// smsInstruction is the opt-out instruction appended to marketing: SMS
// recipients are told how to stop (in their country's language).
func smsInstruction(channel, country string) string {
	if channel != message.ChannelSMS {
		return ""
	}
	text, _ := keywords.OptOutInstruction(country)
	return text
}
