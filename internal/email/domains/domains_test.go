package domains_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/email/dkim"
	"github.com/omnigate/omnigate/internal/email/domains"
	"github.com/omnigate/omnigate/internal/mailsink/dnstest"
)

// startDNS starts a loopback DNS server that stops when t ends.
func startDNS(t *testing.T) *dnstest.Server {
	t.Helper()
	dns, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dns.Close)
	return dns
}

func setup(t *testing.T, alg string) (*dnstest.Server, domains.Config, []domains.Record, *domains.Check) {
	t.Helper()
	dns := startDNS(t)
	r, err := domains.Resolver(dns.Addr())
	if err != nil {
		t.Fatal(err)
	}
	cfg := domains.Config{MXHost: "mx.omnigate.test", SPFInclude: "spf.omnigate.test", Resolver: r}
	d, err := domains.New("acct", "Example.COM.", alg, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	recs := domains.Records(d, cfg)
	c, err := domains.Verify(context.Background(), d, cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return dns, cfg, recs, c
}

// The records name the DKIM key, our SPF include, the return path and a
// DMARC suggestion; nothing published: nothing matches.
func TestRecords(t *testing.T) {
	_, _, recs, c := setup(t, dkim.Ed25519)
	if len(recs) != 4 {
		t.Fatalf("%d records", len(recs))
	}
	want := [][3]string{
		{"dkim", "._domainkey.example.com", "v=DKIM1; k=ed25519; p="},
		{"spf", "example.com", "v=spf1 include:spf.omnigate.test ~all"},
		{"return_path", "bounces.example.com", "10 mx.omnigate.test"},
		{"dmarc", "_dmarc.example.com", "v=DMARC1; p=none; rua=mailto:postmaster@example.com"},
	}
	for i, w := range want {
		r := recs[i]
		if r.Kind != w[0] || !strings.HasSuffix(r.Name, w[1]) || !strings.HasPrefix(r.Value, w[2]) || r.Required != (i < 3) {
			t.Errorf("record %d: %+v, want %v", i, r, w)
		}
	}
	if c.Verified {
		t.Error("verified with no records published")
	}
	for _, r := range c.Records {
		if r.OK == nil || *r.OK || r.Problem == "" {
			t.Errorf("%s: %+v", r.Kind, r)
		}
	}
}

// Publishing the required records verifies the domain, through a real DNS
// server; each wrong record is named.
func TestVerify(t *testing.T) {
	for _, alg := range []string{dkim.RSA, dkim.Ed25519} {
		t.Run(alg, func(t *testing.T) {
			dns := startDNS(t)
			r, _ := domains.Resolver(dns.Addr())
			cfg := domains.Config{MXHost: "mx.omnigate.test", SPFInclude: "spf.omnigate.test", Resolver: r}
			d, _ := domains.New("acct", "example.com", alg, "s1", time.Now())
			verify := func() *domains.Check {
				t.Helper()
				c, err := domains.Verify(context.Background(), d, cfg, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			status := func(c *domains.Check) string {
				var s []string
				for _, r := range c.Records {
					if *r.OK {
						s = append(s, r.Kind)
					}
				}
				return strings.Join(s, ",")
			}
			dns.SetTXT("s1._domainkey.example.com", dkim.DNSRecord(d.Key.Public())) // RSA's is over 255 bytes: two strings
			dns.SetTXT("example.com", "v=spf1 include:other.test ~all", "google-site-verification=abc")
			dns.SetMX("bounces.example.com", dnstest.MX{Pref: 10, Host: "mx.elsewhere.test"})
			c := verify()
			if c.Verified || status(c) != "dkim" {
				t.Fatalf("verified %v, matched %s", c.Verified, status(c))
			}
			if !strings.Contains(c.Records[1].Problem, "does not include spf.omnigate.test") || !strings.Contains(c.Records[2].Problem, "does not point at mx.omnigate.test") {
				t.Errorf("problems: %q %q", c.Records[1].Problem, c.Records[2].Problem)
			}
			dns.SetTXT("example.com", "v=spf1 ip4:192.0.2.1 include:SPF.omnigate.test. -all")
			dns.Remove("bounces.example.com")
			dns.SetCNAME("bounces.example.com", "mx.omnigate.test")
			dns.SetMX("mx.omnigate.test", dnstest.MX{Pref: 10, Host: "mx.omnigate.test"})
			if c = verify(); !c.Verified || status(c) != "dkim,spf,return_path" {
				t.Fatalf("verified %v, matched %s: %+v", c.Verified, status(c), c.Records)
			}
			dns.Remove("bounces.example.com")
			dns.SetMX("bounces.example.com", dnstest.MX{Pref: 10, Host: "MX.omnigate.test"})
			dns.SetTXT("_dmarc.example.com", "v=DMARC1; p=quarantine")
			if c = verify(); !c.Verified || status(c) != "dkim,spf,return_path,dmarc" {
				t.Fatalf("verified %v, matched %s", c.Verified, status(c))
			}
			// Two SPF records are an error for receivers.
			dns.SetTXT("example.com", "v=spf1 ip4:192.0.2.1 include:SPF.omnigate.test. -all", "v=spf1 include:spf.omnigate.test ~all")
			if c = verify(); c.Verified || !strings.Contains(c.Records[1].Problem, "several SPF records") {
				t.Fatalf("two SPF records: %+v", c.Records[1])
			}
			// Another key at the selector.
			other, _ := dkim.GenerateKey(alg)
			dns.SetTXT("s1._domainkey.example.com", dkim.DNSRecord(other.Public()))
			if c = verify(); c.Verified || *c.Records[0].OK {
				t.Fatal("verified with another key's record")
			}
		})
	}
}

// A resolver that does not answer is an error, not a failed check.
func TestVerifyResolverDown(t *testing.T) {
	dns, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	addr := dns.Addr()
	dns.Close()
	r, _ := domains.Resolver(addr)
	d, _ := domains.New("acct", "example.com", dkim.Ed25519, "", time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if c, err := domains.Verify(ctx, d, domains.Config{Resolver: r}, time.Now()); err == nil {
		t.Fatalf("no error: %+v", c)
	}
}

func TestNew(t *testing.T) {
	for _, c := range []struct{ domain, alg, sel, field string }{
		{"", "", "", "domain"},
		{"localhost", "", "", "domain"},
		{"exa mple.com", "", "", "domain"},
		{"-a.com", "", "", "domain"},
		{"a..com", "", "", "domain"},
		{"192.0.2.1", "", "", "domain"},
		{"bücher.de", "", "", "domain"},
		{strings.Repeat("a", 64) + ".com", "", "", "domain"},
		{"example.com", "dsa", "", "algorithm"},
		{"example.com", "", "a_b", "selector"},
		{"example.com", "", "-x", "selector"},
	} {
		_, err := domains.New("a", c.domain, c.alg, c.sel, time.Now())
		ie, ok := err.(*domains.InputError)
		if !ok || ie.Field != c.field {
			t.Errorf("New(%q, %q, %q) = %v, want an error about %s", c.domain, c.alg, c.sel, err, c.field)
		}
	}
	d, err := domains.New("a", " Mail.Example.COM. ", "", "", time.Now())
	if err != nil || d.Domain != "mail.example.com" || d.Algorithm != dkim.RSA || !strings.HasPrefix(d.Selector, "og") || len(d.Selector) != 10 {
		t.Fatalf("New = %+v, %v", d, err)
	}
	if d, err := domains.New("a", "xn--bcher-kva.de", dkim.Ed25519, "2026.mail", time.Now()); err != nil || d.Selector != "2026.mail" {
		t.Fatalf("New = %+v, %v", d, err)
	}
}

func FuzzNormalizeDomain(f *testing.F) {
	for _, s := range []string{"example.com", "a..b", "xn--bcher-kva.de.", "\x00.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := domains.NormalizeDomain(s)
		if err != nil {
			return
		}
		if again, err := domains.NormalizeDomain(d); err != nil || again != d {
			t.Fatalf("%q normalizes to %q, then %q, %v", s, d, again, err)
		}
	})
}
