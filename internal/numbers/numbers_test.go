package numbers

import (
	"strings"
	"testing"
	"time"
)

func TestParseCSV(t *testing.T) {
	ns, err := ParseCSV(strings.NewReader("Number,Country,Type,Features,Monthly_Price,Region\n+31 6 12345671,nl,Mobile,\"sms,voice\",1.25,NH\n1234,NL,shortcode,sms,0,\n"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 2 || ns[0].Number != "31612345671" || ns[0].Country != "NL" || ns[0].MonthlyPrice != 1_250_000 ||
		strings.Join(ns[0].Features, ",") != "sms,voice" || ns[0].Region != "NH" || ns[1].Type != "shortcode" {
		t.Fatalf("parsed %+v", ns)
	}
	for _, bad := range []string{
		"",
		"number,country\n31612345671,NL\n",
		"number,country,type,features,monthly_price\n",
		"number,country,type,features,monthly_price\n31612345671,GB,mobile,sms,1\n",
		"number,country,type,features,monthly_price\n31612345671,NL,mobile,fax,1\n",
		"number,country,type,features,monthly_price\n31612345671,NL,mobile,,1\n",
		"number,country,type,features,monthly_price\n31612345671,NL,mobile,sms,-1\n",
		"number,country,type,features,monthly_price\n31612345671,NL,mobile,sms,x\n",
		"number,country,type,features,monthly_price\n31612345671,NL,pager,sms,1\n",
		"number,country,type,features,monthly_price\n31612345671,NL,mobile,sms,1\n31612345671,NL,mobile,sms,1\n",
		"number,country,type,features,monthly_price\n12,NL,shortcode,sms,1\n",
	} {
		if _, err := ParseCSV(strings.NewReader(bad), time.Now()); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestDigits(t *testing.T) {
	for in, want := range map[string]string{"+31 6-1234 5678": "31612345678", "(020) 123": "020123"} {
		if got, ok := Digits(in); !ok || got != want {
			t.Errorf("Digits(%q) = %q %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "+", "abc", "1234567890123456", "31%"} {
		if _, ok := Digits(in); ok {
			t.Errorf("Digits(%q) accepted", in)
		}
	}
}

// FuzzParseCSV: any file parses or is refused, never panics, and what
// parses is well-formed.
func FuzzParseCSV(f *testing.F) {
	f.Add("number,country,type,features,monthly_price\n31612345671,NL,mobile,sms voice,1.50\n")
	f.Add("number,country,type,features,monthly_price,region,locality\n1234,NL,shortcode,sms|voice,0,a,b\n")
	f.Add("\"")
	f.Fuzz(func(t *testing.T, s string) {
		ns, err := ParseCSV(strings.NewReader(s), time.Now())
		if err != nil {
			return
		}
		for _, n := range ns {
			if _, ok := Digits(n.Number); !ok || len(n.Country) != 2 || len(n.Features) == 0 || n.MonthlyPrice < 0 {
				t.Fatalf("parsed %+v", n)
			}
		}
	})
}
