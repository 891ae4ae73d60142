package smpp

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
)

// MaxShortMessageLen is the largest short_message (and so sm_length) SMPP
// 3.4 allows, in octets. Longer content goes in the message_payload TLV or
// is split into concatenated parts.
const MaxShortMessageLen = 254

// Field sizes of SMPP 3.4 §4, as the spec gives them: the maximum size of a
// C-octet string including its NUL terminator.
const (
	sizeSystemID     = 16
	sizePassword     = 9
	sizeSystemType   = 13
	sizeAddressRange = 41
	sizeServiceType  = 6
	sizeAddr         = 21 // source_addr, destination_addr, dl_name
	sizeAddr65       = 65 // data_sm and alert_notification addresses
	sizeTime         = 17 // schedule_delivery_time, validity_period, final_date
	sizeMessageID    = 65
)

// Decode decodes one whole PDU, header included. frame must hold exactly
// one PDU: its command_length must equal len(frame). The returned PDU does
// not refer to frame's memory, so frame may be reused at once.
//
// Decoding is strict: every mandatory field must be present and within its
// spec size, C-octet strings must be NUL-terminated, sm_length must match,
// and whatever follows the mandatory fields must be well-formed TLVs, up to
// the end of the frame, on PDUs that carry TLVs (nothing may follow on the
// others). As SMPP allows, a response with a non-zero command_status may
// have an empty body; its fields are then left zero. It may also carry its
// body, which is then decoded like any other — even on the bind responses
// and submit_sm_resp, whose body SMPP 3.4 says is not returned on an error
// (many SMSCs send it anyway). A deliver_sm_resp may
// have an empty body whatever its status, since its only field is unused.
//
// Errors are of type [*DecodeError].
func Decode(frame []byte) (PDU, error) {
	if len(frame) < HeaderLen {
		return nil, &DecodeError{Status: ESME_RINVCMDLEN, Fatal: true,
			Reason: "frame of " + strconv.Itoa(len(frame)) + " bytes is shorter than the 16-byte header"}
	}
	h := parseHeader(frame)
	if int64(h.length) != int64(len(frame)) {
		return nil, &DecodeError{CommandID: h.id, Seq: h.seq, Status: ESME_RINVCMDLEN, Fatal: true,
			Reason: "command_length " + strconv.FormatUint(uint64(h.length), 10) +
				" does not match the frame length " + strconv.Itoa(len(frame))}
	}
	return decodeFrame(h, frame[HeaderLen:])
}

// decodeFrame decodes the body of a frame whose length is already checked.
func decodeFrame(h rawHeader, body []byte) (PDU, error) {
	p := New(h.id)
	if p == nil {
		return nil, &DecodeError{CommandID: h.id, Seq: h.seq, Status: ESME_RINVCMDID,
			Reason: "unknown command_id 0x" + hex8(uint32(h.id))}
	}
	hd := p.Hdr()
	hd.Status = h.status
	hd.Seq = h.seq
	if len(body) == 0 && h.id.IsResponse() && (h.status != ESME_ROK || h.id == CmdDeliverSMResp) {
		return p, nil
	}
	if err := p.decodeBody(body); err != nil {
		fe := asFieldError(err)
		return nil, &DecodeError{CommandID: h.id, Seq: h.seq, Status: fe.status, Reason: fe.reason}
	}
	return p, nil
}

// AppendPDU appends the encoding of p, header included, to dst and returns
// the extended slice. The command_length is computed and the command_id
// taken from p's type. A bind response or submit_sm_resp whose Status is
// not ESME_ROK is encoded as its header alone, as SMPP 3.4 requires (see
// [CommandID.OmitsBodyOnError]); its other fields are then not sent. Every field is checked first; if one is invalid
// AppendPDU returns dst unchanged and an [*EncodeError], so it never
// produces a PDU that [Decode] would reject. With a dst of enough capacity
// it does not allocate.
func AppendPDU(dst []byte, p PDU) ([]byte, error) {
	if p == nil {
		return dst, errNilPDU
	}
	id := p.CommandID()
	if !id.Known() {
		return dst, &EncodeError{CommandID: id, Status: ESME_RINVCMDID, Reason: "no valid command_id (is Kind set?)"}
	}
	start := len(dst)
	h := p.Hdr()
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(id))
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.Status))
	dst = binary.BigEndian.AppendUint32(dst, h.Seq)
	if h.Status == ESME_ROK || !id.OmitsBodyOnError() {
		var err error
		dst, err = p.appendBody(dst)
		if err != nil {
			fe := asFieldError(err)
			return dst[:start], &EncodeError{CommandID: id, Status: fe.status, Reason: fe.reason}
		}
	}
	n := len(dst) - start
	if uint64(n) > math.MaxUint32 {
		return dst[:start], &EncodeError{CommandID: id, Status: ESME_RINVCMDLEN, Reason: "PDU longer than 2^32-1 octets"}
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(n))
	return dst, nil
}

