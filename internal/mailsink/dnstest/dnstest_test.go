package dnstest

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func resolver(addr, network string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// The records answer over UDP and TCP alike, names case-insensitively;
// long TXT strings come back whole; setters replace; CNAMEs are followed;
// Remove gives NXDOMAIN back.
func TestServer(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	long := strings.Repeat("k", 600)
	s.SetTXT("Example.COM", "old")
	s.SetTXT("example.com.", "v=spf1 -all", long)
	s.SetMX("example.com", MX{10, "MX.example.com"}, MX{20, "mx2.example.com"})
	s.SetA("mx.example.com", net.ParseIP("127.0.0.1"), net.ParseIP("::1"))
	s.SetCNAME("bounces.example.com", "MX.Example.com")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, network := range []string{"udp", "tcp"} {
		r := resolver(s.Addr(), network)
		txt, err := r.LookupTXT(ctx, "EXAMPLE.com")
		if slices.Sort(txt); err != nil || len(txt) != 2 || txt[0] != long || txt[1] != "v=spf1 -all" {
			t.Errorf("%s TXT: %d strings, %v", network, len(txt), err)
		}
		mx, err := r.LookupMX(ctx, "example.com")
		if err != nil || len(mx) != 2 || mx[0].Host != "MX.example.com." || mx[0].Pref != 10 {
			t.Errorf("%s MX: %v, %v", network, mx, err)
		}
		ips, err := r.LookupHost(ctx, "bounces.example.com")
		if slices.Sort(ips); err != nil || !slices.Equal(ips, []string{"127.0.0.1", "::1"}) {
			t.Errorf("%s through the CNAME: %v, %v", network, ips, err)
		}
		if cname, err := r.LookupCNAME(ctx, "bounces.example.com"); err != nil || !strings.EqualFold(cname, "mx.example.com.") {
			t.Errorf("%s CNAME: %q, %v", network, cname, err)
		}
		if _, err := r.LookupTXT(ctx, "mx.example.com"); err == nil || !err.(*net.DNSError).IsNotFound {
			t.Errorf("%s NODATA: %v", network, err)
		}
	}
	r := resolver(s.Addr(), "udp")
	s.Remove("bounces.example.com")
	if _, err := r.LookupHost(ctx, "bounces.example.com"); err == nil || !err.(*net.DNSError).IsNotFound {
		t.Errorf("removed: %v", err)
	}
	s.SetMX("example.com")
	if mx, err := r.LookupMX(ctx, "example.com"); err == nil {
		t.Errorf("MX cleared: %v", mx)
	}
}
