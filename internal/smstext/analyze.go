package smstext

import "unicode/utf8"

// Info describes how a message body will be sent.
type Info struct {
	// Coding is the data coding the body is sent in.
	Coding Coding
	// Units is the size of the body in its coding: GSM7 septets (extension
	// characters such as '€' count 2) or UTF-16 code units for UCS2
	// (characters outside the Basic Multilingual Plane, such as most emoji,
	// count 2).
	Units int
	// Chars is the number of characters (runes) in the body, with each
	// invalid UTF-8 byte counted as one. An emoji built from several runes,
	// such as a flag or a skin-tone variant, counts as several.
	Chars int
	// Parts is the number of SMS the body needs with UDH8 concatenation: one
	// if it fits in a single SMS (160 septets or 70 units), otherwise parts
	// of up to 153 septets or 67 units. An empty body needs one part. Parts
	// always equals len(Segments(body, Coding, UDH8)).
	Parts int
}

// Analyze reports the coding, size and part count of body when sent in the
// given mode:
//
//   - ModeAuto uses GSM7 if IsGSM7(body), and UCS2 otherwise.
//   - ModePlain always uses GSM7; runes it cannot represent, including
//     invalid UTF-8 bytes, count as one septet each because EncodeGSM7
//     sends them as '?'.
//   - ModeUnicode always uses UCS2.
//
// Unknown modes are treated as ModeAuto. Analyze does not allocate. It
// reads body once, plus a second time only for multi-part GSM7 bodies that
// contain extension characters, whose parts must be filled one character
// at a time to find where a character moves to the next part.
func Analyze(body string, mode Mode) Info {
	// The limits of Limits(GSM7, UDH8) and Limits(UCS2, UDH8).
	const gsmSingle, gsmPart = GSM7SingleMax, gsm7PartUDH8
	const ucsSingle, ucsPart = UCS2SingleMax, ucs2PartUDH8

	var info Info
	if mode == ModeUnicode {
		info.Coding = UCS2
		info.Units, info.Chars, info.Parts = scanUCS2(body, 0, 0, ucsPart)
	} else {
		var double bool
		var end int
		info.Coding = GSM7
		info.Units, info.Chars, double, end = scanGSM7(body, mode != ModePlain)
		switch {
		case end < len(body):
			// Auto mode met a rune GSM7 cannot represent. Every rune before
			// end is in GSM7, hence one UTF-16 unit.
			info.Coding = UCS2
			info.Units, info.Chars, info.Parts = scanUCS2(body, end, info.Chars, ucsPart)
		case info.Units <= gsmSingle:
			info.Parts = 1
		case !double:
			info.Parts = (info.Units + gsmPart - 1) / gsmPart
		default:
			info.Parts = countPartsGSM7(body, gsmPart)
		}
	}
	if info.Coding == UCS2 && info.Units <= ucsSingle {
		info.Parts = 1
	}
	return info
}

// scanGSM7 counts the septets and runes of body in GSM7, with
// unrepresentable runes costing one septet, and reports whether any rune
// costs two. If stop is set it stops at the first unrepresentable rune and
// returns its index as end (the counts then cover body[:end]); otherwise
// end is len(body).
func scanGSM7(body string, stop bool) (units, chars int, double bool, end int) {
	var flags uint8
	i := 0
	for i < len(body) {
		if b := body[i]; b < utf8.RuneSelf {
			e := gsmASCII[b]
			if stop && e&flagNotGSM != 0 {
				break
			}
			units += int(e & 3)
			flags |= e
			chars++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(body[i:])
		s := gsmSeptets(r)
		if s == 0 {
			if stop {
				break
			}
			s = 1
		}
		units += s
		flags |= uint8(s)
		chars++
		i += size
	}
	return units, chars, flags&flagGSMDouble != 0, i
}

// scanUCS2 counts the UTF-16 units and runes of body from index start on,
// adding them to prior, the number of runes in body[:start], which must all
// be one unit each. It also returns the parts of at most partMax units that
// Split would fill with body if it needs more than one SMS; the caller
// replaces that with 1 if body fits in a single SMS.
func scanUCS2(body string, start, prior, partMax int) (units, chars, parts int) {
	// Greedy fill state after the prior one-unit runes: full parts of
	// partMax units, then cur units in the open part.
	full, cur := 0, prior
	if prior > 0 {
		full = (prior - 1) / partMax
		cur = prior - full*partMax
	}
	units, chars = prior, prior
	for i := start; i < len(body); {
		u := 1
		if body[i] < utf8.RuneSelf {
			i++
		} else {
			r, size := utf8.DecodeRuneInString(body[i:])
			if r >= 0x10000 {
				u = 2
			}
			i += size
		}
		if cur+u > partMax && cur > 0 {
			full++
			cur = 0
		}
		cur += u
		units += u
		chars++
	}
	return units, chars, full + 1
}

// countPartsGSM7 returns len(Split(body, GSM7, 0, partMax)) without
// building the segments. It is fillParts for GSM7 without the bookkeeping
// for segments, which makes it about twice as fast.
func countPartsGSM7(body string, partMax int) int {
	parts, cur := 1, 0
	for i := 0; i < len(body); {
		var u int
		if b := body[i]; b < utf8.RuneSelf {
			u = int(gsmASCII[b] & 3)
			i++
		} else {
			r, size := utf8.DecodeRuneInString(body[i:])
			u = max(gsmSeptets(r), 1)
			i += size
		}
		if cur+u > partMax && cur > 0 {
			parts++
			cur = 0
		}
		cur += u
	}
	return parts
}
