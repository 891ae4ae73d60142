package smpp

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
)

// submitBody returns a valid submit_sm body whose fields can be replaced.
type submitParts struct {
	serviceType, source, dest, sched, validity []byte
	smLen                                      []byte
	sm, tlvs                                   []byte
}

func (s submitParts) body() []byte {
	var b []byte
	b = append(b, s.serviceType...)
	b = append(b, 1, 1)
	b = append(b, s.source...)
	b = append(b, 1, 1)
	b = append(b, s.dest...)
	b = append(b, 0, 0, 0)
	b = append(b, s.sched...)
	b = append(b, s.validity...)
	b = append(b, 1, 0, 0, 0)
	b = append(b, s.smLen...)
	b = append(b, s.sm...)
	return append(b, s.tlvs...)
}

func okSubmit() submitParts {
	return submitParts{cs(""), cs("4477"), cs("4488"), cs(""), cs(""), []byte{2}, []byte("hi"), nil}
}

func TestDecodeStrictness(t *testing.T) {
	long := func(n int) []byte { return []byte(strings.Repeat("a", n)) }
	sub := func(f func(*submitParts)) []byte {
		s := okSubmit()
		f(&s)
		return mkFrame(CmdSubmitSM, 0, 77, s.body())
	}
	bindBody := func(sysID, pw, sysType []byte) []byte {
		// Up to address_range, which the cases append.
		return append(append(append(append([]byte{}, sysID...), pw...), sysType...), 0x34, 0, 0)
	}
	nul := []byte{0}
	tests := []struct {
		name   string
		frame  []byte
		status Status
		seq    uint32
		fatal  bool
		resp   CommandID // the command of DecodeError.Response()
	}{
		// Header and length.
		{"empty frame", nil, ESME_RINVCMDLEN, 0, true, CmdGenericNack},
		{"15 bytes", make([]byte, 15), ESME_RINVCMDLEN, 0, true, CmdGenericNack},
		{"command_length 15", unhex(t, "0000000F 00000015 00000000 00000003"), ESME_RINVCMDLEN, 3, true, CmdGenericNack},
		{"command_length longer than frame", unhex(t, "00000011 00000015 00000000 00000003"), ESME_RINVCMDLEN, 3, true, CmdGenericNack},
		{"command_length shorter than frame", unhex(t, "00000010 00000015 00000000 00000003 00"), ESME_RINVCMDLEN, 3, true, CmdGenericNack},
		{"command_length huge", unhex(t, "FFFFFFFF 00000004 00000000 00000003"), ESME_RINVCMDLEN, 3, true, CmdGenericNack},
		{"unknown command", mkFrame(0x00000104, 0, 9), ESME_RINVCMDID, 9, false, CmdGenericNack},
		{"unknown response", mkFrame(0x80000104, 0, 9), ESME_RINVCMDID, 9, false, CmdGenericNack},
		{"command id 0", mkFrame(0, 0, 9), ESME_RINVCMDID, 9, false, CmdGenericNack},
		{"enquire_link with a body", mkFrame(CmdEnquireLink, 0, 4, []byte{0}), ESME_RINVCMDLEN, 4, false, CmdEnquireLinkResp},
		{"unbind with a body", mkFrame(CmdUnbind, 0, 4, []byte{1, 2, 3}), ESME_RINVCMDLEN, 4, false, CmdUnbindResp},
		{"generic_nack with a body", mkFrame(CmdGenericNack, 3, 4, []byte{1}), ESME_RINVCMDLEN, 4, false, 0}, // never answered
		{"cancel_sm_resp with a body", mkFrame(CmdCancelSMResp, 0, 4, cs("")), ESME_RINVCMDLEN, 4, false, CmdGenericNack},

		// Bind fields.
		{"system_id 16 chars", mkFrame(CmdBindTransmitter, 0, 1, bindBody(long(16), cs("pw"), cs("")), nul), ESME_RINVSYSID, 1, false, CmdBindTransmitterResp},
		{"password 9 chars", mkFrame(CmdBindReceiver, 0, 1, bindBody(cs("id"), long(9), cs("")), nul), ESME_RINVPASWD, 1, false, CmdBindReceiverResp},
		{"system_type 13 chars", mkFrame(CmdBindTransceiver, 0, 1, bindBody(cs("id"), cs("pw"), long(13)), nul), ESME_RINVSYSTYP, 1, false, CmdBindTransceiverResp},
		{"address_range 41 chars", mkFrame(CmdBindTransmitter, 0, 1, bindBody(cs("id"), cs("pw"), cs("")), long(41)), ESME_RBINDFAIL, 1, false, CmdBindTransmitterResp},
		{"bind truncated in system_id", mkFrame(CmdBindTransmitter, 0, 1, []byte("abc")), ESME_RINVCMDLEN, 1, false, CmdBindTransmitterResp},
		{"bind truncated before interface_version", mkFrame(CmdBindTransmitter, 0, 1, cs("id"), cs("pw"), cs("")), ESME_RINVCMDLEN, 1, false, CmdBindTransmitterResp},
		{"bind trailing byte", mkFrame(CmdBindTransmitter, 0, 1, bindBody(cs("id"), cs("pw"), cs("")), nul, []byte{0xFF}), ESME_RINVCMDLEN, 1, false, CmdBindTransmitterResp},
		{"bind without body", mkFrame(CmdBindTransmitter, 0, 1), ESME_RINVCMDLEN, 1, false, CmdBindTransmitterResp},
		{"bind_resp system_id 16 chars", mkFrame(CmdBindTransmitterResp, 0, 1, long(16), []byte{0}), ESME_RINVSYSID, 1, false, CmdGenericNack},
		{"outbind password too long", mkFrame(CmdOutbind, 0, 1, cs("id"), long(9), []byte{0}), ESME_RINVPASWD, 1, false, CmdGenericNack},

		// submit_sm fields.
		{"service_type 6 chars", sub(func(s *submitParts) { s.serviceType = cs("ABCDEF") }), ESME_RINVSERTYP, 77, false, CmdSubmitSMResp},
		{"source_addr 21 chars", sub(func(s *submitParts) { s.source = cs(string(long(21))) }), ESME_RINVSRCADR, 77, false, CmdSubmitSMResp},
		{"destination_addr 21 chars", sub(func(s *submitParts) { s.dest = cs(string(long(21))) }), ESME_RINVDSTADR, 77, false, CmdSubmitSMResp},
		{"schedule_delivery_time 15 chars", sub(func(s *submitParts) { s.sched = cs("250101120000000") }), ESME_RINVSCHED, 77, false, CmdSubmitSMResp},
		{"schedule_delivery_time 17 chars", sub(func(s *submitParts) { s.sched = cs("250101120000000+0") }), ESME_RINVSCHED, 77, false, CmdSubmitSMResp},
		{"schedule_delivery_time bad suffix", sub(func(s *submitParts) { s.sched = cs("250101120000000X") }), ESME_RINVSCHED, 77, false, CmdSubmitSMResp},
		{"validity_period letters", sub(func(s *submitParts) { s.validity = cs("25010112000000a+") }), ESME_RINVEXPIRY, 77, false, CmdSubmitSMResp},
		{"sm_length 255", sub(func(s *submitParts) { s.smLen = []byte{255}; s.sm = long(255) }), ESME_RINVMSGLEN, 77, false, CmdSubmitSMResp},
		{"sm_length past the end", sub(func(s *submitParts) { s.smLen = []byte{3} }), ESME_RINVMSGLEN, 77, false, CmdSubmitSMResp},
		{"sm_length short leaves junk", sub(func(s *submitParts) { s.smLen = []byte{1} }), ESME_RINVOPTPARSTREAM, 77, false, CmdSubmitSMResp},
		{"missing sm_length", sub(func(s *submitParts) { s.smLen = nil; s.sm = nil }), ESME_RINVCMDLEN, 77, false, CmdSubmitSMResp},
		{"truncated in source_addr", mkFrame(CmdSubmitSM, 0, 77, cs(""), []byte{1, 1, '4', '4'}), ESME_RINVCMDLEN, 77, false, CmdSubmitSMResp},
		{"truncated TLV header", sub(func(s *submitParts) { s.tlvs = []byte{0x02, 0x04, 0x00} }), ESME_RINVOPTPARSTREAM, 77, false, CmdSubmitSMResp},
		{"TLV length past the end", sub(func(s *submitParts) { s.tlvs = []byte{0x14, 0x01, 0x00, 0x05, 1, 2} }), ESME_RINVOPTPARSTREAM, 77, false, CmdSubmitSMResp},
		{"user_message_reference 1 octet", sub(func(s *submitParts) { s.tlvs = tlv(TagUserMessageReference, 1) }), ESME_RINVPARLEN, 77, false, CmdSubmitSMResp},
		{"sar_total_segments 2 octets", sub(func(s *submitParts) { s.tlvs = tlv(TagSarTotalSegments, 0, 2) }), ESME_RINVPARLEN, 77, false, CmdSubmitSMResp},
		{"source_port 3 octets", sub(func(s *submitParts) { s.tlvs = tlv(TagSourcePort, 1, 2, 3) }), ESME_RINVPARLEN, 77, false, CmdSubmitSMResp},

		// deliver_sm receipts and their TLVs.
		{"message_state 2 octets", mkFrame(CmdDeliverSM, 0, 5, okSubmit().body(), tlv(TagMessageState, 0, 2)), ESME_RINVPARLEN, 5, false, CmdDeliverSMResp},
		{"message_state empty", mkFrame(CmdDeliverSM, 0, 5, okSubmit().body(), tlv(TagMessageState)), ESME_RINVPARLEN, 5, false, CmdDeliverSMResp},
		{"network_error_code 2 octets", mkFrame(CmdDeliverSM, 0, 5, okSubmit().body(), tlv(TagNetworkErrorCode, 3, 1)), ESME_RINVPARLEN, 5, false, CmdDeliverSMResp},
		{"receipted_message_id 66 octets", mkFrame(CmdDeliverSM, 0, 5, okSubmit().body(), tlv(TagReceiptedMessageID, cs(string(long(65)))...)), ESME_RINVPARLEN, 5, false, CmdDeliverSMResp},
		{"trailing TLV byte", mkFrame(CmdDeliverSM, 0, 5, okSubmit().body(), tlv(TagMessageState, 2), []byte{0}), ESME_RINVOPTPARSTREAM, 5, false, CmdDeliverSMResp},

		// Responses with message ids.
		{"message_id 65 chars", mkFrame(CmdSubmitSMResp, 0, 6, cs(string(long(65)))), ESME_RINVMSGID, 6, false, CmdGenericNack},
		{"message_id without NUL", mkFrame(CmdSubmitSMResp, 0, 6, []byte("abc")), ESME_RINVCMDLEN, 6, false, CmdGenericNack},
		{"submit_sm_resp ESME_ROK without body", mkFrame(CmdSubmitSMResp, 0, 6), ESME_RINVCMDLEN, 6, false, CmdGenericNack},
		{"data_sm_resp bad TLV", mkFrame(CmdDataSMResp, 0, 6, cs("id"), tlv(TagDeliveryFailureReason)), ESME_RINVPARLEN, 6, false, CmdGenericNack},
		{"query_sm_resp bad final_date", mkFrame(CmdQuerySMResp, 0, 6, cs("id"), cs("2501"), []byte{2, 0}), ESME_RINVSCHED, 6, false, CmdGenericNack},
		{"query_sm_resp missing error_code", mkFrame(CmdQuerySMResp, 0, 6, cs("id"), cs(""), []byte{2}), ESME_RINVCMDLEN, 6, false, CmdGenericNack},

		// submit_multi.
		{"number_of_dests 0", mkFrame(CmdSubmitMulti, 0, 8, cs(""), []byte{1, 1}, cs("44"), []byte{0}), ESME_RINVNUMDESTS, 8, false, CmdSubmitMultiResp},
		{"number_of_dests 255", mkFrame(CmdSubmitMulti, 0, 8, cs(""), []byte{1, 1}, cs("44"), []byte{255}), ESME_RINVNUMDESTS, 8, false, CmdSubmitMultiResp},
		{"dest_flag 3", mkFrame(CmdSubmitMulti, 0, 8, cs(""), []byte{1, 1}, cs("44"), []byte{1, 3}), ESME_RINVDESTFLAG, 8, false, CmdSubmitMultiResp},
		{"dl_name 21 chars", mkFrame(CmdSubmitMulti, 0, 8, cs(""), []byte{1, 1}, cs("44"), []byte{1, 2}, cs(string(long(21)))), ESME_RINVDLNAME, 8, false, CmdSubmitMultiResp},
		{"fewer dests than announced", mkFrame(CmdSubmitMulti, 0, 8, cs(""), []byte{1, 1}, cs("44"), []byte{200, 1, 1, 1}, cs("55")), ESME_RINVCMDLEN, 8, false, CmdSubmitMultiResp},
		{"unsuccess_sme truncated", mkFrame(CmdSubmitMultiResp, 0, 8, cs("m"), []byte{2, 1, 1}, cs("55"), []byte{0, 0, 0}), ESME_RINVCMDLEN, 8, false, CmdGenericNack},

		// Other requests.
		{"query_sm source_addr too long", mkFrame(CmdQuerySM, 0, 3, cs("id"), []byte{1, 1}, cs(string(long(21)))), ESME_RINVSRCADR, 3, false, CmdQuerySMResp},
		{"cancel_sm message_id too long", mkFrame(CmdCancelSM, 0, 3, cs(""), cs(string(long(65)))), ESME_RINVMSGID, 3, false, CmdCancelSMResp},
		{"replace_sm trailing TLV", mkFrame(CmdReplaceSM, 0, 3, cs("id"), []byte{1, 1}, cs("44"), cs(""), cs(""), []byte{0, 0, 1, 'x'}, tlv(TagSourcePort, 0, 1)), ESME_RINVCMDLEN, 3, false, CmdReplaceSMResp},
		{"data_sm source_addr 65 chars", mkFrame(CmdDataSM, 0, 3, cs(""), []byte{1, 1}, cs(string(long(65)))), ESME_RINVSRCADR, 3, false, CmdDataSMResp},
		{"alert_notification esme_addr 65 chars", mkFrame(CmdAlertNotification, 0, 3, []byte{1, 1}, cs("44"), []byte{1, 1}, cs(string(long(65)))), ESME_RINVDSTADR, 3, false, CmdGenericNack},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(tc.frame)
			if err == nil {
				t.Fatalf("decoded %#v, want an error", p)
			}
			if p != nil {
				t.Errorf("got PDU %#v with the error", p)
			}
			de := asDecodeError(t, err)
			if de.Status != tc.status || de.Seq != tc.seq || de.Fatal != tc.fatal {
				t.Fatalf("got status %v seq %d fatal %v (%v), want %v seq %d fatal %v",
					de.Status, de.Seq, de.Fatal, de, tc.status, tc.seq, tc.fatal)
			}
			resp := de.Response()
			if tc.resp == 0 {
				if resp != nil {
					t.Fatalf("Response() = %#v, want nil", resp)
				}
				return
			}
			if resp.CommandID() != tc.resp {
				t.Fatalf("Response() is %v, want %v", resp.CommandID(), tc.resp)
			}
			if h := resp.Hdr(); h.Status != tc.status || h.Seq != tc.seq {
				t.Fatalf("Response() header %+v", *h)
			}
			// The answer must itself be encodable.
			mustEncode(t, resp)
			if de.Error() == "" || de.Reason == "" {
				t.Fatal("empty error text")
			}
		})
	}
}

