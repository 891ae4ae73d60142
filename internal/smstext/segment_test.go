package smstext

import (
	"strings"
	"testing"
)

// units counts units independently of the package, from the encoders.
func units(s string, c Coding) int {
	if c == UCS2 {
		return len(EncodeUCS2(s)) / 2
	}
	return len(EncodeGSM7(s))
}

// checkSegments verifies the invariants every split must hold.
func checkSegments(t *testing.T, body string, c Coding, single, part int, segs []string) {
	t.Helper()
	if len(segs) == 0 {
		t.Fatalf("no segments for %q", body)
	}
	if strings.Join(segs, "") != body {
		t.Fatalf("segments do not concatenate to the body")
	}
	if len(segs) == 1 {
		if units(body, c) > single && units(body, c) > 0 {
			// Only allowed when a single character exceeds partMax.
			if len([]rune(body)) != 1 {
				t.Fatalf("one segment of %d units exceeds single limit %d", units(body, c), single)
			}
		}
		return
	}
	for i, s := range segs {
		if s == "" {
			t.Fatalf("segment %d is empty", i)
		}
		if u := units(s, c); u > part && len([]rune(s)) != 1 {
			t.Fatalf("segment %d has %d units, limit %d", i, u, part)
		}
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		c            Coding
		k            UDHKind
		single, part int
	}{
		{GSM7, UDH8, 160, 153},
		{GSM7, UDH16, 160, 152},
		{GSM7, SAR, 160, 152},
		{GSM7, NoUDH, 160, 160},
		{GSM7, UDHKind(99), 160, 153},
		{UCS2, UDH8, 70, 67},
		{UCS2, UDH16, 70, 66},
		{UCS2, SAR, 70, 66},
		{UCS2, NoUDH, 70, 70},
		{UCS2, UDHKind(-1), 70, 67},
		{Coding(5), UDH8, 160, 153},
	}
	for _, tt := range tests {
		s, p := Limits(tt.c, tt.k)
		if s != tt.single || p != tt.part {
			t.Errorf("Limits(%v, %v) = %d, %d; want %d, %d", tt.c, tt.k, s, p, tt.single, tt.part)
		}
	}
}

