package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
)

// Rule ids of fraud protection, as the decision log and the metrics show
// them (docs/verify.md lists them).
const (
	RulePremium           = "verify.premium_number"
	RuleGeo               = "verify.geo"
	RuleBlocked           = "verify.blocked"
	RuleVelocityNumber    = "verify.velocity.number"
	RuleVelocityPrefix    = "verify.velocity.prefix"
	RuleVelocityIP        = "verify.velocity.ip"
	RuleVelocityAccount   = "verify.velocity.account"
	RuleConversionPrefix  = "verify.conversion.prefix"
	RuleConversionCountry = "verify.conversion.country"
)

// NoticeBlocked is the type of the notice an account gets when the
// conversion watch blocks one of its prefixes or countries.
const NoticeBlocked = "verify.blocked"

// FraudDefaults are the platform's fraud protection settings; an account's
// store.VerifySettings override them. Zero values mean the documented
// defaults.
type FraudDefaults struct {
	// Window is what velocity limits and the conversion watch count
	// over, sliding; default 1 hour.
	Window time.Duration
	// PrefixDigits is how many last digits a number's prefix drops;
	// default 3 (a prefix is a block of 1,000 numbers).
	PrefixDigits int
	// Velocity limits per Window: verifications to one number (default
	// 5), to one prefix (default 30), from one caller IP (default 20),
	// by one account (default 1000).
	PerNumber, PerPrefix, PerIP, PerAccount int
	// PrefixSample and CountrySample are the settled verifications (their
	// outcome known: verified, failed or expired) to a prefix or a
	// country the conversion watch needs before it judges; defaults 10
	// and 100.
	PrefixSample, CountrySample int
	// MinConversion is the share of settled verifications that must be
	// verified; below it the prefix or country is blocked. Default 0.2.
	MinConversion float64
}

func (f FraudDefaults) withDefaults() FraudDefaults {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if f.Window <= 0 {
		f.Window = time.Hour
	}
	def(&f.PrefixDigits, 3)
	def(&f.PerNumber, 5)
	def(&f.PerPrefix, 30)
	def(&f.PerIP, 20)
	def(&f.PerAccount, 1000)
	def(&f.PrefixSample, 10)
	def(&f.CountrySample, 100)
	if f.MinConversion <= 0 {
		f.MinConversion = 0.2
	}
	return f
}

// Defaults are the platform's fraud protection settings in effect.
func (s *Service) Defaults() FraudDefaults { return s.cfg.Fraud }

// Refusal is a verification refused by fraud protection.
type Refusal struct {
	Rule   string
	Reason string
	// Velocity says the refusal is a rate (retry later), not a standing
	// refusal.
	Velocity bool
}

func (r *Refusal) Error() string {
	return "refused by fraud protection rule " + r.Rule + ": " + r.Reason
}

// prefix is a number without its last digits.
func (s *Service) prefix(msisdn string) string {
	if len(msisdn) <= s.cfg.Fraud.PrefixDigits+4 {
		return msisdn
	}
	return msisdn[:len(msisdn)-s.cfg.Fraud.PrefixDigits]
}

// limit is an account's limit over the default: 0 the default, -1 none.
func limit(account, def int) int {
	switch {
	case account < 0:
		return 0
	case account == 0:
		return def
	}
	return account
}

