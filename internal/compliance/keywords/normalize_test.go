package keywords

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		// Case, white space, punctuation at the ends.
		{"", ""},
		{"   ", ""},
		{"!?!", ""},
		{"STOP", "stop"},
		{" stop! ", "stop"},
		{"Stop.", "stop"},
		{"«STOP»", "stop"},
		{"“Stop”", "stop"},
		{"'stop'", "stop"},
		{"(STOP)", "stop"},
		{"*STOP*", "stop"},
		{"¡BAJA!", "baja"},
		{"¿Ayuda?", "ayuda"},
		{"\tStop\r\n", "stop"},
		{"STOP\u00a0ALL", "stop all"},
		{"  Hello \t\n  World!  ", "hello world"},
		{"a - b", "a - b"},
		{"stop, now!", "stop, now"},
		{"STOP 🙏", "stop 🙏"},
		{"🛑", "🛑"},
		{"1+1=2", "1+1=2"},
		// Format and control characters.
		{"STOP\u200b", "stop"},
		{"\ufeffSTOP", "stop"},
		{"ST\u00adOP", "stop"},
		{"\u200fتوقف\u200f", "توقف"},
		{"a\x00b\x7fc", "abc"},
		// Full-width and compatibility forms.
		{"ＳＴＯＰ", "stop"},
		{"ｓｔｏｐ！", "stop"},
		{"Ｓｔｏｐ　ａｌｌ", "stop all"},
		{"ﬁn", "fin"},
		{"①②", "12"},
		{"Ⅻ", "xii"},
		{"ﾍﾙﾌﾟ", "ヘルプ"},
		// Latin diacritics and foldings.
		{"ARRÊT", "arret"},
		{"Désabonner", "desabonner"},
		{"ÉCOLE ça", "ecole ca"},
		{"Über straße", "uber strasse"},
		{"ẞ", "ss"},
		{"KÜNDIGEN", "kundigen"},
		{"Æ Œ œuvre", "ae oe oeuvre"},
		{"Łódź Đurđevac Øre Ħamrun", "lodz durdevac ore hamrun"},
		{"İPTAL", "iptal"},
		{"IPTAL", "iptal"},
		{"ıptal", "iptal"},
		{"İptal", "iptal"},
		{"BAŞLA ğüşöç", "basla gusoc"},
		{"Información", "informacion"},
		{"REZYGNUJĘ", "rezygnuje"},
		{"e\u0301", "e"},
		{"\u0301stop", "stop"},
		// Greek and Cyrillic.
		{"ΣΤΟΠ Άλφα", "στοπ αλφα"},
		{"ΟΔΟΣ", "οδοσ"},
		{"οδός", "οδοσ"},
		{"Ёлка", "елка"},
		{"ЙОД йод", "йод йод"},
		{"и\u0306", "й"},
		{"ЇЖАК ў", "іжак у"},
		{"СТОП!", "стоп"},
		// Apostrophes and dashes.
		{"S’ABONNER", "s'abonner"},
		{"sʼabonner", "s'abonner"},
		{"OPT–OUT", "opt-out"},
		{"OPT—OUT", "opt-out"},
		{"—STOP—", "stop"},
		// Arabic script.
		{"إلغاء", "الغاء"},
		{"أوقف", "اوقف"},
		{"آمن", "امن"},
		{"ٱلله", "الله"},
		{"مساعدة", "مساعده"},
		{"توقـــف", "توقف"},
		{"تَوَقَّفْ", "توقف"},
		{"مُسَاعَدَةٌ", "مساعده"},
		{"علىٰ", "علي"},
		{"ى", "ي"},
		{"ی", "ي"},
		{"ک", "ك"},
		{"کمک", "كمك"},
		{"ہ ھ ە ۃ", "ه ه ه ه"},
		{"ۀ", "ه"},
		{"مسئول مؤمن", "مسيول مومن"},
		{"ے", "ے"},
		{"ﻻ", "لا"},
		{"ﷲ", "الله"},
		{"توقف؟", "توقف"},
		{"،توقف،", "توقف"},
		{"بند کریں۔", "بند كريں"},
		{"٠١٢٣٤٥٦٧٨٩", "0123456789"},
		{"۰۱۲۳۴۵۶۷۸۹", "0123456789"},
		{"می\u200cخواهم", "ميخواهم"},
		// Devanagari.
		{"ज़रूर", "जरूर"},
		{"फ़ोन", "फोन"},
		{"\u0958", "क"},
		{"रोकेँ", "रोकें"},
		{"बंद करें।", "बंद करें"},
		{"०१२३४५६७८९", "0123456789"},
		// CJK.
		{"退订。", "退订"},
		{"【退订】", "退订"},
		{"「停止」", "停止"},
		{"取消！", "取消"},
		{"が", "が"},
		{"수신거부", "수신거부"},
		// Invalid UTF-8.
		{"\xffSTOP", "\ufffdstop"},
		{"STOP\xc3", "stop\ufffd"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestNormalizeArabicVariants checks that the Arabic, Persian and Urdu
// spellings of a word meet.
func TestNormalizeArabicVariants(t *testing.T) {
	groups := [][]string{
		{"إلغاء", "الغاء", "ألغاء", "آلغاء", "ٱلغاء", "إلغـــاء", "إِلْغَاء"},
		{"إيقاف", "ايقاف", "أيقاف", "إیقاف"},
		{"لغو عضویت", "لغو عضويت", "لغو  عضویت"},
		{"راهنمایی", "راهنمائی", "راهنمايي", "راهنماىى"},
		{"کمک", "كمك", "کمك", "كمک"},
		{"روکیں", "روكيں", "روکيں", "روكیں"},
		{"مساعدة", "مساعده", "مساعدہ"},
	}
	for _, g := range groups {
		want := Normalize(g[0])
		for _, s := range g[1:] {
			if got := Normalize(s); got != want {
				t.Errorf("Normalize(%q) = %q, want %q as for %q", s, got, want, g[0])
			}
		}
	}
}

func TestNormalizeProperties(t *testing.T) {
	inputs := []string{
		"", " ", "STOP", "Ünïcödé", "İstanbul", "ﷺ", "́", "a\u0301\u0301\u0301",
		"\u0915" + strings.Repeat("\u093f", 40), "\u4e00" + strings.Repeat("\u0301", 40),
		"и" + strings.Repeat("\u0306", 35), "\u1100\u200d\u1161", "゛が", "´a",
		"\xed\xa0\x80", "ـــ", "٣٤٫٥", "x\u034fy", "Ǆ ǅ ǆ", "ﾊﾟ", "ß\u0301",
	}
	for _, kw := range Keywords() {
		for _, ws := range kw {
			inputs = append(inputs, ws...)
		}
	}
	for _, in := range inputs {
		checkNormalize(t, in)
	}
}

// checkNormalize checks the properties Normalize promises for any input.
func checkNormalize(t *testing.T, in string) {
	t.Helper()
	out := Normalize(in)
	if !utf8.ValidString(out) {
		t.Fatalf("Normalize(%q) = %q: invalid UTF-8", in, out)
	}
	if again := Normalize(out); again != out {
		t.Fatalf("Normalize not idempotent on %q: %q, then %q", in, out, again)
	}
	if out == "" {
		return
	}
	first, _ := utf8.DecodeRuneInString(out)
	last, _ := utf8.DecodeLastRuneInString(out)
	for _, r := range []rune{first, last} {
		if unicode.IsSpace(r) || unicode.IsPunct(r) {
			t.Fatalf("Normalize(%q) = %q: space or punctuation at an end", in, out)
		}
	}
	if strings.Contains(out, "  ") {
		t.Fatalf("Normalize(%q) = %q: double space", in, out)
	}
	for _, r := range out {
		if unicode.IsSpace(r) && r != ' ' || unicode.IsUpper(r) {
			t.Fatalf("Normalize(%q) = %q: has %U", in, out, r)
		}
	}
}

func TestNormalizeASCIIMatchesGeneralPath(t *testing.T) {
	// Every ASCII byte, alone and between letters, through the ASCII fast
	// path and (with a non-ASCII letter that normalizes away) the general one.
	for c := 0; c < utf8.RuneSelf; c++ {
		for _, s := range []string{string(rune(c)), "a" + string(rune(c)) + "b", string(rune(c)) + "x" + string(rune(c))} {
			fast := Normalize(s)
			slow := Normalize(s + "\u200b")
			if fast != slow {
				t.Errorf("%q: ASCII path %q, general path %q", s, fast, slow)
			}
		}
	}
}

func TestDigitValue(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !unicode.IsDigit(r) {
			continue
		}
		if v := digitValue(r); v < 0 || v > 9 {
			t.Fatalf("digitValue(%U) = %d", r, v)
		}
		// Runs of ten start at a zero: the digit after a 9 is a 0.
		if digitValue(r) == 9 && unicode.IsDigit(r+1) && digitValue(r+1) != 0 {
			t.Fatalf("digitValue(%U) = %d after a 9", r+1, digitValue(r+1))
		}
	}
	for i, r := range "٠١٢٣٤٥٦٧٨٩" {
		_ = i
		if got := digitValue(r); got != r-'٠' {
			t.Errorf("digitValue(%U) = %d", r, got)
		}
	}
}

