package keywords

import (
	"strings"
	"testing"
	"unicode"
)

// variants returns ways a handset might send the keyword w: in other case,
// with white space and punctuation around it, full-width, and with other
// separators between the words of a multi-word keyword.
func variants(w string) []string {
	forms := []string{w, strings.ToLower(w), strings.ToUpper(w), mixedCase(w), fullWidth(w)}
	if strings.Contains(w, " ") {
		forms = append(forms,
			strings.ReplaceAll(w, " ", "  "),
			strings.ReplaceAll(w, " ", "\u00a0"),
			strings.ReplaceAll(w, " ", "\t"),
			strings.ReplaceAll(w, " ", "-"),
			strings.ReplaceAll(w, " ", "_"),
			strings.ReplaceAll(w, " ", " - "),
		)
	}
	var out []string
	for _, f := range forms {
		out = append(out, f,
			" "+f+" ", "\t"+f+"\r\n", f+"!", f+".", f+"...", f+"!!!", f+"?",
			"«"+f+"»", "“"+f+"”", "\""+f+"\"", "'"+f+"'", "("+f+")", "*"+f+"*",
			"¡"+f+"!", "¿"+f+"?", f+"؟", f+"،", f+"۔", f+"।", f+"。", f+"！",
			"【"+f+"】", "「"+f+"」", "\u200f"+f+"\u200f", "\ufeff"+f, f+"\u200b",
		)
	}
	return out
}

// mixedCase alternates upper and lower case.
func mixedCase(s string) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		if i%2 == 0 {
			b.WriteRune(unicode.ToUpper(r))
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// fullWidth writes ASCII letters and digits in their full-width forms.
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if '!' <= r && r <= '~' {
			return r - '!' + '！'
		}
		return r
	}, s)
}

func TestEveryKeywordMatches(t *testing.T) {
	for lang, kinds := range Keywords() {
		for kind, words := range kinds {
			for _, w := range words {
				want := Match{Kind: kind, Language: lang, Keyword: w}
				for _, v := range variants(w) {
					if got := classify(v, []string{lang}); got != want {
						t.Errorf("classify(%q, [%s]) = %+v, want %+v", v, lang, got, want)
					}
					if got := Classify(v); got.Kind != kind {
						t.Errorf("Classify(%q) = %+v, want kind %v", v, got, kind)
					}
				}
			}
		}
	}
}