// screen runs the checks before a code is sent. A refusal is recorded as a
// compliance decision and counted.
func (s *Service) screen(ctx context.Context, v *store.Verification, now time.Time, test bool) (*store.VerifySettings, error) {
	refuse := func(rule, reason string, velocity bool) error {
		s.metrics.Compliance.WithLabelValues(rule, "reject").Inc()
		if !test {
			d := store.Decision{AccountID: v.AccountID, Recipient: v.Recipient, Rule: rule, Outcome: "reject", Reason: reason, CreatedAt: now}
			if err := s.store.RecordDecisions(ctx, []store.Decision{d}); err != nil {
				s.log.Warn("verify: recording a decision", "rule", rule, "err", err)
			}
		}
		return &Refusal{Rule: rule, Reason: reason, Velocity: velocity}
	}
	set, err := s.store.GetVerifySettings(ctx, v.AccountID)
	if err != nil {
		return nil, err
	}
	if v.Type != TypeEmail {
		if kind, ok := phone.Costly(v.Recipient); ok {
			return set, refuse(RulePremium, "the number is a "+strings.ReplaceAll(kind, "_", "-")+" number; codes are not sent to numbers that cost more than a mobile", false)
		}
	}
	if set.Disabled {
		return set, nil
	}
	if v.Type != TypeEmail {
		if len(set.Countries) > 0 && !slices.Contains(set.Countries, v.Country) {
			return set, refuse(RuleGeo, "the account may not verify numbers in "+v.Country+" (geo permissions: "+strings.Join(set.Countries, ", ")+")", false)
		}
		blocks, err := s.store.VerifyBlocks(ctx, v.AccountID, false)
		if err != nil {
			return nil, err
		}
		for _, b := range blocks {
			if b.Kind == "prefix" && strings.HasPrefix(v.Recipient, b.Value) || b.Kind == "country" && b.Value == v.Country {
				return set, refuse(RuleBlocked, fmt.Sprintf("the %s %s is blocked (%s) until an operator lifts it", b.Kind, b.Value, b.Rule), false)
			}
		}
	}
	f := s.cfg.Fraud
	perNumber, perPrefix := limit(set.PerNumber, f.PerNumber), limit(set.PerPrefix, f.PerPrefix)
	perIP, perAccount := limit(set.PerIP, f.PerIP), limit(set.PerAccount, f.PerAccount)
	c, err := s.store.CountVerifications(ctx, v.AccountID, v, now.Add(-f.Window),
		store.VerifyCounts{Number: perNumber, Prefix: perPrefix, IP: perIP, Account: perAccount})
	if err != nil {
		return nil, err
	}
	checks := []struct {
		rule, what string
		n, max     int
	}{
		{RuleVelocityNumber, "to this recipient", c.Number, perNumber},
		{RuleVelocityPrefix, "to numbers starting " + v.Prefix, c.Prefix, perPrefix},
		{RuleVelocityIP, "from the end user's IP address", c.IP, perIP},
		{RuleVelocityAccount, "by the account", c.Account, perAccount},
	}
	for _, k := range checks {
		if k.max > 0 && k.n >= k.max && !(k.rule == RuleVelocityIP && v.IP == "") && !(k.rule == RuleVelocityPrefix && v.Prefix == "") {
			return set, refuse(k.rule, fmt.Sprintf("%d verifications %s in the last %s (limit %d); try again later", k.n, k.what, f.Window, k.max), true)
		}
	}
	return set, nil
}

// watch is the conversion watch, run after each verification is created:
// when the settled verifications to its prefix (or country) reach the
// sample and too few were verified, the prefix (or country) is blocked,
// the decision recorded and the account told.
func (s *Service) watch(ctx context.Context, v *store.Verification, set *store.VerifySettings, now time.Time) {
	if v.Type == TypeEmail || set.Disabled || set.ConversionWatch < 0 {
		return
	}
	f := s.cfg.Fraud
	c, err := s.store.VerifyConversion(ctx, v.AccountID, v.Prefix, v.Country, now.Add(-f.Window), now)
	if err != nil {
		s.log.Warn("verify: reading conversion", "err", err)
		return
	}
	low := func(sent, verified, sample int) bool {
		return sent >= sample && float64(verified) < f.MinConversion*float64(sent)
	}
	switch {
	case low(c.PrefixSent, c.PrefixVerified, f.PrefixSample):
		s.block(ctx, v, now, "prefix", v.Prefix, RuleConversionPrefix, c.PrefixSent, c.PrefixVerified)
	case low(c.CountrySent, c.CountryVerified, f.CountrySample):
		s.block(ctx, v, now, "country", v.Country, RuleConversionCountry, c.CountrySent, c.CountryVerified)
	}
}

