package conversations

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// List bounds, as the REST door's (rest.Paging reads limit and offset).
const (
	maxLimit = 200
	maxIDs   = 50
)

// getMessage handles GET /v1/messages/{id}. Test keys see no message:
// their own are never stored, and live ones are not theirs to read.
func (a *API) getMessage(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errNotFound()
	}
	m, err := a.store.GetMessage(r.Context(), pr.AccountID, r.PathValue("id"))
	inboundChat := err == nil && m.Direction == message.MO && m.Channel == whatsApp
	if errors.Is(err, store.ErrNotFound) || err == nil && m.Channel != message.ChannelEmail && m.Details.Report != message.ReportConversations && !inboundChat {
		return errNotFound() // the REST door's messages are read there
	}
	if err != nil {
		return err
	}
	events, err := a.store.MessageEvents(r.Context(), pr.AccountID, []string{m.ID})
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, RenderMessage(m, events[m.ID]))
	return nil
}

// listJSON is the Conversations list envelope.
type listJSON struct {
	Offset     int           `json:"offset"`
	Limit      int           `json:"limit"`
	Count      int           `json:"count"`
	TotalCount int           `json:"totalCount"`
	Items      []MessageJSON `json:"items"`
}

// listParams are the query parameters GET /v1/messages reads; others are
// refused, naming them.
var listParams = map[string]bool{"limit": true, "offset": true, "ids": true, "recipient": true, "status": true, "from": true}

// listMessages handles GET /v1/messages: the account's email messages and
// the messages of its conversations (both directions), newest first; ids
// picks some by id. A test key's list is empty.
func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name := range q {
		if !listParams[name] {
			return rest.Invalid(name, "unknown parameter "+rest.Quote(name)+"; GET /v1/messages takes limit, offset, ids, recipient, status and from")
		}
	}
	f := store.MessageFilter{ConversationsDoor: true}
	var p *rest.Problem
	if f.Limit, f.Offset, p = rest.Paging(q); p != nil {
		return p
	}
	if s := q.Get("recipient"); s != "" {
		if d := strings.TrimPrefix(strings.TrimSpace(s), "+"); d != "" && strings.Trim(d, "0123456789") == "" && len(d) <= 15 {
			f.Recipient = d // a conversation message's number
		} else {
			addr, p := address("recipient", s)
			if p != nil {
				return p
			}
			f.Recipient = addr
		}
	}
	if s := q.Get("from"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return rest.Invalid("from", "from must be a time in RFC 3339 (like 2024-05-01T10:00:00Z)")
		}
		f.From = t // created at or after (the Go SDK's ListMessagesRequest.From)
	}
	if s := q.Get("status"); s != "" {
		if !message.Status(s).Valid() {
			return rest.Invalid("status", "status must be one of scheduled, sent, buffered, delivered, expired, delivery_failed")
		}
		f.Status = message.Status(s)
	}
	out := listJSON{Offset: f.Offset, Limit: f.Limit, Items: []MessageJSON{}}
	pr := rest.Principal(r.Context())
	if pr.Test {
		rest.WriteJSON(w, http.StatusOK, out)
		return nil
	}
	var msgs []*message.Message
	if s := q.Get("ids"); s != "" {
		ids := rest.SplitList(s)
		if len(ids) > maxIDs {
			return rest.Invalid("ids", "at most "+strconv.Itoa(maxIDs)+" ids")
		}
		for _, id := range ids {
			m, err := a.store.GetMessage(r.Context(), pr.AccountID, strings.TrimSpace(id))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if m.Channel == message.ChannelEmail || m.Details.ConversationID != "" || m.Details.Report == message.ReportConversations {
				msgs = append(msgs, m)
			}
		}
		out.TotalCount = len(msgs)
	} else {
		var err error
		if msgs, out.TotalCount, err = a.store.ListMessages(r.Context(), pr.AccountID, f); err != nil {
			return err
		}
	}
	idList := make([]string, len(msgs))
	for i, m := range msgs {
		idList[i] = m.ID
	}
	events, err := a.store.MessageEvents(r.Context(), pr.AccountID, idList)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		out.Items = append(out.Items, RenderMessage(m, events[m.ID]))
	}
	out.Count = len(out.Items)
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}
