package smpp

// SubmitSM is a submit_sm request (SMPP 3.4 §4.4.1): the ESME submits one
// short message for one destination.
//
// [DeliverSM] has exactly the same fields, so the two convert into each
// other: (*smpp.DeliverSM)(s).
type SubmitSM struct {
	Header
	// ServiceType is the SMS application service, usually empty (the
	// SMSC default); at most 5 characters.
	ServiceType string
	// SourceTON and SourceNPI qualify SourceAddr (see the TON and NPI
	// constants).
	SourceTON, SourceNPI byte
	// SourceAddr is the sender: a number or an alphanumeric sender id; at
	// most 20 characters.
	SourceAddr string
	// DestTON and DestNPI qualify DestAddr.
	DestTON, DestNPI byte
	// DestAddr is the recipient; at most 20 characters.
	DestAddr string
	// ESMClass holds the messaging mode, message type and GSM feature bits
	// (see the ESMClass constants; ESMClassUDHI when ShortMessage starts
	// with a user data header).
	ESMClass byte
	// ProtocolID is the GSM TP-PID, usually 0.
	ProtocolID byte
	// PriorityFlag is the message priority, 0 (lowest) to 3.
	PriorityFlag byte
	// ScheduleDeliveryTime is empty for immediate delivery, or a 16
	// character SMPP time (see FormatAbsoluteTime and FormatRelativeTime).
	ScheduleDeliveryTime string
	// ValidityPeriod is empty for the SMSC default, or a 16 character SMPP
	// time.
	ValidityPeriod string
	// RegisteredDelivery requests receipts (see the RegisteredDelivery
	// constants).
	RegisteredDelivery byte
	// ReplaceIfPresent asks the SMSC to replace a pending message with the
	// same source, destination and service type (1) or not (0).
	ReplaceIfPresent byte
	// DataCoding is the coding of ShortMessage (see the DataCoding
	// constants).
	DataCoding byte
	// SMDefaultMsgID selects a predefined message, usually 0.
	SMDefaultMsgID byte
	// ShortMessage is the message, user data header included, at most 254
	// octets; empty when TLVs carry a message_payload (the spec forbids
	// both at once; the codec leaves that rule to the caller). sm_length
	// is computed from it.
	ShortMessage []byte
	// TLVs are the optional parameters.
	TLVs TLVs
}

// CommandID returns CmdSubmitSM.
func (p *SubmitSM) CommandID() CommandID { return CmdSubmitSM }

// smStrEnd bounds the C-octet strings of submit_sm and deliver_sm.
const smStrEnd = sizeServiceType + 2 + sizeAddr + 2 + sizeAddr + 3 + 2*sizeTime

func (p *SubmitSM) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(p.ServiceType, sizeServiceType, ESME_RINVSERTYP, "service_type")
	e.u8(p.SourceTON)
	e.u8(p.SourceNPI)
	e.cstring(p.SourceAddr, sizeAddr, ESME_RINVSRCADR, "source_addr")
	e.u8(p.DestTON)
	e.u8(p.DestNPI)
	e.cstring(p.DestAddr, sizeAddr, ESME_RINVDSTADR, "destination_addr")
	e.u8(p.ESMClass)
	e.u8(p.ProtocolID)
	e.u8(p.PriorityFlag)
	e.time(p.ScheduleDeliveryTime, ESME_RINVSCHED, "schedule_delivery_time")
	e.time(p.ValidityPeriod, ESME_RINVEXPIRY, "validity_period")
	e.u8(p.RegisteredDelivery)
	e.u8(p.ReplaceIfPresent)
	e.u8(p.DataCoding)
	e.u8(p.SMDefaultMsgID)
	e.shortMessage(p.ShortMessage)
	e.tlvs(p.TLVs)
	return e.result()
}

