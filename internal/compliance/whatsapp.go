package compliance

import (
	"context"
	"strings"
	"sync"
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
	seen := newInboundCache(100000)
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
			since := req.now().Add(-WhatsAppWindow)
			last, err := seen.lastInbound(ctx, st, req.AccountID, addresses, since)
			if err != nil {
				return Decision{}, err
			}
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

// inboundCache remembers, per account and number, a last inbound time that
// opens the window: a window seen open stays open until that time plus 24
// hours whatever the number writes later, so the answer needs no query
// until then. Only open windows are kept (a closed one may open on any
// node at any moment). Bounded: it starts again empty when full.
type inboundCache struct {
	max int
	mu  sync.Mutex
	at  map[string]time.Time // account + "/" + number
}

func newInboundCache(max int) *inboundCache {
	return &inboundCache{max: max, at: map[string]time.Time{}}
}

// lastInbound is Store.LastInbound for the addresses, from memory for
// those whose window is known to be open at since.
func (c *inboundCache) lastInbound(ctx context.Context, st WhatsAppStore, accountID string, addresses []string, since time.Time) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(addresses))
	var ask []string
	c.mu.Lock()
	for _, a := range addresses {
		if at, ok := c.at[accountID+"/"+a]; ok && !at.Before(since) {
			out[a] = at
		} else {
			ask = append(ask, a)
		}
	}
	c.mu.Unlock()
	if len(ask) == 0 {
		return out, nil
	}
	last, err := st.LastInbound(ctx, accountID, message.ChannelWhatsApp, ask)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for a, at := range last {
		out[a] = at
		if !at.Before(since) {
			if len(c.at) >= c.max {
				clear(c.at)
			}
			c.at[accountID+"/"+a] = at
		}
	}
	return out, nil
}
