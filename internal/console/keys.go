package console

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
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

// audit records a console action of the signed-in user.
func (c *Console) audit(event string, q *req, attrs ...slog.Attr) {
	c.users.Record(event, append([]slog.Attr{slog.String("user", q.user.ID), slog.String("account", q.user.AccountID),
		slog.String("source", sourceOf(q.r))}, attrs...)...)
}
