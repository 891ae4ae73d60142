package smtpsubmit

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/omnigate/omnigate/internal/email/rules"
	"github.com/omnigate/omnigate/internal/message"
)

// Bounds on what a submitted mail may hold.
const (
	MaxParts         = 100 // MIME parts, attachments included
	maxDepth         = 5   // nesting of multiparts
	MaxCustomHeaders = 20  // X- headers carried over
)

// shownHeaders are the author's fields the door keeps in their own place
// of message.Email (or drops: Bcc); the other headers the email channel
// allows a sender (rules.AllowedHeader: X-*, In-Reply-To, References,
// List-Id …) are carried as custom headers.
var shownHeaders = map[string]bool{"To": true, "Cc": true, "Bcc": true, "Message-Id": true}

// ParseError is a mail the door cannot take (answered 550 5.6.0).
type ParseError struct{ Reason string }

func (e *ParseError) Error() string { return e.Reason }

func bad(format string, args ...any) error { return &ParseError{Reason: fmt.Sprintf(format, args...)} }

// Parsed is what a submitted mail says, in the platform's model: the text
// part (Body) and the email parts (subject, HTML, reply-to, custom
// headers, attachments and inline images).
type Parsed struct {
	Body  string
	Email message.Email
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// Parse reads a submitted mail (RFC 5322 with MIME).
func Parse(raw []byte) (*Parsed, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, bad("the message's header is malformed: %v", err)
	}
	p := &Parsed{}
	h := msg.Header
	if p.Email.Subject, err = headerText(h.Get("Subject")); err != nil {
		return nil, bad("Subject: %v", err)
	}
	if from := h.Get("From"); from != "" {
		if a, err := (&mail.AddressParser{WordDecoder: wordDecoder}).Parse(from); err == nil {
			p.Email.FromName = a.Name
		}
	}
	if rt := h.Get("Reply-To"); rt != "" {
		a, err := (&mail.AddressParser{WordDecoder: wordDecoder}).Parse(rt)
		if err != nil {
			return nil, bad("Reply-To: %v", err)
		}
		p.Email.ReplyTo = a.Address
	}
	p.Email.To, p.Email.Cc = shown(h)
	// The author's Message-ID is kept when it is one (RFC 6409 §8.3: a
	// submission server adds one only when it is missing or invalid).
	if id, ok := rules.MessageID(h.Get("Message-Id")); ok {
		p.Email.MessageID = id
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	xs := 0
	for _, k := range keys {
		if shownHeaders[k] || !rules.AllowedHeader(k) {
			continue
		}
		if strings.HasPrefix(k, "X-") {
			if xs++; xs > MaxCustomHeaders {
				return nil, bad("more than %d X- headers", MaxCustomHeaders)
			}
		}
		v, err := headerText(h.Get(k))
		if err != nil {
			return nil, bad("%s: %v", k, err)
		}
		if k == "References" {
			v = trimReferences(v, rules.MaxHeaderValue)
		}
		if p.Email.Headers == nil {
			p.Email.Headers = map[string]string{}
		}
		p.Email.Headers[k] = v
	}
	w := &walker{p: p}
	if err := w.walk(textproto.MIMEHeader(h), msg.Body, 0); err != nil {
		return nil, err
	}
	if p.Body == "" && p.Email.HTML == "" {
		return nil, bad("the message has no text or HTML part")
	}
	return p, nil
}

// shown is the author's To and Cc, as every copy shows them. They are
// display only: the envelope (RCPT) decides who gets the mail. So when
// they cannot be shown as written — a list that does not parse, a mailbox
// the platform could not send to (To: root, team@localhost), a name with
// a control character, more than rules.MaxShown — none is shown, and each
// copy's To is its own recipient, as without them; the mail is not
// refused for a header no one is sent to.
func shown(h mail.Header) (to, cc []message.Mailbox) {
	lists := [2][]message.Mailbox{}
	for i, name := range []string{"To", "Cc"} {
		for _, v := range h[name] {
			if strings.TrimSpace(v) == "" {
				continue
			}
			l, err := (&mail.AddressParser{WordDecoder: wordDecoder}).ParseList(v)
			if err != nil {
				return nil, nil
			}
			for _, a := range l {
				addr, err := rules.Address(a.Address)
				if err != nil || rules.OneLine(a.Name, rules.MaxName) != nil {
					return nil, nil
				}
				lists[i] = append(lists[i], message.Mailbox{Name: a.Name, Address: addr})
			}
		}
	}
	if len(lists[0])+len(lists[1]) > rules.MaxShown {
		return nil, nil
	}
	return lists[0], lists[1]
}

// trimReferences shortens a References field longer than max octets the
// way news and mail clients do (RFC 5537 §3.4.4): the first msg-id (the
// thread's root), then as many of the last ones as fit.
func trimReferences(v string, max int) string {
	if len(v) <= max {
		return v
	}
	ids := strings.Fields(v)
	if len(ids) == 0 || len(ids[0]) > max {
		return ""
	}
	n := len(ids[0])
	i := len(ids)
	for i > 1 && n+1+len(ids[i-1]) <= max {
		i--
		n += 1 + len(ids[i])
	}
	return strings.Join(append([]string{ids[0]}, ids[i:]...), " ")
}

// headerText decodes a header's encoded words and refuses line breaks and
// control characters in the result (header injection).
func headerText(v string) (string, error) {
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return "", fmt.Errorf("undecodable encoded word")
	}
	if !utf8.ValidString(d) {
		return "", fmt.Errorf("not UTF-8")
	}
	for _, r := range d {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return "", fmt.Errorf("control character or line break")
		}
	}
	return strings.TrimSpace(d), nil
}

