package console

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// The operator's two queues: sender identities waiting for approval, and
// messages held by a content rule waiting for review. Both read what the
// admin API reads (/admin/accounts/{id}/senders, /admin/reviews) and
// decide through the same desk and store calls, audited as the
// console user.

func init() {
	pageNames = append(pageNames, "op_senders", "op_reviews", "op_cases")
}

// registerOpQueues adds the approval and review queues and the cases.
func (c *Console) registerOpQueues(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/operator/senders", c.signed(users.OperateSenders, c.opSenders))
	mux.HandleFunc("POST /console/operator/senders/{id}", c.signed(users.OperateSenders, c.opDecideSender))
	mux.HandleFunc("GET /console/operator/reviews", c.signed(users.OperateReviews, c.opReviews))
	mux.HandleFunc("POST /console/operator/reviews/{message}/{action}", c.signed(users.OperateReviews, c.opDecideReview))
	mux.HandleFunc("GET /console/operator/cases", c.signed(users.OperateCases, c.opCases))
}

// maxQueueShown bounds a queue page; the oldest come first.
const maxQueueShown = 200

// maxNote bounds a decision's note or reason.
const maxNote = 500

func (c *Console) opSenders(q *req) { c.showSenders(q, http.StatusOK, "") }

func (c *Console) showSenders(q *req, status int, errMsg string) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	list, err := c.st.SendersWithStatus(ctx, store.SenderPending, maxQueueShown)
	if c.storeFailed(q, err) {
		return
	}
	p := q.page("title.op_senders", list)
	p.Error = errMsg
	c.render(q.w, status, "op_senders", p)
}

// opDecideSender approves or refuses one pending sender; a refusal needs
// a reason, which the account sees as the sender's note.
func (c *Console) opDecideSender(q *req) {
	account := q.r.PathValue("id")
	originator := strings.TrimSpace(q.r.PostFormValue("originator"))
	note := strings.TrimSpace(q.r.PostFormValue("note"))
	status := map[string]string{"approve": store.SenderApproved, "refuse": store.SenderRejected}[q.r.PostFormValue("decision")]
	switch {
	case status == "" || originator == "":
		c.showSenders(q, http.StatusBadRequest, q.loc.T("error.invalid"))
		return
	case len(note) > maxNote || (status == store.SenderRejected && note == ""):
		c.showSenders(q, http.StatusBadRequest, q.loc.T("error.reason"))
		return
	case c.desk == nil:
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	if o, err := compliance.NormalizeSender(originator); err == nil {
		originator = o // as the desk stores it
	}
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	if _, err := c.st.GetAccount(ctx, account); c.storeFailed(q, err) {
		return
	}
	// Only a sender the account asked for: the queue decides requests,
	// it does not make senders up.
	list, err := c.st.Senders(ctx, account)
	if c.storeFailed(q, err) {
		return
	}
	found := false
	for _, s := range list {
		found = found || s.Originator == originator
	}
	if !found {
		c.fail(q, http.StatusNotFound, q.loc.T("error.not_found"))
		return
	}
	if _, err := c.desk.DecideSender(ctx, account, originator, status, "console user "+q.user.ID, note); err != nil {
		var inv *compliance.InputError
		if errors.As(err, &inv) {
			c.showSenders(q, http.StatusBadRequest, q.loc.T("error.invalid")+" "+err.Error())
			return
		}
		c.storeFailed(q, err)
		return
	}
	c.audit("sender."+status, q, slog.String("target_account", account), slog.String("originator", originator), slog.String("note", note))
	http.Redirect(q.w, q.r, "/console/operator/senders", http.StatusSeeOther)
}

// reviewsData is the content review queue with its filter.
type reviewsData struct {
	Status   string
	Statuses []string
	Reviews  []store.Review
}

var reviewStatuses = []string{store.ReviewPending, store.ReviewReleased, store.ReviewRejected}

func (c *Console) opReviews(q *req) { c.showReviews(q, http.StatusOK, "") }

func (c *Console) showReviews(q *req, status int, errMsg string) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	st := q.r.URL.Query().Get("status")
	if st == "" {
		st = store.ReviewPending
	}
	known := false
	for _, s := range reviewStatuses {
		known = known || s == st
	}
	if !known {
		c.fail(q, http.StatusBadRequest, q.loc.T("error.invalid"))
		return
	}
	list, err := c.st.Reviews(ctx, st, maxQueueShown)
	if c.storeFailed(q, err) {
		return
	}
	p := q.page("title.op_reviews", &reviewsData{Status: st, Statuses: reviewStatuses, Reviews: list})
	p.Error = errMsg
	c.render(q.w, status, "op_reviews", p)
}

// opDecideReview releases a held message (it is sent) or rejects it (it
// fails and is refunded).
func (c *Console) opDecideReview(q *req) {
	status := map[string]string{"release": store.ReviewReleased, "reject": store.ReviewRejected}[q.r.PathValue("action")]
	if status == "" {
		c.fail(q, http.StatusNotFound, q.loc.T("error.not_found"))
		return
	}
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	rv, err := c.st.DecideReview(ctx, q.r.PathValue("message"), status, "console user "+q.user.ID)
	if errors.Is(err, store.ErrConflict) {
		c.showReviews(q, http.StatusConflict, q.loc.T("error.decided"))
		return
	}
	if c.storeFailed(q, err) {
		return
	}
	if status == store.ReviewReleased && c.ops.Released != nil {
		c.ops.Released()
	}
	c.audit("review."+status, q, slog.String("target_account", rv.AccountID), slog.String("message", rv.MessageID), slog.String("rule", rv.Rule))
	http.Redirect(q.w, q.r, "/console/operator/reviews", http.StatusSeeOther)
}

// opCaseRow is a proof case with its deadline as the page shows it.
type opCaseRow struct {
	store.ProofCase
	Left Countdown // zero when the case is not open
}

type opCasesData struct {
	Status   string
	Statuses []string
	Cases    []opCaseRow
}

var caseStatuses = []string{store.CaseOpen, store.CaseAnswered, store.CaseExpired, store.CaseClosed}

// opCases lists the proof-of-consent cases of every account (open first
// by default), with the time left to answer.
func (c *Console) opCases(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	st := q.r.URL.Query().Get("status")
	if st == "" {
		st = store.CaseOpen
	}
	known := st == "all"
	for _, s := range caseStatuses {
		known = known || s == st
	}
	if !known {
		c.fail(q, http.StatusBadRequest, q.loc.T("error.invalid"))
		return
	}
	list, err := c.st.ProofCases(ctx, "")
	if c.storeFailed(q, err) {
		return
	}
	now := time.Now()
	d := &opCasesData{Status: st, Statuses: append(append([]string(nil), caseStatuses...), "all")}
	for _, pc := range list {
		if st != "all" && pc.Status != st {
			continue
		}
		r := opCaseRow{ProofCase: pc}
		if pc.Status == store.CaseOpen {
			r.Left = q.loc.Countdown(pc.DueAt.Sub(now))
		}
		d.Cases = append(d.Cases, r)
		if len(d.Cases) == maxQueueShown {
			break
		}
	}
	c.render(q.w, http.StatusOK, "op_cases", q.page("title.op_cases", d))
}
