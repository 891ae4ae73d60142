package conversations

import (
	"strings"
	"testing"
	"time"
)

func TestParseAfter(t *testing.T) {
	a := &API{}
	for s, want := range map[string]time.Duration{
		"": time.Minute, "1m": time.Minute, "90s": 90 * time.Second, "1h30m": 90 * time.Minute, "48h": 48 * time.Hour,
		" 15m ": 15 * time.Minute, "30s": -1, "49h": -1, "1d": -1, "-1m": -1, "1.5m": -1, "1m ago": -1, "m": -1, "2880m": 48 * time.Hour,
		"2881m": -1, "999999h": -1,
	} {
		got, _, p := a.parseAfter(s)
		if (p != nil) != (want < 0) || p == nil && got != want {
			t.Errorf("parseAfter(%q) = %v, %v; want %v", s, got, p, want)
		}
		if p != nil && *p.Errors[0].Parameter != "fallback.after" {
			t.Errorf("parseAfter(%q) names %v", s, *p.Errors[0].Parameter)
		}
	}
	a.SetFallbackMinAfter(time.Second)
	if d, _, p := a.parseAfter("1s"); p != nil || d != time.Second {
		t.Errorf("with a lower minimum: %v %v", d, p)
	}
}

func TestSMSText(t *testing.T) {
	text, lat, lon := "Shipped", 52.37, 4.89
	for want, c := range map[string]*contentJSON{
		"Shipped":                             {Text: &text},
		"Your label\nhttps://x.example/l.pdf": {File: &mediaJSON{URL: "https://x.example/l.pdf", Caption: "Your label"}},
		"https://x.example/a.png":             {Image: &mediaJSON{URL: "https://x.example/a.png"}},
		"https://www.openstreetmap.org/?mlat=52.370000&mlon=4.890000": {Location: &locationJSON{Latitude: &lat, Longitude: &lon}},
		"": {HSM: &hsmJSON{TemplateName: "x"}},
	} {
		if got := smsText(&sendRequest{Content: c}); got != want {
			t.Errorf("smsText = %q, want %q", got, want)
		}
	}
}

// FuzzFallbackAfter: any after is a duration within the bounds or a
// problem naming fallback.after, never a crash.
func FuzzFallbackAfter(f *testing.F) {
	for _, s := range []string{"1m", "90s", "1h30m", "48h", "", "1d", "-1m", "1e9h", "0s", "99999999999999h", strings.Repeat("1h", 100)} {
		f.Add(s)
	}
	a := &API{}
	f.Fuzz(func(t *testing.T, s string) {
		d, text, p := a.parseAfter(s)
		if p != nil {
			if *p.Errors[0].Parameter != "fallback.after" {
				t.Fatalf("%q: names %v", s, *p.Errors[0].Parameter)
			}
			return
		}
		if d < MinFallbackAfter || d > MaxFallbackAfter || text == "" {
			t.Fatalf("%q: accepted as %v (%q)", s, d, text)
		}
	})
}
