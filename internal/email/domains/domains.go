// Package domains manages an account's sending domains: it names the DNS
// records a domain must publish (DKIM, SPF, the return path, a DMARC
// suggestion) and checks them through a resolver, so that omnigate only
// signs and sends as domains whose owners pointed them at it.
package domains

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/email/dkim"
	"github.com/omnigate/omnigate/internal/store"
)

// Config is what the platform's records point at.
type Config struct {
	// MXHost is omnigate's inbound MX host: each domain's return path,
	// bounces.<domain>, must have it as MX (or be a CNAME of it) so that
	// bounces come back. Empty: the return path is neither suggested nor
	// checked.
	MXHost string
	// SPFInclude is the domain a customer's SPF record includes to
	// authorise omnigate's sending addresses (include:<SPFInclude>). Empty:
	// SPF is neither suggested nor checked.
	SPFInclude string
	// DMARCReport is the address DMARC aggregate reports are suggested to
	// go to (rua=mailto:…); empty: postmaster@<domain>.
	DMARCReport string
	// Resolver answers the checks' lookups; nil: the system's.
	Resolver *net.Resolver
}

// Resolver makes a resolver that asks the DNS server at addr
// ("host:port", UDP and TCP) instead of the system's; addr "" is the
// system's resolver.
func Resolver(addr string) (*net.Resolver, error) {
	if addr == "" {
		return net.DefaultResolver, nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("DNS resolver %q: want host:port: %w", addr, err)
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}, nil
}

// Record kinds.
const (
	KindDKIM       = "dkim"
	KindSPF        = "spf"
	KindReturnPath = "return_path"
	KindDMARC      = "dmarc"
)

// Record is one DNS record to publish and, after a check, what was found.
type Record struct {
	Kind  string `json:"kind"`  // dkim, spf, return_path, dmarc
	Type  string `json:"type"`  // TXT, MX
	Name  string `json:"name"`  // where it lives
	Value string `json:"value"` // what to publish
	// Required: the domain is verified only when it matches; DMARC is
	// advice.
	Required bool `json:"required"`
	// Set by a check: whether it matched, what was found, and in words
	// what is wrong.
	OK      *bool    `json:"ok,omitempty"`
	Found   []string `json:"found,omitempty"`
	Problem string   `json:"problem,omitempty"`
}

// Check is a verification's result, as stored (store.EmailDomain.LastCheck)
// and shown.
type Check struct {
	Verified  bool      `json:"verified"`
	CheckedAt time.Time `json:"checkedDatetime"`
	Records   []Record  `json:"records"`
}

// Records are the DNS records d needs, in the order to publish them.
func Records(d *store.EmailDomain, cfg Config) []Record {
	out := []Record{{Kind: KindDKIM, Type: "TXT", Name: dkim.RecordName(d.Selector, d.Domain), Value: dkim.DNSRecord(d.Key.Public()), Required: true}}
	if cfg.SPFInclude != "" {
		out = append(out, Record{Kind: KindSPF, Type: "TXT", Name: d.Domain, Value: "v=spf1 include:" + cfg.SPFInclude + " ~all", Required: true})
	}
	if cfg.MXHost != "" {
		out = append(out, Record{Kind: KindReturnPath, Type: "MX", Name: ReturnPathDomain(d.Domain), Value: "10 " + cfg.MXHost, Required: true})
	}
	rua := cfg.DMARCReport
	if rua == "" {
		rua = "postmaster@" + d.Domain
	}
	return append(out, Record{Kind: KindDMARC, Type: "TXT", Name: "_dmarc." + d.Domain, Value: "v=DMARC1; p=none; rua=mailto:" + rua})
}

// ReturnPathDomain is the domain of a sending domain's envelope sender,
// where bounces go: bounces.<domain>.
func ReturnPathDomain(domain string) string { return "bounces." + domain }

// Verify looks the records of d up and says which match. The domain is
// verified when every required one does. A lookup failure other than "no
// such record" is returned as an error: the answer is unknown, not wrong.
func Verify(ctx context.Context, d *store.EmailDomain, cfg Config, at time.Time) (*Check, error) {
	r := cfg.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	c := &Check{Verified: true, CheckedAt: at.UTC().Truncate(time.Microsecond)}
	for _, rec := range Records(d, cfg) {
		var ok bool
		var err error
		switch rec.Kind {
		case KindDKIM:
			ok, err = checkDKIM(ctx, r, &rec, d)
		case KindSPF:
			ok, err = checkSPF(ctx, r, &rec, cfg.SPFInclude)
		case KindReturnPath:
			ok, err = checkReturnPath(ctx, r, &rec, cfg.MXHost)
		case KindDMARC:
			ok, err = checkDMARC(ctx, r, &rec)
		}
		if err != nil {
			return nil, fmt.Errorf("checking the %s record %s: %w", rec.Kind, rec.Name, err)
		}
		rec.OK = &ok
		if rec.Required && !ok {
			c.Verified = false
		}
		c.Records = append(c.Records, rec)
	}
	return c, nil
}

// JSON is the check as stored.
func (c *Check) JSON() json.RawMessage {
	b, _ := json.Marshal(c)
	return b
}