func (s *Service) block(ctx context.Context, v *store.Verification, now time.Time, kind, value, rule string, sent, verified int) {
	reason := fmt.Sprintf("%d of %d verifications to %s %s in the last %s were completed (below %.0f%%): the pattern of SMS pumping",
		verified, sent, kind, value, s.cfg.Fraud.Window, 100*s.cfg.Fraud.MinConversion)
	b := &store.VerifyBlock{AccountID: v.AccountID, Kind: kind, Value: value, Rule: rule, Reason: reason, CreatedAt: now}
	nt := notice.Notice{Type: NoticeBlocked, Subject: fmt.Sprintf("Verifications to %s %s are blocked", kind, value),
		Text: "omnigate's fraud protection blocked verifications to " + kind + " " + value + ": " + reason +
			".\nNew verifications there are refused until an operator lifts the block. If this traffic is yours, contact your operator.",
		Data: map[string]any{"kind": kind, "value": value, "rule": rule, "sent": sent, "verified": verified}}
	// The notice is a queue job: due by the wall clock, whatever the
	// service's clock says.
	err := s.store.AddVerifyBlock(ctx, b, notice.Job(v.AccountID, nt, time.Now().UTC()))
	if errors.Is(err, store.ErrConflict) {
		return // blocked already by a concurrent verification
	}
	if err != nil {
		s.log.Warn("verify: blocking", "kind", kind, "err", err)
		return
	}
	s.metrics.Compliance.WithLabelValues(rule, "block").Inc()
	d := store.Decision{AccountID: v.AccountID, MessageID: v.MessageID, Rule: rule, Outcome: "block", Reason: kind + " " + value + ": " + reason, CreatedAt: now}
	if err := s.store.RecordDecisions(ctx, []store.Decision{d}); err != nil {
		s.log.Warn("verify: recording a decision", "rule", rule, "err", err)
	}
	s.log.Warn("verify: blocked by the conversion watch", "account", v.AccountID, "kind", kind, "value", value, "sent", sent, "verified", verified)
	s.cfg.OnNotice()
}

// Lift lifts a block (an operator's act) and records it.
func (s *Service) Lift(ctx context.Context, id, by string) (*store.VerifyBlock, error) {
	b, err := LiftBlock(ctx, s.store, id, by, s.cfg.Now().UTC())
	if err != nil {
		return nil, err
	}
	s.metrics.Compliance.WithLabelValues(b.Rule, "lift").Inc()
	return b, nil
}

// LiftBlock lifts a block and records the decision; the CLI calls it on
// the store.
func LiftBlock(ctx context.Context, st store.Store, id, by string, now time.Time) (*store.VerifyBlock, error) {
	b, err := st.LiftVerifyBlock(ctx, id, by, now)
	if err != nil {
		return nil, err
	}
	d := store.Decision{AccountID: b.AccountID, Rule: b.Rule, Outcome: "lift", Reason: b.Kind + " " + b.Value + " unblocked by " + by, CreatedAt: now}
	if err := st.RecordDecisions(ctx, []store.Decision{d}); err != nil {
		return b, fmt.Errorf("recording the lift: %w", err)
	}
	return b, nil
}

// CheckSettings validates an account's settings before they are stored.
func CheckSettings(set *store.VerifySettings) error {
	for i, c := range set.Countries {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !phone.KnownCountry(c) {
			return fmt.Errorf("countries: %q is not an ISO 3166-1 alpha-2 country code", c)
		}
		set.Countries[i] = c
	}
	for name, v := range map[string]int{"perNumber": set.PerNumber, "perPrefix": set.PerPrefix, "perIp": set.PerIP,
		"perAccount": set.PerAccount, "conversionWatch": set.ConversionWatch} {
		if v < -1 || v > 1_000_000 {
			return fmt.Errorf("%s: %d; use 0 for the default, -1 for none, or a limit up to 1000000", name, v)
		}
	}
	return nil
}
