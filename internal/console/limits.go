package console

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/admin"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// The Usage limits and alerts page: the account's usage limits with what
// each period used, and where alerts go (the store sends one at 80 % and
// one at 100 % of a limit, per period, to the alert URL and emails). A
// role with ManageLimits sets and removes limits and changes where alerts
// go; the same rules as the admin API's (admin.ParseLimit,
// admin.CheckBilling).

func init() {
	pageNames = append(pageNames, "limits")
}

// UseBilling lets the console drop the billing service's cached limits of
// an account when they change here, and build monthly statements. Call
// it before Register; without it, the limits and statements pages answer
// 503.
func (c *Console) UseBilling(b *billing.Service) { c.bill = b }

func (c *Console) registerLimits(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/limits", c.signed(users.ViewBilling, c.limits))
	mux.HandleFunc("POST /console/limits", c.signed(users.ManageLimits, c.setLimit))
	mux.HandleFunc("POST /console/limits/remove", c.signed(users.ManageLimits, c.removeLimit))
	mux.HandleFunc("POST /console/limits/alerts", c.signed(users.ManageLimits, c.setAlerts))
}

// limitRow is a limit with its use this period, ready to show.
type limitRow struct {
	store.Usage
	LimitText, UsedText string
	Percent             float64 // 0..1
	Over                bool    // at or past 80 %
}

type limitsData struct {
	Rows        []limitRow
	AlertURL    string
	AlertEmails string
	CanManage   bool
	Channels    []string
}

func (c *Console) limits(q *req) { c.showLimits(q, http.StatusOK, "") }

func (c *Console) showLimits(q *req, status int, errMsg string) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	a, err := c.st.GetAccount(ctx, q.user.AccountID)
	if c.storeFailed(q, err) {
		return
	}
	us, err := c.st.Usage(ctx, q.user.AccountID, time.Now())
	if c.storeFailed(q, err) {
		return
	}
	d := &limitsData{AlertURL: a.AlertURL, AlertEmails: strings.Join(a.AlertEmails, ", "), CanManage: users.Can(q.user.Role, users.ManageLimits),
		Channels: []string{message.ChannelSMS, message.ChannelEmail, message.ChannelWhatsApp}}
	for _, u := range us {
		r := limitRow{Usage: u}
		if u.Metric == store.MetricSpend {
			r.LimitText, r.UsedText = q.loc.Money(u.Limit, a.Currency), q.loc.Money(u.Used, a.Currency)
		} else {
			r.LimitText, r.UsedText = q.loc.Num(u.Limit), q.loc.Num(u.Used)
		}
		if u.Limit > 0 {
			r.Percent = float64(u.Used) / float64(u.Limit)
		}
		r.Over = r.Percent >= 0.8
		d.Rows = append(d.Rows, r)
	}
	p := q.page("title.limits", d)
	p.Error = errMsg
	c.render(q.w, status, "limits", p)
}

func (c *Console) setLimit(q *req) {
	if c.bill == nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	f := q.r.PostFormValue
	l, err := admin.ParseLimit(q.user.AccountID, f("metric"), f("channel"), f("period"), strings.TrimSpace(f("limit")), f("policy"))
	if err != nil {
		c.showLimits(q, http.StatusBadRequest, q.loc.T("error.invalid")+" "+err.Error())
		return
	}
	if l.Metric == store.MetricMessages && !validChannel(l.Channel) {
		c.showLimits(q, http.StatusBadRequest, q.loc.T("error.invalid")+" channel")
		return
	}
	if c.storeFailed(q, c.st.SetUsageLimit(q.r.Context(), l)) {
		return
	}
	c.bill.InvalidateLimits(q.user.AccountID)
	c.audit("limit.set", q, slog.String("metric", l.Metric), slog.String("channel", l.Channel), slog.String("period", l.Period),
		slog.Int64("limit", l.Limit), slog.String("policy", l.Policy))
	http.Redirect(q.w, q.r, "/console/limits", http.StatusSeeOther)
}

func validChannel(ch string) bool {
	return ch == message.ChannelSMS || ch == message.ChannelEmail || ch == message.ChannelWhatsApp
}

func (c *Console) removeLimit(q *req) {
	if c.bill == nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	f := q.r.PostFormValue
	l := store.UsageLimit{AccountID: q.user.AccountID, Metric: f("metric"), Channel: f("channel"), Period: f("period")}
	if c.storeFailed(q, c.st.DeleteUsageLimit(q.r.Context(), l)) {
		return
	}
	c.bill.InvalidateLimits(q.user.AccountID)
	c.audit("limit.removed", q, slog.String("metric", l.Metric), slog.String("channel", l.Channel), slog.String("period", l.Period))
	http.Redirect(q.w, q.r, "/console/limits", http.StatusSeeOther)
}