func (p *SubmitSM) decodeBody(b []byte) error {
	d := newDecoder(b, smStrEnd)
	p.ServiceType = d.cstring(sizeServiceType, ESME_RINVSERTYP, "service_type")
	p.SourceTON = d.u8("source_addr_ton")
	p.SourceNPI = d.u8("source_addr_npi")
	p.SourceAddr = d.cstring(sizeAddr, ESME_RINVSRCADR, "source_addr")
	p.DestTON = d.u8("dest_addr_ton")
	p.DestNPI = d.u8("dest_addr_npi")
	p.DestAddr = d.cstring(sizeAddr, ESME_RINVDSTADR, "destination_addr")
	p.ESMClass = d.u8("esm_class")
	p.ProtocolID = d.u8("protocol_id")
	p.PriorityFlag = d.u8("priority_flag")
	p.ScheduleDeliveryTime = d.time(ESME_RINVSCHED, "schedule_delivery_time")
	p.ValidityPeriod = d.time(ESME_RINVEXPIRY, "validity_period")
	p.RegisteredDelivery = d.u8("registered_delivery")
	p.ReplaceIfPresent = d.u8("replace_if_present_flag")
	p.DataCoding = d.u8("data_coding")
	p.SMDefaultMsgID = d.u8("sm_default_msg_id")
	p.ShortMessage = d.shortMessage()
	p.TLVs = d.tlvs()
	return d.result()
}

// SubmitSMResp is the response to a [SubmitSM] (SMPP 3.4 §4.4.2). "The
// submit_sm_resp PDU Body is not returned if the command_status field
// contains a non-zero value": with a Status other than ESME_ROK it is
// encoded as the header alone. An SMSC that rejects the message may send
// no body (MessageID is then empty) or send one anyway (it is decoded).
type SubmitSMResp struct {
	Header
	// MessageID is the SMSC's id for the message, which its delivery
	// receipts will quote; at most 64 characters.
	MessageID string
	// TLVs are accepted as in SMPP 5.0 (for example
	// additional_status_info_text); SMPP 3.4 defines none here.
	TLVs TLVs
}

// CommandID returns CmdSubmitSMResp.
func (p *SubmitSMResp) CommandID() CommandID { return CmdSubmitSMResp }

func (p *SubmitSMResp) appendBody(dst []byte) ([]byte, error) {
	return appendMessageIDResp(dst, p.MessageID, p.TLVs)
}

func (p *SubmitSMResp) decodeBody(b []byte) (err error) {
	p.MessageID, p.TLVs, err = decodeMessageIDResp(b)
	return err
}

// appendMessageIDResp encodes the body shared by submit_sm_resp,
// deliver_sm_resp and data_sm_resp.
func appendMessageIDResp(dst []byte, id string, ts TLVs) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(id, sizeMessageID, ESME_RINVMSGID, "message_id")
	e.tlvs(ts)
	return e.result()
}

// decodeMessageIDResp decodes the body shared by submit_sm_resp,
// deliver_sm_resp and data_sm_resp.
func decodeMessageIDResp(b []byte) (string, TLVs, error) {
	d := newDecoder(b, sizeMessageID)
	id := d.cstring(sizeMessageID, ESME_RINVMSGID, "message_id")
	ts := d.tlvs()
	return id, ts, d.result()
}

// DestFlag says what a submit_multi destination is.
type DestFlag uint8

// The dest_flag values of submit_multi (SMPP 3.4 §4.5.1.1).
const (
	// DestSME is an SME address: TON, NPI and address.
	DestSME DestFlag = 1
	// DestDistList is the name of a distribution list kept at the SMSC.
	DestDistList DestFlag = 2
)

// DestAddr is one destination of a [SubmitMulti].
type DestAddr struct {
	// Flag is DestSME or DestDistList.
	Flag DestFlag
	// TON and NPI qualify Addr for an SME address; they are not sent for
	// a distribution list and must be 0 then.
	TON, NPI byte
	// Addr is the destination_addr of an SME address or the dl_name of a
	// distribution list; at most 20 characters.
	Addr string
}

// SMEDest returns the submit_multi destination for an SME address.
func SMEDest(ton, npi byte, addr string) DestAddr {
	return DestAddr{Flag: DestSME, TON: ton, NPI: npi, Addr: addr}
}

