package app

import (
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/mailsink/dnstest"
)

// TestEmailDomainsAPI: a customer adds a sending domain, gets the records
// to publish, and verifies it once the DNS server (a real one on
// 127.0.0.1, --dns-resolver) has them; an operator suspends, resumes and
// caps it through /admin/. Bad input gets the API's errors.
func TestEmailDomainsAPI(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		dns, err := dnstest.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(dns.Close)
		s := billingServer(t, engine, func(c *Config) {
			c.DNSResolver, c.EmailMXHost, c.EmailSPFInclude = dns.Addr(), "mx.omnigate.test", "spf.omnigate.test"
		})
		r := s.call("POST", "/email/domains", map[string]any{"domain": "Example.com", "algorithm": "ed25519"})
		if r.status != 201 || r.json["domain"] != "example.com" || r.json["status"] != "pending" || r.json["lastCheck"] != nil {
			t.Fatalf("add: %d %s", r.status, r.raw)
		}
		records, _ := r.json["records"].([]any)
		if len(records) != 4 {
			t.Fatalf("records: %s", r.raw)
		}
		dkimRec := records[0].(map[string]any)
		if !strings.HasPrefix(dkimRec["value"].(string), "v=DKIM1; k=ed25519; p=") || dkimRec["name"] != r.json["selector"].(string)+"._domainkey.example.com" {
			t.Fatalf("DKIM record %v", dkimRec)
		}
		if strings.Contains(string(r.raw), "PRIVATE") {
			t.Fatal("the private key shows")
		}

		r = s.call("POST", "/email/domains/example.com/verify", nil)
		if r.status != 200 || r.json["status"] != "pending" || r.json["lastCheck"].(map[string]any)["verified"] != false {
			t.Fatalf("verify without records: %d %s", r.status, r.raw)
		}
		dns.SetTXT(dkimRec["name"].(string), dkimRec["value"].(string))
		dns.SetTXT("example.com", "v=spf1 include:spf.omnigate.test -all")
		dns.SetMX("bounces.example.com", dnstest.MX{Pref: 10, Host: "mx.omnigate.test"})
		r = s.call("POST", "/email/domains/example.com/verify", nil)
		if r.status != 200 || r.json["status"] != "verified" || r.json["verifiedDatetime"] == nil {
			t.Fatalf("verify with records: %d %s", r.status, r.raw)
		}
		if r = s.get("/email/domains"); r.status != 200 || len(r.json["items"].([]any)) != 1 {
			t.Fatalf("list: %d %s", r.status, r.raw)
		}

		base := "/admin/accounts/" + s.accountID + "/email/domains/example.com"
		r = s.admin("PUT", base+"/suspension", "application/json", `{"reason":"phishing reports"}`)
		if r.status != 200 || r.json["status"] != "suspended" || r.json["suspension"].(map[string]any)["by"] != "operator:ann" {
			t.Fatalf("suspend: %d %s", r.status, r.raw)
		}
		if r = s.get("/email/domains/example.com"); r.json["suspension"].(map[string]any)["reason"] != "phishing reports" {
			t.Fatalf("the customer does not see the suspension: %s", r.raw)
		}
		if r = s.admin("DELETE", base+"/suspension", "", ""); r.status != 200 || r.json["status"] != "verified" {
			t.Fatalf("resume: %d %s", r.status, r.raw)
		}
		if r = s.admin("PUT", base+"/cap", "application/json", `{"perDay":1000}`); r.status != 200 || r.json["dailyCap"] != 1000.0 || r.json["sentToday"] != 0.0 {
			t.Fatalf("cap: %d %s", r.status, r.raw)
		}
		if r = s.admin("GET", "/admin/accounts/"+s.accountID+"/email/domains", "", ""); r.status != 200 || len(r.json["items"].([]any)) != 1 {
			t.Fatalf("admin list: %d %s", r.status, r.raw)
		}

		for _, c := range []struct {
			method, path, body string
			status             int
			param              string
		}{
			{"POST", "/email/domains", `{"domain":"example.com"}`, 409, "domain"},
			{"POST", "/email/domains", `{}`, 422, "domain"},
			{"POST", "/email/domains", `{"domain":"not a domain"}`, 422, "domain"},
			{"POST", "/email/domains", `{"domain":"example.org","algorithm":"dsa"}`, 422, "algorithm"},
			{"POST", "/email/domains", `{"domain":"example.org","selector":"a_b"}`, 422, "selector"},
			{"POST", "/email/domains", `{"domain":["example.org"]}`, 422, "domain"},
			{"GET", "/email/domains/example.net", "", 404, "domain"},
			{"POST", "/email/domains/example.net/verify", "", 404, "domain"},
		} {
			r := s.do(c.method, c.path, s.key, "application/json", []byte(c.body))
			if r.status != c.status {
				t.Errorf("%s %s %s = %d %s, want %d", c.method, c.path, c.body, r.status, r.raw, c.status)
				continue
			}
			if _, param, _ := errorOf(t, r); param != c.param {
				t.Errorf("%s %s %s: parameter %q, want %q", c.method, c.path, c.body, param, c.param)
			}
		}
		for _, c := range []struct{ method, path, body string }{
			{"PUT", base + "/suspension", `{}`},
			{"PUT", base + "/cap", `{"perDay":-1}`},
			{"PUT", base + "/cap", `{}`},
		} {
			if r := s.admin(c.method, c.path, "application/json", c.body); r.status != 422 {
				t.Errorf("admin %s %s %s = %d %s, want 422", c.method, c.path, c.body, r.status, r.raw)
			}
		}
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/email/domains/example.net/cap", "application/json", `{"perDay":1}`); r.status != 404 {
			t.Errorf("cap of a domain the account lacks: %d %s", r.status, r.raw)
		}

		if r = s.do("DELETE", "/email/domains/example.com", s.key, "", nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		if r = s.get("/email/domains/example.com"); r.status != 404 {
			t.Fatalf("after delete: %d", r.status)
		}
	})
}
