package twilio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// InboundCall is the request that forwards an inbound SMS to its number's
// SmsUrl in Twilio's form, and what to do with the answer.
type InboundCall struct {
	Method    string // POST: Params are the body; GET: they are in URL
	URL       string
	Params    url.Values
	Signature string // X-Twilio-Signature
	// Answer sends the <Message> replies of a 2xx answer's TwiML; an error
	// is a document that could not be read (Twilio's 12100), which is not
	// retried.
	Answer func(ctx context.Context, body []byte) error
}

// Inbound forwards inbound SMS to numbers that have a Twilio SmsUrl
// (IncomingPhoneNumbers) and sends the TwiML replies through the pipeline.
type Inbound struct {
	Store    store.Store
	Pipeline *pipeline.Pipeline
	Log      *slog.Logger
}

// Call is the request for inbound message m; nil if m's number has no
// Twilio SmsUrl (it is forwarded as the account's other inbound messages).
func (in Inbound) Call(ctx context.Context, m *message.Message) (*InboundCall, error) {
	if m.Channel != message.ChannelSMS || m.Direction != message.MO || len(m.Recipients) == 0 {
		return nil, nil
	}
	number := m.Recipients[0].Address
	target, method := "", http.MethodPost
	n, err := in.Store.TwilioNumber(ctx, number)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	case n.AccountID == m.AccountID && n.SID == numberSID(m.AccountID, number) && n.SMSURL != "":
		// (settings of another account, or of an earlier assignment, are not this number's)
		target, method = n.SMSURL, n.SMSMethod
	}
	svc, err := in.serviceOf(ctx, m.AccountID, number)
	if err != nil {
		return nil, err
	}
	if svc != nil && svc.InboundURL != "" {
		target, method = svc.InboundURL, svc.InboundMethod
	}
	if target == "" {
		return nil, nil
	}
	acct, err := in.Store.TwilioAccount(ctx, m.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // no Twilio credentials to sign with
	} else if err != nil {
		return nil, err
	}
	from, to := phoneText(m.Originator), phoneText(number)
	p := url.Values{}
	p.Set("MessageSid", SID(m.ID))
	p.Set("SmsSid", SID(m.ID))
	p.Set("SmsMessageSid", SID(m.ID))
	p.Set("AccountSid", acct.SID)
	p.Set("From", from)
	p.Set("To", to)
	p.Set("Body", m.Body)
	p.Set("NumMedia", "0")
	segments := m.Recipients[0].PartCount
	if segments < 1 {
		segments = 1
	}
	p.Set("NumSegments", strconv.Itoa(segments))
	p.Set("SmsStatus", "received")
	p.Set("ApiVersion", APIVersion)
	if c := country(from); c != "" {
		p.Set("FromCountry", c)
	}
	if c := country(to); c != "" {
		p.Set("ToCountry", c)
	}
	if svc != nil {
		p.Set("MessagingServiceSid", svc.SID)
	}
	call := &InboundCall{Method: method, URL: target, Params: p}
	if call.Method == http.MethodGet {
		u, err := url.Parse(target)
		if err != nil {
			return nil, fmt.Errorf("inbound URL %q: %w", target, err)
		}
		q := u.Query()
		for k, vs := range p {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		call.URL, call.Params = u.String(), nil
		call.Signature = Signature(acct.AuthToken, call.URL, nil)
	} else {
		call.Method = http.MethodPost
		call.Signature = Signature(acct.AuthToken, call.URL, p)
	}
	call.Answer = func(ctx context.Context, body []byte) error {
		return in.reply(ctx, m, number, body)
	}
	return call, nil
}

// serviceOf is the Messaging Service whose pool has the account's
// number; nil if none.
func (in Inbound) serviceOf(ctx context.Context, accountID, number string) (*store.TwilioService, error) {
	vs, err := in.Store.ListTwilioServices(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for i := range vs {
		ss, err := in.Store.ListTwilioSenders(ctx, accountID, vs[i].SID, store.SenderNumber)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			if s.Sender == number {
				return &vs[i], nil
			}
		}
	}
	return nil, nil
}

func country(number string) string {
	if len(number) < 8 || number[0] != '+' {
		return ""
	}
	n, err := phone.Parse(number)
	if err != nil || len(n.Country) != 2 {
		return ""
	}
	return n.Country
}

// reply sends each <Message> of a TwiML answer to inbound message m: to
// its sender from its number unless the verb names others, through the
// pipeline like any message of the door (compliance, billing). A reply
// the pipeline refuses is logged and the others still go.
func (in Inbound) reply(ctx context.Context, m *message.Message, number string, doc []byte) error {
	replies, err := ParseTwiML(doc)
	if err != nil {
		return err
	}
	for i, rp := range replies {
		form := url.Values{"To": {rp.To}, "From": {rp.From}, "Body": {rp.Body}}
		if rp.To == "" {
			form.Set("To", phoneText(m.Originator))
		}
		if rp.From == "" {
			form.Set("From", phoneText(number))
		}
		if rp.Action != "" {
			form.Set("StatusCallback", rp.Action)
		}
		out, e := build(form, m.AccountID, time.Now())
		if e != nil {
			in.Log.Warn("twilio: TwiML reply refused", "inbound", m.ID, "reply", i, "code", e.Code, "err", e.Message)
			continue
		}
		if err := in.Pipeline.Accept(ctx, out, pipeline.Options{}); err != nil {
			in.Log.Warn("twilio: TwiML reply not accepted", "inbound", m.ID, "reply", i, "err", err)
			continue
		}
		in.Log.Debug("twilio: TwiML reply accepted", "inbound", m.ID, "reply", out.ID)
	}
	return nil
}
