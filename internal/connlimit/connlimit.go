// Package connlimit bounds the connections one client address may hold: a
// Limiter counts them per address, and a Listener applies one to every TCP
// connection a server accepts, handing those over the limit to a second
// listener where they get an answer (an HTTP 429) instead of the service.
//
// Addresses are counted as the peer's IP; IPv6 addresses by their /64,
// which is what one subscriber is usually given. Exempt prefixes (a
// reverse proxy that all clients come through) are not counted.
package connlimit

import (
	"net"
	"net/netip"
	"strings"
	"sync"
)

// Limiter counts connections per client address and refuses one more than
// Max. It is safe for concurrent use.
type Limiter struct {
	max    int
	exempt []netip.Prefix

	mu sync.Mutex
	n  map[netip.Addr]int
}

// NewLimiter makes a limiter of max connections per address (max <= 0:
// no limit) that does not count addresses in exempt.
func NewLimiter(max int, exempt []netip.Prefix) *Limiter {
	return &Limiter{max: max, exempt: exempt, n: map[netip.Addr]int{}}
}

// Max is the limit per address; 0 or less means none.
func (l *Limiter) Max() int { return l.max }

// key is what addr is counted as: an IPv4 address, or an IPv6 address's
// /64; ok is false when it is not counted (no limit, exempt, invalid).
func (l *Limiter) key(addr netip.Addr) (netip.Addr, bool) {
	if l.max <= 0 || !addr.IsValid() {
		return netip.Addr{}, false
	}
	addr = addr.Unmap()
	for _, p := range l.exempt {
		if p.Contains(addr) {
			return netip.Addr{}, false
		}
	}
	if addr.Is6() {
		p, _ := addr.WithZone("").Prefix(64)
		addr = p.Addr()
	}
	return addr, true
}

// Acquire takes a connection slot of addr, or returns false when addr
// holds Max already. Every true must be followed by one Release of the
// same address.
func (l *Limiter) Acquire(addr netip.Addr) bool {
	k, ok := l.key(addr)
	if !ok {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[k] >= l.max {
		return false
	}
	l.n[k]++
	return true
}

// Release gives back a slot Acquire took.
func (l *Limiter) Release(addr netip.Addr) {
	k, ok := l.key(addr)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[k] <= 1 {
		delete(l.n, k)
		return
	}
	l.n[k]--
}

// Count is how many connections addr holds (0 when it is not counted).
func (l *Limiter) Count(addr netip.Addr) int {
	k, ok := l.key(addr)
	if !ok {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[k]
}

// AddrOf is the IP of a net.Addr (the zero Addr when it has none).
func AddrOf(a net.Addr) netip.Addr {
	if a == nil {
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	if ip, err := netip.ParseAddr(a.String()); err == nil {
		return ip.Unmap()
	}
	return netip.Addr{}
}

// ParsePrefixes reads a comma-separated list of IP addresses and CIDR
// prefixes ("10.0.0.5, 192.168.0.0/16, ::1").
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if ip, err := netip.ParseAddr(f); err == nil {
			ip = ip.Unmap()
			out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
