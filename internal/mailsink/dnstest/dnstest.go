// Package dnstest is a tiny authoritative DNS server for tests: it answers
// MX, A, AAAA, TXT and CNAME questions from records set on it, on one
// loopback port over UDP and TCP, so that mail code (the smtp connector's
// MX lookups, sending-domain checks) resolves names without ever asking
// the outside world.
//
// Names are matched case-insensitively. A name without records gets
// NXDOMAIN; a name that has some records but not the type asked gets an
// empty answer (NODATA); a CNAME at the name is followed within the
// server's records, as a recursive resolver would.
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

// Server answers from its records; they may be changed while it runs.
type Server struct {
	mu      sync.RWMutex
	records map[string][]dns.RR // by lower-case FQDN
	udp     *dns.Server
	tcp     *dns.Server
	addr    string
}

// Start listens on 127.0.0.1 (one port, UDP and TCP) and serves until
// Close.
func Start() (*Server, error) {
	s := &Server{records: map[string][]dns.RR{}}
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

// Close stops the server; a stopped server's Addr answers nothing.
func (s *Server) Close() {
	s.udp.Shutdown()
	s.tcp.Shutdown()
}

func key(name string) string { return dns.Fqdn(strings.ToLower(name)) }

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: key(name), Rrtype: t, Class: dns.ClassINET, Ttl: 60}
}

// set replaces the records of the given types at name with rrs.
func (s *Server) set(name string, rrs []dns.RR, types ...uint16) {
	k := key(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	var keep []dns.RR
	for _, rr := range s.records[k] {
		t := rr.Header().Rrtype
		drop := false
		for _, d := range types {
			drop = drop || t == d
		}
		if !drop {
			keep = append(keep, rr)
		}
	}
	if keep = append(keep, rrs...); len(keep) > 0 {
		s.records[k] = keep
	} else {
		delete(s.records, k)
	}
}

// SetMX sets a domain's mail exchangers (none: the domain has no MX).
// Hosts are answered as given, not lower-cased.
func (s *Server) SetMX(domain string, mx ...MX) {
	var rrs []dns.RR
	for _, m := range mx {
		rrs = append(rrs, &dns.MX{Hdr: hdr(domain, dns.TypeMX), Preference: m.Pref, Mx: dns.Fqdn(m.Host)})
	}
	s.set(domain, rrs, dns.TypeMX)
}

// SetA sets a name's addresses (IPv4 as A, IPv6 as AAAA).
func (s *Server) SetA(name string, ips ...net.IP) {
	var rrs []dns.RR
	for _, ip := range ips {
		if v4 := ip.To4(); v4 != nil {
			rrs = append(rrs, &dns.A{Hdr: hdr(name, dns.TypeA), A: v4})
		} else if ip.To16() != nil {
			rrs = append(rrs, &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA), AAAA: ip})
		}
	}
	s.set(name, rrs, dns.TypeA, dns.TypeAAAA)
}

// SetTXT sets a name's TXT records, one per string; a string longer than
// 255 bytes is answered as several character-strings of one record, which
// resolvers join.
func (s *Server) SetTXT(name string, txt ...string) {
	var rrs []dns.RR
	for _, t := range txt {
		var parts []string
		for len(t) > 255 {
			parts, t = append(parts, t[:255]), t[255:]
		}
		rrs = append(rrs, &dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: append(parts, t)})
	}
	s.set(name, rrs, dns.TypeTXT)
}

// SetCNAME makes name an alias of target (answered as given), replacing
// any CNAME there; other records at name stay until Remove.
func (s *Server) SetCNAME(name, target string) {
	s.set(name, []dns.RR{&dns.CNAME{Hdr: hdr(name, dns.TypeCNAME), Target: dns.Fqdn(target)}}, dns.TypeCNAME)
}

// Remove drops every record at name: it gets NXDOMAIN again.
func (s *Server) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, key(name))
}

// serve answers from the records: those of the asked type at the name, or
// the CNAME there followed within the records (at most 8 hops).
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
	owner := q.Name // the asker's spelling for the first owner name
	s.mu.RLock()
	for hops := 0; hops < 8; hops++ {
		rrs, ok := s.records[key(owner)]
		if !ok {
			if hops == 0 {
				resp.Rcode = dns.RcodeNameError
				resp.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
					Ns: "ns.test.", Mbox: "hostmaster.test.", Serial: 1, Refresh: 60, Retry: 60, Expire: 60, Minttl: 60}}
			}
			break
		}
		var cname *dns.CNAME
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				c := dns.Copy(rr)
				c.Header().Name = owner
				resp.Answer = append(resp.Answer, c)
			}
			if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if len(resp.Answer) > 0 || cname == nil || q.Qtype == dns.TypeCNAME {
			break
		}
		c := dns.Copy(cname)
		c.Header().Name = owner
		resp.Answer = append(resp.Answer, c)
		owner = cname.Target
	}
	s.mu.RUnlock()
	resp.Compress = true
	w.WriteMsg(resp)
}
