package smpp

// emptyBody is the decodeBody of the PDUs that are only a header.
func emptyBody(b []byte) error {
	if len(b) != 0 {
		d := newDecoder(b, 0)
		return d.result()
	}
	return nil
}

// GenericNack is a generic_nack (SMPP 3.4 §4.3.1): the answer to a PDU
// that could not be handled at all (unknown command, bad length). Status
// says why; Seq is the failed PDU's, or 0 if it could not be read.
type GenericNack struct{ Header }

// CommandID returns CmdGenericNack.
func (p *GenericNack) CommandID() CommandID                  { return CmdGenericNack }
func (p *GenericNack) appendBody(dst []byte) ([]byte, error) { return dst, nil }
func (p *GenericNack) decodeBody(b []byte) error             { return emptyBody(b) }

// Unbind is an unbind request (SMPP 3.4 §4.2.1), ending the session.
type Unbind struct{ Header }

// CommandID returns CmdUnbind.
func (p *Unbind) CommandID() CommandID                  { return CmdUnbind }
func (p *Unbind) appendBody(dst []byte) ([]byte, error) { return dst, nil }
func (p *Unbind) decodeBody(b []byte) error             { return emptyBody(b) }

// UnbindResp is the response to an [Unbind] (SMPP 3.4 §4.2.2).
type UnbindResp struct{ Header }

// CommandID returns CmdUnbindResp.
func (p *UnbindResp) CommandID() CommandID                  { return CmdUnbindResp }
func (p *UnbindResp) appendBody(dst []byte) ([]byte, error) { return dst, nil }
func (p *UnbindResp) decodeBody(b []byte) error             { return emptyBody(b) }

// EnquireLink is an enquire_link request (SMPP 3.4 §4.11.1), the keepalive
// either side may send.
type EnquireLink struct{ Header }

// CommandID returns CmdEnquireLink.
func (p *EnquireLink) CommandID() CommandID                  { return CmdEnquireLink }
func (p *EnquireLink) appendBody(dst []byte) ([]byte, error) { return dst, nil }
func (p *EnquireLink) decodeBody(b []byte) error             { return emptyBody(b) }

// EnquireLinkResp is the response to an [EnquireLink] (SMPP 3.4 §4.11.2).
type EnquireLinkResp struct{ Header }

// CommandID returns CmdEnquireLinkResp.
func (p *EnquireLinkResp) CommandID() CommandID                  { return CmdEnquireLinkResp }
func (p *EnquireLinkResp) appendBody(dst []byte) ([]byte, error) { return dst, nil }
func (p *EnquireLinkResp) decodeBody(b []byte) error             { return emptyBody(b) }

// CancelSMResp is the response to a [CancelSM] (SMPP 3.4 §4.9.2).
type CancelSMResp struct{ Header }

// CommandID returns CmdCancelSMResp.
func (p *CancelSMResp) CommandID() CommandID                  { return CmdCancelSMResp }
func (p *CancelSMResp) appendBody(dst []byte) ([]byte, error) { return dst, nil }
func (p *CancelSMResp) decodeBody(b []byte) error             { return emptyBody(b) }

// ReplaceSMResp is the response to a [ReplaceSM] (SMPP 3.4 §4.10.2).
type ReplaceSMResp struct{ Header }

// CommandID returns CmdReplaceSMResp.
func (p *ReplaceSMResp) CommandID() CommandID                  { return CmdReplaceSMResp }
func (p *ReplaceSMResp) appendBody(dst []byte) ([]byte, error) { return dst, nil }
func (p *ReplaceSMResp) decodeBody(b []byte) error             { return emptyBody(b) }

// QuerySM is a query_sm request (SMPP 3.4 §4.8.1): the state of a
// previously submitted message.
type QuerySM struct {
	Header
	// MessageID is the SMSC's id of the message; at most 64 characters.
	MessageID string
	// SourceTON, SourceNPI and SourceAddr must match the original
	// submission's source address; SourceAddr is at most 20 characters.
	SourceTON, SourceNPI byte
	SourceAddr           string
}

