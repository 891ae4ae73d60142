package smstext

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEncodeUCS2(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"", []byte{}},
		{"A", []byte{0x00, 0x41}},
		{"é€", []byte{0x00, 0xE9, 0x20, 0xAC}},
		{"مر", []byte{0x06, 0x45, 0x06, 0x31}},
		{"😀", []byte{0xD8, 0x3D, 0xDE, 0x00}},
		{"a\U0010FFFF", []byte{0x00, 0x61, 0xDB, 0xFF, 0xDF, 0xFF}},
		{"\xff", []byte{0xFF, 0xFD}},
	}
	for _, tt := range tests {
		got := EncodeUCS2(tt.in)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("EncodeUCS2(%q) = % X, want % X", tt.in, got, tt.want)
		}
		if n := Analyze(tt.in, ModeUnicode).Units; 2*n != len(got) {
			t.Errorf("Analyze(%q, ModeUnicode).Units = %d, want %d", tt.in, n, len(got)/2)
		}
	}
	if got := AppendUCS2([]byte{1}, "A"); !bytes.Equal(got, []byte{1, 0, 0x41}) {
		t.Errorf("AppendUCS2 = % X", got)
	}
}

func TestDecodeUCS2(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    string
		wantErr bool
	}{
		{"empty", nil, "", false},
		{"ascii", []byte{0x00, 0x48, 0x00, 0x69}, "Hi", false},
		{"nul", []byte{0x00, 0x00}, "\x00", false},
		{"bmp", []byte{0x04, 0x1F, 0x20, 0xAC, 0xFF, 0xFD}, "П€\uFFFD", false},
		{"pair", []byte{0xD8, 0x3D, 0xDE, 0x00}, "😀", false},
		{"bom kept", []byte{0xFE, 0xFF, 0x00, 0x41}, "\uFEFFA", false},
		{"lone high at end", []byte{0x00, 0x41, 0xD8, 0x3D}, "A\uFFFD", false},
		{"high then bmp", []byte{0xD8, 0x3D, 0x00, 0x41}, "\uFFFDA", false},
		{"high then high then low", []byte{0xD8, 0x3D, 0xD8, 0x3D, 0xDE, 0x00}, "\uFFFD😀", false},
		{"lone low", []byte{0xDE, 0x00, 0x00, 0x41}, "\uFFFDA", false},
		{"low then high", []byte{0xDE, 0x00, 0xD8, 0x3D}, "\uFFFD\uFFFD", false},
		{"odd", []byte{0x00, 0x41, 0x00}, "A", true},
		{"single byte", []byte{0x41}, "", true},
		{"pair split by odd end", []byte{0xD8, 0x3D, 0xDE}, "\uFFFD", true},
	}
	for _, tt := range tests {
		got, err := DecodeUCS2(tt.in)
		if got != tt.want {
			t.Errorf("%s: DecodeUCS2(% X) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
		if tt.wantErr != errors.Is(err, ErrOddLength) || (!tt.wantErr && err != nil) {
			t.Errorf("%s: DecodeUCS2 error = %v, wantErr %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestUCS2RoundTrip(t *testing.T) {
	for _, s := range []string{
		"",
		"Hello",
		"مرحبا بك في أومنيجيت",
		"😀👍🏽 family: 👨‍👩‍👧",
		"mixed € Ω ж 中文 \U0010FFFF \uFFFD",
		strings.Repeat("日本", 100),
	} {
		got, err := DecodeUCS2(EncodeUCS2(s))
		if err != nil || got != s {
			t.Errorf("round trip of %q = %q, %v", s, got, err)
		}
	}
}

func TestDecodeLatin1(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{nil, ""},
		{[]byte("plain ascii"), "plain ascii"},
		{[]byte{'c', 'a', 'f', 0xE9}, "café"},
		{[]byte{0x80, 0xA3, 0xFF, 0x00}, "\u0080£ÿ\x00"},
	}
	for _, tt := range tests {
		if got := DecodeLatin1(tt.in); got != tt.want {
			t.Errorf("DecodeLatin1(% X) = %q, want %q", tt.in, got, tt.want)
		}
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	got := []rune(DecodeLatin1(all))
	if len(got) != 256 {
		t.Fatalf("DecodeLatin1 of all bytes gave %d runes", len(got))
	}
	for i, r := range got {
		if r != rune(i) {
			t.Errorf("byte %02X decoded as %U", i, r)
		}
	}
}
