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
	}{
		{"31612345678", "31612345678", "NL", 31},
		{"+31 6 1234 5678", "31612345678", "NL", 31},
		{"0031612345678", "31612345678", "NL", 31},
		{"+1 (415) 555-2671", "14155552671", "US", 1},
		{"971501234567", "971501234567", "AE", 971},
		{"447400123456", "447400123456", "GB", 44},
	} {
		n, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if n.MSISDN != tc.msisdn || n.Country != tc.country || n.CountryPrefix != tc.prefix {
			t.Errorf("Parse(%q) = %+v, want %s %s %d", tc.in, n, tc.msisdn, tc.country, tc.prefix)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "abc", "123", "+", "31abc612345678", "3161234567890123456", "0000000000", "999123456789"} {
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
