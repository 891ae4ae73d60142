package keywords

import (
	"slices"
	"strings"
	"testing"
)

// TestInstructionKeywordIsRecognised checks, for every mapped country, that
// the instruction is in the country's language and that the keyword it
// names is an opt-out of that language for a sender from that country.
func TestInstructionKeywordIsRecognised(t *testing.T) {
	countries := append(Countries(), "XX", "", "gb", "nl")
	for _, c := range countries {
		text, lang := OptOutInstruction(c)
		if lang != LanguageOfCountry(c) {
			t.Errorf("%s: instruction in %s, country language %s", c, lang, LanguageOfCountry(c))
		}
		r, ok := replies[lang]
		if !ok {
			t.Errorf("%s: language %s has no replies", c, lang)
			continue
		}
		if text == "" || text != r.instruction || !strings.Contains(text, r.stopWord) {
			t.Errorf("%s: instruction %q does not name %q", c, text, r.stopWord)
		}
		want := Match{Kind: OptOut, Language: lang, Keyword: r.stopWord}
		for _, in := range []string{r.stopWord, strings.ToLower(r.stopWord), " " + r.stopWord + "."} {
			if got := ClassifyFor(in, c); got != want {
				t.Errorf("%s: ClassifyFor(%q) = %+v, want %+v", c, in, got, want)
			}
		}
		// So is the opt-in keyword of the opt-out confirmation.
		if got := ClassifyFor(r.startWord, c); got.Kind != OptIn || got.Language != lang {
			t.Errorf("%s: ClassifyFor(%q) = %+v, want opt-in in %s", c, r.startWord, got, lang)
		}
		if got := ClassifyFor("HELP", c); got.Kind != Help || got.Language != lang {
			t.Errorf("%s: ClassifyFor(HELP) = %+v, want help in %s", c, got, lang)
		}
	}
}

func TestCountryLanguages(t *testing.T) {
	langs := Languages()
	for _, c := range Countries() {
		if len(c) != 2 || strings.ToUpper(c) != c {
			t.Errorf("country %q is not an upper-case alpha-2 code", c)
		}
		ls := LanguagesOfCountry(c)
		if len(ls) == 0 {
			t.Errorf("%s: no languages", c)
		}
		for i, l := range ls {
			if !slices.Contains(langs, l) {
				t.Errorf("%s: unknown language %s", c, l)
			}
			if slices.Contains(ls[:i], l) {
				t.Errorf("%s: %s twice", c, l)
			}
		}
	}
	want := map[string]string{
		"NL": "nl", "BE": "nl", "AE": "ar", "SA": "ar", "EG": "ar", "MA": "ar", "IR": "fa", "AF": "fa",
		"PK": "ur", "IN": "en", "CN": "zh", "TW": "zh-Hant", "HK": "zh-Hant", "MO": "zh-Hant",
		"BR": "pt", "PT": "pt", "AO": "pt", "MX": "es", "ES": "es", "AR": "es", "CO": "es", "PE": "es",
		"FR": "fr", "SN": "fr", "CA": "en", "CH": "de", "DE": "de", "AT": "de", "IT": "it",
		"TR": "tr", "ID": "id", "MY": "ms", "RU": "ru", "UA": "uk", "PL": "pl", "JP": "ja", "KR": "ko",
		"US": "en", "GB": "en", "SE": "en", "XX": "en", "": "en", "nl": "nl", "Br": "pt",
	}
	for c, l := range want {
		if got := LanguageOfCountry(c); got != l {
			t.Errorf("LanguageOfCountry(%q) = %q, want %q", c, got, l)
		}
	}
	if LanguagesOfCountry("XX") != nil || LanguagesOfCountry("") != nil {
		t.Error("LanguagesOfCountry of an unknown country is not nil")
	}
	if got := LanguagesOfCountry("in"); !slices.Equal(got, []string{"en", "hi"}) {
		t.Errorf("LanguagesOfCountry(in) = %v", got)
	}
	ls := LanguagesOfCountry("BE")
	ls[0] = "xx"
	if LanguageOfCountry("BE") != "nl" {
		t.Error("LanguagesOfCountry shares its slice")
	}
	// Every language's replies are used by some country, except Hindi,
	// which India has second to English.
	used := map[string]bool{}
	for _, c := range Countries() {
		for _, l := range LanguagesOfCountry(c) {
			used[l] = true
		}
	}
	for _, l := range langs {
		if !used[l] {
			t.Errorf("no country has %s", l)
		}
	}
}
