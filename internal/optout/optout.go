// Package optout acts on recipients' keyword messages. An inbound message
// that is an opt-out word in the recipient's language (STOP, ARRÊT, توقف,
// 退订 …) is recorded in the account's consent ledger, which suppresses the
// recipient; an opt-in word (START, UNSTOP …) records an opt-in, which
// lifts that suppression; HELP is answered with the account's help text.
// Each is confirmed to the recipient in the language of the word, from the
// number they wrote to.
package optout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/compliance/keywords"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// Handler is the inbound hook.
type Handler struct {
	store    store.Store
	pipeline *pipeline.Pipeline
	log      *slog.Logger
}

// New makes the handler; add its Hook to the pipeline.
func New(st store.Store, p *pipeline.Pipeline, log *slog.Logger) *Handler {
	return &Handler{store: st, pipeline: p, log: log}
}

// Hook is a pipeline.InboundHook.
func (h *Handler) Hook(ctx context.Context, m *message.Message) error {
	if (m.Channel != message.ChannelSMS && m.Channel != message.ChannelWhatsApp) || m.AccountID == "" || len(m.Recipients) == 0 {
		return nil
	}
	// A keyword sent over WhatsApp is about WhatsApp: it opts the number
	// out of (or back into) that channel only, and SMS still goes. SMS
	// keywords stay for every channel, as they always were.
	var only string
	if m.Channel == message.ChannelWhatsApp {
		only = message.ChannelWhatsApp
	}
	from, err := phone.Parse(m.Originator)
	if err != nil {
		return nil // an alphanumeric or short-code sender cannot opt out by number
	}
	match := keywords.ClassifyFor(m.Body, from.Country)
	if match.Kind == keywords.None {
		return nil
	}
	var errs []error
	action := map[keywords.Kind]string{keywords.OptOut: store.OptOut, keywords.OptIn: store.OptIn}[match.Kind]
	if action != "" {
		c := &store.Consent{AccountID: m.AccountID, Recipient: from.MSISDN, Purpose: compliance.Marketing, Action: action,
			Source: store.SourceKeyword, Actor: "recipient", CreatedAt: m.CreatedAt, Channel: only,
			Evidence: map[string]string{"text": m.Body, "reference": m.ID, "keyword": match.Keyword, "language": match.Language,
				"to": m.Recipients[0].Address}}
		if err := h.store.AddConsents(ctx, []*store.Consent{c}); err != nil {
			// Without the record the confirmation would be a lie.
			return fmt.Errorf("recording %s of %s: %w", action, from.MSISDN, err)
		}
		h.log.Info("compliance: keyword recorded", "account", m.AccountID, "recipient", from.MSISDN, "action", action, "keyword", match.Keyword,
			"language", match.Language, "channel", m.Channel)
	}
	text := keywords.Confirmation(match.Kind, match.Language)
	if match.Kind == keywords.Help {
		p, err := h.store.GetPolicy(ctx, m.AccountID)
		if err != nil {
			return err
		}
		text = keywords.HelpReply(match.Language, strings.TrimSpace(p.HelpText))
	}
	// The confirmation goes back on the channel the keyword came on (on
	// WhatsApp as a free-form text inside the window the keyword opened).
	reply := &message.Message{AccountID: m.AccountID, Channel: m.Channel, Originator: m.Recipients[0].Address, Body: text, Purpose: compliance.Transactional,
		Reference: "keyword:" + m.ID, Recipients: []message.Recipient{{Address: from.MSISDN}}}
	if m.Channel == message.ChannelSMS {
		reply.Type = message.TypeSMS
	}
	if err := h.pipeline.Accept(ctx, reply, pipeline.Options{Reply: true}); err != nil {
		errs = append(errs, fmt.Errorf("confirming %s to %s: %w", match.Kind, from.MSISDN, err))
	}
	return errors.Join(errs...)
}
