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

func TestLookupRejects(t *testing.T) {
	for _, c := range []struct{ in, region string }{
		{"", ""}, {"abc", ""}, {"0612345678", ""}, {"12", "NL"}, {"+0612345678", "NL"}, {"0612345678", "XX"}, {"061234567890123456789", "NL"},
	} {
		if got, err := Lookup(c.in, c.region); err == nil {
			t.Errorf("Lookup(%q, %q) = %+v, want an error", c.in, c.region, got)
		}
	}
	if _, err := Lookup("0612345678", "XX"); !errors.Is(err, ErrInvalidRegion) {
		t.Errorf("unknown region: %v", err)
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"31612345678", "0612345678", "+44 800 123 4567", "(020) 123-4567", "00 49 30 1234567"} {
		f.Add(s, "NL")
		f.Add(s, "")
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
