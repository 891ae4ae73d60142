package smpp

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
)

// chunkReader returns its chunks one Read at a time, never more than one
// chunk per call, however large the caller's buffer.
type chunkReader struct{ chunks [][]byte }

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.chunks) > 0 && len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	return n, nil
}

// readAll reads PDUs until an error and returns them with that error.
func readAll(r io.Reader) ([]PDU, error) {
	rd := NewReader(r, 0)
	var ps []PDU
	for {
		p, err := rd.ReadPDU()
		if err != nil {
			return ps, err
		}
		ps = append(ps, p)
	}
}

func TestReadSplitAtEveryPosition(t *testing.T) {
	for _, want := range samplePDUs() {
		frame := mustEncode(t, want)
		for i := 0; i <= len(frame); i++ {
			for _, name := range []string{"ReadPDU", "Reader"} {
				r := &chunkReader{chunks: [][]byte{bytes.Clone(frame[:i]), bytes.Clone(frame[i:])}}
				var got PDU
				var err error
				if name == "ReadPDU" {
					got, err = ReadPDU(r, 0)
				} else {
					got, err = NewReader(r, 0).ReadPDU()
				}
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s %v split at %d: %v\n got %#v", name, want.CommandID(), i, err, got)
				}
				if _, err := ReadPDU(r, 0); err != io.EOF {
					t.Fatalf("after the frame: %v, want io.EOF", err)
				}
			}
		}
	}
}

func TestReadStreamOneByteAtATime(t *testing.T) {
	var stream []byte
	var want []PDU
	for range 3 {
		for _, p := range samplePDUs() {
			stream = append(stream, mustEncode(t, p)...)
			want = append(want, p)
		}
	}
	for name, r := range map[string]io.Reader{
		"one byte":   iotest.OneByteReader(bytes.NewReader(stream)),
		"half reads": iotest.HalfReader(bytes.NewReader(stream)),
		"data + EOF": iotest.DataErrReader(bytes.NewReader(stream)),
		"whole":      bytes.NewReader(stream),
	} {
		got, err := readAll(r)
		if err != io.EOF {
			t.Fatalf("%s: stream ended with %v, want io.EOF", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %d PDUs, differing from the %d sent", name, len(got), len(want))
		}
	}
}

func TestReadTruncated(t *testing.T) {
	frame := mustEncode(t, samplePDUs()[0])
	for i := 1; i < len(frame); i++ {
		_, err := ReadPDU(iotest.OneByteReader(bytes.NewReader(frame[:i])), 0)
		if err != io.ErrUnexpectedEOF {
			t.Fatalf("frame cut at %d: %v, want io.ErrUnexpectedEOF", i, err)
		}
		_, err = NewReader(bytes.NewReader(frame[:i]), 0).ReadPDU()
		if err != io.ErrUnexpectedEOF {
			t.Fatalf("Reader, frame cut at %d: %v, want io.ErrUnexpectedEOF", i, err)
		}
	}
	if _, err := ReadPDU(bytes.NewReader(nil), 0); err != io.EOF {
		t.Fatalf("empty stream: %v, want io.EOF", err)
	}
	boom := errors.New("boom")
	_, err := ReadPDU(iotest.ErrReader(boom), 0)
	if err != boom {
		t.Fatalf("read error: %v, want boom", err)
	}
}

// limitedReader fails the test if more than max bytes are read from it.
type limitedReader struct {
	t   *testing.T
	r   io.Reader
	max int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.max -= n
	if l.max < 0 {
		l.t.Fatalf("read %d bytes past the header", -l.max)
	}
	return n, err
}

func TestReadRejectsBadLengthBeforeBody(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header string
		max    int
	}{
		{"above default max", "00010001 00000004 00000000 0000002A", 0},
		{"above given max", "00000401 00000004 00000000 0000002A", 1024},
		{"4 GiB", "FFFFFFFF 00000004 00000000 0000002A", 0},
		{"below header", "0000000F 00000004 00000000 0000002A", 0},
		{"zero", "00000000 00000004 00000000 0000002A", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A huge body follows; only the header may be read.
			stream := append(unhex(t, tc.header), make([]byte, 70000)...)
			for _, read := range []func(io.Reader) (PDU, error){
				func(r io.Reader) (PDU, error) { return ReadPDU(r, tc.max) },
				func(r io.Reader) (PDU, error) { return NewReader(r, tc.max).ReadPDU() },
			} {
				allocs := testing.AllocsPerRun(1, func() {
					_, err := read(&limitedReader{t: t, r: bytes.NewReader(stream), max: HeaderLen})
					de := asDecodeError(t, err)
					if de.Status != ESME_RINVCMDLEN || !de.Fatal || de.Seq != 42 || de.CommandID != CmdSubmitSM {
						t.Fatalf("got %+v", de)
					}
					if r := de.Response(); r.CommandID() != CmdGenericNack || r.Hdr().Seq != 42 {
						t.Fatalf("response %#v", r)
					}
				})
				if allocs > 10 {
					t.Fatalf("%v allocations for a rejected header", allocs)
				}
			}
		})
	}
	// Exactly the maximum is accepted.
	p := &SubmitSM{ShortMessage: make([]byte, 100)}
	frame := mustEncode(t, p)
	if _, err := ReadPDU(bytes.NewReader(frame), len(frame)); err != nil {
		t.Fatalf("frame of exactly maxLen: %v", err)
	}
	if _, err := ReadPDU(bytes.NewReader(frame), len(frame)-1); err == nil {
		t.Fatal("frame of maxLen+1 accepted")
	}
}

