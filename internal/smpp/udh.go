package smpp

import (
	"errors"
	"strconv"
)

// Information element ids of the GSM user data header (3GPP TS 23.040
// §9.2.3.24) that SMS gateways meet most.
const (
	// IEConcat8 is concatenated short messages with an 8-bit reference.
	IEConcat8 = 0x00
	// IEPort8 is application port addressing with 8-bit ports.
	IEPort8 = 0x04
	// IEPort16 is application port addressing with 16-bit ports.
	IEPort16 = 0x05
	// IEConcat16 is concatenated short messages with a 16-bit reference.
	IEConcat16 = 0x08
)

// Lengths of the complete concatenation headers, UDHL octet included.
const (
	ConcatUDH8Len  = 6 // 05 00 03 ref total seq
	ConcatUDH16Len = 7 // 06 08 04 refhi reflo total seq
)

// Concat is the concatenation information of one part of a long message.
type Concat struct {
	// Ref is the reference number shared by all parts of the message; at
	// most 255 unless Ref16 is set.
	Ref uint16
	// Total is the number of parts, 1 to 255.
	Total uint8
	// Seq is this part's number, 1 to Total.
	Seq uint8
	// Ref16 selects the 16-bit reference element (IEConcat16) instead of
	// the 8-bit one (IEConcat8).
	Ref16 bool
}

// check returns an error if c cannot be sent or was received invalid.
func (c Concat) check() error {
	switch {
	case c.Total == 0:
		return errors.New("smpp: concatenation total is 0")
	case c.Seq == 0 || c.Seq > c.Total:
		return errors.New("smpp: concatenation part " + strconv.Itoa(int(c.Seq)) +
			" is outside 1.." + strconv.Itoa(int(c.Total)))
	case !c.Ref16 && c.Ref > 0xFF:
		return errors.New("smpp: concatenation reference " + strconv.Itoa(int(c.Ref)) + " needs Ref16")
	}
	return nil
}

// AppendConcatUDH appends a complete user data header holding only the
// concatenation element, UDHL octet included: 05 00 03 ref total seq, or
// with Ref16 06 08 04 refhi reflo total seq. The part's content follows it
// in short_message, and the PDU's esm_class must have ESMClassUDHI set. It
// returns an error, appending nothing, if Total is 0, Seq is outside
// 1..Total, or Ref is above 255 without Ref16.
func AppendConcatUDH(dst []byte, c Concat) ([]byte, error) {
	if err := c.check(); err != nil {
		return dst, err
	}
	if c.Ref16 {
		return append(dst, 6, IEConcat16, 4, byte(c.Ref>>8), byte(c.Ref), c.Total, c.Seq), nil
	}
	return append(dst, 5, IEConcat8, 3, byte(c.Ref), c.Total, c.Seq), nil
}

// IE is one information element of a user data header.
type IE struct {
	ID   byte
	Data []byte
}

// ErrBadUDH is wrapped by every error about a malformed user data header.
var ErrBadUDH = errors.New("smpp: malformed user data header")

func badUDH(reason string) error {
	return &udhError{reason}
}

type udhError struct{ reason string }

// Error returns the ErrBadUDH text and the reason.
func (e *udhError) Error() string { return ErrBadUDH.Error() + ": " + e.reason }

// Unwrap returns ErrBadUDH, for errors.Is.
func (e *udhError) Unwrap() error { return ErrBadUDH }

// SplitUDH splits a short_message whose esm_class has ESMClassUDHI set into
// its user data header (UDHL octet included) and the content after it. It
// checks only that the header fits; [ParseUDH] also checks the elements.
func SplitUDH(sm []byte) (udh, content []byte, err error) {
	if len(sm) == 0 {
		return nil, nil, badUDH("short_message is empty")
	}
	n := 1 + int(sm[0])
	if n > len(sm) {
		return nil, nil, badUDH("UDHL " + strconv.Itoa(int(sm[0])) + " is longer than the " +
			strconv.Itoa(len(sm)-1) + " octets that follow")
	}
	return sm[:n:n], sm[n:], nil
}

// ParseUDH splits a short_message whose esm_class has ESMClassUDHI set into
// the information elements of its user data header and the content after
// the header. The elements' Data alias sm. Every element must lie wholly
// within the header, which must end exactly after the last one; otherwise
// the error wraps ErrBadUDH. It never panics.
func ParseUDH(sm []byte) (ies []IE, content []byte, err error) {
	udh, content, err := SplitUDH(sm)
	if err != nil {
		return nil, nil, err
	}
	for b := udh[1:]; len(b) > 0; {
		var ie IE
		if ie, b, err = nextIE(b); err != nil {
			return nil, nil, err
		}
		ies = append(ies, ie)
	}
	return ies, content, nil
}

// nextIE cuts the first information element from the rest of a header.
func nextIE(b []byte) (IE, []byte, error) {
	if len(b) < 2 {
		return IE{}, nil, badUDH("truncated element header")
	}
	id, l := b[0], int(b[1])
	if l > len(b)-2 {
		return IE{}, nil, badUDH("element 0x" + hex8(uint32(id))[6:] + " of length " +
			strconv.Itoa(l) + " runs past the header")
	}
	return IE{ID: id, Data: b[2 : 2+l : 2+l]}, b[2+l:], nil
}

// ParseConcat reads the concatenation information from a short_message
// whose esm_class has ESMClassUDHI set. found is false, with a nil error,
// when the header is well-formed but has no concatenation element. Other
// elements before or after it are skipped. If the concatenation element
// appears more than once, the last one counts, as TS 23.040 prescribes.
// An error (wrapping ErrBadUDH) reports a malformed header, a
// concatenation element of the wrong length, a total of 0 or a part
// number outside 1..total; callers may then treat the message as a
// single, unconcatenated one.
func ParseConcat(sm []byte) (c Concat, found bool, err error) {
	udh, _, err := SplitUDH(sm)
	if err != nil {
		return Concat{}, false, err
	}
	for b := udh[1:]; len(b) > 0; {
		var ie IE
		if ie, b, err = nextIE(b); err != nil {
			return Concat{}, false, err
		}
		switch ie.ID {
		case IEConcat8:
			if len(ie.Data) != 3 {
				return Concat{}, false, badUDH("8-bit concatenation element has length " + strconv.Itoa(len(ie.Data)))
			}
			c = Concat{Ref: uint16(ie.Data[0]), Total: ie.Data[1], Seq: ie.Data[2]}
			found = true
		case IEConcat16:
			if len(ie.Data) != 4 {
				return Concat{}, false, badUDH("16-bit concatenation element has length " + strconv.Itoa(len(ie.Data)))
			}
			c = Concat{Ref: uint16(ie.Data[0])<<8 | uint16(ie.Data[1]), Total: ie.Data[2], Seq: ie.Data[3], Ref16: true}
			found = true
		}
	}
	if !found {
		return Concat{}, false, nil
	}
	if err := c.check(); err != nil {
		return Concat{}, false, badUDH(err.Error()[len("smpp: "):])
	}
	return c, true, nil
}
