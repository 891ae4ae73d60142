package smpp

// NetworkError is the value of the network_error_code TLV: the network type
// (one of the NetworkType constants, such as NetworkTypeGSM) and the error
// code that network reported.
type NetworkError struct {
	Type byte
	Code uint16
}

// The network types of network_error_code (SMPP 3.4 §5.3.2.31).
const (
	NetworkTypeANSI136 = 1
	NetworkTypeIS95    = 2
	NetworkTypeGSM     = 3
	NetworkTypeANSI41  = 4
)

// ReceiptedMessageID returns the receipted_message_id TLV (0x001E): the id
// of the message a delivery receipt is about, as the SMSC returned it in
// submit_sm_resp.
func (ts TLVs) ReceiptedMessageID() (string, bool) { return ts.CString(TagReceiptedMessageID) }

// SetReceiptedMessageID sets the receipted_message_id TLV.
func (ts *TLVs) SetReceiptedMessageID(id string) { ts.SetCString(TagReceiptedMessageID, id) }

// MessageState returns the message_state TLV (0x0427) of a delivery
// receipt.
func (ts TLVs) MessageState() (MessageState, bool) {
	v, ok := ts.Uint8(TagMessageState)
	return MessageState(v), ok
}

// SetMessageState sets the message_state TLV.
func (ts *TLVs) SetMessageState(s MessageState) { ts.SetUint8(TagMessageState, uint8(s)) }

// NetworkErrorCode returns the network_error_code TLV (0x0423).
func (ts TLVs) NetworkErrorCode() (NetworkError, bool) {
	v, ok := ts.Get(TagNetworkErrorCode)
	if !ok || len(v) != 3 {
		return NetworkError{}, false
	}
	return NetworkError{Type: v[0], Code: uint16(v[1])<<8 | uint16(v[2])}, true
}

// SetNetworkErrorCode sets the network_error_code TLV.
func (ts *TLVs) SetNetworkErrorCode(e NetworkError) {
	ts.Set(TagNetworkErrorCode, []byte{e.Type, byte(e.Code >> 8), byte(e.Code)})
}

// MessagePayload returns the message_payload TLV (0x0424), which carries
// the message instead of short_message (sm_length is then 0).
func (ts TLVs) MessagePayload() ([]byte, bool) { return ts.Get(TagMessagePayload) }

// SetMessagePayload sets the message_payload TLV; p is not copied.
func (ts *TLVs) SetMessagePayload(p []byte) { ts.Set(TagMessagePayload, p) }

// AdditionalStatusInfoText returns the additional_status_info_text TLV
// (0x001D), a free-text explanation of a response's status.
func (ts TLVs) AdditionalStatusInfoText() (string, bool) {
	return ts.CString(TagAdditionalStatusInfoText)
}

// SAR is the segmentation and reassembly information of the sar_msg_ref_num
// (0x020C), sar_total_segments (0x020E) and sar_segment_seqnum (0x020F)
// TLVs, the TLV alternative to a concatenation UDH.
type SAR struct {
	Ref   uint16
	Total uint8
	Seq   uint8
}

// SAR returns the three SAR TLVs; ok is false unless all three are present
// with valid lengths.
func (ts TLVs) SAR() (s SAR, ok bool) {
	var ok1, ok2, ok3 bool
	s.Ref, ok1 = ts.Uint16(TagSarMsgRefNum)
	s.Total, ok2 = ts.Uint8(TagSarTotalSegments)
	s.Seq, ok3 = ts.Uint8(TagSarSegmentSeqnum)
	if !ok1 || !ok2 || !ok3 {
		return SAR{}, false
	}
	return s, true
}

// SetSAR sets the three SAR TLVs.
func (ts *TLVs) SetSAR(s SAR) {
	ts.SetUint16(TagSarMsgRefNum, s.Ref)
	ts.SetUint8(TagSarTotalSegments, s.Total)
	ts.SetUint8(TagSarSegmentSeqnum, s.Seq)
}

// SarMsgRefNum returns the sar_msg_ref_num TLV (0x020C).
func (ts TLVs) SarMsgRefNum() (uint16, bool) { return ts.Uint16(TagSarMsgRefNum) }

// SetSarMsgRefNum sets the sar_msg_ref_num TLV.
func (ts *TLVs) SetSarMsgRefNum(v uint16) { ts.SetUint16(TagSarMsgRefNum, v) }

// SarTotalSegments returns the sar_total_segments TLV (0x020E).
func (ts TLVs) SarTotalSegments() (uint8, bool) { return ts.Uint8(TagSarTotalSegments) }

// SetSarTotalSegments sets the sar_total_segments TLV.
func (ts *TLVs) SetSarTotalSegments(v uint8) { ts.SetUint8(TagSarTotalSegments, v) }

// SarSegmentSeqnum returns the sar_segment_seqnum TLV (0x020F).
func (ts TLVs) SarSegmentSeqnum() (uint8, bool) { return ts.Uint8(TagSarSegmentSeqnum) }

// SetSarSegmentSeqnum sets the sar_segment_seqnum TLV.
func (ts *TLVs) SetSarSegmentSeqnum(v uint8) { ts.SetUint8(TagSarSegmentSeqnum, v) }

// UserMessageReference returns the user_message_reference TLV (0x0204), an
// ESME-assigned reference for the message.
func (ts TLVs) UserMessageReference() (uint16, bool) { return ts.Uint16(TagUserMessageReference) }

// SetUserMessageReference sets the user_message_reference TLV.
func (ts *TLVs) SetUserMessageReference(v uint16) { ts.SetUint16(TagUserMessageReference, v) }

// SourcePort returns the source_port TLV (0x020A).
func (ts TLVs) SourcePort() (uint16, bool) { return ts.Uint16(TagSourcePort) }

// SetSourcePort sets the source_port TLV.
func (ts *TLVs) SetSourcePort(v uint16) { ts.SetUint16(TagSourcePort, v) }

// DestinationPort returns the destination_port TLV (0x020B).
func (ts TLVs) DestinationPort() (uint16, bool) { return ts.Uint16(TagDestinationPort) }

// SetDestinationPort sets the destination_port TLV.
func (ts *TLVs) SetDestinationPort(v uint16) { ts.SetUint16(TagDestinationPort, v) }

// ScInterfaceVersion returns the sc_interface_version TLV (0x0210) that an
// SMSC may put in a bind response: the SMPP version it supports.
func (ts TLVs) ScInterfaceVersion() (uint8, bool) { return ts.Uint8(TagScInterfaceVersion) }

// SetScInterfaceVersion sets the sc_interface_version TLV.
func (ts *TLVs) SetScInterfaceVersion(v uint8) { ts.SetUint8(TagScInterfaceVersion, v) }
