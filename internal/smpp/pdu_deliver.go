package smpp

// DeliverSM is a deliver_sm request (SMPP 3.4 §4.6.1): the SMSC delivers a
// mobile-originated message or a delivery receipt to the ESME. Its fields
// are those of [SubmitSM] (the spec requires ScheduleDeliveryTime,
// ValidityPeriod, ReplaceIfPresent and SMDefaultMsgID to be empty or 0 in
// deliver_sm, but they are decoded as sent).
//
// A delivery receipt has ESMClass&ESMClassTypeMask == ESMClassReceipt (or
// ESMClassIntermediate for an intermediate notification), the receipt text
// in ShortMessage, and usually the receipted_message_id and message_state
// TLVs (see [DeliverSM.IsReceipt] and the TLVs accessors).
type DeliverSM struct {
	Header
	ServiceType          string
	SourceTON, SourceNPI byte
	SourceAddr           string
	DestTON, DestNPI     byte
	DestAddr             string
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

// CommandID returns CmdDeliverSM.
func (p *DeliverSM) CommandID() CommandID { return CmdDeliverSM }

// IsReceipt reports whether the deliver_sm is an SMSC delivery receipt or
// an intermediate delivery notification rather than a mobile-originated
// message.
func (p *DeliverSM) IsReceipt() bool { return IsReceipt(p.ESMClass) }

func (p *DeliverSM) appendBody(dst []byte) ([]byte, error) {
	return (*SubmitSM)(p).appendBody(dst)
}

func (p *DeliverSM) decodeBody(b []byte) error {
	return (*SubmitSM)(p).decodeBody(b)
}

// DeliverSMResp is the response to a [DeliverSM] (SMPP 3.4 §4.6.2).
// MessageID is unused and normally empty. Decoding accepts an empty body
// whatever the status, as many ESMEs send one.
type DeliverSMResp struct {
	Header
	MessageID string
	// TLVs are accepted as in SMPP 5.0; SMPP 3.4 defines none here.
	TLVs TLVs
}

// CommandID returns CmdDeliverSMResp.
func (p *DeliverSMResp) CommandID() CommandID { return CmdDeliverSMResp }

func (p *DeliverSMResp) appendBody(dst []byte) ([]byte, error) {
	return appendMessageIDResp(dst, p.MessageID, p.TLVs)
}

func (p *DeliverSMResp) decodeBody(b []byte) (err error) {
	p.MessageID, p.TLVs, err = decodeMessageIDResp(b)
	return err
}

// DataSM is a data_sm request (SMPP 3.4 §4.7.1), which either side may
// send. The message itself travels in the message_payload TLV. Its
// addresses may be up to 64 characters.
type DataSM struct {
	Header
	ServiceType          string
	SourceTON, SourceNPI byte
	SourceAddr           string
	DestTON, DestNPI     byte
	DestAddr             string
	ESMClass             byte
	RegisteredDelivery   byte
	DataCoding           byte
	TLVs                 TLVs
}

// CommandID returns CmdDataSM.
func (p *DataSM) CommandID() CommandID { return CmdDataSM }

// IsReceipt reports whether the data_sm is an SMSC delivery receipt or an
// intermediate delivery notification.
func (p *DataSM) IsReceipt() bool { return IsReceipt(p.ESMClass) }

func (p *DataSM) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(p.ServiceType, sizeServiceType, ESME_RINVSERTYP, "service_type")
	e.u8(p.SourceTON)
	e.u8(p.SourceNPI)
	e.cstring(p.SourceAddr, sizeAddr65, ESME_RINVSRCADR, "source_addr")
	e.u8(p.DestTON)
	e.u8(p.DestNPI)
	e.cstring(p.DestAddr, sizeAddr65, ESME_RINVDSTADR, "destination_addr")
	e.u8(p.ESMClass)
	e.u8(p.RegisteredDelivery)
	e.u8(p.DataCoding)
	e.tlvs(p.TLVs)
	return e.result()
}

func (p *DataSM) decodeBody(b []byte) error {
	d := newDecoder(b, sizeServiceType+2+sizeAddr65+2+sizeAddr65)
	p.ServiceType = d.cstring(sizeServiceType, ESME_RINVSERTYP, "service_type")
	p.SourceTON = d.u8("source_addr_ton")
	p.SourceNPI = d.u8("source_addr_npi")
	p.SourceAddr = d.cstring(sizeAddr65, ESME_RINVSRCADR, "source_addr")
	p.DestTON = d.u8("dest_addr_ton")
	p.DestNPI = d.u8("dest_addr_npi")
	p.DestAddr = d.cstring(sizeAddr65, ESME_RINVDSTADR, "destination_addr")
	p.ESMClass = d.u8("esm_class")
	p.RegisteredDelivery = d.u8("registered_delivery")
	p.DataCoding = d.u8("data_coding")
	p.TLVs = d.tlvs()
	return d.result()
}

// DataSMResp is the response to a [DataSM] (SMPP 3.4 §4.7.2).
type DataSMResp struct {
	Header
	// MessageID is the SMSC's id for the message; at most 64 characters.
	MessageID string
	// TLVs may hold delivery_failure_reason, network_error_code,
	// additional_status_info_text and dpf_result.
	TLVs TLVs
}

// CommandID returns CmdDataSMResp.
func (p *DataSMResp) CommandID() CommandID { return CmdDataSMResp }

func (p *DataSMResp) appendBody(dst []byte) ([]byte, error) {
	return appendMessageIDResp(dst, p.MessageID, p.TLVs)
}

func (p *DataSMResp) decodeBody(b []byte) (err error) {
	p.MessageID, p.TLVs, err = decodeMessageIDResp(b)
	return err
}
