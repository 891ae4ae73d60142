package keywords

import (
	"slices"
	"strings"
	"testing"
)

// TestNoKeywordInTwoKinds checks, from the public list, that no keyword
// (after normalization) is in two kinds, in any languages.
func TestNoKeywordInTwoKinds(t *testing.T) {
	type use struct {
		lang string
		kind Kind
		word string
	}
	seen := map[string]use{}
	for lang, kinds := range Keywords() {
		for kind, words := range kinds {
			for _, w := range words {
				key := matchKey(Normalize(w))
				if prev, ok := seen[key]; ok && prev.kind != kind {
					t.Errorf("%s %v %q and %s %v %q are the same keyword %q", prev.lang, prev.kind, prev.word, lang, kind, w, key)
				}
				seen[key] = use{lang, kind, w}
			}
		}
	}
}

func TestKeywordLists(t *testing.T) {
	kw := Keywords()
	langs := Languages()
	if len(kw) != len(langs) {
		t.Fatalf("Keywords has %d languages, Languages %d", len(kw), len(langs))
	}
	required := []string{"en", "fr", "ar", "es", "pt", "de", "nl", "it", "tr", "id", "hi", "zh", "ru", "fa", "ur"}
	for _, l := range required {
		if !slices.Contains(langs, l) {
			t.Errorf("language %s missing", l)
		}
	}
	for _, lang := range langs {
		kinds := kw[lang]
		for _, k := range []Kind{OptOut, OptIn, Help} {
			words := kinds[k]
			if len(words) == 0 {
				t.Errorf("%s has no %v keywords", lang, k)
			}
			// The international commands are in every language.
			intl := map[Kind]string{OptOut: "STOP", OptIn: "START", Help: "HELP"}[k]
			if !slices.Contains(words, intl) {
				t.Errorf("%s %v lacks %s", lang, k, intl)
			}
			keys := map[string]string{}
			for _, w := range words {
				if w != strings.TrimSpace(w) || strings.Contains(w, "  ") {
					t.Errorf("%s %q: stray white space", lang, w)
				}
				if w != strings.ToUpper(w) {
					t.Errorf("%s %q: not in upper case", lang, w)
				}
				key := matchKey(Normalize(w))
				if prev, ok := keys[key]; ok {
					t.Errorf("%s %q and %q are the same keyword", lang, prev, w)
				}
				keys[key] = w
				if n := len([]rune(key)); n > maxKeyRunes {
					t.Errorf("%s %q: key of %d runes > maxKeyRunes %d", lang, w, n, maxKeyRunes)
				}
			}
		}
	}
	// The brief's examples.
	want := map[string][]string{
		"en": {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT", "REMOVE"},
		"fr": {"ARRÊT", "DÉSABONNER", "DÉSINSCRIRE"},
		"ar": {"توقف", "إلغاء", "إيقاف", "قف"},
		"es": {"BAJA", "PARAR", "ALTO", "CANCELAR"},
		"pt": {"PARAR", "SAIR", "CANCELAR"},
		"de": {"STOPP", "ABMELDEN", "ABBESTELLEN"},
		"nl": {"AFMELDEN", "UITSCHRIJVEN"},
		"it": {"BASTA", "CANCELLA", "DISISCRIVI"},
		"tr": {"DUR", "İPTAL", "RET"},
		"id": {"BERHENTI", "BATAL"},
		"hi": {"रोकें", "बंद"},
		"zh": {"退订", "取消", "停止", "TD"},
		"ru": {"СТОП", "ОТПИСАТЬСЯ", "ОТМЕНА"},
		"fa": {"لغو", "توقف"},
		"ur": {"بند", "روکیں"},
	}
	for lang, words := range want {
		for _, w := range words {
			if !slices.Contains(kw[lang][OptOut], w) {
				t.Errorf("%s opt-out lacks %q", lang, w)
			}
		}
	}
	helps := map[string]string{
		"en": "HELP", "fr": "AIDE", "es": "AYUDA", "pt": "AJUDA", "de": "HILFE", "nl": "HULP",
		"it": "AIUTO", "tr": "YARDIM", "id": "BANTUAN", "hi": "मदद", "zh": "帮助",
		"ru": "ПОМОЩЬ", "fa": "کمک", "ur": "مدد", "ar": "مساعدة",
	}
	for lang, w := range helps {
		if !slices.Contains(kw[lang][Help], w) {
			t.Errorf("%s help lacks %q", lang, w)
		}
	}
}

func TestKeywordsIsACopy(t *testing.T) {
	kw := Keywords()
	kw["en"][OptOut][0] = "XYZZY"
	delete(kw, "fr")
	if got := Keywords()["en"][OptOut][0]; got != "STOP" {
		t.Fatalf("Keywords shares its slices: %q", got)
	}
	if _, ok := Keywords()["fr"]; !ok {
		t.Fatal("Keywords shares its map")
	}
	ls := Languages()
	ls[0] = "xx"
	if Languages()[0] != "en" {
		t.Fatal("Languages shares its slice")
	}
}

func TestBuildIndexRejects(t *testing.T) {
	tests := []struct {
		name  string
		langs []langWords
		want  string
	}{
		{"two kinds", []langWords{
			{lang: "a", optOut: []string{"X"}},
			{lang: "b", optIn: []string{"x!"}},
		}, "same keyword"},
		{"two kinds in one language", []langWords{
			{lang: "a", optOut: []string{"X"}, help: []string{"X"}},
		}, "same keyword"},
		{"twice in one language", []langWords{
			{lang: "a", optOut: []string{"ARRÊT", "arret"}},
		}, "same keyword"},
		{"empty", []langWords{
			{lang: "a", help: []string{"?!"}},
		}, "normalizes to nothing"},
	}
	for _, tt := range tests {
		_, err := buildIndex(tt.langs)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	// The same keyword in two languages, same kind, is fine.
	idx, err := buildIndex([]langWords{{lang: "a", optOut: []string{"STOP"}}, {lang: "b", optOut: []string{"stop"}}})
	if err != nil || len(idx["stop"]) != 2 || idx["stop"][0].lang != "a" {
		t.Errorf("shared keyword: %v, %v", idx, err)
	}
}

func TestMatchKey(t *testing.T) {
	for in, want := range map[string]string{
		"stop": "stop", "opt-out": "opt out", "opt_out": "opt out", "opt - out": "opt out",
		"un--subscribe": "un subscribe", "s'abonner": "s'abonner",
	} {
		if got := matchKey(in); got != want {
			t.Errorf("matchKey(%q) = %q, want %q", in, got, want)
		}
	}
}
