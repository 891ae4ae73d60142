package conversations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/webhook"
)

// Webhook bounds.
const (
	maxWebhooks     = 100 // per account
	maxSettings     = 4 << 10
	maxWebhookURL   = 2048
	webhookNotFound = "webhook not found"
)

var webhookEvents = []string{store.EventConversationCreated, store.EventConversationUpdated, store.EventMessageCreated, store.EventMessageUpdated}

// webhookRequest is the body of POST /v1/webhooks and of PATCH (or PUT)
// /v1/webhooks/{id}.
type webhookRequest struct {
	ChannelID *string `json:"channelId"`
	// ChannelIDSnake is channelId as the Ruby SDK names it.
	ChannelIDSnake *string         `json:"channel_id"`
	Events         []string        `json:"events"`
	URL            *string         `json:"url"`
	Status         *string         `json:"status"`
	Settings       json.RawMessage `json:"settings"`
	// The webhook's read-only fields, ignored: the PHP SDK's update (PUT)
	// sends back every field of a webhook object it read.
	ID              json.RawMessage `json:"id"`
	Href            json.RawMessage `json:"href"`
	CreatedDatetime json.RawMessage `json:"createdDatetime"`
	UpdatedDatetime json.RawMessage `json:"updatedDatetime"`
}

// WebhookJSON is a webhook in the Conversations shape.
type WebhookJSON struct {
	ID              string          `json:"id"`
	ChannelID       string          `json:"channelId"`
	Events          []string        `json:"events"`
	URL             string          `json:"url"`
	Status          string          `json:"status"`
	Settings        json.RawMessage `json:"settings,omitempty"`
	CreatedDatetime string          `json:"createdDatetime"`
	UpdatedDatetime *string         `json:"updatedDatetime"`
}

func renderWebhook(wh *store.ConvWebhook) WebhookJSON {
	out := WebhookJSON{ID: wh.ID, ChannelID: wh.ChannelID, Events: wh.Events, URL: wh.URL, Status: wh.Status, CreatedDatetime: timeText(wh.CreatedAt)}
	if wh.Settings != "" {
		out.Settings = json.RawMessage(webhook.MaskPassword(wh.Settings))
	}
	if wh.UpdatedAt.After(wh.CreatedAt) {
		s := timeText(wh.UpdatedAt)
		out.UpdatedDatetime = &s
	}
	return out
}

// checkWebhook validates a webhook request onto wh; create says every
// required field must be there.
func (a *API) checkWebhook(ctx context.Context, req *webhookRequest, wh *store.ConvWebhook, create bool) *rest.Problem {
	if create {
		if req.Status != nil {
			return rest.Invalid("status", "a new webhook is enabled; PATCH it to disable it")
		}
		if req.URL == nil {
			return rest.Missing("url")
		}
		if req.Events == nil {
			return rest.Missing("events")
		}
		if req.ChannelID != nil && strings.TrimSpace(*req.ChannelID) != "" {
			id := strings.TrimSpace(*req.ChannelID)
			if !channelID.MatchString(id) {
				return rest.Invalid("channelId", "channelId must be the id of one of your channels (GET /v1/channels)")
			}
			if _, err := a.store.GetConvChannel(ctx, wh.AccountID, id); errors.Is(err, store.ErrNotFound) {
				return rest.Invalid("channelId", "no channel "+id+"; GET /v1/channels lists yours")
			} else if err != nil {
				return rest.NewProblem(http.StatusInternalServerError, rest.CodeInternal, "", "could not read the channel; try again later")
			}
			wh.ChannelID = id
		}
	} else if req.ChannelID != nil && strings.TrimSpace(*req.ChannelID) != wh.ChannelID {
		return rest.Invalid("channelId", "a webhook's channel cannot change; create another webhook")
	}
	if req.URL != nil {
		u := strings.TrimSpace(*req.URL)
		pu, err := url.Parse(u)
		if u == "" {
			return rest.Missing("url")
		}
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || len(u) > maxWebhookURL || strings.ContainsAny(u, " \r\n\t") {
			return rest.Invalid("url", "url must be an absolute http or https URL of at most 2048 characters")
		}
		wh.URL = u
	}
	if req.Events != nil {
		if len(req.Events) == 0 {
			return rest.Invalid("events", "events lists at least one of "+strings.Join(webhookEvents, ", "))
		}
		seen := map[string]bool{}
		var evs []string
		for i, e := range req.Events {
			known := false
			for _, k := range webhookEvents {
				known = known || e == k
			}
			if !known {
				return rest.Invalid(fmt.Sprintf("events[%d]", i), "unknown event "+rest.Quote(e)+"; events are "+strings.Join(webhookEvents, ", "))
			}
			if !seen[e] {
				seen[e] = true
				evs = append(evs, e)
			}
		}
		wh.Events = evs
	}
	if req.Status != nil {
		if *req.Status != store.WebhookEnabled && *req.Status != store.WebhookDisabled {
			return rest.Invalid("status", "status must be enabled or disabled")
		}
		wh.Status = *req.Status
	}
	if len(req.Settings) > 0 {
		raw := bytes.TrimSpace(req.Settings)
		switch {
		case string(raw) == "null":
			wh.Settings = ""
		case raw[0] != '{':
			return rest.Invalid("settings", "settings must be an object")
		case len(raw) > maxSettings:
			return rest.Invalid("settings", fmt.Sprintf("settings has at most %d bytes", maxSettings))
		default:
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				return rest.Invalid("settings", "settings must be an object")
			}
			settings := webhook.KeepPassword(compact.String(), wh.Settings)
			if _, err := webhook.ParseSettings([]byte(settings)); err != nil {
				var se *webhook.SettingsError
				if errors.As(err, &se) {
					return rest.Invalid(se.Field, se.Msg)
				}
				return rest.Invalid("settings", err.Error())
			}
			wh.Settings = settings
		}
	}
	return nil
}

