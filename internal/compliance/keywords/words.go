package keywords

import (
	"bytes"
	"fmt"
)

// langWords holds the built-in keywords of one language. Each keyword is
// written in its canonical form (upper case with the proper diacritics for
// scripts with case); spellings that Normalize and matchKey make equal
// (ARRET for ARRÊT, الغاء for إلغاء, OPT-OUT for OPT OUT) are not listed
// again.
type langWords struct {
	lang   string
	optOut []string
	optIn  []string
	help   []string
}

// builtin lists the languages in order of preference: when a keyword
// belongs to several languages and the sender's country does not pick one,
// the first of them is the language of the match (STOP is English, BASTA
// Spanish, توقف Arabic, 停止 Simplified Chinese).
//
// Every language also lists STOP, START and HELP: they are the
// international SMS commands, printed on messages world-wide and sent from
// every country. Listing them lets ClassifyFor answer a Dutch "STOP" in
// Dutch or a Saudi "STOP" in Arabic.
//
// Words deliberately left out (because a false opt-out, or a false opt-in
// that resumes marketing, is worse than a miss; an account can still add
// them to its own keyword configuration):
//
//   - "yes" words other than the English YES (OUI, SÍ/SI, JA, SIM, EVET,
//     TAK, YA, ДА, نعم, हाँ, 是, はい, 네) and all "no" words (NO, NON, NEIN,
//     NEE, НЕТ, لا): they are ordinary answers to questions, and some mean
//     different things in different languages (Polish "tak" is yes,
//     Indonesian and Malay "tak" is not; French "si" is if).
//   - Italian FINE (end), because it is the English "fine".
//   - Single letters such as the Chinese T, R and N ("回T退订"), which are
//     too likely to be typing noise; the two-letter TD is kept.
//   - Romanized Hindi and Urdu (BAND, BAND KARO), which collide with
//     English and German words.
//   - Vietnamese, whose keywords are told apart only by their diacritics,
//     which Normalize removes ("dừng", stop, and "dùng", use, are both
//     "dung"); Greek, for want of a settled set of SMS keywords.
//
// Conflicts that were resolved on purpose:
//
//   - اشتراك / اشتراک (subscription) is an opt-in in Arabic and Persian,
//     but إلغاء الاشتراك and لغو اشتراک (cancel the subscription) are
//     opt-outs; likewise 구독 and 구독취소, 订阅 and 取消订阅, SUBSCRIBE and
//     UNSUBSCRIBE. Only whole messages match, so each is unambiguous.
//   - Spanish ALTO (halt) is an opt-out and ALTA (sign-up) an opt-in.
//   - لغو is only Persian (in Arabic it means idle talk), ختم کریں and بند
//     only Urdu (in Persian بند is a clause or a dam), 解除 only Japanese.
//   - No normalized keyword is in two kinds, in any two languages; the
//     package tests check this.
var builtin = []langWords{
	english, spanish, portuguese, french, german, italian, dutch, polish,
	turkish, indonesian, malay, russian, ukrainian,
	arabic, urdu, persian, hindi,
	chineseSimplified, chineseTraditional, japanese, korean,
}

// entry is one keyword of one language, under its match key.
type entry struct {
	kind    Kind
	lang    string
	keyword string
}

// index maps match keys to their entries, in the order of builtin.
var index = mustBuildIndex(builtin)

// maxKeyRunes is the length of the longest match key.
var maxKeyRunes int

func mustBuildIndex(langs []langWords) map[string][]entry {
	idx, err := buildIndex(langs)
	if err != nil {
		panic("keywords: " + err.Error())
	}
	for k := range idx {
		maxKeyRunes = max(maxKeyRunes, len([]rune(k)))
	}
	return idx
}

// buildIndex indexes the keywords, rejecting a keyword that normalizes to
// nothing, is listed twice in one language, or is in two kinds.
func buildIndex(langs []langWords) (map[string][]entry, error) {
	idx := make(map[string][]entry)
	for _, l := range langs {
		for _, k := range []Kind{OptOut, OptIn, Help} {
			for _, w := range l.words(k) {
				key := matchKey(Normalize(w))
				if key == "" {
					return nil, fmt.Errorf("%s keyword %q normalizes to nothing", l.lang, w)
				}
				for _, e := range idx[key] {
					if e.kind != k {
						return nil, fmt.Errorf("%s %s %q and %s %s %q are the same keyword", e.lang, e.kind, e.keyword, l.lang, k, w)
					}
					if e.lang == l.lang {
						return nil, fmt.Errorf("%s %q and %q are the same keyword", l.lang, e.keyword, w)
					}
				}
				idx[key] = append(idx[key], entry{kind: k, lang: l.lang, keyword: w})
			}
		}
	}
	return idx, nil
}

func (l langWords) words(k Kind) []string {
	switch k {
	case OptOut:
		return l.optOut
	case OptIn:
		return l.optIn
	case Help:
		return l.help
	}
	return nil
}

// matchKey is the form of a normalized text that is looked up: hyphens and
// underscores count as spaces, so OPT-OUT, OPT_OUT and "opt - out" all
// match OPT OUT, and UN-SUBSCRIBE matches UN SUBSCRIBE.
func matchKey(normalized string) string {
	return string(appendKey(nil, []byte(normalized)))
}

// appendKey appends the match key of a normalized text to dst. It returns
// normalized itself when that is already its key.
func appendKey(dst, normalized []byte) []byte {
	if bytes.IndexAny(normalized, "-_") < 0 {
		return normalized
	}
	space := false
	for _, c := range normalized {
		if c == ' ' || c == '-' || c == '_' {
			space = len(dst) > 0
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// Keywords returns the built-in keywords by language (BCP 47 tags as in
// Languages) and kind, in their canonical spelling. The result is a fresh
// copy that the caller may change. Spellings that match through Normalize
// are not listed separately: ARRÊT also matches ARRET and arret, إلغاء also
// matches الغاء and ألغاء, OPT OUT also matches OPT-OUT and opt_out.
func Keywords() map[string]map[Kind][]string {
	out := make(map[string]map[Kind][]string, len(builtin))
	for _, l := range builtin {
		out[l.lang] = map[Kind][]string{
			OptOut: append([]string(nil), l.optOut...),
			OptIn:  append([]string(nil), l.optIn...),
			Help:   append([]string(nil), l.help...),
		}
	}
	return out
}

// Languages returns the languages with built-in keywords and replies, as
// BCP 47 tags, in order of preference (see Classify). Each is a base
// language subtag ("en", "ar", "fa", …) except "zh-Hant" for Traditional
// Chinese; "zh" is Simplified Chinese.
func Languages() []string {
	out := make([]string, len(builtin))
	for i, l := range builtin {
		out[i] = l.lang
	}
	return out
}
