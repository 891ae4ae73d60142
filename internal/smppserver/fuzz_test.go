package smppserver

import (
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
	})
}
