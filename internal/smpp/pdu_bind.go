package smpp

// BindKind says which of the three bind operations a [Bind] or [BindResp]
// is. The zero value is not a valid kind: encoding a Bind without a Kind
// fails.
type BindKind uint8

// The bind kinds.
const (
	// BindTransmitter binds to submit messages (bind_transmitter, 0x02).
	BindTransmitter BindKind = iota + 1
	// BindReceiver binds to receive messages and receipts (bind_receiver,
	// 0x01).
	BindReceiver
	// BindTransceiver binds for both (bind_transceiver, 0x09).
	BindTransceiver
)

// String returns "transmitter", "receiver" or "transceiver".
func (k BindKind) String() string {
	switch k {
	case BindTransmitter:
		return "transmitter"
	case BindReceiver:
		return "receiver"
	case BindTransceiver:
		return "transceiver"
	}
	return "BindKind(" + hex8(uint32(k))[6:] + ")"
}

// CommandID returns the command id of the bind request of this kind, or 0
// for an invalid kind.
func (k BindKind) CommandID() CommandID {
	switch k {
	case BindTransmitter:
		return CmdBindTransmitter
	case BindReceiver:
		return CmdBindReceiver
	case BindTransceiver:
		return CmdBindTransceiver
	}
	return 0
}

// InterfaceVersion34 is the interface_version of SMPP 3.4 (0x34), sent in
// binds and in the sc_interface_version TLV. Values up to 0x33 mean 3.3 or
// earlier.
const InterfaceVersion34 = 0x34

// Bind is a bind_transmitter, bind_receiver or bind_transceiver request
// (SMPP 3.4 §4.1.1, §4.1.3, §4.1.5), chosen by Kind.
type Bind struct {
	Header
	Kind BindKind
	// SystemID identifies the ESME (the account name); at most 15
	// characters.
	SystemID string
	// Password; at most 8 characters.
	Password string
	// SystemType categorises the ESME, often empty; at most 12 characters.
	SystemType string
	// InterfaceVersion is the SMPP version, normally InterfaceVersion34.
	InterfaceVersion byte
	// AddrTON and AddrNPI qualify AddressRange.
	AddrTON, AddrNPI byte
	// AddressRange is the range of addresses served by a receiver, often
	// empty; at most 40 characters.
	AddressRange string
}

// CommandID returns the command id for the bind's Kind, or 0 if Kind is
// not set.
func (p *Bind) CommandID() CommandID { return p.Kind.CommandID() }

func (p *Bind) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(p.SystemID, sizeSystemID, ESME_RINVSYSID, "system_id")
	e.cstring(p.Password, sizePassword, ESME_RINVPASWD, "password")
	e.cstring(p.SystemType, sizeSystemType, ESME_RINVSYSTYP, "system_type")
	e.u8(p.InterfaceVersion)
	e.u8(p.AddrTON)
	e.u8(p.AddrNPI)
	e.cstring(p.AddressRange, sizeAddressRange, ESME_RBINDFAIL, "address_range")
	return e.result()
}

func (p *Bind) decodeBody(b []byte) error {
	d := newDecoder(b, sizeSystemID+sizePassword+sizeSystemType+3+sizeAddressRange)
	p.SystemID = d.cstring(sizeSystemID, ESME_RINVSYSID, "system_id")
	p.Password = d.cstring(sizePassword, ESME_RINVPASWD, "password")
	p.SystemType = d.cstring(sizeSystemType, ESME_RINVSYSTYP, "system_type")
	p.InterfaceVersion = d.u8("interface_version")
	p.AddrTON = d.u8("addr_ton")
	p.AddrNPI = d.u8("addr_npi")
	p.AddressRange = d.cstring(sizeAddressRange, ESME_RBINDFAIL, "address_range")
	return d.result()
}

// BindResp is the response to a [Bind] (bind_transmitter_resp,
// bind_receiver_resp or bind_transceiver_resp), chosen by Kind. With a
// Status other than ESME_ROK it is encoded as the header alone (SMPP 3.4
// §4.1.2, §4.1.4, §4.1.6: the body "is not returned"). An SMSC that
// rejects a bind may send no body (SystemID is then empty) or send one
// anyway (it is decoded).
type BindResp struct {
	Header
	Kind BindKind
	// SystemID identifies the SMSC; at most 15 characters.
	SystemID string
	// TLVs may hold sc_interface_version (see TLVs.ScInterfaceVersion).
	TLVs TLVs
}

// CommandID returns the response command id for Kind, or 0 if Kind is not
// set.
func (p *BindResp) CommandID() CommandID {
	if id := p.Kind.CommandID(); id != 0 {
		return id.Response()
	}
	return 0
}

func (p *BindResp) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(p.SystemID, sizeSystemID, ESME_RINVSYSID, "system_id")
	e.tlvs(p.TLVs)
	return e.result()
}

func (p *BindResp) decodeBody(b []byte) error {
	d := newDecoder(b, sizeSystemID)
	p.SystemID = d.cstring(sizeSystemID, ESME_RINVSYSID, "system_id")
	p.TLVs = d.tlvs()
	return d.result()
}

// Outbind is an outbind request (SMPP 3.4 §4.1.7): an SMSC asks the ESME
// to bind as a receiver. It has no response.
type Outbind struct {
	Header
	// SystemID identifies the SMSC; at most 15 characters.
	SystemID string
	// Password; at most 8 characters.
	Password string
}

// CommandID returns CmdOutbind.
func (p *Outbind) CommandID() CommandID { return CmdOutbind }

func (p *Outbind) appendBody(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.cstring(p.SystemID, sizeSystemID, ESME_RINVSYSID, "system_id")
	e.cstring(p.Password, sizePassword, ESME_RINVPASWD, "password")
	return e.result()
}

func (p *Outbind) decodeBody(b []byte) error {
	d := newDecoder(b, sizeSystemID+sizePassword)
	p.SystemID = d.cstring(sizeSystemID, ESME_RINVSYSID, "system_id")
	p.Password = d.cstring(sizePassword, ESME_RINVPASWD, "password")
	return d.result()
}
