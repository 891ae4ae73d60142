package console

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// A message's page: its recipients and its timeline, in time order —
// accepted, the compliance decision, charged, each part handed to its
// connector and each receipt for it (recipient_parts), each recipient's
// status, each recorded event (opened, clicked…) and each status report
// or Conversations webhook call with its HTTP answer (the webhook log).

// maxTimelineAttempts bounds the webhook calls a timeline shows; the
// webhook log, filtered by the message, has them all.
const maxTimelineAttempts = 100

// step is one line of a message's timeline.
type step struct {
	At        time.Time
	Key       string // the catalogue key of what happened
	Recipient string
	Detail    string // a status reason, an amount, a connector, an event's detail: shown as given
	Code      int    // an error code; 0 for none
	Part      int    // the part of a multi-part message, from 1; 0 when not about a part
	Parts     int
	Call      bool   // a webhook call: Answer and Outcome are shown
	Answer    int    // its HTTP status; 0 when no answer came
	Outcome   string // store.AttemptOK, AttemptRetry or AttemptDropped
}

// messageData is a message and its timeline.
type messageData struct {
	M        *message.Message
	Timeline []step
	// LogLink is the webhook log of this message, for roles that may
	// open it.
	LogLink string
}

func (c *Console) message(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	m, err := c.st.GetMessage(ctx, q.user.AccountID, q.r.PathValue("id"))
	if c.storeFailed(q, err) {
		return
	}
	evs, err := c.st.MessageEvents(ctx, q.user.AccountID, []string{m.ID})
	if err != nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	parts, err := c.st.MessageParts(ctx, q.user.AccountID, m.ID)
	if err != nil {
		c.log.Error("console: message parts", "err", err)
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	calls, err := c.st.WebhookAttempts(ctx, q.user.AccountID, store.WebhookAttemptFilter{MessageID: m.ID, Limit: maxTimelineAttempts})
	if err != nil {
		c.log.Error("console: message webhook attempts", "err", err)
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	d := &messageData{M: m, Timeline: timeline(q.loc, m, evs[m.ID], parts, calls)}
	if len(calls) > 0 && users.Can(q.user.Role, users.ViewWebhooks) {
		d.LogLink = "/console/webhooks?message=" + m.ID
	}
	c.render(q.w, http.StatusOK, "message", q.page("title.message", d))
}

func timeline(l *Locale, m *message.Message, evs []store.Event, parts []store.MessagePart, calls []*store.WebhookAttempt) []step {
	tl := []step{{At: m.CreatedAt, Key: "timeline.accepted"}}
	if m.Compliance != "" || m.Purpose != "" {
		tl = append(tl, step{At: m.CreatedAt, Key: "timeline.compliance", Detail: strings.TrimSpace(m.Purpose + " " + m.Compliance)})
	}
	partsOf := map[int][]store.MessagePart{}
	for _, p := range parts {
		partsOf[p.Seq] = append(partsOf[p.Seq], p)
	}
	address := func(seq int) string {
		if seq >= 0 && seq < len(m.Recipients) {
			return m.Recipients[seq].Address
		}
		return ""
	}
	for _, r := range m.Recipients {
		if r.Price != 0 {
			tl = append(tl, step{At: m.CreatedAt, Key: "timeline.charged", Recipient: r.Address, Detail: l.Money(r.Price, r.PriceCurrency)})
		}
		ps := partsOf[r.Seq]
		for _, p := range ps {
			n := len(ps)
			if n < 2 {
				n = 0 // one part: no "part 1 of 1"
			}
			part := p.Part
			if n == 0 {
				part = 0
			}
			sent := p.SentAt
			if sent.IsZero() && p.Status == string(message.Sent) {
				sent = p.StatusAt
			}
			if !sent.IsZero() {
				tl = append(tl, step{At: sent, Key: "timeline.sent", Recipient: r.Address, Detail: p.Connector, Part: part, Parts: n})
			}
			if p.Status != string(message.Sent) {
				tl = append(tl, step{At: p.StatusAt, Key: "timeline.receipt_" + receiptKey(p.Status), Recipient: r.Address, Code: p.ErrorCode, Part: part, Parts: n})
			}
		}
		if len(ps) == 0 && r.Connector != "" {
			tl = append(tl, step{At: r.StatusAt, Key: "timeline.connector", Recipient: r.Address, Detail: r.Connector})
		}
		if !r.StatusAt.IsZero() {
			tl = append(tl, step{At: r.StatusAt, Key: "status." + string(r.Status), Recipient: r.Address, Detail: r.StatusReason, Code: r.StatusErrorCode})
		}
	}
	for _, e := range evs {
		d := make([]string, 0, len(e.Detail))
		for k, v := range e.Detail {
			d = append(d, k+"="+v)
		}
		sort.Strings(d)
		tl = append(tl, step{At: e.At, Key: "event." + e.Event, Recipient: address(e.Seq), Detail: strings.Join(d, " ")})
	}
	for _, a := range calls {
		s := step{At: a.At, Key: "timeline.call_" + a.Kind, Call: true, Answer: a.Code, Outcome: a.Outcome}
		// A report's event is a status: shown in the page's language.
		if _, ok := l.cat["status."+a.Event]; ok && a.Kind == store.AttemptReport {
			s.Detail = l.T("status." + a.Event)
		} else {
			s.Detail = a.Event
		}
		tl = append(tl, s)
	}
	sort.SliceStable(tl, func(i, j int) bool { return tl[i].At.Before(tl[j].At) })
	return tl
}

// receiptKey names a part's status in the timeline's keys; a status the
// timeline has no words for is shown as a receipt of that status.
func receiptKey(status string) string {
	switch status {
	case string(message.Delivered), string(message.DeliveryFailed), string(message.Expired), string(message.Buffered):
		return status
	}
	return "other"
}

func init() {
	addWords(map[string]map[string]string{
		"en": {
			"timeline.sent": "sent", "timeline.part": "part %d of %d",
			"timeline.receipt_delivered": "receipt: delivered", "timeline.receipt_delivery_failed": "receipt: delivery failed",
			"timeline.receipt_expired": "receipt: expired", "timeline.receipt_buffered": "receipt: buffered", "timeline.receipt_other": "receipt",
			"timeline.call_report": "status report", "timeline.call_conversation": "Conversations webhook",
			"timeline.answer": "HTTP answer %d", "timeline.no_answer": "no answer", "timeline.all_calls": "Every call in the webhook log",
		},
		"fr": {
			"timeline.sent": "envoyé", "timeline.part": "partie %d sur %d",
			"timeline.receipt_delivered": "accusé : remis", "timeline.receipt_delivery_failed": "accusé : échec de remise",
			"timeline.receipt_expired": "accusé : expiré", "timeline.receipt_buffered": "accusé : en attente", "timeline.receipt_other": "accusé de réception",
			"timeline.call_report": "rapport d’état", "timeline.call_conversation": "webhook Conversations",
			"timeline.answer": "réponse HTTP %d", "timeline.no_answer": "pas de réponse", "timeline.all_calls": "Tous les appels dans le journal des webhooks",
		},
		"ar": {
			"timeline.sent": "أُرسلت", "timeline.part": "الجزء %d من %d",
			"timeline.receipt_delivered": "إشعار: سُلّمت", "timeline.receipt_delivery_failed": "إشعار: فشل التسليم",
			"timeline.receipt_expired": "إشعار: انتهت صلاحيتها", "timeline.receipt_buffered": "إشعار: في الانتظار", "timeline.receipt_other": "إشعار استلام",
			"timeline.call_report": "تقرير الحالة", "timeline.call_conversation": "webhook المحادثات",
			"timeline.answer": "رد HTTP %d", "timeline.no_answer": "لا رد", "timeline.all_calls": "كل الاستدعاءات في سجل webhook",
		},
	})
}