func TestUDHKindString(t *testing.T) {
	for k, want := range map[UDHKind]string{UDH8: "UDH8", UDH16: "UDH16", SAR: "SAR", NoUDH: "NoUDH", 9: "UDHKind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

func TestSegmentsBoundaries(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	zh := func(n int) string { return strings.Repeat("ж", n) }
	tests := []struct {
		name string
		body string
		c    Coding
		k    UDHKind
		want []int // units per segment
	}{
		{"empty gsm", "", GSM7, UDH8, []int{0}},
		{"empty ucs2", "", UCS2, UDH8, []int{0}},
		{"gsm 160", a(160), GSM7, UDH8, []int{160}},
		{"gsm 161", a(161), GSM7, UDH8, []int{153, 8}},
		{"gsm 306", a(306), GSM7, UDH8, []int{153, 153}},
		{"gsm 307", a(307), GSM7, UDH8, []int{153, 153, 1}},
		{"gsm 459", a(459), GSM7, UDH8, []int{153, 153, 153}},
		{"gsm 460", a(460), GSM7, UDH8, []int{153, 153, 153, 1}},
		{"gsm udh16 305", a(305), GSM7, UDH16, []int{152, 152, 1}},
		{"gsm sar 304", a(304), GSM7, SAR, []int{152, 152}},
		{"gsm noudh 161", a(161), GSM7, NoUDH, []int{160, 1}},
		{"gsm noudh 320", a(320), GSM7, NoUDH, []int{160, 160}},
		{"ucs2 70", zh(70), UCS2, UDH8, []int{70}},
		{"ucs2 71", zh(71), UCS2, UDH8, []int{67, 4}},
		{"ucs2 134", zh(134), UCS2, UDH8, []int{67, 67}},
		{"ucs2 135", zh(135), UCS2, UDH8, []int{67, 67, 1}},
		{"ucs2 udh16 133", zh(133), UCS2, UDH16, []int{66, 66, 1}},
		{"ucs2 noudh 71", zh(71), UCS2, NoUDH, []int{70, 1}},
		{"euro fits in single", a(158) + "€", GSM7, UDH8, []int{160}},
		{"euro over single", a(159) + "€", GSM7, UDH8, []int{153, 8}},
		{"euro straddles", a(152) + "€" + a(10), GSM7, UDH8, []int{152, 12}},
		{"euro straddle adds a part", a(152) + "€" + a(152), GSM7, UDH8, []int{152, 153, 1}},
		{"euro at end of part", a(151) + "€" + a(10), GSM7, UDH8, []int{153, 10}},
		{"all euros", strings.Repeat("€", 81), GSM7, UDH8, []int{152, 10}},
		{"emoji 35", strings.Repeat("😀", 35), UCS2, UDH8, []int{70}},
		{"emoji 36", strings.Repeat("😀", 36), UCS2, UDH8, []int{66, 6}},
		{"emoji straddles", zh(66) + "😀" + zh(66), UCS2, UDH8, []int{66, 67, 1}},
		{"plain unrepresentable count one", strings.Repeat("ж", 161), GSM7, UDH8, []int{153, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs := Segments(tt.body, tt.c, tt.k)
			got := make([]int, len(segs))
			for i, s := range segs {
				got[i] = units(s, tt.c)
			}
			if !equalInts(got, tt.want) {
				t.Fatalf("segment units = %v, want %v", got, tt.want)
			}
			single, part := Limits(tt.c, tt.k)
			checkSegments(t, tt.body, tt.c, single, part, segs)
			if tt.k == UDH8 {
				mode := ModePlain
				if tt.c == UCS2 {
					mode = ModeUnicode
				}
				if p := Analyze(tt.body, mode).Parts; p != len(segs) {
					t.Fatalf("Analyze Parts = %d, len(Segments) = %d", p, len(segs))
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSplitSubstrings(t *testing.T) {
	body := strings.Repeat("x€", 100)
	segs := Split(body, GSM7, 160, 153)
	// Segments are slices of body, not copies.
	off := 0
	for _, s := range segs {
		if body[off:off+len(s)] != s {
			t.Fatalf("segment not at offset %d", off)
		}
		off += len(s)
	}
	for _, s := range segs {
		if strings.HasPrefix(s, "\x82") || strings.HasPrefix(s, "\xac") {
			t.Fatalf("segment starts inside a UTF-8 sequence")
		}
	}
}

func TestSplitSmallLimits(t *testing.T) {
	tests := []struct {
		body          string
		c             Coding
		single, part  int
		wantSegments  []string
		wantSingleSeg bool
	}{
		{"abc", GSM7, 0, 1, []string{"a", "b", "c"}, false},
		{"a€b", GSM7, 0, 1, []string{"a", "€", "b"}, false},
		{"a€b", GSM7, 0, 0, []string{"a", "€", "b"}, false},
		{"a€b", GSM7, 0, -5, []string{"a", "€", "b"}, false},
		{"😀😀", UCS2, 1, 1, []string{"😀", "😀"}, false},
		{"ab€", GSM7, 3, 2, []string{"ab", "€"}, false},
		{"ab€", GSM7, 4, 2, []string{"ab€"}, true},
		{"", GSM7, -1, -1, []string{""}, true},
	}
	for _, tt := range tests {
		got := Split(tt.body, tt.c, tt.single, tt.part)
		if strings.Join(got, "|") != strings.Join(tt.wantSegments, "|") || len(got) != len(tt.wantSegments) {
			t.Errorf("Split(%q, %v, %d, %d) = %q, want %q", tt.body, tt.c, tt.single, tt.part, got, tt.wantSegments)
		}
	}
}

func TestSplitInvalidUTF8(t *testing.T) {
	body := strings.Repeat("a\xff", 100) // 200 units in either coding
	for _, c := range []Coding{GSM7, UCS2} {
		segs := Segments(body, c, UDH8)
		single, part := Limits(c, UDH8)
		checkSegments(t, body, c, single, part, segs)
		want := (200 + part - 1) / part
		if len(segs) != want {
			t.Errorf("%v: %d segments, want %d", c, len(segs), want)
		}
	}
}