// Marshal returns the encoding of p in a new slice; see [AppendPDU].
func Marshal(p PDU) ([]byte, error) {
	return AppendPDU(nil, p)
}

// asFieldError returns err as the *fieldError the body codecs return.
func asFieldError(err error) *fieldError {
	if fe, ok := err.(*fieldError); ok {
		return fe
	}
	return &fieldError{ESME_RSYSERR, err.Error()}
}

// encoder appends body fields, remembering the first invalid one.
type encoder struct {
	b   []byte
	err *fieldError
}

func (e *encoder) fail(st Status, reason string) {
	if e.err == nil {
		e.err = &fieldError{st, reason}
	}
}

func (e *encoder) result() ([]byte, error) {
	if e.err != nil {
		return e.b, e.err
	}
	return e.b, nil
}

func (e *encoder) u8(v byte) { e.b = append(e.b, v) }

func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }

// cstring appends s as a C-octet string of at most size octets including
// the NUL terminator.
func (e *encoder) cstring(s string, size int, st Status, field string) {
	if e.err != nil {
		return
	}
	if len(s) >= size {
		e.fail(st, field+" is "+strconv.Itoa(len(s))+" octets, more than the "+strconv.Itoa(size-1)+" allowed")
		return
	}
	if strings.IndexByte(s, 0) >= 0 {
		e.fail(st, field+" contains a NUL octet")
		return
	}
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}

// time appends an SMPP time field: empty, or 16 characters in the absolute
// or relative format of SMPP 3.4 §7.1.1.
func (e *encoder) time(s string, st Status, field string) {
	if e.err != nil {
		return
	}
	if r := checkTime(s); r != "" {
		e.fail(st, field+" "+r)
		return
	}
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}

// shortMessage appends sm_length and short_message.
func (e *encoder) shortMessage(sm []byte) {
	if e.err != nil {
		return
	}
	if len(sm) > MaxShortMessageLen {
		e.fail(ESME_RINVMSGLEN, "short_message is "+strconv.Itoa(len(sm))+" octets, more than 254")
		return
	}
	e.b = append(e.b, byte(len(sm)))
	e.b = append(e.b, sm...)
}

// tlvs appends the optional parameters after checking each.
func (e *encoder) tlvs(ts TLVs) {
	if e.err != nil {
		return
	}
	for _, t := range ts {
		if fe := checkTLV(t.Tag, t.Value); fe != nil {
			e.err = fe
			return
		}
		e.b = binary.BigEndian.AppendUint16(e.b, uint16(t.Tag))
		e.b = binary.BigEndian.AppendUint16(e.b, uint16(len(t.Value)))
		e.b = append(e.b, t.Value...)
	}
}

// checkTime returns "" if s is a valid SMPP time field value and the reason
// otherwise. The format is YYMMDDhhmmsstnnp: 15 digits then '+' or '-' (an
// absolute time with its offset from UTC in quarter hours) or 'R' (a
// relative time).
func checkTime(s string) string {
	if s == "" {
		return ""
	}
	if len(s) != sizeTime-1 {
		return "must be empty or 16 characters, got " + strconv.Itoa(len(s))
	}
	for i := range 15 {
		if s[i] < '0' || s[i] > '9' {
			return "must be 15 digits and '+', '-' or 'R'"
		}
	}
	if p := s[15]; p != '+' && p != '-' && p != 'R' {
		return "must end in '+', '-' or 'R'"
	}
	return ""
}

// decoder reads body fields, remembering the first invalid one. Strings
// are cut from one string copy of the start of the body and byte fields
// from one copy of the rest, so a decoded PDU costs few allocations and
// holds no reference to the input.
type decoder struct {
	b   []byte
	off int
	err *fieldError

	strEnd  int    // the C-octet strings lie in b[:strEnd]
	str     string // string(b[:strEnd]), made on first use
	strMade bool
	own     []byte // copy of b[ownBase:], made on first use
	ownBase int
	ownCopy bool
}

// newDecoder returns a decoder of b whose strings all end by strEnd (a
// bound from the spec sizes; strings past it are copied one by one).
func newDecoder(b []byte, strEnd int) decoder {
	return decoder{b: b, strEnd: min(strEnd, len(b))}
}

