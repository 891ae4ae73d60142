package bounce

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
)

// ErrNotReport means the mail is neither a delivery report nor a
// complaint nor a recognisable bounce (an auto-reply, a person's answer).
var ErrNotReport = errors.New("bounce: not a delivery report or complaint")

// MaxParts bounds how many MIME parts a report is read through, and
// maxDepth how deeply multiparts nest: a report has three parts, a
// forwarded one a few more; garbage must not make parsing expensive.
const (
	MaxParts = 64
	maxDepth = 4
	// maxPart bounds what one part is read into memory (the caller
	// bounds the whole mail; this bounds work on a part).
	maxPart = 4 << 20
)

// Kind is what a report is.
type Kind string

// Report kinds.
const (
	KindDSN       Kind = "dsn"       // a multipart/report delivery-status notification
	KindPlain     Kind = "plain"     // a plain-text bounce (an MTA that sends no DSN)
	KindComplaint Kind = "complaint" // an ARF feedback report
)

// Report is a parsed mail that came back: a DSN, a plain bounce or a
// complaint.
type Report struct {
	Kind      Kind
	DSN       *DSN // Kind dsn or plain
	Complaint *ARF // Kind complaint
}

// DSN is a delivery status notification (RFC 3464), or what could be read
// from a plain-text bounce in the same shape.
type DSN struct {
	ReportingMTA string
	ArrivalDate  string
	Recipients   []Recipient
	// Original are the headers of the message the report is about, when
	// it included them (message/rfc822 or text/rfc822-headers); nil if not.
	Original mail.Header
	// MessageID is the original's Message-ID without angle brackets.
	MessageID string
	// Text is the human-readable part (the first text/plain), bounded.
	Text string
}

// Recipient is one recipient's fields of a DSN.
type Recipient struct {
	FinalRecipient    string // the address, without the "rfc822;" type
	OriginalRecipient string
	// Action is failed, delayed, delivered, relayed or expanded.
	Action string
	// Status is the enhanced status code ("5.1.1").
	Status string
	// Diagnostic is the remote server's answer without its type
	// ("550 5.1.1 user unknown"); Code the reply code in it, 0 if none.
	Diagnostic string
	Code       int
	RemoteMTA  string
	// Category classifies a failed or delayed action.
	Category Category
}

// Failed reports whether the recipient's delivery failed for good.
func (r Recipient) Failed() bool { return r.Action == "failed" }

// Delayed reports whether delivery is still being tried.
func (r Recipient) Delayed() bool { return r.Action == "delayed" }

// ARF is a feedback report (RFC 5965): a recipient complained.
type ARF struct {
	FeedbackType     string // abuse, fraud, virus, other, not-spam …
	UserAgent        string
	Version          string
	OriginalMailFrom string
	OriginalRcptTo   string
	ArrivalDate      string
	ReportedDomain   []string
	SourceIP         string
	// Original are the reported message's headers when included; nil if
	// not. MessageID is its Message-ID without angle brackets.
	Original  mail.Header
	MessageID string
	Text      string
}

// Parse reads a mail that came back and says what it is: a DSN, an ARF
// complaint, a plain-text bounce, or ErrNotReport. Malformed input gives an
// error, never a panic.
func Parse(raw []byte) (*Report, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, ErrNotReport
	}
	p := &parser{}
	if err := p.walk(textproto.MIMEHeader(msg.Header), msg.Body, 0); err != nil {
		return nil, err
	}
	switch {
	case p.feedback != nil:
		arf, err := p.arf()
		if err != nil {
			return nil, err
		}
		return &Report{Kind: KindComplaint, Complaint: arf}, nil
	case p.status != nil:
		d, err := p.dsn()
		if err != nil {
			return nil, err
		}
		return &Report{Kind: KindDSN, DSN: d}, nil
	}
	d := parsePlain(mail.Header(msg.Header), p.text)
	if d == nil {
		return nil, ErrNotReport
	}
	d.Original, d.MessageID = p.original, messageID(p.original)
	return &Report{Kind: KindPlain, DSN: d}, nil
}

