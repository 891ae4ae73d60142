package console

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// keysData is the Keys page: the account's access keys (never their
// text, but the one just made, shown once).
type keysData struct {
	Keys      []*store.AccessKey
	CanManage bool
	New       string
}

func (c *Console) keys(q *req) { c.showKeys(q, http.StatusOK, "") }

func (c *Console) showKeys(q *req, status int, made string) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	ks, err := c.st.AccessKeys(ctx, q.user.AccountID)
	if err != nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	c.render(q.w, status, "keys", q.page("title.keys", &keysData{Keys: ks, CanManage: users.Can(q.user.Role, users.ManageKeys), New: made}))
}

func (c *Console) createKey(q *req) {
	test := q.r.PostFormValue("test") == "yes"
	key, err := accounts.CreateKey(q.r.Context(), c.st, q.user.AccountID, test)
	if err != nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	c.audit("key.created", q, slog.Bool("test", test))
	c.showKeys(q, http.StatusOK, key)
}

func (c *Console) revokeKey(q *req) {
	k, err := c.st.RevokeAccessKey(q.r.Context(), q.user.AccountID, q.r.PathValue("id"), "user "+q.user.ID, time.Now().UTC())
	if c.storeFailed(q, err) {
		return
	}
	c.audit("key.revoked", q, slog.String("key_id", k.ID), slog.Bool("test", k.Test))
	http.Redirect(q.w, q.r, "/console/keys", http.StatusSeeOther)
}

// audit records a console action of the signed-in user: in the audit
// trail (the process log) and, with UseAuditLog, as a row of the stored,
// hash-chained audit log, under the account it changed (an operator's
// action: the target account).
func (c *Console) audit(event string, q *req, attrs ...slog.Attr) {
	c.users.Record(event, append([]slog.Attr{slog.String("user", q.user.ID), slog.String("account", q.user.AccountID),
		slog.String("source", sourceOf(q.r))}, attrs...)...)
	if c.changes == nil {
		return
	}
	account, after := q.user.AccountID, make(map[string]any, len(attrs))
	for _, a := range attrs {
		if a.Key == "target_account" {
			account = a.Value.String()
			continue
		}
		after[a.Key] = a.Value.Any()
	}
	c.changes.Record(q.r.Context(), audit.Change{Actor: audit.User(q.user.ID), Account: account, IP: sourceOf(q.r),
		Action: "console " + event, Object: q.r.URL.Path, After: after})
}

// UseAuditLog makes console actions also rows of the stored audit log.
func (c *Console) UseAuditLog(l *audit.Log) { c.changes = l }