// TestDecodeLimits checks fields at exactly their maximum sizes.
func TestDecodeLimits(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	p := &SubmitSM{ServiceType: a(5), SourceAddr: a(20), DestAddr: a(20),
		ShortMessage: []byte(a(254)), ValidityPeriod: "991231235959948-"}
	got, err := Decode(mustEncode(t, p))
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("maximal submit_sm: %v", err)
	}
	b := &Bind{Kind: BindTransceiver, SystemID: a(15), Password: a(8), SystemType: a(12), AddressRange: a(40)}
	if got, err := Decode(mustEncode(t, b)); err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("maximal bind: %v", err)
	}
	r := &SubmitSMResp{MessageID: a(64)}
	if got, err := Decode(mustEncode(t, r)); err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("maximal message_id: %v", err)
	}
	// A receipted_message_id without its NUL (as some SMSCs send it) is
	// accepted and read whole.
	f := mkFrame(CmdDeliverSM, 0, 1, okSubmit().body(), tlv(TagReceiptedMessageID, []byte("abc")...))
	d, err := Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := d.(*DeliverSM).TLVs.ReceiptedMessageID(); !ok || id != "abc" {
		t.Fatalf("receipted_message_id without NUL: %q %v", id, ok)
	}
	// Unknown and vendor tags of any length are kept.
	f = mkFrame(CmdSubmitSM, 0, 1, okSubmit().body(), tlv(0x1401), tlv(0x7777, bytes.Repeat([]byte{9}, 300)...))
	if d, err := Decode(f); err != nil || len(d.(*SubmitSM).TLVs) != 2 {
		t.Fatalf("unknown tags: %v", err)
	}
}

