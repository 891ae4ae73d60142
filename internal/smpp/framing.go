package smpp

import (
	"io"
	"strconv"
	"sync"
)

// ReadPDU reads exactly one PDU from r and decodes it, rejecting a
// command_length above maxLen (≤ 0 means [DefaultMaxLen]) before reading
// the body. The errors are those of [Reader.ReadFrame] and
// [Reader.ReadPDU], except that a read error in the middle of a PDU loses
// the part already read. A session should use a [Reader], which resumes
// after such errors and reuses its buffer; ReadPDU allocates a frame
// buffer on every call.
func ReadPDU(r io.Reader, maxLen int) (PDU, error) {
	var hdr [HeaderLen]byte
	h, err := readHeader(r, hdr[:], maxLen)
	if err != nil {
		return nil, err
	}
	body := make([]byte, h.length-HeaderLen)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, eofIsUnexpected(err)
	}
	return decodeFrame(h, body)
}

// Reader reads PDUs from a byte stream such as a TCP connection, one at a
// time, reusing one buffer. It reads exactly the bytes of each PDU and no
// more, so wrap a network connection in a bufio.Reader to avoid two small
// reads per PDU. A Reader is not safe for concurrent use.
//
// A read error such as a deadline timeout may strike in the middle of a
// PDU. The Reader keeps what it has read, so calling it again after such
// an error resumes the same PDU: a session can use read deadlines to
// notice idle links without losing its place in the stream.
type Reader struct {
	r   io.Reader
	max int
	buf []byte
	n   int   // octets of the current frame read so far
	err error // a fatal framing error, returned from then on
}

// NewReader returns a Reader of r that rejects any command_length above
// maxLen octets before reading the body, so a peer cannot make it
// allocate more than maxLen. maxLen ≤ 0 means [DefaultMaxLen].
func NewReader(r io.Reader, maxLen int) *Reader {
	if maxLen <= 0 {
		maxLen = DefaultMaxLen
	}
	return &Reader{r: r, max: maxLen}
}

// ReadFrame reads the next PDU's bytes, header included, without decoding
// them. The result is only valid until the next call.
//
// Errors: io.EOF when the stream ends cleanly between PDUs;
// io.ErrUnexpectedEOF when it ends inside one; any other read error as
// returned by the underlying reader (the next call resumes the PDU); a
// [*DecodeError] with Fatal set and Status ESME_RINVCMDLEN when the
// command_length is below 16 or above the maximum. Its Seq and CommandID
// are filled in from the header, so the session can answer with a
// generic_nack before closing; every later call returns the same error,
// since the stream has lost its frame boundary.
func (r *Reader) ReadFrame() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if cap(r.buf) < HeaderLen {
		r.buf = make([]byte, HeaderLen, 256)
	}
	if err := r.fill(HeaderLen); err != nil {
		return nil, err
	}
	h, err := checkLength(r.buf[:HeaderLen], r.max)
	if err != nil {
		r.err = err
		return nil, err
	}
	n := int(h.length)
	if cap(r.buf) < n {
		nb := make([]byte, n)
		copy(nb, r.buf[:r.n])
		r.buf = nb
	}
	if err := r.fill(n); err != nil {
		return nil, err
	}
	r.n = 0
	return r.buf[:n], nil
}

// fill reads until the current frame has n octets.
func (r *Reader) fill(n int) error {
	buf := r.buf[:n]
	for r.n < n {
		m, err := r.r.Read(buf[r.n:])
		r.n += m
		if r.n >= n {
			return nil
		}
		if err != nil {
			if err == io.EOF && r.n > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// ReadPDU reads and decodes the next PDU. The errors are those of
// [Reader.ReadFrame] and, for a frame that was read whole but does not
// decode, a [*DecodeError] with Fatal false: the stream is still in step,
// so the session answers with the error's Response and carries on.
func (r *Reader) ReadPDU() (PDU, error) {
	frame, err := r.ReadFrame()
	if err != nil {
		return nil, err
	}
	return decodeFrame(parseHeader(frame), frame[HeaderLen:])
}

// readHeader reads the 16-octet header into hdr and checks command_length.
func readHeader(r io.Reader, hdr []byte, maxLen int) (rawHeader, error) {
	if _, err := io.ReadFull(r, hdr); err != nil {
		return rawHeader{}, err
	}
	return checkLength(hdr, maxLen)
}

// checkLength parses a header and checks that command_length is at least
// 16 and at most maxLen (DefaultMaxLen if maxLen ≤ 0).
func checkLength(hdr []byte, maxLen int) (rawHeader, error) {
	if maxLen <= 0 {
		maxLen = DefaultMaxLen
	}
	h := parseHeader(hdr)
	if h.length < HeaderLen || uint64(h.length) > uint64(maxLen) {
		return h, &DecodeError{CommandID: h.id, Seq: h.seq, Status: ESME_RINVCMDLEN, Fatal: true,
			Reason: "command_length " + strconv.FormatUint(uint64(h.length), 10) +
				" is outside 16.." + strconv.Itoa(maxLen)}
	}
	return h, nil
}

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// bufPool holds encoding buffers for WritePDU.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// WritePDU encodes p and writes it to w with a single Write call, so that
// concurrent writers that serialise their calls never interleave PDUs. It
// encodes into a pooled buffer and does not allocate in the steady state.
// Encoding errors are [*EncodeError]s and nothing is written then.
func WritePDU(w io.Writer, p PDU) error {
	bp := bufPool.Get().(*[]byte)
	b, err := AppendPDU((*bp)[:0], p)
	if err == nil {
		_, err = w.Write(b)
	}
	if cap(b) <= DefaultMaxLen {
		*bp = b[:0]
		bufPool.Put(bp)
	}
	return err
}