// setAlerts changes where the account's usage alerts go.
func (c *Console) setAlerts(q *req) {
	ctx := q.r.Context()
	a, err := c.st.GetAccount(ctx, q.user.AccountID)
	if c.storeFailed(q, err) {
		return
	}
	a.AlertURL = strings.TrimSpace(q.r.PostFormValue("alert_url"))
	a.AlertEmails = nil
	for _, e := range strings.FieldsFunc(q.r.PostFormValue("alert_emails"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		a.AlertEmails = append(a.AlertEmails, e)
	}
	if len(a.AlertEmails) > 20 {
		c.showLimits(q, http.StatusBadRequest, q.loc.T("error.invalid")+" alert emails: at most 20")
		return
	}
	if err := admin.CheckBilling(a); err != nil {
		c.showLimits(q, http.StatusBadRequest, q.loc.T("error.invalid")+" "+err.Error())
		return
	}
	if c.storeFailed(q, c.st.SetBilling(ctx, a)) {
		return
	}
	// The addresses are personal data: the audit notes that they changed.
	c.audit("alerts.changed", q, slog.Int("emails", len(a.AlertEmails)), slog.Bool("url", a.AlertURL != ""))
	http.Redirect(q.w, q.r, "/console/limits", http.StatusSeeOther)
}

func init() {
	addWords(map[string]map[string]string{
		"en": {
			"nav.limits": "Usage limits", "title.limits": "Usage limits and alerts",
			"limits.help": "A limit caps messages of a channel, or spend, per day or month. An alert is sent when 80 % and when 100 % of a limit is used; with the block policy, sending stops at 100 % until the period ends.",
			"limits.none": "No usage limits are set.",
			"limits.add":  "Set a limit", "limits.alerts": "Where alerts go",
			"col.metric": "Metric", "col.period": "Period", "col.limit": "Limit", "col.used": "Used this period", "col.policy": "At the limit", "col.since": "Period started",
			"metric.messages": "messages", "metric.spend": "spend", "period.day": "per day", "period.month": "per month",
			"policy.block": "block sending", "policy.allow": "allow, and alert",
			"field.limit": "Limit (messages, or an amount for spend)", "field.alert_url": "Alert URL (POSTed as JSON)", "field.alert_emails": "Alert emails (separated by commas)",
			"limits.near": "80 % or more used",
		},
		"fr": {
			"nav.limits": "Limites d’usage", "title.limits": "Limites d’usage et alertes",
			"limits.help": "Une limite plafonne les messages d’un canal, ou les dépenses, par jour ou par mois. Une alerte part à 80 % et à 100 % d’une limite ; avec la règle « bloquer », l’envoi s’arrête à 100 % jusqu’à la fin de la période.",
			"limits.none": "Aucune limite d’usage n’est définie.",
			"limits.add":  "Définir une limite", "limits.alerts": "Destinataires des alertes",
			"col.metric": "Mesure", "col.period": "Période", "col.limit": "Limite", "col.used": "Utilisé sur la période", "col.policy": "À la limite", "col.since": "Début de la période",
			"metric.messages": "messages", "metric.spend": "dépenses", "period.day": "par jour", "period.month": "par mois",
			"policy.block": "bloquer l’envoi", "policy.allow": "laisser passer et alerter",
			"field.limit": "Limite (messages, ou montant pour les dépenses)", "field.alert_url": "URL d’alerte (appelée en POST avec du JSON)", "field.alert_emails": "E-mails d’alerte (séparés par des virgules)",
			"limits.near": "80 % ou plus utilisés",
		},
		"ar": {
			"nav.limits": "حدود الاستخدام", "title.limits": "حدود الاستخدام والتنبيهات",
			"limits.help": "يحدّ الحد من رسائل قناة ما، أو من الإنفاق، في اليوم أو الشهر. يُرسل تنبيه عند استخدام ٨٠٪ وعند ١٠٠٪ من الحد؛ ومع سياسة الحظر يتوقف الإرسال عند ١٠٠٪ حتى نهاية المدة.",
			"limits.none": "لم تُحدَّد أي حدود استخدام.",
			"limits.add":  "تحديد حد", "limits.alerts": "وجهة التنبيهات",
			"col.metric": "المقياس", "col.period": "المدة", "col.limit": "الحد", "col.used": "المستخدم في هذه المدة", "col.policy": "عند بلوغ الحد", "col.since": "بداية المدة",
			"metric.messages": "الرسائل", "metric.spend": "الإنفاق", "period.day": "في اليوم", "period.month": "في الشهر",
			"policy.block": "حظر الإرسال", "policy.allow": "السماح مع التنبيه",
			"field.limit": "الحد (عدد الرسائل، أو مبلغ للإنفاق)", "field.alert_url": "رابط التنبيه (يُستدعى بـ POST مع JSON)", "field.alert_emails": "بريد التنبيهات (مفصول بفواصل)",
			"limits.near": "استُخدم ٨٠٪ أو أكثر",
		},
	})
}
