package smstext

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// refPack packs septets bit by bit, least significant bit first, after fill
// zero bits. It is a deliberately naive reference for PackSeptetsWithFill.
func refPack(septets []byte, fill int) []byte {
	var bits []bool
	for range fill {
		bits = append(bits, false)
	}
	for _, s := range septets {
		for b := range 7 {
			bits = append(bits, s>>b&1 == 1)
		}
	}
	out := make([]byte, (len(bits)+7)/8)
	for i, bit := range bits {
		if bit {
			out[i/8] |= 1 << (i % 8)
		}
	}
	return out
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPackKnownVectors(t *testing.T) {
	tests := []struct {
		text string
		fill int
		want string
	}{
		{"", 0, ""},
		{"hellohello", 0, "E8329BFD4697D9EC37"},
		{"Hello", 0, "C8329BFD06"},
		{"12345678", 0, "31D98C56B3DD70"},
		{"@", 0, "00"},
		{"A", 1, "82"},
		{"A", 6, "4010"},
		{"hellohello", 1, "D06536FB8D2EB3D96F"}, // the fill-0 bit stream shifted left by one bit
	}
	for _, tt := range tests {
		septets := EncodeGSM7(tt.text)
		want := mustHex(t, tt.want)
		got := PackSeptetsWithFill(septets, tt.fill)
		if !bytes.Equal(got, want) {
			t.Errorf("PackSeptetsWithFill(%q, %d) = %X, want %X", tt.text, tt.fill, got, want)
		}
		if !bytes.Equal(got, refPack(septets, tt.fill)) {
			t.Errorf("PackSeptetsWithFill(%q, %d) differs from reference", tt.text, tt.fill)
		}
		if tt.fill == 0 && !bytes.Equal(PackSeptets(septets), want) {
			t.Errorf("PackSeptets(%q) = %X, want %X", tt.text, PackSeptets(septets), want)
		}
		if back := DecodeGSM7(UnpackSeptetsWithFill(want, tt.fill, len(septets))); back != tt.text {
			t.Errorf("unpack of %X with fill %d = %q, want %q", want, tt.fill, back, tt.text)
		}
	}
}

func TestPackRoundTrip(t *testing.T) {
	for fill := 0; fill <= 6; fill++ {
		for n := 0; n <= 40; n++ {
			septets := make([]byte, n)
			for i := range septets {
				septets[i] = byte(i*37+fill*11+n) & 0x7F
			}
			packed := PackSeptetsWithFill(septets, fill)
			if want := (fill + 7*n + 7) / 8; len(packed) != want {
				t.Fatalf("fill %d n %d: len %d, want %d", fill, n, len(packed), want)
			}
			if !bytes.Equal(packed, refPack(septets, fill)) {
				t.Fatalf("fill %d n %d: %X differs from reference %X", fill, n, packed, refPack(septets, fill))
			}
			got := UnpackSeptetsWithFill(packed, fill, n)
			if !bytes.Equal(got, septets) {
				t.Fatalf("fill %d n %d: unpacked % X, want % X", fill, n, got, septets)
			}
			if fill == 0 && !bytes.Equal(UnpackSeptets(packed, n), septets) {
				t.Fatalf("n %d: UnpackSeptets mismatch", n)
			}
		}
	}
}

func TestPackIgnoresHighBit(t *testing.T) {
	if got, want := PackSeptets([]byte{0xC1, 0xFF}), PackSeptets([]byte{0x41, 0x7F}); !bytes.Equal(got, want) {
		t.Errorf("high bit not ignored: %X vs %X", got, want)
	}
}

// TestPackAfterUDH checks fill bits the way a handset sees them: the whole
// TP-UD (header plus packed text) read as septets from bit 0, with the
// header and fill taking the first ceil(8*udhLen/7) septets.
func TestPackAfterUDH(t *testing.T) {
	udhs := [][]byte{
		{0x05, 0x00, 0x03, 0xCC, 0x02, 0x01},       // 8-bit reference
		{0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01}, // 16-bit reference
		{0x02, 0x70, 0x00},                         // an arbitrary 3-byte header
	}
	text := EncodeGSM7("Hello from omnigate €")
	for _, udh := range udhs {
		fill := SeptetFillBits(len(udh))
		tpud := append(append([]byte{}, udh...), PackSeptetsWithFill(text, fill)...)
		headerSeptets := (8*len(udh) + fill) / 7
		if (8*len(udh)+fill)%7 != 0 {
			t.Fatalf("udh len %d: fill %d does not align", len(udh), fill)
		}
		if want := (7*(headerSeptets+len(text)) + 7) / 8; len(tpud) != want {
			t.Errorf("udh len %d: TP-UD is %d octets, want %d", len(udh), len(tpud), want)
		}
		all := UnpackSeptets(tpud, headerSeptets+len(text))
		if !bytes.Equal(all[headerSeptets:], text) {
			t.Errorf("udh len %d: text septets % X, want % X", len(udh), all[headerSeptets:], text)
		}
		if got := UnpackSeptetsWithFill(tpud[len(udh):], fill, len(text)); !bytes.Equal(got, text) {
			t.Errorf("udh len %d: UnpackSeptetsWithFill = % X", len(udh), got)
		}
	}
}

func TestSeptetFillBits(t *testing.T) {
	tests := map[int]int{0: 0, -3: 0, 1: 6, 2: 5, 3: 4, 4: 3, 5: 2, 6: 1, 7: 0, 8: 6, 14: 0}
	for udhLen, want := range tests {
		if got := SeptetFillBits(udhLen); got != want {
			t.Errorf("SeptetFillBits(%d) = %d, want %d", udhLen, got, want)
		}
	}
}

func TestUnpackLimits(t *testing.T) {
	packed := PackSeptets(EncodeGSM7("hellohello")) // 9 octets: 10 septets + 2 spare bits
	tests := []struct {
		name  string
		in    []byte
		fill  int
		count int
		want  int
	}{
		{"exact", packed, 0, 10, 10},
		{"too many is clamped", packed, 0, 50, 10},
		{"negative means all", packed, 0, -1, 10},
		{"fewer", packed, 0, 3, 3},
		{"zero", packed, 0, 0, 0},
		{"empty input", nil, 0, 5, 0},
		{"fill eats a septet", packed, 6, -1, 9},
		{"negative fill", packed, -4, -1, 10},
		{"fill past end", packed, 1000, 5, 0},
		{"seven octets hold eight septets", make([]byte, 7), 0, -1, 8},
		{"one octet", []byte{0x41}, 0, -1, 1},
		{"one octet with fill 2", []byte{0x41}, 2, -1, 0},
	}
	for _, tt := range tests {
		got := UnpackSeptetsWithFill(tt.in, tt.fill, tt.count)
		if len(got) != tt.want {
			t.Errorf("%s: got %d septets, want %d", tt.name, len(got), tt.want)
		}
	}
	if got := DecodeGSM7(UnpackSeptets(packed, 3)); got != "hel" {
		t.Errorf("partial unpack = %q", got)
	}
}

func TestPackNegativeFill(t *testing.T) {
	s := []byte{1, 2, 3}
	if !bytes.Equal(PackSeptetsWithFill(s, -2), PackSeptets(s)) {
		t.Error("negative fill not treated as 0")
	}
}
