package smstext

import (
	"strings"
	"testing"
)

func TestAnalyze(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name string
		body string
		mode Mode
		want Info
	}{
		{"empty auto", "", ModeAuto, Info{GSM7, 0, 0, 1}},
		{"empty unicode", "", ModeUnicode, Info{UCS2, 0, 0, 1}},
		{"hello", "Hello", ModeAuto, Info{GSM7, 5, 5, 1}},
		{"gsm 160", a(160), ModeAuto, Info{GSM7, 160, 160, 1}},
		{"gsm 161", a(161), ModeAuto, Info{GSM7, 161, 161, 2}},
		{"gsm 306", a(306), ModeAuto, Info{GSM7, 306, 306, 2}},
		{"gsm 307", a(307), ModeAuto, Info{GSM7, 307, 307, 3}},
		{"euro", "€", ModeAuto, Info{GSM7, 2, 1, 1}},
		{"extension chars", "{[]}", ModeAuto, Info{GSM7, 8, 4, 1}},
		{"159 + euro", a(159) + "€", ModeAuto, Info{GSM7, 161, 160, 2}},
		{"euro straddle adds a part", a(152) + "€" + a(152), ModeAuto, Info{GSM7, 306, 305, 3}},
		{"ucs2 70", strings.Repeat("ж", 70), ModeAuto, Info{UCS2, 70, 70, 1}},
		{"ucs2 71", strings.Repeat("ж", 71), ModeAuto, Info{UCS2, 71, 71, 2}},
		{"ucs2 134", strings.Repeat("ж", 134), ModeAuto, Info{UCS2, 134, 134, 2}},
		{"ucs2 135", strings.Repeat("ж", 135), ModeAuto, Info{UCS2, 135, 135, 3}},
		{"arabic", "مرحبا بك في أومنيجيت", ModeAuto, Info{UCS2, 20, 20, 1}},
		{"emoji", "😀", ModeAuto, Info{UCS2, 2, 1, 1}},
		{"35 emoji", strings.Repeat("😀", 35), ModeAuto, Info{UCS2, 70, 35, 1}},
		{"36 emoji", strings.Repeat("😀", 36), ModeAuto, Info{UCS2, 72, 36, 2}},
		{"emoji straddle", strings.Repeat("ж", 66) + "😀" + strings.Repeat("ж", 66), ModeAuto, Info{UCS2, 134, 133, 3}},
		{"one non-gsm char switches", a(100) + "ç", ModeAuto, Info{UCS2, 101, 101, 2}},
		{"tab switches", "a\tb", ModeAuto, Info{UCS2, 3, 3, 1}},
		{"euro in ucs2 is one unit", "€€", ModeUnicode, Info{UCS2, 2, 2, 1}},
		{"plain forces gsm", "Привет", ModePlain, Info{GSM7, 6, 6, 1}},
		{"plain emoji is one septet", "😀", ModePlain, Info{GSM7, 1, 1, 1}},
		{"plain arabic", "مرحبا بك في أومنيجيت", ModePlain, Info{GSM7, 20, 20, 1}},
		{"unicode forces ucs2", "Hello", ModeUnicode, Info{UCS2, 5, 5, 1}},
		{"unicode ascii 71", a(71), ModeUnicode, Info{UCS2, 71, 71, 2}},
		{"plain ascii 161", a(161), ModePlain, Info{GSM7, 161, 161, 2}},
		{"invalid utf8 auto", "ab\xff", ModeAuto, Info{UCS2, 3, 3, 1}},
		{"invalid utf8 plain", "ab\xff", ModePlain, Info{GSM7, 3, 3, 1}},
		{"unknown mode is auto", "€", Mode(42), Info{GSM7, 2, 1, 1}},
		{"unknown mode non-gsm", "ж", Mode(42), Info{UCS2, 1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Analyze(tt.body, tt.mode)
			if got != tt.want {
				t.Fatalf("Analyze = %+v, want %+v", got, tt.want)
			}
			if n := len(Segments(tt.body, got.Coding, UDH8)); n != got.Parts {
				t.Fatalf("Parts = %d but len(Segments) = %d", got.Parts, n)
			}
			if u := units(tt.body, got.Coding); u != got.Units {
				t.Fatalf("Units = %d but the encoder produced %d", got.Units, u)
			}
		})
	}
}

