package smpp

import (
	"bytes"
	"reflect"
	"testing"
)

func TestRoundTripEveryPDU(t *testing.T) {
	seen := map[CommandID]bool{}
	for _, p := range samplePDUs() {
		seen[p.CommandID()] = true
		t.Run(p.CommandID().String(), func(t *testing.T) {
			b := mustEncode(t, p)
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("decode: %v\n% x", err, b)
			}
			if !reflect.DeepEqual(got, p) {
				t.Fatalf("round trip differs:\n got %#v\nwant %#v", got, p)
			}
			if again := mustEncode(t, got); !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs:\n got % x\nwant % x", again, b)
			}
			// Appending to a non-empty buffer leaves its prefix alone.
			prefix := []byte("xyz")
			b2, err := AppendPDU(prefix, p)
			if err != nil || !bytes.Equal(b2[:3], prefix) || !bytes.Equal(b2[3:], b) {
				t.Fatalf("AppendPDU with prefix: %v % x", err, b2)
			}
		})
	}
	for id := range commandNames {
		if !seen[id] {
			t.Errorf("no sample PDU for %v", id)
		}
	}
}

// TestDecodeDoesNotAlias checks that decoded PDUs own their memory: the
// frame buffer is overwritten after decoding and the PDU must not change.
func TestDecodeDoesNotAlias(t *testing.T) {
	for _, p := range samplePDUs() {
		b := mustEncode(t, p)
		got, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			b[i] = 0xEE
		}
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("%v changed when the frame was overwritten", p.CommandID())
		}
	}
}

// TestDecodedSlicesAreCapped checks that appending to one decoded byte
// field cannot overwrite the next one.
func TestDecodedSlicesAreCapped(t *testing.T) {
	p := &SubmitSM{Header: Header{Seq: 1}, ShortMessage: []byte("abc"),
		TLVs: TLVs{{TagSourcePort, []byte{1, 2}}, {TagDestinationPort, []byte{3, 4}}}}
	got, err := Decode(mustEncode(t, p))
	if err != nil {
		t.Fatal(err)
	}
	s := got.(*SubmitSM)
	_ = append(s.ShortMessage, 'X', 'X', 'X', 'X', 'X', 'X')
	_ = append(s.TLVs[0].Value, 'Y', 'Y')
	if !reflect.DeepEqual(s, p) {
		t.Fatalf("append clobbered a neighbouring field: %#v", s)
	}
}

