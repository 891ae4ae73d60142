package compliance_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/email/dkim"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
)

// An email goes only from a verified domain of the account that is not
// suspended, within its daily cap; the engine runs the rule as the email
// channel's own.
func TestEmailDomainRule(t *testing.T) {
	st, _, a := setup(t)
	rule := compliance.NewEmailDomains(st, time.Nanosecond)
	e := compliance.New(compliance.Config{CacheTTL: time.Nanosecond, Channels: map[string]compliance.ChannelRules{
		"email": {Check: rule.Check}}}, st, metrics.New())
	email := func(from string, to ...string) func(*compliance.Request) {
		return func(r *compliance.Request) {
			r.Channel, r.Sender, r.Recipients = "email", from, nil
			for _, addr := range to {
				r.Recipients = append(r.Recipients, compliance.Recipient{Address: addr})
			}
		}
	}
	reason := func(d compliance.Decision, want string) {
		t.Helper()
		if !strings.Contains(d.Reason, want) {
			t.Errorf("reason %q lacks %q", d.Reason, want)
		}
	}
	d := check(t, e, req(a, email("news@example.com", "bob@example.net")), compliance.Reject, compliance.RuleEmailDomain)
	reason(d, "example.com is not a sending domain of the account")
	check(t, e, req(a, email("no domain", "bob@example.net")), compliance.Reject, compliance.RuleEmailDomain)

	key, _ := dkim.GenerateKey(dkim.Ed25519)
	if err := st.AddEmailDomain(ctx, &store.EmailDomain{AccountID: a, Domain: "example.com", Selector: "s1", Algorithm: dkim.Ed25519, Key: key, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	d = check(t, e, req(a, email("news@example.com", "bob@example.net")), compliance.Reject, compliance.RuleEmailDomain)
	reason(d, "example.com is not verified")
	st.RecordEmailDomainCheck(ctx, a, "example.com", json.RawMessage(`{}`), true, noon)
	check(t, e, req(a, email(`"Acme News" <News@EXAMPLE.com>`, "bob@example.net")), compliance.Allow, "")
	// Subdomains are domains of their own.
	check(t, e, req(a, email("news@mail.example.com", "bob@example.net")), compliance.Reject, compliance.RuleEmailDomain)

	st.SuspendEmailDomain(ctx, a, "example.com", "phishing reports", "admin api", noon)
	d = check(t, e, req(a, email("news@example.com", "bob@example.net")), compliance.Reject, compliance.RuleEmailDomainSuspended)
	reason(d, "phishing reports")
	st.ResumeEmailDomain(ctx, a, "example.com")

	// A cap of 3 emails a day: 2, then 2 more are refused, 1 more goes;
	// the next UTC day starts over.
	st.SetEmailDomainCap(ctx, a, "example.com", 3)
	two := email("news@example.com", "bob@example.net", "ann@example.net")
	check(t, e, req(a, two), compliance.Allow, "")
	d = check(t, e, req(a, two), compliance.Reject, compliance.RuleEmailDomainCap)
	reason(d, "example.com may send 3 emails per UTC day; 2 sent today, 2 more asked")
	check(t, e, req(a, email("news@example.com", "bob@example.net")), compliance.Allow, "")
	check(t, e, req(a, two, func(r *compliance.Request) { r.Time = noon.Add(24 * time.Hour) }), compliance.Allow, "")
	if n, _ := st.EmailDomainSent(ctx, a, "example.com", noon); n != 3 {
		t.Errorf("counted %d today, want 3", n)
	}
	// Another account does not send from it.
	other := ids.New()
	if err := st.CreateAccount(ctx, &store.Account{ID: other, Name: "b", Currency: "EUR", SigningKey: "k", CreatedAt: time.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	check(t, e, req(other, email("news@example.com", "bob@example.net")), compliance.Reject, compliance.RuleEmailDomain)
}

func TestFromDomain(t *testing.T) {
	for from, want := range map[string]string{
		"news@example.com":            "example.com",
		"Acme <News@Example.COM>":     "example.com",
		`"a@b" <x@mail.example.org.>`: "mail.example.org",
		"  news@example.com ":         "example.com",
		"nodomain":                    "",
		"trailing@":                   "",
		"":                            "",
	} {
		if got := compliance.FromDomain(from); got != want {
			t.Errorf("FromDomain(%q) = %q, want %q", from, got, want)
		}
	}
}