func TestEncodeValidation(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name   string
		pdu    PDU
		status Status
	}{
		{"bind without kind", &Bind{SystemID: "x"}, ESME_RINVCMDID},
		{"bind_resp without kind", &BindResp{SystemID: "x"}, ESME_RINVCMDID},
		{"system_id 16", &Bind{Kind: BindTransmitter, SystemID: a(16)}, ESME_RINVSYSID},
		{"password 9", &Bind{Kind: BindTransmitter, Password: a(9)}, ESME_RINVPASWD},
		{"system_type 13", &Bind{Kind: BindTransmitter, SystemType: a(13)}, ESME_RINVSYSTYP},
		{"address_range 41", &Bind{Kind: BindTransmitter, AddressRange: a(41)}, ESME_RBINDFAIL},
		{"system_id with NUL", &Bind{Kind: BindTransmitter, SystemID: "a\x00b"}, ESME_RINVSYSID},
		{"service_type 6", &SubmitSM{ServiceType: a(6)}, ESME_RINVSERTYP},
		{"source_addr 21", &SubmitSM{SourceAddr: a(21)}, ESME_RINVSRCADR},
		{"destination_addr 21", &DeliverSM{DestAddr: a(21)}, ESME_RINVDSTADR},
		{"schedule 15", &SubmitSM{ScheduleDeliveryTime: "250101120000000"}, ESME_RINVSCHED},
		{"validity bad", &SubmitSM{ValidityPeriod: "2501011200000001"}, ESME_RINVEXPIRY},
		{"short_message 255", &SubmitSM{ShortMessage: make([]byte, 255)}, ESME_RINVMSGLEN},
		{"replace_sm short_message 255", &ReplaceSM{ShortMessage: make([]byte, 255)}, ESME_RINVMSGLEN},
		{"TLV wrong length", &SubmitSM{TLVs: TLVs{{TagSarMsgRefNum, []byte{1}}}}, ESME_RINVPARLEN},
		{"TLV too long", &SubmitSM{TLVs: TLVs{{TagMessagePayload, make([]byte, 65536)}}}, ESME_RINVPARLEN},
		{"message_id 65", &SubmitSMResp{MessageID: a(65)}, ESME_RINVMSGID},
		{"data_sm source_addr 65", &DataSM{SourceAddr: a(65)}, ESME_RINVSRCADR},
		{"submit_multi no dests", &SubmitMulti{}, ESME_RINVNUMDESTS},
		{"submit_multi 255 dests", &SubmitMulti{Dests: make([]DestAddr, 255)}, ESME_RINVNUMDESTS},
		{"submit_multi zero flag", &SubmitMulti{Dests: []DestAddr{{Addr: "1"}}}, ESME_RINVDESTFLAG},
		{"submit_multi dl with TON", &SubmitMulti{Dests: []DestAddr{{Flag: DestDistList, TON: 1, Addr: "x"}}}, ESME_RINVDESTFLAG},
		{"submit_multi dl_name 21", &SubmitMulti{Dests: []DestAddr{DistListDest(a(21))}}, ESME_RINVDLNAME},
		{"submit_multi_resp 256 unsuccess", &SubmitMultiResp{Unsuccess: make([]UnsuccessSME, 256)}, ESME_RINVNUMDESTS},
		{"query_sm_resp bad final_date", &QuerySMResp{FinalDate: "x"}, ESME_RINVSCHED},
		{"alert esme_addr 65", &AlertNotification{ESMEAddr: a(65)}, ESME_RINVDSTADR},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := AppendPDU(dst, tc.pdu)
			if err == nil {
				t.Fatalf("encoded % x, want an error", out)
			}
			ee, ok := err.(*EncodeError)
			if !ok || ee.Status != tc.status {
				t.Fatalf("got %v (%T), want status %v", err, err, tc.status)
			}
			if string(out) != "keep" {
				t.Fatalf("dst changed to %q", out)
			}
			if ee.Error() == "" {
				t.Fatal("empty error text")
			}
		})
	}
	if _, err := AppendPDU(nil, nil); err == nil {
		t.Fatal("nil PDU encoded")
	}
}