// notFound says whether err means the name or record does not exist (an
// answer), rather than that the lookup failed.
func notFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

func lookupTXT(ctx context.Context, r *net.Resolver, name string) ([]string, error) {
	txt, err := r.LookupTXT(ctx, name)
	if notFound(err) {
		return nil, nil
	}
	return txt, err
}

func checkDKIM(ctx context.Context, r *net.Resolver, rec *Record, d *store.EmailDomain) (bool, error) {
	txt, err := lookupTXT(ctx, r, rec.Name)
	if err != nil {
		return false, err
	}
	rec.Found = txt
	for _, t := range txt {
		if dkim.MatchRecord(t, d.Key.Public()) {
			return true, nil
		}
	}
	if len(txt) == 0 {
		rec.Problem = "no TXT record at " + rec.Name
	} else {
		rec.Problem = "no TXT record at " + rec.Name + " publishes this domain's DKIM key"
	}
	return false, nil
}

func checkSPF(ctx context.Context, r *net.Resolver, rec *Record, include string) (bool, error) {
	txt, err := lookupTXT(ctx, r, rec.Name)
	if err != nil {
		return false, err
	}
	var spf []string
	for _, t := range txt {
		if f := strings.Fields(strings.ToLower(t)); len(f) > 0 && f[0] == "v=spf1" {
			spf = append(spf, t)
		}
	}
	rec.Found = spf
	switch len(spf) {
	case 0:
		rec.Problem = "no SPF record (v=spf1) at " + rec.Name
		return false, nil
	case 1:
	default:
		rec.Problem = "several SPF records at " + rec.Name + ": receivers treat that as an error (RFC 7208 §4.5); merge them into one"
		return false, nil
	}
	want := "include:" + strings.ToLower(strings.TrimSuffix(include, "."))
	for _, term := range strings.Fields(strings.ToLower(spf[0]))[1:] {
		term = strings.TrimSuffix(strings.TrimPrefix(term, "+"), ".")
		if term == want {
			return true, nil
		}
	}
	rec.Problem = "the SPF record does not include " + include
	return false, nil
}

func sameHost(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

func checkReturnPath(ctx context.Context, r *net.Resolver, rec *Record, mxHost string) (bool, error) {
	if cname, err := r.LookupCNAME(ctx, rec.Name); err == nil && !sameHost(cname, rec.Name) {
		rec.Found = append(rec.Found, "CNAME "+strings.TrimSuffix(cname, "."))
		if sameHost(cname, mxHost) {
			return true, nil
		}
	}
	mxs, err := r.LookupMX(ctx, rec.Name)
	if err != nil && !notFound(err) {
		return false, err
	}
	for _, mx := range mxs {
		rec.Found = append(rec.Found, fmt.Sprintf("MX %d %s", mx.Pref, strings.TrimSuffix(mx.Host, ".")))
	}
	for _, mx := range mxs {
		if sameHost(mx.Host, mxHost) {
			return true, nil
		}
	}
	if len(rec.Found) == 0 {
		rec.Problem = "no MX record at " + rec.Name
	} else {
		rec.Problem = rec.Name + " does not point at " + mxHost
	}
	return false, nil
}

func checkDMARC(ctx context.Context, r *net.Resolver, rec *Record) (bool, error) {
	txt, err := lookupTXT(ctx, r, rec.Name)
	if err != nil {
		return false, err
	}
	for _, t := range txt {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(t)), "V=DMARC1") {
			rec.Found = append(rec.Found, t)
		}
	}
	if len(rec.Found) == 0 {
		rec.Problem = "no DMARC record (advice: receivers trust mail from domains with one)"
		return false, nil
	}
	return true, nil
}

// NormalizeDomain checks a domain name given by a customer and returns it
// in lower case without a trailing dot: two or more labels of letters,
// digits and hyphens (international names in their xn-- form).
func NormalizeDomain(s string) (string, error) {
	d := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if d == "" {
		return "", errors.New("the domain is empty")
	}
	if len(d) > 253 {
		return "", errors.New("the domain is longer than 253 characters")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", fmt.Errorf("%q is not a domain name: it needs a dot", s)
	}
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return "", fmt.Errorf("%q is not a domain name: %w", s, err)
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", fmt.Errorf("%q is not a domain name: the last label is a number", s)
	}
	return d, nil
}

// ValidSelector checks a DKIM selector: one or more DNS labels.
func ValidSelector(s string) error {
	if s == "" || len(s) > 63 {
		return errors.New("a selector has 1 to 63 characters")
	}
	for _, l := range strings.Split(s, ".") {
		if err := checkLabel(l); err != nil {
			return fmt.Errorf("selector %q: %w", s, err)
		}
	}
	return nil
}

func checkLabel(l string) error {
	if l == "" || len(l) > 63 {
		return errors.New("each label has 1 to 63 characters")
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return errors.New("a label neither starts nor ends with a hyphen")
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%q: use letters, digits and hyphens (international names in their xn-- form)", c)
		}
	}
	return nil
}

// NewSelector makes a selector for a new key: "og" and 8 random hex
// digits, so that two keys (a rotation, another account) never collide.
func NewSelector() string {
	var b [4]byte
	rand.Read(b[:])
	return "og" + hex.EncodeToString(b[:])
}
