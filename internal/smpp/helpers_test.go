package smpp

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// unhex decodes hex written with any spacing, for golden vectors.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// mkFrame builds a frame with a correct command_length around body.
func mkFrame(id CommandID, status Status, seq uint32, body ...[]byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(id))
	b = binary.BigEndian.AppendUint32(b, uint32(status))
	b = binary.BigEndian.AppendUint32(b, seq)
	for _, x := range body {
		b = append(b, x...)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

// cs is a C-octet string: s and a NUL.
func cs(s string) []byte { return append([]byte(s), 0) }

// tlv encodes one TLV.
func tlv(tag Tag, v ...byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(tag))
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// mustEncode encodes p or fails the test.
func mustEncode(t testing.TB, p PDU) []byte {
	t.Helper()
	b, err := AppendPDU(nil, p)
	if err != nil {
		t.Fatalf("encode %T: %v", p, err)
	}
	return b
}

// asDecodeError returns err as a *DecodeError or fails the test.
func asDecodeError(t testing.TB, err error) *DecodeError {
	t.Helper()
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
	}
	return de
}

// receiptTLVs are the TLVs of a typical delivery receipt.
func receiptTLVs() TLVs {
	var ts TLVs
	ts.SetReceiptedMessageID("abc123")
	ts.SetMessageState(StateDelivered)
	ts.SetNetworkErrorCode(NetworkError{Type: NetworkTypeGSM, Code: 0x0102})
	return ts
}

