// Package compose builds the RFC 5322 message an email recipient is sent:
// headers (RFC 2047 for what is not ASCII), the text and HTML parts, inline
// images and attachments as MIME (RFC 2045–2049), with CRLF line endings
// and no line longer than 998 octets. It checks nothing the email channel's
// Prepare already refused; it never lets a CR or LF in a value start a new
// header line, whatever it is given.
package compose

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/message"
)

// Options are what the message does not say itself.
type Options struct {
	// ProviderID is the recipient's provider id, the left part of the
	// Message-ID; default messageID.seq (emailchan.ProviderID).
	ProviderID string
	// Domain is the right part of the Message-ID; default the From domain.
	Domain string
	// Date is the Date header; default now.
	Date time.Time
	// Boundary, when set, makes the MIME boundaries Boundary-1, Boundary-2
	// … instead of random ones (tests, benchmarks, size estimates).
	Boundary string
	// ListUnsubscribe are the unsubscribe URIs (https: and mailto:) of
	// marketing mail, in the List-Unsubscribe header (RFC 2369).
	ListUnsubscribe []string
	// OneClick adds List-Unsubscribe-Post: List-Unsubscribe=One-Click
	// (RFC 8058); it needs an https URI in ListUnsubscribe.
	OneClick bool
	// Footer is text added at the end of the text and HTML parts: the
	// sender's postal address in marketing mail (EMAIL-3).
	Footer string
	// OpenPixel is the URL of an image added at the end of the HTML part,
	// whose loading records an open; empty: none.
	OpenPixel string
	// ClickURL, when set, rewrites the target of each http(s) link in the
	// HTML part (href="…") to a URL that records the click and redirects.
	ClickURL func(target string) string
}

// Build composes the message m as sent to recipient r.
func Build(m *message.Message, r *message.Recipient, o Options) ([]byte, error) {
	var e message.Email
	if m.Content != nil && m.Content.Email != nil {
		e = *m.Content.Email
	}
	from, err := mail.ParseAddress(m.Originator)
	if err != nil {
		return nil, fmt.Errorf("compose: originator: %w", err)
	}
	if _, err := mail.ParseAddress(r.Address); err != nil {
		return nil, fmt.Errorf("compose: recipient: %w", err)
	}
	pid := o.ProviderID
	if pid == "" {
		pid = m.ID + "." + strconv.Itoa(r.Seq)
	}
	domain := o.Domain
	if domain == "" {
		domain = from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	}
	date := o.Date
	if date.IsZero() {
		date = time.Now()
	}
	b := &builder{prefix: o.Boundary}
	var buf bytes.Buffer
	buf.Grow(2048 + len(m.Body) + len(e.HTML)*11/10 + attachmentsSize(e.Attachments))
	h := &buf
	header(h, "From", addressHeader(clean(e.FromName), from.Address))
	if len(e.To)+len(e.Cc) == 0 {
		header(h, "To", addressHeader(clean(r.Name), r.Address))
	} else {
		// The author's To and Cc (SMTP submission), the same in every
		// copy; Bcc recipients are in no header.
		if len(e.To) > 0 {
			header(h, "To", addressList(e.To))
		}
		if len(e.Cc) > 0 {
			header(h, "Cc", addressList(e.Cc))
		}
	}
	if e.ReplyTo != "" {
		if a, err := mail.ParseAddress(e.ReplyTo); err == nil {
			header(h, "Reply-To", a.String())
		}
	}
	header(h, "Subject", encodeText(e.Subject))
	header(h, "Date", date.Format(time.RFC1123Z))
	if id := strings.Map(messageIDRune, e.MessageID); id != "" && len(id) <= maxWord {
		header(h, "Message-ID", "<"+id+">") // the author's (SMTP submission)
	} else {
		header(h, "Message-ID", "<"+clean(pid)+"@"+clean(domain)+">")
	}
	header(h, "MIME-Version", "1.0")
	if len(o.ListUnsubscribe) > 0 {
		var us []string
		for _, u := range o.ListUnsubscribe {
			us = append(us, "<"+strings.Map(dropSpace, u)+">")
		}
		header(h, "List-Unsubscribe", strings.Join(us, ", "))
		if o.OneClick {
			header(h, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		}
	}
	names := make([]string, 0, len(e.Headers))
	for k := range e.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		name := strings.Map(headerNameRune, k)
		if name == "" {
			continue
		}
		name = textproto.CanonicalMIMEHeaderKey(name)
		if msgIDHeaders[name] && printableASCII(clean(e.Headers[k])) && shortWords(clean(e.Headers[k])) {
			// Lists of msg-ids are structured: an encoded word would
			// hide them from threading. They fold at their spaces.
			header(h, name, clean(e.Headers[k]))
			continue
		}
		header(h, name, encodeText(e.Headers[k]))
	}
	text := m.Body
	e.HTML = decorateHTML(e.HTML, o)
	if o.Footer != "" && text != "" {
		text = strings.TrimRight(text, "\r\n") + "\r\n\r\n--\r\n" + o.Footer + "\r\n"
	}
	if err := b.body(&buf, text, e); err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("\r\n")) {
		buf.WriteString("\r\n")
	}
	return buf.Bytes(), nil
}

