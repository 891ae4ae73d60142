package console

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// UseReports gives the console what wakes the status report sender, so
// that a re-sent report goes at once rather than at the sender's next
// poll.
func (c *Console) UseReports(notify func()) { c.notifyReports = notify }

func (c *Console) registerWebhooks(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/webhooks", c.signed(users.ViewWebhooks, c.webhooks))
	mux.HandleFunc("POST /console/webhooks/{id}/resend", c.signed(users.ResendWebhooks, c.resendReport))
}

// webhooksData is the Webhooks page: the log of webhook attempts with its
// filter.
type webhooksData struct {
	Q           map[string]string
	Attempts    []*store.WebhookAttempt
	Kinds       []string
	Outcomes    []string
	CanResend   bool
	CanMessages bool
	Resent      bool
}

// attemptOutcomes are the outcome filter's choices ("failed": every
// attempt that did not succeed).
var attemptOutcomes = []string{store.AttemptOK, store.AttemptRetry, store.AttemptDropped, "failed"}

var attemptKinds = []string{store.AttemptReport, store.AttemptConversation}

// maxAttemptsShown bounds the log's page.
const maxAttemptsShown = 200

func (c *Console) webhooks(q *req) {
	v := q.r.URL.Query()
	d := &webhooksData{Q: map[string]string{}, Kinds: attemptKinds, Outcomes: attemptOutcomes,
		CanResend: users.Can(q.user.Role, users.ResendWebhooks), CanMessages: users.Can(q.user.Role, users.ViewMessages),
		Resent: v.Get("resent") == "1"}
	for _, k := range []string{"kind", "outcome", "message", "from", "until"} {
		d.Q[k] = strings.TrimSpace(v.Get(k))
	}
	f := store.WebhookAttemptFilter{Limit: maxAttemptsShown}
	bad := func() {
		p := q.page("title.webhooks", &webhooksData{Q: map[string]string{}, Kinds: attemptKinds, Outcomes: attemptOutcomes})
		p.Error = q.loc.T("webhooks.error_filter")
		c.render(q.w, http.StatusBadRequest, "webhooks", p)
	}
	switch k := d.Q["kind"]; k {
	case "", store.AttemptReport, store.AttemptConversation:
		f.Kind = k
	default:
		bad()
		return
	}
	switch o := d.Q["outcome"]; o {
	case "":
	case "failed":
		f.Failed = true
	case store.AttemptOK, store.AttemptRetry, store.AttemptDropped:
		f.Outcome = o
	default:
		bad()
		return
	}
	if m := d.Q["message"]; len(m) > 64 {
		bad()
		return
	}
	f.MessageID = d.Q["message"]
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
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	list, err := c.st.WebhookAttempts(ctx, q.user.AccountID, f)
	if c.storeFailed(q, err) {
		return
	}
	d.Attempts = list
	c.render(q.w, http.StatusOK, "webhooks", q.page("title.webhooks", d))
}

// resendReport queues a logged status report again as a new report job:
// the sender delivers it like any other (its URL, format and signature
// read afresh), and its attempt joins the log.
func (c *Console) resendReport(q *req) {
	id, err := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(q, http.StatusNotFound, q.loc.T("error.not_found"))
		return
	}
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	a, err := c.st.GetWebhookAttempt(ctx, q.user.AccountID, id)
	if c.storeFailed(q, err) {
		return
	}
	if a.Kind == store.AttemptConversation {
		c.resendDelivery(q, a)
		return
	}
	var rep store.Report
	if a.Kind != store.AttemptReport || a.Payload == "" || json.Unmarshal([]byte(a.Payload), &rep) != nil {
		c.fail(q, http.StatusBadRequest, q.loc.T("webhooks.error_not_resendable"))
		return
	}
	m, err := c.st.GetMessage(ctx, q.user.AccountID, a.MessageID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (rep.Seq < 0 || rep.Seq >= len(m.Recipients))) {
		c.fail(q, http.StatusGone, q.loc.T("webhooks.error_message_gone"))
		return
	}
	if c.storeFailed(q, err) {
		return
	}
	now := time.Now().UTC()
	if err := c.st.EnqueueJob(ctx, &store.Job{Kind: store.JobReport, AccountID: q.user.AccountID, MessageID: a.MessageID,
		Payload: []byte(a.Payload), RunAt: now, CreatedAt: now}); err != nil {
		c.storeFailed(q, err)
		return
	}
	if c.notifyReports != nil {
		c.notifyReports()
	}
	c.audit("webhook.resent", q, slog.Int64("attempt", a.ID), slog.String("message", a.MessageID), slog.String("event", a.Event))
	http.Redirect(q.w, q.r, "/console/webhooks?resent=1&message="+url.QueryEscape(a.MessageID), http.StatusSeeOther)
}

