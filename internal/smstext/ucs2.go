package smstext

import (
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrOddLength is returned by DecodeUCS2 when its input has an odd number of
// bytes.
var ErrOddLength = errors.New("smstext: UCS-2 data has an odd number of bytes")

// EncodeUCS2 encodes s as UTF-16BE, as sent in an SMPP short_message with
// data_coding 0x08. Runes outside the Basic Multilingual Plane become
// surrogate pairs; invalid UTF-8 bytes become U+FFFD. The result has
// exactly 2*Analyze(s, ModeUnicode).Units bytes.
func EncodeUCS2(s string) []byte {
	// Every UTF-8 byte yields at most two bytes of UTF-16.
	return AppendUCS2(make([]byte, 0, 2*len(s)), s)
}

// AppendUCS2 appends the UTF-16BE encoding of s to dst, as EncodeUCS2 does,
// and returns the extended slice.
func AppendUCS2(dst []byte, s string) []byte {
	for _, r := range s {
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			dst = append(dst, byte(hi>>8), byte(hi), byte(lo>>8), byte(lo))
			continue
		}
		dst = append(dst, byte(r>>8), byte(r))
	}
	return dst
}

// DecodeUCS2 decodes UTF-16BE bytes into a string. Surrogate pairs are
// combined; a surrogate that is not part of a pair becomes U+FFFD. A byte
// order mark is not interpreted: U+FEFF is decoded like any other
// character.
//
// If b has an odd length, DecodeUCS2 decodes all but the last byte and
// returns that text together with ErrOddLength, so callers may still use
// it. It accepts any input without panicking.
func DecodeUCS2(b []byte) (string, error) {
	n := len(b) &^ 1
	var sb strings.Builder
	sb.Grow(n / 2 * 3) // a 2-byte unit is at most 3 bytes of UTF-8
	for i := 0; i < n; i += 2 {
		u := rune(b[i])<<8 | rune(b[i+1])
		switch {
		case u < utf8.RuneSelf:
			sb.WriteByte(byte(u))
		case !utf16.IsSurrogate(u):
			sb.WriteRune(u)
		case u < 0xDC00 && i+3 < n:
			lo := rune(b[i+2])<<8 | rune(b[i+3])
			if r := utf16.DecodeRune(u, lo); r != utf8.RuneError {
				sb.WriteRune(r)
				i += 2
				continue
			}
			sb.WriteRune(utf8.RuneError)
		default:
			sb.WriteRune(utf8.RuneError)
		}
	}
	if n != len(b) {
		return sb.String(), ErrOddLength
	}
	return sb.String(), nil
}
