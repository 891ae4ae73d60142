package smpp

import (
	"testing"
	"time"
)

func TestFormatAbsoluteTime(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 1, 2, 3, 4, 5, 600_000_000, time.UTC), "250102030405600+"},
		{time.Date(2025, 12, 31, 23, 59, 59, 0, cet), "251231235959004+"},
		{time.Date(2025, 6, 1, 8, 0, 0, 0, time.FixedZone("", -5*3600-30*60)), "250601080000022-"},
		// Offsets that are not whole quarter hours fall back to UTC.
		{time.Date(2025, 6, 1, 8, 0, 0, 0, time.FixedZone("", 600)), "250601075000000+"},
	}
	for _, tc := range tests {
		got := FormatAbsoluteTime(tc.t)
		if got != tc.want {
			t.Errorf("FormatAbsoluteTime(%v) = %q, want %q", tc.t, got, tc.want)
		}
		back, err := ParseTime(got, time.Time{})
		if err != nil || !back.Equal(tc.t.Truncate(100*time.Millisecond)) {
			t.Errorf("ParseTime(%q) = %v %v", got, back, err)
		}
		if checkTime(got) != "" {
			t.Errorf("%q fails the codec's check", got)
		}
	}
}

func TestFormatRelativeTime(t *testing.T) {
	got, err := FormatRelativeTime(24*time.Hour + 2*time.Hour + 3*time.Minute + 4*time.Second + 500*time.Millisecond)
	if err != nil || got != "000001020304000R" {
		t.Fatalf("%q %v", got, err)
	}
	if got, _ := FormatRelativeTime(99*24*time.Hour + 23*time.Hour); got != "000099230000000R" {
		t.Fatalf("99 days: %q", got)
	}
	for _, d := range []time.Duration{-time.Second, 100 * 24 * time.Hour} {
		if _, err := FormatRelativeTime(d); err == nil {
			t.Errorf("%v accepted", d)
		}
	}
	now := time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC)
	tm, err := ParseTime("000102030405000R", now)
	want := now.AddDate(0, 1, 2).Add(3*time.Hour + 4*time.Minute + 5*time.Second)
	if err != nil || !tm.Equal(want) {
		t.Fatalf("relative: %v %v, want %v", tm, err, want)
	}
}

func TestParseTimeErrors(t *testing.T) {
	if tm, err := ParseTime("", time.Now()); err != nil || !tm.IsZero() {
		t.Fatal("empty")
	}
	for _, s := range []string{"25", "250102030405600X", "2501020304056a0+", "251302030405600+",
		"250100030405600+", "250102240405600+", "250230030405600+", "250102030405649+"} {
		if _, err := ParseTime(s, time.Now()); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