// resendDelivery queues a logged Conversations delivery again, as a new
// pending delivery of its webhook: the deliverer sends it after any other
// of that webhook and conversation still waiting (their order is kept),
// reading the message or conversation afresh. A webhook removed or
// disabled since answers 410.
func (c *Console) resendDelivery(q *req, a *store.WebhookAttempt) {
	var rd store.ResentDelivery
	if a.Payload == "" || a.WebhookID == "" || json.Unmarshal([]byte(a.Payload), &rd) != nil || rd.ConversationID == "" {
		c.fail(q, http.StatusBadRequest, q.loc.T("webhooks.error_not_resendable"))
		return
	}
	err := c.st.ResendDelivery(q.r.Context(), &store.WebhookDelivery{AccountID: q.user.AccountID, WebhookID: a.WebhookID,
		ConversationID: rd.ConversationID, MessageID: a.MessageID, Event: a.Event, Payload: rd.Payload})
	if errors.Is(err, store.ErrNotFound) {
		c.fail(q, http.StatusGone, q.loc.T("webhooks.error_webhook_gone"))
		return
	}
	if c.storeFailed(q, err) {
		return
	}
	c.audit("webhook.resent", q, slog.Int64("attempt", a.ID), slog.String("webhook", a.WebhookID), slog.String("message", a.MessageID), slog.String("event", a.Event))
	http.Redirect(q.w, q.r, "/console/webhooks?resent=1&kind="+store.AttemptConversation, http.StatusSeeOther)
}

