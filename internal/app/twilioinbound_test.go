package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/api/twilio"
	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/worker"
)

// twimlSink is a customer's SMS webhook: it checks X-Twilio-Signature as
// Twilio's helper libraries do, keeps what it got and answers the TwiML
// its answer function gives.
type twimlSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []url.Values
	method []string
	answer func(url.Values) string
	fail   int // answer 500 to this many requests first
}

func newTwiMLSink(t *testing.T, token *string) *twimlSink {
	k := &twimlSink{answer: func(url.Values) string { return "<Response/>" }}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		full := "http://" + r.Host + r.URL.RequestURI()
		if got, want := r.Header.Get("X-Twilio-Signature"), twilio.Signature(*token, full, r.PostForm); got != want {
			t.Errorf("inbound signature %q, want %q (%s %s)", got, want, r.Method, full)
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		k.mu.Lock()
		k.got = append(k.got, r.Form)
		k.method = append(k.method, r.Method)
		answer := k.answer
		fail := k.fail > 0
		k.fail--
		k.mu.Unlock()
		if fail {
			http.Error(w, "down for a moment", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, answer(r.Form))
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *twimlSink) calls() []url.Values {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]url.Values(nil), k.got...)
}

// findMessage is the first message of a Twilio list with the body.
func findMessage(page map[string]any, body string) map[string]any {
	for _, it := range page["messages"].([]any) {
		if m := it.(map[string]any); m["body"] == body {
			return m
		}
	}
	return nil
}