// ParseDSN reads a delivery status notification, or a plain-text bounce
// in its place; a complaint or anything else is ErrNotReport.
func ParseDSN(raw []byte) (*DSN, error) {
	r, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	if r.DSN == nil {
		return nil, ErrNotReport
	}
	return r.DSN, nil
}

// ParseARF reads a feedback report; anything else is ErrNotReport.
func ParseARF(raw []byte) (*ARF, error) {
	r, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	if r.Complaint == nil {
		return nil, ErrNotReport
	}
	return r.Complaint, nil
}

// parser collects the parts of a report as it walks the MIME tree.
type parser struct {
	parts    int
	status   []byte // the message/delivery-status part
	feedback []byte // the message/feedback-report part
	text     string // the first text/plain part
	original mail.Header
}

func (p *parser) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	p.parts++
	if p.parts > MaxParts {
		return errors.New("bounce: too many MIME parts")
	}
	ct := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = "text/plain" // RFC 2045: the default, also for what cannot be read
		if ct != "" && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "text/plain") {
			mt = "application/octet-stream"
		}
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth >= maxDepth {
			return nil
		}
		boundary := params["boundary"]
		if boundary == "" {
			return errors.New("bounce: multipart without boundary")
		}
		mr := multipart.NewReader(body, boundary)
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				if p.parts > 1 && (p.status != nil || p.feedback != nil) {
					return nil // a truncated tail after what matters
				}
				return errors.New("bounce: malformed multipart: " + err.Error())
			}
			if err := p.walk(part.Header, part, depth+1); err != nil {
				return err
			}
		}
	}
	data, err := readPart(h, body)
	if err != nil {
		return err
	}
	switch mt {
	case "message/delivery-status", "message/global-delivery-status":
		if p.status == nil {
			p.status = data
		}
	case "message/feedback-report":
		if p.feedback == nil {
			p.feedback = data
		}
	case "message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers":
		if p.original == nil {
			p.original = readHeaders(data)
		}
	case "text/plain":
		if p.text == "" {
			p.text = string(data)
		}
	}
	return nil
}

// readPart reads a leaf part, undoing its transfer encoding.
func readPart(h textproto.MIMEHeader, body io.Reader) ([]byte, error) {
	var r io.Reader = io.LimitReader(body, maxPart)
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &stripSpace{r: r})
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	data, err := io.ReadAll(r)
	if err != nil && len(data) == 0 {
		return nil, errors.New("bounce: unreadable part: " + err.Error())
	}
	return data, nil // a damaged tail keeps what was read
}

// stripSpace drops line breaks and spaces, which base64 bodies carry.
type stripSpace struct{ r io.Reader }

func (s *stripSpace) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	j := 0
	for _, c := range b[:n] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			b[j] = c
			j++
		}
	}
	return j, err
}

// readHeaders reads the header block of an attached message.
func readHeaders(data []byte) mail.Header {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	h, err := tp.ReadMIMEHeader()
	if len(h) == 0 && err != nil {
		return nil
	}
	return mail.Header(h)
}

// blocks reads the header-like blocks of a delivery-status or
// feedback-report part, separated by blank lines.
func blocks(data []byte) []textproto.MIMEHeader {
	// Normalise line ends so a blank line is always "\n\n".
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	var out []textproto.MIMEHeader
	for _, chunk := range bytes.Split(data, []byte("\n\n")) {
		chunk = bytes.TrimLeft(chunk, "\n")
		if len(bytes.TrimSpace(chunk)) == 0 {
			continue
		}
		tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(chunk, '\n', '\n'))))
		h, _ := tp.ReadMIMEHeader() // keep the fields read before a bad line
		if len(h) > 0 {
			out = append(out, h)
		}
		if len(out) > MaxParts {
			break
		}
	}
	return out
}

