// Package fossil creates and applies deltas in the Fossil SCM delta format
// (https://fossil-scm.org/home/doc/trunk/www/delta_format.wiki), the format
// Centrifugo and Sockudo use for realtime delta compression and that the
// npm package fossil-delta applies in browsers.
//
// A delta turns a source (the message a client already has) into a target
// (the next one):
//
//	d := fossil.Create(prev, next)
//	out, err := fossil.Apply(prev, d, maxLen) // out == next
//
// The format is text: a header "LEN\n" (the target's length), then
// segments "CNT@OFF," (copy CNT bytes of the source from OFF) and
// "CNT:" followed by CNT literal bytes, then a trailer "SUM;" (a checksum
// of the target). Numbers are written in Fossil's base-64 digits.
package fossil

import (
	"encoding/binary"
	"errors"
)

// digits are Fossil's base-64 digits, in value order.
const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~"

// digitValue maps a byte to its digit value, or -1.
var digitValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(digits); i++ {
		t[digits[i]] = int8(i)
	}
	return t
}()

// appendInt appends v in base-64 digits.
func appendInt(b []byte, v uint32) []byte {
	if v == 0 {
		return append(b, '0')
	}
	var tmp [6]byte
	i := len(tmp)
	for v > 0 {
		i--
		tmp[i] = digits[v&63]
		v >>= 6
	}
	return append(b, tmp[i:]...)
}

// intLen is the number of digits appendInt writes for v.
func intLen(v uint32) int {
	n := 1
	for v >>= 6; v > 0; v >>= 6 {
		n++
	}
	return n
}

// Checksum is Fossil's 32-bit checksum of a target: the sum of its
// big-endian 32-bit words, the last one padded with zeros.
func Checksum(b []byte) uint32 {
	var sum uint32
	for len(b) >= 4 {
		sum += binary.BigEndian.Uint32(b)
		b = b[4:]
	}
	switch len(b) {
	case 3:
		sum += uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8
	case 2:
		sum += uint32(b[0])<<24 | uint32(b[1])<<16
	case 1:
		sum += uint32(b[0]) << 24
	}
	return sum
}

// window is the length of the source blocks Create indexes and matches.
const window = 16

// Create returns a delta that turns source into target. Matches of at
// least window bytes are copied from the source; the rest is literal.
// It never fails; for unrelated inputs the delta is a little longer than
// the target (callers compare lengths).
func Create(source, target []byte) []byte {
	out := make([]byte, 0, len(target)/4+16)
	out = appendInt(out, uint32(len(target)))
	out = append(out, '\n')
	if len(source) < window || len(target) < window {
		return finish(out, target, 0, len(target))
	}
	// Index the source's blocks at multiples of window by their hash.
	nBlocks := len(source) / window
	size := 1
	for size < 2*nBlocks {
		size <<= 1
	}
	heads := make([]int32, size) // 1 + first block with the hash; 0 for none
	next := make([]int32, nBlocks)
	mask := uint32(size - 1)
	for i := range nBlocks {
		h := hashOf(source[i*window:i*window+window]) & mask
		next[i] = heads[h]
		heads[h] = int32(i + 1)
	}
	lit := 0 // start of the literal bytes not yet written
	r := newRolling(target[:window])
	for pos := 0; ; {
		bestLen, bestSrc, bestTgt := 0, 0, 0
		for b := heads[r.value()&mask]; b != 0; b = next[b-1] {
			s := int(b-1) * window
			// Extend the match backwards (into the pending literal) and
			// forwards.
			back := 0
			for back < s && pos-back > lit && source[s-back-1] == target[pos-back-1] {
				back++
			}
			fwd := 0
			for s+fwd < len(source) && pos+fwd < len(target) && source[s+fwd] == target[pos+fwd] {
				fwd++
			}
			if n := back + fwd; n > bestLen {
				bestLen, bestSrc, bestTgt = n, s-back, pos-back
			}
		}
		// A copy costs its two numbers and two punctuation bytes; take it
		// only when that is less than the bytes it replaces.
		if bestLen >= window && intLen(uint32(bestLen))+intLen(uint32(bestSrc))+2 < bestLen {
			if bestTgt > lit {
				out = appendLiteral(out, target[lit:bestTgt])
			}
			out = appendInt(out, uint32(bestLen))
			out = append(out, '@')
			out = appendInt(out, uint32(bestSrc))
			out = append(out, ',')
			lit = bestTgt + bestLen
			pos = lit
			if pos+window > len(target) {
				break
			}
			r = newRolling(target[pos : pos+window])
			continue
		}
		if pos+window >= len(target) {
			break
		}
		r.roll(target[pos], target[pos+window])
		pos++
	}
	return finish(out, target, lit, len(target))
}

