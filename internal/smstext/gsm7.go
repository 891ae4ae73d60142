package smstext

import (
	"strings"
	"unicode/utf8"
)

const (
	// gsmEscape is the septet that switches to the extension table for the
	// next septet.
	gsmEscape = 0x1B
	// gsmQuestion is the septet for '?', used in place of runes that GSM7
	// cannot represent.
	gsmQuestion = 0x3F
)

// gsmBasic is the GSM 03.38 default alphabet, indexed by septet value
// (3GPP TS 23.038 section 6.2.1). Position 0x1B is the escape to the
// extension table, not a character; it is never looked up here.
var gsmBasic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\x1b', 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsmExt is the GSM 03.38 extension table (3GPP TS 23.038 section 6.2.1.1),
// indexed by the septet that follows an escape. Zero means no character.
var gsmExt = [128]rune{
	0x0A: '\f',
	0x14: '^',
	0x28: '{',
	0x29: '}',
	0x2F: '\\',
	0x3C: '[',
	0x3D: '~',
	0x3E: ']',
	0x40: '|',
	0x65: '€',
}

// Encoding table entries: zero means the rune is not representable;
// otherwise gsmPresent is set, gsmExtended is set for extension-table
// characters, and the low 7 bits hold the septet.
const (
	gsmPresent  = 1 << 8
	gsmExtended = 1 << 9
)

const (
	greekFirst = 'Γ' // U+0393, the lowest Greek letter in the alphabet
	greekLast  = 'Ω' // U+03A9, the highest
	euroSign   = '€'
)

// gsmEncoder maps runes to encoding table entries.
type gsmEncoder struct {
	latin [256]uint16                        // runes U+0000..U+00FF
	greek [greekLast - greekFirst + 1]uint16 // runes greekFirst..greekLast
	euro  uint16                             // '€', the only rune outside those ranges
}

// Scan flags. A GSM7 cost of 1 or 2 septets sits in the low two bits of a
// gsmASCII entry, so OR-ing the entries of a body together records whether
// any character cost 2 (flagGSMDouble) or could not be represented
// (flagNotGSM).
const (
	flagGSMDouble = 2 // some character costs 2 septets
	flagNotGSM    = 4 // some character is not representable in GSM7
)

// The tables are built by variable initializers, not init functions, so
// that Go orders them by their dependencies.
var (
	gsmEnc = newGSMEncoder()
	// gsmASCII gives, for each ASCII byte, its GSM7 cost in septets (1 or
	// 2; 1 for bytes that are not representable, which are sent as '?'),
	// OR-ed with flagNotGSM if it is not representable.
	gsmASCII = newGSMASCII()
)

func newGSMEncoder() gsmEncoder {
	var enc gsmEncoder
	set := func(r rune, entry uint16) {
		switch {
		case r < 256:
			enc.latin[r] = entry
		case r >= greekFirst && r <= greekLast:
			enc.greek[r-greekFirst] = entry
		case r == euroSign:
			enc.euro = entry
		default:
			panic("smstext: GSM table rune outside the encoder's ranges")
		}
	}
	for code, r := range gsmBasic {
		if code != gsmEscape {
			set(r, gsmPresent|uint16(code))
		}
	}
	for code, r := range gsmExt {
		if r != 0 {
			set(r, gsmPresent|gsmExtended|uint16(code))
		}
	}
	return enc
}

func newGSMASCII() [utf8.RuneSelf]uint8 {
	var t [utf8.RuneSelf]uint8
	for b := range t {
		switch e := gsmEnc.latin[b]; {
		case e == 0:
			t[b] = 1 | flagNotGSM
		case e&gsmExtended != 0:
			t[b] = 2
		default:
			t[b] = 1
		}
	}
	return t
}

// gsmLookup returns the encoding table entry for r (zero if r cannot be
// represented in GSM7).
func gsmLookup(r rune) uint16 {
	switch {
	case r >= 0 && r < 256:
		return gsmEnc.latin[r]
	case r >= greekFirst && r <= greekLast:
		return gsmEnc.greek[r-greekFirst]
	case r == euroSign:
		return gsmEnc.euro
	}
	return 0
}

// gsmSeptets returns the septets r costs in GSM7: 1, 2 for an extension
// character, or 0 if r is not representable.
func gsmSeptets(r rune) int {
	e := gsmLookup(r)
	if e == 0 {
		return 0
	}
	return 1 + int(e>>9&1)
}

// IsGSM7 reports whether every rune of body is in the GSM 03.38 default
// alphabet or its extension table, so that body can be sent as GSM7
// without loss. Invalid UTF-8 makes it report false. The empty string is
// GSM7.
func IsGSM7(body string) bool {
	for i := 0; i < len(body); {
		if b := body[i]; b < utf8.RuneSelf {
			if gsmASCII[b]&flagNotGSM != 0 {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(body[i:])
		if gsmLookup(r) == 0 {
			return false
		}
		i += size
	}
	return true
}

// EncodeGSM7 encodes s as unpacked GSM7 septets, one per byte, as sent in
// an SMPP short_message with data_coding 0x00. Extension characters become
// the two bytes 0x1B and their code. Runes that GSM7 cannot represent,
// including invalid UTF-8 bytes and a literal U+001B, become '?' (0x3F).
// The result has exactly Analyze(s, ModePlain).Units bytes.
func EncodeGSM7(s string) []byte {
	units, _, _, _ := scanGSM7(s, false)
	return AppendGSM7(make([]byte, 0, units), s)
}

// AppendGSM7 appends the unpacked GSM7 septets for s to dst, as EncodeGSM7
// does, and returns the extended slice.
func AppendGSM7(dst []byte, s string) []byte {
	for _, r := range s {
		e := gsmLookup(r)
		switch {
		case e == 0:
			dst = append(dst, gsmQuestion)
		case e&gsmExtended != 0:
			dst = append(dst, gsmEscape, byte(e&0x7F))
		default:
			dst = append(dst, byte(e&0x7F))
		}
	}
	return dst
}

// DecodeGSM7 decodes unpacked GSM7 septets, one per byte, into a string.
// It accepts any input:
//
//   - The high bit of every byte is ignored (bytes are masked with 0x7F), as
//     a 7-bit reader would do.
//   - An escape (0x1B) followed by a code that has no extension character is
//     decoded as the default-alphabet character for that code, as 3GPP TS
//     23.038 tells receivers to do; two escapes in a row (reserved for a
//     further extension table) decode as a space.
//   - A lone escape at the end is ignored.
//
// The result is valid UTF-8 and contains only GSM7 characters.
func DecodeGSM7(septets []byte) string {
	var sb strings.Builder
	sb.Grow(len(septets))
	for i := 0; i < len(septets); i++ {
		c := septets[i] & 0x7F
		if c != gsmEscape {
			writeGSMRune(&sb, gsmBasic[c])
			continue
		}
		i++
		if i == len(septets) {
			break
		}
		c = septets[i] & 0x7F
		switch {
		case gsmExt[c] != 0:
			writeGSMRune(&sb, gsmExt[c])
		case c == gsmEscape:
			sb.WriteByte(' ')
		default:
			writeGSMRune(&sb, gsmBasic[c])
		}
	}
	return sb.String()
}

func writeGSMRune(sb *strings.Builder, r rune) {
	if r < utf8.RuneSelf {
		sb.WriteByte(byte(r))
		return
	}
	sb.WriteRune(r)
}
