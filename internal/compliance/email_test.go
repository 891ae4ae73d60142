package compliance_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// emailSetup is an engine with the email channel's rules, and a desk.
func emailSetup(t *testing.T, cfg compliance.EmailConfig) (*sqlstore.Store, *compliance.Engine, *compliance.Desk, string) {
	t.Helper()
	st, _, a := setup(t)
	e := compliance.New(compliance.Config{CacheTTL: time.Nanosecond,
		Channels: map[string]compliance.ChannelRules{"email": {Check: compliance.EmailCheck(cfg)}}}, st, metrics.New())
	return st, e, compliance.NewDesk(compliance.DeskConfig{ComplaintThreshold: 2}, st, e), a
}

func emailReq(account, purpose string, to ...string) compliance.Request {
	r := compliance.Request{AccountID: account, Channel: "email", Sender: "news@shop.example", Purpose: purpose,
		Content: "Hello", Time: noon}
	for _, a := range to {
		r.Recipients = append(r.Recipients, compliance.Recipient{Address: a})
	}
	return r
}

func optIn(t *testing.T, st store.Store, account string, to ...string) {
	t.Helper()
	for _, a := range to {
		c, err := compliance.ParseConsent(a, compliance.Marketing, store.OptIn, "", nil, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		c.AccountID, c.Source, c.Evidence = account, store.SourceWebForm, map[string]string{"formUrl": "https://shop.example/join"}
		if err := st.AddConsents(ctx, []*store.Consent{c}); err != nil {
			t.Fatal(err)
		}
	}
}

func setPostal(t *testing.T, d *compliance.Desk, account, address string) {
	t.Helper()
	if _, err := d.ChangePolicy(ctx, account, compliance.PolicyChange{PostalAddress: &address}); err != nil {
		t.Fatal(err)
	}
}

// EMAIL-1: marketing email needs a recorded opt-in of the address (in any
// case: addresses are compared lowercased); transactional email does not.
func TestEmailMarketingNeedsConsent(t *testing.T) {
	st, e, d, a := emailSetup(t, compliance.EmailConfig{})
	setPostal(t, d, a, "Shop BV, Keizersgracht 1, 1015 CJ Amsterdam")
	check(t, e, emailReq(a, "marketing", "ann@example.com"), compliance.Reject, "consent.opt_in")
	check(t, e, emailReq(a, "transactional", "ann@example.com"), compliance.Allow, "")
	optIn(t, st, a, "ann@example.com")
	check(t, e, emailReq(a, "marketing", "Ann@Example.COM"), compliance.Allow, "")
	// An opt-out (an unsubscribe) stops marketing at once.
	c, _ := compliance.ParseConsent("ann@example.com", compliance.Marketing, store.OptOut, "", nil, "", time.Now())
	c.AccountID, c.Source = a, store.SourceAPI
	if err := st.AddConsents(ctx, []*store.Consent{c}); err != nil {
		t.Fatal(err)
	}
	check(t, e, emailReq(a, "marketing", "ann@example.com"), compliance.Reject, "consent.opt_in")
}

// EMAIL-3: marketing email needs the account's postal address.
func TestEmailPostalAddress(t *testing.T) {
	st, e, d, a := emailSetup(t, compliance.EmailConfig{})
	optIn(t, st, a, "ann@example.com")
	dec := check(t, e, emailReq(a, "marketing", "ann@example.com"), compliance.Reject, compliance.RuleEmailPostal)
	if !strings.Contains(dec.Reason, "postalAddress") {
		t.Fatalf("reason %q does not say what to set", dec.Reason)
	}
	check(t, e, emailReq(a, "transactional", "ann@example.com"), compliance.Allow, "")
	// The account's default purpose counts like a declared one.
	def := compliance.Marketing
	if _, err := d.ChangePolicy(ctx, a, compliance.PolicyChange{DefaultPurpose: &def}); err != nil {
		t.Fatal(err)
	}
	check(t, e, emailReq(a, "", "ann@example.com"), compliance.Reject, compliance.RuleEmailPostal)
	for _, bad := range []string{"nowhere", "Main street", "x\x01, 12", strings.Repeat("Keizersgracht 1, ", 30)} {
		var ie *compliance.InputError
		if _, err := d.ChangePolicy(ctx, a, compliance.PolicyChange{PostalAddress: &bad}); !errors.As(err, &ie) || ie.Field != "postalAddress" {
			t.Errorf("postal address %q: %v", bad, err)
		}
	}
	setPostal(t, d, a, "Shop BV\nKeizersgracht 1\n1015 CJ Amsterdam\n")
	if addr, _ := e.PostalAddress(ctx, a); addr != "Shop BV, Keizersgracht 1, 1015 CJ Amsterdam" {
		t.Fatalf("postal address %q", addr)
	}
	check(t, e, emailReq(a, "", "ann@example.com"), compliance.Allow, "")
}

// EMAIL-5: role addresses are refused for marketing, one by one, with
// 4106; an operator may allow some, never abuse@ or postmaster@.
func TestEmailRoleAddresses(t *testing.T) {
	st, e, d, a := emailSetup(t, compliance.EmailConfig{})
	setPostal(t, d, a, "Shop BV, Keizersgracht 1, 1015 CJ Amsterdam")
	to := []string{"info@example.com", "ann@example.com", "Abuse@example.com", "sales+eu@example.com"}
	optIn(t, st, a, to...)
	dec := check(t, e, emailReq(a, "marketing", to...), compliance.Allow, "")
	if len(dec.Refused) != 3 || dec.Refused[0].Recipient != "info@example.com" || dec.Refused[0].Code != 4106 ||
		dec.Refused[0].Rule != compliance.RuleEmailRole || dec.Refused[1].Index != 2 || dec.Refused[2].Index != 3 {
		t.Fatalf("refused %+v", dec.Refused)
	}
	check(t, e, emailReq(a, "marketing", "postmaster@example.com"), compliance.Reject, "consent.opt_in")
	optIn(t, st, a, "postmaster@example.com")
	check(t, e, emailReq(a, "marketing", "postmaster@example.com"), compliance.Reject, compliance.RuleEmailRole)
	// Transactional email reaches role addresses.
	if dec := check(t, e, emailReq(a, "transactional", to...), compliance.Allow, ""); len(dec.Refused) != 0 {
		t.Fatalf("transactional refused %+v", dec.Refused)
	}
	roles := "info, Sales@"
	if _, err := d.ChangePolicy(ctx, a, compliance.PolicyChange{RoleAddresses: &roles}); err != nil {
		t.Fatal(err)
	}
	if dec := check(t, e, emailReq(a, "marketing", to...), compliance.Allow, ""); len(dec.Refused) != 1 || dec.Refused[0].Index != 2 {
		t.Fatalf("with info and sales allowed: refused %+v", dec.Refused)
	}
	if p, _ := st.GetPolicy(ctx, a); p.RoleAddresses != "info,sales" {
		t.Fatalf("stored %q", p.RoleAddresses)
	}
	for _, bad := range []string{"abuse", "postmaster", "noreply", "ann"} {
		if _, err := d.ChangePolicy(ctx, a, compliance.PolicyChange{RoleAddresses: &bad}); err == nil {
			t.Errorf("role addresses %q allowed", bad)
		}
	}
	// A customer cannot allow them itself.
	list := []string{"info"}
	if _, err := d.CustomerChange(ctx, a, compliance.PolicyChangeJSON{RoleAddresses: &list}, false); err == nil {
		t.Fatal("a customer allowed role addresses")
	}
	for addr, role := range map[string]string{"INFO@x.org": "info", "no-reply@x.org": "no-reply", "ann@x.org": "", "info": "", "@x.org": ""} {
		if got := compliance.RoleAddress(addr); got != role {
			t.Errorf("RoleAddress(%q) = %q, want %q", addr, got, role)
		}
	}
}

// EMAIL-5: an email opt-in imported or recorded without evidence is
// refused: bought lists have none.
func TestEmailImportNeedsEvidence(t *testing.T) {
	_, err := compliance.ParseConsentsCSV(strings.NewReader("recipient,purpose,action,evidence\nann@example.com,marketing,opt_in,signup form 2026-05-01\nbob@example.com,marketing,opt_in,\n31612345678,marketing,opt_in,\ncid@example.com,marketing,opt_out,\n"),
		"acct", "test", time.Now())
	var ie *compliance.ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 1 || !strings.Contains(ie.Rows[0], "line 3") || !strings.Contains(ie.Rows[0], "evidence") {
		t.Fatalf("import without evidence: %v", err)
	}
	cs, err := compliance.ParseConsentsCSV(strings.NewReader("recipient,purpose,action,evidence\nAnn@Example.com,marketing,opt_in,signup form\n31612345678,marketing,opt_in,\n"),
		"acct", "test", time.Now())
	if err != nil || len(cs) != 2 || cs[0].Recipient != "ann@example.com" || cs[0].Evidence["text"] != "signup form" {
		t.Fatalf("import %+v, %v", cs, err)
	}
}

// EMAIL-4: the sending-domain check the app wires runs first.
func TestEmailSenderDomain(t *testing.T) {
	var asked string
	_, e, _, a := emailSetup(t, compliance.EmailConfig{SenderDomain: func(_ context.Context, r compliance.Request) (compliance.Decision, error) {
		asked = r.Sender
		if strings.HasSuffix(r.Sender, "@shop.example") {
			return compliance.Decision{Outcome: compliance.Allow}, nil
		}
		return compliance.Decision{Outcome: compliance.Reject, Reason: "not a verified sending domain of the account"}, nil
	}})
	check(t, e, emailReq(a, "transactional", "ann@example.com"), compliance.Allow, "")
	r := emailReq(a, "transactional", "ann@example.com")
	r.Sender = "ceo@bank.example"
	check(t, e, r, compliance.Reject, compliance.RuleEmailSenderDomain)
	if asked != "ceo@bank.example" {
		t.Fatalf("asked about %q", asked)
	}
	// Outside the engine the rule has no policy to read.
	if _, err := compliance.EmailCheck(compliance.EmailConfig{})(ctx, r); err == nil {
		t.Fatal("EmailCheck ran outside the engine")
	}
}

// EMAIL-7, EMAIL-8: the content rules read an email's subject, text and
// HTML (without its markup).
func TestEmailContent(t *testing.T) {
	_, e, d, a := emailSetup(t, compliance.EmailConfig{})
	setPostal(t, d, a, "Shop BV, Keizersgracht 1, 1015 CJ Amsterdam")
	mail := func(subject, text, html string) *message.Message {
		return &message.Message{Channel: "email", Body: text, Content: &message.Content{Email: &message.Email{Subject: subject, HTML: html}}}
	}
	for _, c := range []struct {
		m    *message.Message
		rule string
	}{
		{mail("Your receipt", "Thanks for your order", "<p>Thanks for your <b>order</b></p>"), ""},
		{mail("Payday loans approved in minutes", "", ""), "content.bulk_category"},
		{mail("Hi", "", "<p>Card <span>4111 1111 1111 1111</span> was charged</p>"), "content.card_number"},
		{mail("Hi", "", `<a href="https://bit.ly/x">your invoice</a>`), "content.link_shortener"},
		{mail("Welcome", "Your password is: hunter22!", ""), "content.password"},
		{mail("Welcome", "Your password is changed", ""), ""},
		{mail("Hi", "", "<p>Pay to NL91&#65;BNA0417164300</p>"), "content.iban"},
		{mail("Fr\u200bee", "", ""), "content.hidden_characters"},
		{mail("Hi", "", "<style>.x{content:'4111 1111 1111 1111'}</style><!-- penny stocks --><p>Hello</p>"), ""},
		{mail("Hot tip", "", "<p>These penny stocks will triple</p>"), "content.bulk_category"},
		{mail("Hi", "Forward this email to 10 friends or bad luck follows", ""), "content.bulk_category"},
		{mail("Join", "", "<p>Earn $500 a day from home</p>"), "content.bulk_category"},
	} {
		r := emailReq(a, "transactional", "ann@example.com")
		r.Content = compliance.MessageText(c.m)
		dec, err := e.Check(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if dec.Rule != c.rule {
			t.Errorf("%q / %q / %q: rule %q, want %q", c.m.Content.Email.Subject, c.m.Body, c.m.Content.Email.HTML, dec.Rule, c.rule)
		}
	}
	if got := compliance.MessageText(&message.Message{Body: "sms text"}); got != "sms text" {
		t.Fatalf("an SMS's text %q", got)
	}
	in := &message.Message{Content: &message.Content{Interactive: &message.Interactive{Type: "list", Header: "h", Body: "b", Footer: "f", Button: "pick",
		Sections: []message.Section{{Title: "s", Rows: []message.Choice{{ID: "1", Title: "row", Description: "casino night"}}}}}}}
	if got := compliance.MessageText(in); got != "h\nb\nf\npick\ns\nrow\ncasino night" {
		t.Fatalf("an interactive message's text %q", got)
	}
}

func TestHTMLText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"<p>a&amp;b</p>": " a&b ",
		"<head><title>t</title></head><body>x</body>": " x ",
		`<a href="https://e.x/y" title='a>b'>go</a>`:  " https://e.x/y go ",
		"<script>var a='<p>';</script>z":              "z",
		"<!-- c -->d<br/>e":                           "d e",
		"<p unterminated":                             " ",
		"<!-- open":                                   "",
	} {
		if got := compliance.HTMLText(in); got != want {
			t.Errorf("HTMLText(%q) = %q, want %q", in, got, want)
		}
	}
}

// EMAIL-6: complaints about email count towards the account's threshold
// and open a proof case.
func TestEmailComplaintsOpenCase(t *testing.T) {
	_, _, d, a := emailSetup(t, compliance.EmailConfig{})
	if c, err := d.EmailComplaint(ctx, a, "Ann@Example.com", "arf"); err != nil || c != nil {
		t.Fatalf("first complaint: case %v, %v", c, err)
	}
	c, err := d.EmailComplaint(ctx, a, "bob@example.com", "arf")
	if err != nil || c == nil || c.Status != store.CaseOpen || !strings.Contains(c.Reason, "2 complaints") {
		t.Fatalf("second complaint: case %+v, %v", c, err)
	}
}

func FuzzHTMLText(f *testing.F) {
	for _, s := range []string{"<p>a</p>", "<script>x", "<!--", `<a href="x`, "&#0;", "<style/>y", "</p>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := compliance.HTMLText(s)
		if !strings.ContainsAny(s, "<&") && out != s {
			t.Fatalf("text without markup changed: %q → %q", s, out)
		}
	})
}
