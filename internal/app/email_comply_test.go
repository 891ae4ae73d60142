package app

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// emailServer is a server with the email channel and email prices. Nothing is routed:
// these tests are about acceptance (compliance and billing).
func emailServer(t *testing.T, engine string) *server {
	s := billingServer(t, engine)
	// The default price list for email: 0.002 EUR an email, 0.001 to
	// big.example and its subdomains (the prefix column holds a domain).
	ps, err := billing.ParsePricesCSV(strings.NewReader("channel,country,prefix,currency,price\nemail,,,EUR,0.002\nemail,,@Big.Example,EUR,0.001\n"),
		"", time.Now().UTC(), []string{message.ChannelEmail})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.app.store.UpsertPrices(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	s.app.billing.Pricer().Invalidate()
	verifiedEmailDomain(t, s.app.store, s.accountID, "shop.example")
	return s
}

// email is a message of the email channel from the account.
func email(account, purpose string, to ...string) *message.Message {
	m := &message.Message{AccountID: account, Channel: message.ChannelEmail, Type: "email", Originator: "news@shop.example",
		Body: "Our new collection is in", Purpose: purpose,
		Content: &message.Content{Email: &message.Email{Subject: "New in", HTML: "<p>Our new <b>collection</b> is in</p>"}}}
	for _, a := range to {
		m.Recipients = append(m.Recipients, message.Recipient{Address: a})
	}
	return m
}

// Emails are priced per message from the price list (by domain), charged
// at acceptance, refused without balance, counted in usage limits and in
// statements.
func TestEmailBilling(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := emailServer(t, engine)
		ctx := context.Background()
		id, key := s.accountWith(5000) // 0.005 EUR
		verifiedEmailDomain(t, s.app.store, id, "shop.example")
		m := email(id, "transactional", "ann@mail.big.example", "bob@other.example")
		if err := s.app.pipeline.Accept(ctx, m, pipeline.Options{}); err != nil {
			t.Fatal(err)
		}
		got, err := s.app.store.GetMessage(ctx, id, m.ID)
		if err != nil || got.Recipients[0].Price != 1000 || got.Recipients[1].Price != 2000 || got.Recipients[0].PriceCurrency != "EUR" {
			t.Fatalf("message %+v, %v", got, err)
		}
		if b := balanceOf(t, s, key); b != 0.002 {
			t.Fatalf("balance %v, want 0.002", b)
		}
		// Two more cost 0.004: refused whole, nothing stored or charged.
		if err := s.app.pipeline.Accept(ctx, email(id, "transactional", "cid@other.example", "dan@other.example"), pipeline.Options{}); !errors.Is(err, store.ErrInsufficientBalance) {
			t.Fatalf("without balance: %v", err)
		}
		if b := balanceOf(t, s, key); b != 0.002 {
			t.Fatalf("balance %v after a refusal, want 0.002", b)
		}
		if err := s.app.pipeline.Accept(ctx, email(id, "transactional", "cid@other.example"), pipeline.Options{}); err != nil {
			t.Fatal(err)
		}
		if b := balanceOf(t, s, key); b != 0 {
			t.Fatalf("balance %v, want 0", b)
		}
		// The statement has a line for email.
		month := time.Now().UTC().Format("2006-01")
		st := s.do("GET", "/statements/"+month, key, "", nil)
		totals, _ := st.json["totals"].(map[string]any)
		if st.status != 200 || totals["recipients"] != 3.0 || totals["amount"] != 0.005 || !strings.Contains(string(st.raw), `"channel":"email"`) {
			t.Fatalf("statement %d %s", st.status, st.raw)
		}

		// Usage limits count emails.
		id2, key2 := s.accountWith(1_000_000)
		verifiedEmailDomain(t, s.app.store, id2, "shop.example")
		if r := s.admin("PUT", "/admin/accounts/"+id2+"/limits", "application/json",
			`{"metric":"messages","channel":"email","period":"day","limit":2,"policy":"block"}`); r.status != 200 {
			t.Fatalf("limit: %d %s", r.status, r.raw)
		}
		if err := s.app.pipeline.Accept(ctx, email(id2, "transactional", "ann@other.example", "bob@other.example"), pipeline.Options{}); err != nil {
			t.Fatal(err)
		}
		var le *store.LimitError
		if err := s.app.pipeline.Accept(ctx, email(id2, "transactional", "cid@other.example"), pipeline.Options{}); !errors.As(err, &le) || le.Limit.Channel != "email" {
			t.Fatalf("over the limit: %v", err)
		}
		u := s.do("GET", "/usage", key2, "", nil)
		if it := u.json["items"].([]any)[0].(map[string]any); it["used"] != 2.0 || it["channel"] != "email" {
			t.Fatalf("usage %s", u.raw)
		}
	})
}

