package smstext

import "unicode/utf8"

// DecodeLatin1 decodes ISO-8859-1 bytes (SMPP data_coding 0x03) into a
// string: every byte is the code point of the same value. It never fails.
func DecodeLatin1(b []byte) string {
	high := 0
	for _, c := range b {
		if c >= utf8.RuneSelf {
			high++
		}
	}
	if high == 0 {
		return string(b)
	}
	// Bytes 0x80..0xFF take two bytes in UTF-8.
	out := make([]byte, 0, len(b)+high)
	for _, c := range b {
		if c < utf8.RuneSelf {
			out = append(out, c)
			continue
		}
		out = utf8.AppendRune(out, rune(c))
	}
	return string(out)
}
