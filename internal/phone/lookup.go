package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Info is what libphonenumber knows of a number: its normalised form,
// country, type and the ways it is written (GET /lookup/{phoneNumber}).
type Info struct {
	Number
	// Type is the number's kind as MessageBird names it: "mobile",
	// "fixed line", "fixed line or mobile", "toll free", "premium rate",
	// "shared cost", "voip", "personal number", "pager", "universal access
	// number", "voice mail" or "unknown".
	Type string
	// The number written four ways: "+31612345678", "+31 6 12345678",
	// "06 12345678", "tel:+31-6-12345678".
	E164, International, National, RFC3966 string
}

// Lookup parses a number for a lookup: in international form (as Parse
// takes it) or, when region (ISO 3166-1 alpha-2, e.g. "NL") is given, also
// as it is written in that country ("0612345678"). It answers ErrInvalid
// for text that is not a possible number, and for an unknown region.
func Lookup(s, region string) (Info, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region != "" && !KnownCountry(region) {
		return Info{}, ErrInvalidRegion
	}
	n, err := Parse(s)
	if err != nil && region != "" {
		n, err = parseIn(s, region)
	}
	if err != nil {
		return Info{}, err
	}
	pn, err := phonenumbers.Parse("+"+n.MSISDN, "ZZ")
	if err != nil {
		return Info{}, ErrInvalid
	}
	return Info{
		Number:        n,
		Type:          typeName(phonenumbers.GetNumberType(pn)),
		E164:          phonenumbers.Format(pn, phonenumbers.E164),
		International: phonenumbers.Format(pn, phonenumbers.INTERNATIONAL),
		National:      phonenumbers.Format(pn, phonenumbers.NATIONAL),
		RFC3966:       phonenumbers.Format(pn, phonenumbers.RFC3966),
	}, nil
}

// ErrInvalidRegion means a lookup's country code is not one libphonenumber
// knows.
var ErrInvalidRegion = &regionError{}

type regionError struct{}

func (*regionError) Error() string { return "unknown country code" }

// parseIn reads a number written as in region: national digits, with the
// formatting Parse tolerates. Only valid numbers are accepted this way:
// a national form is ambiguous, so a number merely possible is refused.
func parseIn(s, region string) (Number, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") {
		return Number{}, ErrInvalid
	}
	digits, ok := clean(s)
	if !ok || len(digits) < 3 || len(digits) > 17 {
		return Number{}, ErrInvalid
	}
	pn, err := phonenumbers.Parse(digits, region)
	if err != nil || !phonenumbers.IsValidNumber(pn) {
		return Number{}, ErrInvalid
	}
	return Parse(phonenumbers.Format(pn, phonenumbers.E164))
}

func typeName(t phonenumbers.PhoneNumberType) string {
	switch t {
	case phonenumbers.FIXED_LINE:
		return "fixed line"
	case phonenumbers.MOBILE:
		return "mobile"
	case phonenumbers.FIXED_LINE_OR_MOBILE:
		return "fixed line or mobile"
	case phonenumbers.TOLL_FREE:
		return "toll free"
	case phonenumbers.PREMIUM_RATE:
		return "premium rate"
	case phonenumbers.SHARED_COST:
		return "shared cost"
	case phonenumbers.VOIP:
		return "voip"
	case phonenumbers.PERSONAL_NUMBER:
		return "personal number"
	case phonenumbers.PAGER:
		return "pager"
	case phonenumbers.UAN:
		return "universal access number"
	case phonenumbers.VOICEMAIL:
		return "voice mail"
	}
	return "unknown"
}
