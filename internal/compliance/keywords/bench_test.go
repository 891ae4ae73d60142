package keywords

import (
	"strings"
	"testing"
)

var sinkMatch Match

func BenchmarkClassify(b *testing.B) {
	long := strings.Repeat("Hi! Your order 12345 has shipped and will arrive tomorrow. ", 6)[:300]
	cases := []struct{ name, text string }{
		{"ASCII-keyword", "STOP"},
		{"ASCII-keyword-punct", " Stop! "},
		{"ASCII-no-keyword", "Hello there"},
		{"Arabic-keyword", "إلغاء"},
		{"Arabic-vocalized", "تَوَقَّفْ؟"},
		{"Chinese-keyword", "退订。"},
		{"Hindi-keyword", "बंद करें"},
		{"300-chars", long},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkMatch = ClassifyFor(c.text, "NL")
			}
		})
	}
}

func BenchmarkNormalize(b *testing.B) {
	for _, c := range []struct{ name, text string }{
		{"ASCII", "  Stop All!  "},
		{"Arabic", "إِلْغَاء الاشتراك"},
		{"Korean", "수신거부"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Normalize(c.text)
			}
		})
	}
}
