// Package bounce reads what comes back after an email was sent: delivery
// status notifications (RFC 3464), feedback-loop complaints (ARF, RFC 5965)
// and the plain-text bounces of mail servers that send no DSN; and it
// classifies a failure into a Category from the SMTP reply code, the
// enhanced status code (RFC 3463) and the server's text, so that a hard
// bounce suppresses the address and a soft one does not.
//
// The package knows no omnigate type: it parses bytes and names categories.
package bounce

import (
	"strconv"
	"strings"
)

// Category is why a message was not delivered. The categories are
// documented in docs/email.md ("Bounces and complaints").
type Category string

// The categories.
const (
	// BadMailbox: the address does not exist, was disabled or has moved
	// (x.1.1, x.1.3, x.1.6, x.2.1, "user unknown").
	BadMailbox Category = "bad_mailbox"
	// BadDomain: the domain does not exist, accepts no mail or cannot be
	// routed to (x.1.2, x.1.10 null MX, 5.4.4, "host not found").
	BadDomain Category = "bad_domain"
	// MailboxFull: the mailbox is over its quota (x.2.2).
	MailboxFull Category = "mailbox_full"
	// MessageTooLarge: the message exceeds a size limit (x.2.3, x.3.4).
	MessageTooLarge Category = "message_too_large"
	// Policy: the receiver's policy refused the message (x.7.x without
	// sign of spam or authentication, relaying denied, x.3.x content).
	Policy Category = "policy"
	// SpamBlock: refused as spam or for the sender's reputation (block
	// lists, "spam", 5.7.1 with such text, x.7.28 rate of bad mail).
	SpamBlock Category = "spam_block"
	// AuthFailure: SPF, DKIM or DMARC failed (x.7.20–x.7.27, "dmarc").
	AuthFailure Category = "auth_failure"
	// Temporary: a 4xx answer or a delay (greylisting, throttling, a
	// server down); the connector retries these itself.
	Temporary Category = "temporary"
	// Unknown: a failure that says too little to be sure.
	Unknown Category = "unknown"
)

// Categories lists every category, for docs and metrics.
var Categories = []Category{BadMailbox, BadDomain, MailboxFull, MessageTooLarge, Policy, SpamBlock, AuthFailure, Temporary, Unknown}

// Hard reports whether the failure is the address's own and will not get
// better: the address is then suppressed. Refusals for the sender's or the
// message's sake (policy, spam, authentication, size) and full mailboxes
// are soft: suppressing the recipient would not fix them.
func (c Category) Hard() bool { return c == BadMailbox || c == BadDomain }

// ErrorCode is the statusErrorCode a recipient gets for a bounce of the
// category (documented in docs/email.md): 5xxx codes are email bounces.
func (c Category) ErrorCode() int {
	switch c {
	case BadMailbox:
		return 5001
	case BadDomain:
		return 5002
	case MailboxFull:
		return 5003
	case MessageTooLarge:
		return 5004
	case Policy:
		return 5005
	case SpamBlock:
		return 5006
	case AuthFailure:
		return 5007
	case Temporary:
		return 5008
	}
	return 5000
}

// Classify names the category of a failure from the SMTP reply code (0 if
// unknown), the enhanced status code ("5.1.1", "" if none) and the text the
// server gave. A specific enhanced code wins; text decides what a generic
// one (x.0.0, 5.7.1 …) or a bare reply code leaves open.
func Classify(code int, enhanced, text string) Category {
	class, subject, detail, ok := splitEnhanced(enhanced)
	if !ok {
		// Servers often put the enhanced code only in the text.
		if e := findEnhanced(text); e != "" {
			class, subject, detail, ok = splitEnhanced(e)
		}
	}
	if code == 0 {
		code = findCode(text)
	}
	if !ok && code == 0 {
		if c := fromText(strings.ToLower(text)); c != "" {
			return c
		}
		return Unknown
	}
	if (ok && class == 4) || (!ok && code >= 400 && code < 500) {
		if ok && subject == 2 && detail == 2 {
			return MailboxFull // still soft: it may empty
		}
		return Temporary
	}
	if (ok && class == 2) || (code >= 200 && code < 300) {
		return Unknown // not a failure
	}
	lower := strings.ToLower(text)
	if ok {
		if c := fromEnhanced(subject, detail, lower); c != "" {
			return c
		}
	}
	if c := fromText(lower); c != "" {
		return c
	}
	switch code {
	case 550, 551, 553:
		// 550 "mailbox unavailable" is used for much else; without text
		// saying so it is still most often an unknown user.
		if !ok || subject == 1 {
			return BadMailbox
		}
	case 552:
		return MailboxFull
	case 554:
		return Policy
	case 521, 556:
		return BadDomain // the domain accepts no mail (RFC 7504)
	}
	return Unknown
}

