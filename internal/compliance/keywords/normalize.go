package keywords

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxMarks is the number of combining marks kept after one base character.
// Real text needs at most three or four (a Devanagari vowel sign and
// anusvara, Hebrew points); the cap keeps pathological runs of marks
// ("Zalgo" text) short, which also keeps Normalize idempotent: the
// normalization forms split runs of more than 30 marks with U+034F, at
// places that would otherwise move once some of the marks are dropped.
const maxMarks = 8

// Normalize returns the form in which keywords are compared. Two texts
// that a person would read as the same keyword normalize to the same
// string; the compliance engine also applies it to the keywords an account
// configures. Normalize is idempotent and safe for any input: invalid UTF-8
// bytes become U+FFFD, and the result is valid UTF-8 in NFC.
//
// In order, it:
//
//   - applies Unicode compatibility decomposition (NFKD; the result is
//     recomposed to NFC at the end, so this is NFKC plus what follows):
//     full-width "ＳＴＯＰ" becomes "STOP", half-width katakana becomes
//     full-width, Arabic presentation forms become letters, "ﬁ" becomes "fi";
//   - lower-cases (simple Unicode case mapping), with these foldings for
//     letters that keyboards often lack: Turkish dotless ı and dotted İ both
//     become i (so İPTAL, IPTAL, iptal and ıptal are one word); final ς
//     becomes σ; ß becomes ss; æ and œ become ae and oe; the letters with a
//     stroke ł, đ, ø, ħ, ŧ become l, d, o, h, t;
//   - removes combining marks after Latin, Greek, Cyrillic and script-neutral
//     characters (é→e, ü→u, ç→c, ş→s, ё→е), except the breve of the Cyrillic
//     й, which stays: й is a letter of its own in Russian and Ukrainian
//     (мой and мои are different words), while ё→е is the usual
//     spelling-insensitive form;
//   - in Arabic script: removes every combining mark (harakat U+064B–U+065F,
//     superscript alef U+0670, Quranic marks, and the hamza and madda that
//     decomposition separates from أ إ آ ؤ ئ ۀ, so that أ إ آ become ا, ؤ
//     becomes و and ئ becomes ي); maps alef wasla ٱ (and U+0672, U+0673) to
//     ا, alef maqsura ى and Farsi yeh ی to Arabic yeh ي, Farsi kaf ک (and
//     swash kaf ڪ) to Arabic kaf ك, teh marbuta ة (and Urdu ۃ) and the Urdu
//     and Kurdish forms of heh ہ ھ ە to ه; removes tatweel ـ and the high
//     hamza ٴ. Urdu yeh barree ے stays distinct;
//   - in Devanagari: removes the nukta (ज़→ज, फ़→फ, as many writers omit it)
//     and writes candrabindu as anusvara (ँ→ं), keeping every other sign;
//   - writes decimal digits of every script (Arabic-Indic ٠–٩, Extended
//     Arabic-Indic ۰–۹, Devanagari ०–९, …) as ASCII digits;
//   - writes dashes (Unicode Pd) as "-" and typographic apostrophes (’ ‘ ‛
//     and the modifier letter ʼ) as "'";
//   - removes format and control characters (zero-width space, ZWNJ, ZWJ,
//     bidi marks, soft hyphen, BOM, …) other than white space;
//   - removes white space and punctuation (Unicode P: ASCII punctuation,
//     «» ¡¿, Arabic ، ؛ ؟ ۔, Devanagari ।, CJK 。、！？「」 …) at both ends, and
//     turns every inner run of white space into one ASCII space. Inner
//     punctuation stays, and so do symbols such as emoji anywhere.
//
// Letters of other scripts (Chinese, Japanese, Korean, Hebrew, Thai, …) are
// kept as they are after NFKC and lower-casing.
func Normalize(s string) string {
	return string(appendNormal(nil, s))
}