func (p *parser) dsn() (*DSN, error) {
	bs := blocks(p.status)
	if len(bs) == 0 {
		return nil, errors.New("bounce: empty delivery-status part")
	}
	d := &DSN{
		ReportingMTA: typed(bs[0].Get("Reporting-MTA")),
		ArrivalDate:  strings.TrimSpace(bs[0].Get("Arrival-Date")),
		Original:     p.original,
		MessageID:    messageID(p.original),
		Text:         bound(p.text, 4096),
	}
	for _, b := range bs {
		if b.Get("Final-Recipient") == "" && b.Get("Action") == "" {
			continue // the per-message block, or noise
		}
		r := Recipient{
			FinalRecipient:    typed(b.Get("Final-Recipient")),
			OriginalRecipient: typed(b.Get("Original-Recipient")),
			Action:            strings.ToLower(strings.TrimSpace(uncomment(b.Get("Action")))),
			Status:            strings.TrimSpace(uncomment(b.Get("Status"))),
			Diagnostic:        typed(b.Get("Diagnostic-Code")),
			RemoteMTA:         typed(b.Get("Remote-MTA")),
		}
		if r.Status != "" {
			if _, _, _, ok := splitEnhanced(r.Status); !ok {
				r.Status = findEnhanced(r.Status)
			}
		}
		r.Code = findCode(r.Diagnostic)
		switch r.Action {
		case "failed":
			r.Category = Classify(r.Code, r.Status, r.Diagnostic)
		case "delayed":
			r.Category = Temporary
		}
		d.Recipients = append(d.Recipients, r)
	}
	if len(d.Recipients) == 0 {
		return nil, errors.New("bounce: delivery-status part names no recipient")
	}
	return d, nil
}

func (p *parser) arf() (*ARF, error) {
	bs := blocks(p.feedback)
	if len(bs) == 0 {
		return nil, errors.New("bounce: empty feedback-report part")
	}
	h := bs[0]
	a := &ARF{
		FeedbackType:     strings.ToLower(strings.TrimSpace(h.Get("Feedback-Type"))),
		UserAgent:        strings.TrimSpace(h.Get("User-Agent")),
		Version:          strings.TrimSpace(h.Get("Version")),
		OriginalMailFrom: angle(h.Get("Original-Mail-From")),
		OriginalRcptTo:   angle(h.Get("Original-Rcpt-To")),
		ArrivalDate:      strings.TrimSpace(h.Get("Arrival-Date")),
		SourceIP:         strings.TrimSpace(h.Get("Source-IP")),
		Original:         p.original,
		MessageID:        messageID(p.original),
		Text:             bound(p.text, 4096),
	}
	if a.ArrivalDate == "" {
		a.ArrivalDate = strings.TrimSpace(h.Get("Received-Date")) // an older draft's name
	}
	for _, d := range h.Values("Reported-Domain") {
		if d = strings.TrimSpace(d); d != "" {
			a.ReportedDomain = append(a.ReportedDomain, d)
		}
	}
	if a.FeedbackType == "" {
		return nil, errors.New("bounce: feedback report without Feedback-Type")
	}
	return a, nil
}

// typed drops a DSN field's address or diagnostic type ("rfc822;",
// "smtp;", "dns;") and comments around it.
func typed(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ';'); i >= 0 && i < 16 && !strings.ContainsAny(v[:i], " <@") {
		v = strings.TrimSpace(v[i+1:])
	}
	return angle(v)
}

// angle drops angle brackets around an address.
func angle(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") {
		v = v[1 : len(v)-1]
	}
	return v
}

// uncomment drops a trailing "(comment)".
func uncomment(v string) string {
	if i := strings.IndexByte(v, '('); i >= 0 {
		return v[:i]
	}
	return v
}

func messageID(h mail.Header) string {
	if h == nil {
		return ""
	}
	v := strings.TrimSpace(h.Get("Message-Id"))
	return angle(v)
}

func bound(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