func (d *decoder) fail(st Status, reason string) {
	if d.err == nil {
		d.err = &fieldError{st, reason}
	}
}

// result reports the first error, or ESME_RINVCMDLEN if bytes are left.
func (d *decoder) result() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail(ESME_RINVCMDLEN, strconv.Itoa(len(d.b)-d.off)+" unexpected octets after the last field")
	}
	if d.err != nil {
		return d.err
	}
	return nil
}

func (d *decoder) short(field string) {
	d.fail(ESME_RINVCMDLEN, "body ends in "+field)
}

func (d *decoder) u8(field string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.short(field)
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) u32(field string) uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 4 {
		d.short(field)
		return 0
	}
	v := binary.BigEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

// cstring reads a C-octet string of at most size octets including the NUL.
func (d *decoder) cstring(size int, st Status, field string) string {
	if d.err != nil {
		return ""
	}
	rest := d.b[d.off:]
	i := bytes.IndexByte(rest[:min(len(rest), size)], 0)
	if i < 0 {
		if len(rest) < size {
			d.short(field + " (no NUL terminator)")
		} else {
			d.fail(st, field+" has no NUL terminator within "+strconv.Itoa(size)+" octets")
		}
		return ""
	}
	start := d.off
	d.off += i + 1
	if i == 0 {
		return ""
	}
	end := start + i
	if end > d.strEnd {
		return string(d.b[start:end])
	}
	if !d.strMade {
		d.str = string(d.b[:d.strEnd])
		d.strMade = true
	}
	return d.str[start:end]
}

// time reads an SMPP time field; see checkTime.
func (d *decoder) time(st Status, field string) string {
	s := d.cstring(sizeTime, st, field)
	if d.err == nil {
		if r := checkTime(s); r != "" {
			d.fail(st, field+" "+r)
			return ""
		}
	}
	return s
}

// bytes returns a copy of the next n octets (nil if n is 0). All copies
// come from one copy of the rest of the body, capped so that appending to
// one cannot overwrite the next.
func (d *decoder) bytes(n int) []byte {
	if n == 0 {
		return nil
	}
	if !d.ownCopy {
		d.own = bytes.Clone(d.b[d.off:])
		d.ownBase = d.off
		d.ownCopy = true
	}
	i := d.off - d.ownBase
	d.off += n
	return d.own[i : i+n : i+n]
}

// shortMessage reads sm_length and short_message.
func (d *decoder) shortMessage() []byte {
	n := int(d.u8("sm_length"))
	if d.err != nil {
		return nil
	}
	if n > MaxShortMessageLen {
		d.fail(ESME_RINVMSGLEN, "sm_length "+strconv.Itoa(n)+" is more than 254")
		return nil
	}
	if n > len(d.b)-d.off {
		d.fail(ESME_RINVMSGLEN, "sm_length "+strconv.Itoa(n)+" is more than the "+
			strconv.Itoa(len(d.b)-d.off)+" octets left in the PDU")
		return nil
	}
	return d.bytes(n)
}

// tlvs reads optional parameters up to the end of the body.
func (d *decoder) tlvs() TLVs {
	if d.err != nil || d.off == len(d.b) {
		return nil
	}
	// First pass: check the stream and count, so the slice is allocated once.
	n := 0
	for off := d.off; off < len(d.b); n++ {
		if len(d.b)-off < 4 {
			d.fail(ESME_RINVOPTPARSTREAM, strconv.Itoa(len(d.b)-off)+" octets after the last TLV are too few for a TLV header")
			return nil
		}
		tag := Tag(binary.BigEndian.Uint16(d.b[off:]))
		l := int(binary.BigEndian.Uint16(d.b[off+2:]))
		off += 4
		if l > len(d.b)-off {
			d.fail(ESME_RINVOPTPARSTREAM, "TLV "+tag.String()+" length "+strconv.Itoa(l)+
				" runs past the end of the PDU")
			return nil
		}
		if fe := checkTLV(tag, d.b[off:off+l]); fe != nil {
			d.err = fe
			return nil
		}
		off += l
	}
	ts := make(TLVs, n)
	for i := range ts {
		ts[i].Tag = Tag(binary.BigEndian.Uint16(d.b[d.off:]))
		l := int(binary.BigEndian.Uint16(d.b[d.off+2:]))
		d.off += 4
		ts[i].Value = d.bytes(l)
	}
	return ts
}
