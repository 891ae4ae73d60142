// Package rules is what an email may hold, in one place for the email
// channel that enforces it when a message is accepted
// (internal/channel/email) and for the doors that refuse early in their
// own protocol (the SMTP submission door answers a bad RCPT or an
// oversized message at once): the limits, the headers a sender may set, a
// bare address and an author's Message-ID.
package rules

import (
	"errors"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits of one email (docs/email.md, "Message format and limits").
const (
	// MaxSize bounds the composed message (headers, bodies and
	// attachments as encoded, before DKIM signing): 10 MiB.
	MaxSize = 10 << 20
	// MaxSubject bounds the subject, in characters.
	MaxSubject = 998
	// MaxName bounds a display name (FromName, a recipient's name).
	MaxName = 200
	// MaxHeaders bounds custom headers; MaxHeaderValue each value's octets.
	MaxHeaders     = 50
	MaxHeaderValue = 900
	// MaxAttachments bounds attachments and inline images together.
	MaxAttachments = 100
	// MaxShown bounds the To and Cc mailboxes an author wrote, together.
	MaxShown = 100
	// MaxMessageID bounds the author's Message-ID, in octets.
	MaxMessageID = 250
)

// ErrTooLarge is the Err of the *message.Invalid for a message over
// MaxSize once composed.
var ErrTooLarge = errors.New("the message is too large")

// allowedHeaders are the custom headers a sender may set besides X-*;
// everything else is the platform's to write (From, To, Subject, Date,
// Message-ID, MIME and transport headers, DKIM, List-Unsubscribe …).
var allowedHeaders = map[string]bool{
	"List-Id": true, "In-Reply-To": true, "References": true, "Keywords": true, "Comments": true,
	"Auto-Submitted": true, "Precedence": true, "Organization": true, "Thread-Topic": true, "Thread-Index": true,
	"Feedback-Id": true,
}

// AllowedHeader reports whether a sender may set the header (canonical or
// not): X-* and the names in the documented allowlist.
func AllowedHeader(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 33 || name[i] > 126 || name[i] == ':' {
			return false
		}
	}
	c := canonical(name)
	if strings.HasPrefix(c, "X-") && len(c) > 2 {
		return true
	}
	return allowedHeaders[c]
}

func canonical(name string) string {
	parts := strings.Split(strings.ToLower(name), "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// AllowedList names the allowlist of AllowedHeader, sorted.
func AllowedList() string {
	names := make([]string, 0, len(allowedHeaders))
	for k := range allowedHeaders {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// MessageID reads a msg-id (RFC 5322 §3.6.4: "<" id-left "@" id-right
// ">", surrounding spaces allowed) and returns it without its angle
// brackets. It takes what a header can carry safely: printable ASCII
// without spaces, angle brackets or a second "@", non-empty on both sides
// of the "@", at most MaxMessageID octets. Quoted strings and comments of
// the obsolete syntax are not taken.
func MessageID(s string) (string, bool) {
	s = strings.Trim(s, " \t")
	if len(s) < 5 || s[0] != '<' || s[len(s)-1] != '>' {
		return "", false
	}
	id := s[1 : len(s)-1]
	at := strings.IndexByte(id, '@')
	if len(id) > MaxMessageID || at <= 0 || at == len(id)-1 || strings.Count(id, "@") != 1 {
		return "", false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e || c == '<' || c == '>' || c == '"' || c == '(' || c == ')' || c == '\\' || c == ',' {
			return "", false
		}
	}
	return id, true
}

// Address checks a bare email address (local@domain, no display name, no
// angle brackets, no comments) and returns it with its domain in lower-case
// ASCII (an internationalised domain as its A-labels). The local part may
// be UTF-8 (RFC 6531): printable, without spaces; such an address goes only
// to servers that offer SMTPUTF8.
func Address(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("an email address is required")
	}
	if len(s) > 320 || strings.ContainsAny(s, "\r\n\x00<>,; \t") {
		return "", fmt.Errorf("not a bare email address (local@domain)")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", fmt.Errorf("not an email address: it needs local@domain")
	}
	local, domain := s[:at], s[at+1:]
	if !utf8.ValidString(local) {
		return "", fmt.Errorf("the local part must be UTF-8")
	}
	for _, r := range local {
		if r < 0x21 || r == 0x7f || r >= 0x80 && (!unicode.IsGraphic(r) || unicode.IsSpace(r)) {
			return "", fmt.Errorf("the local part has a space or a character that is not printable")
		}
	}
	if len(local) > 64 {
		return "", fmt.Errorf("the local part has more than 64 octets")
	}
	ascii, err := idna.Lookup.ToASCII(strings.ToLower(strings.TrimSuffix(domain, ".")))
	if err != nil || !strings.Contains(ascii, ".") || len(ascii) > 253 {
		return "", fmt.Errorf("%q is not a valid mail domain", domain)
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("%q is not a valid mail domain", domain)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("%q is not a valid mail domain", domain)
			}
		}
	}
	addr := local + "@" + ascii
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "", fmt.Errorf("not a valid email address")
	}
	return addr, nil
}

// ASCII reports whether s is 7-bit: an address that is not needs SMTPUTF8
// (RFC 6531) on the way, and so does a header section that is not (RFC
// 6532).
func ASCII[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// OneLine refuses what may not go into a header: invalid UTF-8, control
// characters (CR and LF above all: a header injection) and more than max
// characters.
func OneLine(s string, max int) error {
	if !utf8.ValidString(s) {
		return errors.New("must be UTF-8")
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return errors.New("must be one line without control characters (no CR or LF)")
		}
	}
	if utf8.RuneCountInString(s) > max {
		return fmt.Errorf("at most %d characters", max)
	}
	return nil
}
