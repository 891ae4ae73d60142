package console

import (
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// overviewData is the Overview page: the last seven days.
type overviewData struct {
	Account      *store.Account
	Days         []dayCount
	Channels     []channelCount
	Total        int
	Delivered    int
	Failed       int
	Spend        int64
	DeliveryRate float64
	Chart        chart
}

type dayCount struct {
	Day                      time.Time
	Total, Delivered, Failed int
	Label                    string
}

// channelCount is one channel's recipients of the week, by status.
type channelCount struct {
	Channel  string
	ByStatus map[string]int
	Total    int
}

// failed reports whether a status counts as failed on the Overview.
func failed(s string) bool {
	return s == string(message.DeliveryFailed) || s == string(message.Expired)
}

func (c *Console) overview(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	a, err := c.st.GetAccount(ctx, q.user.AccountID)
	if c.storeFailed(q, err) {
		return
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	from := today.Add(-6 * 24 * time.Hour)
	counts, err := c.st.DailyCounts(ctx, q.user.AccountID, from, today.Add(24*time.Hour))
	if err != nil {
		c.log.Error("console: overview", "err", err)
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	d := &overviewData{Account: a}
	for i := 0; i < 7; i++ {
		day := from.Add(time.Duration(i) * 24 * time.Hour)
		d.Days = append(d.Days, dayCount{Day: day, Label: q.loc.Day(day)})
	}
	channels := map[string]*channelCount{}
	for _, n := range counts {
		i := int(n.Day.Sub(from) / (24 * time.Hour))
		if i < 0 || i >= len(d.Days) {
			continue
		}
		dc := &d.Days[i]
		dc.Total += n.Count
		switch {
		case n.Status == string(message.Delivered):
			dc.Delivered += n.Count
		case failed(n.Status):
			dc.Failed += n.Count
		}
		d.Spend += n.Charged
		ch := channels[n.Channel]
		if ch == nil {
			ch = &channelCount{Channel: n.Channel, ByStatus: map[string]int{}}
			channels[n.Channel] = ch
		}
		ch.ByStatus[n.Status] += n.Count
		ch.Total += n.Count
	}
	for _, dc := range d.Days {
		d.Total += dc.Total
		d.Delivered += dc.Delivered
		d.Failed += dc.Failed
	}
	for _, ch := range channels {
		d.Channels = append(d.Channels, *ch)
	}
	sort.Slice(d.Channels, func(i, j int) bool { return d.Channels[i].Channel < d.Channels[j].Channel })
	if d.Delivered+d.Failed > 0 {
		d.DeliveryRate = float64(d.Delivered) / float64(d.Delivered+d.Failed)
	}
	d.Chart = barChart(q.loc, d.Days)
	c.render(q.w, http.StatusOK, "overview", q.page("title.overview", d))
}

// storeFailed answers a store error, if any: 404 for what the account
// does not have, 503 otherwise. False when err is nil.
func (c *Console) storeFailed(q *req, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		c.fail(q, http.StatusNotFound, q.loc.T("error.not_found"))
	default:
		c.log.Error("console: reading the store", "path", q.r.URL.Path, "err", err)
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
	}
	return true
}

// chart is an SVG bar chart drawn by the server: bars per day, delivered
// over the rest.
type chart struct {
	Width, Height int
	Bars          []bar
	Max           string
}

type bar struct {
	X, W, Y, H, DY, DH int
	Label, Value       string
	LX                 int
}

func barChart(l *Locale, days []dayCount) chart {
	const w, h, pad, base = 560, 200, 8, 170
	ch := chart{Width: w, Height: h}
	mx := 1
	for _, d := range days {
		mx = max(mx, d.Total)
	}
	ch.Max = l.Num(mx)
	step := (w - 2*pad) / len(days)
	for i, d := range days {
		x := pad + i*step
		bh := d.Total * (base - 20) / mx
		dh := d.Delivered * (base - 20) / mx
		ch.Bars = append(ch.Bars, bar{X: x + 6, W: step - 12, Y: base - bh, H: bh, DY: base - dh, DH: dh,
			Label: d.Label, Value: l.Num(d.Total), LX: x + step/2})
	}
	return ch
}

// messagesData is the Messages log with its search.
type messagesData struct {
	Q        map[string]string
	Messages []*message.Message
	Total    int
	More     bool // more than maxCounted match (Total is maxCounted)
	Statuses []message.Status
}

// maxCounted bounds the matches the Messages page counts: past it the page
// says "more than", which keeps a search over a million messages fast.
const maxCounted = 1000

var listStatuses = []message.Status{message.Scheduled, message.Sent, message.Buffered, message.Delivered, message.Expired, message.DeliveryFailed}

func (c *Console) messages(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	v := q.r.URL.Query()
	get := func(k string, n int) string {
		s := strings.TrimSpace(v.Get(k))
		if len(s) > n {
			s = s[:n]
		}
		return s
	}
	f := store.MessageFilter{Recipient: strings.TrimPrefix(get("recipient", 320), "+"), Reference: get("reference", 200),
		Channel: get("channel", 40), Limit: 50, CountLimit: maxCounted + 1}
	d := &messagesData{Q: map[string]string{"recipient": get("recipient", 320), "reference": f.Reference, "channel": f.Channel,
		"status": get("status", 40), "id": get("id", 64), "from": get("from", 10), "until": get("until", 10)}, Statuses: listStatuses}
	if id := d.Q["id"]; id != "" {
		http.Redirect(q.w, q.r, "/console/messages/"+urlPathEscape(id), http.StatusSeeOther)
		return
	}
	if s := d.Q["status"]; s != "" {
		f.Status = message.Status(s)
		if f.Recipient == "" && f.Reference == "" {
			c.planStatusSearch(ctx, q.user.AccountID, &f)
		}
	}
	for k, t := range map[string]*time.Time{"from": &f.From, "until": &f.Until} {
		if s := d.Q[k]; s != "" {
			p, err := time.Parse("2006-01-02", s)
			if err != nil {
				c.fail(q, http.StatusBadRequest, q.loc.T("error.date"))
				return
			}
			*t = p
			if k == "until" {
				*t = p.Add(24 * time.Hour)
			}
		}
	}
	var err error
	if d.Messages, d.Total, err = c.st.ListMessages(ctx, q.user.AccountID, f); err != nil {
		c.log.Error("console: messages", "err", err)
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	if bound := f.CountLimit - 1; d.Total > bound {
		d.Total, d.More = bound, true
	}
	c.render(q.w, http.StatusOK, "messages", q.page("title.messages", d))
}

func urlPathEscape(s string) string {
	return strings.NewReplacer("/", "%2F", "?", "%3F", "#", "%23", "%", "%25").Replace(s)
}

// usersData is the Users and seats page.
type usersData struct {
	Users     []store.User
	Seats     *users.Seats
	Roles     []string
	CanManage bool
	CanSeats  bool
	Link      string
}

func (c *Console) usersPage(q *req) { c.showUsers(q, http.StatusOK, "", "") }

func (c *Console) showUsers(q *req, status int, errMsg, link string) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	us, err := c.users.Users(ctx, q.user)
	if err != nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	seats, err := c.users.SeatsOf(ctx, q.user.AccountID)
	if err != nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	p := q.page("title.users", &usersData{Users: us, Seats: seats, Roles: users.AccountRoles,
		CanManage: users.Can(q.user.Role, users.ManageUsers), CanSeats: users.Can(q.user.Role, users.ManageSeats), Link: link})
	p.Error = errMsg
	c.render(q.w, status, "users", p)
}

// userErr is an error of the users service in the user's language.
func (c *Console) userErr(q *req, err error) (int, string) {
	switch {
	case errors.Is(err, users.ErrForbidden):
		return http.StatusForbidden, q.loc.T("error.forbidden")
	case errors.Is(err, users.ErrSeats):
		return http.StatusConflict, q.loc.T("error.seats")
	case errors.Is(err, users.ErrLastOwner):
		return http.StatusConflict, q.loc.T("error.last_owner")
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, q.loc.T("error.not_found")
	}
	return http.StatusBadRequest, q.loc.T("error.invalid") + " " + err.Error()
}

func (c *Console) invite(q *req) {
	link, err := c.users.Invite(q.r.Context(), q.user, q.r.PostFormValue("email"), q.r.PostFormValue("role"))
	if err != nil {
		st, msg := c.userErr(q, err)
		c.showUsers(q, st, msg, "")
		return
	}
	c.showUsers(q, http.StatusOK, "", link)
}

func (c *Console) changeRole(q *req) {
	c.userAction(q, c.users.ChangeRole(q.r.Context(), q.user, q.r.PathValue("id"), q.r.PostFormValue("role")))
}

func (c *Console) remove(q *req) {
	c.userAction(q, c.users.Remove(q.r.Context(), q.user, q.r.PathValue("id")))
}

// userAction answers an action on a user: back to the list when it
// worked, 404 for a user not of the account, else the list with the error.
func (c *Console) userAction(q *req, err error) {
	if err == nil {
		http.Redirect(q.w, q.r, "/console/users", http.StatusSeeOther)
		return
	}
	st, msg := c.userErr(q, err)
	if st == http.StatusNotFound {
		c.fail(q, st, msg)
		return
	}
	c.showUsers(q, st, msg, "")
}

func (c *Console) addSeats(q *req) {
	n, err := strconv.Atoi(strings.TrimSpace(q.r.PostFormValue("seats")))
	if err != nil {
		c.showUsers(q, http.StatusBadRequest, q.loc.T("error.invalid"), "")
		return
	}
	if _, err := c.users.AddSeats(q.r.Context(), q.user, n); err != nil {
		st, msg := c.userErr(q, err)
		c.showUsers(q, st, msg, "")
		return
	}
	http.Redirect(q.w, q.r, "/console/users", http.StatusSeeOther)
}

// billingData is the Balance and ledger page.
type billingData struct {
	Account *store.Account
	Ledger  []store.LedgerEntry
	Month   string
	CanCSV  bool
}

func (c *Console) billing(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	a, err := c.st.GetAccount(ctx, q.user.AccountID)
	if c.storeFailed(q, err) {
		return
	}
	led, err := c.st.Ledger(ctx, q.user.AccountID, 50, 0)
	if err != nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	c.render(q.w, http.StatusOK, "billing", q.page("title.billing", &billingData{Account: a, Ledger: led,
		Month: time.Now().UTC().Format("2006-01"), CanCSV: users.Can(q.user.Role, users.ExportStatements)}))
}

// statement downloads a month of the ledger as CSV. Cells that a
// spreadsheet would run as a formula are quoted with a leading '.
func (c *Console) statement(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	month := q.r.URL.Query().Get("month")
	start, err := time.Parse("2006-01", month)
	if err != nil {
		c.fail(q, http.StatusBadRequest, q.loc.T("error.date"))
		return
	}
	end := start.AddDate(0, 1, 0)
	var rows []store.LedgerEntry
	for before := int64(0); ; {
		page, err := c.st.LedgerBefore(ctx, q.user.AccountID, before, 500)
		if err != nil {
			c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
			return
		}
		done := len(page) < 500
		if len(page) > 0 {
			before = page[len(page)-1].ID
		}
		for _, e := range page {
			if !e.CreatedAt.Before(start) && e.CreatedAt.Before(end) {
				rows = append(rows, e)
			}
			if e.CreatedAt.Before(start) {
				done = true
			}
		}
		if done {
			break
		}
	}
	h := q.w.Header()
	headers(q.w)
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"statement-%s.csv\"", start.Format("2006-01")))
	cw := csv.NewWriter(q.w)
	cw.Write([]string{"id", "created_at", "kind", "amount", "currency", "balance_after", "reference", "reason", "actor"})
	for i := len(rows) - 1; i >= 0; i-- { // oldest first
		e := rows[i]
		cw.Write([]string{strconv.FormatInt(e.ID, 10), e.CreatedAt.Format(time.RFC3339), cell(e.Kind), micro(e.Amount), e.Currency,
			micro(e.BalanceAfter), cell(e.Reference), cell(e.Reason), cell(e.Actor)})
	}
	cw.Flush()
}

