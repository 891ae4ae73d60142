// Package personal gives each recipient of an email its own content: the
// Conversations door stores one message for all recipients, with each
// recipient's display name and substitution variables beside it
// (message.Email.Recipients, by Seq), and compose asks For before it builds
// a recipient's MIME. Keeping one message keeps acceptance atomic and the
// pipeline unchanged; the substitution is pure and cheap.
package personal

import (
	"strings"

	"github.com/omnigate/omnigate/internal/message"
)

// For returns m as recipient seq sees it: with performSubstitutions, each
// {{name}} in the subject, text and HTML replaced by the recipient's
// variable of that name (an unknown name is left as written, so a typo
// shows rather than vanishing). m itself is not changed; without
// substitution m is returned as it is.
func For(m *message.Message, seq int) *message.Message {
	e := email(m)
	if e == nil || !e.Substitute {
		return m
	}
	vars := Recipient(m, seq).Variables
	c := *m
	content := *m.Content
	ec := *e
	c.Content, content.Email = &content, &ec
	c.Body = Substitute(m.Body, vars)
	ec.Subject = Substitute(e.Subject, vars)
	ec.HTML = Substitute(e.HTML, vars)
	return &c
}

// Recipient is the per-recipient part of recipient seq (zero when none).
func Recipient(m *message.Message, seq int) message.EmailRecipient {
	e := email(m)
	if e == nil || seq < 0 || seq >= len(e.Recipients) {
		return message.EmailRecipient{}
	}
	return e.Recipients[seq]
}

// Name is recipient seq's display name for the To header ("" for none).
func Name(m *message.Message, seq int) string { return Recipient(m, seq).Name }

func email(m *message.Message) *message.Email {
	if m.Content == nil {
		return nil
	}
	return m.Content.Email
}

// Substitute replaces {{name}} (spaces inside the braces allowed) with
// vars[name]; names not in vars stay as written.
func Substitute(s string, vars map[string]string) string {
	if len(vars) == 0 || !strings.Contains(s, "{{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i+2:], "}}")
		if j < 0 {
			break
		}
		name := strings.TrimSpace(s[i+2 : i+2+j])
		v, ok := vars[name]
		b.WriteString(s[:i])
		if ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+4+j])
		}
		s = s[i+4+j:]
	}
	b.WriteString(s)
	return b.String()
}