// createWebhook handles POST /v1/webhooks.
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var req webhookRequest
	if p := decodeStrict(w, r, "POST /v1/webhooks", &req); p != nil {
		return p
	}
	if req.ChannelID == nil {
		req.ChannelID = req.ChannelIDSnake
	}
	pr := rest.Principal(r.Context())
	wh := &store.ConvWebhook{ID: ids.New(), AccountID: pr.AccountID, Status: store.WebhookEnabled}
	if p := a.checkWebhook(r.Context(), &req, wh, true); p != nil {
		return p
	}
	if pr.Test {
		return rest.TestKeyRefused("create webhooks")
	}
	if _, total, err := a.store.ListConvWebhooks(r.Context(), pr.AccountID, 1, 0); err != nil {
		return err
	} else if total >= maxWebhooks {
		return rest.Invalid("url", fmt.Sprintf("an account has at most %d webhooks; delete one first", maxWebhooks))
	}
	if err := a.store.CreateConvWebhook(r.Context(), wh); err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusCreated, renderWebhook(wh))
	return nil
}

func (a *API) readWebhook(r *http.Request) (*store.ConvWebhook, error) {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return nil, rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", webhookNotFound)
	}
	wh, err := a.store.GetConvWebhook(r.Context(), pr.AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", webhookNotFound)
	}
	return wh, err
}

// getWebhook handles GET /v1/webhooks/{id}.
func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := a.readWebhook(r)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, renderWebhook(wh))
	return nil
}

// updateWebhook handles PATCH /v1/webhooks/{id} (and PUT, as the PHP SDK
// sends it): url, events, status, settings.
func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	var req webhookRequest
	if p := decodeStrict(w, r, "PATCH /v1/webhooks/{id}", &req); p != nil {
		return p
	}
	if req.ChannelID == nil {
		req.ChannelID = req.ChannelIDSnake
	}
	wh, err := a.readWebhook(r)
	if err != nil {
		return err
	}
	if p := a.checkWebhook(r.Context(), &req, wh, false); p != nil {
		return p
	}
	if err := a.store.UpdateConvWebhook(r.Context(), wh); errors.Is(err, store.ErrNotFound) {
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", webhookNotFound)
	} else if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, renderWebhook(wh))
	return nil
}