func micro(v int64) string { return strconv.FormatFloat(float64(v)/1e6, 'f', 6, 64) }

func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (c *Console) profile(q *req) { c.showProfile(q, http.StatusOK, "") }

// showProfile shows the profile; a user without a second factor gets a
// new secret to add to their app (it is stored only once they confirm it
// with a code).
func (c *Console) showProfile(q *req, status int, errMsg string) {
	c.showProfileWith(q, status, errMsg, "")
}

// showProfileWith is showProfile with a personal API token just made
// (shown once).
func (c *Console) showProfileWith(q *req, status int, errMsg, madeToken string) {
	d := map[string]any{"Languages": Languages, "TwoFactor": q.user.TOTPSecret != "", "Operator": q.user.Role == users.RoleOperator}
	if q.user.TOTPSecret == "" {
		secret := users.NewTOTPSecret()
		// template.URL: the otpauth scheme is ours, built here, and
		// html/template would otherwise blank a scheme it does not know.
		d["Secret"], d["URI"] = secret, template.URL(users.TOTPURI(c.users.Config().Issuer, q.user.Email, secret))
	}
	if err := c.profileExtras(q, d, madeToken); err != nil {
		c.log.Error("console: profile", "err", err)
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	p := q.page("title.profile", d)
	p.Error = errMsg
	c.render(q.w, status, "profile", p)
}

func (c *Console) enableTOTP(q *req) {
	if err := c.users.EnableTOTP(q.r.Context(), q.user, q.r.PostFormValue("secret"), q.r.PostFormValue("code")); err != nil {
		c.showProfile(q, http.StatusBadRequest, q.loc.T("error.code"))
		return
	}
	http.Redirect(q.w, q.r, "/console/profile", http.StatusSeeOther)
}

func (c *Console) disableTOTP(q *req) {
	if err := c.users.DisableTOTP(q.r.Context(), q.user, q.r.PostFormValue("code")); err != nil {
		c.showProfile(q, http.StatusBadRequest, q.loc.T("error.code"))
		return
	}
	http.Redirect(q.w, q.r, "/console/profile", http.StatusSeeOther)
}

func (c *Console) setLanguage(q *req) {
	if err := c.users.SetLanguage(q.r.Context(), q.user, q.r.PostFormValue("language")); err != nil {
		c.fail(q, http.StatusBadRequest, q.loc.T("error.invalid"))
		return
	}
	http.Redirect(q.w, q.r, "/console/profile", http.StatusSeeOther)
}

// compromised (PRIV-4): the user reports their credentials; they are
// locked and signed out at once.
func (c *Console) compromised(q *req) {
	if q.r.PostFormValue("confirm") != "yes" {
		c.fail(q, http.StatusBadRequest, q.loc.T("error.confirm"))
		return
	}
	if err := c.users.ReportCompromised(q.r.Context(), q.user, sourceOf(q.r)); err != nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	c.setCookie(q.w, q.r, sessionCookie, "", -1)
	c.errorPage(q.w, q.r, http.StatusOK, "profile.locked")
}