// DistListDest returns the submit_multi destination for the distribution
// list named name.
func DistListDest(name string) DestAddr {
	return DestAddr{Flag: DestDistList, Addr: name}
}

// MaxMultiDests is the most destinations a submit_multi may have.
const MaxMultiDests = 254

// SubmitMulti is a submit_multi request (SMPP 3.4 §4.5.1): one message for
// up to 254 destinations. Apart from Dests, the fields are as in
// [SubmitSM].
type SubmitMulti struct {
	Header
	ServiceType          string
	SourceTON, SourceNPI byte
	SourceAddr           string
	// Dests are the destinations, 1 to 254 of them.
	Dests                []DestAddr
	ESMClass             byte
	ProtocolID           byte
	PriorityFlag         byte
	ScheduleDeliveryTime string
	ValidityPeriod       string
	RegisteredDelivery   byte
	ReplaceIfPresent     byte
	DataCoding           byte
	SMDefaultMsgID       byte
	ShortMessage         []byte
	TLVs                 TLVs
}

// CommandID returns CmdSubmitMulti.
func (p *SubmitMulti) CommandID() CommandID { return CmdSubmitMulti }

func (p *SubmitMulti) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(p.ServiceType, sizeServiceType, ESME_RINVSERTYP, "service_type")
	e.u8(p.SourceTON)
	e.u8(p.SourceNPI)
	e.cstring(p.SourceAddr, sizeAddr, ESME_RINVSRCADR, "source_addr")
	if len(p.Dests) == 0 || len(p.Dests) > MaxMultiDests {
		e.fail(ESME_RINVNUMDESTS, "number_of_dests must be 1 to 254")
	}
	e.u8(byte(len(p.Dests)))
	for _, da := range p.Dests {
		switch da.Flag {
		case DestSME:
			e.u8(byte(da.Flag))
			e.u8(da.TON)
			e.u8(da.NPI)
			e.cstring(da.Addr, sizeAddr, ESME_RINVDSTADR, "destination_addr")
		case DestDistList:
			if da.TON != 0 || da.NPI != 0 {
				e.fail(ESME_RINVDESTFLAG, "a distribution list destination has no TON or NPI")
			}
			e.u8(byte(da.Flag))
			e.cstring(da.Addr, sizeAddr, ESME_RINVDLNAME, "dl_name")
		default:
			e.fail(ESME_RINVDESTFLAG, "dest_flag must be 1 (SME) or 2 (distribution list)")
		}
	}
	e.u8(p.ESMClass)
	e.u8(p.ProtocolID)
	e.u8(p.PriorityFlag)
	e.time(p.ScheduleDeliveryTime, ESME_RINVSCHED, "schedule_delivery_time")
	e.time(p.ValidityPeriod, ESME_RINVEXPIRY, "validity_period")
	e.u8(p.RegisteredDelivery)
	e.u8(p.ReplaceIfPresent)
	e.u8(p.DataCoding)
	e.u8(p.SMDefaultMsgID)
	e.shortMessage(p.ShortMessage)
	e.tlvs(p.TLVs)
	return e.result()
}