// CommandID returns CmdQuerySM.
func (p *QuerySM) CommandID() CommandID { return CmdQuerySM }

func (p *QuerySM) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(p.MessageID, sizeMessageID, ESME_RINVMSGID, "message_id")
	e.u8(p.SourceTON)
	e.u8(p.SourceNPI)
	e.cstring(p.SourceAddr, sizeAddr, ESME_RINVSRCADR, "source_addr")
	return e.result()
}

func (p *QuerySM) decodeBody(b []byte) error {
	d := newDecoder(b, sizeMessageID+2+sizeAddr)
	p.MessageID = d.cstring(sizeMessageID, ESME_RINVMSGID, "message_id")
	p.SourceTON = d.u8("source_addr_ton")
	p.SourceNPI = d.u8("source_addr_npi")
	p.SourceAddr = d.cstring(sizeAddr, ESME_RINVSRCADR, "source_addr")
	return d.result()
}

// QuerySMResp is the response to a [QuerySM] (SMPP 3.4 §4.8.2).
type QuerySMResp struct {
	Header
	// MessageID is the id that was queried.
	MessageID string
	// FinalDate is when the message reached its final state, as an SMPP
	// absolute time, or empty if it has not.
	FinalDate string
	// MessageState is the message's state.
	MessageState MessageState
	// ErrorCode is the network error code of a failed delivery, or 0.
	ErrorCode byte
}

// CommandID returns CmdQuerySMResp.
func (p *QuerySMResp) CommandID() CommandID { return CmdQuerySMResp }

func (p *QuerySMResp) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(p.MessageID, sizeMessageID, ESME_RINVMSGID, "message_id")
	e.time(p.FinalDate, ESME_RINVSCHED, "final_date")
	e.u8(byte(p.MessageState))
	e.u8(p.ErrorCode)
	return e.result()
}

func (p *QuerySMResp) decodeBody(b []byte) error {
	d := newDecoder(b, sizeMessageID+sizeTime)
	p.MessageID = d.cstring(sizeMessageID, ESME_RINVMSGID, "message_id")
	p.FinalDate = d.time(ESME_RINVSCHED, "final_date")
	p.MessageState = MessageState(d.u8("message_state"))
	p.ErrorCode = d.u8("error_code")
	return d.result()
}

// CancelSM is a cancel_sm request (SMPP 3.4 §4.9.1): cancel one pending
// message by MessageID, or, with MessageID empty, all pending messages
// from SourceAddr to DestAddr (of ServiceType, if set).
type CancelSM struct {
	Header
	ServiceType          string
	MessageID            string
	SourceTON, SourceNPI byte
	SourceAddr           string
	DestTON, DestNPI     byte
	DestAddr             string
}

// CommandID returns CmdCancelSM.
func (p *CancelSM) CommandID() CommandID { return CmdCancelSM }

func (p *CancelSM) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(p.ServiceType, sizeServiceType, ESME_RINVSERTYP, "service_type")
	e.cstring(p.MessageID, sizeMessageID, ESME_RINVMSGID, "message_id")
	e.u8(p.SourceTON)
	e.u8(p.SourceNPI)
	e.cstring(p.SourceAddr, sizeAddr, ESME_RINVSRCADR, "source_addr")
	e.u8(p.DestTON)
	e.u8(p.DestNPI)
	e.cstring(p.DestAddr, sizeAddr, ESME_RINVDSTADR, "destination_addr")
	return e.result()
}

func (p *CancelSM) decodeBody(b []byte) error {
	d := newDecoder(b, len(b))
	p.ServiceType = d.cstring(sizeServiceType, ESME_RINVSERTYP, "service_type")
	p.MessageID = d.cstring(sizeMessageID, ESME_RINVMSGID, "message_id")
	p.SourceTON = d.u8("source_addr_ton")
	p.SourceNPI = d.u8("source_addr_npi")
	p.SourceAddr = d.cstring(sizeAddr, ESME_RINVSRCADR, "source_addr")
	p.DestTON = d.u8("dest_addr_ton")
	p.DestNPI = d.u8("dest_addr_npi")
	p.DestAddr = d.cstring(sizeAddr, ESME_RINVDSTADR, "destination_addr")
	return d.result()
}

