package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/store"
)

// NoticeConnectorSuspended is the notice an account gets when a connector
// its messages went through was suspended because the provider said the
// connector's account is gone (docs/whatsapp.md).
const NoticeConnectorSuspended = "channel.suspended"

// suspendConnector is the dispatcher's Config.Suspend: the provider said a
// connector's own account is gone (a WhatsApp business account locked, its
// number no longer registered). The connector is suspended on this node at
// once and in the database — with a notice to the account whose message
// found out, in the same transaction — so that every node stops using it
// and sends are refused with the reason rather than retried, until an
// operator runs `omnigate connector activate`.
func (a *App) suspendConnector(ctx context.Context, name string, m *message.Message, e *channel.SuspendError) {
	a.connectors.MarkSuspended(name, e.Reason, e.Code)
	now := time.Now().UTC()
	nt := notice.Notice{Type: NoticeConnectorSuspended,
		Subject: fmt.Sprintf("Your %s channel %s is suspended", m.Channel, name),
		Text: fmt.Sprintf("The provider refused a message with error %d: %s. The %s connector %s is suspended: messages through it fail with this reason "+
			"instead of being retried. Fix the account with the provider, then ask the operator to reactivate it (omnigate connector activate --name %s).",
			e.Code, e.Reason, m.Channel, name, name),
		Data: map[string]any{"connector": name, "channel": m.Channel, "code": e.Code, "reason": e.Reason, "message": m.ID}}
	changed, err := a.store.SuspendConnector(ctx, name, e.Reason, e.Code, now, []*store.Job{notice.Job(m.AccountID, nt, now)})
	switch {
	case errors.Is(err, store.ErrNotFound):
		// A built-in connector (the demo's): suspended on this node only.
		a.log.Warn("connector suspended (built in, not stored)", "connector", name, "code", e.Code)
	case err != nil:
		a.log.Error("suspending connector", "connector", name, "err", err)
	case changed:
		a.log.Warn("connector suspended", "connector", name, "code", e.Code, "account", m.AccountID)
		a.notifier.Notify()
	}
}
