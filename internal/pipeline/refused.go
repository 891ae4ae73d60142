package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Refused stores m, under id, as a message refused when it was accepted:
// for a door that answered with the id before the message was whole (the
// SMPP server's long messages), so that the refusal can still be looked up
// and reported under it. Every recipient ends delivery_failed at once with
// reason and code (their status time is the message's creation, which
// tells recipients refused at accept from those sent and failed); nothing
// is charged, sent or checked again, and a status report is queued for
// each recipient as for any failure. m is not prepared (it may be what
// preparation refused): recipients are numbered and the rest is stored as
// given.
func (p *Pipeline) Refused(ctx context.Context, m *message.Message, id, reason string, code int) error {
	if len(m.Recipients) == 0 || id == "" {
		return errors.New("pipeline: recording a refused message without id or recipients")
	}
	now := time.Now().UTC().Truncate(time.Microsecond) // as stored: it tells a refusal (see above)
	m.ID, m.CreatedAt, m.ScheduledAt = id, now, time.Time{}
	if m.Direction == "" {
		m.Direction = message.MT
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		r.Seq = i
		r.Status, r.StatusAt, r.StatusReason, r.StatusErrorCode = message.DeliveryFailed, now, reason, code
		r.Price, r.PriceCurrency, r.Connector = 0, "", ""
	}
	it := &store.Accept{Message: m}
	if err := p.submit(ctx, it, true); err != nil {
		return fmt.Errorf("recording a refused message: %w", err)
	}
	return it.Err
}
