package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Languages are the console's languages, in the order offered.
var Languages = []string{"en", "fr", "ar"}

var matcher = language.NewMatcher([]language.Tag{language.English, language.French, language.Arabic})

// Locale translates and formats for one language. Numbers, money and
// dates follow CLDR through golang.org/x/text: Arabic gets Arabic-Indic
// digits (١٢٣) and a right-to-left page.
type Locale struct {
	Lang string
	Dir  string // "ltr" or "rtl"
	p    *message.Printer
	cat  map[string]string
}

func newLocale(lang string) *Locale {
	cat, ok := catalogues[lang]
	if !ok {
		lang, cat = "en", catalogues["en"]
	}
	l := &Locale{Lang: lang, Dir: "ltr", p: message.NewPrinter(language.Make(lang)), cat: cat}
	if lang == "ar" {
		l.Dir = "rtl"
	}
	return l
}

// frenchPunctuation is French typography: a narrow no-break space
// (U+202F) before ":", ";", "?" and "!", so that the sign never starts a
// line. Catalogues are written with a plain space there; the words of
// catalogues.go are set here, those of addWords as they are added.
var frenchPunctuation = strings.NewReplacer(" :", "\u202f:", " ;", "\u202f;", " ?", "\u202f?", " !", "\u202f!")

func init() {
	fr := catalogues["fr"]
	for k, v := range fr {
		fr[k] = frenchPunctuation.Replace(v)
	}
}

// Colon is what follows a label before its value: ":" in English and
// Arabic, a narrow no-break space and ":" in French ("Solde : 12,00 EUR").
func (l *Locale) Colon() string { return l.cat["punct.colon"] }

// pickLanguage is the user's setting, else the browser's Accept-Language,
// else English.
func pickLanguage(r *http.Request, setting string) string {
	if setting != "" {
		return setting
	}
	if c, err := r.Cookie("og_lang"); err == nil {
		for _, l := range Languages {
			if c.Value == l {
				return l
			}
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return "en"
	}
	return Languages[i]
}

// T translates a message key; args fill its %v verbs. A key missing from
// the catalogue shows as itself in brackets (the tests make sure none is).
func (l *Locale) T(key string, args ...any) string {
	s, ok := l.cat[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return l.p.Sprintf(s, args...)
	}
	return s
}

// Num formats an integer with the locale's digits and grouping.
func (l *Locale) Num(v any) string { return l.p.Sprint(number.Decimal(v)) }

// Pct formats a ratio 0..1 as a percentage with one decimal.
func (l *Locale) Pct(v float64) string {
	return l.p.Sprint(number.Decimal(v*100, number.MaxFractionDigits(1))) + l.cat["unit.percent"]
}

// Money formats micro-units of a currency.
func (l *Locale) Money(micros int64, currency string) string {
	v := float64(micros) / 1e6
	return l.p.Sprint(number.Decimal(v, number.MinFractionDigits(2), number.MaxFractionDigits(4))) + "\u00a0" + currency
}

// Date formats a time (UTC) as the locale writes a date and time.
func (l *Locale) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.UTC()
	var s string
	switch l.Lang {
	case "fr":
		s = fmt.Sprintf("%02d/%02d/%04d %02d:%02d", t.Day(), t.Month(), t.Year(), t.Hour(), t.Minute())
	case "ar":
		s = fmt.Sprintf("%02d/%02d/%04d %02d:%02d", t.Day(), t.Month(), t.Year(), t.Hour(), t.Minute())
	default:
		s = t.Format("2006-01-02 15:04")
	}
	return l.digits(s) + " UTC"
}

// Day formats a date without the time.
func (l *Locale) Day(t time.Time) string {
	if l.Lang == "en" {
		return t.Format("01-02")
	}
	return l.digits(fmt.Sprintf("%02d/%02d", t.Day(), t.Month()))
}

// digits turns ASCII digits into the locale's.
func (l *Locale) digits(s string) string {
	if l.Lang != "ar" {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '٠' + (r - '0')
		}
		return r
	}, s)
}
