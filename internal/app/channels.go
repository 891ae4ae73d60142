package app

import (
	"github.com/omnigate/omnigate/internal/channel"
	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/channel/sms"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/compliance/keywords"
	"github.com/omnigate/omnigate/internal/message"
)

// Channels is the registry of the channels and connector kinds omnigate
// runs, filled here and nowhere else: a new channel or connector kind is
// one line in this function (see docs/architecture.md).
func Channels() *channel.Registry {
	reg := channel.NewRegistry()
	reg.AddChannel(sms.Spec(sms.Config{}))
	reg.AddKind(smppconn.Kind())
	return reg
}

// complianceRules are each channel's compliance rules: SMS gets every rule
// of a phone channel; email gets consent, suppressions, rotating senders and
// content, and its own rules (postal address, role addresses; the sending
// domain once it is wired: EmailConfig.SenderDomain).
func complianceRules() map[string]compliance.ChannelRules {
	return map[string]compliance.ChannelRules{
		message.ChannelSMS:   compliance.PhoneRules,
		message.ChannelEmail: {Check: compliance.EmailCheck(compliance.EmailConfig{})},
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
