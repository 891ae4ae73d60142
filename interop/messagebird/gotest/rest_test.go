package gotest

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	messagebird "github.com/messagebird/go-rest-api/v9"
	"github.com/messagebird/go-rest-api/v9/balance"
	"github.com/messagebird/go-rest-api/v9/hlr"
	"github.com/messagebird/go-rest-api/v9/lookup"
	"github.com/messagebird/go-rest-api/v9/number"
	"github.com/messagebird/go-rest-api/v9/sms"
	"github.com/messagebird/go-rest-api/v9/verify"
)

// The Go SDK's REST packages (sms, balance, lookup, hlr, verify) and its
// Numbers package, unmodified, against omnigate: what they send and what
// they parse. run.sh approves the sender "Omnigate" and imports
// OMNIGATE_NUMBER into the inventory before the server starts.

// apiError is the SDK's error for an answer with MessageBird's error body:
// the first error's code and parameter.
func apiError(t *testing.T, err error) (code int, parameter string) {
	t.Helper()
	var e messagebird.ErrorResponse
	if !errors.As(err, &e) || len(e.Errors) == 0 {
		t.Fatalf("want MessageBird's error body, got %T %v", err, err)
	}
	return e.Errors[0].Code, e.Errors[0].Parameter
}

func TestSMSGoSDK(t *testing.T) {
	c := newClient(t)
	m, err := sms.Create(c, "Omnigate", []string{"31687650001", "+31687650002"}, "Hello from the Go SDK", &sms.Params{Reference: "go-sdk", DataCoding: "auto"})
	if err != nil || !hex32.MatchString(m.ID) || m.Recipients.TotalCount != 2 || m.Originator != "Omnigate" || m.Reference != "go-sdk" ||
		m.Direction != "mt" || m.CreatedDatetime == nil || len(m.Recipients.Items) != 2 || m.Recipients.Items[0].Recipient != 31687650001 {
		t.Fatalf("sms.Create = %+v, %v", m, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := sms.Read(c, m.ID)
		if err != nil {
			t.Fatalf("sms.Read: %v", err)
		}
		if r.Recipients.TotalDeliveredCount == 2 {
			if r.Recipients.Items[0].Status != "delivered" || r.Recipients.Items[0].StatusDatetime == nil || r.Body != "Hello from the Go SDK" {
				t.Fatalf("delivered message %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered in 30 s: %+v", r.Recipients)
		}
		time.Sleep(200 * time.Millisecond)
	}
	list, err := sms.List(c, &sms.ListParams{Limit: 5, Direction: "mt"})
	if err != nil || list.Count == 0 || list.Limit != 5 || list.Items[0].ID == "" {
		t.Fatalf("sms.List = %+v, %v", list, err)
	}
	_, err = sms.Create(c, "Omnigate", []string{"not-a-number"}, "x", nil)
	if code, param := apiError(t, err); code != 9 && code != 10 || param != "recipients" {
		t.Fatalf("sms.Create to a bad number: code %d parameter %q", code, param)
	}
	b, err := balance.Read(c)
	if err != nil || b.Type != "euros" && b.Type != "credits" || b.Amount <= 0 {
		t.Fatalf("balance.Read = %+v, %v", b, err)
	}
}

func TestLookupAndHLRGoSDK(t *testing.T) {
	c := newClient(t)
	l, err := lookup.Read(c, "31612345678", nil)
	if err != nil || l.CountryCode != "NL" || l.CountryPrefix != 31 || l.PhoneNumber != 31612345678 || l.Type != "mobile" ||
		l.Formats.E164 != "+31612345678" || l.Formats.National == "" {
		t.Fatalf("lookup.Read = %+v, %v", l, err)
	}
	if l, err := lookup.Read(c, "0612345678", &lookup.Params{CountryCode: "NL"}); err != nil || l.PhoneNumber != 31612345678 {
		t.Fatalf("lookup.Read with a country code = %+v, %v", l, err)
	}
	_, err = lookup.Read(c, "123", nil)
	if code, _ := apiError(t, err); code != 21 {
		t.Fatalf("lookup.Read of a bad number: code %d", code)
	}

	h, err := hlr.Create(c, "31612345679", "go-hlr")
	if err != nil || !hex32.MatchString(h.ID) || h.MSISDN != 31612345679 || h.Reference != "go-hlr" || h.CreatedDatetime == nil {
		t.Fatalf("hlr.Create = %+v, %v", h, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for h.Status != "active" {
		if time.Now().After(deadline) {
			t.Fatalf("HLR not answered in 30 s: %+v", h)
		}
		time.Sleep(200 * time.Millisecond)
		if h, err = hlr.Read(c, h.ID); err != nil {
			t.Fatalf("hlr.Read: %v", err)
		}
	}
	if h.Network == 0 || h.StatusDatetime == nil {
		t.Fatalf("answered HLR %+v", h)
	}
	if list, err := hlr.List(c); err != nil || list.TotalCount < 1 || list.Items[0].ID == "" {
		t.Fatalf("hlr.List = %+v, %v", list, err)
	}
	lh, err := lookup.CreateHLR(c, "31612345689", &lookup.Params{Reference: "go-lookup-hlr"})
	if err != nil || lh.MSISDN != 31612345689 || lh.Reference != "go-lookup-hlr" {
		t.Fatalf("lookup.CreateHLR = %+v, %v", lh, err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		got, err := lookup.ReadHLR(c, "31612345689", nil)
		if err == nil && got.Status == "active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lookup.ReadHLR = %+v, %v", got, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var sixDigits = regexp.MustCompile(`\d{6}`)

func TestVerifyGoSDK(t *testing.T) {
	c := newClient(t)
	v, err := verify.Create(c, "31687654321", &verify.Params{Originator: "Omnigate", Template: "Go code: %token", Timeout: 60, Reference: "go-verify"})
	if err != nil || !hex32.MatchString(v.ID) || v.Status != "sent" || v.Recipient != "31687654321" || v.Reference != "go-verify" ||
		v.CreatedDatetime == nil || v.ValidUntilDatetime == nil || v.ValidUntilDatetime.Sub(*v.CreatedDatetime) != time.Minute || v.Messages["href"] == "" {
		t.Fatalf("verify.Create = %+v, %v", v, err)
	}
	// The code is in the message the verification sent.
	href := v.Messages["href"]
	m, err := sms.Read(c, href[strings.LastIndex(href, "/")+1:])
	if err != nil || !strings.HasPrefix(m.Body, "Go code: ") {
		t.Fatalf("the verification's message = %+v, %v", m, err)
	}
	code := sixDigits.FindString(m.Body)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err = verify.VerifyToken(c, v.ID, wrong)
	if code, param := apiError(t, err); code != 10 || param != "token" {
		t.Fatalf("a wrong token: code %d parameter %q", code, param)
	}
	ok, err := verify.VerifyToken(c, v.ID, code)
	if err != nil || ok.Status != "verified" {
		t.Fatalf("verify.VerifyToken = %+v, %v", ok, err)
	}
	if r, err := verify.Read(c, v.ID); err != nil || r.Status != "verified" {
		t.Fatalf("verify.Read = %+v, %v", r, err)
	}
	d, err := verify.Create(c, "31687654322", &verify.Params{Originator: "Omnigate"})
	if err != nil {
		t.Fatalf("verify.Create: %v", err)
	}
	if err := verify.Delete(c, d.ID); err != nil {
		t.Fatalf("verify.Delete: %v", err)
	}
	if r, err := verify.Read(c, d.ID); err != nil || r.Status != "deleted" {
		t.Fatalf("verify.Read after delete = %+v, %v", r, err)
	}
	_, err = verify.Create(c, "31687654323", &verify.Params{Originator: "Omnigate", Type: "tts"})
	if code, param := apiError(t, err); code != 10 || param != "type" {
		t.Fatalf("verify.Create tts: code %d parameter %q", code, param)
	}
}

func TestNumbersGoSDK(t *testing.T) {
	c := newClient(t)
	want := env(t, "OMNIGATE_NUMBER")
	found, err := number.Search(c, "NL", &number.SearchRequest{Features: []string{"sms"}, Limit: 10, Number: want[len(want)-4:], SearchPattern: number.SearchPatternEnd})
	if err != nil || found.Count != 1 || len(found.Items) != 1 || found.Items[0].Number != want || found.Items[0].Country != "NL" || found.Items[0].Type != number.TypeMobile {
		t.Fatalf("number.Search = %+v, %v", found, err)
	}
	if it := found.Items[0]; it.MonthlyPrice != 1.5 || len(it.Features) == 0 || it.Features[0] != number.FeatureSMS {
		t.Fatalf("the found number %+v", it)
	}
	bought, err := number.Purchase(c, &number.PurchaseRequest{Number: want, Country: "NL", BillingIntervalMonths: 1})
	if err != nil || bought.Number != want || bought.Status != "active" || bought.CreatedAt == nil || bought.RenewalAt == nil {
		t.Fatalf("number.Purchase = %+v, %v", bought, err)
	}
	_, err = number.Purchase(c, &number.PurchaseRequest{Number: want, Country: "NL", BillingIntervalMonths: 1})
	if code, _ := apiError(t, err); code == 0 {
		t.Fatalf("buying a number twice: %v", err)
	}
	if n, err := number.Update(c, want, &number.UpdateRequest{Tags: []string{"go", "sdk"}}); err != nil || len(n.Tags) != 2 || n.Tags[0] != "go" {
		t.Fatalf("number.Update = %+v, %v", n, err)
	}
	if n, err := number.Read(c, want); err != nil || n.Number != want || len(n.Tags) != 2 {
		t.Fatalf("number.Read = %+v, %v", n, err)
	}
	list, err := number.List(c, &number.ListRequest{Limit: 10, Features: []string{"sms"}})
	if err != nil || list.TotalCount < 1 || list.Items[0].Number == "" {
		t.Fatalf("number.List = %+v, %v", list, err)
	}
	if err := number.Delete(c, want); err != nil {
		t.Fatalf("number.Delete: %v", err)
	}
	_, err = number.Read(c, want)
	if code, _ := apiError(t, err); code != 20 {
		t.Fatalf("number.Read after cancel: code %d", code)
	}
}
