package compliance

import (
	"context"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// The WhatsApp channel's own rules (issue 15, CHAT-4), run by the engine
// after the common ones on the recipients still in:
//
//   - whatsapp.session_window: a free-form message (any type but "hsm")
//     goes only to a recipient who wrote to the account on WhatsApp within
//     the last 24 hours (the customer-service window); others are refused
//     one by one (4107). A template (hsm) may open a conversation;
//   - whatsapp.opt_in: a template is business-initiated, so it needs the
//     recipient's opt-in on record: the consent ledger's latest entry for
//     the message's purpose (for a transactional one, else for marketing)
//     is an opt-in; others are refused one by one (4108).
//
// The platform's own answers to a keyword (Request.Reply) follow a message
// the recipient just sent, and are not checked.

// Rule ids of the WhatsApp channel.
const (
	RuleWhatsAppWindow = "whatsapp.session_window"
	RuleWhatsAppOptIn  = "whatsapp.opt_in"
)

// WhatsAppWindow is the customer-service window: how long after a
// recipient's last message free-form messages may reach them.
const WhatsAppWindow = 24 * time.Hour

// WhatsAppStore is what the WhatsApp rules read.
type WhatsAppStore interface {
	LastInbound(ctx context.Context, accountID, channel string, addresses []string) (map[string]time.Time, error)
	LatestConsents(ctx context.Context, accountID, purpose string, recipients []string) (map[string]store.Consent, error)
}

// WhatsAppCheck is the WhatsApp channel's ChannelRules.Check.
func WhatsAppCheck(st WhatsAppStore) func(ctx context.Context, req Request) (Decision, error) {
	return func(ctx context.Context, req Request) (Decision, error) {
		d := Decision{Outcome: Allow}
		if req.Reply || len(req.Recipients) == 0 {
			return d, nil
		}
		addresses := make([]string, len(req.Recipients))
		for i, r := range req.Recipients {
			addresses[i] = strings.TrimPrefix(strings.TrimSpace(r.Address), "+")
		}
		if req.Type != "hsm" {
			last, err := st.LastInbound(ctx, req.AccountID, message.ChannelWhatsApp, addresses)
			if err != nil {
				return Decision{}, err
			}
			since := req.now().Add(-WhatsAppWindow)
			for i, a := range addresses {
				if at, ok := last[a]; !ok || at.Before(since) {
					why := "the recipient has never written to the account on WhatsApp"
					if ok {
						why = "the recipient last wrote at " + at.UTC().Format(time.RFC3339)
					}
					d.Refused = append(d.Refused, Refusal{Index: i, Recipient: req.Recipients[i].Address, Rule: RuleWhatsAppWindow,
						Reason: "a free-form WhatsApp message goes only within 24 hours of the recipient's last message (the customer-service window), and " +
							why + "; send a template (type hsm) instead"})
				}
			}
			return d, nil
		}
		purpose := req.Purpose
		if purpose == "" {
			purpose = Transactional
		}
		latest, err := st.LatestConsents(ctx, req.AccountID, purpose, addresses)
		if err != nil {
			return Decision{}, err
		}
		var marketing map[string]store.Consent
		if purpose != Marketing {
			if marketing, err = st.LatestConsents(ctx, req.AccountID, Marketing, addresses); err != nil {
				return Decision{}, err
			}
		}
		for i, a := range addresses {
			c, ok := latest[a]
			if !ok {
				c, ok = marketing[a]
			}
			if !ok || c.Action != store.OptIn {
				d.Refused = append(d.Refused, Refusal{Index: i, Recipient: req.Recipients[i].Address, Rule: RuleWhatsAppOptIn,
					Reason: "a WhatsApp template starts a business-initiated conversation, which needs the recipient's opt-in, and there is none on record"})
			}
		}
		return d, nil
	}
}