func TestSpellingVariants(t *testing.T) {
	tests := []struct {
		in      string
		country string
		want    Match
	}{
		// French with and without accents.
		{"ARRET", "", Match{OptOut, "fr", "ARRÊT"}},
		{"arrêt", "", Match{OptOut, "fr", "ARRÊT"}},
		{"Arrête !", "", Match{OptOut, "fr", "ARRÊTE"}},
		{"DESABONNER", "", Match{OptOut, "fr", "DÉSABONNER"}},
		{"se desinscrire", "", Match{OptOut, "fr", "SE DÉSINSCRIRE"}},
		{"S’abonner", "", Match{OptIn, "fr", "S'ABONNER"}},
		{"s'abonner", "", Match{OptIn, "fr", "S'ABONNER"}},
		// Turkish dotted and dotless i.
		{"İPTAL", "", Match{OptOut, "tr", "İPTAL"}},
		{"IPTAL", "", Match{OptOut, "tr", "İPTAL"}},
		{"iptal", "", Match{OptOut, "tr", "İPTAL"}},
		{"ıptal", "", Match{OptOut, "tr", "İPTAL"}},
		{"İptal", "", Match{OptOut, "tr", "İPTAL"}},
		{"Abonelik iptal", "", Match{OptOut, "tr", "ABONELİK İPTAL"}},
		{"BASLA", "", Match{OptIn, "tr", "BAŞLA"}},
		{"bilgi", "", Match{Help, "tr", "BİLGİ"}},
		// German, Spanish, Portuguese, Polish.
		{"kündigen", "", Match{OptOut, "de", "KÜNDIGEN"}},
		{"KUNDIGEN", "", Match{OptOut, "de", "KÜNDIGEN"}},
		{"kuendigen", "", Match{OptOut, "de", "KUENDIGEN"}},
		{"Cancelar suscripcion", "", Match{OptOut, "es", "CANCELAR SUSCRIPCIÓN"}},
		{"informacion", "", Match{Help, "es", "INFORMACIÓN"}},
		{"Informação", "", Match{Help, "pt", "INFORMAÇÃO"}},
		{"rezygnuje", "", Match{OptOut, "pl", "REZYGNUJĘ"}},
		// English multi-word forms.
		{"Stop all", "", Match{OptOut, "en", "STOP ALL"}},
		{"STOP-ALL", "", Match{OptOut, "en", "STOP ALL"}},
		{"opt-out", "", Match{OptOut, "en", "OPT OUT"}},
		{"OPT_OUT", "", Match{OptOut, "en", "OPT OUT"}},
		{"Opt–Out", "", Match{OptOut, "en", "OPT OUT"}},
		{"un-subscribe", "", Match{OptOut, "en", "UN SUBSCRIBE"}},
		{"Opt-in", "", Match{OptIn, "en", "OPT IN"}},
		// Full width.
		{"ＳＴＯＰ", "", Match{OptOut, "en", "STOP"}},
		{"ｈｅｌｐ", "", Match{Help, "en", "HELP"}},
		{"ＴＤ", "CN", Match{OptOut, "zh", "TD"}},
		// Arabic.
		{"إلغاء", "", Match{OptOut, "ar", "إلغاء"}},
		{"الغاء", "", Match{OptOut, "ar", "إلغاء"}},
		{"ألغاء", "", Match{OptOut, "ar", "إلغاء"}},
		{"إلغـــاء", "", Match{OptOut, "ar", "إلغاء"}},
		{"إِلْغَاء", "", Match{OptOut, "ar", "إلغاء"}},
		{"الغاء الاشتراك", "", Match{OptOut, "ar", "إلغاء الاشتراك"}},
		{"إلغاء الإشتراك", "", Match{OptOut, "ar", "إلغاء الاشتراك"}},
		{"توقـف", "", Match{OptOut, "ar", "توقف"}},
		{"تَوَقَّفْ", "", Match{OptOut, "ar", "توقف"}},
		{"توقف؟", "", Match{OptOut, "ar", "توقف"}},
		{"ايقاف", "", Match{OptOut, "ar", "إيقاف"}},
		{"قف!", "", Match{OptOut, "ar", "قف"}},
		{"مساعده", "", Match{Help, "ar", "مساعدة"}},
		{"إشتراك", "", Match{OptIn, "ar", "اشتراك"}},
		// Persian and Urdu, with Arabic or Persian yeh and kaf.
		{"لغو", "", Match{OptOut, "fa", "لغو"}},
		{"لغو عضويت", "", Match{OptOut, "fa", "لغو عضویت"}},
		{"لغو اشتراك", "", Match{OptOut, "fa", "لغو اشتراک"}},
		{"كمك", "", Match{Help, "fa", "کمک"}},
		{"راهنمائی", "", Match{Help, "fa", "راهنمایی"}},
		{"اشتراک", "IR", Match{OptIn, "fa", "اشتراک"}},
		{"اشتراک", "", Match{OptIn, "ar", "اشتراك"}},
		{"توقف", "IR", Match{OptOut, "fa", "توقف"}},
		{"روكيں", "", Match{OptOut, "ur", "روکیں"}},
		{"بند كريں۔", "", Match{OptOut, "ur", "بند کریں"}},
		{"شروع", "PK", Match{OptIn, "ur", "شروع"}},
		{"شروع", "", Match{OptIn, "ur", "شروع"}},
		{"شروع", "IR", Match{OptIn, "fa", "شروع"}},
		// Hindi.
		{"रोकेँ", "", Match{OptOut, "hi", "रोकें"}},
		{"बंद करें।", "", Match{OptOut, "hi", "बंद करें"}},
		{"बन्द", "", Match{OptOut, "hi", "बन्द"}},
		{"शुरु", "", Match{OptIn, "hi", "शुरु"}},
		// Chinese, Japanese, Korean.
		{"退订。", "", Match{OptOut, "zh", "退订"}},
		{"【退订】", "", Match{OptOut, "zh", "退订"}},
		{"td", "", Match{OptOut, "zh", "TD"}},
		{"退訂", "", Match{OptOut, "zh-Hant", "退訂"}},
		{"取消", "", Match{OptOut, "zh", "取消"}},
		{"取消", "TW", Match{OptOut, "zh-Hant", "取消"}},
		{"取消", "hk", Match{OptOut, "zh-Hant", "取消"}},
		{"停止", "JP", Match{OptOut, "ja", "停止"}},
		{"停止", "", Match{OptOut, "zh", "停止"}},
		{"開始", "", Match{OptIn, "zh-Hant", "開始"}},
		{"開始", "JP", Match{OptIn, "ja", "開始"}},
		{"ﾍﾙﾌﾟ", "", Match{Help, "ja", "ヘルプ"}},
		{"수신 거부", "", Match{OptOut, "ko", "수신 거부"}},
		// Cyrillic.
		{"стоп", "", Match{OptOut, "ru", "СТОП"}},
		{"Стоп!", "UA", Match{OptOut, "uk", "СТОП"}},
		{"отписаться", "", Match{OptOut, "ru", "ОТПИСАТЬСЯ"}},
		{"Відписатися", "", Match{OptOut, "uk", "ВІДПИСАТИСЯ"}},
	}
	for _, tt := range tests {
		if got := ClassifyFor(tt.in, tt.country); got != tt.want {
			t.Errorf("ClassifyFor(%q, %q) = %+v, want %+v", tt.in, tt.country, got, tt.want)
		}
	}
}

