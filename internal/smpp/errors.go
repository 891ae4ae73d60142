package smpp

import (
	"errors"
	"strconv"
)

// DecodeError reports a PDU that could not be decoded. It carries what a
// session needs to answer the peer: [DecodeError.Response] builds the reply.
//
// When the failed PDU is itself a response (CommandID.IsResponse()), the
// session should also fail the pending request with sequence number Seq.
type DecodeError struct {
	// CommandID is the command_id from the header, or 0 when the header
	// could not be read (fewer than 16 bytes).
	CommandID CommandID
	// Seq is the sequence_number from the header, or 0 when the header
	// could not be read.
	Seq uint32
	// Status is the command_status to answer with, for example
	// ESME_RINVCMDLEN for a bad command_length, ESME_RINVCMDID for an
	// unknown command, ESME_RINVSRCADR for an over-long source_addr.
	Status Status
	// Reason says what was wrong, for logs.
	Reason string
	// Fatal reports that the command_length itself was unusable (below 16,
	// above the maximum, or not the length of the frame given to Decode).
	// On a stream this means the frame boundary is lost: answer with
	// Response (a generic_nack) and close the connection. When Fatal is
	// false the whole frame was consumed and the session can go on.
	Fatal bool
}

// Error implements error.
func (e *DecodeError) Error() string {
	s := "smpp: decode"
	if e.CommandID != 0 || e.Seq != 0 {
		s += " " + e.CommandID.String() + " seq " + strconv.FormatUint(uint64(e.Seq), 10)
	}
	return s + ": " + e.Reason + " (" + e.Status.String() + ")"
}

// Response returns the PDU to send back for the failed PDU: the command's
// own response with Status and Seq when the command is a known request
// that has a response and the frame was intact (Fatal is false), and a
// generic_nack with Status and Seq otherwise (unknown command, bad
// command_length, or a malformed response, outbind or alert_notification).
// It returns nil for a malformed generic_nack, which is never answered, so
// that two peers cannot trade generic_nacks forever.
func (e *DecodeError) Response() PDU {
	if e.Fatal {
		return &GenericNack{Header{Status: e.Status, Seq: e.Seq}}
	}
	if e.CommandID == CmdGenericNack {
		return nil
	}
	return NewErrorResponse(e.CommandID, e.Seq, e.Status)
}

// EncodeError reports a PDU that cannot be encoded because a field is
// invalid; nothing is written. Status is the command_status an SMSC would
// be expected to answer such a PDU with (for example ESME_RINVSRCADR for an
// over-long source_addr, ESME_RINVMSGLEN for a short_message over 254
// octets), so a connector can treat the failure like a rejection.
type EncodeError struct {
	// CommandID is the command of the PDU that failed.
	CommandID CommandID
	// Status is the matching command_status.
	Status Status
	// Reason says which field is invalid and why.
	Reason string
}

// Error implements error.
func (e *EncodeError) Error() string {
	return "smpp: encode " + e.CommandID.String() + ": " + e.Reason + " (" + e.Status.String() + ")"
}

// fieldError is the error a PDU body codec reports; Decode and AppendPDU
// wrap it into a DecodeError or EncodeError with the header's details.
type fieldError struct {
	status Status
	reason string
}

// Error returns the reason.
func (e *fieldError) Error() string { return e.reason }

// errNilPDU is returned when a nil PDU is encoded.
var errNilPDU = errors.New("smpp: nil PDU")
