package phone

import (
	"errors"
	"testing"
)

func TestLookup(t *testing.T) {
	for _, c := range []struct {
		in, region                           string
		msisdn, country, typ, intl, nat, rfc string
	}{
		{"31612345678", "", "31612345678", "NL", "mobile", "+31 6 12345678", "06 12345678", "tel:+31-6-12345678"},
		{"+31 20 123 4567", "", "31201234567", "NL", "fixed line", "+31 20 123 4567", "020 123 4567", "tel:+31-20-123-4567"},
		{"0612345678", "nl", "31612345678", "NL", "mobile", "+31 6 12345678", "06 12345678", "tel:+31-6-12345678"},
		{"31612345678", "NL", "31612345678", "NL", "mobile", "+31 6 12345678", "06 12345678", "tel:+31-6-12345678"},
		{"08001234567", "GB", "448001234567", "GB", "toll free", "+44 800 123 4567", "0800 123 4567", "tel:+44-800-123-4567"},
		{"09098790000", "GB", "449098790000", "GB", "premium rate", "", "", ""},
	} {
		got, err := Lookup(c.in, c.region)
		if err != nil {
			t.Errorf("Lookup(%q, %q): %v", c.in, c.region, err)
			continue
		}
		if got.MSISDN != c.msisdn || got.Country != c.country || got.Type != c.typ || got.E164 != "+"+c.msisdn {
			t.Errorf("Lookup(%q, %q) = %+v", c.in, c.region, got)
		}
		if c.intl != "" && (got.International != c.intl || got.National != c.nat || got.RFC3966 != c.rfc) {
			t.Errorf("Lookup(%q, %q) formats = %q %q %q", c.in, c.region, got.International, got.National, got.RFC3966)
		}
	}
}

// With a country code, national digits beat an international reading
// that is only possible; a number written internationally keeps its own
// country unless the digits are also a valid national number (inRegion).
func TestLookupRegion(t *testing.T) {
	for _, c := range []struct {
		in, region      string
		msisdn, country string
		valid           bool
	}{
		// The SDKs' examples: PHP's 624971134 (not Indonesia's +62),
		// Python's 612345678 (not Australia's +61).
		{"624971134", "NL", "31624971134", "NL", true},
		{"612345678", "NL", "31612345678", "NL", true},
		{"6 12 34 56 78", "nl", "31612345678", "NL", true},
		// International numbers with another country's code: "+" and "00"
		// are international, and so are digits that are no valid number
		// of the country.
		{"+31612345678", "AT", "31612345678", "NL", true},
		{"0031612345678", "AT", "31612345678", "NL", true},
		{"+612345678", "NL", "612345678", "AU", false},
		{"31612345678", "GB", "31612345678", "NL", true},
		{"31612345678", "US", "31612345678", "NL", true},
		{"31612345678", "DE", "31612345678", "NL", true},
		{"447400123456", "FR", "447400123456", "GB", true},
		// Valid both ways: Graz, 0316 12345678, as the country code says.
		{"31612345678", "AT", "4331612345678", "AT", true},
		// The country's own calling code in front, though the digits
		// would be valid German national ones too.
		{"4915112345678", "DE", "4915112345678", "DE", true},
		{"14155552671", "US", "14155552671", "US", true},
		{"4155552671", "US", "14155552671", "US", true},
		{"01131612345678", "US", "31612345678", "NL", true},
		// Only possible (a fictional range): read nationally, as
		// international digits it would not even be possible.
		{"07700 900123", "GB", "447700900123", "GB", false},
		{"7700900123", "GB", "447700900123", "GB", false},
	} {
		got, err := Lookup(c.in, c.region)
		if err != nil {
			t.Errorf("Lookup(%q, %q): %v", c.in, c.region, err)
			continue
		}
		if got.MSISDN != c.msisdn || got.Country != c.country || got.Valid != c.valid {
			t.Errorf("Lookup(%q, %q) = %s %s valid %v, want %s %s valid %v", c.in, c.region, got.MSISDN, got.Country, got.Valid, c.msisdn, c.country, c.valid)
		}
	}
}

func TestLookupRejects(t *testing.T) {
	for _, c := range []struct{ in, region string }{
		{"", ""}, {"abc", ""}, {"0612345678", ""}, {"12", "NL"}, {"+0612345678", "NL"}, {"0612345678", "XX"}, {"061234567890123456789", "NL"},
	} {
		if got, err := Lookup(c.in, c.region); err == nil {
			t.Errorf("Lookup(%q, %q) = %+v, want an error", c.in, c.region, got)
		}
	}
	for _, region := range []string{"XX", "NLD", "N", "001", "ZZ", "1"} {
		if _, err := Lookup("31612345678", region); !errors.Is(err, ErrInvalidRegion) {
			t.Errorf("unknown region %q: %v", region, err)
		}
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"31612345678", "0612345678", "+44 800 123 4567", "(020) 123-4567", "00 49 30 1234567"} {
		f.Add(s, "NL")
		f.Add(s, "")
	}
	for _, s := range []string{"624971134", "612345678", "31612345678", "4915112345678", "01131612345678"} {
		f.Add(s, "NL")
		f.Add(s, "AT")
		f.Add(s, "DE")
		f.Add(s, "US")
	}
	f.Fuzz(func(t *testing.T, s, region string) {
		info, err := Lookup(s, region)
		if err != nil {
			return
		}
		again, err := Parse(info.E164)
		if err != nil || again.MSISDN != info.MSISDN {
			t.Fatalf("Lookup(%q, %q) = %q, which Parse reads as %q, %v", s, region, info.E164, again.MSISDN, err)
		}
	})
}
