package smstext

import (
	"bytes"
	"strings"
	"testing"
)

// basicAlphabet is the GSM 03.38 default alphabet in septet order, written
// out independently of the package's table; position 0x1B (escape) is a
// placeholder.
const basicAlphabet = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNO" +
	"PQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmno" +
	"pqrstuvwxyzäöñüà"

// extensionTable lists the extension characters and their codes.
var extensionTable = []struct {
	r    rune
	code byte
}{
	{'\f', 0x0A}, {'^', 0x14}, {'{', 0x28}, {'}', 0x29}, {'\\', 0x2F},
	{'[', 0x3C}, {'~', 0x3D}, {']', 0x3E}, {'|', 0x40}, {'€', 0x65},
}

func TestBasicAlphabet(t *testing.T) {
	runes := []rune(basicAlphabet)
	if len(runes) != 128 {
		t.Fatalf("test alphabet has %d runes", len(runes))
	}
	for code, r := range runes {
		if code == gsmEscape {
			continue
		}
		if got := EncodeGSM7(string(r)); !bytes.Equal(got, []byte{byte(code)}) {
			t.Errorf("EncodeGSM7(%q) = % X, want %02X", r, got, code)
		}
		if got := DecodeGSM7([]byte{byte(code)}); got != string(r) {
			t.Errorf("DecodeGSM7(%02X) = %q, want %q", code, got, r)
		}
		if !IsGSM7(string(r)) {
			t.Errorf("IsGSM7(%q) = false", r)
		}
		if n := Analyze(string(r), ModeAuto); n.Coding != GSM7 || n.Units != 1 {
			t.Errorf("Analyze(%q) = %+v, want GSM7 1 unit", r, n)
		}
	}
}

func TestExtensionTable(t *testing.T) {
	for _, e := range extensionTable {
		want := []byte{0x1B, e.code}
		if got := EncodeGSM7(string(e.r)); !bytes.Equal(got, want) {
			t.Errorf("EncodeGSM7(%q) = % X, want % X", e.r, got, want)
		}
		if got := DecodeGSM7(want); got != string(e.r) {
			t.Errorf("DecodeGSM7(% X) = %q, want %q", want, got, e.r)
		}
		if n := Analyze(string(e.r), ModeAuto); n.Coding != GSM7 || n.Units != 2 || n.Chars != 1 {
			t.Errorf("Analyze(%q) = %+v, want GSM7 2 units 1 char", e.r, n)
		}
	}
}

// TestEncoderCoversOnlyTable checks every rune in the first 0x10000 code
// points plus some astral ones: the encoder accepts exactly the table.
func TestEncoderCoversOnlyTable(t *testing.T) {
	want := map[rune]bool{}
	for i, r := range []rune(basicAlphabet) {
		if i != gsmEscape {
			want[r] = true
		}
	}
	for _, e := range extensionTable {
		want[e.r] = true
	}
	if len(want) != 137 {
		t.Fatalf("expected 127 + 10 characters, got %d", len(want))
	}
	for r := rune(0); r < 0x10000; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		if got := IsGSM7(string(r)); got != want[r] {
			t.Errorf("IsGSM7(%U) = %v, want %v", r, got, want[r])
		}
	}
	for _, r := range []rune{0x1F600, 0x10FFFF, 0x10000} {
		if IsGSM7(string(r)) {
			t.Errorf("IsGSM7(%U) = true", r)
		}
	}
}

