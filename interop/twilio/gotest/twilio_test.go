// Package gotest runs github.com/twilio/twilio-go, unmodified, against
// omnigate's Twilio door. interop/twilio/run.sh starts the server and sets
// OMNIGATE_URL, OMNIGATE_CA, TWILIO_SID, TWILIO_TOKEN, TWILIO_KEY_SID and
// TWILIO_KEY_SECRET; without them the test is skipped.
//
// How the base URL is changed: twilio-go builds every URL on
// https://api.twilio.com (an edge or region only changes the host's middle
// parts) and hands it to its client.BaseClient. twilio.ClientParams.Client
// takes any BaseClient: baseURL below is the library's own client.Client
// (credentials, form encoding, errors) with the scheme and host of each URL
// replaced by omnigate's — api.twilio.com's and, for Messaging Services,
// messaging.twilio.com's.
package gotest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
	messaging "github.com/twilio/twilio-go/rest/messaging/v1"
)

// baseURL sends the library's requests to omnigate instead of api.twilio.com.
type baseURL struct {
	*client.Client
	base *url.URL
}

func (b baseURL) SendRequest(method, rawURL string, data url.Values, headers map[string]interface{}, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Host != "api.twilio.com" && u.Host != "messaging.twilio.com" {
		return nil, fmt.Errorf("interop harness: refusing a request to %s; only api.twilio.com and messaging.twilio.com go to omnigate", u.Host)
	}
	u.Scheme, u.Host = b.base.Scheme, b.base.Host
	return b.Client.SendRequest(method, u.String(), data, headers, body...)
}

func env(t *testing.T, name string) string {
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set; run interop/twilio/run.sh", name)
	}
	return v
}

func newClient(t *testing.T, user, pass, accountSID string) *twilio.RestClient {
	base, err := url.Parse(env(t, "OMNIGATE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(env(t, "OMNIGATE_CA"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("OMNIGATE_CA has no certificate")
	}
	c := &client.Client{
		Credentials: client.NewCredentials(user, pass),
		HTTPClient: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
	c.SetAccountSid(accountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: baseURL{Client: c, base: base}})
}

// restError checks an error answer. twilio-go v1.30.2 shares one request
// handler among its services, and the Verify v3 and Numbers v3 services set
// X-Twilio-ApiVersion: v1.0 on it, so every request carries that header and
// the library decodes every error as a RestErrorV1 first; Twilio's 2010 API
// error (code, message, more_info, status) decodes into it with the code
// and message and without the HTTP status, against Twilio as here. Either
// type is accepted; the code must be Twilio's.
func restError(t *testing.T, err error, status, code int) {
	t.Helper()
	var e *client.TwilioRestError
	var v1 *client.RestErrorV1
	switch {
	case errors.As(err, &e):
		if e.Status != status || e.Code != code || e.MoreInfo != fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code) {
			t.Fatalf("want %d/%d, got %+v", status, code, e)
		}
	case errors.As(err, &v1):
		if v1.Code != code || v1.Message == "" {
			t.Fatalf("want code %d, got %+v", code, v1)
		}
	default:
		t.Fatalf("want a Twilio error %d, got %v", code, err)
	}
}

