package phone

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		msisdn  string
		country string
		prefix  int
		valid   bool
	}{
		{"31612345678", "31612345678", "NL", 31, true},
		{"+31 6 1234 5678", "31612345678", "NL", 31, true},
		{"0031612345678", "31612345678", "NL", 31, true},
		{"+1 (415) 555-2671", "14155552671", "US", 1, true},
		{"971501234567", "971501234567", "AE", 971, true},
		{"447400123456", "447400123456", "GB", 44, true},
		{"+1 868 221 2345", "18682212345", "TT", 1, true},
		{"+7 701 123 4567", "77011234567", "KZ", 7, true},
		// Possible but not valid: fictional ranges for drama and
		// documentation, and ranges the metadata does not know (yet).
		{"+44 7700 900123", "447700900123", "GB", 44, false},
		{"+1 555 010 1234", "15550101234", "US", 1, false},
		{"+1 555 555 0123", "15555550123", "US", 1, false},
		{"+1 868 555 0123", "18685550123", "TT", 1, false},
		{"+33 6 39 98 00 00", "33639980000", "FR", 33, false},
		{"+357 12345678", "35712345678", "CY", 357, false},
	} {
		n, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if n.MSISDN != tc.msisdn || n.Country != tc.country || n.CountryPrefix != tc.prefix || n.Valid != tc.valid {
			t.Errorf("Parse(%q) = %+v, want %s %s %d valid %v", tc.in, n, tc.msisdn, tc.country, tc.prefix, tc.valid)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "abc", "123", "+", "31abc612345678", "3161234567890123456", "0000000000", "999123456789",
		// Impossible: too short or too long for the country, or a local
		// number without its area code.
		"316123456789012", "+1 555 0100", "+44 12345"} {
		if n, err := Parse(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrInvalid", in, n, err)
		}
	}
}

func TestCountryName(t *testing.T) {
	for code, want := range map[string]string{"NL": "Netherlands", "AE": "United Arab Emirates", "XX": "XX"} {
		if got := CountryName(code); got != want {
			t.Errorf("CountryName(%q) = %q, want %q", code, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"31612345678", "+1 (415) 555-2671", "00", "+", "١٢٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(n.MSISDN)
		if err != nil || again != n {
			t.Fatalf("normalised %q to %+v, which parses to %+v, %v", s, n, again, err)
		}
	})
}
