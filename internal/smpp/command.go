package smpp

// CommandID is the command_id of a PDU (SMPP 3.4 §5.1.2.1). A response's id
// is its request's id with bit 31 set.
type CommandID uint32

// The SMPP 3.4 command ids.
const (
	CmdGenericNack         CommandID = 0x80000000
	CmdBindReceiver        CommandID = 0x00000001
	CmdBindReceiverResp    CommandID = 0x80000001
	CmdBindTransmitter     CommandID = 0x00000002
	CmdBindTransmitterResp CommandID = 0x80000002
	CmdQuerySM             CommandID = 0x00000003
	CmdQuerySMResp         CommandID = 0x80000003
	CmdSubmitSM            CommandID = 0x00000004
	CmdSubmitSMResp        CommandID = 0x80000004
	CmdDeliverSM           CommandID = 0x00000005
	CmdDeliverSMResp       CommandID = 0x80000005
	CmdUnbind              CommandID = 0x00000006
	CmdUnbindResp          CommandID = 0x80000006
	CmdReplaceSM           CommandID = 0x00000007
	CmdReplaceSMResp       CommandID = 0x80000007
	CmdCancelSM            CommandID = 0x00000008
	CmdCancelSMResp        CommandID = 0x80000008
	CmdBindTransceiver     CommandID = 0x00000009
	CmdBindTransceiverResp CommandID = 0x80000009
	CmdOutbind             CommandID = 0x0000000B
	CmdEnquireLink         CommandID = 0x00000015
	CmdEnquireLinkResp     CommandID = 0x80000015
	CmdSubmitMulti         CommandID = 0x00000021
	CmdSubmitMultiResp     CommandID = 0x80000021
	CmdAlertNotification   CommandID = 0x00000102
	CmdDataSM              CommandID = 0x00000103
	CmdDataSMResp          CommandID = 0x80000103
)

// respBit is the bit that marks a response command id.
const respBit CommandID = 0x80000000

var commandNames = map[CommandID]string{
	CmdGenericNack:         "generic_nack",
	CmdBindReceiver:        "bind_receiver",
	CmdBindReceiverResp:    "bind_receiver_resp",
	CmdBindTransmitter:     "bind_transmitter",
	CmdBindTransmitterResp: "bind_transmitter_resp",
	CmdQuerySM:             "query_sm",
	CmdQuerySMResp:         "query_sm_resp",
	CmdSubmitSM:            "submit_sm",
	CmdSubmitSMResp:        "submit_sm_resp",
	CmdDeliverSM:           "deliver_sm",
	CmdDeliverSMResp:       "deliver_sm_resp",
	CmdUnbind:              "unbind",
	CmdUnbindResp:          "unbind_resp",
	CmdReplaceSM:           "replace_sm",
	CmdReplaceSMResp:       "replace_sm_resp",
	CmdCancelSM:            "cancel_sm",
	CmdCancelSMResp:        "cancel_sm_resp",
	CmdBindTransceiver:     "bind_transceiver",
	CmdBindTransceiverResp: "bind_transceiver_resp",
	CmdOutbind:             "outbind",
	CmdEnquireLink:         "enquire_link",
	CmdEnquireLinkResp:     "enquire_link_resp",
	CmdSubmitMulti:         "submit_multi",
	CmdSubmitMultiResp:     "submit_multi_resp",
	CmdAlertNotification:   "alert_notification",
	CmdDataSM:              "data_sm",
	CmdDataSMResp:          "data_sm_resp",
}

// String returns the spec name of the command, such as "submit_sm_resp", or
// "command_id(0x00000104)" for an id this package does not know.
func (c CommandID) String() string {
	if n, ok := commandNames[c]; ok {
		return n
	}
	return "command_id(0x" + hex8(uint32(c)) + ")"
}

// Known reports whether c is one of the SMPP 3.4 command ids above, that is
// whether [New] returns a PDU for it.
func (c CommandID) Known() bool {
	_, ok := commandNames[c]
	return ok
}

// IsResponse reports whether c is a response id (bit 31 set). generic_nack
// counts as a response.
func (c CommandID) IsResponse() bool { return c&respBit != 0 }

// Response returns the id of the response to request c (c with bit 31 set).
// For outbind and alert_notification, which have no response, the result is
// not a known command; check with [CommandID.HasResponse].
func (c CommandID) Response() CommandID { return c | respBit }

// HasResponse reports whether c is a known request that the peer must
// answer: every request except outbind and alert_notification.
func (c CommandID) HasResponse() bool {
	return !c.IsResponse() && c.Known() && (c | respBit).Known()
}