func TestTwilioGo(t *testing.T) {
	sid, token := env(t, "TWILIO_SID"), env(t, "TWILIO_TOKEN")
	c := newClient(t, sid, token, sid)
	keyed := newClient(t, env(t, "TWILIO_KEY_SID"), env(t, "TWILIO_KEY_SECRET"), sid)
	const to, from = "+31612345670", "omnigate"

	// create and fetch
	p := &api.CreateMessageParams{}
	p.SetTo(to).SetFrom(from).SetBody("Hello from twilio-go")
	m, err := c.Api.CreateMessage(p)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(*m.Sid) || *m.AccountSid != sid || *m.To != to || *m.From != from ||
		*m.Status != "queued" || *m.NumSegments != "1" || *m.Body != "Hello from twilio-go" {
		t.Fatalf("created: %+v", m)
	}
	if _, err := time.Parse(time.RFC1123Z, *m.DateCreated); err != nil {
		t.Fatalf("date_created %q is not RFC 2822: %v", *m.DateCreated, err)
	}
	var got *api.ApiV2010Message
	for i := 0; ; i++ {
		got, err = c.Api.FetchMessage(*m.Sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		if *got.Status == "delivered" {
			break
		}
		if i == 300 {
			t.Fatalf("not delivered: %+v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if *got.Sid != *m.Sid || got.Price == nil || *got.PriceUnit != "EUR" {
		t.Fatalf("fetched: %+v", got)
	}

	// list with paging, through an API key
	sids := map[string]bool{*m.Sid: true}
	for i := 0; i < 4; i++ {
		p := &api.CreateMessageParams{}
		p.SetTo(to).SetFrom(from).SetBody(fmt.Sprintf("page %d", i))
		m, err := keyed.Api.CreateMessage(p)
		if err != nil {
			t.Fatal(err)
		}
		sids[*m.Sid] = true
	}
	lp := &api.ListMessageParams{}
	lp.SetTo(to).SetPageSize(2)
	list, err := keyed.Api.ListMessage(lp)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 5 {
		t.Fatalf("listed %d messages in pages of 2, want 5", len(list))
	}
	for _, m := range list {
		if !sids[*m.Sid] {
			t.Fatalf("listed %s, not one of ours", *m.Sid)
		}
		delete(sids, *m.Sid)
	}
	lp.SetLimit(3)
	ch, errs := c.Api.StreamMessage(lp)
	n := 0
	for range ch {
		n++
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("streamed %d with limit 3", n)
	}

	// cancel a scheduled message
	sp := &api.CreateMessageParams{}
	sp.SetTo(to).SetFrom(from).SetBody("later").SetSendAt(time.Now().Add(time.Hour)).SetScheduleType("fixed")
	s, err := c.Api.CreateMessage(sp)
	if err != nil {
		t.Fatal(err)
	}
	if *s.Status != "scheduled" {
		t.Fatalf("scheduled: %+v", s)
	}
	up := &api.UpdateMessageParams{}
	up.SetStatus("canceled")
	cm, err := c.Api.UpdateMessage(*s.Sid, up)
	if err != nil {
		t.Fatal(err)
	}
	if *cm.Status != "canceled" {
		t.Fatalf("canceled: %+v", cm)
	}

	// errors
	bad := &api.CreateMessageParams{}
	bad.SetTo("12").SetFrom(from).SetBody("x")
	_, err = c.Api.CreateMessage(bad)
	restError(t, err, 400, 21211)
	_, err = c.Api.FetchMessage("SM"+fmt.Sprintf("%032d", 0), nil)
	restError(t, err, 404, 20404)
	_, err = c.Api.UpdateMessage(*m.Sid, up)
	restError(t, err, 400, 30409)
	wrong := newClient(t, sid, fmt.Sprintf("%032d", 0), sid)
	_, err = wrong.Api.FetchMessage(*m.Sid, nil)
	restError(t, err, 401, 20003)
}

// A Messaging Service with the account's number (IncomingPhoneNumbers)
// sends from it.
func TestMessagingServiceGo(t *testing.T) {
	sid, token, number := env(t, "TWILIO_SID"), env(t, "TWILIO_TOKEN"), env(t, "TWILIO_NUMBER")
	c := newClient(t, sid, token, sid)

	np := &api.ListIncomingPhoneNumberParams{}
	np.SetPhoneNumber(number)
	nums, err := c.Api.ListIncomingPhoneNumber(np)
	if err != nil {
		t.Fatal(err)
	}
	if len(nums) != 1 || *nums[0].PhoneNumber != number || !regexp.MustCompile(`^PN[0-9a-f]{32}$`).MatchString(*nums[0].Sid) {
		t.Fatalf("incoming phone numbers: %+v", nums)
	}
	up := &api.UpdateIncomingPhoneNumberParams{}
	up.SetFriendlyName("Interop Go")
	n, err := c.Api.UpdateIncomingPhoneNumber(*nums[0].Sid, up)
	if err != nil {
		t.Fatal(err)
	}
	if *n.FriendlyName != "Interop Go" || *n.Sid != *nums[0].Sid {
		t.Fatalf("updated number: %+v", n)
	}

	sp := &messaging.CreateServiceParams{}
	sp.SetFriendlyName("Interop Go").SetStickySender(true)
	svc, err := c.MessagingV1.CreateService(sp)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^MG[0-9a-f]{32}$`).MatchString(*svc.Sid) || *svc.AccountSid != sid || svc.DateCreated == nil || !*svc.StickySender {
		t.Fatalf("service: %+v", svc)
	}
	defer func() {
		if err := c.MessagingV1.DeleteService(*svc.Sid); err != nil {
			t.Errorf("delete service: %v", err)
		}
	}()
	pp := &messaging.CreatePhoneNumberParams{}
	pp.SetPhoneNumberSid(*nums[0].Sid)
	pn, err := c.MessagingV1.CreatePhoneNumber(*svc.Sid, pp)
	if err != nil {
		t.Fatal(err)
	}
	if *pn.Sid != *nums[0].Sid || *pn.PhoneNumber != number || *pn.ServiceSid != *svc.Sid {
		t.Fatalf("service phone number: %+v", pn)
	}
	list, err := c.MessagingV1.ListService(&messaging.ListServiceParams{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range list {
		found = found || *s.Sid == *svc.Sid
	}
	if !found {
		t.Fatalf("service %s not listed in %d", *svc.Sid, len(list))
	}

	mp := &api.CreateMessageParams{}
	mp.SetTo("+31612345671").SetMessagingServiceSid(*svc.Sid).SetBody("via a Messaging Service, from twilio-go")
	m, err := c.Api.CreateMessage(mp)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessagingServiceSid == nil || *m.MessagingServiceSid != *svc.Sid || *m.From != number {
		t.Fatalf("sent through the service: %+v", m)
	}
	bad := &api.CreateMessageParams{}
	bad.SetTo("+31612345671").SetMessagingServiceSid("MG" + fmt.Sprintf("%032d", 0)).SetBody("x")
	_, err = c.Api.CreateMessage(bad)
	restError(t, err, 404, 21701)
}
