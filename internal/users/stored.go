package users

import (
	"context"

	"github.com/omnigate/omnigate/internal/audit"
)

// Sign-in and account-security events are also rows of the stored,
// hash-chained audit log (issue 18), when the service has one
// (UseAuditLog): the trail in the process log rotates away, while
// accounts and operators read the stored log (GET /admin/audit, omnigate
// audit list, the console). A row names the user by id, the account, the
// client address and the action "console EVENT" (the console's actions'
// naming); never a password, a TOTP secret or code, a session or API
// token. A failed sign-in with an unknown email has no user to name: the
// email goes in as a field "email", which the log replaces with its
// pseudonym. Failures are stored only once they passed the authguard's
// limiter (the limited ones are not), so one address adds at most its
// budget of failed sign-ins (authguard.DefaultPerAddress a minute).

// UseAuditLog makes sign-in and account-security events also rows of l.
// The server sets it; the command line records its own commands instead.
func (s *Service) UseAuditLog(l *audit.Log) { s.changes = l }

type sourceKey struct{}

// WithSource gives ctx the client address of the request acting, for the
// stored rows of actions whose methods take no address (the console sets
// it for a signed-in user's requests).
func WithSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey{}, source)
}

func sourceIn(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}

// stored appends event, done by actor to account, to the stored audit
// log; details become the row's "after". source "" takes ctx's
// (WithSource). A failure to append is logged by the audit log: the event
// happened already.
func (s *Service) stored(ctx context.Context, actor audit.Actor, account, source, event, object string, details map[string]any) {
	if s.changes == nil {
		return
	}
	if source == "" {
		source = sourceIn(ctx)
	}
	var after any
	if len(details) > 0 {
		after = details
	}
	s.changes.Record(ctx, audit.Change{Actor: actor, Account: account, IP: source, Action: "console " + event,
		Object: object, After: after})
}

// userObject is the object of an event concerning user id.
func userObject(id string) string { return "/console/users/" + id }
