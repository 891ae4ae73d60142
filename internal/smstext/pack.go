package smstext

// PackSeptets packs 7-bit septets into octets as described in 3GPP TS
// 23.038 section 6.1.2.1.1: septets are laid end to end, least significant
// bit first, so 8 septets fill 7 octets. The high bit of each input byte is
// ignored. Unused bits in the last octet are zero, so the result has
// ceil(7*len(septets)/8) bytes.
//
// When the number of septets is 8n-1 the last octet has 7 zero bits, which
// a reader that does not know the septet count would take for an extra '@'.
// SMS carries the count (TP-UDL), so PackSeptets does not pad with CR as
// USSD and Cell Broadcast do.
func PackSeptets(septets []byte) []byte {
	return PackSeptetsWithFill(septets, 0)
}

// PackSeptetsWithFill packs septets like PackSeptets, but first leaves
// fillBits zero bits at the start of the output. A user data header of u
// bytes before packed GSM7 text needs SeptetFillBits(u) fill bits so that
// the text starts on a septet boundary; the caller sends the header
// followed by the result. fillBits is normally 0..6; negative values are
// treated as 0. The result has ceil((fillBits+7*len(septets))/8) bytes.
func PackSeptetsWithFill(septets []byte, fillBits int) []byte {
	fillBits = max(fillBits, 0)
	out := make([]byte, (fillBits+7*len(septets)+7)/8)
	pos := fillBits
	for _, s := range septets {
		v := uint(s&0x7F) << (pos & 7)
		i := pos >> 3
		out[i] |= byte(v)
		if v > 0xFF {
			out[i+1] |= byte(v >> 8)
		}
		pos += 7
	}
	return out
}

// UnpackSeptets reverses PackSeptets: it returns count septets, one per
// byte, read from packed. If packed holds fewer than count whole septets,
// the septets it does hold are returned. A negative count means every whole
// septet in packed, floor(8*len(packed)/7); note that this may include a
// trailing '@' (0x00) made of padding bits, so pass the real count when it
// is known. It accepts any input without panicking.
func UnpackSeptets(packed []byte, count int) []byte {
	return UnpackSeptetsWithFill(packed, 0, count)
}

// UnpackSeptetsWithFill reverses PackSeptetsWithFill: it skips fillBits
// bits at the start of packed and then reads septets as UnpackSeptets does.
// Negative fillBits are treated as 0. It accepts any input without
// panicking.
func UnpackSeptetsWithFill(packed []byte, fillBits int, count int) []byte {
	fillBits = max(fillBits, 0)
	avail := 0
	if bits := len(packed) * 8; fillBits < bits {
		avail = (bits - fillBits) / 7
	}
	if count < 0 || count > avail {
		count = avail
	}
	out := make([]byte, count)
	pos := fillBits
	for k := range out {
		i := pos >> 3
		v := uint(packed[i])
		if i+1 < len(packed) {
			v |= uint(packed[i+1]) << 8
		}
		out[k] = byte(v>>(pos&7)) & 0x7F
		pos += 7
	}
	return out
}

// SeptetFillBits returns the number of fill bits (0..6) needed after a user
// data header of udhLen bytes (including the UDHL byte itself) so that
// packed GSM7 text that follows starts on a septet boundary, per 3GPP TS
// 23.040 section 9.2.3.24. A 6-byte concatenation header needs 1 fill bit;
// a 7-byte one needs none.
func SeptetFillBits(udhLen int) int {
	if udhLen <= 0 {
		return 0
	}
	return (7 - udhLen*8%7) % 7
}
