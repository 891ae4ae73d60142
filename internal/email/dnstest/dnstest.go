// Package dnstest is a DNS server on 127.0.0.1 for tests: it answers TXT,
// MX and CNAME questions from records a test sets, over UDP and TCP on one
// port, so code under test resolves through a configurable resolver
// address and nothing outside loopback is asked.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server is a running test DNS server.
type Server struct {
	// Addr is "127.0.0.1:port", for UDP and TCP alike.
	Addr string

	mu      sync.Mutex
	records map[string][]dns.RR // by lower-case FQDN
	servers []*dns.Server
}

// Start starts a server that stops when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{records: map[string][]dns.RR{}}
	var pc net.PacketConn
	var l net.Listener
	for try := 0; ; try++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if try == 20 {
			t.Fatalf("no port free for both UDP and TCP: %v", err)
		}
	}
	s.Addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(s.answer)
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		s.servers = append(s.servers, srv)
		go srv.ActivateAndServe()
		<-started
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() {
	for _, srv := range s.servers {
		srv.Shutdown()
	}
}

func fqdn(name string) string { return dns.Fqdn(strings.ToLower(name)) }

func (s *Server) add(rr dns.RR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := rr.Header().Name
	s.records[name] = append(s.records[name], rr)
}

// SetTXT adds a TXT record at name made of the given strings (one record;
// resolvers join its strings).
func (s *Server) SetTXT(name string, strs ...string) {
	s.add(&dns.TXT{Hdr: dns.RR_Header{Name: fqdn(name), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: strs})
}

// SetMX adds an MX record at name pointing at host.
func (s *Server) SetMX(name, host string, pref uint16) {
	s.add(&dns.MX{Hdr: dns.RR_Header{Name: fqdn(name), Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 60}, Mx: fqdn(host), Preference: pref})
}

// SetCNAME makes name an alias of target.
func (s *Server) SetCNAME(name, target string) {
	s.add(&dns.CNAME{Hdr: dns.RR_Header{Name: fqdn(name), Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: fqdn(target)})
}

// Remove drops every record at name.
func (s *Server) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, fqdn(name))
}

// answer answers from the records: those of the asked type, or a CNAME at
// the name followed within the records; NXDOMAIN for a name without any.
func (s *Server) answer(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	s.mu.Lock()
	name := strings.ToLower(q.Name)
	for hops := 0; hops < 8; hops++ {
		rrs, ok := s.records[name]
		if !ok {
			if hops == 0 {
				m.Rcode = dns.RcodeNameError
			}
			break
		}
		var cname *dns.CNAME
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				c := dns.Copy(rr)
				c.Header().Name = name
				m.Answer = append(m.Answer, c)
			}
			if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if len(m.Answer) > 0 || cname == nil || q.Qtype == dns.TypeCNAME {
			break
		}
		m.Answer = append(m.Answer, dns.Copy(cname))
		name = cname.Target
	}
	s.mu.Unlock()
	if !m.Truncated {
		m.Compress = true
	}
	w.WriteMsg(m)
}
