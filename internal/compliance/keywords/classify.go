package keywords

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is what a keyword message asks for.
type Kind int

const (
	// None means the message is not a keyword.
	None Kind = iota
	// OptOut asks to receive no more messages (STOP).
	OptOut
	// OptIn asks to receive messages again (START).
	OptIn
	// Help asks for help (HELP).
	Help
)

// String returns "none", "opt-out", "opt-in" or "help"; other values are
// shown as "Kind(n)".
func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case OptOut:
		return "opt-out"
	case OptIn:
		return "opt-in"
	case Help:
		return "help"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Match is the result of classifying a message.
type Match struct {
	// Kind is what the message asks for; None if it is not a keyword.
	Kind Kind
	// Language is the language of the keyword, one of Languages() (a BCP 47
	// tag: "en", "ar", "fa", …, "zh-Hant"). It is the language to reply in.
	// Empty when Kind is None.
	Language string
	// Keyword is the canonical spelling of the keyword matched, as listed
	// by Keywords: "ARRÊT" for "arret!", "إلغاء" for "الغاء". Empty when
	// Kind is None.
	Keyword string
}

// MaxRunes is the cut-off length of a keyword message: a message longer
// than this many runes, after white space at both ends is trimmed, is not a
// keyword, and is rejected without being normalized. It leaves room for the
// longest keyword written with Arabic vowel marks or tatweel and
// surrounding punctuation; the longest normalized keyword has 21 runes.
const MaxRunes = 64

// Classify tells whether a whole inbound message is an opt-out, opt-in or
// help keyword, in any of the built-in languages. It is ClassifyFor with no
// country.
func Classify(text string) Match {
	return classify(text, nil)
}

// ClassifyFor tells whether a whole inbound message is an opt-out, opt-in
// or help keyword, preferring the languages of the sender's country
// (ISO 3166-1 alpha-2, any case; empty or unknown for none).
//
// The message is compared after Normalize, with hyphens and underscores
// counted as spaces, to the keywords of Keywords. Only a message that is a
// keyword matches: surrounding white space and punctuation are ignored
// ("¡BAJA!", "«STOP»", "توقف؟", "退订。"), as are case, diacritics and the
// spelling variants that Normalize folds, but nothing else may be in it.
// "please stop" and "stop by tomorrow?" are not keywords; a few fixed
// multi-word forms such as STOP ALL, OPT OUT and DARSE DE BAJA are.
// Messages longer than MaxRunes are not keywords.
//
// When the keyword belongs to several languages (STOP is in every one), the
// language of the match is the first of LanguagesOfCountry(country) that
// has it, so a Dutch sender's STOP is answered in Dutch; failing that, the
// first language in the order of Languages that has it (English for STOP).
func ClassifyFor(text, country string) Match {
	return classify(text, countryLanguages[upperASCII(country)])
}

func classify(text string, prefer []string) Match {
	t := strings.TrimSpace(text)
	if len(t) > MaxRunes*utf8.UTFMax || utf8.RuneCountInString(t) > MaxRunes {
		return Match{}
	}
	var nbuf, kbuf [64]byte
	es := index[string(appendKey(kbuf[:0], appendNormal(nbuf[:0], t)))]
	if len(es) == 0 {
		return Match{}
	}
	e := es[0]
	if len(es) > 1 {
	pick:
		for _, lang := range prefer {
			for _, c := range es {
				if c.lang == lang {
					e = c
					break pick
				}
			}
		}
	}
	return Match{Kind: e.kind, Language: e.lang, Keyword: e.keyword}
}
