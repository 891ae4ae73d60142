package smpp

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// seedFrames are real frames for the fuzz corpora: every sample PDU, the
// benchmark PDUs, and a few malformed ones.
func seedFrames(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, p := range samplePDUs() {
		seeds = append(seeds, mustEncode(f, p))
	}
	seeds = append(seeds, mustEncode(f, benchSubmitSM()), benchReceipt(),
		mkFrame(CmdSubmitSMResp, ESME_RTHROTTLED, 3),
		mkFrame(CmdSubmitSMResp, ESME_RSUBMITFAIL, 3, cs("x"), tlv(TagAdditionalStatusInfoText, cs("no route")...)),
		mkFrame(CmdBindTransceiverResp, ESME_RINVPASWD, 1, cs("SMSC")),
		mkFrame(CmdSubmitSM, 0, 1, okSubmit().body(), tlv(TagMessageState, 1, 2)),
		mkFrame(0x104, 0, 1, []byte{1, 2, 3}),
		[]byte{0, 0, 0, 16, 0, 0, 0})
	return seeds
}

// FuzzDecode checks that Decode never panics, that every error is a
// *DecodeError whose Response can be sent, and that anything that decodes
// re-encodes to bytes that decode to an equal PDU and encode identically.
func FuzzDecode(f *testing.F) {
	for _, s := range seedFrames(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		orig := bytes.Clone(frame)
		p, err := Decode(frame)
		if !bytes.Equal(frame, orig) {
			t.Fatal("Decode modified its input")
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || p != nil {
				t.Fatalf("error %v (%T) with PDU %v", err, err, p)
			}
			if de.Status == ESME_ROK {
				t.Fatalf("error with status ESME_ROK: %v", de)
			}
			resp := de.Response()
			if resp == nil {
				if de.CommandID != CmdGenericNack || de.Fatal {
					t.Fatalf("no Response() for %v", de)
				}
				return
			}
			if _, err := AppendPDU(nil, resp); err != nil {
				t.Fatalf("Response() of %v does not encode: %v", de, err)
			}
			return
		}
		b, err := AppendPDU(nil, p)
		if err != nil {
			t.Fatalf("decoded %#v does not re-encode: %v", p, err)
		}
		p2, err := Decode(b)
		if err != nil {
			t.Fatalf("re-encoded % x does not decode: %v", b, err)
		}
		if p.Hdr().Status != ESME_ROK && p.CommandID().OmitsBodyOnError() {
			// A bind response or submit_sm_resp with an error is sent
			// as its header alone (SMPP 3.4 §4.1.2, §4.4.2), whatever
			// body it arrived with.
			want := New(p.CommandID())
			*want.Hdr() = *p.Hdr()
			if len(b) != HeaderLen || !reflect.DeepEqual(p2, want) {
				t.Fatalf("error response re-encodes as % x, decoding to %#v", b, p2)
			}
			return
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip differs:\n%#v\n%#v", p, p2)
		}
		b2, err := AppendPDU(nil, p2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("encoding is not stable: %v", err)
		}
		// A frame that decodes and carries a body re-encodes to itself:
		// the codec keeps everything. (Bodiless error responses other
		// than the above gain their empty fields.)
		if len(frame) > HeaderLen && !bytes.Equal(b, frame) {
			t.Fatalf("re-encoding differs from the input:\n got % x\nwant % x", b, frame)
		}
	})
}

