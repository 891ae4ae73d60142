// Package dnstest is a tiny authoritative DNS server for tests and the
// demo: it answers MX, A, AAAA and TXT questions from maps, on a loopback
// UDP and TCP port, so that mail code resolves names without ever asking
// the outside world. Names not in the maps get NXDOMAIN; a name that has
// some records but not the type asked gets an empty answer (NODATA).
package dnstest

import (
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// MX is one mail exchanger of a domain. Host "." is a null MX (RFC 7505).
type MX struct {
	Pref uint16
	Host string
}

// Server answers from its records; the maps may be changed while it runs
// through the setters.
type Server struct {
	mu   sync.RWMutex
	mx   map[string][]MX
	a    map[string][]net.IP
	txt  map[string][]string
	udp  *dns.Server
	tcp  *dns.Server
	addr string
}

// Start listens on 127.0.0.1 (one port, UDP and TCP) and serves until
// Close.
func Start() (*Server, error) {
	s := &Server{mx: map[string][]MX{}, a: map[string][]net.IP{}, txt: map[string][]string{}}
	// One port for both: a free UDP port may be taken in TCP; try again.
	var pc net.PacketConn
	var l net.Listener
	var err error
	for try := 0; try < 50; try++ {
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		return nil, err
	}
	s.addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: l, Handler: h}
	started := make(chan struct{}, 2)
	s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	go s.udp.ActivateAndServe()
	go s.tcp.ActivateAndServe()
	<-started
	<-started
	return s, nil
}

// Addr is the server's "127.0.0.1:port", for a resolver setting.
func (s *Server) Addr() string { return s.addr }

// Close stops the server.
func (s *Server) Close() {
	s.udp.Shutdown()
	s.tcp.Shutdown()
}

// SetMX sets a domain's mail exchangers.
func (s *Server) SetMX(domain string, mx ...MX) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mx[dns.Fqdn(strings.ToLower(domain))] = mx
}

// SetA sets a name's addresses (IPv4 as A, IPv6 as AAAA).
func (s *Server) SetA(name string, ips ...net.IP) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.a[dns.Fqdn(strings.ToLower(name))] = ips
}

// SetTXT sets a name's TXT records.
func (s *Server) SetTXT(name string, txt ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[dns.Fqdn(strings.ToLower(name))] = txt
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	if len(req.Question) != 1 {
		resp.Rcode = dns.RcodeFormatError
		w.WriteMsg(resp)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
	}
	s.mu.RLock()
	mxs, hasMX := s.mx[name]
	ips, hasA := s.a[name]
	txts, hasTXT := s.txt[name]
	s.mu.RUnlock()
	switch q.Qtype {
	case dns.TypeMX:
		for _, m := range mxs {
			resp.Answer = append(resp.Answer, &dns.MX{Hdr: hdr(dns.TypeMX), Preference: m.Pref, Mx: dns.Fqdn(m.Host)})
		}
	case dns.TypeA:
		for _, ip := range ips {
			if v4 := ip.To4(); v4 != nil {
				resp.Answer = append(resp.Answer, &dns.A{Hdr: hdr(dns.TypeA), A: v4})
			}
		}
	case dns.TypeAAAA:
		for _, ip := range ips {
			if ip.To4() == nil && ip.To16() != nil {
				resp.Answer = append(resp.Answer, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: ip})
			}
		}
	case dns.TypeTXT:
		for _, t := range txts {
			var parts []string
			for len(t) > 255 {
				parts, t = append(parts, t[:255]), t[255:]
			}
			resp.Answer = append(resp.Answer, &dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: append(parts, t)})
		}
	}
	if !hasMX && !hasA && !hasTXT {
		resp.Rcode = dns.RcodeNameError
		resp.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
			Ns: "ns.test.", Mbox: "hostmaster.test.", Serial: 1, Refresh: 60, Retry: 60, Expire: 60, Minttl: 60}}
	}
	w.WriteMsg(resp)
}