func (p *SubmitMulti) decodeBody(b []byte) error {
	d := newDecoder(b, len(b))
	p.ServiceType = d.cstring(sizeServiceType, ESME_RINVSERTYP, "service_type")
	p.SourceTON = d.u8("source_addr_ton")
	p.SourceNPI = d.u8("source_addr_npi")
	p.SourceAddr = d.cstring(sizeAddr, ESME_RINVSRCADR, "source_addr")
	n := int(d.u8("number_of_dests"))
	if d.err == nil && (n == 0 || n > MaxMultiDests) {
		d.fail(ESME_RINVNUMDESTS, "number_of_dests must be 1 to 254")
	}
	if d.err == nil {
		// Each destination takes at least 2 octets: never allocate more
		// than the body can hold.
		p.Dests = make([]DestAddr, 0, min(n, (len(b)-d.off)/2))
	}
	for i := 0; i < n && d.err == nil; i++ {
		var da DestAddr
		da.Flag = DestFlag(d.u8("dest_flag"))
		switch da.Flag {
		case DestSME:
			da.TON = d.u8("dest_addr_ton")
			da.NPI = d.u8("dest_addr_npi")
			da.Addr = d.cstring(sizeAddr, ESME_RINVDSTADR, "destination_addr")
		case DestDistList:
			da.Addr = d.cstring(sizeAddr, ESME_RINVDLNAME, "dl_name")
		default:
			d.fail(ESME_RINVDESTFLAG, "dest_flag must be 1 (SME) or 2 (distribution list)")
		}
		p.Dests = append(p.Dests, da)
	}
	p.ESMClass = d.u8("esm_class")
	p.ProtocolID = d.u8("protocol_id")
	p.PriorityFlag = d.u8("priority_flag")
	p.ScheduleDeliveryTime = d.time(ESME_RINVSCHED, "schedule_delivery_time")
	p.ValidityPeriod = d.time(ESME_RINVEXPIRY, "validity_period")
	p.RegisteredDelivery = d.u8("registered_delivery")
	p.ReplaceIfPresent = d.u8("replace_if_present_flag")
	p.DataCoding = d.u8("data_coding")
	p.SMDefaultMsgID = d.u8("sm_default_msg_id")
	p.ShortMessage = d.shortMessage()
	p.TLVs = d.tlvs()
	return d.result()
}

// UnsuccessSME is a destination of a submit_multi that the SMSC did not
// accept, with the reason.
type UnsuccessSME struct {
	TON, NPI byte
	// Addr is at most 20 characters.
	Addr string
	// Status is the error_status_code for this destination.
	Status Status
}

// SubmitMultiResp is the response to a [SubmitMulti] (SMPP 3.4 §4.5.2).
type SubmitMultiResp struct {
	Header
	// MessageID is the SMSC's id for the message; at most 64 characters.
	MessageID string
	// Unsuccess lists the destinations that failed, at most 255.
	Unsuccess []UnsuccessSME
	// TLVs are accepted as in SMPP 5.0; SMPP 3.4 defines none here.
	TLVs TLVs
}

// CommandID returns CmdSubmitMultiResp.
func (p *SubmitMultiResp) CommandID() CommandID { return CmdSubmitMultiResp }

func (p *SubmitMultiResp) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(p.MessageID, sizeMessageID, ESME_RINVMSGID, "message_id")
	if len(p.Unsuccess) > 255 {
		e.fail(ESME_RINVNUMDESTS, "no_unsuccess must be at most 255")
	}
	e.u8(byte(len(p.Unsuccess)))
	for _, u := range p.Unsuccess {
		e.u8(u.TON)
		e.u8(u.NPI)
		e.cstring(u.Addr, sizeAddr, ESME_RINVDSTADR, "destination_addr")
		e.u32(uint32(u.Status))
	}
	e.tlvs(p.TLVs)
	return e.result()
}

func (p *SubmitMultiResp) decodeBody(b []byte) error {
	d := newDecoder(b, len(b))
	p.MessageID = d.cstring(sizeMessageID, ESME_RINVMSGID, "message_id")
	n := int(d.u8("no_unsuccess"))
	if d.err == nil && n > 0 {
		// Each entry takes at least 7 octets.
		p.Unsuccess = make([]UnsuccessSME, 0, min(n, (len(b)-d.off)/7))
	}
	for i := 0; i < n && d.err == nil; i++ {
		var u UnsuccessSME
		u.TON = d.u8("dest_addr_ton")
		u.NPI = d.u8("dest_addr_npi")
		u.Addr = d.cstring(sizeAddr, ESME_RINVDSTADR, "destination_addr")
		u.Status = Status(d.u32("error_status_code"))
		p.Unsuccess = append(p.Unsuccess, u)
	}
	p.TLVs = d.tlvs()
	return d.result()
}
