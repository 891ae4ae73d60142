package smpp

import (
	"bytes"
	"encoding/binary"
)

// TLV is one optional parameter: a tag and its raw value.
type TLV struct {
	Tag   Tag
	Value []byte
}

// TLVs is the list of optional parameters of a PDU, in wire order. Decoding
// keeps every TLV, including unknown tags and repeated ones, so a PDU
// re-encodes to the same optional part.
//
// Decoding and encoding check the value length of every known tag against
// SMPP 3.4 (for example message_state must be 1 octet, network_error_code
// 3); a wrong length is an error with status ESME_RINVPARLEN. C-octet
// string values (receipted_message_id, additional_status_info_text) are
// only checked for their maximum length: the accessors accept them with or
// without the NUL terminator, because SMSCs differ.
//
// The getters return the first TLV with the tag and report false when it is
// missing or has the wrong length for the type asked for. The setters
// replace the first TLV with the tag (removing any later ones) or append a
// new one. Set methods keep the given slice; they do not copy it.
type TLVs []TLV

// Get returns the value of the first TLV with tag t.
func (ts TLVs) Get(t Tag) ([]byte, bool) {
	for i := range ts {
		if ts[i].Tag == t {
			return ts[i].Value, true
		}
	}
	return nil, false
}

// Has reports whether a TLV with tag t is present.
func (ts TLVs) Has(t Tag) bool {
	_, ok := ts.Get(t)
	return ok
}

// Set sets the value of tag t: it replaces the first TLV with the tag and
// deletes any later ones, or appends a new TLV if there is none.
func (ts *TLVs) Set(t Tag, value []byte) {
	s := *ts
	for i := range s {
		if s[i].Tag == t {
			s[i].Value = value
			*ts = append(s[:i+1], deleteTag(s[i+1:], t)...)
			return
		}
	}
	*ts = append(s, TLV{Tag: t, Value: value})
}

// Add appends a TLV with tag t even if one is already present, for the
// parameters that may be repeated (callback_num and its companions).
func (ts *TLVs) Add(t Tag, value []byte) {
	*ts = append(*ts, TLV{Tag: t, Value: value})
}

// Delete removes every TLV with tag t.
func (ts *TLVs) Delete(t Tag) {
	*ts = deleteTag(*ts, t)
}

// deleteTag removes the TLVs with tag t from s in place.
func deleteTag(s TLVs, t Tag) TLVs {
	out := s[:0]
	for _, x := range s {
		if x.Tag != t {
			out = append(out, x)
		}
	}
	clear(s[len(out):])
	return out
}

// Uint8 returns the value of tag t as a 1-octet integer.
func (ts TLVs) Uint8(t Tag) (uint8, bool) {
	v, ok := ts.Get(t)
	if !ok || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// Uint16 returns the value of tag t as a 2-octet big-endian integer.
func (ts TLVs) Uint16(t Tag) (uint16, bool) {
	v, ok := ts.Get(t)
	if !ok || len(v) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(v), true
}

// Uint32 returns the value of tag t as a 4-octet big-endian integer.
func (ts TLVs) Uint32(t Tag) (uint32, bool) {
	v, ok := ts.Get(t)
	if !ok || len(v) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(v), true
}

// CString returns the value of tag t as a C-octet string: the octets up to
// the first NUL, or all of them if there is no NUL.
func (ts TLVs) CString(t Tag) (string, bool) {
	v, ok := ts.Get(t)
	if !ok {
		return "", false
	}
	if i := bytes.IndexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	return string(v), true
}

// SetUint8 sets tag t to the 1-octet integer v.
func (ts *TLVs) SetUint8(t Tag, v uint8) { ts.Set(t, []byte{v}) }

// SetUint16 sets tag t to the 2-octet big-endian integer v.
func (ts *TLVs) SetUint16(t Tag, v uint16) { ts.Set(t, binary.BigEndian.AppendUint16(nil, v)) }

// SetUint32 sets tag t to the 4-octet big-endian integer v.
func (ts *TLVs) SetUint32(t Tag, v uint32) { ts.Set(t, binary.BigEndian.AppendUint32(nil, v)) }

// SetCString sets tag t to s as a C-octet string (s followed by a NUL).
func (ts *TLVs) SetCString(t Tag, s string) {
	v := make([]byte, len(s)+1)
	copy(v, s)
	ts.Set(t, v)
}
