package compliance

import (
	"context"
	"errors"
	"html"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// The email channel's own rules (EMAIL-2…5), run by the engine after the
// common ones (consent, suppression, rotating senders, content):
//
//   - email.sender_domain: From must be at a verified sending domain of the
//     account (EMAIL-4; the check itself is EmailConfig.SenderDomain);
//   - email.postal_address: marketing email needs the account's postal
//     address, which compose prints in the footer (EMAIL-3);
//   - email.role_address: marketing email to a role address (abuse@,
//     postmaster@, info@ …) refuses that recipient (EMAIL-5).
//
// Marketing email is also what compose gives List-Unsubscribe and
// List-Unsubscribe-Post headers (EMAIL-2): the message's Purpose, which the
// pipeline sets from the decision, is the flag.

// RoleAddresses are the local parts of role addresses: mailboxes of a
// function (RFC 2142) or of nobody, not of a person who opted in.
// Marketing email to them is refused unless the account's policy allows
// one (roleAddresses); fixedRoles never are.
var RoleAddresses = []string{
	"abuse", "admin", "administrator", "billing", "contact", "do-not-reply", "donotreply",
	"help", "hostmaster", "info", "list", "list-request", "mailer-daemon", "marketing",
	"no-reply", "nobody", "noc", "noreply", "office", "postmaster", "root", "sales",
	"security", "support", "webmaster",
}

// fixedRoles reach the people who handle abuse and mail problems, or no
// one: no account may send marketing to them.
var fixedRoles = []string{"abuse", "postmaster", "hostmaster", "mailer-daemon", "noreply", "no-reply", "donotreply", "do-not-reply", "nobody"}

// Rule ids of the email channel.
const (
	RuleEmailSenderDomain = "email.sender_domain"
	RuleEmailPostal       = "email.postal_address"
	RuleEmailRole         = "email.role_address"
)

// EmailConfig are the parts of the email rules the app wires.
type EmailConfig struct {
	// SenderDomain checks that the From address (req.Sender) is at a
	// verified, unsuspended sending domain of the account (EMAIL-4;
	// internal/compliance/emaildomain.go). Its Reject, Hold or Defer stops
	// the message; nil: not checked here.
	SenderDomain func(ctx context.Context, req Request) (Decision, error)
}

// EmailCheck is the email channel's ChannelRules.Check. It reads the
// account's policy from the engine, so it runs inside Engine.Check only.
func EmailCheck(cfg EmailConfig) func(ctx context.Context, req Request) (Decision, error) {
	return func(ctx context.Context, req Request) (Decision, error) {
		acct, ok := ctx.Value(accountKey{}).(*cachedAccount)
		if !ok {
			return Decision{}, errors.New("compliance: the email rules run inside the engine")
		}
		d := Decision{Outcome: Allow}
		if !req.Reply && (req.Purpose == Marketing || len(req.Categories) > 0) {
			if strings.TrimSpace(acct.policy.PostalAddress) == "" {
				return Decision{Outcome: Reject, Rule: RuleEmailPostal,
					Reason: "marketing email must carry the sender's postal address, and the account has none: set postalAddress in the compliance policy"}, nil
			}
			allowed := strings.Split(acct.policy.RoleAddresses, ",")
			for i, r := range req.Recipients {
				if role := RoleAddress(r.Address); role != "" && !slices.Contains(allowed, role) {
					d.Refused = append(d.Refused, Refusal{Index: i, Recipient: r.Address, Rule: RuleEmailRole,
						Reason: role + "@ is a role address, not a person who opted in; marketing email does not go to role addresses"})
				}
			}
		}
		// The sending domain last: within a daily cap it takes quota for
		// the recipients that go (not the ones refused above).
		if cfg.SenderDomain != nil && !req.Reply && len(d.Refused) < len(req.Recipients) {
			sub := req
			if len(d.Refused) > 0 {
				refused := map[int]bool{}
				for _, f := range d.Refused {
					refused[f.Index] = true
				}
				sub.Recipients = nil
				for i, r := range req.Recipients {
					if !refused[i] {
						sub.Recipients = append(sub.Recipients, r)
					}
				}
			}
			sd, err := cfg.SenderDomain(ctx, sub)
			if err != nil {
				return Decision{}, err
			}
			switch sd.Outcome {
			case Reject, Hold, Defer:
				if sd.Rule == "" {
					sd.Rule = RuleEmailSenderDomain
				}
				return sd, nil
			}
		}
		return d, nil
	}
}

// RoleAddress is the role an email address is for ("info" for
// Info+news@example.com), or "" for a person's address.
func RoleAddress(address string) string {
	at := strings.LastIndexByte(address, '@')
	if at <= 0 {
		return ""
	}
	local := strings.ToLower(address[:at])
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		local = local[:plus]
	}
	if slices.Contains(RoleAddresses, local) {
		return local
	}
	return ""
}

// ParseRoleAddresses reads the role addresses an account may send
// marketing to: "info,sales" (with or without "@"); the fixed roles (abuse,
// postmaster, noreply …) cannot be allowed.
func ParseRoleAddresses(s string) ([]string, error) {
	var out []string
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(r)), "@")
		switch {
		case r == "":
			continue
		case slices.Contains(fixedRoles, r):
			return nil, invalid("roleAddresses", "%s@ cannot be allowed: it reaches the people who handle mail problems, or no one", r)
		case !slices.Contains(RoleAddresses, r):
			return nil, invalid("roleAddresses", "%q is not a role address (they are %s)", r, strings.Join(RoleAddresses, ", "))
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out, nil
}

// maxPostalAddress bounds the postal address: it goes in every marketing
// email's footer.
const maxPostalAddress = 300

