package smpp

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestCommandIDs(t *testing.T) {
	// Every known id maps to a PDU of that id, and the names follow the
	// spec's request/response pattern.
	for id, name := range commandNames {
		p := New(id)
		if p == nil || p.CommandID() != id {
			t.Errorf("New(%v) = %#v", id, p)
		}
		if id.String() != name || !id.Known() {
			t.Errorf("%08x: String %q Known %v", uint32(id), id.String(), id.Known())
		}
		if id.IsResponse() != (id&0x80000000 != 0) {
			t.Errorf("%v.IsResponse wrong", id)
		}
		if id.IsResponse() && id != CmdGenericNack {
			req := id.Request()
			if !strings.HasSuffix(name, "_resp") || commandNames[req]+"_resp" != name {
				t.Errorf("%v does not answer %v", id, req)
			}
		}
	}
	if New(0x12345) != nil || CommandID(0x12345).Known() {
		t.Error("unknown id known")
	}
	if s := CommandID(0x104).String(); s != "command_id(0x00000104)" {
		t.Errorf("unknown String = %q", s)
	}
	for _, id := range []CommandID{CmdOutbind, CmdAlertNotification, CmdGenericNack, CmdSubmitSMResp} {
		if id.HasResponse() {
			t.Errorf("%v.HasResponse() = true", id)
		}
	}
	if !CmdSubmitSM.HasResponse() || CmdSubmitSM.Response() != CmdSubmitSMResp {
		t.Error("submit_sm response")
	}
}

func TestNewResponse(t *testing.T) {
	for _, req := range samplePDUs() {
		resp := NewResponse(req)
		id := req.CommandID()
		if !id.HasResponse() {
			if resp != nil {
				t.Errorf("NewResponse(%v) = %#v, want nil", id, resp)
			}
			continue
		}
		if resp == nil || resp.CommandID() != id.Response() {
			t.Fatalf("NewResponse(%v) = %#v", id, resp)
		}
		if resp.Hdr().Seq != req.Hdr().Seq || resp.Hdr().Status != ESME_ROK {
			t.Errorf("NewResponse(%v) header %+v", id, *resp.Hdr())
		}
		mustEncode(t, resp)
	}
	q := NewResponse(&QuerySM{Header: Header{Seq: 3}, MessageID: "m"}).(*QuerySMResp)
	if q.MessageID != "m" {
		t.Error("query_sm_resp does not carry the message_id")
	}
	b := NewResponse(&Bind{Kind: BindReceiver}).(*BindResp)
	if b.Kind != BindReceiver {
		t.Error("bind_resp kind")
	}
	if NewResponse(nil) != nil {
		t.Error("NewResponse(nil)")
	}
	r := NewErrorResponse(CmdSubmitSM, 5, ESME_RTHROTTLED)
	if !reflect.DeepEqual(r, &SubmitSMResp{Header: Header{Status: ESME_RTHROTTLED, Seq: 5}}) {
		t.Errorf("NewErrorResponse = %#v", r)
	}
	r = NewErrorResponse(0x999, 5, ESME_RINVCMDID)
	if !reflect.DeepEqual(r, &GenericNack{Header{Status: ESME_RINVCMDID, Seq: 5}}) {
		t.Errorf("NewErrorResponse unknown = %#v", r)
	}
}

func TestBindKind(t *testing.T) {
	for k, id := range map[BindKind]CommandID{BindTransmitter: CmdBindTransmitter,
		BindReceiver: CmdBindReceiver, BindTransceiver: CmdBindTransceiver} {
		if k.CommandID() != id || (&Bind{Kind: k}).CommandID() != id ||
			(&BindResp{Kind: k}).CommandID() != id.Response() {
			t.Errorf("%v: command ids", k)
		}
		if k.String() != strings.TrimPrefix(id.String(), "bind_") {
			t.Errorf("%v: String %q", id, k.String())
		}
	}
	if BindKind(0).CommandID() != 0 || BindKind(9).String() != "BindKind(09)" {
		t.Error("invalid kind")
	}
}