func TestAnalyzeAutoMatchesIsGSM7(t *testing.T) {
	for _, s := range []string{"", "abc", "ç", "€", "\t", "😀", "ΔΦΓ", "a\xffb"} {
		if got := Analyze(s, ModeAuto).Coding == GSM7; got != IsGSM7(s) {
			t.Errorf("%q: Analyze auto GSM7 = %v, IsGSM7 = %v", s, got, IsGSM7(s))
		}
	}
}

// TestAnalyzePartsMatchSegments sweeps lengths around every boundary with
// mixes of one- and two-unit characters.
func TestAnalyzePartsMatchSegments(t *testing.T) {
	fillers := []string{"a", "€", "a€", "aa€", "ж", "😀", "ж😀", "жж😀"}
	for _, f := range fillers {
		var sb strings.Builder
		for sb.Len() < 2000 {
			for _, mode := range []Mode{ModeAuto, ModePlain, ModeUnicode} {
				body := sb.String()
				info := Analyze(body, mode)
				if n := len(Segments(body, info.Coding, UDH8)); n != info.Parts {
					t.Fatalf("filler %q len %d mode %v: Parts %d, Segments %d", f, len([]rune(body)), mode, info.Parts, n)
				}
			}
			sb.WriteString(f)
		}
	}
}

// TestAnalyzeAutoSwitchMidway covers bodies that start with GSM7 text and
// switch to UCS2 later, so the part count carries over from the GSM7 scan.
func TestAnalyzeAutoSwitchMidway(t *testing.T) {
	for prefix := 0; prefix <= 210; prefix++ {
		for _, tail := range []string{"ж", "😀", "😀ж", strings.Repeat("😀", 40), "ж" + strings.Repeat("😀ж", 30)} {
			body := strings.Repeat("a", prefix) + tail
			info := Analyze(body, ModeAuto)
			if info.Coding != UCS2 {
				t.Fatalf("prefix %d tail %q: coding %v", prefix, tail, info.Coding)
			}
			if n := len(Segments(body, UCS2, UDH8)); n != info.Parts {
				t.Fatalf("prefix %d tail %q: Parts %d, len(Segments) %d", prefix, tail, info.Parts, n)
			}
			if want := Analyze(body, ModeUnicode); want != info {
				t.Fatalf("prefix %d tail %q: auto %+v, unicode %+v", prefix, tail, info, want)
			}
		}
	}
}

var sinkInfo Info

func TestAnalyzeAllocs(t *testing.T) {
	bodies := map[string]string{
		"ascii":   "Your verification code is 123456. Do not share it with anyone.",
		"long":    strings.Repeat("Hello [world] ", 100),
		"arabic":  "مرحبا بك في أومنيجيت",
		"emoji":   strings.Repeat("😀 ok ", 50),
		"invalid": "abc\xffdef",
	}
	for name, body := range bodies {
		for _, mode := range []Mode{ModeAuto, ModePlain, ModeUnicode} {
			allocs := testing.AllocsPerRun(100, func() { sinkInfo = Analyze(body, mode) })
			if allocs != 0 {
				t.Errorf("%s/%v: Analyze made %v allocations, want 0", name, mode, allocs)
			}
		}
	}
	allocs := testing.AllocsPerRun(100, func() { _ = IsGSM7(bodies["long"]) })
	if allocs != 0 {
		t.Errorf("IsGSM7 made %v allocations, want 0", allocs)
	}
}
