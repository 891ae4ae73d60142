package app

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/omnigate/omnigate/internal/api/conversations"
	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/channel/whatsapp"
	"github.com/omnigate/omnigate/internal/connectors"
)

// withWATemplates lets the Conversations door submit WhatsApp templates
// through the running whatsapp connector of a channel's number (the door
// itself never reaches a connector).
func withWATemplates(api *conversations.API, m *connectors.Manager) *conversations.API {
	api.SetTemplateSubmitter(func(ctx context.Context, sender, name, language, category string, components json.RawMessage) (conversations.SubmitResult, error) {
		conn := whatsAppConnector(m, sender)
		if conn == nil {
			return conversations.SubmitResult{}, &conversations.SubmitError{Field: "channelId",
				Reason: "no running whatsapp connector has the channel's phone number id " + sender + "; add one (omnigate connector add --kind whatsapp)"}
		}
		if conn.WABAID() == "" {
			return conversations.SubmitResult{}, &conversations.SubmitError{Field: "channelId",
				Reason: "the whatsapp connector " + conn.Name() + " has no wabaId: templates belong to the business account"}
		}
		out, err := conn.SubmitTemplate(ctx, name, language, category, components)
		var perm *channel.PermanentError
		if errors.As(err, &perm) {
			return conversations.SubmitResult{}, &conversations.SubmitError{Field: "components", Reason: "the provider refused the template: " + perm.Reason}
		}
		if err != nil {
			return conversations.SubmitResult{}, err
		}
		return conversations.SubmitResult{Connector: conn.Name(), WABAID: conn.WABAID(), ProviderID: out.ID, Status: out.Status, Category: out.Category}, nil
	})
	return api
}

// whatsAppConnector is the running whatsapp connector (first by name)
// that sends from the phone number id.
func whatsAppConnector(m *connectors.Manager, phoneNumberID string) *whatsapp.Connector {
	names := make([]string, 0)
	for name := range m.Running() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c, ok := m.Connector(name)
		if wc, isWA := c.(*whatsapp.Connector); ok && isWA && wc.PhoneNumberID() == phoneNumberID {
			return wc
		}
	}
	return nil
}