// fromEnhanced maps a specific enhanced code; "" leaves it to the text.
func fromEnhanced(subject, detail int, lower string) Category {
	switch subject {
	case 1:
		switch detail {
		case 1, 3, 6:
			return BadMailbox
		case 2, 10:
			return BadDomain
		case 0:
			return "" // "other address status": the text says more
		}
		return BadMailbox
	case 2:
		switch detail {
		case 1:
			return BadMailbox
		case 2:
			return MailboxFull
		case 3:
			return MessageTooLarge
		}
		return ""
	case 3:
		if detail == 4 {
			return MessageTooLarge
		}
		return ""
	case 4:
		if detail == 4 {
			return BadDomain
		}
		return ""
	case 6:
		return Policy
	case 7:
		switch {
		case detail >= 20 && detail <= 27:
			return AuthFailure
		case detail == 28:
			return SpamBlock
		}
		if c := fromText(lower); c == SpamBlock || c == AuthFailure || c == BadMailbox {
			return c
		}
		return Policy
	}
	return ""
}

// Phrases servers use, most specific first.
var phrases = []struct {
	c     Category
	words []string
}{
	{AuthFailure, []string{"dmarc", "dkim", "spf", "sender policy framework", "unauthenticated", "authentication fail", "not authenticated"}},
	{SpamBlock, []string{"spam", "blacklist", "blocklist", "block list", "black list", "spamhaus", "spamcop", "barracuda", "rbl", "dnsbl", "reputation", "listed at", "listed on", "junk", "bulk mail"}},
	{MailboxFull, []string{"mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded storage", "insufficient storage", "mailbox size limit", "user is over"}},
	{MessageTooLarge, []string{"too large", "too big", "message size", "size limit", "exceeds the maximum"}},
	{BadDomain, []string{"host not found", "domain not found", "no such domain", "domain does not exist", "unrouteable", "unroutable", "no mx", "null mx", "name or service not known", "nxdomain", "host unknown", "domain name not found", "does not accept mail"}},
	{BadMailbox, []string{"user unknown", "unknown user", "no such user", "no such mailbox", "no mailbox", "unknown recipient", "recipient unknown", "invalid recipient", "recipient not found", "address rejected", "does not exist", "doesn't exist", "not exist", "invalid mailbox", "mailbox unavailable", "mailbox not found", "account disabled", "account has been disabled", "inactive", "not a valid", "unknown address", "no longer", "user not found"}},
	{Policy, []string{"policy", "relay access denied", "relaying denied", "not permitted", "rejected by", "administrative", "prohibited", "denied"}},
	{Temporary, []string{"try again later", "greylist", "graylist", "temporarily", "temporary", "deferred", "rate limit", "too many connections"}},
}

func fromText(lower string) Category {
	for _, p := range phrases {
		for _, w := range p.words {
			if strings.Contains(lower, w) {
				return p.c
			}
		}
	}
	return ""
}

// splitEnhanced reads "c.s.d" (RFC 3463: class 2, 4 or 5, then numbers of
// at most three digits).
func splitEnhanced(e string) (class, subject, detail int, ok bool) {
	parts := strings.Split(strings.TrimSpace(e), ".")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var n [3]int
	for i, p := range parts {
		if p == "" || len(p) > 3 {
			return 0, 0, 0, false
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return 0, 0, 0, false
		}
		n[i] = v
	}
	if n[0] != 2 && n[0] != 4 && n[0] != 5 {
		return 0, 0, 0, false
	}
	return n[0], n[1], n[2], true
}

// findEnhanced finds the first enhanced status code in a server's text.
func findEnhanced(text string) string {
	for i := 0; i+5 <= len(text); i++ {
		c := text[i]
		if (c != '2' && c != '4' && c != '5') || text[i+1] != '.' || (i > 0 && isCodeChar(text[i-1])) {
			continue
		}
		j := i + 2
		k := j
		for k < len(text) && k-j < 3 && isDigit(text[k]) {
			k++
		}
		if k == j || k >= len(text) || text[k] != '.' {
			continue
		}
		m := k + 1
		for m < len(text) && m-k-1 < 3 && isDigit(text[m]) {
			m++
		}
		if m == k+1 || (m < len(text) && isCodeChar(text[m])) {
			continue
		}
		return text[i:m]
	}
	return ""
}

// findCode finds a reply code starting the text, or after "said:" and the
// like: the first three-digit number 2xx–5xx standing alone.
func findCode(text string) int {
	for i := 0; i+3 <= len(text); i++ {
		if !isDigit(text[i]) || (i > 0 && isCodeChar(text[i-1])) {
			continue
		}
		if i+3 < len(text) && isCodeChar(text[i+3]) {
			continue
		}
		if !isDigit(text[i+1]) || !isDigit(text[i+2]) {
			continue
		}
		if text[i] >= '2' && text[i] <= '5' {
			n, _ := strconv.Atoi(text[i : i+3])
			return n
		}
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isCodeChar(c byte) bool { return isDigit(c) || c == '.' || c == ':' }