// Golden vectors, written out by hand from the SMPP 3.4 layouts (§4) and
// checked both ways: the PDU encodes to exactly these bytes and the bytes
// decode to exactly this PDU.
func TestGoldenVectors(t *testing.T) {
	concat := []byte{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'H', 'e', 'l', 'l', 'o'}
	var receiptTLV TLVs
	receiptTLV.SetReceiptedMessageID("abc123")
	receiptTLV.SetMessageState(StateDelivered)
	tests := []struct {
		name string
		pdu  PDU
		hex  string
	}{
		{"bind_transmitter", &Bind{Header: Header{Seq: 1}, Kind: BindTransmitter, SystemID: "test",
			Password: "pw", InterfaceVersion: 0x34}, `
			0000001D 00000002 00000000 00000001
			74657374 00       # system_id "test"
			7077 00           # password "pw"
			00                # system_type ""
			34                # interface_version
			00 00             # addr_ton, addr_npi
			00                # address_range ""`},
		{"bind_transceiver_resp", &BindResp{Header: Header{Seq: 1}, Kind: BindTransceiver, SystemID: "SMSC",
			TLVs: TLVs{{TagScInterfaceVersion, []byte{0x34}}}}, `
			0000001A 80000009 00000000 00000001
			534D5343 00       # system_id "SMSC"
			0210 0001 34      # sc_interface_version`},
		{"bind_receiver_resp error without body", &BindResp{Header: Header{Seq: 3, Status: ESME_RINVPASWD},
			Kind: BindReceiver}, `
			00000010 80000001 0000000E 00000003 # no body on an error (SMPP 3.4 §4.1.4)`},
		{"submit_sm_resp error without body", &SubmitSMResp{Header: Header{Seq: 5, Status: ESME_RINVDSTADR}}, `
			00000010 80000004 0000000B 00000005 # no body on an error (SMPP 3.4 §4.4.2)`},
		{"data_sm_resp error keeps its body", &DataSMResp{Header: Header{Seq: 5, Status: ESME_RINVDSTADR}}, `
			00000011 80000103 0000000B 00000005
			00                # message_id "" (§4.7.2 does not drop the body)`},
		{"enquire_link", &EnquireLink{Header: Header{Seq: 7}}, `
			00000010 00000015 00000000 00000007`},
		{"enquire_link_resp", &EnquireLinkResp{Header: Header{Seq: 7}}, `
			00000010 80000015 00000000 00000007`},
		{"generic_nack", &GenericNack{Header: Header{Seq: 5, Status: ESME_RINVCMDID}}, `
			00000010 80000000 00000003 00000005`},
		{"unbind", &Unbind{Header: Header{Seq: 0x7FFFFFFF}}, `
			00000010 00000006 00000000 7FFFFFFF`},
		{"submit_sm UDH part", &SubmitSM{Header: Header{Seq: 2}, SourceTON: 5, SourceAddr: "Omni",
			DestTON: 1, DestNPI: 1, DestAddr: "447700900123", ESMClass: 0x40, RegisteredDelivery: 1,
			ShortMessage: concat}, `
			0000003C 00000004 00000000 00000002
			00                        # service_type ""
			05 00 4F6D6E69 00         # source TON, NPI, "Omni"
			01 01 343437373030393030313233 00 # dest TON, NPI, "447700900123"
			40 00 00                  # esm_class UDHI, protocol_id, priority_flag
			00 00                     # schedule_delivery_time, validity_period
			01 00 00 00               # registered_delivery, replace_if_present, data_coding, sm_default_msg_id
			0B                        # sm_length 11
			050003 2A 02 01           # UDH: concat, ref 42, 2 parts, part 1
			48656C6C6F                # "Hello"`},
		{"submit_sm_resp", &SubmitSMResp{Header: Header{Seq: 2}, MessageID: "abc123"}, `
			00000017 80000004 00000000 00000002
			616263313233 00`},
		{"deliver_sm receipt", &DeliverSM{Header: Header{Seq: 9}, SourceTON: 1, SourceNPI: 1,
			SourceAddr: "447700900123", DestTON: 5, DestAddr: "Omni", ESMClass: 0x04,
			ShortMessage: []byte("id:abc123 stat:DELIVRD"), TLVs: receiptTLV}, `
			00000057 00000005 00000000 00000009
			00                        # service_type
			01 01 343437373030393030313233 00
			05 00 4F6D6E69 00
			04 00 00                  # esm_class: SMSC delivery receipt
			00 00
			00 00 00 00
			16                        # sm_length 22
			69643A616263313233 20 737461743A44454C49565244 # "id:abc123 stat:DELIVRD"
			001E 0007 616263313233 00 # receipted_message_id "abc123"
			0427 0001 02              # message_state DELIVERED`},
		{"deliver_sm_resp", &DeliverSMResp{Header: Header{Seq: 9}}, `
			00000011 80000005 00000000 00000009 00`},
		{"submit_multi", &SubmitMulti{Header: Header{Seq: 4}, SourceAddr: "A",
			Dests: []DestAddr{SMEDest(1, 1, "111"), DistListDest("dl")}, ShortMessage: []byte("x")}, `
			0000002C 00000021 00000000 00000004
			00 00 00 41 00            # service_type, source TON, NPI, "A"
			02                        # number_of_dests
			01 01 01 313131 00        # SME address 1/1 "111"
			02 646C 00                # distribution list "dl"
			00 00 00 00 00 00 00 00 00
			01 78                     # sm_length 1, "x"`},
		{"submit_multi_resp", &SubmitMultiResp{Header: Header{Seq: 4}, MessageID: "m1",
			Unsuccess: []UnsuccessSME{{TON: 1, NPI: 1, Addr: "111", Status: ESME_RINVDSTADR}}}, `
			0000001E 80000021 00000000 00000004
			6D31 00                   # message_id "m1"
			01                        # no_unsuccess
			01 01 313131 00 0000000B  # 1/1 "111" ESME_RINVDSTADR`},
		{"query_sm_resp", &QuerySMResp{Header: Header{Seq: 6}, MessageID: "a",
			FinalDate: "250102030405600+", MessageState: StateDelivered}, `
			00000025 80000003 00000000 00000006
			61 00                     # message_id "a"
			323530313032303330343035363030 2B 00 # final_date "250102030405600+"
			02 00                     # message_state DELIVERED, error_code`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var clean []string
			for _, line := range bytes.Split([]byte(tc.hex), []byte("\n")) {
				if i := bytes.IndexByte(line, '#'); i >= 0 {
					line = line[:i]
				}
				clean = append(clean, string(line))
			}
			want := unhex(t, joinLines(clean))
			got := mustEncode(t, tc.pdu)
			if !bytes.Equal(got, want) {
				t.Fatalf("encode:\n got % X\nwant % X", got, want)
			}
			p, err := Decode(want)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(p, tc.pdu) {
				t.Fatalf("decode:\n got %#v\nwant %#v", p, tc.pdu)
			}
		})
	}
}

