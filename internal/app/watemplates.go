package app

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/api"
	"github.com/omnigate/omnigate/internal/api/conversations"
	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/channel/whatsapp"
	"github.com/omnigate/omnigate/internal/connectors"
	"github.com/omnigate/omnigate/internal/store"
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

// useWATemplates wires template submission into the Conversations door
// among doors.
func useWATemplates(doors []api.Door, m *connectors.Manager) {
	for _, d := range doors {
		if c, ok := d.(*conversations.API); ok {
			withWATemplates(c, m)
		}
	}
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

// templateSyncEvery is how often maintenance compares the registry with
// the providers' lists of templates, catching up on reviews whose webhook
// was missed.
const templateSyncEvery = 15 * time.Minute

// templateSyncState is when syncWATemplates last ran.
type templateSyncState struct {
	sync.Mutex
	last time.Time
}

// syncWATemplates applies each running whatsapp connector's business
// account's template statuses to the registry, at most every
// templateSyncEvery unless force.
func (a *App) syncWATemplates(ctx context.Context, force bool) {
	a.templateSync.Lock()
	if !force && time.Since(a.templateSync.last) < templateSyncEvery {
		a.templateSync.Unlock()
		return
	}
	a.templateSync.last = time.Now()
	a.templateSync.Unlock()
	seen := map[string]bool{}
	for name := range a.connectors.Running() {
		c, ok := a.connectors.Connector(name)
		wc, isWA := c.(*whatsapp.Connector)
		if !ok || !isWA || wc.WABAID() == "" || seen[wc.WABAID()] {
			continue
		}
		seen[wc.WABAID()] = true
		list, err := wc.ListTemplates(ctx)
		if err != nil {
			a.log.Warn("whatsapp templates: listing the provider's templates", "connector", name, "err", err)
			continue
		}
		changed := 0
		for _, t := range list {
			if t.ID == "" || t.Status == "" {
				continue
			}
			n, err := a.store.ReviewWATemplates(ctx, store.TemplateReview{WABAID: wc.WABAID(), ProviderID: t.ID,
				Status: strings.ToUpper(t.Status), Reason: strings.TrimSuffix(t.Reason, "NONE")})
			if err != nil {
				a.log.Warn("whatsapp templates: recording a status", "connector", name, "err", err)
				break
			}
			changed += n
		}
		if changed > 0 {
			a.log.Info("whatsapp templates: statuses caught up from the provider", "connector", name, "templates", changed)
		}
	}
}