// deleteWebhook handles DELETE /v1/webhooks/{id}: 204, and what was still
// due to it is not delivered.
func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := a.readWebhook(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteConvWebhook(r.Context(), wh.AccountID, wh.ID); errors.Is(err, store.ErrNotFound) {
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", webhookNotFound)
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type webhookListJSON struct {
	Offset     int           `json:"offset"`
	Limit      int           `json:"limit"`
	Count      int           `json:"count"`
	TotalCount int           `json:"totalCount"`
	Items      []WebhookJSON `json:"items"`
}

// listWebhooks handles GET /v1/webhooks: the account's webhooks, oldest
// first.
func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name := range q {
		if name != "limit" && name != "offset" {
			return rest.Invalid(name, "unknown parameter "+rest.Quote(name)+"; GET /v1/webhooks takes limit and offset")
		}
	}
	limit, offset, p := rest.Paging(q)
	if p != nil {
		return p
	}
	out := webhookListJSON{Offset: offset, Limit: limit, Items: []WebhookJSON{}}
	pr := rest.Principal(r.Context())
	if !pr.Test {
		list, total, err := a.store.ListConvWebhooks(r.Context(), pr.AccountID, limit, offset)
		if err != nil {
			return err
		}
		out.TotalCount = total
		for _, wh := range list {
			out.Items = append(out.Items, renderWebhook(wh))
		}
	}
	out.Count = len(out.Items)
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

// EventJSON is the body of a webhook delivery, as the Conversations API
// POSTs it.
type EventJSON struct {
	Type         string            `json:"type"`
	Contact      *ContactJSON      `json:"contact"`
	Conversation *ConversationJSON `json:"conversation"`
	Message      *MessageJSON      `json:"message,omitempty"`
}

// EventBody renders a webhook delivery: the URL to POST to and the body.
// skip says the delivery is not for this webhook (another channel's, or
// the webhook is disabled or gone); base is the scheme and host of hrefs.
func EventBody(ctx context.Context, st store.Store, base string, d *store.WebhookDelivery) (webhook.ConvCall, error) {
	skip := webhook.ConvCall{Skip: true}
	wh, err := st.GetConvWebhook(ctx, d.AccountID, d.WebhookID)
	if errors.Is(err, store.ErrNotFound) {
		return skip, nil
	}
	if err != nil {
		return webhook.ConvCall{}, err
	}
	if wh.Status != store.WebhookEnabled {
		return skip, nil
	}
	c, err := st.GetConversation(ctx, d.AccountID, d.ConversationID)
	if errors.Is(err, store.ErrNotFound) {
		return skip, nil
	}
	if err != nil {
		return webhook.ConvCall{}, err
	}
	conv, err := RenderConversation(ctx, st, base, c)
	if err != nil {
		return webhook.ConvCall{}, err
	}
	var state store.ConversationState
	if d.MessageID == "" && json.Unmarshal([]byte(d.Payload), &state) == nil && state.Status != "" {
		conv.Status = state.Status // as of the event, not a later change
	}
	ev := EventJSON{Type: d.Event, Contact: conv.Contact, Conversation: &conv}
	channel := c.LastChannelID
	if d.MessageID != "" {
		m, err := st.GetMessage(ctx, d.AccountID, d.MessageID)
		if errors.Is(err, store.ErrNotFound) {
			return skip, nil
		}
		if err != nil {
			return webhook.ConvCall{}, err
		}
		mj := RenderMessage(m, nil)
		channel = m.Details.ChannelID
		switch {
		case d.Event == store.EventMessageUpdated && d.Payload != "":
			var rep store.Report
			if err := json.Unmarshal([]byte(d.Payload), &rep); err == nil && rep.Seq >= 0 && rep.Seq < len(m.Recipients) {
				at := m.Recipients[rep.Seq]
				at.Status, at.StatusErrorCode = rep.Status, rep.ErrorCode
				mj.Status = Status(&at) // the status the report is about, not a later one
				if rep.Event == store.EventRead {
					mj.Status = "read"
				}
				mj.UpdatedDatetime = timeText(rep.At)
			}
		case d.Event == store.EventMessageCreated && m.Direction == message.MT && mj.Status != "rejected":
			mj.Status, mj.UpdatedDatetime = "accepted", mj.CreatedDatetime
		}
		ev.Message = &mj
	}
	if wh.ChannelID != "" && wh.ChannelID != channel {
		return skip, nil
	}
	// Settings are checked when written; one stored before they were
	// (free-form then) that does not parse is sent with the defaults.
	settings, _ := webhook.ParseSettings([]byte(wh.Settings))
	body, err := json.Marshal(ev)
	return webhook.ConvCall{URL: wh.URL, Body: body, Settings: settings}, err
}
