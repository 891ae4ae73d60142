package smpp

import "encoding/binary"

// HeaderLen is the length of the PDU header: command_length, command_id,
// command_status and sequence_number, four octets each.
const HeaderLen = 16

// DefaultMaxLen is the largest command_length that [ReadPDU] and [Reader]
// accept when given a maximum of zero or less: 64 KiB, enough for a
// message_payload of any size an SMSC accepts.
const DefaultMaxLen = 64 * 1024

// MaxSeq is the largest sequence_number SMPP 3.4 allows; valid numbers are
// 1 to MaxSeq. See [Sequence].
const MaxSeq = 0x7FFFFFFF

// Header holds the header fields of a PDU that the caller controls. The
// command_length is computed when the PDU is encoded and the command_id
// follows from the PDU's type. Every PDU type embeds a Header, so p.Seq and
// p.Status can be used directly on a concrete PDU, and p.Hdr() on any PDU.
type Header struct {
	// Status is the command_status: ESME_ROK in requests; in responses the
	// outcome of the request.
	Status Status
	// Seq is the sequence_number that ties a response to its request.
	Seq uint32
}

// Hdr returns h itself, so that every PDU type, which embeds a Header,
// gives access to its header through the [PDU] interface.
func (h *Header) Hdr() *Header { return h }

// PDU is one SMPP protocol data unit. The concrete types are the pointer
// types of this package, one per command (or one per group of commands for
// [*Bind] and [*BindResp]); a type switch on them is the usual way to
// dispatch. Only this package's types implement PDU.
type PDU interface {
	// CommandID returns the command_id the PDU is sent with.
	CommandID() CommandID
	// Hdr returns the PDU's header, for reading or setting the sequence
	// number and status of any PDU.
	Hdr() *Header

	// appendBody appends the encoded body (everything after the header)
	// to dst, or reports the first invalid field as a *fieldError.
	appendBody(dst []byte) ([]byte, error)
	// decodeBody parses the body into the PDU's fields, or reports the
	// first invalid field as a *fieldError. The PDU must not keep
	// references into body.
	decodeBody(body []byte) error
}

// rawHeader is the decoded 16-octet header.
type rawHeader struct {
	length uint32
	id     CommandID
	status Status
	seq    uint32
}

// parseHeader reads the header from the first HeaderLen bytes of b.
func parseHeader(b []byte) rawHeader {
	_ = b[HeaderLen-1]
	return rawHeader{
		length: binary.BigEndian.Uint32(b[0:]),
		id:     CommandID(binary.BigEndian.Uint32(b[4:])),
		status: Status(binary.BigEndian.Uint32(b[8:])),
		seq:    binary.BigEndian.Uint32(b[12:]),
	}
}