func TestIsGSM7(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", true},
		{"Hello, world!", true},
		{"Price: 5€ [approx] {x} ~y | a\\b ^c", true},
		{"Ærøskøbing Åbenrå café ñoño ÄÖÜß", true},
		{"ú", false},
		{"ΔΦΓΛΩΠΨΣΘΞ", true},
		{"line1\nline2\r\n\f", true},
		{"tab\there", false},
		{"back`tick", false},
		{"ç", false}, // only capital Ç is in the alphabet
		{"ê", false},
		{"α", false},      // lower-case Greek is not
		{"\u2126", false}, // OHM SIGN U+2126, not GREEK CAPITAL OMEGA
		{"\x1b", false},
		{"\x00", false},
		{"😀", false},
		{"مرحبا بك في أومنيجيت", false},
		{"abc\xff", false},
		{"abc\xe2\x82", false}, // truncated '€'
	}
	for _, tt := range tests {
		if got := IsGSM7(tt.in); got != tt.want {
			t.Errorf("IsGSM7(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestEncodeGSM7(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"", []byte{}},
		{"@", []byte{0x00}},
		{"Hi@£", []byte{0x48, 0x69, 0x00, 0x01}},
		{"$¥_¤§¡¿", []byte{0x02, 0x03, 0x11, 0x24, 0x5F, 0x40, 0x60}},
		{"a€b", []byte{0x61, 0x1B, 0x65, 0x62}},
		{"[]", []byte{0x1B, 0x3C, 0x1B, 0x3E}},
		{"Привет", bytes.Repeat([]byte{0x3F}, 6)},
		{"ok😀", []byte{0x6F, 0x6B, 0x3F}},
		{"\xff\xfe", []byte{0x3F, 0x3F}},
		{"\x1b", []byte{0x3F}},
		{"tab\t", []byte{0x74, 0x61, 0x62, 0x3F}},
	}
	for _, tt := range tests {
		got := EncodeGSM7(tt.in)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("EncodeGSM7(%q) = % X, want % X", tt.in, got, tt.want)
		}
		if n := Analyze(tt.in, ModePlain).Units; n != len(got) {
			t.Errorf("Analyze(%q, ModePlain).Units = %d, want len(EncodeGSM7) %d", tt.in, n, len(got))
		}
	}
}

func TestAppendGSM7(t *testing.T) {
	got := AppendGSM7([]byte{0xAA}, "a€")
	want := []byte{0xAA, 0x61, 0x1B, 0x65}
	if !bytes.Equal(got, want) {
		t.Errorf("AppendGSM7 = % X, want % X", got, want)
	}
}

func TestDecodeGSM7(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, ""},
		{"ascii-like", []byte("Hello"), "Hello"},
		{"differs from ASCII", []byte{0x00, 0x01, 0x02, 0x11, 0x24, 0x40, 0x5B, 0x60, 0x7F}, "@£$_¤¡Ä¿à"},
		{"extension", []byte{0x1B, 0x65, 0x31, 0x1B, 0x28, 0x1B, 0x29}, "€1{}"},
		{"unknown escape uses base table", []byte{0x1B, 0x41, 0x1B, 0x00}, "A@"},
		{"escape CR2 uses base table", []byte{0x1B, 0x0D}, "\r"},
		{"double escape is a space", []byte{0x61, 0x1B, 0x1B, 0x62}, "a b"},
		{"trailing escape ignored", []byte{0x61, 0x1B}, "a"},
		{"lone escape", []byte{0x1B}, ""},
		{"high bit masked", []byte{0xC1, 0x80, 0xFF}, "A@à"},
		{"masked escape", []byte{0x9B, 0xE5}, "€"},
	}
	for _, tt := range tests {
		if got := DecodeGSM7(tt.in); got != tt.want {
			t.Errorf("%s: DecodeGSM7(% X) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestGSM7RoundTrip(t *testing.T) {
	all := strings.ReplaceAll(basicAlphabet, "\x1b", "")
	for _, e := range extensionTable {
		all += string(e.r)
	}
	for _, s := range []string{"", all, "Hello €uro [test] {x}", strings.Repeat("€", 200)} {
		if got := DecodeGSM7(EncodeGSM7(s)); got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	}
	// Unrepresentable characters come back as '?'.
	if got := DecodeGSM7(EncodeGSM7("naïve 😀 ok")); got != "na?ve ? ok" {
		t.Errorf("lossy round trip = %q", got)
	}
}
