package whatsapp

import (
	"context"
	"strconv"
	"strings"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/message"
)

// templateUpdate hands a template review to the receiver's registry; one
// without a registry drops it.
func (c *Connector) templateUpdate(ctx context.Context, t TemplateUpdate) error {
	tr, ok := c.rx.(channel.TemplateReceiver)
	if !ok {
		return nil
	}
	waba := t.WABAID
	if waba == "" {
		waba = c.set.WABAID
	}
	id := ""
	if t.ID != 0 {
		id = strconv.FormatInt(t.ID, 10)
	}
	reason := t.Reason
	if reason == "NONE" {
		reason = ""
	}
	return tr.TemplateStatus(ctx, channel.TemplateStatus{Connector: c.name, Channel: message.ChannelWhatsApp, Account: waba,
		ProviderID: id, Name: t.Name, Language: t.Language, Status: strings.ToUpper(t.Event), Reason: reason})
}
