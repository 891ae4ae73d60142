package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Reach is the check before sending (package hlr's, wired in internal/app):
// by recipient index, the recipients that cannot be reached now; an error
// refuses the message.
type Reach func(ctx context.Context, m *message.Message) (map[int]Unreachable, error)

// Unreachable is why a recipient is not sent to.
type Unreachable struct {
	Rule   string // the decision log's rule: "hlr.absent", "hlr.unknown"
	Code   int    // the recipient's status error code
	Reason string
}

// reach runs the check before sending on a live message, after compliance
// and before billing: unreachable recipients end at once, failed with the
// reason and code, and so are not charged; each is recorded in the
// decision log under its rule and counted with the compliance decisions. When no recipient is left the
// message is refused (nothing stored, no SMS charged), as a message whose
// every recipient compliance refused is.
func (p *Pipeline) reach(ctx context.Context, m *message.Message, now time.Time) error {
	out, err := p.cfg.Reach(ctx, m)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return nil
	}
	left := 0
	for i := range m.Recipients {
		if !m.Recipients[i].Status.Final() {
			left++
		}
	}
	decisions := make([]store.Decision, 0, len(out))
	for i := range m.Recipients {
		if u, ok := out[i]; ok {
			decisions = append(decisions, store.Decision{AccountID: m.AccountID, MessageID: m.ID, Recipient: m.Recipients[i].Address,
				Rule: u.Rule, Outcome: "reject", Reason: u.Reason, CreatedAt: now})
			p.metrics.Compliance.WithLabelValues(u.Rule, "reject").Inc()
		}
	}
	if err := p.store.RecordDecisions(ctx, decisions); err != nil {
		p.log.Warn("hlr check: recording a decision", "rule", decisions[0].Rule, "err", err)
	}
	if len(out) >= left {
		first := decisions[0].Recipient + ": " + decisions[0].Reason
		return &message.Invalid{Field: "recipients", Reason: fmt.Sprintf("no recipient can be reached (HLR check before sending); %s", first)}
	}
	for i, u := range out {
		r := &m.Recipients[i]
		r.Status, r.StatusAt = message.DeliveryFailed, now
		r.StatusReason, r.StatusErrorCode = u.Reason, u.Code
	}
	note := fmt.Sprintf("%d of %d recipients not reachable (HLR check)", len(out), len(m.Recipients))
	if m.Compliance != "" {
		note = "; " + note
	}
	m.Compliance += note
	return nil
}