func joinLines(ls []string) string {
	var b bytes.Buffer
	for _, l := range ls {
		b.WriteString(l)
		b.WriteByte(' ')
	}
	return b.String()
}

// TestDecodeErrorResponseWithoutBody covers the spec's allowance: a
// response with a non-zero status may have no body.
func TestDecodeErrorResponseWithoutBody(t *testing.T) {
	for _, id := range []CommandID{CmdBindTransmitterResp, CmdBindReceiverResp, CmdBindTransceiverResp,
		CmdSubmitSMResp, CmdSubmitMultiResp, CmdDeliverSMResp, CmdDataSMResp, CmdQuerySMResp,
		CmdGenericNack, CmdUnbindResp, CmdCancelSMResp, CmdReplaceSMResp, CmdEnquireLinkResp} {
		p, err := Decode(mkFrame(id, ESME_RSYSERR, 42))
		if err != nil {
			t.Errorf("%v with error status and no body: %v", id, err)
			continue
		}
		want := New(id)
		*want.Hdr() = Header{Status: ESME_RSYSERR, Seq: 42}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("%v: got %#v, want %#v", id, p, want)
		}
	}
	// deliver_sm_resp may omit its unused message_id even with ESME_ROK.
	if _, err := Decode(mkFrame(CmdDeliverSMResp, ESME_ROK, 1)); err != nil {
		t.Errorf("deliver_sm_resp ESME_ROK without body: %v", err)
	}
}

func TestAppendPDUDoesNotAllocate(t *testing.T) {
	p := benchSubmitSM()
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		buf, err = AppendPDU(buf[:0], p)
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("AppendPDU allocated %v times per run", allocs)
	}
}