// An inbound SMS to a number with a Twilio SmsUrl is posted there in
// Twilio's form, signed; the <Message> verbs of the TwiML answer are sent
// through the pipeline and delivered; the inbound message reads back with
// direction inbound. Bad TwiML sends nothing and is not retried; another
// account sees none of it.
func TestTwilioInboundTwiML(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) {
			c.Webhook.Retry = worker.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}
		})
		creds, c := s.twilioCredentials(false)
		ctx := context.Background()
		const number = "3197010000001"
		if err := s.app.store.AddNumber(ctx, store.Number{Number: number, AccountID: s.accountID, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		code, list := c.call("GET", "/IncomingPhoneNumbers.json", nil)
		nums, _ := list["incoming_phone_numbers"].([]any)
		if code != 200 || len(nums) != 1 {
			t.Fatalf("list: %d %v", code, list)
		}
		pn := nums[0].(map[string]any)
		pnSID, _ := pn["sid"].(string)
		if !twilio.IsSID("PN", pnSID) || pn["phone_number"] != "+"+number || pn["sms_url"] != "" || pn["sms_method"] != "POST" ||
			pn["account_sid"] != creds.AccountSID || pn["capabilities"].(map[string]any)["sms"] != true {
			t.Fatalf("number: %v", pn)
		}

		sink := newTwiMLSink(t, &creds.AuthToken)
		sink.answer = func(f url.Values) string {
			switch f.Get("Body") {
			case "bad":
				return "<Respons><Message>never</Message>"
			case "quiet":
				return ""
			}
			return `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks for "` + f.Get("Body") + `"</Message>` +
				`<Redirect>http://example.invalid/</Redirect><Message to="+31612345679"><Body>copy: ` + f.Get("Body") + `</Body></Message></Response>`
		}
		code, pn = c.call("POST", "/IncomingPhoneNumbers/"+pnSID+".json", url.Values{"SmsUrl": {sink.srv.URL + "/sms?x=1"}, "FriendlyName": {"Support"}})
		if code != 200 || pn["sms_url"] != sink.srv.URL+"/sms?x=1" || pn["friendly_name"] != "Support" || pn["sid"] != pnSID {
			t.Fatalf("update: %d %v", code, pn)
		}
		if code, got := c.call("GET", "/IncomingPhoneNumbers/"+pnSID+".json", nil); code != 200 || got["sms_url"] != pn["sms_url"] {
			t.Fatalf("fetch: %d %v", code, got)
		}

		inject := func(text string) {
			t.Helper()
			if err := s.app.receiver.Inbound(ctx, channel.Inbound{Connector: "carrier", Channel: "sms", Source: "+31612345678",
				Destination: number, Text: text, Total: 1, Part: 1}); err != nil {
				t.Fatal(err)
			}
		}
		inject("hello")
		waitFor(t, "the inbound POST", 10*time.Second, func() bool { return len(sink.calls()) == 1 })
		f := sink.calls()[0]
		for k, want := range map[string]string{"From": "+31612345678", "To": "+" + number, "Body": "hello", "AccountSid": creds.AccountSID,
			"NumMedia": "0", "NumSegments": "1", "ApiVersion": "2010-04-01", "FromCountry": "NL", "ToCountry": "NL", "SmsStatus": "received", "x": "1"} {
			if f.Get(k) != want {
				t.Errorf("inbound %s = %q, want %q", k, f.Get(k), want)
			}
		}
		inSID := f.Get("MessageSid")
		if !twilio.IsSID("SM", inSID) || f.Get("SmsSid") != inSID {
			t.Fatalf("MessageSid %q SmsSid %q", inSID, f.Get("SmsSid"))
		}
		var reply, copied map[string]any
		waitFor(t, "both replies delivered", 15*time.Second, func() bool {
			_, page := c.call("GET", "/Messages.json", nil)
			reply, copied = findMessage(page, `Thanks for "hello"`), findMessage(page, "copy: hello")
			return reply != nil && copied != nil && reply["status"] == "delivered" && copied["status"] == "delivered"
		})
		if reply["to"] != "+31612345678" || reply["from"] != "+"+number || reply["direction"] != "outbound-api" || copied["to"] != "+31612345679" {
			t.Fatalf("replies: %v / %v", reply, copied)
		}
		code, in := c.call("GET", "/Messages/"+inSID+".json", nil)
		if code != 200 || in["direction"] != "inbound" || in["body"] != "hello" || in["from"] != "+31612345678" || in["to"] != "+"+number {
			t.Fatalf("inbound message: %d %v", code, in)
		}

		// Bad TwiML and an empty answer send nothing; neither is retried.
		inject("bad")
		inject("quiet")
		waitFor(t, "two more inbound POSTs", 10*time.Second, func() bool { return len(sink.calls()) == 3 })
		time.Sleep(500 * time.Millisecond)
		if n := len(sink.calls()); n != 3 {
			t.Fatalf("%d inbound POSTs, want 3 (no retries)", n)
		}
		_, page := c.call("GET", "/Messages.json", nil)
		if msgs := page["messages"].([]any); len(msgs) != 5 || findMessage(page, "never") != nil {
			t.Fatalf("%d messages (want 3 inbound, 2 replies): %v", len(msgs), page)
		}

		// An answer that is not 2xx is retried (with the webhook backoff);
		// the reply is sent once, from the answer that came.
		sink.mu.Lock()
		sink.fail = 2
		sink.mu.Unlock()
		inject("again")
		waitFor(t, "the retried inbound POSTs", 10*time.Second, func() bool { return len(sink.calls()) == 6 })
		waitFor(t, "the reply after retries", 10*time.Second, func() bool {
			_, page := c.call("GET", "/Messages.json", nil)
			m := findMessage(page, `Thanks for "again"`)
			return m != nil && m["status"] == "delivered"
		})
		time.Sleep(300 * time.Millisecond)
		_, page = c.call("GET", "/Messages.json", nil)
		if n, calls := len(page["messages"].([]any)), sink.calls(); n != 8 || len(calls) != 6 || calls[3].Get("MessageSid") != calls[5].Get("MessageSid") {
			t.Fatalf("after retries: %d messages (want 4 inbound, 4 replies), %d POSTs (want 6)", n, len(calls))
		}

		// SmsMethod GET: the parameters go in the query, signed with it.
		if code, pn = c.call("POST", "/IncomingPhoneNumbers/"+pnSID+".json", url.Values{"SmsMethod": {"GET"}}); code != 200 || pn["sms_method"] != "GET" {
			t.Fatalf("SmsMethod GET: %d %v", code, pn)
		}
		inject("quiet")
		waitFor(t, "the inbound GET", 10*time.Second, func() bool { return len(sink.calls()) == 7 })
		sink.mu.Lock()
		method := sink.method[6]
		sink.mu.Unlock()
		if method != "GET" || sink.calls()[6].Get("Body") != "quiet" {
			t.Fatalf("inbound by GET: %s %v", method, sink.calls()[6])
		}

		// Bad input: Twilio's errors, nothing changed.
		for _, tc := range []struct {
			method, path string
			form         url.Values
			status       int
			code         float64
		}{
			{"POST", "/IncomingPhoneNumbers/" + pnSID + ".json", url.Values{"SmsUrl": {"ftp://example.com/"}}, 400, 20001},
			{"POST", "/IncomingPhoneNumbers/" + pnSID + ".json", url.Values{"SmsMethod": {"PUT"}}, 400, 20001},
			{"POST", "/IncomingPhoneNumbers/" + pnSID + ".json", url.Values{"FriendlyName": {strings.Repeat("x", 65)}}, 400, 20001},
			{"POST", "/IncomingPhoneNumbers/PN" + strings.Repeat("0", 32) + ".json", url.Values{"SmsUrl": {"http://x/"}}, 404, 20404},
			{"GET", "/IncomingPhoneNumbers/" + pnSID, nil, 404, 20404},
			{"POST", "/IncomingPhoneNumbers.json", url.Values{"PhoneNumber": {"+31970100000099"}}, 400, 21422},
		} {
			code, m := c.call(tc.method, tc.path, tc.form)
			if code != tc.status || m["code"] != tc.code {
				t.Errorf("%s %s %v: %d %v, want %d %v", tc.method, tc.path, tc.form, code, m, tc.status, tc.code)
			}
		}
		if _, pn = c.call("GET", "/IncomingPhoneNumbers/"+pnSID+".json", nil); pn["sms_url"] != sink.srv.URL+"/sms?x=1" || pn["sms_method"] != "GET" {
			t.Fatalf("changed by refused updates: %v", pn)
		}

		// Another account sees neither the number nor the inbound message.
		otherID, _, _, _ := s.newAccount("other")
		oc, err := twilio.IssueCredentials(ctx, s.app.store, otherID, false, false)
		if err != nil {
			t.Fatal(err)
		}
		other := &twilioClient{t: t, base: s.url + "/2010-04-01/Accounts/" + oc.AccountSID, user: oc.AccountSID, pass: oc.AuthToken, sid: oc.AccountSID}
		if code, m := other.call("GET", "/IncomingPhoneNumbers/"+pnSID+".json", nil); code != 404 || m["code"] != 20404.0 {
			t.Errorf("other account's fetch: %d %v", code, m)
		}
		if code, m := other.call("POST", "/IncomingPhoneNumbers/"+pnSID+".json", url.Values{"SmsUrl": {"http://x/"}}); code != 404 {
			t.Errorf("other account's update: %d %v", code, m)
		}
		if code, m := other.call("GET", "/Messages/"+inSID+".json", nil); code != 404 {
			t.Errorf("other account's fetch of the inbound message: %d %v", code, m)
		}
		if code, m := other.call("GET", "/IncomingPhoneNumbers.json", nil); code != 200 || len(m["incoming_phone_numbers"].([]any)) != 0 {
			t.Errorf("other account's list: %d %v", code, m)
		}
	})
}