func init() {
	pageNames = append(pageNames, "webhooks")
	addWords(map[string]map[string]string{
		"en": {
			"nav.webhooks": "Webhooks", "title.webhooks": "Webhooks",
			"webhooks.help":                 "Every call made to your report URL and your Conversations webhooks, newest first. Addresses are never kept here.",
			"webhooks.kind":                 "Kind",
			"webhooks.kind_report":          "Status report",
			"webhooks.kind_conversation":    "Conversations webhook",
			"webhooks.outcome":              "Outcome",
			"webhooks.outcome_ok":           "succeeded",
			"webhooks.outcome_retry":        "failed, will retry",
			"webhooks.outcome_dropped":      "failed, given up",
			"webhooks.outcome_failed":       "every failure",
			"webhooks.message":              "Message id",
			"webhooks.event":                "Event",
			"webhooks.url":                  "Address called",
			"webhooks.code":                 "Response code",
			"webhooks.attempt":              "Attempt",
			"webhooks.took":                 "Time taken (ms)",
			"webhooks.error":                "Error",
			"webhooks.none":                 "No webhook attempt matches.",
			"webhooks.no_answer":            "no answer",
			"webhooks.resent":               "The report is queued again; its attempt appears here once made.",
			"webhooks.resend":               "Re-send",
			"webhooks.error_filter":         "That filter is not valid. Choose from the lists.",
			"webhooks.error_not_resendable": "Only a status report can be re-sent.",
			"webhooks.error_message_gone":   "The message of this report is no longer kept, so the report cannot be re-sent.",
			"webhooks.error_webhook_gone":   "This Conversations webhook was removed or disabled, so the delivery cannot be re-sent.",
		},
		"fr": {
			"nav.webhooks": "Webhooks", "title.webhooks": "Webhooks",
			"webhooks.help":                 "Chaque appel fait à votre URL de rapports et à vos webhooks Conversations, du plus récent au plus ancien. Aucune adresse n’est gardée ici.",
			"webhooks.kind":                 "Type",
			"webhooks.kind_report":          "Rapport d’état",
			"webhooks.kind_conversation":    "Webhook Conversations",
			"webhooks.outcome":              "Résultat",
			"webhooks.outcome_ok":           "réussi",
			"webhooks.outcome_retry":        "échec, nouvel essai prévu",
			"webhooks.outcome_dropped":      "échec, abandonné",
			"webhooks.outcome_failed":       "tous les échecs",
			"webhooks.message":              "Identifiant du message",
			"webhooks.event":                "Événement",
			"webhooks.url":                  "Adresse appelée",
			"webhooks.code":                 "Code de réponse",
			"webhooks.attempt":              "Essai",
			"webhooks.took":                 "Durée (ms)",
			"webhooks.error":                "Erreur",
			"webhooks.none":                 "Aucun appel de webhook ne correspond.",
			"webhooks.no_answer":            "pas de réponse",
			"webhooks.resent":               "Le rapport est de nouveau en file d’attente ; son essai apparaîtra ici une fois fait.",
			"webhooks.resend":               "Renvoyer",
			"webhooks.error_filter":         "Ce filtre n’est pas valide. Choisissez dans les listes.",
			"webhooks.error_not_resendable": "Seul un rapport d’état peut être renvoyé.",
			"webhooks.error_message_gone":   "Le message de ce rapport n’est plus conservé : le rapport ne peut pas être renvoyé.",
			"webhooks.error_webhook_gone":   "Ce webhook Conversations a été supprimé ou désactivé : l’envoi ne peut pas être refait.",
		},
		"ar": {
			"nav.webhooks": "خطافات الويب", "title.webhooks": "خطافات الويب",
			"webhooks.help":                 "كل استدعاء أُجري إلى عنوان التقارير لديك وإلى خطافات المحادثات، الأحدث أولًا. لا تُحفظ أي عناوين مستلمين هنا.",
			"webhooks.kind":                 "النوع",
			"webhooks.kind_report":          "تقرير حالة",
			"webhooks.kind_conversation":    "خطاف المحادثات",
			"webhooks.outcome":              "النتيجة",
			"webhooks.outcome_ok":           "نجح",
			"webhooks.outcome_retry":        "فشل، ستُعاد المحاولة",
			"webhooks.outcome_dropped":      "فشل، تُرك",
			"webhooks.outcome_failed":       "كل الإخفاقات",
			"webhooks.message":              "معرّف الرسالة",
			"webhooks.event":                "الحدث",
			"webhooks.url":                  "العنوان المستدعى",
			"webhooks.code":                 "رمز الاستجابة",
			"webhooks.attempt":              "المحاولة",
			"webhooks.took":                 "المدة (م.ث)",
			"webhooks.error":                "الخطأ",
			"webhooks.none":                 "لا توجد محاولة مطابقة.",
			"webhooks.no_answer":            "لا رد",
			"webhooks.resent":               "أُعيد التقرير إلى قائمة الانتظار، وستظهر محاولته هنا حين تتم.",
			"webhooks.resend":               "أعد الإرسال",
			"webhooks.error_filter":         "هذا المرشِّح غير صالح. اختر من القوائم.",
			"webhooks.error_not_resendable": "لا يمكن إعادة إرسال إلا تقارير الحالة.",
			"webhooks.error_message_gone":   "لم تعد رسالة هذا التقرير محفوظة، فلا يمكن إعادة إرساله.",
			"webhooks.error_webhook_gone":   "حُذف webhook المحادثات هذا أو عُطّل، فلا يمكن إعادة الإرسال.",
		},
	})
}
