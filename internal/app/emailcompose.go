package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/conversations"
	"github.com/omnigate/omnigate/internal/channel"
	emailchan "github.com/omnigate/omnigate/internal/channel/email"
	smtpconn "github.com/omnigate/omnigate/internal/channel/smtp"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/email/bounce"
	"github.com/omnigate/omnigate/internal/email/compose"
	"github.com/omnigate/omnigate/internal/email/dkim"
	"github.com/omnigate/omnigate/internal/email/domains"
	"github.com/omnigate/omnigate/internal/email/personal"
	"github.com/omnigate/omnigate/internal/email/verp"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/templates"
	"github.com/omnigate/omnigate/internal/ttlcache"
)

// emailComposer builds each recipient's email as it leaves: the
// recipient's own content (names, substitutions), the marketing parts
// (List-Unsubscribe with one-click and mailto, the sender's postal
// address), tracking, a DKIM signature with the sending domain's key, and
// a VERP return path at the domain's bounces host, so that a bounce names
// its message and recipient.
type emailComposer struct {
	a       *App
	domains *ttlcache.Cache[domainKey, *store.EmailDomain]
}

type domainKey struct{ account, domain string }

func newEmailComposer(a *App) *emailComposer {
	c := &emailComposer{a: a}
	// Keys are parsed once a minute at most per domain: signing is the
	// costly part of sending (bench/compare-postfix), reading and
	// decrypting the key for every message would add to it.
	c.domains = ttlcache.New(time.Minute, 10000, func(ctx context.Context, k domainKey) (*store.EmailDomain, error) {
		return a.store.EmailDomain(ctx, k.account, k.domain)
	})
	return c
}

// compose implements smtpconn.Composer.
func (c *emailComposer) compose(ctx context.Context, m *message.Message, r *message.Recipient) (smtpconn.Envelope, []byte, error) {
	domain := compliance.FromDomain(m.Originator)
	d, err := c.domains.Get(ctx, domainKey{m.AccountID, domain})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			// Accepted from a verified domain that was removed since:
			// omnigate sends no unsigned mail.
			return smtpconn.Envelope{}, nil, &channel.PermanentError{Code: smtpconn.CodeNoSendingDomain,
				Reason: domain + " is no longer a sending domain of the account: not sent unsigned"}
		}
		return smtpconn.Envelope{}, nil, err
	}
	secret := c.a.VERPSecret()
	if secret == nil {
		return smtpconn.Envelope{}, nil, fmt.Errorf("compose: the keyring has no data key for return paths")
	}
	bounces := domains.ReturnPathDomain(d.Domain)
	mine := personal.For(m, r.Seq)
	rcpt := *r
	if name := personal.Name(m, r.Seq); name != "" {
		rcpt.Name = name
	}
	o := compose.Options{ProviderID: emailchan.ProviderID(m.ID, r.Seq), Domain: d.Domain}
	links := c.a.emailLinks
	if m.Purpose == "marketing" {
		o.ListUnsubscribe = []string{links.UnsubscribeURL(m.AccountID, m.ID, r.Seq),
			"mailto:" + verp.Unsubscribe(secret, m.ID, r.Seq) + "@" + bounces}
		o.OneClick = strings.HasPrefix(o.ListUnsubscribe[0], "https:")
		if o.Footer, err = c.a.compliance.PostalAddress(ctx, m.AccountID); err != nil {
			return smtpconn.Envelope{}, nil, err
		}
	}
	if e := mine.Content; e != nil && e.Email != nil {
		if e.Email.TrackOpens {
			o.OpenPixel = links.OpenPixelURL(m.AccountID, m.ID, r.Seq)
		}
		if e.Email.TrackClicks {
			o.ClickURL = func(target string) string { return links.ClickURL(m.AccountID, m.ID, r.Seq, target) }
		}
	}
	raw, err := compose.Build(mine, &rcpt, o)
	if err != nil {
		return smtpconn.Envelope{}, nil, &channel.PermanentError{Code: smtpconn.CodeBadMessage, Reason: err.Error()}
	}
	signed, err := dkim.Sign(raw, dkim.Signer{Domain: d.Domain, Selector: d.Selector, Key: d.Key})
	if err != nil {
		return smtpconn.Envelope{}, nil, &channel.PermanentError{Code: smtpconn.CodeBadMessage, Reason: "DKIM signing: " + err.Error()}
	}
	return smtpconn.Envelope{From: verp.Encode(secret, m.ID, r.Seq) + "@" + bounces}, signed, nil
}

// emailBounced suppresses an address a receiving server refused for good
// with a hard category (bad mailbox, bad domain), as an asynchronous
// bounce does (internal/mailin). A failure is logged: the recipient fails
// anyway, and the next hard bounce suppresses it.
func (a *App) emailBounced(ctx context.Context, m *message.Message, r *message.Recipient, cat bounce.Category, answer string) {
	if !cat.Hard() {
		return
	}
	if err := a.store.AddSuppression(ctx, m.AccountID, store.Suppression{Channel: message.ChannelEmail, Recipient: r.Address,
		Reason: store.SuppressBounce, Actor: "bounce", CreatedAt: time.Now().UTC()}); err != nil {
		a.log.Warn("suppressing a hard-bounced address", "message", m.ID, "err", err)
	}
}

// renderTemplate adapts the templates service to the Conversations door:
// its errors name the template's field for a 422.
func renderTemplate(s *templates.Service) conversations.TemplateRenderer {
	return func(ctx context.Context, accountID, name, language string, vars map[string]string) (conversations.Rendered, error) {
		r, err := s.Render(ctx, accountID, name, language, vars)
		if err != nil {
			var te *templates.Error
			if errors.As(err, &te) {
				field := te.Field
				if field == "template" { // the template itself: the send names it by name
					field = "name"
				}
				return conversations.Rendered{}, &message.Invalid{Field: field, Reason: te.Reason}
			}
			return conversations.Rendered{}, err
		}
		return conversations.Rendered{Subject: r.Subject, Text: r.Text, HTML: r.HTML}, nil
	}
}
