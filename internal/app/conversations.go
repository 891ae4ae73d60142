package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/omnigate/omnigate/internal/api/conversations"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/webhook"
)

// conversationHooks wires the Conversations API's parts that are not the
// door: the inbound hook that opens or continues a contact's conversation,
// and the deliverer of /v1/webhooks events.
func conversationHooks(st store.Store, sender *webhook.Sender, publicURL string, log *slog.Logger) (*webhook.ConvDeliverer, func(context.Context, *message.Message) error) {
	deliverer := sender.Conversations(func(ctx context.Context, d *store.WebhookDelivery) (webhook.ConvCall, error) {
		return conversations.EventBody(ctx, st, publicURL, d)
	})
	hook := func(ctx context.Context, m *message.Message) error {
		if m.Direction != message.MO || (m.Channel != message.ChannelSMS && m.Channel != message.ChannelWhatsApp) || len(m.Recipients) == 0 {
			return nil
		}
		ch, err := inboundChannel(ctx, st, m.AccountID, m.Channel, m.Recipients[0].Address, m.Details.Endpoint)
		if err != nil || ch == nil {
			return err
		}
		conv, _, err := st.OpenConversation(ctx, store.OpenConversation{AccountID: m.AccountID, MSISDN: m.Originator, ChannelID: ch.ID,
			Inbound: true, At: m.CreatedAt})
		if err != nil {
			return fmt.Errorf("opening the conversation of %s: %w", m.ID, err)
		}
		if err := st.LinkInbound(ctx, m.AccountID, conv.ID, ch.ID, m.ID); err != nil {
			return fmt.Errorf("linking %s to conversation %s: %w", m.ID, conv.ID, err)
		}
		deliverer.Notify()
		return nil
	}
	return deliverer, hook
}

// inboundChannel is the account's channel an inbound message came in on:
// the active channel of its kind whose sender is the endpoint it came to
// (a whatsapp channel's sender is the business number's phone number id)
// or the number written to, else the account's oldest active channel of
// that kind (an account's numbers all reach its sms channel). nil when the
// account has none: the message joins no conversation.
func inboundChannel(ctx context.Context, st store.Store, accountID, kind, to, endpoint string) (*store.ConvChannel, error) {
	var first, byNumber *store.ConvChannel
	for offset := 0; ; offset += 200 {
		list, total, err := st.ListConvChannels(ctx, accountID, 200, offset)
		if err != nil {
			return nil, fmt.Errorf("reading channels: %w", err)
		}
		for _, c := range list {
			if c.Kind != kind || c.Status != store.ChannelActive {
				continue
			}
			if endpoint != "" && c.Sender == endpoint {
				return c, nil
			}
			if c.Sender == to && byNumber == nil {
				byNumber = c
			}
			if first == nil {
				first = c
			}
		}
		if offset+len(list) >= total || len(list) == 0 {
			if byNumber != nil {
				return byNumber, nil
			}
			return first, nil
		}
	}
}
