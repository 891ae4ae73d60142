package app

import (
	"context"

	"github.com/omnigate/omnigate/internal/api/twilio"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/webhook"
)

// twilioInbound forwards an inbound SMS to its number's Twilio SmsUrl
// (IncomingPhoneNumbers), when it has one, and sends the TwiML replies.
func (a *App) twilioInbound(ctx context.Context, m *message.Message) (*webhook.FormCall, error) {
	c, err := twilio.Inbound{Store: a.store, Pipeline: a.pipeline, Log: a.log}.Call(ctx, m)
	if err != nil || c == nil {
		return nil, err
	}
	return &webhook.FormCall{Method: c.Method, URL: c.URL, Params: c.Params, Header: twilio.HeaderSignature,
		Signature: c.Signature, Answer: c.Answer, MaxAnswer: twilio.MaxTwiML}, nil
}
