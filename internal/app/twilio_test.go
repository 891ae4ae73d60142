package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/api/twilio"
)

// twilioClient speaks the Twilio door as its helper libraries do: form
// bodies, HTTP Basic.
type twilioClient struct {
	t          testing.TB
	base       string
	user, pass string
	sid        string
}

func (s *server) twilioCredentials(apiKey bool) (*twilio.Credentials, *twilioClient) {
	s.t.Helper()
	c, err := twilio.IssueCredentials(context.Background(), s.app.store, s.accountID, false, apiKey)
	if err != nil {
		s.t.Fatal(err)
	}
	return c, &twilioClient{t: s.t, base: s.url + "/2010-04-01/Accounts/" + c.AccountSID, user: c.AccountSID, pass: c.AuthToken, sid: c.AccountSID}
}

func (c *twilioClient) call(method, path string, form url.Values) (int, map[string]any) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth(c.user, c.pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func TestTwilioDoor(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		creds, c := s.twilioCredentials(true)

		// Status callbacks, checked as a customer would: the signature over
		// the URL and the sorted parameters, keyed by the auth token.
		var mu sync.Mutex
		var callbacks []url.Values
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			full := "http://" + r.Host + r.URL.RequestURI()
			if got, want := r.Header.Get("X-Twilio-Signature"), twilio.Signature(creds.AuthToken, full, r.PostForm); got != want {
				t.Errorf("callback signature %q, want %q", got, want)
			}
			mu.Lock()
			callbacks = append(callbacks, r.PostForm)
			mu.Unlock()
		}))
		defer sink.Close()

		code, m := c.call("POST", "/Messages.json", url.Values{"To": {"+31612345678"}, "From": {"Acme"}, "Body": {"Hello “there”"},
			"SmartEncoded": {"true"}, "StatusCallback": {sink.URL + "/cb?x=1"}})
		if code != http.StatusCreated {
			t.Fatalf("create: %d %v", code, m)
		}
		sid, _ := m["sid"].(string)
		if !twilio.IsSID("SM", sid) || m["account_sid"] != creds.AccountSID || m["to"] != "+31612345678" || m["status"] != "queued" ||
			m["body"] != `Hello "there"` || m["num_segments"] != "1" || m["direction"] != "outbound-api" || m["api_version"] != "2010-04-01" {
			t.Fatalf("created: %v", m)
		}
		if _, err := time.Parse(time.RFC1123Z, m["date_created"].(string)); err != nil {
			t.Fatalf("date_created: %v", err)
		}
		waitFor(t, "delivered", 10*time.Second, func() bool {
			_, m := c.call("GET", "/Messages/"+sid+".json", nil)
			return m["status"] == "delivered"
		})
		waitFor(t, "the delivered callback", 10*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, cb := range callbacks {
				if cb.Get("MessageStatus") == "delivered" && cb.Get("MessageSid") == sid && cb.Get("AccountSid") == creds.AccountSID {
					return true
				}
			}
			return false
		})

		// An API key authenticates too.
		k := *c
		k.user, k.pass = creds.APIKeySID, creds.APIKeySecret
		for i := 0; i < 3; i++ {
			if code, m := k.call("POST", "/Messages.json", url.Values{"To": {"+31612345679"}, "From": {"Acme"}, "Body": {"again"}}); code != 201 {
				t.Fatalf("create with API key: %d %v", code, m)
			}
		}
		// Paging: 4 messages, 3 pages of 2 at most.
		code, page := k.call("GET", "/Messages.json?PageSize=2", nil)
		if code != 200 || len(page["messages"].([]any)) != 2 || page["next_page_uri"] == nil || page["page_size"].(float64) != 2 {
			t.Fatalf("page 0: %d %v", code, page)
		}
		next := page["next_page_uri"].(string)
		code, page = k.call("GET", strings.TrimPrefix(next, "/2010-04-01/Accounts/"+creds.AccountSID), nil)
		if code != 200 || len(page["messages"].([]any)) != 2 || page["next_page_uri"] != nil || page["page"].(float64) != 1 {
			t.Fatalf("page 1: %d %v", code, page)
		}
		if _, page = k.call("GET", "/Messages.json?To=%2B31612345678", nil); len(page["messages"].([]any)) != 1 {
			t.Fatalf("filter To: %v", page)
		}

		// Schedule, then cancel.
		at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		code, m = c.call("POST", "/Messages.json", url.Values{"To": {"+31612345678"}, "From": {"Acme"}, "Body": {"later"}, "SendAt": {at}, "ScheduleType": {"fixed"}})
		if code != 201 || m["status"] != "scheduled" {
			t.Fatalf("scheduled: %d %v", code, m)
		}
		code, m = c.call("POST", "/Messages/"+m["sid"].(string)+".json", url.Values{"Status": {"canceled"}})
		if code != 200 || m["status"] != "canceled" {
			t.Fatalf("cancel: %d %v", code, m)
		}
		if code, m = c.call("POST", "/Messages/"+sid+".json", url.Values{"Status": {"canceled"}}); code != 400 || m["code"].(float64) != 30409 {
			t.Fatalf("cancel of a sent message: %d %v", code, m)
		}

		// Redaction and deletion of a final (delivered) message.
		if code, m = c.call("POST", "/Messages/"+sid+".json", url.Values{"Body": {""}}); code != 200 || m["body"] != "" || m["status"] != "delivered" {
			t.Fatalf("redact: %d %v", code, m)
		}
		if code, m = c.call("GET", "/Messages/"+sid+".json", nil); code != 200 || m["body"] != "" {
			t.Fatalf("fetch after redaction: %d %v", code, m)
		}
		if code, m = c.call("DELETE", "/Messages/"+sid+".json", nil); code != 204 {
			t.Fatalf("delete: %d %v", code, m)
		}
		if code, m = c.call("GET", "/Messages/"+sid+".json", nil); code != 404 || m["code"].(float64) != 20404 {
			t.Fatalf("fetch after delete: %d %v", code, m)
		}
		if code, m = c.call("DELETE", "/Messages/"+sid+".json", nil); code != 404 {
			t.Fatalf("second delete: %d %v", code, m)
		}

		// Errors in Twilio's format with its codes; nothing stored.
		for _, tc := range []struct {
			form url.Values
			code float64
		}{
			{url.Values{"From": {"Acme"}, "Body": {"x"}}, 21604},
			{url.Values{"To": {"12"}, "From": {"Acme"}, "Body": {"x"}}, 21211},
			{url.Values{"To": {"+31612345678"}, "Body": {"x"}}, 21603},
			{url.Values{"To": {"+31612345678"}, "From": {"Acme"}}, 21602},
			{url.Values{"To": {"+31612345678"}, "From": {"Acme"}, "Body": {"x"}, "MediaUrl": {"https://example.com/a.png"}}, 21620},
			{url.Values{"To": {"+31612345678"}, "From": {"Acme"}, "Body": {strings.Repeat("x", 1601)}}, 21617},
			{url.Values{"To": {"+31612345678"}, "From": {"Acme"}, "Body": {"x"}, "SendAt": {at}}, 35111},
		} {
			code, m := c.call("POST", "/Messages.json", tc.form)
			if code != 400 || m["code"] != tc.code || m["status"].(float64) != 400 || !strings.HasPrefix(m["more_info"].(string), "https://www.twilio.com/docs/errors/") {
				t.Errorf("%v: %d %v, want code %v", tc.form, code, m, tc.code)
			}
		}
		if _, page = c.call("GET", "/Messages.json", nil); len(page["messages"].([]any)) != 3 {
			t.Errorf("after refusals %d messages, want 3 (4 sent, 1 deleted)", len(page["messages"].([]any)))
		}
		bad := *c
		bad.pass = strings.Repeat("0", 32)
		if code, m := bad.call("GET", "/Messages.json", nil); code != 401 || m["code"].(float64) != 20003 {
			t.Errorf("bad token: %d %v", code, m)
		}
		if code, m := c.call("GET", "/Messages/SM"+strings.Repeat("0", 32)+".json", nil); code != 404 || m["code"].(float64) != 20404 {
			t.Errorf("unknown message: %d %v", code, m)
		}
		// Another account's SID in the path is not found.
		other := *c
		other.base = s.url + "/2010-04-01/Accounts/AC" + strings.Repeat("1", 32)
		if code, m := other.call("GET", "/Messages.json", nil); code != 404 || m["code"].(float64) != 20404 {
			t.Errorf("other account's path: %d %v", code, m)
		}
	})
}

