package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/users"
)

// The Statements page: an account's monthly statements (sent messages
// summed by day, channel and country, with what they cost), the last
// twelve months to pick from, each downloadable as CSV — the same
// statement as GET /statements/{month} of the API. The Balance page's
// CSV is the ledger (money movements); this is usage.

func init() {
	pageNames = append(pageNames, "statements")
}

func (c *Console) registerStatements(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/statements", c.signed(users.ExportStatements, c.statements))
	mux.HandleFunc("GET /console/statements/{file}", c.signed(users.ExportStatements, c.statementCSV))
}

// maxStatementLines bounds the lines shown on the page; the CSV has all.
const maxStatementLines = 400

type statementsData struct {
	Months    []string
	Month     string
	Statement *billing.Statement
	Cut       bool
}

func (c *Console) statements(q *req) {
	if c.bill == nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	now := time.Now().UTC()
	d := &statementsData{Month: q.r.URL.Query().Get("month")}
	if d.Month == "" {
		d.Month = now.Format("2006-01")
	}
	if _, err := time.Parse("2006-01", d.Month); err != nil || len(d.Month) != 7 {
		c.fail(q, http.StatusBadRequest, q.loc.T("error.date"))
		return
	}
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 12; i++ {
		d.Months = append(d.Months, first.AddDate(0, -i, 0).Format("2006-01"))
	}
	st, err := c.bill.MonthlyStatement(ctx, q.user.AccountID, d.Month)
	if c.storeFailed(q, err) {
		return
	}
	if len(st.Lines) > maxStatementLines {
		st.Lines, d.Cut = st.Lines[:maxStatementLines], true
	}
	d.Statement = st
	c.render(q.w, http.StatusOK, "statements", q.page("title.statements", d))
}

// statementCSV downloads a month's statement: /console/statements/2026-11.csv.
func (c *Console) statementCSV(q *req) {
	if c.bill == nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	month, ok := strings.CutSuffix(q.r.PathValue("file"), ".csv")
	if _, err := time.Parse("2006-01", month); !ok || err != nil || len(month) != 7 {
		c.fail(q, http.StatusBadRequest, q.loc.T("error.date"))
		return
	}
	st, err := c.bill.MonthlyStatement(ctx, q.user.AccountID, month)
	if c.storeFailed(q, err) {
		return
	}
	headers(q.w)
	q.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	q.w.Header().Set("Content-Disposition", `attachment; filename="statement-`+month+`.csv"`)
	if err := billing.WriteStatementCSV(q.w, st); err != nil {
		c.log.Warn("console: writing a statement", "err", err)
	}
}

func init() {
	addWords(map[string]map[string]string{
		"en": {
			"nav.statements": "Statements", "title.statements": "Monthly statements",
			"statements.help": "What the account sent each day, by channel and country, and what it cost. The CSV has every line.",
			"statements.none": "Nothing was sent this month.", "statements.cut": "The first %d lines are shown; download the CSV for all of them.",
			"statements.total": "Total", "col.country": "Country", "col.messages": "Messages", "col.recipients": "Recipients", "col.segments": "Parts",
			"action.show": "Show",
		},
		"fr": {
			"nav.statements": "Relevés", "title.statements": "Relevés mensuels",
			"statements.help": "Ce que le compte a envoyé chaque jour, par canal et par pays, et ce que cela a coûté. Le CSV contient toutes les lignes.",
			"statements.none": "Rien n’a été envoyé ce mois-ci.", "statements.cut": "Les %d premières lignes sont affichées ; téléchargez le CSV pour les voir toutes.",
			"statements.total": "Total", "col.country": "Pays", "col.messages": "Messages", "col.recipients": "Destinataires", "col.segments": "Parties",
			"action.show": "Afficher",
		},
		"ar": {
			"nav.statements": "الكشوف", "title.statements": "الكشوف الشهرية",
			"statements.help": "ما أرسله الحساب كل يوم، حسب القناة والبلد، وتكلفته. يحتوي ملف CSV على كل الأسطر.",
			"statements.none": "لم يُرسل شيء هذا الشهر.", "statements.cut": "تُعرض أول %d سطرًا؛ نزّل ملف CSV لرؤيتها كلها.",
			"statements.total": "المجموع", "col.country": "البلد", "col.messages": "الرسائل", "col.recipients": "المستلمون", "col.segments": "الأجزاء",
			"action.show": "عرض",
		},
	})
}
