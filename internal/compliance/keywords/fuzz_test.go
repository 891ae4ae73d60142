package keywords

import (
	"slices"
	"testing"
	"unicode/utf8"
)

func fuzzSeeds(f *testing.F) {
	for _, kinds := range Keywords() {
		for _, words := range kinds {
			for _, w := range words {
				f.Add(w)
			}
		}
	}
	for _, s := range []string{
		"", " ", "«STOP»", "توقـف؟", "تَوَقَّف", "ＳＴＯＰ", "İPTAL", "ıptal", "ёЙ", "ज़", "रोकेँ",
		"退订。", "\xff\xfe", "e\u0301\u0301", "\u0915\u093c\u0901", "ﷺ", "ﾍﾟ", "a\u200db", "ß",
		"please stop sending me these at 5", "٠١٢", "\u1100\u1161\u11a8",
	} {
		f.Add(s)
	}
}

func FuzzNormalize(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		out := Normalize(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", s, out)
		}
		checkNormalize(t, s)
	})
}

func FuzzClassify(f *testing.F) {
	fuzzSeeds(f)
	kw := Keywords()
	f.Fuzz(func(t *testing.T, s string) {
		m := Classify(s)
		mNL := ClassifyFor(s, "NL")
		mIN := ClassifyFor(s, "IN")
		if mNL.Kind != m.Kind || mIN.Kind != m.Kind {
			t.Fatalf("%q: the country changed the kind: %+v, NL %+v, IN %+v", s, m, mNL, mIN)
		}
		if m.Kind == None {
			if m != (Match{}) || mNL != (Match{}) {
				t.Fatalf("%q: partial no-match %+v %+v", s, m, mNL)
			}
			return
		}
		for _, x := range []Match{m, mNL, mIN} {
			if !slices.Contains(kw[x.Language][x.Kind], x.Keyword) {
				t.Fatalf("%q: %+v is not a listed keyword", s, x)
			}
		}
		if n := Classify(Normalize(s)); n != m {
			t.Fatalf("%q: %+v, but its normal form %q gives %+v", s, m, Normalize(s), n)
		}
	})
}
