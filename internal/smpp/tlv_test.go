package smpp

import (
	"reflect"
	"testing"
)

func TestTLVAccessors(t *testing.T) {
	var ts TLVs
	if _, ok := ts.ReceiptedMessageID(); ok {
		t.Fatal("empty TLVs has a receipted_message_id")
	}
	ts.SetReceiptedMessageID("abc")
	ts.SetMessageState(StateExpired)
	ts.SetNetworkErrorCode(NetworkError{Type: NetworkTypeGSM, Code: 0xABCD})
	ts.SetMessagePayload([]byte("payload"))
	ts.SetSAR(SAR{Ref: 0x1234, Total: 3, Seq: 2})
	ts.SetUserMessageReference(77)
	ts.SetSourcePort(2948)
	ts.SetDestinationPort(9200)
	ts.SetScInterfaceVersion(0x34)
	ts.SetUint32(TagQosTimeToLive, 3600)
	ts.SetCString(TagAdditionalStatusInfoText, "info")

	want := TLVs{
		{TagReceiptedMessageID, []byte("abc\x00")},
		{TagMessageState, []byte{3}},
		{TagNetworkErrorCode, []byte{3, 0xAB, 0xCD}},
		{TagMessagePayload, []byte("payload")},
		{TagSarMsgRefNum, []byte{0x12, 0x34}},
		{TagSarTotalSegments, []byte{3}},
		{TagSarSegmentSeqnum, []byte{2}},
		{TagUserMessageReference, []byte{0, 77}},
		{TagSourcePort, []byte{0x0B, 0x84}},
		{TagDestinationPort, []byte{0x23, 0xF0}},
		{TagScInterfaceVersion, []byte{0x34}},
		{TagQosTimeToLive, []byte{0, 0, 0x0E, 0x10}},
		{TagAdditionalStatusInfoText, []byte("info\x00")},
	}
	if !reflect.DeepEqual(ts, want) {
		t.Fatalf("wire form:\n got %v\nwant %v", ts, want)
	}
	if v, ok := ts.ReceiptedMessageID(); !ok || v != "abc" {
		t.Errorf("ReceiptedMessageID %q %v", v, ok)
	}
	if v, ok := ts.MessageState(); !ok || v != StateExpired {
		t.Errorf("MessageState %v %v", v, ok)
	}
	if v, ok := ts.NetworkErrorCode(); !ok || v != (NetworkError{3, 0xABCD}) {
		t.Errorf("NetworkErrorCode %v %v", v, ok)
	}
	if v, ok := ts.MessagePayload(); !ok || string(v) != "payload" {
		t.Errorf("MessagePayload %q %v", v, ok)
	}
	if v, ok := ts.SAR(); !ok || v != (SAR{0x1234, 3, 2}) {
		t.Errorf("SAR %v %v", v, ok)
	}
	r, _ := ts.SarMsgRefNum()
	tot, _ := ts.SarTotalSegments()
	sq, _ := ts.SarSegmentSeqnum()
	if r != 0x1234 || tot != 3 || sq != 2 {
		t.Errorf("SAR fields %d %d %d", r, tot, sq)
	}
	if v, _ := ts.UserMessageReference(); v != 77 {
		t.Errorf("UserMessageReference %d", v)
	}
	if v, _ := ts.SourcePort(); v != 2948 {
		t.Errorf("SourcePort %d", v)
	}
	if v, _ := ts.DestinationPort(); v != 9200 {
		t.Errorf("DestinationPort %d", v)
	}
	if v, _ := ts.ScInterfaceVersion(); v != 0x34 {
		t.Errorf("ScInterfaceVersion %#x", v)
	}
	if v, _ := ts.Uint32(TagQosTimeToLive); v != 3600 {
		t.Errorf("qos_time_to_live %d", v)
	}
	if v, _ := ts.AdditionalStatusInfoText(); v != "info" {
		t.Errorf("AdditionalStatusInfoText %q", v)
	}
	// The whole set encodes and decodes unchanged.
	p := &DeliverSM{TLVs: ts}
	if got, err := Decode(mustEncode(t, p)); err != nil || !reflect.DeepEqual(got.(*DeliverSM).TLVs, ts) {
		t.Fatalf("round trip: %v", err)
	}
}

