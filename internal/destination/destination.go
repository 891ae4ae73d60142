// Package destination matches a message's destination against patterns:
// the one matcher behind price lists and route tables. A pattern names a
// number prefix, a country or an email domain, or nothing (the catch-all);
// of the patterns that match, the most specific wins: the longest prefix,
// then the longest domain, then a country, then the catch-all.
package destination

import "strings"

// Pattern selects destinations. Empty fields match anything; a pattern
// with every field empty is the catch-all.
type Pattern struct {
	Prefix  string // leading digits of a phone number
	Country string // ISO 3166-1 alpha-2
	Domain  string // an email domain; matches it and its subdomains
}

// Address is a destination as patterns see it.
type Address struct {
	Address string // international digits, an email address, a chat id
	Country string // ISO 3166-1 alpha-2, "" where unknown
}

// Score says how well p matches a: -1 when it does not, otherwise higher
// for more specific patterns.
func (p Pattern) Score(a Address) int {
	if p.Prefix != "" && !strings.HasPrefix(a.Address, p.Prefix) {
		return -1
	}
	if p.Country != "" && !strings.EqualFold(p.Country, a.Country) {
		return -1
	}
	if p.Domain != "" && !inDomain(a.Address, p.Domain) {
		return -1
	}
	switch {
	case p.Prefix != "":
		return 1000 + len(p.Prefix)
	case p.Domain != "":
		return 500 + len(p.Domain)
	case p.Country != "":
		return 50
	}
	return 0
}

// inDomain reports whether an email address is at domain or one of its
// subdomains.
func inDomain(address, domain string) bool {
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return false
	}
	host := strings.ToLower(address[at+1:])
	domain = strings.ToLower(strings.TrimPrefix(domain, "@"))
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// Best returns the index of the item whose pattern matches a best, or -1
// when none does; of equally specific ones the first wins. keep, when not
// nil, leaves out items it refuses (another account's, another channel's).
func Best[T any](items []T, pattern func(*T) Pattern, keep func(*T) bool, a Address) int {
	best, score := -1, -1
	for i := range items {
		it := &items[i]
		if keep != nil && !keep(it) {
			continue
		}
		if sc := pattern(it).Score(a); sc > score {
			best, score = i, sc
		}
	}
	return best
}
