package keywords

import "slices"

// countryLanguages maps ISO 3166-1 alpha-2 codes to the languages of their
// recipients, most used first. The first is the language of replies and
// opt-out instructions; all of them are preferred, in order, when a keyword
// exists in several languages (see ClassifyFor). Countries not listed are
// English only.
//
// Choices made for multilingual countries:
//
//   - IN: English. It is the language of commercial SMS in India (Hindi is
//     the first language of under half the population, and the registered
//     message templates are overwhelmingly English); Hindi comes second, so
//     a Devanagari keyword is still answered in Hindi.
//   - PK: Urdu, then English. The Urdu texts name the Latin STOP and START.
//   - BE: Dutch (the majority language), then French and German; STOP is
//     the same in all three.
//   - CH: German, then French and Italian. LU: French, then German.
//   - CA: English, then French, so ARRÊT is still answered in French.
//   - US, PR: English and Spanish (PR Spanish first).
//   - MA, DZ, TN, MR, LB: Arabic, then French.
//   - TW, HK, MO: Traditional Chinese ("zh-Hant"); CN and SG's Chinese
//     speakers get Simplified ("zh"). SG: English, then Chinese and Malay.
//   - UA: Ukrainian, then Russian. BY, KZ, KG, TJ, UZ: Russian.
//   - AF: Persian (Dari).
var countryLanguages = map[string][]string{
	// English
	"US": {"en", "es"}, "GB": {"en"}, "IE": {"en"}, "AU": {"en"}, "NZ": {"en"},
	"ZA": {"en"}, "NG": {"en"}, "GH": {"en"}, "KE": {"en"}, "UG": {"en"},
	"TZ": {"en"}, "ZM": {"en"}, "ZW": {"en"}, "MW": {"en"}, "BW": {"en"},
	"NA": {"en"}, "SL": {"en"}, "LR": {"en"}, "GM": {"en"}, "JM": {"en"},
	"TT": {"en"}, "BB": {"en"}, "BS": {"en"}, "BZ": {"en", "es"}, "GY": {"en"},
	"PH": {"en"}, "MT": {"en", "it"}, "FJ": {"en"},
	"SG": {"en", "zh", "ms"},
	"IN": {"en", "hi"},
	"CA": {"en", "fr"},

	// French
	"FR": {"fr"}, "MC": {"fr"}, "LU": {"fr", "de"},
	"SN": {"fr"}, "CI": {"fr"}, "ML": {"fr"}, "BF": {"fr"}, "NE": {"fr"},
	"GN": {"fr"}, "BJ": {"fr"}, "TG": {"fr"}, "CM": {"fr", "en"}, "CD": {"fr"},
	"CG": {"fr"}, "GA": {"fr"}, "CF": {"fr"}, "TD": {"fr", "ar"},
	"DJ": {"fr", "ar"}, "KM": {"fr", "ar"}, "MG": {"fr"}, "HT": {"fr"},
	"BI": {"fr"}, "RE": {"fr"}, "GP": {"fr"}, "MQ": {"fr"}, "GF": {"fr"},
	"YT": {"fr"}, "PF": {"fr"}, "NC": {"fr"}, "PM": {"fr"}, "BL": {"fr"},
	"MF": {"fr"}, "WF": {"fr"},

	// Arabic
	"AE": {"ar", "en"}, "SA": {"ar"}, "EG": {"ar"}, "QA": {"ar", "en"},
	"KW": {"ar"}, "BH": {"ar"}, "OM": {"ar"}, "JO": {"ar"}, "IQ": {"ar"},
	"SY": {"ar"}, "YE": {"ar"}, "LY": {"ar"}, "SD": {"ar"}, "PS": {"ar"},
	"LB": {"ar", "fr", "en"}, "MA": {"ar", "fr"}, "DZ": {"ar", "fr"},
	"TN": {"ar", "fr"}, "MR": {"ar", "fr"},

	// Spanish
	"ES": {"es"}, "MX": {"es"}, "AR": {"es"}, "CO": {"es"}, "CL": {"es"},
	"PE": {"es"}, "VE": {"es"}, "EC": {"es"}, "GT": {"es"}, "CU": {"es"},
	"BO": {"es"}, "DO": {"es"}, "HN": {"es"}, "PY": {"es"}, "SV": {"es"},
	"NI": {"es"}, "CR": {"es"}, "PA": {"es"}, "UY": {"es"}, "GQ": {"es", "fr", "pt"},
	"PR": {"es", "en"},

	// Portuguese
	"BR": {"pt"}, "PT": {"pt"}, "AO": {"pt"}, "MZ": {"pt"}, "CV": {"pt"},
	"GW": {"pt"}, "ST": {"pt"}, "TL": {"pt"},

	// German, Dutch, Italian
	"DE": {"de"}, "AT": {"de"}, "LI": {"de"}, "CH": {"de", "fr", "it"},
	"NL": {"nl"}, "BE": {"nl", "fr", "de"}, "SR": {"nl"}, "AW": {"nl"},
	"CW": {"nl"}, "SX": {"nl"}, "BQ": {"nl"},
	"IT": {"it"}, "SM": {"it"}, "VA": {"it"},

	// Others
	"PL": {"pl"},
	"TR": {"tr"},
	"ID": {"id"},
	"MY": {"ms", "en", "zh"}, "BN": {"ms", "en"},
	"RU": {"ru"}, "BY": {"ru"}, "KZ": {"ru"}, "KG": {"ru"}, "TJ": {"ru"}, "UZ": {"ru"},
	"UA": {"uk", "ru"},
	"IR": {"fa"}, "AF": {"fa"},
	"PK": {"ur", "en"},
	"CN": {"zh"},
	"TW": {"zh-Hant"}, "HK": {"zh-Hant", "en"}, "MO": {"zh-Hant", "pt"},
	"JP": {"ja"},
	"KR": {"ko"},
}

// LanguageOfCountry returns the language used for confirmations and opt-out
// instructions sent to recipients in a country (ISO 3166-1 alpha-2, any
// case): one of Languages(), or "en" for a country without a mapping.
// NL gives "nl", SA "ar", IR "fa", PK "ur", IN "en", TW "zh-Hant"; see
// LanguagesOfCountry for the choices made for multilingual countries.
func LanguageOfCountry(country string) string {
	if ls := countryLanguages[upperASCII(country)]; len(ls) > 0 {
		return ls[0]
	}
	return "en"
}

// LanguagesOfCountry returns the languages of recipients in a country (ISO
// 3166-1 alpha-2, any case), most used first, or nil if the country has no
// mapping (English is then used). ClassifyFor prefers them, in order, when
// a keyword is in several languages.
//
// For multilingual countries: IN is English then Hindi (English is the
// language of commercial SMS in India); PK Urdu then English; BE Dutch,
// French, German; CH German, French, Italian; LU French, German; CA
// English, French; MA, DZ, TN, MR Arabic, French; UA Ukrainian, Russian;
// SG English, Chinese, Malay; TW, HK, MO Traditional Chinese.
func LanguagesOfCountry(country string) []string {
	ls := countryLanguages[upperASCII(country)]
	if ls == nil {
		return nil
	}
	return append([]string(nil), ls...)
}

// Countries returns the ISO 3166-1 alpha-2 codes that have a language
// mapping, sorted.
func Countries() []string {
	out := make([]string, 0, len(countryLanguages))
	for c := range countryLanguages {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// upperASCII upper-cases ASCII letters, allocating only when s has lower
// case ones.
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
