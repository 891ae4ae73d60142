package bounce

import (
	"net/mail"
	"regexp"
	"strings"
)

// Plain-text bounces come from MTAs that send no DSN (old Exim, qmail,
// appliances) and from ones whose DSN part was lost when forwarded. Their
// formats are the MTAs' own prose; this reads the common ones (Postfix's
// "<addr>: host … said: 550 …", Exim's "The following address(es) failed:",
// qmail's "<addr>: … (#5.1.1)") and says unknown when unsure.

var (
	bounceSubject = []string{"undeliver", "delivery status notification", "mail delivery failed", "returned mail",
		"failure notice", "delivery failure", "delivery has failed", "could not be delivered", "mail delivery system",
		"delayed mail", "delivery delayed", "warning: message", "non-delivery", "nondeliverable", "not delivered"}
	bounceSender = []string{"mailer-daemon", "postmaster", "mail delivery"}
	delayWords   = []string{"not yet been delivered", "delayed", "will continue trying", "still trying", "delay reason",
		"will retry", "will be retried", "temporary failure", "deferred"}
	addrRE = regexp.MustCompile(`[A-Za-z0-9._%+=~!#$&'*/?^{|}-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}`)
	codeRE = regexp.MustCompile(`(?:^|[\s:(])([45][0-9][0-9])[ -]`)
)

// parsePlain reads a bounce from its headers and text; nil when the mail
// does not look like one.
func parsePlain(h mail.Header, text string) *DSN {
	if len(text) > maxPart {
		text = text[:maxPart]
	}
	subject := strings.ToLower(h.Get("Subject"))
	from := strings.ToLower(h.Get("From"))
	failed := h.Get("X-Failed-Recipients")
	// Auto-Submitted is no help: bounces and out-of-office answers both
	// carry "auto-replied". What the daemon calls itself tells them apart.
	looks := failed != "" || containsAny(subject, bounceSubject) || containsAny(from, bounceSender)
	if !looks {
		return nil
	}
	lower := strings.ToLower(text)
	action := "failed"
	if containsAny(subject, delayWords) || containsAny(lower, delayWords) && !strings.Contains(lower, "permanent") {
		action = "delayed"
	}
	var addrs []string
	for _, a := range strings.Split(failed, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	diag := diagnostic(text)
	if len(addrs) == 0 {
		// The first address in the text that is not the daemon's own.
		for _, a := range addrRE.FindAllString(bound(text, 64<<10), 16) {
			la := strings.ToLower(a)
			if strings.HasPrefix(la, "mailer-daemon@") || strings.HasPrefix(la, "postmaster@") {
				continue
			}
			addrs = append(addrs, a)
			break
		}
	}
	if len(addrs) == 0 {
		addrs = []string{""}
	}
	d := &DSN{Text: bound(text, 4096)}
	for _, a := range addrs {
		r := Recipient{FinalRecipient: a, Action: action, Diagnostic: diag, Code: findCode(diag), Status: findEnhanced(diag)}
		if r.Status == "" {
			r.Status = findEnhanced(bound(text, 64<<10))
		}
		if action == "delayed" {
			r.Category = Temporary
		} else if diag == "" && r.Status == "" {
			r.Category = Unknown // a bounce that says too little
			if c := fromText(lower); c != "" && c != Temporary && c != Policy {
				r.Category = c
			}
		} else {
			r.Category = Classify(r.Code, r.Status, diag)
		}
		d.Recipients = append(d.Recipients, r)
	}
	return d
}

// diagnostic finds the remote server's answer in a bounce's prose: the
// first line with a 4xx/5xx reply code, joined with the lines continuing
// it, or qmail's "(#5.1.1)" line.
func diagnostic(text string) string {
	lines := strings.Split(strings.ReplaceAll(bound(text, 64<<10), "\r\n", "\n"), "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		hasCode := codeRE.MatchString(" " + t)
		hasQmail := strings.Contains(t, "(#4.") || strings.Contains(t, "(#5.")
		if !hasCode && !hasQmail {
			continue
		}
		out := t
		// Continuation lines: indented more, or Postfix's wrapped text.
		for j := i + 1; j < len(lines) && j < i+4; j++ {
			n := strings.TrimSpace(lines[j])
			if n == "" || codeRE.MatchString(" "+n) && !strings.HasPrefix(n, out[:min(3, len(out))]) {
				break
			}
			out += " " + n
		}
		if k := strings.Index(out, " said: "); k >= 0 {
			out = out[k+len(" said: "):]
		}
		return bound(out, 1000)
	}
	return ""
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