func TestTLVSetReplacesAndDeletes(t *testing.T) {
	ts := TLVs{{TagSourcePort, []byte{0, 1}}, {0x1401, []byte("a")}, {TagSourcePort, []byte{0, 2}},
		{TagCallbackNum, []byte("1234")}}
	ts.SetSourcePort(9)
	want := TLVs{{TagSourcePort, []byte{0, 9}}, {0x1401, []byte("a")}, {TagCallbackNum, []byte("1234")}}
	if !reflect.DeepEqual(ts, want) {
		t.Fatalf("Set: %v", ts)
	}
	ts.Add(TagCallbackNum, []byte("5678"))
	if len(ts) != 4 || !ts.Has(TagCallbackNum) {
		t.Fatalf("Add: %v", ts)
	}
	ts.Delete(TagCallbackNum)
	if len(ts) != 2 || ts.Has(TagCallbackNum) {
		t.Fatalf("Delete: %v", ts)
	}
	ts.Delete(0x9999)
	if len(ts) != 2 {
		t.Fatal("Delete of a missing tag changed the list")
	}
}

func TestTLVGettersRejectWrongLengths(t *testing.T) {
	ts := TLVs{{TagMessageState, []byte{1, 2}}, {TagSourcePort, []byte{1}},
		{TagNetworkErrorCode, []byte{1}}, {TagQosTimeToLive, []byte{1}}}
	if _, ok := ts.MessageState(); ok {
		t.Error("2-octet message_state")
	}
	if _, ok := ts.SourcePort(); ok {
		t.Error("1-octet source_port")
	}
	if _, ok := ts.NetworkErrorCode(); ok {
		t.Error("1-octet network_error_code")
	}
	if _, ok := ts.Uint32(TagQosTimeToLive); ok {
		t.Error("1-octet qos_time_to_live")
	}
	if _, ok := ts.SAR(); ok {
		t.Error("SAR without its TLVs")
	}
	ts.SetSarMsgRefNum(1)
	ts.SetSarTotalSegments(2)
	if _, ok := ts.SAR(); ok {
		t.Error("SAR without sar_segment_seqnum")
	}
	ts.SetSarSegmentSeqnum(2)
	if s, ok := ts.SAR(); !ok || s != (SAR{1, 2, 2}) {
		t.Errorf("SAR %+v %v", s, ok)
	}
	if _, ok := ts.CString(TagReceiptedMessageID); ok {
		t.Error("missing C string")
	}
}

func TestTagNamesAndLengths(t *testing.T) {
	if TagMessageState.String() != "message_state" || Tag(0x1401).String() != "tag(0x1401)" {
		t.Error("Tag.String")
	}
	if !TagItsSessionInfo.Known() || Tag(0x1401).Known() {
		t.Error("Tag.Known")
	}
	if len(tagTable) != 44 {
		t.Errorf("%d tags, SMPP 3.4 defines 44", len(tagTable))
	}
	// The fast path of tagLens agrees with the table.
	for tag, info := range tagTable {
		got, ok := tagLens(tag)
		if !ok || got.min != info.min || got.max != info.max {
			t.Errorf("%v: tagLens %+v, table %+v", tag, got, info)
		}
		if info.min > 0 && checkTLV(tag, make([]byte, info.min-1)) == nil {
			t.Errorf("%v: accepts %d octets", tag, info.min-1)
		}
		if info.max < anyLen && checkTLV(tag, make([]byte, info.max+1)) == nil {
			t.Errorf("%v: accepts %d octets", tag, info.max+1)
		}
		if checkTLV(tag, make([]byte, info.max)) != nil || checkTLV(tag, make([]byte, info.min)) != nil {
			t.Errorf("%v: rejects a valid length", tag)
		}
	}
	fixed := map[Tag]int{TagReceiptedMessageID: -1, TagMessageState: 1, TagNetworkErrorCode: 3,
		TagSarMsgRefNum: 2, TagSarTotalSegments: 1, TagSarSegmentSeqnum: 1, TagUserMessageReference: 2,
		TagSourcePort: 2, TagDestinationPort: 2, TagScInterfaceVersion: 1, TagPayloadType: 1,
		TagMoreMessagesToSend: 1, TagQosTimeToLive: 4, TagDestTelematicsID: 2, TagSmsSignal: 2}
	for tag, n := range fixed {
		if n < 0 {
			continue
		}
		if info := tagTable[tag]; info.min != n || info.max != n {
			t.Errorf("%v: %+v, want %d octets", tag, info, n)
		}
	}
	if tagTable[TagReceiptedMessageID].max != 65 {
		t.Error("receipted_message_id max")
	}
}
