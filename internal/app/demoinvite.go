package app

import (
	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/users"
)

// consoleMailer is where the users service mails invitations and the
// owners' compromise notices: the notice mail server (--smtp-addr), or, in
// a demo without one, the demo's mail sink, so that a demo user can open
// the invitation from <data>/demo-mail/<address>/new/ and follow it.
type consoleMailer struct{ a *App }

var _ users.Mailer = consoleMailer{}

func (m consoleMailer) MailTo(to []string, subject, text string) error {
	if m.a.cfg.SMTPAddr == "" && m.a.demoMail != nil {
		n := notice.New(notice.Config{SMTPAddr: m.a.demoMail.Addr(), SMTPFrom: "console@" + DemoEmailDomain}, m.a.store, m.a.log)
		return n.MailTo(to, subject, text)
	}
	return m.a.notifier.MailTo(to, subject, text)
}
