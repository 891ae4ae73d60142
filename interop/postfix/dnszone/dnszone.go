// Package dnszone is a tiny authoritative DNS server on a loopback port
// for the interop test and the benchmark: MX, A, TXT and CNAME records
// from a map that can change while it runs. omnigate's MX lookups and
// domain verification are pointed at it (a resolver address), so nothing
// is ever asked of the outside world's DNS.
package dnszone

import (
	"encoding/json"
	"net"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Record is one resource record: Type is "A", "MX", "TXT" or "CNAME";
// Value is the address, "pref host", the text, or the target.
type Record struct{ Type, Value string }

// Server answers from its records; names are case-insensitive.
type Server struct {
	Addr string // host:port, UDP and TCP
	mu   sync.Mutex
	recs map[string][]Record
	udp  *dns.Server
	tcp  *dns.Server
}

// Start listens on 127.0.0.1 (a free port) over UDP and TCP. The port is
// the one the system gives the UDP socket; when its TCP twin is taken (by
// another process, as CI's parallel tests may), another is tried.
func Start() (*Server, error) {
	var pc net.PacketConn
	var l net.Listener
	var err error
	for try := 0; try < 20; try++ {
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
	s := &Server{Addr: pc.LocalAddr().String(), recs: map[string][]Record{}}
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: l, Handler: s}
	go s.udp.ActivateAndServe()
	go s.tcp.ActivateAndServe()
	return s, nil
}

// Close stops both listeners.
func (s *Server) Close() {
	s.udp.Shutdown()
	s.tcp.Shutdown()
}

// Add adds a record for name.
func (s *Server) Add(name, typ, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := dns.CanonicalName(name)
	s.recs[k] = append(s.recs[k], Record{strings.ToUpper(typ), value})
}

// TXT returns the text records of name (for a DKIM verifier's lookups).
func (s *Server) TXT(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.recs[dns.CanonicalName(name)] {
		if r.Type == "TXT" {
			out = append(out, r.Value)
		}
	}
	return out
}

// All returns a copy of every record, by canonical name.
func (s *Server) All() map[string][]Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]Record, len(s.recs))
	for k, v := range s.recs {
		out[k] = append([]Record(nil), v...)
	}
	return out
}

// ServeDNS answers one query: the records of the asked type (and a CNAME
// when the name has one), NXDOMAIN for an unknown name.
func (s *Server) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	if len(q.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	qq := q.Question[0]
	name := dns.CanonicalName(qq.Name)
	s.mu.Lock()
	recs, known := s.recs[name]
	s.mu.Unlock()
	if !known {
		m.Rcode = dns.RcodeNameError
	}
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: qq.Name, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
	}
	for _, r := range recs {
		var rr dns.RR
		switch {
		case r.Type == "CNAME":
			rr = &dns.CNAME{Hdr: hdr(dns.TypeCNAME), Target: dns.Fqdn(r.Value)}
		case r.Type == "A" && qq.Qtype == dns.TypeA:
			rr = &dns.A{Hdr: hdr(dns.TypeA), A: net.ParseIP(r.Value).To4()}
		case r.Type == "MX" && qq.Qtype == dns.TypeMX:
			pref, host := uint16(10), r.Value
			if f := strings.Fields(r.Value); len(f) == 2 {
				var p int
				for _, c := range f[0] {
					p = p*10 + int(c-'0')
				}
				pref, host = uint16(p), f[1]
			}
			rr = &dns.MX{Hdr: hdr(dns.TypeMX), Preference: pref, Mx: dns.Fqdn(host)}
		case r.Type == "TXT" && qq.Qtype == dns.TypeTXT:
			rr = &dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: split255(r.Value)}
		}
		if rr != nil {
			m.Answer = append(m.Answer, rr)
		}
	}
	w.WriteMsg(m)
}

// split255 cuts a long TXT value (an RSA key) into character-strings.
func split255(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}

// Named is a record with its name, as a program printed it.
type Named struct{ Name, Type, Value string }

// ParseRecords reads the DNS records a program printed (omnigate's
// `email domain add`): JSON objects with a name (or host), a type and a
// value (or content, data), wherever they sit in the output; or, when the
// output is not JSON, zone-file lines "name [TTL] [IN] TYPE value".
func ParseRecords(out []byte) []Named {
	var v any
	var recs []Named
	if json.Unmarshal(out, &v) == nil {
		var walk func(any)
		walk = func(x any) {
			switch t := x.(type) {
			case map[string]any:
				name := firstString(t, "name", "host", "fqdn")
				typ := strings.ToUpper(firstString(t, "type", "rrtype"))
				val := firstString(t, "value", "content", "data", "text", "target")
				if name != "" && val != "" && (typ == "TXT" || typ == "MX" || typ == "CNAME" || typ == "A") {
					recs = append(recs, Named{name, typ, strings.Trim(val, `"`)})
				}
				keys := make([]string, 0, len(t))
				for k := range t {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					walk(t[k])
				}
			case []any:
				for _, y := range t {
					walk(y)
				}
			}
		}
		walk(v)
		return recs
	}
	for _, m := range zoneLine.FindAllStringSubmatch(string(out), -1) {
		val := m[3]
		if m[2] == "TXT" {
			// "part" "part" → the joined text.
			val = strings.ReplaceAll(strings.Join(quoted.FindAllString(val, -1), ""), `"`, "")
		}
		recs = append(recs, Named{m[1], m[2], val})
	}
	return recs
}

var (
	zoneLine = regexp.MustCompile(`(?m)^\s*(\S+)\s+(?:\d+\s+)?(?:IN\s+)?(TXT|MX|CNAME|A)\s+(.+?)\s*$`)
	quoted   = regexp.MustCompile(`"([^"]*)"`)
)

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		for mk, v := range m {
			if strings.EqualFold(mk, k) {
				if s, ok := v.(string); ok && s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// Publish adds the records a program printed, and an A record 127.0.0.1
// for every host an MX or CNAME record names that has no record yet
// (the return path's MX is omnigate's listener on loopback).
func (s *Server) Publish(out []byte) []Named {
	recs := ParseRecords(out)
	for _, r := range recs {
		s.Add(r.Name, r.Type, r.Value)
	}
	for _, r := range recs {
		if r.Type != "MX" && r.Type != "CNAME" {
			continue
		}
		host := r.Value
		if f := strings.Fields(host); len(f) == 2 {
			host = f[1]
		}
		s.mu.Lock()
		_, known := s.recs[dns.CanonicalName(host)]
		s.mu.Unlock()
		if !known {
			s.Add(host, "A", "127.0.0.1")
		}
	}
	return recs
}
