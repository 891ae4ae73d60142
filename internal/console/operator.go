package console

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/store"
)

// UseDesk gives the console the compliance desk, for the operator's
// suspend and lift; without it those actions answer 503.
func (c *Console) UseDesk(d *compliance.Desk) { c.desk = d }

// accountRow is one account on the operator's Accounts page.
type accountRow struct {
	A         *store.Account
	Suspended string
}

// maxAccountsShown bounds the operator's list (a search comes later).
const maxAccountsShown = 500

func (c *Console) opAccounts(q *req) { c.showAccounts(q, http.StatusOK, "") }

func (c *Console) showAccounts(q *req, status int, errMsg string) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	as, err := c.st.ListAccounts(ctx)
	if err != nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	if len(as) > maxAccountsShown {
		as = as[:maxAccountsShown]
	}
	rows := make([]accountRow, 0, len(as))
	for _, a := range as {
		r := accountRow{A: a}
		if p, err := c.st.GetPolicy(ctx, a.ID); err == nil {
			r.Suspended = p.Suspended
		} else if !errors.Is(err, store.ErrNotFound) {
			c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
			return
		}
		rows = append(rows, r)
	}
	p := q.page("title.accounts", rows)
	p.Error = errMsg
	c.render(q.w, status, "accounts", p)
}

func (c *Console) opSuspend(q *req) {
	reason := strings.TrimSpace(q.r.PostFormValue("reason"))
	if reason == "" || len(reason) > 500 {
		c.showAccounts(q, http.StatusBadRequest, q.loc.T("error.reason"))
		return
	}
	c.opDecide(q, "account.suspended", func() error {
		_, err := c.desk.Suspend(q.r.Context(), q.r.PathValue("id"), reason, "console user "+q.user.ID)
		return err
	})
}

func (c *Console) opLift(q *req) {
	c.opDecide(q, "account.lifted", func() error {
		_, err := c.desk.Lift(q.r.Context(), q.r.PathValue("id"), "console user "+q.user.ID)
		return err
	})
}

func (c *Console) opDecide(q *req, event string, f func() error) {
	if c.desk == nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	if _, err := c.st.GetAccount(q.r.Context(), q.r.PathValue("id")); errors.Is(err, store.ErrNotFound) {
		c.fail(q, http.StatusNotFound, q.loc.T("error.not_found"))
		return
	}
	if err := f(); err != nil {
		c.showAccounts(q, http.StatusBadRequest, q.loc.T("error.invalid")+" "+err.Error())
		return
	}
	c.audit(event, q, slog.String("target_account", q.r.PathValue("id")))
	http.Redirect(q.w, q.r, "/console/operator/accounts", http.StatusSeeOther)
}