// samplePDUs returns one PDU of every command, with every field set to a
// non-zero value where the spec allows, including TLVs and unknown tags.
func samplePDUs() []PDU {
	hdr := func(seq uint32) Header { return Header{Seq: seq} }
	rhdr := func(seq uint32, st Status) Header { return Header{Seq: seq, Status: st} }
	all := TLVs{
		{TagUserMessageReference, []byte{0x12, 0x34}},
		{TagSourcePort, []byte{0x0B, 0x84}},
		{TagDestinationPort, []byte{0x23, 0xF0}},
		{TagSarMsgRefNum, []byte{0, 7}},
		{TagSarTotalSegments, []byte{3}},
		{TagSarSegmentSeqnum, []byte{2}},
		{TagPayloadType, []byte{0}},
		{TagMoreMessagesToSend, []byte{1}},
		{TagMsValidity, []byte{1}},
		{TagQosTimeToLive, []byte{0, 0, 0x0E, 0x10}},
		{TagAlertOnMessageDelivery, nil},
		{0x1401, []byte("vendor")},                  // vendor-specific, kept as is
		{TagCallbackNum, []byte{0, 1, 1, '3', '1'}}, // repeated tags are kept
		{TagCallbackNum, []byte{0, 1, 1, '4', '4'}},
	}
	return []PDU{
		&Bind{Header: hdr(1), Kind: BindTransmitter, SystemID: "omnigate_esme1", Password: "secret12",
			SystemType: "VMA", InterfaceVersion: InterfaceVersion34, AddrTON: 1, AddrNPI: 1, AddressRange: "^44.*"},
		&Bind{Header: hdr(2), Kind: BindReceiver, SystemID: "r", Password: "p", InterfaceVersion: 0x34},
		&Bind{Header: hdr(3), Kind: BindTransceiver, SystemID: "trx", Password: "pw", InterfaceVersion: 0x34},
		&BindResp{Header: hdr(1), Kind: BindTransmitter, SystemID: "SMSC", TLVs: TLVs{{TagScInterfaceVersion, []byte{0x34}}}},
		&BindResp{Header: hdr(2), Kind: BindReceiver, SystemID: "SMSC"},
		&BindResp{Header: rhdr(3, ESME_RINVPASWD), Kind: BindTransceiver},
		&Outbind{Header: hdr(4), SystemID: "smsc", Password: "pw"},
		&Unbind{Header: hdr(5)},
		&UnbindResp{Header: hdr(5)},
		&EnquireLink{Header: hdr(MaxSeq)},
		&EnquireLinkResp{Header: hdr(MaxSeq)},
		&GenericNack{Header: rhdr(6, ESME_RINVCMDID)},
		&SubmitSM{Header: hdr(7), ServiceType: "CMT", SourceTON: TONAlphanumeric, SourceNPI: NPIUnknown,
			SourceAddr: "Omnigate", DestTON: TONInternational, DestNPI: NPIISDN, DestAddr: "447700900123",
			ESMClass: ESMClassUDHI | ESMClassStoreAndForward, ProtocolID: 0x7F, PriorityFlag: 1,
			ScheduleDeliveryTime: "250101120000000+", ValidityPeriod: "000001000000000R",
			RegisteredDelivery: RegisteredDeliveryReceipt | RegisteredDeliveryIntermediate, ReplaceIfPresent: 1,
			DataCoding: DataCodingUCS2, SMDefaultMsgID: 9,
			ShortMessage: []byte{5, 0, 3, 0x2A, 2, 1, 0, 'H', 0, 'i'}, TLVs: all},
		&SubmitSMResp{Header: hdr(7), MessageID: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"},
		&SubmitSMResp{Header: rhdr(8, ESME_RTHROTTLED)},
		// An error submit_sm_resp is the header alone (SMPP 3.4 §4.4.2);
		// TLVs ride on a successful one (SMPP 5.0 allows them).
		&SubmitSMResp{Header: rhdr(8, ESME_ROK), MessageID: "x",
			TLVs: TLVs{{TagAdditionalStatusInfoText, cs("no route")}}},
		&SubmitMulti{Header: hdr(9), ServiceType: "WAP", SourceTON: 1, SourceNPI: 1, SourceAddr: "447700900000",
			Dests:    []DestAddr{SMEDest(1, 1, "447700900001"), DistListDest("friends"), SMEDest(2, 8, "0612")},
			ESMClass: 3, ProtocolID: 1, PriorityFlag: 2, ScheduleDeliveryTime: "991231235959948-",
			ValidityPeriod: "250101120000300+", RegisteredDelivery: 2, ReplaceIfPresent: 0, DataCoding: 3,
			SMDefaultMsgID: 1, ShortMessage: []byte("hello all"), TLVs: TLVs{{TagPrivacyIndicator, []byte{1}}}},
		&SubmitMultiResp{Header: hdr(9), MessageID: "m1", Unsuccess: []UnsuccessSME{
			{TON: 1, NPI: 1, Addr: "447700900001", Status: ESME_RINVDSTADR},
			{TON: 2, NPI: 8, Addr: "0612", Status: 0x0401}}},
		&DeliverSM{Header: hdr(10), SourceTON: 1, SourceNPI: 1, SourceAddr: "447700900123",
			DestTON: 5, DestAddr: "Omnigate", ESMClass: ESMClassReceipt, DataCoding: 0,
			ShortMessage: []byte("id:abc123 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:Hi"),
			TLVs:         receiptTLVs()},
		&DeliverSM{Header: hdr(11), ServiceType: "X", SourceTON: 1, SourceNPI: 1, SourceAddr: "447700900123",
			DestTON: 1, DestNPI: 1, DestAddr: "4470000", ProtocolID: 1, PriorityFlag: 3,
			ScheduleDeliveryTime: "250101120000000+", ValidityPeriod: "250101120000000-",
			RegisteredDelivery: 1, ReplaceIfPresent: 1, DataCoding: DataCodingLatin1, SMDefaultMsgID: 2,
			ShortMessage: []byte("caf\xe9")},
		&DeliverSMResp{Header: hdr(10)},
		&DeliverSMResp{Header: hdr(11), MessageID: "ignored", TLVs: TLVs{{0x1500, []byte{1, 2}}}},
		&DataSM{Header: hdr(12), ServiceType: "WAP", SourceTON: 1, SourceNPI: 1,
			SourceAddr: strings.Repeat("1", 64), DestTON: 1, DestNPI: 1, DestAddr: strings.Repeat("2", 64),
			ESMClass: 1, RegisteredDelivery: 1, DataCoding: 4,
			TLVs: TLVs{{TagMessagePayload, []byte(strings.Repeat("p", 300))}, {TagSourcePort, []byte{1, 2}}}},
		&DataSMResp{Header: rhdr(12, ESME_RDELIVERYFAILURE), MessageID: "d1", TLVs: TLVs{
			{TagDeliveryFailureReason, []byte{1}}, {TagNetworkErrorCode, []byte{3, 0, 0x22}},
			{TagAdditionalStatusInfoText, cs("absent subscriber")}, {TagDpfResult, []byte{1}}}},
		&QuerySM{Header: hdr(13), MessageID: "abc123", SourceTON: 5, SourceAddr: "Omnigate"},
		&QuerySMResp{Header: hdr(13), MessageID: "abc123", FinalDate: "250101120100000+",
			MessageState: StateUndeliverable, ErrorCode: 0x22},
		&CancelSM{Header: hdr(14), ServiceType: "CMT", MessageID: "abc123", SourceTON: 5,
			SourceAddr: "Omnigate", DestTON: 1, DestNPI: 1, DestAddr: "447700900123"},
		&CancelSMResp{Header: hdr(14)},
		&ReplaceSM{Header: hdr(15), MessageID: "abc123", SourceTON: 5, SourceAddr: "Omnigate",
			ScheduleDeliveryTime: "000000001000000R", ValidityPeriod: "000002000000000R",
			RegisteredDelivery: 1, SMDefaultMsgID: 3, ShortMessage: []byte("new text")},
		&ReplaceSMResp{Header: rhdr(15, ESME_RREPLACEFAIL)},
		&AlertNotification{Header: hdr(16), SourceTON: 1, SourceNPI: 1, SourceAddr: "447700900123",
			ESMETON: 1, ESMENPI: 1, ESMEAddr: "4470000", TLVs: TLVs{{TagMsAvailabilityStatus, []byte{0}}}},
	}
}