// TestTruncatedAndMutatedFrames cuts every sample PDU's body at every
// position (with a matching command_length) and flips every byte of it.
// Each result must either fail with a non-fatal DecodeError carrying the
// PDU's seq and an answer that encodes, or decode to a PDU that encodes
// back to exactly the same bytes.
func TestTruncatedAndMutatedFrames(t *testing.T) {
	check := func(t *testing.T, frame []byte, seq uint32, fatalOK bool) {
		t.Helper()
		p, err := Decode(frame)
		if err != nil {
			de := asDecodeError(t, err)
			if de.Status == ESME_ROK || (de.Fatal && !fatalOK) || (!de.Fatal && de.Seq != seq) {
				t.Fatalf("% x: %+v", frame, de)
			}
			if r := de.Response(); r != nil || de.CommandID != CmdGenericNack {
				mustEncode(t, r)
			}
			return
		}
		if p.Hdr().Status != ESME_ROK && p.CommandID().OmitsBodyOnError() {
			if b := mustEncode(t, p); len(b) != HeaderLen || !bytes.Equal(b[4:], frame[4:HeaderLen]) {
				t.Fatalf("% x decoded but re-encodes as % x, not its header alone", frame, b)
			}
			return
		}
		if b := mustEncode(t, p); len(frame) > HeaderLen && !bytes.Equal(b, frame) {
			t.Fatalf("% x decoded but re-encodes as % x", frame, b)
		}
	}
	for _, p := range samplePDUs() {
		frame := mustEncode(t, p)
		seq := p.Hdr().Seq
		for cut := HeaderLen; cut < len(frame); cut++ {
			f := mkFrame(p.CommandID(), p.Hdr().Status, seq, frame[HeaderLen:cut])
			check(t, f, seq, false)
		}
		for i := range frame {
			f := bytes.Clone(frame)
			f[i] ^= 0xFF
			// Flipping the length or the seq changes what is expected.
			check(t, f, parseHeader(f).seq, i < 4)
		}
	}
}

