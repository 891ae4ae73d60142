package compliance

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/ttlcache"
)

// Rules of the sending-domain check (docs/compliance.md; docs/email.md,
// "Sending domains and DKIM").
const (
	// RuleEmailDomain: the From domain is not a verified sending domain of
	// the account (unknown, or its DNS records not in place).
	RuleEmailDomain = "email.domain"
	// RuleEmailDomainSuspended: an operator suspended the From domain.
	RuleEmailDomainSuspended = "email.domain.suspended"
	// RuleEmailDomainCap: the message would take the From domain past its
	// daily cap.
	RuleEmailDomainCap = "email.domain.cap"
)

// EmailDomainStore is what the sending-domain check reads and counts with.
type EmailDomainStore interface {
	EmailDomain(ctx context.Context, accountID, domain string) (*store.EmailDomain, error)
	TakeEmailDomainQuota(ctx context.Context, accountID, domain string, n, limit int, at time.Time) (bool, int, error)
}

// EmailDomains is the email channel's sending-domain rule: an email goes
// only from a verified, unsuspended domain of the account, within the
// domain's daily cap. Its Check is a ChannelRules.Check; chain it after the
// channel's other rules, as the last: it counts the message's emails
// against the cap when it lets them through.
type EmailDomains struct {
	st    EmailDomainStore
	cache *ttlcache.Cache[domainKey, *store.EmailDomain]
}

type domainKey struct{ account, domain string }

// NewEmailDomains makes the rule over st. Domains are cached for ttl
// (default 5 s, as the engine's policies): a verification, suspension or
// cap change made elsewhere applies within it; Invalidate applies one at
// once on this node.
func NewEmailDomains(st EmailDomainStore, ttl time.Duration) *EmailDomains {
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	r := &EmailDomains{st: st}
	r.cache = ttlcache.New(ttl, 10000, func(ctx context.Context, k domainKey) (*store.EmailDomain, error) {
		return st.EmailDomain(ctx, k.account, k.domain)
	})
	return r
}

// Invalidate drops a cached domain after a change.
func (r *EmailDomains) Invalidate(accountID, domain string) {
	r.cache.Delete(domainKey{accountID, strings.ToLower(domain)})
}

// FromDomain is the domain of an email's From address (the request's
// Sender, "news@example.com" or "Acme <news@example.com>"), in lower case;
// "" if it has none.
func FromDomain(from string) string {
	addr := strings.TrimSpace(from)
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	} else if i, j := strings.LastIndexByte(addr, '<'), strings.LastIndexByte(addr, '>'); i >= 0 && j == len(addr)-1 {
		addr = addr[i+1 : j]
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || at == len(addr)-1 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
}

// Check decides on req: reject unless the From domain is a verified,
// unsuspended domain of the account with room under its daily cap for one
// email per recipient.
func (r *EmailDomains) Check(ctx context.Context, req Request) (Decision, error) {
	reject := func(rule, reason string) (Decision, error) {
		return Decision{Outcome: Reject, Rule: rule, Reason: reason}, nil
	}
	domain := FromDomain(req.Sender)
	if domain == "" {
		return reject(RuleEmailDomain, fmt.Sprintf("the From address %q has no domain", req.Sender))
	}
	d, err := r.cache.Get(ctx, domainKey{req.AccountID, domain})
	if errors.Is(err, store.ErrNotFound) {
		return reject(RuleEmailDomain, domain+" is not a sending domain of the account: add it (POST /email/domains) and publish its DNS records")
	}
	if err != nil {
		return Decision{}, err
	}
	if d.Suspended() {
		return reject(RuleEmailDomainSuspended, domain+" is suspended: "+d.SuspendedReason)
	}
	if !d.Verified() {
		return reject(RuleEmailDomain, domain+" is not verified: publish its DNS records and verify it (POST /email/domains/"+domain+"/verify)")
	}
	if d.DailyCap > 0 && len(req.Recipients) > 0 {
		ok, used, err := r.st.TakeEmailDomainQuota(ctx, req.AccountID, domain, len(req.Recipients), d.DailyCap, req.now())
		if err != nil {
			return Decision{}, err
		}
		if !ok {
			return reject(RuleEmailDomainCap, fmt.Sprintf("%s may send %d emails per UTC day; %d sent today, %d more asked",
				domain, d.DailyCap, used, len(req.Recipients)))
		}
	}
	return Decision{Outcome: Allow}, nil
}
