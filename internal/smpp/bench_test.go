package smpp

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

// benchSubmitSM is a 160-character GSM message as a connector sends it.
func benchSubmitSM() *SubmitSM {
	return &SubmitSM{
		Header:     Header{Seq: 123456},
		SourceTON:  TONAlphanumeric,
		SourceAddr: "Omnigate",
		DestTON:    TONInternational, DestNPI: NPIISDN,
		DestAddr:           "447700900123",
		RegisteredDelivery: RegisteredDeliveryReceipt,
		DataCoding:         DataCodingDefault,
		ShortMessage:       []byte(strings.Repeat("Your omnigate code is 123456. ", 6)[:160]),
	}
}

func benchReceipt() []byte {
	p := &DeliverSM{Header: Header{Seq: 99}, SourceTON: 1, SourceNPI: 1, SourceAddr: "447700900123",
		DestTON: 5, DestAddr: "Omnigate", ESMClass: ESMClassReceipt,
		ShortMessage: []byte("id:6f1c2a9e-0b7d-4a5e-9c3f-2d8e1b4a7c60 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:Your omnigate code"),
	}
	p.TLVs.SetReceiptedMessageID("6f1c2a9e-0b7d-4a5e-9c3f-2d8e1b4a7c60")
	p.TLVs.SetMessageState(StateDelivered)
	b, err := Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	sinkPDU   PDU
	sinkBytes []byte
)

func BenchmarkEncodeSubmitSM(b *testing.B) {
	p := benchSubmitSM()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = AppendPDU(buf[:0], p)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
	sinkBytes = buf
}

func BenchmarkWritePDUSubmitSM(b *testing.B) {
	p := benchSubmitSM()
	b.ReportAllocs()
	for b.Loop() {
		if err := WritePDU(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSubmitSMResp(b *testing.B) {
	frame, _ := Marshal(&SubmitSMResp{Header: Header{Seq: 123456}, MessageID: "6f1c2a9e-0b7d-4a5e-9c3f-2d8e1b4a7c60"})
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		sinkPDU = p
	}
}

func BenchmarkDecodeDeliverSMReceipt(b *testing.B) {
	frame := benchReceipt()
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		sinkPDU = p
	}
}

func BenchmarkDecodeSubmitSM(b *testing.B) {
	frame, _ := Marshal(benchSubmitSM())
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		sinkPDU = p
	}
}

// BenchmarkReaderSubmitSMResp reads a stream of submit_sm_resp through a
// bufio.Reader, as a session does; the figures are per PDU.
func BenchmarkReaderSubmitSMResp(b *testing.B) {
	var stream []byte
	const n = 1024
	for i := range n {
		stream, _ = AppendPDU(stream, &SubmitSMResp{Header: Header{Seq: uint32(i + 1)},
			MessageID: "6f1c2a9e-0b7d-4a5e-9c3f-2d8e1b4a7c60"})
	}
	src := bytes.NewReader(stream)
	br := bufio.NewReader(src)
	r := NewReader(br, 0)
	b.SetBytes(int64(len(stream) / n))
	b.ReportAllocs()
	for b.Loop() {
		p, err := r.ReadPDU()
		if err == io.EOF {
			src.Reset(stream)
			br.Reset(src)
			p, err = r.ReadPDU()
		}
		if err != nil {
			b.Fatal(err)
		}
		sinkPDU = p
	}
}
