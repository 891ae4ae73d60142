package smstext

import (
	"errors"
	"testing"
)

func TestCodingString(t *testing.T) {
	tests := []struct {
		c    Coding
		want string
	}{
		{GSM7, "plain"},
		{UCS2, "unicode"},
		{Coding(7), "Coding(7)"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("Coding(%d).String() = %q, want %q", int(tt.c), got, tt.want)
		}
	}
}

func TestModeString(t *testing.T) {
	tests := []struct {
		m    Mode
		want string
	}{
		{ModeAuto, "auto"},
		{ModePlain, "plain"},
		{ModeUnicode, "unicode"},
		{Mode(-1), "Mode(-1)"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("Mode(%d).String() = %q, want %q", int(tt.m), got, tt.want)
		}
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"", ModeAuto, false},
		{"auto", ModeAuto, false},
		{"plain", ModePlain, false},
		{"unicode", ModeUnicode, false},
		{"Plain", ModeAuto, true},
		{"UNICODE", ModeAuto, true},
		{" auto", ModeAuto, true},
		{"gsm7", ModeAuto, true},
		{"ucs2", ModeAuto, true},
	}
	for _, tt := range tests {
		got, err := ParseMode(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalidMode) {
				t.Errorf("ParseMode(%q) error = %v, want ErrInvalidMode", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseModeRoundTrip(t *testing.T) {
	for _, m := range []Mode{ModeAuto, ModePlain, ModeUnicode} {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", m.String(), got, err, m)
		}
	}
}