// appendNormal appends the normal form of s to buf, which must be empty,
// and returns it.
func appendNormal(buf []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	n := normalizer{b: buf[:0]}
	if isASCII(s) {
		for i := 0; i < len(s); i++ {
			n.add(rune(s[i]))
		}
		return n.b[:n.end] // ASCII is in NFC
	}
	for _, r := range norm.NFKD.String(s) {
		n.add(r)
	}
	if out := n.b[:n.end]; !norm.NFC.IsNormal(out) {
		return norm.NFC.Bytes(out)
	}
	return n.b[:n.end]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// class says what happens to combining marks after a base character.
type class uint8

const (
	classStrip      class = iota // Latin, Greek, Cyrillic, Common, or no base: marks removed
	classCyrillicI               // и: the breve is kept (й), other marks removed
	classArabic                  // all marks removed
	classDevanagari              // nukta removed, candrabindu → anusvara
	classKeep                    // other scripts: marks kept
)

type normalizer struct {
	b     []byte
	end   int   // length of b up to the end of the last content character
	space bool  // white space was seen since the last character written
	base  class // what to do with marks after the last base character
	marks int   // marks kept after the last base character
}

// add processes one rune of the NFKD (or ASCII) input.
func (n *normalizer) add(r rune) {
	if r < utf8.RuneSelf {
		switch {
		case 'A' <= r && r <= 'Z':
			n.content(r + ('a' - 'A'))
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			n.content(r)
		case r == ' ' || '\t' <= r && r <= '\r':
			n.whiteSpace()
		case r < ' ' || r == 0x7f:
			// Other control characters are removed.
		case unicode.IsPunct(r):
			n.punct(r)
		default:
			n.content(r) // ASCII symbols: $ + < = > ^ ` | ~
		}
		return
	}
	if unicode.Is(unicode.M, r) {
		n.mark(r)
		return
	}
	if unicode.IsSpace(r) {
		n.whiteSpace()
		return
	}
	if unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Cc, r) {
		return // removed without becoming a base for following marks
	}
	switch r = unicode.ToLower(r); r {
	case 'ı':
		r = 'i'
	case 'ς':
		r = 'σ'
	case 'ß':
		n.content('s')
		r = 's'
	case 'æ':
		n.content('a')
		r = 'e'
	case 'œ':
		n.content('o')
		r = 'e'
	case 'ł':
		r = 'l'
	case 'đ':
		r = 'd'
	case 'ø':
		r = 'o'
	case 'ħ':
		r = 'h'
	case 'ŧ':
		r = 't'
	case '\u0640', '\u0674': // tatweel, high hamza
		return
	case '\u0671', '\u0672', '\u0673': // alef wasla, alef with wavy hamza
		r = '\u0627'
	case '\u0649', '\u06CC': // alef maqsura, Farsi yeh
		r = '\u064A'
	case '\u06A9', '\u06AA': // keheh (Farsi kaf), swash kaf
		r = '\u0643'
	case '\u0629', '\u06C3', '\u06C1', '\u06BE', '\u06D5': // teh marbuta, Urdu teh marbuta goal, heh goal, heh doachashmee, ae
		r = '\u0647'
	case '\u2018', '\u2019', '\u201B', '\u02BC':
		n.punct('\'')
		return
	}
	switch {
	case unicode.IsDigit(r):
		n.content('0' + digitValue(r))
	case unicode.Is(unicode.Pd, r):
		n.punct('-')
	case unicode.IsPunct(r):
		n.punct(r)
	default:
		n.content(r)
	}
}

// digitValue returns the value of a decimal digit (Unicode Nd). Decimal
// digits are encoded in runs of ten, 0 to 9, so the value is the number of
// digits just before r, modulo ten.
func digitValue(r rune) rune {
	v := rune(0)
	for p := r - 1; p >= 0 && unicode.IsDigit(p); p-- {
		v++
	}
	return v % 10
}

func (n *normalizer) whiteSpace() {
	n.space = true
	n.base = classStrip
}

// punct writes inner punctuation; punctuation at the start is dropped, and
// at the end it is cut off with n.end.
func (n *normalizer) punct(r rune) {
	n.base = classStrip
	if n.end == 0 {
		return
	}
	n.write(r)
}

func (n *normalizer) content(r rune) {
	n.write(r)
	n.end = len(n.b)
	n.base = classOf(r)
	n.marks = 0
}

func (n *normalizer) write(r rune) {
	if n.space && n.end > 0 {
		n.b = append(n.b, ' ')
	}
	n.space = false
	n.b = utf8.AppendRune(n.b, r)
}

func (n *normalizer) mark(r rune) {
	if r == '\u034F' || n.marks >= maxMarks { // combining grapheme joiner
		return
	}
	switch n.base {
	case classStrip, classArabic:
		return
	case classCyrillicI:
		if r != '\u0306' {
			return
		}
		n.base = classStrip // one breve makes й; anything after it goes
	case classDevanagari:
		switch r {
		case '\u093C': // nukta
			return
		case '\u0901': // candrabindu
			r = '\u0902' // anusvara
		}
	}
	// Kept marks directly follow content: white space and punctuation set
	// n.base to classStrip.
	n.b = utf8.AppendRune(n.b, r)
	n.end = len(n.b)
	n.marks++
}

func classOf(r rune) class {
	switch {
	case r == 'и':
		return classCyrillicI
	case r < 0x0530: // Latin, IPA, Greek, Cyrillic
		return classStrip
	case unicode.Is(unicode.Arabic, r):
		return classArabic
	case '\u0900' <= r && r <= '\u097F', '\uA8E0' <= r && r <= '\uA8FF':
		return classDevanagari
	case unicode.In(r, unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Common):
		return classStrip
	}
	return classKeep
}
