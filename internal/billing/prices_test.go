package billing

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Email rows name a domain in the prefix column; SMS rows keep digits.
func TestPriceDomains(t *testing.T) {
	ps, err := ParsePricesCSV(strings.NewReader("channel,country,prefix,currency,price\nemail,,@Mail.Example.COM,EUR,0.001\nsms,,+3197,EUR,0.02\n"),
		"", time.Now(), []string{"email", "sms"})
	if err != nil || ps[0].Prefix != "mail.example.com" || ps[1].Prefix != "3197" {
		t.Fatalf("prices %+v, %v", ps, err)
	}
	if p := pricePattern(&ps[0]); p.Domain != "mail.example.com" || p.Prefix != "" {
		t.Fatalf("pattern %+v", p)
	}
	_, err = ParsePricesCSV(strings.NewReader("channel,country,prefix,currency,price\nemail,,exa mple.com,EUR,1\nemail,,-x.com,EUR,1\nemail,,localhost,EUR,1\nsms,,1234567890123456,EUR,1\n"),
		"", time.Now(), []string{"email", "sms"})
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 4 {
		t.Fatalf("bad rows: %v", err)
	}
}
