package billing

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
)

// WhatsApp rows carry a conversation category in the unit column; other
// channels' rows carry none; the file round-trips through FormatPrices.
func TestConversationPriceRows(t *testing.T) {
	channels := []string{"sms", "whatsapp"}
	ps, err := ParsePricesCSV(strings.NewReader("channel,unit,country,prefix,currency,price\nwhatsapp,Marketing,SA,,EUR,0.04\nwhatsapp,service,,,EUR,0\nsms,,,,EUR,0.05\n"),
		"", time.Now(), channels)
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].Unit != "marketing" || ps[0].Country != "SA" || ps[0].Price != 40000 || ps[2].Unit != "" {
		t.Fatalf("prices %+v", ps)
	}
	var buf bytes.Buffer
	if err := FormatPrices(&buf, ps); err != nil {
		t.Fatal(err)
	}
	again, err := ParsePricesCSV(&buf, "", time.Now(), channels)
	if err != nil || len(again) != 3 || again[0].Unit != "marketing" {
		t.Fatalf("round trip %+v %v\n%s", again, err, buf.String())
	}
	// A file without a unit column still reads, when it has no WhatsApp rows.
	buf.Reset()
	FormatPrices(&buf, ps[2:])
	if strings.Contains(buf.String(), "unit") {
		t.Fatalf("unit column without units: %s", buf.String())
	}
	_, err = ParsePricesCSV(strings.NewReader("channel,unit,country,prefix,currency,price\nwhatsapp,,,,EUR,0.04\nwhatsapp,promo,,,EUR,1\nsms,utility,,,EUR,1\nwhatsapp,utility,,,EUR,1\nwhatsapp,utility,,,EUR,2\n"),
		"", time.Now(), channels)
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 4 {
		t.Fatalf("want 4 bad rows (no unit, unknown unit, a unit on sms, a repeated row), got %v", err)
	}
}

// A message's conversation category.
func TestCategory(t *testing.T) {
	tpl := func(category, purpose string) *message.Message {
		return &message.Message{Type: "hsm", Purpose: purpose, Content: &message.Content{Template: &message.Template{Name: "x", Category: category}}}
	}
	for _, c := range []struct {
		m    *message.Message
		want string
	}{
		{tpl("AUTHENTICATION", "transactional"), CategoryAuthentication},
		{tpl("utility", "marketing"), CategoryUtility},
		{tpl("Marketing", "transactional"), CategoryMarketing},
		{tpl("", "marketing"), CategoryMarketing},
		{tpl("", "transactional"), CategoryUtility},
		{tpl("SERVICE", "transactional"), CategoryUtility}, // not a template category
		{tpl("bogus", ""), CategoryUtility},
		{&message.Message{Type: "text", Body: "hi", Purpose: "marketing"}, CategoryService},
		{&message.Message{Type: "image", Content: &message.Content{Media: []message.Media{{URL: "https://x/a.jpg"}}}}, CategoryService},
	} {
		if got := Category(c.m); got != c.want {
			t.Errorf("%+v: %s, want %s", c.m, got, c.want)
		}
	}
}

// A price file never panics the parser, and what it accepts formats back
// to the same prices.
func FuzzParsePricesCSV(f *testing.F) {
	f.Add("channel,unit,country,prefix,currency,price\nwhatsapp,marketing,SA,,EUR,0.04\nsms,,NL,3197,EUR,0.02\n")
	f.Add("channel,country,prefix,currency,price\nemail,,@example.com,EUR,0.001\n")
	f.Add("price,currency,channel\n1,EUR,sms\n")
	f.Fuzz(func(t *testing.T, file string) {
		channels := []string{"sms", "email", "whatsapp"}
		ps, err := ParsePricesCSV(strings.NewReader(file), "", time.Unix(0, 0), channels)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := FormatPrices(&buf, ps); err != nil {
			t.Fatal(err)
		}
		again, err := ParsePricesCSV(&buf, "", time.Unix(0, 0), channels)
		if err != nil || len(again) != len(ps) {
			t.Fatalf("round trip of %q: %v\n%s", file, err, buf.String())
		}
		for i := range ps {
			if again[i] != ps[i] {
				t.Fatalf("round trip: %+v became %+v", ps[i], again[i])
			}
		}
	})
}