// The Account resource: the caller's account with its auth token, without
// it to an API key, the list holding that account alone, and another
// account's SID not found.
func TestTwilioAccountResource(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		creds, c := s.twilioCredentials(true)
		acct, err := s.app.store.GetAccount(t.Context(), s.accountID)
		if err != nil {
			t.Fatal(err)
		}
		st, got := c.call("GET", ".json", nil)
		if st != 200 || got["sid"] != creds.AccountSID || got["owner_account_sid"] != creds.AccountSID || got["auth_token"] != creds.AuthToken ||
			got["status"] != "active" || got["type"] != "Full" || got["friendly_name"] != acct.Name ||
			got["uri"] != "/2010-04-01/Accounts/"+creds.AccountSID+".json" {
			t.Fatalf("account: %d %v", st, got)
		}
		if _, err := time.Parse(time.RFC1123Z, got["date_created"].(string)); err != nil {
			t.Fatalf("date_created: %v", err)
		}
		key := &twilioClient{t: t, base: c.base, user: creds.APIKeySID, pass: creds.APIKeySecret, sid: creds.AccountSID}
		if st, got := key.call("GET", ".json", nil); st != 200 || got["sid"] != creds.AccountSID || got["auth_token"] != nil {
			t.Fatalf("account through an API key: %d %v", st, got)
		}
		list := &twilioClient{t: t, base: s.url + "/2010-04-01", user: creds.AccountSID, pass: creds.AuthToken}
		st, page := list.call("GET", "/Accounts.json", nil)
		if items, _ := page["accounts"].([]any); st != 200 || len(items) != 1 || items[0].(map[string]any)["sid"] != creds.AccountSID || page["next_page_uri"] != nil {
			t.Fatalf("list: %d %v", st, page)
		}
		if _, page := list.call("GET", "/Accounts.json?Status=closed", nil); len(page["accounts"].([]any)) != 0 {
			t.Fatalf("closed accounts: %v", page)
		}
		for _, p := range []string{"/Accounts/AC0123456789abcdef0123456789abcdef.json", "/Accounts/" + creds.AccountSID} {
			if st, got := list.call("GET", p, nil); st != 404 || got["code"] != 20404.0 {
				t.Fatalf("GET %s: %d %v", p, st, got)
			}
		}
		bad := &twilioClient{t: t, base: c.base, user: creds.AccountSID, pass: strings.Repeat("0", 32)}
		if st, got := bad.call("GET", ".json", nil); st != 401 || got["code"] != 20003.0 {
			t.Fatalf("wrong token: %d %v", st, got)
		}
	})
}