// TestReaderContinuesAfterBadPDU checks that a PDU that is read whole but
// does not decode leaves the stream in step.
func TestReaderContinuesAfterBadPDU(t *testing.T) {
	var stream []byte
	stream = append(stream, mkFrame(CmdEnquireLink, 0, 1)...)
	stream = append(stream, mkFrame(0x00000777, 0, 2, []byte("junk"))...)               // unknown command
	stream = append(stream, mkFrame(CmdSubmitSM, 0, 3, []byte{1, 2, 3, 4, 5, 6, 7})...) // bad body
	stream = append(stream, mkFrame(CmdEnquireLinkResp, 0, 4)...)
	r := NewReader(iotest.OneByteReader(bytes.NewReader(stream)), 0)
	want := []struct {
		seq    uint32
		status Status
	}{{1, 0}, {2, ESME_RINVCMDID}, {3, ESME_RINVSERTYP}, {4, 0}}
	for _, w := range want {
		p, err := r.ReadPDU()
		if w.status == ESME_ROK {
			if err != nil || p.Hdr().Seq != w.seq {
				t.Fatalf("seq %d: %v %#v", w.seq, err, p)
			}
			continue
		}
		de := asDecodeError(t, err)
		if de.Fatal || de.Seq != w.seq || de.Status != w.status {
			t.Fatalf("seq %d: got %+v", w.seq, de)
		}
	}
	if _, err := r.ReadPDU(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestReaderFrameReuse(t *testing.T) {
	a := mustEncode(t, &SubmitSMResp{Header: Header{Seq: 1}, MessageID: "first"})
	b := mustEncode(t, &EnquireLink{Header: Header{Seq: 2}})
	r := NewReader(bytes.NewReader(append(a, b...)), 0)
	p1, err := r.ReadPDU()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadPDU(); err != nil {
		t.Fatal(err)
	}
	if p1.(*SubmitSMResp).MessageID != "first" {
		t.Fatal("a decoded PDU changed when the reader's buffer was reused")
	}
	allocs := testing.AllocsPerRun(100, func() {
		r := NewReader(bytes.NewReader(a), 0)
		if _, err := r.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 3 {
		t.Fatalf("ReadFrame: %v allocations", allocs)
	}
}

// errWriter counts writes and fails after the first byte limit.
type countWriter struct {
	bytes.Buffer
	writes int
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

func TestWritePDU(t *testing.T) {
	var w countWriter
	for _, p := range samplePDUs() {
		if err := WritePDU(&w, p); err != nil {
			t.Fatal(err)
		}
	}
	if w.writes != len(samplePDUs()) {
		t.Fatalf("%d writes for %d PDUs", w.writes, len(samplePDUs()))
	}
	got, err := readAll(&w)
	if err != io.EOF || !reflect.DeepEqual(got, samplePDUs()) {
		t.Fatalf("read back: %v", err)
	}
	// An invalid PDU writes nothing.
	w.Reset()
	if err := WritePDU(&w, &SubmitSM{SourceAddr: string(make([]byte, 30))}); err == nil || w.Len() != 0 {
		t.Fatalf("invalid PDU: %v, %d bytes written", err, w.Len())
	}
	boom := errors.New("boom")
	if err := WritePDU(failWriter{boom}, &EnquireLink{}); err != boom {
		t.Fatalf("write error: %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// timeoutErr is a net.Error-like timeout.
type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o timeout" }
func (timeoutErr) Timeout() bool { return true }

// flakyReader returns a timeout before every other read, handing out at
// most n bytes per successful read.
type flakyReader struct {
	r    io.Reader
	n    int
	fail bool
}

func (f *flakyReader) Read(p []byte) (int, error) {
	f.fail = !f.fail
	if f.fail {
		return 0, timeoutErr{}
	}
	return f.r.Read(p[:min(len(p), f.n)])
}

// TestReaderResumesAfterTimeout checks that a read error in the middle of
// a PDU (as a read deadline produces) loses nothing: calling again resumes.
func TestReaderResumesAfterTimeout(t *testing.T) {
	var stream []byte
	want := samplePDUs()
	for _, p := range want {
		stream = append(stream, mustEncode(t, p)...)
	}
	for _, n := range []int{1, 3, 7, 16, 100} {
		r := NewReader(&flakyReader{r: bytes.NewReader(stream), n: n}, 0)
		var got []PDU
		timeouts := 0
		for {
			p, err := r.ReadPDU()
			if _, ok := err.(timeoutErr); ok {
				timeouts++
				continue
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("chunk %d: %v", n, err)
			}
			got = append(got, p)
		}
		if !reflect.DeepEqual(got, want) || timeouts == 0 {
			t.Fatalf("chunk %d: got %d PDUs after %d timeouts, want %d", n, len(got), timeouts, len(want))
		}
	}
}

func TestReaderFatalIsSticky(t *testing.T) {
	stream := append(unhex(t, "00000008 00000015 00000000 00000001"), mkFrame(CmdEnquireLink, 0, 2)...)
	r := NewReader(bytes.NewReader(stream), 0)
	_, err1 := r.ReadPDU()
	_, err2 := r.ReadPDU()
	if de := asDecodeError(t, err1); !de.Fatal || err2 != err1 {
		t.Fatalf("first %v, then %v", err1, err2)
	}
}