// TestNormalizePropertiesRandom checks the properties on random strings
// drawn from characters that exercise every rule: marks of every kind,
// Arabic and Devanagari letters and signs, Hangul jamo, compatibility
// forms, format characters, digits, white space and punctuation.
func TestNormalizePropertiesRandom(t *testing.T) {
	pool := []rune("aAiIıİeEéÉsSßẞσςΣиИйЙеЁёłŁøæŒ" +
		"\u0300\u0301\u0306\u0307\u0308\u0323\u0327\u0345\u034f\u0483\u05b0\u0e31\u20dd\ufe0f\u3099\u309a" +
		"اأإآٱىيیکكةهہھەۀۃئؤءـٴ\u064b\u064e\u0651\u0652\u0653\u0654\u0655\u0670\u06d6" +
		"कखज\u093c\u0901\u0902\u093f\u094d\u0958।॥" +
		"\u1100\u1161\u11a8가한" +
		"退订停止かカｶﾞﾟ゛゜ー" +
		"ﷺﷲﻻﬁ①Ⅻ＂ＡａＳ　\u00a0\u2028\u00b4\u00a8" +
		"\u200b\u200c\u200d\u200e\u200f\u00ad\ufeff\u0600\u06dd\x00\x7f\u0085" +
		"0123٠١٩۰۹०९" +
		" \t\n-–—_'’ʼ«»¡!?؟،۔。「」.,()🛑🙏\ufffd")
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 50000; i++ {
		n := 1 + rnd.IntN(12)
		var b strings.Builder
		for j := 0; j < n; j++ {
			r := pool[rnd.IntN(len(pool))]
			for k := rnd.IntN(3); k >= 0; k-- { // runs make long mark sequences likely
				b.WriteRune(r)
			}
		}
		checkNormalize(t, b.String())
	}
}
