package smstext

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// plainExpected is what a GSM7 round trip of s should give: every rune that
// is not GSM7 (including each invalid UTF-8 byte) replaced by '?'.
func plainExpected(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r != utf8.RuneError && IsGSM7(string(r)) {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('?')
		}
	}
	return sb.String()
}

// runesExpected is s with each invalid UTF-8 byte replaced by U+FFFD, which
// is what a UCS2 round trip should give.
func runesExpected(s string) string {
	var sb strings.Builder
	for _, r := range s {
		sb.WriteRune(r)
	}
	return sb.String()
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{
		"", "hellohello", "Price 5€ [x] {y} ~z | \\ ^", "مرحبا بك في أومنيجيت",
		"😀👍🏽", "\x1b\x00\xff", "a\tb`c", strings.Repeat("a", 152) + "€" + strings.Repeat("b", 152),
		strings.Repeat("ж", 66) + "😀" + strings.Repeat("ж", 66), "ΔΦΓΛΩΠΨΣΘΞ@£$¥",
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, s string, fillByte uint8) {
		fill := int(fillByte % 7)

		septets := EncodeGSM7(s)
		if got, want := DecodeGSM7(septets), plainExpected(s); got != want {
			t.Fatalf("GSM7 round trip of %q = %q, want %q", s, got, want)
		}
		if n := Analyze(s, ModePlain).Units; n != len(septets) {
			t.Fatalf("plain Units %d != %d septets", n, len(septets))
		}
		packed := PackSeptetsWithFill(septets, fill)
		if len(packed) != (fill+7*len(septets)+7)/8 {
			t.Fatalf("packed length %d for %d septets fill %d", len(packed), len(septets), fill)
		}
		if got := UnpackSeptetsWithFill(packed, fill, len(septets)); !bytes.Equal(got, septets) {
			t.Fatalf("pack round trip with fill %d: % X, want % X", fill, got, septets)
		}

		ucs := EncodeUCS2(s)
		got, err := DecodeUCS2(ucs)
		if err != nil || got != runesExpected(s) {
			t.Fatalf("UCS2 round trip of %q = %q, %v", s, got, err)
		}
		if n := Analyze(s, ModeUnicode).Units; 2*n != len(ucs) {
			t.Fatalf("unicode Units %d != %d bytes / 2", n, len(ucs))
		}

		auto := Analyze(s, ModeAuto)
		if (auto.Coding == GSM7) != IsGSM7(s) {
			t.Fatalf("auto coding disagrees with IsGSM7 for %q", s)
		}
		forced := Analyze(s, ModeUnicode)
		if auto.Coding == GSM7 {
			forced = Analyze(s, ModePlain)
		}
		if auto != forced {
			t.Fatalf("auto %+v differs from forcing its coding %+v for %q", auto, forced, s)
		}
		for _, mode := range []Mode{ModeAuto, ModePlain, ModeUnicode} {
			info := Analyze(s, mode)
			if info.Chars != utf8.RuneCountInString(s) {
				t.Fatalf("Chars %d, want %d", info.Chars, utf8.RuneCountInString(s))
			}
			if n := len(Segments(s, info.Coding, UDH8)); n != info.Parts {
				t.Fatalf("mode %v: Parts %d != len(Segments) %d for %q", mode, info.Parts, n, s)
			}
		}
		for _, c := range []Coding{GSM7, UCS2} {
			for _, k := range []UDHKind{UDH8, UDH16, SAR, NoUDH} {
				single, part := Limits(c, k)
				checkSegments(t, s, c, single, part, Segments(s, c, k))
			}
		}
	})
}

func FuzzDecodeGSM7(f *testing.F) {
	f.Add([]byte("Hello"))
	f.Add([]byte{0x1B})
	f.Add([]byte{0x1B, 0x1B, 0x1B})
	f.Add([]byte{0x1B, 0x65, 0x1B, 0x41, 0x00})
	f.Add([]byte{0x80, 0x9B, 0xE5, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := DecodeGSM7(b)
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 from % X", b)
		}
		if !IsGSM7(s) {
			t.Fatalf("decoded %q is not GSM7", s)
		}
		if again := DecodeGSM7(EncodeGSM7(s)); again != s {
			t.Fatalf("re-encoding %q gave %q", s, again)
		}
		if utf8.RuneCountInString(s) > len(b) {
			t.Fatalf("%d characters from %d septets", utf8.RuneCountInString(s), len(b))
		}
	})
}

// bit returns bit i (least significant first) of b, or 0 past its end.
func bit(b []byte, i int) byte {
	if i/8 >= len(b) {
		return 0
	}
	return b[i/8] >> (i % 8) & 1
}

func FuzzUnpack(f *testing.F) {
	f.Add([]byte{0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37}, uint8(0), int16(10))
	f.Add([]byte{0xD0, 0x65, 0x36, 0xFB}, uint8(1), int16(-1))
	f.Add([]byte{}, uint8(3), int16(5))
	f.Add([]byte{0xFF}, uint8(6), int16(100))
	f.Add(make([]byte, 7), uint8(200), int16(-300))
	f.Fuzz(func(t *testing.T, packed []byte, fillByte uint8, count int16) {
		fill := int(fillByte)
		septets := UnpackSeptetsWithFill(packed, fill, int(count))
		maxSeptets := 0
		if 8*len(packed) > fill {
			maxSeptets = (8*len(packed) - fill) / 7
		}
		want := maxSeptets
		if count >= 0 && int(count) < maxSeptets {
			want = int(count)
		}
		if len(septets) != want {
			t.Fatalf("got %d septets, want %d", len(septets), want)
		}
		for k, s := range septets {
			if s > 0x7F {
				t.Fatalf("septet %d is %02X", k, s)
			}
			for j := range 7 {
				if s>>j&1 != bit(packed, fill+7*k+j) {
					t.Fatalf("septet %d bit %d does not match the input", k, j)
				}
			}
		}
		repacked := PackSeptetsWithFill(septets, fill%7)
		if got := UnpackSeptetsWithFill(repacked, fill%7, len(septets)); !bytes.Equal(got, septets) {
			t.Fatalf("repack round trip failed")
		}
		_ = DecodeGSM7(septets)
	})
}

func FuzzDecodeUCS2(f *testing.F) {
	f.Add([]byte{0x00, 0x41})
	f.Add([]byte{0xD8, 0x3D, 0xDE, 0x00})
	f.Add([]byte{0xD8, 0x3D})
	f.Add([]byte{0xDE, 0x00, 0xD8})
	f.Add([]byte{0xFE, 0xFF, 0x06, 0x45})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeUCS2(b)
		if odd := len(b)%2 == 1; odd != errors.Is(err, ErrOddLength) || (!odd && err != nil) {
			t.Fatalf("len %d: err %v", len(b), err)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 from % X", b)
		}
		// Compare with the standard library's UTF-16 decoder.
		even := b[:len(b)&^1]
		u := make([]uint16, len(even)/2)
		for i := range u {
			u[i] = uint16(even[2*i])<<8 | uint16(even[2*i+1])
		}
		if want := string(utf16.Decode(u)); s != want {
			t.Fatalf("DecodeUCS2(% X) = %q, unicode/utf16 gives %q", b, s, want)
		}
		if !strings.ContainsRune(s, utf8.RuneError) && !bytes.Equal(EncodeUCS2(s), even) {
			t.Fatalf("re-encoding %q does not give % X", s, even)
		}
	})
}
