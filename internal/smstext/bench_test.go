package smstext

import (
	"strings"
	"testing"
)

// firstRunes returns the first n runes of s repeated as often as needed.
func firstRunes(s string, n int) string {
	return string([]rune(strings.Repeat(s, n))[:n])
}

var benchBodies = []struct {
	name string
	body string
}{
	{"GSMShort", "Your omnigate verification code is 123456. It expires in 10 minutes."},
	{"Arabic", "مرحبا بك في أومنيجيت، رمز التحقق الخاص بك هو 123456"},
	{"Long1000", firstRunes("Hello world, this is a longer notification text. ", 1000)},
	{"Long1000Ext", firstRunes("Hello world, price 5€ [x]. ", 1000)},
	{"Long1000UCS2", firstRunes("Привет мир 😀 ", 1000)},
}

func BenchmarkAnalyze(b *testing.B) {
	for _, bb := range benchBodies {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.body)))
			b.ReportAllocs()
			for b.Loop() {
				sinkInfo = Analyze(bb.body, ModeAuto)
			}
		})
	}
}

var sinkStrings []string

func BenchmarkSegments(b *testing.B) {
	for _, bb := range benchBodies {
		info := Analyze(bb.body, ModeAuto)
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.body)))
			b.ReportAllocs()
			for b.Loop() {
				sinkStrings = Segments(bb.body, info.Coding, UDH8)
			}
		})
	}
}

var sinkBytes []byte

func BenchmarkEncodeGSM7(b *testing.B) {
	body := benchBodies[3].body
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		sinkBytes = EncodeGSM7(body)
	}
}

func BenchmarkPackSeptets(b *testing.B) {
	septets := EncodeGSM7(benchBodies[3].body)
	b.SetBytes(int64(len(septets)))
	b.ReportAllocs()
	for b.Loop() {
		sinkBytes = PackSeptets(septets)
	}
}

func BenchmarkUnpackSeptets(b *testing.B) {
	septets := EncodeGSM7(benchBodies[3].body)
	packed := PackSeptets(septets)
	b.SetBytes(int64(len(septets)))
	b.ReportAllocs()
	for b.Loop() {
		sinkBytes = UnpackSeptets(packed, len(septets))
	}
}

var sinkString string

func BenchmarkDecodeGSM7(b *testing.B) {
	septets := EncodeGSM7(benchBodies[3].body)
	b.SetBytes(int64(len(septets)))
	b.ReportAllocs()
	for b.Loop() {
		sinkString = DecodeGSM7(septets)
	}
}

func BenchmarkEncodeUCS2(b *testing.B) {
	body := benchBodies[1].body
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		sinkBytes = EncodeUCS2(body)
	}
}

func BenchmarkDecodeUCS2(b *testing.B) {
	data := EncodeUCS2(benchBodies[1].body)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		sinkString, _ = DecodeUCS2(data)
	}
}