// msgIDHeaders are the custom headers whose value is a list of msg-ids
// (RFC 5322 §3.6.4), written as they are when they are ASCII.
var msgIDHeaders = map[string]bool{"In-Reply-To": true, "References": true}

// maxWord bounds a word written as it is in a header, so that no line
// passes 998 octets.
const maxWord = 900

func shortWords(s string) bool {
	for _, w := range strings.Split(s, " ") {
		if len(w) > maxWord {
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// messageIDRune keeps what a msg-id's inside may hold in a header: no
// spaces, controls, angle brackets or non-ASCII (the email channel's
// MessageID already refused them; this only keeps a header whole).
func messageIDRune(r rune) rune {
	if r <= ' ' || r > 0x7e || r == '<' || r == '>' {
		return -1
	}
	return r
}

// addressList is a To or Cc value of several mailboxes.
func addressList(l []message.Mailbox) string {
	parts := make([]string, 0, len(l))
	for _, mb := range l {
		addr := strings.Map(addressRune, mb.Address)
		if addr == "" || len(addr) > 320 {
			continue // the email channel refused it already
		}
		parts = append(parts, addressHeader(clean(mb.Name), addr))
	}
	return strings.Join(parts, ", ")
}

// addressRune keeps what a bare address may hold in a header (the email
// channel's Address has checked it: ASCII, or a UTF-8 local part).
func addressRune(r rune) rune {
	if r <= ' ' || r >= 0x7f && r <= 0x9f || r == utf8.RuneError || r == '<' || r == '>' || r == ',' || r == '"' || r == '(' || r == ')' {
		return -1
	}
	return r
}

func attachmentsSize(as []message.Attachment) int {
	n := 0
	for _, a := range as {
		n += len(a.Data)*4/3 + len(a.Data)/57*2 + 256
	}
	return n
}

type builder struct {
	prefix string
	n      int
}

func (b *builder) boundary() string {
	b.n++
	if b.prefix != "" {
		return b.prefix + "-" + strconv.Itoa(b.n)
	}
	var r [15]byte
	rand.Read(r[:])
	return "=_" + hex.EncodeToString(r[:])
}

// part is something that writes its own headers and body into w.
type part struct {
	header textproto.MIMEHeader
	body   func(w io.Writer) error
}

// body writes the message's Content-Type and what follows, after the
// headers already in buf.
func (b *builder) body(buf *bytes.Buffer, text string, e message.Email) error {
	var inline, attached []message.Attachment
	for _, a := range e.Attachments {
		if a.Inline && e.HTML != "" {
			inline = append(inline, a)
		} else {
			attached = append(attached, a)
		}
	}
	var alts []part
	if text != "" || e.HTML == "" {
		alts = append(alts, textPart("text/plain", text))
	}
	if e.HTML != "" {
		html := textPart("text/html", e.HTML)
		if len(inline) > 0 {
			rel := []part{html}
			for _, a := range inline {
				rel = append(rel, filePart(a, true))
			}
			html = b.multi("related", rel, `; type="text/html"`)
		}
		alts = append(alts, html)
	}
	top := alts[0]
	if len(alts) > 1 {
		top = b.multi("alternative", alts, "")
	}
	if len(attached) > 0 {
		mixed := []part{top}
		for _, a := range attached {
			mixed = append(mixed, filePart(a, false))
		}
		top = b.multi("mixed", mixed, "")
	}
	keys := make([]string, 0, len(top.header))
	for k := range top.header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		header(buf, k, top.header.Get(k))
	}
	buf.WriteString("\r\n")
	return top.body(buf)
}

// multi is a multipart/<sub> part of the given parts.
func (b *builder) multi(sub string, parts []part, params string) part {
	bd := b.boundary()
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "multipart/"+sub+"; boundary=\""+bd+"\""+params)
	return part{header: h, body: func(w io.Writer) error {
		mw := multipart.NewWriter(w)
		if err := mw.SetBoundary(bd); err != nil {
			return fmt.Errorf("compose: boundary: %w", err)
		}
		for _, p := range parts {
			pw, err := mw.CreatePart(p.header)
			if err != nil {
				return err
			}
			if err := p.body(pw); err != nil {
				return err
			}
		}
		return mw.Close()
	}}
}

// textPart is a UTF-8 text part, quoted-printable with CRLF line breaks.
func textPart(ctype, s string) part {
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", ctype+"; charset=utf-8")
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	return part{header: h, body: func(w io.Writer) error {
		qw := quotedprintable.NewWriter(w)
		// The writer turns each line break into CRLF (not Binary).
		if _, err := io.WriteString(qw, strings.ToValidUTF8(s, "\uFFFD")); err != nil {
			return err
		}
		return qw.Close()
	}}
}

// filePart is an attachment, or an inline image referenced by its name as
// Content-ID, in base64 lines of 76.
func filePart(a message.Attachment, inline bool) part {
	ctype := a.ContentType
	if mt, params, err := mime.ParseMediaType(ctype); err == nil && !strings.HasPrefix(mt, "multipart/") {
		ctype = mime.FormatMediaType(mt, params)
	} else {
		ctype = ""
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	name := clean(a.Name)
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", ctype)
	h.Set("Content-Transfer-Encoding", "base64")
	disp := "attachment"
	if inline {
		disp = "inline"
		id := a.ContentID
		if id == "" {
			id = a.Name
		}
		h.Set("Content-ID", "<"+strings.Map(contentIDRune, id)+">")
	}
	if d := mime.FormatMediaType(disp, map[string]string{"filename": name}); d != "" {
		h.Set("Content-Disposition", d)
	} else {
		h.Set("Content-Disposition", disp)
	}
	return part{header: h, body: func(w io.Writer) error { return writeBase64(w, a.Data) }}
}

// writeBase64 writes data in base64 lines of 76 characters.
func writeBase64(w io.Writer, data []byte) error {
	const per = 57 // input bytes per 76-character line
	line := make([]byte, base64.StdEncoding.EncodedLen(per)+2)
	for len(data) > 0 {
		n := min(per, len(data))
		k := base64.StdEncoding.EncodedLen(n)
		base64.StdEncoding.Encode(line, data[:n])
		line[k], line[k+1] = '\r', '\n'
		if _, err := w.Write(line[:k+2]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// header writes "Name: value" folded at spaces so that lines stay near 78
// octets (and always under 998 when the value has spaces where it is long;
// encoded values always do).
func header(buf *bytes.Buffer, name, value string) {
	value = clean(value)
	buf.WriteString(name)
	buf.WriteString(":")
	col := len(name) + 1
	for i, word := range strings.Split(value, " ") {
		if i > 0 && col+1+len(word) > 78 && col > 1 {
			buf.WriteString("\r\n")
			col = 0
		}
		buf.WriteByte(' ')
		buf.WriteString(word)
		col += 1 + len(word)
	}
	buf.WriteString("\r\n")
}

// encodeText makes an unstructured header value: as it is when it is
// printable ASCII with short words, else RFC 2047 encoded words (which
// split themselves into short ones).
func encodeText(s string) string {
	s = clean(s)
	plain := !strings.Contains(s, "=?")
	for i := 0; plain && i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			plain = false
		}
	}
	if plain {
		for _, w := range strings.Split(s, " ") {
			if len(w) > 76 {
				plain = false
				break
			}
		}
	}
	if plain {
		return s
	}
	return qEncode(strings.ToValidUTF8(s, "\uFFFD"))
}

// qEncode writes s as RFC 2047 Q encoded words of at most 75 octets,
// separated by spaces, never splitting a character (mime.QEncoding leaves
// ASCII as it is, even a word too long for a line).
func qEncode(s string) string {
	const open, close, max = "=?utf-8?q?", "?=", 75
	var out, word strings.Builder
	flush := func() {
		if word.Len() == 0 {
			return
		}
		if out.Len() > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(open + word.String() + close)
		word.Reset()
	}
	var enc []byte
	for _, r := range s {
		enc = enc[:0]
		switch {
		case r == ' ':
			enc = append(enc, '_')
		case r < 0x80 && r > 0x20 && r != '=' && r != '?' && r != '_' && r != '"' && r != '(' && r != ')' && r != ',' && r != '.' && r != ':' && r != ';' && r != '<' && r != '>' && r != '@' && r != '[' && r != ']' && r != '\\':
			enc = append(enc, byte(r))
		default:
			var b [4]byte
			for _, c := range b[:utf8.EncodeRune(b[:], r)] {
				enc = append(enc, '=', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
			}
		}
		if len(open)+word.Len()+len(enc)+len(close) > max {
			flush()
		}
		word.Write(enc)
	}
	flush()
	return out.String()
}

// clean turns control characters (CR, LF, NUL, TAB …) into spaces and
// invalid UTF-8 into U+FFFD: what the channel refuses never reaches here,
// but no value may ever start a header of its own.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

func dropSpace(r rune) rune {
	if r <= ' ' || r == '<' || r == '>' || r == ',' || r == 0x7f || r > 0x7e {
		return -1
	}
	return r
}

// headerNameRune keeps what a header field name may hold (RFC 5322 §3.6.8).
func headerNameRune(r rune) rune {
	if r < 33 || r > 126 || r == ':' {
		return -1
	}
	return r
}

func contentIDRune(r rune) rune {
	if r <= ' ' || r > 0x7e || r == '<' || r == '>' || r == '"' || r == '\\' {
		return -1
	}
	return r
}

// addressHeader is a From or To value: net/mail's form for a short ASCII
// name (quoted and escaped as needed), and RFC 2047 "B" encoded words for
// any other: they hold no character that ends a word (net/mail's own "Q"
// encoding leaves a backslash in, which readers then refuse) and split
// themselves into words short enough to fold (a quoted name is one word,
// however long).
func addressHeader(name, addr string) string {
	encode := false
	for _, w := range strings.Fields(name) {
		encode = encode || len(w) > 60
	}
	for _, c := range name {
		encode = encode || c >= 0x80
	}
	if encode {
		return bWords(name) + " <" + addr + ">"
	}
	return (&mail.Address{Name: name, Address: addr}).String()
}

// bWords encodes s as RFC 2047 "B" encoded words of at most 45 bytes of
// text each (60 of base64), split between runes, even when s is ASCII
// (mime.BEncoding leaves ASCII as it is, however long its words).
func bWords(s string) string {
	var words []string
	for len(s) > 0 {
		n := min(len(s), 45)
		for n < len(s) && n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		if n == 0 {
			n = min(len(s), 45)
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}