// OmitsBodyOnError reports whether response c is sent without a body when
// its command_status is not ESME_ROK. SMPP 3.4 says so of the three bind
// responses ("The body portion of the SMPP bind_transmitter_resp PDU is not
// returned if the command_status field contains a non-zero value", §4.1.2,
// and likewise §4.1.4 and §4.1.6) and of submit_sm_resp ("The
// submit_sm_resp PDU Body is not returned if the command_status field
// contains a non-zero value", §4.4.2). It says nothing of the kind for
// submit_multi_resp (§4.5.2), whose body lists the failed destinations,
// deliver_sm_resp (§4.6.2), data_sm_resp (§4.7.2) or query_sm_resp
// (§4.8.2); those keep their body. [AppendPDU] follows this; [Decode]
// accepts such a response with or without a body, as peers send both.
func (c CommandID) OmitsBodyOnError() bool {
	switch c {
	case CmdBindReceiverResp, CmdBindTransmitterResp, CmdBindTransceiverResp, CmdSubmitSMResp:
		return true
	}
	return false
}

// Request returns the id of the request that response c answers (c with bit
// 31 cleared). For generic_nack it returns 0, which is no command.
func (c CommandID) Request() CommandID { return c &^ respBit }

// New returns a new, zero PDU of the type that carries command id, or nil if
// the id is not known. For the bind commands the returned [*Bind] or
// [*BindResp] has its Kind set.
func New(id CommandID) PDU {
	switch id {
	case CmdGenericNack:
		return new(GenericNack)
	case CmdBindReceiver:
		return &Bind{Kind: BindReceiver}
	case CmdBindTransmitter:
		return &Bind{Kind: BindTransmitter}
	case CmdBindTransceiver:
		return &Bind{Kind: BindTransceiver}
	case CmdBindReceiverResp:
		return &BindResp{Kind: BindReceiver}
	case CmdBindTransmitterResp:
		return &BindResp{Kind: BindTransmitter}
	case CmdBindTransceiverResp:
		return &BindResp{Kind: BindTransceiver}
	case CmdOutbind:
		return new(Outbind)
	case CmdUnbind:
		return new(Unbind)
	case CmdUnbindResp:
		return new(UnbindResp)
	case CmdEnquireLink:
		return new(EnquireLink)
	case CmdEnquireLinkResp:
		return new(EnquireLinkResp)
	case CmdSubmitSM:
		return new(SubmitSM)
	case CmdSubmitSMResp:
		return new(SubmitSMResp)
	case CmdSubmitMulti:
		return new(SubmitMulti)
	case CmdSubmitMultiResp:
		return new(SubmitMultiResp)
	case CmdDeliverSM:
		return new(DeliverSM)
	case CmdDeliverSMResp:
		return new(DeliverSMResp)
	case CmdDataSM:
		return new(DataSM)
	case CmdDataSMResp:
		return new(DataSMResp)
	case CmdQuerySM:
		return new(QuerySM)
	case CmdQuerySMResp:
		return new(QuerySMResp)
	case CmdCancelSM:
		return new(CancelSM)
	case CmdCancelSMResp:
		return new(CancelSMResp)
	case CmdReplaceSM:
		return new(ReplaceSM)
	case CmdReplaceSMResp:
		return new(ReplaceSMResp)
	case CmdAlertNotification:
		return new(AlertNotification)
	}
	return nil
}

// NewResponse returns the response to req with req's sequence number and
// command_status ESME_ROK, ready for the caller to fill in (for example the
// MessageID of a [*SubmitSMResp]). A [*QuerySMResp] gets req's MessageID.
// It returns nil when req has no response: outbind, alert_notification,
// generic_nack and every response.
func NewResponse(req PDU) PDU {
	if req == nil {
		return nil
	}
	id := req.CommandID()
	if !id.HasResponse() {
		return nil
	}
	resp := New(id.Response())
	resp.Hdr().Seq = req.Hdr().Seq
	if q, ok := req.(*QuerySM); ok {
		resp.(*QuerySMResp).MessageID = q.MessageID
	}
	return resp
}

// NewErrorResponse returns the PDU that answers a request with command id
// id and sequence number seq with the error status st: the request's own
// response type when id is a known request that has one, and a
// [*GenericNack] otherwise (unknown ids, responses, outbind and
// alert_notification). The response has no body fields set. Encoded, a
// bind response or submit_sm_resp is then the 16-octet header alone, as
// SMPP 3.4 requires on an error (see [CommandID.OmitsBodyOnError]); the
// other responses carry their empty fields.
func NewErrorResponse(id CommandID, seq uint32, st Status) PDU {
	var resp PDU
	if id.HasResponse() {
		resp = New(id.Response())
	} else {
		resp = new(GenericNack)
	}
	h := resp.Hdr()
	h.Seq = seq
	h.Status = st
	return resp
}

const hexDigits = "0123456789ABCDEF"

// hex8 formats v as eight upper-case hex digits.
func hex8(v uint32) string {
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = hexDigits[v&0xF]
		v >>= 4
	}
	return string(b[:])
}
