package smstext

import (
	"strconv"
	"unicode/utf8"
)

// Single-message limits: a TP-UD field holds 140 octets, which is 160 GSM7
// septets or 70 UCS2 units.
const (
	// GSM7SingleMax is the number of septets in one unsegmented GSM7 SMS.
	GSM7SingleMax = 160
	// UCS2SingleMax is the number of UTF-16 units in one unsegmented UCS2 SMS.
	UCS2SingleMax = 70
)

// Per-part limits: the 140 octets less the header, rounded down to whole
// septets or units. A 6-byte header takes 7 septets or 3 units, a 7-byte one
// 8 septets or 4 units (3.5 rounded up).
const (
	gsm7PartUDH8  = 153
	gsm7PartUDH16 = 152
	ucs2PartUDH8  = 67
	ucs2PartUDH16 = 66
)

// UDHKind says how the parts of a segmented message are tied together, which
// decides how much room each part has left for text. The zero value is
// UDH8.
type UDHKind int

const (
	// UDH8 is a 6-byte user data header with an 8-bit reference
	// concatenation element (IEI 0x00). Parts hold 153 GSM7 septets or 67
	// UCS2 units. This is the most widely supported form and the one Analyze
	// assumes.
	UDH8 UDHKind = iota
	// UDH16 is a 7-byte user data header with a 16-bit reference
	// concatenation element (IEI 0x08). Parts hold 152 GSM7 septets or 66
	// UCS2 units.
	UDH16
	// SAR is for SMPP sar_msg_ref_num/sar_total_segments/sar_segment_seqnum
	// TLVs. The short_message carries no header, but the SMSC adds a
	// concatenation header when it delivers each part to the handset, and it
	// may use a 16-bit reference because sar_msg_ref_num has 16 bits. Parts
	// therefore get the UDH16 limits, 152 septets or 66 units, so they fit
	// whatever header the SMSC adds.
	SAR
	// NoUDH is for parts that carry no concatenation information at all:
	// each part is a separate, full-size SMS (160 septets or 70 units) that
	// the handset shows as its own message. It is not for message_payload,
	// which carries the whole body in one PDU and needs no splitting.
	NoUDH
)

// String returns the Go name of the kind, such as "UDH8". Other values are
// shown as "UDHKind(n)".
func (k UDHKind) String() string {
	switch k {
	case UDH8:
		return "UDH8"
	case UDH16:
		return "UDH16"
	case SAR:
		return "SAR"
	case NoUDH:
		return "NoUDH"
	}
	return "UDHKind(" + strconv.Itoa(int(k)) + ")"
}

// Limits returns the units a message in coding c may have to go in a single
// SMS (single) and the units each part may have when it is segmented with
// kind k (part). Units are septets for GSM7 and UTF-16 units for UCS2. An
// unknown kind gets the UDH8 limits, and any coding other than UCS2 gets the
// GSM7 limits.
func Limits(c Coding, k UDHKind) (single, part int) {
	if c == UCS2 {
		switch k {
		case UDH16, SAR:
			return UCS2SingleMax, ucs2PartUDH16
		case NoUDH:
			return UCS2SingleMax, UCS2SingleMax
		}
		return UCS2SingleMax, ucs2PartUDH8
	}
	switch k {
	case UDH16, SAR:
		return GSM7SingleMax, gsm7PartUDH16
	case NoUDH:
		return GSM7SingleMax, GSM7SingleMax
	}
	return GSM7SingleMax, gsm7PartUDH8
}

// Segments splits body into the parts needed to send it in coding c with
// concatenation kind k. It is Split with the limits from Limits(c, k).
func Segments(body string, c Coding, k UDHKind) []string {
	single, part := Limits(c, k)
	return Split(body, c, single, part)
}

// Split splits body into segments for coding c. If the whole body is at most
// singleMax units it is returned as the only segment; otherwise each segment
// holds at most partMax units, filled greedily in order. Units are counted
// as in Analyze: GSM7 septets, where extension characters cost 2 and
// unrepresentable runes cost 1 (they are sent as '?'), or UTF-16 units for
// UCS2, where runes outside the Basic Multilingual Plane cost 2.
//
// A character is never divided: a GSM7 extension character or a UCS2
// surrogate pair that would straddle a boundary starts the next segment
// instead, so that segment may end one unit short. If partMax is too small
// for a character, that character gets a segment of its own.
//
// The segments are substrings of body and concatenate back to it. Split
// always returns at least one segment; an empty body gives [""]. Any
// coding other than UCS2 is treated as GSM7.
func Split(body string, c Coding, singleMax, partMax int) []string {
	var total int
	if c == UCS2 {
		total, _, _ = scanUCS2(body, 0, 0, 1) // only the unit count is used
	} else {
		total, _, _, _ = scanGSM7(body, false)
	}
	if total <= singleMax {
		return []string{body}
	}
	// A segment holds at least partMax-1 units (or one character), so this
	// capacity is never exceeded.
	segs := make([]string, 0, total/max(partMax-1, 1)+1)
	return fillParts(body, c, partMax, segs)
}

// fillParts fills parts of at most partMax units with the characters of
// body, in order, starting a new part when the next character does not fit
// (or, if it alone exceeds partMax, giving it a part of its own), and
// returns segs with the parts appended. Any coding other than UCS2 is
// counted as GSM7. Analyze counts parts the same way (scanUCS2,
// countPartsGSM7).
func fillParts(body string, c Coding, partMax int, segs []string) []string {
	cur, start := 0, 0
	// The loop is written out per coding because this is on the hot path.
	if c == UCS2 {
		for i := 0; i < len(body); {
			u, size := 1, 1
			if body[i] >= utf8.RuneSelf {
				var r rune
				r, size = utf8.DecodeRuneInString(body[i:])
				if r >= 0x10000 {
					u = 2
				}
			}
			if cur+u > partMax && cur > 0 {
				segs = append(segs, body[start:i])
				cur, start = 0, i
			}
			cur += u
			i += size
		}
	} else {
		for i := 0; i < len(body); {
			// Advancing i by a constant in the ASCII case, rather than by a
			// size chosen after the load, keeps the loop fast.
			var u int
			next := i + 1
			if b := body[i]; b < utf8.RuneSelf {
				u = int(gsmASCII[b] & 3)
			} else {
				r, size := utf8.DecodeRuneInString(body[i:])
				u = max(gsmSeptets(r), 1)
				next = i + size
			}
			if cur+u > partMax && cur > 0 {
				segs = append(segs, body[start:i])
				cur, start = 0, i
			}
			cur += u
			i = next
		}
	}
	return append(segs, body[start:])
}