// TestHeaderOnlyPDUsRejectBodies checks every PDU that is only a header.
func TestHeaderOnlyPDUsRejectBodies(t *testing.T) {
	for _, id := range []CommandID{CmdGenericNack, CmdUnbind, CmdUnbindResp, CmdEnquireLink,
		CmdEnquireLinkResp, CmdCancelSMResp, CmdReplaceSMResp} {
		if _, err := Decode(mkFrame(id, 0, 1)); err != nil {
			t.Errorf("%v: %v", id, err)
		}
		_, err := Decode(mkFrame(id, 0, 1, []byte{0}))
		if de := asDecodeError(t, err); de.Status != ESME_RINVCMDLEN {
			t.Errorf("%v with a body: %v", id, de)
		}
	}
}

// TestDecoderStringFallback covers strings that lie past the shared string
// copy's bound.
func TestDecoderStringFallback(t *testing.T) {
	d := newDecoder([]byte("ab\x00cd\x00"), 2)
	if a, c := d.cstring(9, 0, "a"), d.cstring(9, 0, "c"); a != "ab" || c != "cd" || d.result() != nil {
		t.Fatalf("%q %q %v", a, c, d.err)
	}
	if fe := asFieldError(io.ErrShortWrite); fe.status != ESME_RSYSERR || fe.Error() == "" {
		t.Fatal("asFieldError")
	}
}