// NormalizePostalAddress checks a postal address: printable text of at
// most 300 characters, lines joined with ", ". "" removes it.
func NormalizePostalAddress(s string) (string, error) {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, strings.TrimSuffix(l, ","))
		}
	}
	a := strings.Join(lines, ", ")
	switch {
	case !utf8.ValidString(a) || strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", invalid("postalAddress", "the postal address has control characters")
	case utf8.RuneCountInString(a) > maxPostalAddress:
		return "", invalid("postalAddress", "the postal address has at most %d characters", maxPostalAddress)
	case a != "" && (len(lines) < 2 && !strings.Contains(a, ",") || digits(a) == 0):
		return "", invalid("postalAddress", "%q does not look like a postal address: give street, postcode and city, e.g. Keizersgracht 1, 1015 CJ Amsterdam, NL", a)
	}
	return a, nil
}

// PostalAddress is the address compose prints in marketing email's
// footer: the account's policy's, "" when it has none (marketing email is
// then refused before it is composed).
func (e *Engine) PostalAddress(ctx context.Context, accountID string) (string, error) {
	p, err := e.Policy(ctx, accountID)
	if err != nil {
		return "", err
	}
	return p.PostalAddress, nil
}

// accountKey carries the engine's view of the account to a channel's Check.
type accountKey struct{}

// MessageText is the text of a message the content rules read: its body
// and, for an email, its subject and the text of its HTML part; a media
// caption; an interactive message's header, body, footer, buttons and
// rows. The same rules judge every channel's text (EMAIL-7, EMAIL-8).
func MessageText(m *message.Message) string {
	if m.Content == nil {
		return m.Body
	}
	parts := []string{m.Body}
	if em := m.Content.Email; em != nil {
		parts = append(parts, em.Subject, em.FromName, HTMLText(em.HTML))
	}
	for _, md := range m.Content.Media {
		parts = append(parts, md.Caption)
	}
	if in := m.Content.Interactive; in != nil { // a chat app's buttons and lists
		parts = append(parts, in.Header, in.Body, in.Footer, in.Button)
		for _, c := range in.Buttons {
			parts = append(parts, c.Title)
		}
		for _, sec := range in.Sections {
			parts = append(parts, sec.Title)
			for _, c := range sec.Rows {
				parts = append(parts, c.Title, c.Description)
			}
		}
	}
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p)
	}
	return b.String()
}

// HTMLText is the text a reader of an HTML part sees: tags, comments and
// the contents of script, style and head removed, entities decoded, each
// tag a word break, so that content rules match the text, not the markup.
// Link targets (href) are kept as words: a shortener hides there.
func HTMLText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var b strings.Builder
	skip := "" // the element whose content is not shown
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			if skip == "" {
				b.WriteString(s)
			}
			break
		}
		if skip == "" {
			b.WriteString(s[:i])
		}
		s = s[i:]
		if strings.HasPrefix(s, "<!--") {
			end := strings.Index(s, "-->")
			if end < 0 {
				break
			}
			s = s[end+3:]
			continue
		}
		end := tagEnd(s)
		tag := s[:end]
		s = s[end:]
		name := tagName(tag)
		switch {
		case skip != "":
			if name == "/"+skip {
				skip = ""
			}
			continue
		case name == "script" || name == "style" || name == "head" || name == "title":
			if !strings.HasSuffix(tag, "/>") {
				skip = name
			}
			continue
		}
		b.WriteByte(' ')
		if href := attr(tag, "href"); href != "" {
			b.WriteString(href)
			b.WriteByte(' ')
		}
	}
	return html.UnescapeString(b.String())
}

// tagEnd is the length of the tag s starts with, quoted attribute values
// included; all of s when it does not end.
func tagEnd(s string) int {
	var quote byte
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i + 1
		}
	}
	return len(s)
}

// tagName is a tag's lowercased name, with "/" before an end tag's.
func tagName(tag string) string {
	t := strings.TrimPrefix(tag, "<")
	closing := strings.HasPrefix(t, "/")
	t = strings.TrimPrefix(t, "/")
	if end := strings.IndexAny(t, " \t\r\n/>"); end >= 0 {
		t = t[:end]
	}
	if closing {
		return "/" + strings.ToLower(t)
	}
	return strings.ToLower(t)
}

// attr is the value of a tag's attribute, "" when it has none.
func attr(tag, name string) string {
	lower := asciiLower(tag) // byte for byte: indexes into it are indexes into tag
	i := strings.Index(lower, " "+name+"=")
	if i < 0 {
		return ""
	}
	v := tag[i+len(name)+2:]
	if v == "" {
		return ""
	}
	if q := v[0]; q == '"' || q == '\'' {
		if end := strings.IndexByte(v[1:], q); end >= 0 {
			return v[1 : end+1]
		}
		return v[1:]
	}
	if end := strings.IndexAny(v, " >\t\n"); end >= 0 {
		return v[:end]
	}
	return v
}

// asciiLower lowers A–Z only, keeping every other byte (strings.ToLower
// would turn an invalid byte into a three-byte U+FFFD and shift indexes).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// EmailComplaint records a recipient's complaint about an account's email
// (an ARF feedback report, a "this is spam" button): it counts towards the
// account's complaint threshold like any other complaint, which opens a
// proof case (EMAIL-6). The INBOUND side calls it for each complaint.
func (d *Desk) EmailComplaint(ctx context.Context, accountID, address, source string) (*store.ProofCase, error) {
	if source == "" {
		source = "email"
	}
	_, c, err := d.Complaint(ctx, accountID, strings.ToLower(address), source, "complaint about email")
	return c, err
}