type walker struct {
	p     *Parsed
	parts int
}

func (w *walker) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	w.parts++
	if w.parts > MaxParts {
		return bad("more than %d MIME parts", MaxParts)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		if h.Get("Content-Type") != "" {
			return bad("Content-Type: %v", err)
		}
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth >= maxDepth {
			return bad("multiparts nested more than %d deep", maxDepth)
		}
		if params["boundary"] == "" {
			return bad("a multipart without boundary")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return bad("malformed multipart: %v", err)
			}
			if err := w.walk(part.Header, part, depth+1); err != nil {
				return err
			}
		}
	}
	data, err := decodeBody(h, body)
	if err != nil {
		return err
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name != "" {
		if d, err := wordDecoder.DecodeHeader(name); err == nil {
			name = d
		}
	}
	isText := (mt == "text/plain" || mt == "text/html") && disp != "attachment" && name == ""
	if isText {
		text, err := toUTF8(data, params["charset"])
		if err != nil {
			return err
		}
		if mt == "text/plain" && w.p.Body == "" {
			w.p.Body = text
			return nil
		}
		if mt == "text/html" && w.p.Email.HTML == "" {
			w.p.Email.HTML = text
			return nil
		}
	}
	cid := strings.Trim(strings.TrimSpace(h.Get("Content-Id")), "<>")
	a := message.Attachment{Name: name, ContentType: mt, Data: data}
	if cid != "" && disp != "attachment" {
		a.Inline = true
		a.Name = cid // an inline image is referenced by its content id
	}
	if a.Name == "" {
		a.Name = fmt.Sprintf("part%d", w.parts)
	}
	if strings.ContainsAny(a.Name, "\r\n\x00") {
		return bad("an attachment's name has a line break or NUL")
	}
	w.p.Email.Attachments = append(w.p.Email.Attachments, a)
	return nil
}

func decodeBody(h textproto.MIMEHeader, body io.Reader) ([]byte, error) {
	var r io.Reader = body
	switch cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); cte {
	case "", "7bit", "8bit", "binary":
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &dropSpace{r: body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	default:
		return nil, bad("Content-Transfer-Encoding %q is unknown", cte)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, bad("a part does not decode: %v", err)
	}
	return data, nil
}

type dropSpace struct{ r io.Reader }

func (s *dropSpace) Read(b []byte) (int, error) {
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

// toUTF8 decodes text in its declared charset.
func toUTF8(data []byte, charset string) (string, error) {
	cs := strings.ToLower(strings.TrimSpace(charset))
	if cs == "" || cs == "utf-8" || cs == "us-ascii" || cs == "utf8" {
		if !utf8.Valid(data) {
			return "", bad("a text part is not valid UTF-8")
		}
		return strings.ReplaceAll(string(data), "\r\n", "\n"), nil
	}
	r, err := charsetReader(cs, bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	out, err := io.ReadAll(r)
	if err != nil || !utf8.Valid(out) {
		return "", bad("a text part does not decode from %s", charset)
	}
	return strings.ReplaceAll(string(out), "\r\n", "\n"), nil
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, bad("charset %q is unknown", charset)
	}
	return enc.NewDecoder().Reader(input), nil
}
