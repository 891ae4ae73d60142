package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/api/twilio"
	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/store"
)

// Messaging Services on /v1/Services: a pool of the account's numbers and
// an alphanumeric sender; MessagingServiceSid picks the sender (sticky per
// recipient, alphanumeric where the recipient's country allows it), the
// message shows the service and is delivered; inbound messages to a
// service's number go to its InboundRequestUrl. Bad input gets Twilio's
// codes and changes nothing; another account sees none of it.
func TestTwilioMessagingServices(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		creds, c := s.twilioCredentials(false)
		v1 := *c
		v1.base = s.url
		ctx := context.Background()
		for _, n := range []string{"3197010000001", "3197010000002"} {
			if err := s.app.store.AddNumber(ctx, store.Number{Number: n, AccountID: s.accountID, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		_, list := c.call("GET", "/IncomingPhoneNumbers.json", nil)
		var pns []string
		for _, it := range list["incoming_phone_numbers"].([]any) {
			pns = append(pns, it.(map[string]any)["sid"].(string))
		}
		if len(pns) != 2 {
			t.Fatalf("numbers: %v", list)
		}

		code, svc := v1.call("POST", "/v1/Services", url.Values{"FriendlyName": {"Shop"}})
		mg, _ := svc["sid"].(string)
		if code != 201 || !twilio.IsSID("MG", mg) || svc["friendly_name"] != "Shop" || svc["account_sid"] != creds.AccountSID ||
			svc["sticky_sender"] != true || svc["url"] != s.url+"/v1/Services/"+mg {
			t.Fatalf("create service: %d %v", code, svc)
		}
		if _, err := time.Parse(time.RFC3339, svc["date_created"].(string)); err != nil {
			t.Fatalf("date_created: %v", err)
		}
		send := func(form url.Values) (int, map[string]any) {
			t.Helper()
			form.Set("Body", "hi "+form.Get("To"))
			return c.call("POST", "/Messages.json", form)
		}
		// No senders yet: 21704, nothing stored.
		if code, m := send(url.Values{"To": {"+31612345678"}, "MessagingServiceSid": {mg}}); code != 400 || m["code"] != 21704.0 {
			t.Fatalf("empty pool: %d %v", code, m)
		}
		for _, pn := range pns {
			code, m := v1.call("POST", "/v1/Services/"+mg+"/PhoneNumbers", url.Values{"PhoneNumberSid": {pn}})
			if code != 201 || m["sid"] != pn || m["service_sid"] != mg || !strings.HasPrefix(m["phone_number"].(string), "+3197010") {
				t.Fatalf("add number: %d %v", code, m)
			}
		}
		if code, m := v1.call("POST", "/v1/Services/"+mg+"/PhoneNumbers", url.Values{"PhoneNumberSid": {pns[0]}}); code != 409 || m["code"] != 21710.0 {
			t.Fatalf("number twice: %d %v", code, m)
		}
		if code, m := v1.call("GET", "/v1/Services/"+mg+"/PhoneNumbers", nil); code != 200 || len(m["phone_numbers"].([]any)) != 2 ||
			m["meta"].(map[string]any)["key"] != "phone_numbers" {
			t.Fatalf("list numbers: %d %v", code, m)
		}

		// Sticky: the same recipient gets the same number each time.
		var first string
		for i := 0; i < 3; i++ {
			code, m := send(url.Values{"To": {"+31612345678"}, "MessagingServiceSid": {mg}})
			if code != 201 || m["messaging_service_sid"] != mg || !strings.HasPrefix(m["from"].(string), "+3197010") {
				t.Fatalf("send through service: %d %v", code, m)
			}
			if first == "" {
				first = m["from"].(string)
			} else if m["from"] != first {
				t.Fatalf("sticky sender: %v then %v", first, m["from"])
			}
			if i == 0 {
				sid := m["sid"].(string)
				waitFor(t, "delivered", 10*time.Second, func() bool {
					_, m := c.call("GET", "/Messages/"+sid+".json", nil)
					return m["status"] == "delivered" && m["messaging_service_sid"] == mg
				})
			}
		}
		// A From given wins over the pool; the service is still shown.
		if code, m := send(url.Values{"To": {"+31612345678"}, "From": {"Acme"}, "MessagingServiceSid": {mg}}); code != 201 || m["from"] != "Acme" || m["messaging_service_sid"] != mg {
			t.Fatalf("From and service: %d %v", code, m)
		}
		// An alphanumeric sender is used where the country allows it.
		code, alpha := v1.call("POST", "/v1/Services/"+mg+"/AlphaSenders", url.Values{"AlphaSender": {"Shop"}})
		if code != 201 || !twilio.IsSID("AI", alpha["sid"].(string)) || alpha["alpha_sender"] != "Shop" {
			t.Fatalf("add alpha sender: %d %v", code, alpha)
		}
		if code, m := send(url.Values{"To": {"+31612345670"}, "MessagingServiceSid": {mg}}); code != 201 || m["from"] != "Shop" {
			t.Fatalf("alpha sender: %d %v", code, m)
		}
		// A service with only an alphanumeric sender has none for the US.
		_, svc2 := v1.call("POST", "/v1/Services", url.Values{"FriendlyName": {"Alpha only"}, "StickySender": {"false"}})
		mg2 := svc2["sid"].(string)
		if code, m := v1.call("POST", "/v1/Services/"+mg2+"/AlphaSenders", url.Values{"AlphaSender": {"Shop"}}); code != 201 {
			t.Fatalf("add alpha sender: %d %v", code, m)
		}
		if code, m := send(url.Values{"To": {"+12025550123"}, "MessagingServiceSid": {mg2}}); code != 400 || m["code"] != 21703.0 {
			t.Fatalf("no sender for the US: %d %v", code, m)
		}
		if code, m := v1.call("GET", "/v1/Services", nil); code != 200 || len(m["services"].([]any)) != 2 || m["meta"].(map[string]any)["key"] != "services" {
			t.Fatalf("list services: %d %v", code, m)
		}

		// Inbound to a service's number goes to its InboundRequestUrl.
		sink := newTwiMLSink(t, &creds.AuthToken)
		if code, m := v1.call("POST", "/v1/Services/"+mg, url.Values{"InboundRequestUrl": {sink.srv.URL + "/svc"}}); code != 200 || m["inbound_request_url"] != sink.srv.URL+"/svc" {
			t.Fatalf("update service: %d %v", code, m)
		}
		if err := s.app.receiver.Inbound(ctx, channel.Inbound{Connector: "carrier", Channel: "sms", Source: "+31612345678",
			Destination: "3197010000002", Text: "to the service", Total: 1, Part: 1}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the service's inbound POST", 10*time.Second, func() bool { return len(sink.calls()) == 1 })
		if f := sink.calls()[0]; f.Get("MessagingServiceSid") != mg || f.Get("Body") != "to the service" || f.Get("To") != "+3197010000002" {
			t.Fatalf("inbound to the service: %v", f)
		}

		_, before := c.call("GET", "/Messages.json", nil)
		// Bad input: Twilio's codes, nothing stored or changed.
		for _, tc := range []struct {
			method, path string
			form         url.Values
			status       int
			code         float64
		}{
			{"POST", "/v1/Services", url.Values{}, 400, 20001},
			{"POST", "/v1/Services", url.Values{"FriendlyName": {"x"}, "InboundRequestUrl": {"not a url"}}, 400, 20001},
			{"POST", "/v1/Services/" + mg, url.Values{"StickySender": {"maybe"}}, 400, 20001},
			{"GET", "/v1/Services/MG" + strings.Repeat("0", 32), nil, 404, 20404},
			{"GET", "/v1/Services/nonsense", nil, 404, 20404},
			{"POST", "/v1/Services/" + mg + "/PhoneNumbers", url.Values{"PhoneNumberSid": {"PN" + strings.Repeat("0", 32)}}, 404, 20404},
			{"POST", "/v1/Services/" + mg + "/AlphaSenders", url.Values{"AlphaSender": {"12345"}}, 400, 20001},
			{"POST", "/v1/Services/" + mg + "/AlphaSenders", url.Values{"AlphaSender": {"far too long name"}}, 400, 20001},
			{"POST", "/v1/Services/MG" + strings.Repeat("0", 32) + "/AlphaSenders", url.Values{"AlphaSender": {"Shop"}}, 404, 20404},
			{"GET", "/v1/Services/" + mg + "/Nothing", nil, 404, 20404},
		} {
			code, m := v1.call(tc.method, tc.path, tc.form)
			if code != tc.status || m["code"] != tc.code {
				t.Errorf("%s %s %v: %d %v, want %d %v", tc.method, tc.path, tc.form, code, m, tc.status, tc.code)
			}
		}
		for _, tc := range []struct {
			svc  string
			code float64
		}{{"MG" + strings.Repeat("0", 32), 21701}, {"MGnonsense", 21701}} {
			if code, m := send(url.Values{"To": {"+31612345678"}, "MessagingServiceSid": {tc.svc}}); code != 404 || m["code"] != tc.code {
				t.Errorf("service %s: %d %v", tc.svc, code, m)
			}
		}
		if _, after := c.call("GET", "/Messages.json", nil); len(after["messages"].([]any)) != len(before["messages"].([]any)) {
			t.Errorf("refused sends stored messages: %d then %d", len(before["messages"].([]any)), len(after["messages"].([]any)))
		}
		if code, m := v1.call("GET", "/v1/Services/"+mg, nil); code != 200 || m["sticky_sender"] != true || m["friendly_name"] != "Shop" {
			t.Errorf("service changed by refused updates: %d %v", code, m)
		}
		if code, m := (&twilioClient{t: t, base: s.url, user: creds.AccountSID, pass: strings.Repeat("0", 32)}).call("GET", "/v1/Services", nil); code != 401 || m["code"] != 20003.0 {
			t.Errorf("bad token: %d %v", code, m)
		}

		// Another account sees none of it and cannot send through it.
		otherID, _, _, _ := s.newAccount("other")
		oc, err := twilio.IssueCredentials(ctx, s.app.store, otherID, false, false)
		if err != nil {
			t.Fatal(err)
		}
		other := &twilioClient{t: t, base: s.url, user: oc.AccountSID, pass: oc.AuthToken, sid: oc.AccountSID}
		if code, m := other.call("GET", "/v1/Services/"+mg, nil); code != 404 {
			t.Errorf("other account's fetch: %d %v", code, m)
		}
		if code, m := other.call("GET", "/v1/Services", nil); code != 200 || len(m["services"].([]any)) != 0 {
			t.Errorf("other account's list: %d %v", code, m)
		}
		if code, m := other.call("POST", "/v1/Services/"+mg+"/PhoneNumbers", url.Values{"PhoneNumberSid": {pns[0]}}); code != 404 {
			t.Errorf("other account's add: %d %v", code, m)
		}
		if code, m := other.call("POST", "/2010-04-01/Accounts/"+oc.AccountSID+"/Messages.json", url.Values{"To": {"+31612345678"}, "Body": {"x"}, "MessagingServiceSid": {mg}}); code != 404 || m["code"] != 21701.0 {
			t.Errorf("other account's send: %d %v", code, m)
		}

		// Removing senders and the service.
		if code, m := v1.call("DELETE", "/v1/Services/"+mg+"/PhoneNumbers/"+pns[0], nil); code != http.StatusNoContent {
			t.Fatalf("remove number: %d %v", code, m)
		}
		if code, m := v1.call("GET", "/v1/Services/"+mg+"/PhoneNumbers/"+pns[0], nil); code != 404 {
			t.Fatalf("removed number: %d %v", code, m)
		}
		if code, m := v1.call("DELETE", "/v1/Services/"+mg, nil); code != http.StatusNoContent {
			t.Fatalf("delete service: %d %v", code, m)
		}
		if code, m := send(url.Values{"To": {"+31612345678"}, "MessagingServiceSid": {mg}}); code != 404 || m["code"] != 21701.0 {
			t.Fatalf("deleted service: %d %v", code, m)
		}
	})
}