// ReplaceSM is a replace_sm request (SMPP 3.4 §4.10.1): replace a pending
// message. The fields are as in [SubmitSM].
type ReplaceSM struct {
	Header
	MessageID            string
	SourceTON, SourceNPI byte
	SourceAddr           string
	ScheduleDeliveryTime string
	ValidityPeriod       string
	RegisteredDelivery   byte
	SMDefaultMsgID       byte
	ShortMessage         []byte
}

// CommandID returns CmdReplaceSM.
func (p *ReplaceSM) CommandID() CommandID { return CmdReplaceSM }

func (p *ReplaceSM) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(p.MessageID, sizeMessageID, ESME_RINVMSGID, "message_id")
	e.u8(p.SourceTON)
	e.u8(p.SourceNPI)
	e.cstring(p.SourceAddr, sizeAddr, ESME_RINVSRCADR, "source_addr")
	e.time(p.ScheduleDeliveryTime, ESME_RINVSCHED, "schedule_delivery_time")
	e.time(p.ValidityPeriod, ESME_RINVEXPIRY, "validity_period")
	e.u8(p.RegisteredDelivery)
	e.u8(p.SMDefaultMsgID)
	e.shortMessage(p.ShortMessage)
	return e.result()
}

func (p *ReplaceSM) decodeBody(b []byte) error {
	d := newDecoder(b, sizeMessageID+2+sizeAddr+2*sizeTime)
	p.MessageID = d.cstring(sizeMessageID, ESME_RINVMSGID, "message_id")
	p.SourceTON = d.u8("source_addr_ton")
	p.SourceNPI = d.u8("source_addr_npi")
	p.SourceAddr = d.cstring(sizeAddr, ESME_RINVSRCADR, "source_addr")
	p.ScheduleDeliveryTime = d.time(ESME_RINVSCHED, "schedule_delivery_time")
	p.ValidityPeriod = d.time(ESME_RINVEXPIRY, "validity_period")
	p.RegisteredDelivery = d.u8("registered_delivery")
	p.SMDefaultMsgID = d.u8("sm_default_msg_id")
	p.ShortMessage = d.shortMessage()
	return d.result()
}

// AlertNotification is an alert_notification (SMPP 3.4 §4.12.1): the SMSC
// tells the ESME that a mobile station (SourceAddr) has become available.
// It has no response. Both addresses may be up to 64 characters.
type AlertNotification struct {
	Header
	SourceTON, SourceNPI byte
	SourceAddr           string
	ESMETON, ESMENPI     byte
	ESMEAddr             string
	// TLVs may hold ms_availability_status.
	TLVs TLVs
}

// CommandID returns CmdAlertNotification.
func (p *AlertNotification) CommandID() CommandID { return CmdAlertNotification }

func (p *AlertNotification) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.u8(p.SourceTON)
	e.u8(p.SourceNPI)
	e.cstring(p.SourceAddr, sizeAddr65, ESME_RINVSRCADR, "source_addr")
	e.u8(p.ESMETON)
	e.u8(p.ESMENPI)
	e.cstring(p.ESMEAddr, sizeAddr65, ESME_RINVDSTADR, "esme_addr")
	e.tlvs(p.TLVs)
	return e.result()
}

func (p *AlertNotification) decodeBody(b []byte) error {
	d := newDecoder(b, 2+sizeAddr65+2+sizeAddr65)
	p.SourceTON = d.u8("source_addr_ton")
	p.SourceNPI = d.u8("source_addr_npi")
	p.SourceAddr = d.cstring(sizeAddr65, ESME_RINVSRCADR, "source_addr")
	p.ESMETON = d.u8("esme_addr_ton")
	p.ESMENPI = d.u8("esme_addr_npi")
	p.ESMEAddr = d.cstring(sizeAddr65, ESME_RINVDSTADR, "esme_addr")
	p.TLVs = d.tlvs()
	return d.result()
}