func TestStatus(t *testing.T) {
	if len(statusTable) != 48 {
		t.Errorf("%d statuses, SMPP 3.4 §5.1.3 defines 48", len(statusTable))
	}
	for s, info := range statusTable {
		if s.String() != info.name || !strings.HasPrefix(info.name, "ESME_R") || !s.Known() {
			t.Errorf("%#x: %q", uint32(s), s.String())
		}
		if s.Description() == "" || s.Error() != info.name {
			t.Errorf("%v: no description", s)
		}
	}
	spot := map[Status]uint32{ESME_ROK: 0, ESME_RINVMSGLEN: 1, ESME_RMSGQFUL: 0x14, ESME_RSUBMITFAIL: 0x45,
		ESME_RTHROTTLED: 0x58, ESME_RINVOPTPARSTREAM: 0xC0, ESME_RINVOPTPARAMVAL: 0xC4, ESME_RUNKNOWNERR: 0xFF,
		ESME_RINVDSTADR: 0x0B, ESME_RBINDFAIL: 0x0D, ESME_RSYSERR: 0x08, ESME_RINVPASWD: 0x0E, ESME_RALYBND: 5}
	for s, v := range spot {
		if uint32(s) != v {
			t.Errorf("%v = %#x, want %#x", s, uint32(s), v)
		}
	}
	if s := Status(0x401).String(); s != "ESME_VENDOR(0x00000401)" {
		t.Errorf("vendor: %q", s)
	}
	if s := Status(0x9).String(); s != "command_status(0x00000009)" {
		t.Errorf("reserved: %q", s)
	}
	if Status(0x9).Known() || !Status(0x4FF).VendorSpecific() || Status(0x500).VendorSpecific() {
		t.Error("Known/VendorSpecific")
	}
	if got := fmt.Sprint(ESME_RTHROTTLED); got != "ESME_RTHROTTLED" {
		t.Errorf("fmt.Sprint = %q", got)
	}
	var err error = ESME_RMSGQFUL
	var st Status
	if !errors.As(err, &st) || st != ESME_RMSGQFUL {
		t.Error("errors.As")
	}
	temporary := map[Status]bool{ESME_RTHROTTLED: true, ESME_RMSGQFUL: true, ESME_RX_T_APPN: true, ESME_RSYSERR: true}
	for s := range statusTable {
		if s.Temporary() != temporary[s] {
			t.Errorf("%v.Temporary() = %v", s, s.Temporary())
		}
	}
	if Status(0x401).Temporary() {
		t.Error("vendor status temporary")
	}
}

func TestSequence(t *testing.T) {
	var s Sequence
	if s.Next() != 1 || s.Next() != 2 {
		t.Fatal("does not start at 1")
	}
	s.n.Store(MaxSeq - 1)
	if s.Next() != MaxSeq || s.Next() != 1 {
		t.Fatal("does not wrap from MaxSeq to 1")
	}
	// Concurrent callers get distinct numbers.
	var mu sync.Mutex
	seen := map[uint32]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				n := s.Next()
				mu.Lock()
				if seen[n] {
					t.Errorf("duplicate %d", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 8000 {
		t.Fatalf("%d distinct numbers", len(seen))
	}
}

func TestConstants(t *testing.T) {
	if !IsReceipt(ESMClassReceipt) || !IsReceipt(ESMClassReceipt|ESMClassUDHI|ESMClassDatagram) ||
		!IsReceipt(ESMClassIntermediate) || IsReceipt(ESMClassUDHI) || IsReceipt(ESMClassDeliveryAck) {
		t.Error("IsReceipt")
	}
	d := &DeliverSM{ESMClass: ESMClassReceipt}
	if !d.IsReceipt() || (&DataSM{}).IsReceipt() {
		t.Error("DeliverSM/DataSM IsReceipt")
	}
	if StateDelivered.String() != "DELIVERED" || StateRejected.String() != "REJECTED" ||
		MessageState(42).String() != "MessageState(42)" {
		t.Error("MessageState.String")
	}
	for s := MessageState(0); s < 10; s++ {
		want := s >= 2 && s <= 8 && s != StateUnknown
		if s.Final() != want {
			t.Errorf("%v.Final() = %v", s, s.Final())
		}
	}
}
