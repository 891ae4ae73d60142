package smppserver

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/smpp"
)

// FuzzSubmit feeds frames to the decoder and the door's submit parser:
// whatever arrives, parsing never panics and a part number stays in range.
func FuzzSubmit(f *testing.F) {
	udh, _ := smpp.AppendConcatUDH(nil, smpp.Concat{Ref: 1, Total: 2, Seq: 1})
	for _, p := range []*smpp.SubmitSM{
		{SourceAddr: "Shop", DestAddr: "31612345678", ShortMessage: []byte("hi")},
		{SourceAddr: "Shop", DestAddr: "31612345678", ESMClass: smpp.ESMClassUDHI, ShortMessage: append(udh, 'x')},
		{SourceAddr: "Shop", DestAddr: "31612345678", DataCoding: smpp.DataCodingUCS2, ShortMessage: []byte{0, 'h'}},
		{SourceAddr: "Shop", DestAddr: "31612345678", DataCoding: smpp.DataCodingBinary, ESMClass: smpp.ESMClassUDHI,
			ShortMessage: []byte{0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x01, 0x02, 0x01, 0xDE, 0xAD}},
	} {
		b, err := smpp.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, frame []byte) {
		pdu, err := smpp.Decode(frame)
		if err != nil {
			return
		}
		p, ok := pdu.(*smpp.SubmitSM)
		if !ok {
			return
		}
		in, st := parse(p, now)
		if st == smpp.ESME_ROK && (in.seq < 1 || in.seq > in.total) {
			t.Fatalf("part %d of %d", in.seq, in.total)
		}
		if st == smpp.ESME_ROK && in.binary {
			// The hex body and header decode, and the header holds no
			// concatenation element (the connector writes its own).
			if _, err := hex.DecodeString(in.text); err != nil {
				t.Fatalf("binary body %q: %v", in.text, err)
			}
			if in.udh != "" {
				udh, err := hex.DecodeString(in.udh)
				if err != nil {
					t.Fatalf("udh %q: %v", in.udh, err)
				}
				ies, rest, err := smpp.ParseUDH(udh)
				if err != nil || len(rest) != 0 {
					t.Fatalf("udh %x does not parse: %v (%d octets after it)", udh, err, len(rest))
				}
				for _, ie := range ies {
					if ie.ID == smpp.IEConcat8 || ie.ID == smpp.IEConcat16 {
						t.Fatalf("udh %x keeps a concatenation element", udh)
					}
				}
			}
		}
	})
}
