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
// as it is written in that country ("0612345678", "612345678"). It answers
// ErrInvalidRegion for an unknown region and ErrInvalid for text that is
// not a possible number. How a region decides between the readings is
// inRegion's rule.
func Lookup(s, region string) (Info, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region != "" && !KnownCountry(region) {
		return Info{}, ErrInvalidRegion
	}
	var n Number
	var err error
	if region == "" {
		n, err = Parse(s)
	} else {
		n, err = inRegion(s, region)
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

// inRegion reads a number given with a country code (MessageBird's
// countryCode, "used when the number is given in national format").
// Written with "+" or "00", it is international whatever the country
// ("0031612345678" with AT is Dutch). Other digits are read both ways: as
// written in region (libphonenumber's region parsing, which also takes
// the trunk prefix, region's own international call prefix — "011" in
// the US — and region's calling code in front) and as international
// digits. A valid reading beats one only possible. When both are equally
// good the national one wins, since the country code says the number is
// national ("624971134" with NL is +31 624971134, not Indonesian;
// "31612345678" with AT is Graz, 0316 12345678) — unless the digits begin
// with region's own calling code ("4915112345678" with DE): libphonenumber
// finds most digit strings valid in an open numbering plan like Germany's,
// and would make +49 4915112345678 of a German mobile number written
// internationally.
func inRegion(s, region string) (Number, error) {
	intl, intlErr := Parse(s)
	nat, natErr := parseIn(s, region)
	switch {
	case natErr != nil:
		return intl, intlErr
	case intlErr != nil:
		return nat, nil
	case intl.Valid != nat.Valid:
		if intl.Valid {
			return intl, nil
		}
		return nat, nil
	case intl.CountryPrefix == CallingCode(region):
		return intl, nil
	}
	return nat, nil
}

// parseIn reads a number written as in region: national digits, with the
// formatting Parse tolerates. Like Parse it takes a number that is only
// possible (Number.Valid says which); inRegion weighs the two.
func parseIn(s, region string) (Number, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00") {
		return Number{}, ErrInvalid
	}
	digits, ok := clean(s)
	if !ok || len(digits) < 3 || len(digits) > 17 {
		return Number{}, ErrInvalid
	}
	pn, err := phonenumbers.Parse(digits, region)
	if err != nil || phonenumbers.IsPossibleNumberWithReason(pn) != phonenumbers.IS_POSSIBLE {
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
