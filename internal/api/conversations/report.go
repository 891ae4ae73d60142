package conversations

import (
	"encoding/json"
	"fmt"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// ReportJSON is a status report of this door's messages, POSTed as JSON to
// the report URL in the style of a Conversations webhook: type
// "message.updated", the message as GET /v1/messages/{id} shows it (without
// events), and what changed for which recipient.
type ReportJSON struct {
	Type    string      `json:"type"`
	Message MessageJSON `json:"message"`
	Report  changeJSON  `json:"report"`
}

type changeJSON struct {
	Recipient       string            `json:"recipient"`
	Status          string            `json:"status"`         // Conversations name (accepted, sent, delivered, failed …)
	DeliveryStatus  string            `json:"deliveryStatus"` // the platform's (sent, delivered, delivery_failed …)
	StatusReason    string            `json:"statusReason"`
	StatusErrorCode *int              `json:"statusErrorCode"`
	Event           string            `json:"event,omitempty"` // bounced, complained, unsubscribed, opened, clicked
	Detail          map[string]string `json:"detail,omitempty"`
	Datetime        string            `json:"datetime"`
}

// ReportBody renders a status report of m (the webhook sender's format
// message.ReportConversations): the body to POST.
func ReportBody(m *message.Message, rep store.Report) ([]byte, error) {
	rp := m.Recipient(rep.Seq)
	if rp == nil {
		return nil, fmt.Errorf("report of recipient %d of a message of %d", rep.Seq, len(m.Recipients))
	}
	r := *rp
	at := r
	at.Status, at.StatusErrorCode = rep.Status, rep.ErrorCode // as of the report
	reason := rep.Reason
	if reason == "" {
		reason = rep.Status.DefaultReason()
	}
	c := changeJSON{Recipient: r.Address, Status: Status(&at), DeliveryStatus: string(rep.Status), StatusReason: reason,
		Event: rep.Event, Detail: rep.Detail, Datetime: timeText(rep.At)}
	if rep.ErrorCode != 0 {
		code := rep.ErrorCode
		c.StatusErrorCode = &code
	}
	return json.Marshal(ReportJSON{Type: "message.updated", Message: RenderMessage(m, nil), Report: c})
}