// finish writes the literal tail target[lit:end] and the trailer.
func finish(out, target []byte, lit, end int) []byte {
	if end > lit {
		out = appendLiteral(out, target[lit:end])
	}
	out = appendInt(out, Checksum(target))
	return append(out, ';')
}

func appendLiteral(out, lit []byte) []byte {
	out = appendInt(out, uint32(len(lit)))
	out = append(out, ':')
	return append(out, lit...)
}

// rolling is a rolling hash of a window-byte span (an Adler-like pair of
// sums, as Fossil's own).
type rolling struct {
	a, b uint16
}

func newRolling(w []byte) rolling {
	var a, b uint16
	for i, c := range w {
		a += uint16(c)
		b += uint16(window-i) * uint16(c)
	}
	return rolling{a, b}
}

func (r *rolling) roll(out, in byte) {
	r.a += uint16(in) - uint16(out)
	r.b += r.a - window*uint16(out)
}

func (r rolling) value() uint32 { return uint32(r.a) | uint32(r.b)<<16 }

func hashOf(w []byte) uint32 { return newRolling(w).value() }

// Errors of Apply.
var (
	ErrFormat   = errors.New("fossil: malformed delta")
	ErrTooLarge = errors.New("fossil: delta target over the size limit")
	ErrRange    = errors.New("fossil: delta copies outside its source")
	ErrChecksum = errors.New("fossil: delta checksum mismatch")
)

// Apply applies delta to source and returns the target. It refuses a
// target longer than maxLen (a delta names its length first). It never
// panics, whatever the input.
func Apply(source, delta []byte, maxLen int) ([]byte, error) {
	d := delta
	readInt := func() (uint32, bool) {
		var v uint64
		n := 0
		for n < len(d) && digitValue[d[n]] >= 0 {
			v = v<<6 | uint64(digitValue[d[n]])
			if v > 1<<32-1 {
				return 0, false
			}
			n++
		}
		if n == 0 {
			return 0, false
		}
		d = d[n:]
		return uint32(v), true
	}
	total, ok := readInt()
	if !ok || len(d) == 0 || d[0] != '\n' {
		return nil, ErrFormat
	}
	d = d[1:]
	if int64(total) > int64(maxLen) {
		return nil, ErrTooLarge
	}
	out := make([]byte, 0, total)
	for len(d) > 0 {
		cnt, ok := readInt()
		if !ok || len(d) == 0 {
			return nil, ErrFormat
		}
		op := d[0]
		d = d[1:]
		switch op {
		case '@':
			off, ok := readInt()
			if !ok || len(d) == 0 || d[0] != ',' {
				return nil, ErrFormat
			}
			d = d[1:]
			if uint64(off)+uint64(cnt) > uint64(len(source)) {
				return nil, ErrRange
			}
			if uint64(len(out))+uint64(cnt) > uint64(total) {
				return nil, ErrFormat
			}
			out = append(out, source[off:off+cnt]...)
		case ':':
			if uint64(cnt) > uint64(len(d)) || uint64(len(out))+uint64(cnt) > uint64(total) {
				return nil, ErrFormat
			}
			out = append(out, d[:cnt]...)
			d = d[cnt:]
		case ';':
			if len(d) != 0 || uint32(len(out)) != total {
				return nil, ErrFormat
			}
			if Checksum(out) != cnt {
				return nil, ErrChecksum
			}
			return out, nil
		default:
			return nil, ErrFormat
		}
	}
	return nil, ErrFormat // no trailer
}