// TestErrorResponseBodyNotReturned: SMPP 3.4 §4.1.2, §4.1.4, §4.1.6 (bind
// responses) and §4.4.2 (submit_sm_resp) say the body is not returned when
// command_status is not 0, so such an error response is 16 octets; the
// other responses keep their body (the spec drops it nowhere else).
func TestErrorResponseBodyNotReturned(t *testing.T) {
	headerOnly := map[CommandID]bool{CmdBindReceiverResp: true, CmdBindTransmitterResp: true,
		CmdBindTransceiverResp: true, CmdSubmitSMResp: true}
	for _, req := range []CommandID{CmdBindReceiver, CmdBindTransmitter, CmdBindTransceiver, CmdSubmitSM,
		CmdSubmitMulti, CmdDeliverSM, CmdDataSM, CmdQuerySM, CmdCancelSM, CmdReplaceSM, CmdUnbind, CmdEnquireLink} {
		resp := req.Response()
		if got := resp.OmitsBodyOnError(); got != headerOnly[resp] {
			t.Errorf("%v.OmitsBodyOnError() = %v", resp, got)
		}
		noBody := req == CmdCancelSM || req == CmdReplaceSM || req == CmdUnbind || req == CmdEnquireLink
		b := mustEncode(t, NewErrorResponse(req, 9, ESME_RSYSERR))
		if (headerOnly[resp] || noBody) != (len(b) == HeaderLen) {
			t.Errorf("error %v is %d octets: % x", resp, len(b), b)
		}
		if ok := mustEncode(t, NewResponse(New(req))); headerOnly[resp] && len(ok) == HeaderLen {
			t.Errorf("%v with ESME_ROK has no body", resp)
		}
	}
	// Fields set on an error response are not sent.
	b := mustEncode(t, &SubmitSMResp{Header: Header{Seq: 1, Status: ESME_RSUBMITFAIL}, MessageID: "abc"})
	if want := mkFrame(CmdSubmitSMResp, ESME_RSUBMITFAIL, 1); !bytes.Equal(b, want) {
		t.Errorf("submit_sm_resp with an error and a message id: % x, want % x", b, want)
	}
	b = mustEncode(t, &BindResp{Header: Header{Seq: 1, Status: ESME_RBINDFAIL}, Kind: BindTransceiver, SystemID: "smsc"})
	if want := mkFrame(CmdBindTransceiverResp, ESME_RBINDFAIL, 1); !bytes.Equal(b, want) {
		t.Errorf("bind_transceiver_resp with an error and a system_id: % x, want % x", b, want)
	}
}

// TestDecodeErrorResponseEitherForm: an ESME (omnigate's connectors) takes
// an error bind response or submit_sm_resp from an SMSC with no body, as
// the spec has it, or with one, as many SMSCs send it: an empty message_id,
// a message_id, TLVs.
func TestDecodeErrorResponseEitherForm(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		want  PDU
	}{
		{"submit_sm_resp header only", mkFrame(CmdSubmitSMResp, ESME_RINVDSTADR, 4),
			&SubmitSMResp{Header: Header{Seq: 4, Status: ESME_RINVDSTADR}}},
		{"submit_sm_resp empty message_id", mkFrame(CmdSubmitSMResp, ESME_RINVDSTADR, 4, cs("")),
			&SubmitSMResp{Header: Header{Seq: 4, Status: ESME_RINVDSTADR}}},
		{"submit_sm_resp message_id and TLV", mkFrame(CmdSubmitSMResp, ESME_RTHROTTLED, 4, cs("m1"),
			tlv(TagAdditionalStatusInfoText, cs("slow down")...)),
			&SubmitSMResp{Header: Header{Seq: 4, Status: ESME_RTHROTTLED}, MessageID: "m1",
				TLVs: TLVs{{TagAdditionalStatusInfoText, cs("slow down")}}}},
		{"bind_transmitter_resp header only", mkFrame(CmdBindTransmitterResp, ESME_RINVPASWD, 1),
			&BindResp{Header: Header{Seq: 1, Status: ESME_RINVPASWD}, Kind: BindTransmitter}},
		{"bind_transceiver_resp empty system_id", mkFrame(CmdBindTransceiverResp, ESME_RINVPASWD, 1, cs("")),
			&BindResp{Header: Header{Seq: 1, Status: ESME_RINVPASWD}, Kind: BindTransceiver}},
		{"bind_receiver_resp system_id", mkFrame(CmdBindReceiverResp, ESME_RBINDFAIL, 1, cs("SMSC")),
			&BindResp{Header: Header{Seq: 1, Status: ESME_RBINDFAIL}, Kind: BindReceiver, SystemID: "SMSC"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(tc.frame)
			if err != nil {
				t.Fatalf("% x: %v", tc.frame, err)
			}
			if !reflect.DeepEqual(p, tc.want) {
				t.Fatalf("got %#v, want %#v", p, tc.want)
			}
			// Read from a stream too, as a session does.
			p, err = ReadPDU(bytes.NewReader(tc.frame), 0)
			if err != nil || !reflect.DeepEqual(p, tc.want) {
				t.Fatalf("ReadPDU: %#v %v", p, err)
			}
		})
	}
}