// The email rules through the app: marketing email needs the account's
// postal address (set by the customer through the policy API), role
// addresses are refused one by one (4106, uncharged), opt-ins without
// evidence are refused, content rules read the HTML.
func TestEmailComplianceRules(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := emailServer(t, engine)
		ctx := context.Background()
		id, key := s.accountWith(1_000_000)
		verifiedEmailDomain(t, s.app.store, id, "shop.example")
		call := func(method, path string, body string) response {
			return s.do(method, path, key, "application/json", []byte(body))
		}
		// EMAIL-1/5: an email opt-in needs evidence.
		if r := call("POST", "/consents", `{"recipient":"ann@big.example","purpose":"marketing","action":"opt_in"}`); r.status != 422 || !strings.Contains(string(r.raw), "evidence") {
			t.Fatalf("opt-in without evidence: %d %s", r.status, r.raw)
		}
		for _, a := range []string{"ann@big.example", "info@big.example"} {
			if r := call("POST", "/consents", `{"recipient":"`+a+`","purpose":"marketing","action":"opt_in","source":"web_form","evidence":{"formUrl":"https://shop.example/join","ip":"203.0.113.9"}}`); r.status != 201 {
				t.Fatalf("opt-in: %d %s", r.status, r.raw)
			}
		}
		imp := s.do("POST", "/consents/import", key, "text/csv", []byte("recipient,purpose,action\nbought@list.example,marketing,opt_in\n"))
		if imp.status != 422 || !strings.Contains(string(imp.raw), "evidence") {
			t.Fatalf("import without evidence: %d %s", imp.status, imp.raw)
		}
		// EMAIL-3: no postal address, no marketing.
		var rej *compliance.Rejection
		if err := s.app.pipeline.Accept(ctx, email(id, "marketing", "ann@big.example"), pipeline.Options{}); !errors.As(err, &rej) || rej.Decision.Rule != "email.postal_address" {
			t.Fatalf("marketing without a postal address: %v", err)
		}
		if r := call("PATCH", "/compliance/policy", `{"postalAddress":"Shop BV, Keizersgracht 1, 1015 CJ Amsterdam"}`); r.status != 200 || r.json["postalAddress"] != "Shop BV, Keizersgracht 1, 1015 CJ Amsterdam" {
			t.Fatalf("setting the postal address: %d %s", r.status, r.raw)
		}
		if r := call("PATCH", "/compliance/policy", `{"roleAddresses":["info"]}`); r.status != 422 {
			t.Fatalf("a customer allowing role addresses: %d %s", r.status, r.raw)
		}
		// EMAIL-5: the role address is refused alone, uncharged.
		m := email(id, "marketing", "ann@big.example", "info@big.example")
		if err := s.app.pipeline.Accept(ctx, m, pipeline.Options{}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.app.store.GetMessage(ctx, id, m.ID)
		if r := got.Recipients[1]; r.Status != message.DeliveryFailed || r.StatusErrorCode != 4106 || r.Price != 0 ||
			!strings.Contains(r.StatusReason, "email.role_address") || got.Recipients[0].Price != 1000 || got.Purpose != "marketing" {
			t.Fatalf("message %+v", got)
		}
		// An operator may allow info@ for the account.
		if r := s.admin("PATCH", "/admin/accounts/"+id+"/compliance", "application/json", `{"roleAddresses":["info"]}`); r.status != 200 {
			t.Fatalf("operator allowing info@: %d %s", r.status, r.raw)
		}
		if err := s.app.pipeline.Accept(ctx, email(id, "marketing", "info@big.example"), pipeline.Options{}); err != nil {
			t.Fatalf("info@ allowed: %v", err)
		}
		// EMAIL-7/8: the HTML part is read.
		bad := email(id, "transactional", "ann@big.example")
		bad.Content.Email.HTML = "<p>Your card <b>4111 1111 1111 1111</b> was charged</p>"
		if err := s.app.pipeline.Accept(ctx, bad, pipeline.Options{}); !errors.As(err, &rej) || rej.Decision.Rule != "content.card_number" {
			t.Fatalf("a card number in the HTML: %v", err)
		}
		if r := s.do("GET", "/compliance/decisions", key, "", nil); r.status != http.StatusOK || !strings.Contains(string(r.raw), "email.role_address") {
			t.Fatalf("decisions %d %s", r.status, r.raw)
		}
	})
}
