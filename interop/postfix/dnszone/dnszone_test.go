package dnszone

import (
	"context"
	"net"
	"testing"
)

func TestParseRecordsJSONAndZone(t *testing.T) {
	js := []byte(`{"domain":"sender.test","records":[
	  {"name":"s1._domainkey.sender.test","type":"TXT","value":"v=DKIM1; k=rsa; p=AAAA"},
	  {"purpose":"return path","host":"bounces.sender.test","type":"mx","content":"10 mx.omnigate.test"}]}`)
	got := ParseRecords(js)
	if len(got) != 2 || got[0].Value != "v=DKIM1; k=rsa; p=AAAA" || got[1].Type != "MX" || got[1].Name != "bounces.sender.test" {
		t.Fatalf("JSON: %+v", got)
	}
	zone := []byte("s1._domainkey.sender.test. 3600 IN TXT \"v=DKIM1; k=rsa; \" \"p=AAAA\"\n_dmarc.sender.test TXT \"v=DMARC1; p=none\"\n")
	got = ParseRecords(zone)
	if len(got) != 2 || got[0].Value != "v=DKIM1; k=rsa; p=AAAA" || got[1].Name != "_dmarc.sender.test" {
		t.Fatalf("zone: %+v", got)
	}
}

func TestServerAnswersOverUDP(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Publish([]byte(`[{"name":"bounces.sender.test","type":"MX","value":"10 mx.omnigate.test"},
	  {"name":"s1._domainkey.sender.test","type":"TXT","value":"` + string(make([]byte, 0)) + `v=DKIM1; p=` + long(400) + `"}]`))
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, s.Addr)
	}}
	mx, err := r.LookupMX(context.Background(), "bounces.sender.test")
	if err != nil || len(mx) != 1 || mx[0].Host != "mx.omnigate.test." {
		t.Fatalf("MX: %v %v", mx, err)
	}
	ips, err := r.LookupHost(context.Background(), "mx.omnigate.test")
	if err != nil || len(ips) != 1 || ips[0] != "127.0.0.1" {
		t.Fatalf("A: %v %v", ips, err)
	}
	txt, err := r.LookupTXT(context.Background(), "s1._domainkey.sender.test")
	if err != nil || len(txt) != 1 || txt[0] != "v=DKIM1; p="+long(400) {
		t.Fatalf("TXT: %v %v", txt, err)
	}
	if _, err := r.LookupHost(context.Background(), "nowhere.test"); err == nil {
		t.Fatal("an unknown name resolved")
	}
}

func long(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'A' + byte(i%26)
	}
	return string(b)
}
