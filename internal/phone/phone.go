// Package phone parses and normalises phone numbers (MSISDNs) with
// libphonenumber's metadata, so that every stored number has one form —
// international digits without "+" — and a known country.
package phone

import (
	"errors"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// ErrInvalid means the text is not a possible phone number.
var ErrInvalid = errors.New("invalid phone number")

// Number is a normalised phone number.
type Number struct {
	MSISDN        string // international digits without "+", e.g. "31612345678"
	Country       string // ISO 3166-1 alpha-2, e.g. "NL"; "001" for non-geographic numbers
	CountryPrefix int    // e.g. 31
	// Valid says libphonenumber's metadata knows the number's range. A
	// number that is only possible (the right length for its country)
	// may be in a range the metadata has not caught up with, or a
	// fictional one (UK 07700 900xxx, +1 555 01xx): a carrier decides.
	Valid bool
}

// Parse normalises a number given in international form: digits with an
// optional leading "+" or "00", tolerating spaces, dots, dashes and
// parentheses as people write them. It accepts every number libphonenumber
// finds possible for its country calling code — the right length — and
// says in Number.Valid whether the metadata also knows its range.
//
// Country is the number's country when libphonenumber can place it; for a
// number outside every known range of a calling code several countries
// share, it is the code's main country (US for +1, GB for +44, RU for +7).
func Parse(s string) (Number, error) {
	digits, ok := clean(s)
	if !ok || len(digits) < 7 || len(digits) > 15 {
		return Number{}, ErrInvalid
	}
	parsed.mu.Lock()
	r, hit := parsed.m[digits]
	parsed.mu.Unlock()
	if hit {
		return r.n, r.err
	}
	n, err := parseDigits(digits)
	parsed.mu.Lock()
	if len(parsed.m) >= maxParsed {
		clear(parsed.m)
	}
	parsed.m[digits] = parseResult{n, err}
	parsed.mu.Unlock()
	return n, err
}

// parsed remembers what Parse made of the numbers it saw last (at most
// maxParsed, forgotten all at once when full): libphonenumber's parse and
// validation are regular expressions, a noticeable share of a message's
// CPU, and the same numbers come back (a WhatsApp send parses its
// recipient to find the country). The result depends only on the digits.
var parsed = struct {
	mu sync.Mutex
	m  map[string]parseResult
}{m: map[string]parseResult{}}

const maxParsed = 1 << 14

type parseResult struct {
	n   Number
	err error
}

func parseDigits(digits string) (Number, error) {
	n, err := phonenumbers.Parse("+"+digits, "ZZ")
	if err != nil || phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE {
		return Number{}, ErrInvalid
	}
	region := phonenumbers.GetRegionCodeForNumber(n)
	if region == "" || region == "ZZ" {
		region = phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode()))
	}
	if region == "" || region == "ZZ" {
		return Number{}, ErrInvalid
	}
	out := Number{
		MSISDN:        strings.TrimPrefix(phonenumbers.Format(n, phonenumbers.E164), "+"),
		Country:       region,
		CountryPrefix: int(n.GetCountryCode()),
		Valid:         phonenumbers.IsValidNumber(n),
	}
	// libphonenumber may rewrite what it parses (drop a trunk "0" written
	// after the country code). For a number it knows, that is a
	// correction; for one that is only possible it is a guess that need
	// not even agree with itself when parsed again, so such a number must
	// be written as it is meant.
	if !out.Valid && out.MSISDN != digits {
		return Number{}, ErrInvalid
	}
	return out, nil
}

// clean strips formatting and the international prefix, leaving digits.
func clean(s string) (string, bool) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "00"):
		s = s[2:]
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

// CountryName is the English name of an ISO 3166-1 alpha-2 code, as
// MessageBird shows it in recipientCountry; the code itself if unknown.
func CountryName(code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if name := regionNames.Name(r); name != "" {
		return name
	}
	return code
}

var regionNames = display.English.Regions()

// KnownCountry reports whether code is a region libphonenumber knows.
func KnownCountry(code string) bool {
	return phonenumbers.GetSupportedRegions()[code]
}

// CallingCode is a country's calling code (NL: 31), 0 if unknown.
func CallingCode(region string) int {
	return phonenumbers.GetCountryCodeForRegion(region)
}