// FuzzReadPDU feeds a stream split at a fuzzed position, in chunks of a
// fuzzed size, and checks that the Reader, ReadPDU and a whole-buffer
// Decode agree PDU by PDU.
func FuzzReadPDU(f *testing.F) {
	seeds := seedFrames(f)
	for i, s := range seeds {
		next := seeds[(i+1)%len(seeds)]
		f.Add(append(bytes.Clone(s), next...), uint16(i*7), uint8(i%5))
	}
	f.Fuzz(func(t *testing.T, stream []byte, split uint16, chunk uint8) {
		k := int(split) % (len(stream) + 1)
		mk := func() io.Reader {
			c := &chunkReader{}
			for _, part := range [][]byte{stream[:k], stream[k:]} {
				n := int(chunk) + 1
				for len(part) > 0 {
					m := min(n, len(part))
					c.chunks = append(c.chunks, bytes.Clone(part[:m]))
					part = part[m:]
				}
			}
			return c
		}
		const maxLen = 4096
		r1 := NewReader(mk(), maxLen)
		r2 := mk()
		rest := stream
		for range 64 {
			p1, err1 := r1.ReadPDU()
			p2, err2 := ReadPDU(r2, maxLen)
			if !reflect.DeepEqual(p1, p2) || !sameErr(err1, err2) {
				t.Fatalf("Reader and ReadPDU disagree: %v %v / %v %v", p1, err1, p2, err2)
			}
			// The reference: what the whole stream says at this point.
			var want PDU
			var wantErr error
			switch {
			case len(rest) == 0:
				wantErr = io.EOF
			case len(rest) < HeaderLen:
				wantErr = io.ErrUnexpectedEOF
			default:
				h := parseHeader(rest)
				n := int(h.length)
				switch {
				case n < HeaderLen || n > maxLen:
					wantErr = &DecodeError{CommandID: h.id, Seq: h.seq, Status: ESME_RINVCMDLEN, Fatal: true}
				case n > len(rest):
					wantErr = io.ErrUnexpectedEOF
				default:
					want, wantErr = Decode(rest[:n])
					rest = rest[n:]
				}
			}
			if !reflect.DeepEqual(p1, want) || !sameErr(err1, wantErr) {
				t.Fatalf("split read %v %v, whole-buffer decode %v %v", p1, err1, want, wantErr)
			}
			var de *DecodeError
			if err1 == nil || (errors.As(err1, &de) && !de.Fatal) {
				continue
			}
			return
		}
	})
}

// sameErr reports whether two read errors are the same: both nil, the
// same io error, or *DecodeErrors with the same command, seq, status and
// fatality.
func sameErr(a, b error) bool {
	var da, db *DecodeError
	if errors.As(a, &da) && errors.As(b, &db) {
		return da.CommandID == db.CommandID && da.Seq == db.Seq && da.Status == db.Status && da.Fatal == db.Fatal
	}
	return a == b
}

// FuzzConcatUDH checks that ParseConcat never panics, that what it finds
// re-encodes to a header that parses the same, and that every header
// AppendConcatUDH builds parses back to its input.
func FuzzConcatUDH(f *testing.F) {
	f.Add([]byte{5, 0, 3, 0x2A, 2, 1, 'h', 'i'}, uint16(0x2A), uint8(2), uint8(1), false)
	f.Add([]byte{6, 8, 4, 0x12, 0x34, 5, 5, 'h'}, uint16(0x1234), uint8(5), uint8(5), true)
	f.Add([]byte{11, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 0, 3, 7, 2, 2, 'x'}, uint16(7), uint8(2), uint8(2), false)
	f.Add([]byte{7, 0, 3, 1, 2, 1, 0x24, 5}, uint16(300), uint8(0), uint8(0), false)
	f.Add([]byte{}, uint16(0), uint8(1), uint8(1), false)
	f.Fuzz(func(t *testing.T, sm []byte, ref uint16, total, seq uint8, ref16 bool) {
		c, found, err := ParseConcat(sm)
		switch {
		case err != nil:
			if !errors.Is(err, ErrBadUDH) || found || c != (Concat{}) {
				t.Fatalf("error %v with %+v %v", err, c, found)
			}
		case found:
			if c.Total == 0 || c.Seq == 0 || c.Seq > c.Total || (!c.Ref16 && c.Ref > 255) {
				t.Fatalf("found invalid %+v", c)
			}
			h, err := AppendConcatUDH(nil, c)
			if err != nil {
				t.Fatalf("found %+v does not re-encode: %v", c, err)
			}
			if c2, ok, err := ParseConcat(h); err != nil || !ok || c2 != c {
				t.Fatalf("re-encoded %+v parses as %+v %v %v", c, c2, ok, err)
			}
		}
		// A header ParseUDH rejects is rejected by ParseConcat too.
		if _, _, uerr := ParseUDH(sm); uerr != nil && err == nil {
			t.Fatalf("ParseUDH: %v, but ParseConcat accepted", uerr)
		}
		in := Concat{Ref: ref, Total: total, Seq: seq, Ref16: ref16}
		h, err := AppendConcatUDH(nil, in)
		if err != nil {
			if in.check() == nil {
				t.Fatalf("valid %+v rejected: %v", in, err)
			}
			return
		}
		msg := append(h, sm...)
		got, ok, err := ParseConcat(msg)
		if err != nil || !ok || got != in {
			t.Fatalf("built %+v, parsed %+v %v %v", in, got, ok, err)
		}
		_, content, err := SplitUDH(msg)
		if err != nil || !bytes.Equal(content, sm) {
			t.Fatalf("content %q, want %q (%v)", content, sm, err)
		}
	})
}