func TestLanguageChoice(t *testing.T) {
	tests := []struct {
		in, country, lang string
	}{
		{"STOP", "", "en"},
		{"STOP", "XX", "en"},
		{"STOP", "US", "en"},
		{"STOP", "NL", "nl"},
		{"stop", "nl", "nl"},
		{"STOP", "BE", "nl"},
		{"ARRET", "BE", "fr"},
		{"AFMELDEN", "BE", "nl"},
		{"STOP", "FR", "fr"},
		{"STOP", "CA", "en"},
		{"ARRÊT", "CA", "fr"},
		{"STOP", "DE", "de"},
		{"STOP", "CH", "de"},
		{"STOP", "SA", "ar"},
		{"STOP", "IR", "fa"},
		{"STOP", "PK", "ur"},
		{"STOP", "IN", "en"},
		{"रोकें", "IN", "hi"},
		{"STOP", "CN", "zh"},
		{"STOP", "TW", "zh-Hant"},
		{"STOP", "JP", "ja"},
		{"STOP", "KR", "ko"},
		{"STOP", "RU", "ru"},
		{"STOP", "UA", "uk"},
		{"START", "BR", "pt"},
		{"HELP", "TR", "tr"},
		{"INFO", "IT", "it"},
		{"INFO", "", "en"},
		{"BASTA", "", "es"},
		{"BASTA", "IT", "it"},
		{"BASTA", "BR", "pt"},
		{"BATAL", "", "id"},
		{"BATAL", "MY", "ms"},
		{"FIN", "", "es"},
		{"FIN", "FR", "fr"},
		{"END", "DE", "en"},
		{"СТОП", "", "ru"},
		{"СТОП", "UA", "uk"},
		{"توقف", "", "ar"},
		{"توقف", "AF", "fa"},
	}
	for _, tt := range tests {
		got := ClassifyFor(tt.in, tt.country)
		if got.Language != tt.lang || got.Kind == None {
			t.Errorf("ClassifyFor(%q, %q) = %+v, want language %s", tt.in, tt.country, got, tt.lang)
		}
	}
}

func TestNotKeywords(t *testing.T) {
	long := strings.Repeat("Hello, this is a long message that is not a keyword. ", 6)
	tests := []string{
		"", "   ", "\n\t", "!!!", "?", "...", "🛑", "🙏🙏", "👍", "❤️",
		"Hello", "hi", "ok", "thanks", "yes please", "no", "NO", "Oui", "si", "ja", "tak",
		"stop by tomorrow?", "Don't stop", "dont stop", "STOPPED", "stopping", "unstoppable",
		"STOP STOP", "START STOP", "STOP START", "stop please", "please stop",
		"please stop sending me these at 5", "STOP 5", "STOP 🙏", "S T O P", "S.T.O.P",
		"stop it", "end of story", "Cancel my 3pm appointment", "help me with my order",
		"I want to unsubscribe", "subscribe me to the weekly list please", "Fine", "fine",
		"T", "R", "N", "band", "STP", "STOPP!!1", "helpful", "information please",
		"أبداً", "ابدا", "لا", "نعم", "لا أريد", "ما هو الغاء", "إلغاء الموعد",
		"ابدأ", "بس", "بدء", "مرحبا", "سلام", "ممنون", "شکریہ",
		"你好", "不要", "取消了吗", "退订了", "停止吧", "はい", "いいえ", "네", "감사합니다",
		"да", "нет", "привет", "मैं ठीक हूँ", "धन्यवाद", "हाँ",
		"0", "11", "1", "+", "STOP\x00ALL\x00NOW",
		long, strings.Repeat("STOP ", 100), "STOP" + strings.Repeat(" ", 300) + "x",
	}
	for _, s := range tests {
		if got := Classify(s); got != (Match{}) {
			t.Errorf("Classify(%q) = %+v, want no match", s, got)
		}
		if got := ClassifyFor(s, "NL"); got != (Match{}) {
			t.Errorf("ClassifyFor(%q, NL) = %+v, want no match", s, got)
		}
	}
	// A lone keyword of another kind still matches as itself.
	if got := Classify("START"); got.Kind != OptIn {
		t.Errorf("Classify(START) = %+v", got)
	}
}

func TestLengthCutOff(t *testing.T) {
	// White space at the ends does not count towards the limit.
	if got := Classify(strings.Repeat(" ", 500) + "STOP" + strings.Repeat("\n", 500)); got.Kind != OptOut {
		t.Errorf("padded STOP: %+v", got)
	}
	// Punctuation does, up to MaxRunes.
	in := "STOP" + strings.Repeat("!", MaxRunes-4)
	if got := Classify(in); got.Kind != OptOut {
		t.Errorf("STOP with %d runes: %+v", MaxRunes, got)
	}
	if got := Classify(in + "!"); got.Kind != None {
		t.Errorf("STOP with %d runes: %+v", MaxRunes+1, got)
	}
	// The longest keyword, fully vocalized or stretched with tatweel, fits.
	if maxKeyRunes*2+4 > MaxRunes {
		t.Errorf("longest key has %d runes; MaxRunes %d leaves too little room", maxKeyRunes, MaxRunes)
	}
	if got := Classify("«إِلْغَاءُ الِاشْتِرَاكِ»"); got.Kind != OptOut {
		t.Errorf("vocalized إلغاء الاشتراك: %+v", got)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{None: "none", OptOut: "opt-out", OptIn: "opt-in", Help: "help", Kind(9): "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
