package main

import (
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/mailsink/dnstest"
)

// TestEmailDomainCLI: `email domain add` prints the records to publish;
// `verify` asks the DNS server given by --dns-resolver (a real one on
// 127.0.0.1), says what matched, and marks the domain verified once the
// required records are in place; the operator's suspend, resume and cap
// work with the domain alone when one account has it.
func TestEmailDomainCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		dns, err := dnstest.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(dns.Close)
		e.extra = append(e.extra, "OMNIGATE_DNS_RESOLVER="+dns.Addr(), "OMNIGATE_EMAIL_MX_HOST=mx.omnigate.test",
			"OMNIGATE_EMAIL_SPF_INCLUDE=spf.omnigate.test")
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme")

		out, err := e.cmd("email", "domain", "add", "Example.COM", "--account", acct.ID, "--algorithm", "ed25519", "--selector", "s1").Output()
		if err != nil {
			t.Fatalf("add: %v", err)
		}
		for _, want := range []string{"status    pending", `s1._domainkey.example.com. IN TXT "v=DKIM1; k=ed25519; p=`,
			`example.com. IN TXT "v=spf1 include:spf.omnigate.test ~all"`, "bounces.example.com. IN MX 10 mx.omnigate.test.",
			`_dmarc.example.com. IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@example.com"`} {
			if !strings.Contains(string(out), want) {
				t.Errorf("add printed no %q:\n%s", want, out)
			}
		}
		var shown struct {
			Status  string
			Records []struct{ Kind, Name, Value string }
		}
		e.run(&shown, "email", "domain", "show", "example.com", "--json")
		if shown.Status != "pending" || len(shown.Records) != 4 || shown.Records[0].Kind != "dkim" {
			t.Fatalf("show: %+v", shown)
		}

		// Only DKIM published: not verified; the rest are named.
		dns.SetTXT(shown.Records[0].Name, shown.Records[0].Value)
		out, _ = e.cmd("email", "domain", "verify", "example.com").Output()
		for _, want := range []string{"ok      ; dkim", "MISSING ; spf", "problem: no SPF record", "MISSING ; return_path", "missing ; dmarc", "is not verified"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("verify printed no %q:\n%s", want, out)
			}
		}
		dns.SetTXT("example.com", "v=spf1 include:spf.omnigate.test ~all")
		dns.SetMX("bounces.example.com", dnstest.MX{Pref: 10, Host: "mx.omnigate.test"})
		out, _ = e.cmd("email", "domain", "verify", "example.com").Output()
		if !strings.Contains(string(out), "example.com is verified") || !strings.Contains(string(out), "status    verified") {
			t.Fatalf("verify with the records:\n%s", out)
		}
		var v map[string]any
		e.run(&v, "email", "domain", "cap", "example.com", "2500")
		if v["dailyCap"] != 2500.0 || v["sentToday"] != 0.0 || v["status"] != "verified" || v["lastCheck"].(map[string]any)["verified"] != true {
			t.Fatalf("cap: %v", v)
		}
		e.run(&v, "email", "domain", "suspend", "example.com", "--reason", "phishing reports")
		if s, _ := v["suspension"].(map[string]any); v["status"] != "suspended" || s["reason"] != "phishing reports" || s["by"] != "cli" {
			t.Fatalf("suspend: %v", v)
		}
		e.run(&v, "email", "domain", "resume", "example.com")
		if v["status"] != "verified" || v["suspension"] != nil {
			t.Fatalf("resume: %v", v)
		}

		// A second account with the domain: operators must say which.
		var other created
		e.run(&other, "account", "create", "--name", "Other")
		e.run(&v, "email", "domain", "add", "example.com", "--account", other.ID, "--json")
		if c := e.cmd("email", "domain", "suspend", "example.com", "--reason", "x"); c.Run() == nil || c.ProcessState.ExitCode() != 2 {
			t.Error("suspend without --account while two accounts have the domain")
		}
		var list []map[string]any
		e.run(&list, "email", "domain", "list", "--account", other.ID)
		if len(list) != 1 || list[0]["status"] != "pending" {
			t.Fatalf("list: %v", list)
		}

		for _, bad := range [][]string{
			{"email", "domain", "add", "example.net"},                        // no account
			{"email", "domain", "add", "not_a_domain", "--account", acct.ID}, // bad name
			{"email", "domain", "add", "example.net", "--account", acct.ID, "--algorithm", "dsa"},
			{"email", "domain", "cap", "example.com", "-3", "--account", acct.ID},
			{"email", "domain", "cap", "example.com", "lots", "--account", acct.ID},
			{"email", "domain", "frob", "example.com"},
			{"email", "domain", "verify", "example.com", "--dns-resolver", "nonsense"},
		} {
			if c := e.cmd(bad...); c.Run() == nil || c.ProcessState.ExitCode() != 2 {
				t.Errorf("omnigate %s: not a usage error", strings.Join(bad, " "))
			}
		}
		if c := e.cmd("email", "domain", "add", "example.com", "--account", "nope"); c.Run() == nil {
			t.Error("added a domain to an account that does not exist")
		}
		e.run(&v, "email", "domain", "remove", "example.com", "--account", acct.ID)
		if c := e.cmd("email", "domain", "show", "example.com", "--account", acct.ID); c.Run() == nil {
			t.Error("shown after remove")
		}
	})
}
