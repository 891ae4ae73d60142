package conversations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// MaxConvBody bounds the bodies of the conversation and webhook endpoints:
// chat content is small (media go by URL).
const MaxConvBody = 64 << 10

// startRequest is POST /v1/conversations/start. tag, trackId and
// eventType are taken as the SDKs send them and not interpreted.
type startRequest struct {
	To string `json:"to"`
	replyRequest
}

// replyRequest is POST /v1/conversations/{id}/messages.
type replyRequest struct {
	Type      string       `json:"type"`
	Content   *contentJSON `json:"content"`
	ChannelID string       `json:"channelId"`
	// ChannelIDSnake is channelId as the Ruby SDK names it.
	ChannelIDSnake string          `json:"channel_id"`
	ReportURL      string          `json:"reportUrl"`
	Source         json.RawMessage `json:"source"`
	Reference      string          `json:"reference"`
	Purpose        string          `json:"purpose"`
	Tag            string          `json:"tag"`
	TrackID        string          `json:"trackId"`
	EventType      string          `json:"eventType"`
}

// alias takes channel_id for channelId when only it is given.
func (q *replyRequest) alias() {
	if q.ChannelID == "" {
		q.ChannelID = q.ChannelIDSnake
	}
}

// decodeStrict reads a JSON object body into dst, refusing unknown fields
// (naming them), other JSON values and trailing data.
func decodeStrict(w http.ResponseWriter, r *http.Request, what string, dst any) *rest.Problem {
	body, p := rest.ReadBody(w, r, MaxConvBody)
	if p != nil {
		return p
	}
	return decodeJSON(r, body, what, dst)
}

func decodeJSON(r *http.Request, body []byte, what string, dst any) *rest.Problem {
	if kind, p := rest.BodyKind(r, body); p != nil {
		return p
	} else if kind != "json" {
		return rest.Malformed(what + " takes a JSON object (Content-Type: application/json)")
	}
	return parseJSON(body, dst)
}

// parseJSON is the strict decoding of decodeStrict (fuzzed).
func parseJSON(body []byte, dst any) *rest.Problem {
	if p := rest.CheckJSON(body); p != nil {
		return p
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return rest.Malformed("the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return rest.Malformed("the body holds more than one JSON value")
	}
	return nil
}

// conversationChannel reads one of the account's active channels named by
// param; a conversation runs on a phone channel (sms or whatsapp).
func (a *API) conversationChannel(ctx context.Context, accountID, id, param string) (*store.ConvChannel, *rest.Problem) {
	id = strings.TrimSpace(id)
	if id == "" {
		return nil, rest.Missing(param)
	}
	if !channelID.MatchString(id) {
		return nil, rest.Invalid(param, param+" must be the id of one of your channels (GET /v1/channels)")
	}
	ch, err := a.store.GetConvChannel(ctx, accountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, rest.Invalid(param, "no channel "+id+"; GET /v1/channels lists yours")
	}
	if err != nil {
		return nil, rest.NewProblem(http.StatusInternalServerError, rest.CodeInternal, "", "could not read the channel; try again later")
	}
	if ch.Status != store.ChannelActive {
		return nil, rest.Invalid(param, "channel "+id+" is "+ch.Status)
	}
	if !conversational(ch.Kind) {
		return nil, rest.Invalid(param, "channel "+id+" is an "+ch.Kind+" channel; conversations run on sms and whatsapp channels")
	}
	return ch, nil
}

// conversational says whether messages of a channel kind join
// conversations: those to a phone number.
func conversational(kind string) bool { return kind == message.ChannelSMS || kind == whatsApp }

// renameFrom names a problem about from as the request names the channel.
func renameFrom(p *rest.Problem, param string) *rest.Problem {
	if p == nil {
		return nil
	}
	for i, e := range p.Errors {
		if e.Parameter != nil && *e.Parameter == "from" {
			p.Errors[i].Parameter = &param
			p.Errors[i].Description = strings.ReplaceAll(e.Description, "from ", param+" ")
		}
	}
	return p
}

// startConversation handles POST /v1/conversations/start: the message is
// sent in the contact's active conversation, or in a new one.
func (a *API) startConversation(w http.ResponseWriter, r *http.Request) error {
	var req startRequest
	if p := decodeStrict(w, r, "POST /v1/conversations/start", &req); p != nil {
		return p
	}
	req.alias()
	pr := rest.Principal(r.Context())
	ch, p := a.conversationChannel(r.Context(), pr.AccountID, req.ChannelID, "channelId")
	if p != nil {
		return p
	}
	m, p := a.chatMessage(r, ch, req.To, &req.replyRequest, pr.AccountID)
	if p != nil {
		return p
	}
	if pr.Test {
		return rest.TestKeyRefused("start conversations")
	}
	conv, created, err := a.store.OpenConversation(r.Context(), store.OpenConversation{AccountID: pr.AccountID, MSISDN: m.Recipients[0].Address, ChannelID: ch.ID})
	if err != nil {
		return err
	}
	if err := a.acceptInConversation(r, m, conv, req.Type); err != nil {
		a.discard(r, conv, created)
		return err
	}
	return a.writeConversation(w, r, http.StatusCreated, conv.ID)
}

// createRequest is POST /v1/conversations: the PHP SDK's
// conversations->create($contactId).
type createRequest struct {
	ContactID string `json:"contactId"`
}

// createConversation handles POST /v1/conversations: the contact's active
// conversation, or a new one, opened without a message. It has no channel
// until its first message, which names one (channelId).
func (a *API) createConversation(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if p := decodeStrict(w, r, "POST /v1/conversations", &req); p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	id := strings.TrimSpace(req.ContactID)
	if id == "" {
		return rest.Invalid("contactId", "contactId is required: the contact to open a conversation with (POST /v1/conversations/start opens one with a message, by number)")
	}
	if pr.Test { // before the lookup: a test key learns nothing of live contacts
		return rest.TestKeyRefused("start conversations")
	}
	c, err := a.store.GetContact(r.Context(), pr.AccountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return rest.Invalid("contactId", "no contact "+id+"; GET /contacts lists yours")
	}
	if err != nil {
		return err
	}
	if c.MSISDN == "" {
		return rest.Invalid("contactId", "contact "+id+" has no msisdn: conversations run on phone numbers")
	}
	conv, _, err := a.store.OpenConversation(r.Context(), store.OpenConversation{AccountID: pr.AccountID, MSISDN: c.MSISDN})
	if err != nil {
		return err
	}
	return a.writeConversation(w, r, http.StatusCreated, conv.ID)
}

// chatMessage builds the message a start or a reply sends to to on ch and
// checks it as POST /v1/send does; a problem /v1/send would name "from"
// names "channelId" here.
func (a *API) chatMessage(r *http.Request, ch *store.ConvChannel, to string, req *replyRequest, accountID string) (*message.Message, *rest.Problem) {
	send := &sendRequest{To: to, From: ch.ID, Type: req.Type, Content: req.Content, ReportURL: req.ReportURL, Source: req.Source,
		Reference: req.Reference, Purpose: req.Purpose}
	m, p := buildChat(send, ch, accountID)
	if p != nil {
		return nil, renameFrom(p, "channelId")
	}
	if p := a.checkChat(r, ch, m); p != nil {
		return nil, p
	}
	return m, nil
}

// discard deletes a conversation this request opened for a message that
// was refused: nothing is left of a refused start.
func (a *API) discard(r *http.Request, conv *store.Conversation, created bool) {
	if created {
		_ = a.store.DiscardConversation(context.WithoutCancel(r.Context()), conv.AccountID, conv.ID) // best effort: an empty conversation is harmless
	}
}

// acceptInConversation accepts m as a message of conv.
func (a *API) acceptInConversation(r *http.Request, m *message.Message, conv *store.Conversation, typ string) error {
	m.Details.ConversationID = conv.ID
	err := a.pipeline.Accept(r.Context(), m, pipeline.Options{})
	var inv *message.Invalid
	if errors.As(err, &inv) {
		return renameFrom(rest.Invalid(chatField(inv.Field, typ), inv.Reason), "channelId")
	}
	return err
}

// reply handles POST /v1/conversations/{id}/messages: a message to the
// conversation's contact on channelId, or on the channel it used last.
// A reply in an archived conversation makes it active again.
func (a *API) reply(w http.ResponseWriter, r *http.Request) error {
	var req replyRequest
	if p := decodeStrict(w, r, "POST /v1/conversations/{id}/messages", &req); p != nil {
		return p
	}
	req.alias()
	pr := rest.Principal(r.Context())
	conv, err := a.store.GetConversation(r.Context(), pr.AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errConversationNotFound()
	}
	if err != nil {
		return err
	}
	chID := req.ChannelID
	if strings.TrimSpace(chID) == "" {
		chID = conv.LastChannelID
	}
	ch, p := a.conversationChannel(r.Context(), pr.AccountID, chID, "channelId")
	if p != nil {
		return p
	}
	m, p := a.chatMessage(r, ch, conv.MSISDN, &req, pr.AccountID)
	if p != nil {
		return p
	}
	if pr.Test {
		return rest.TestKeyRefused("send in conversations")
	}
	if conv.Status != store.ConversationActive {
		if conv, err = a.store.SetConversationStatus(r.Context(), pr.AccountID, conv.ID, store.ConversationActive); err != nil {
			return err
		}
	}
	if conv, _, err = a.store.OpenConversation(r.Context(), store.OpenConversation{AccountID: pr.AccountID, MSISDN: conv.MSISDN, ChannelID: ch.ID}); err != nil {
		return err
	}
	if err := a.acceptInConversation(r, m, conv, req.Type); err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusAccepted, RenderMessage(m, nil))
	return nil
}

func errConversationNotFound() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "conversation not found")
}

// ContactJSON is a conversation's contact in the Conversations shape.
type ContactJSON struct {
	ID              string         `json:"id"`
	Href            string         `json:"href"`
	MSISDN          json.Number    `json:"msisdn"`
	FirstName       string         `json:"firstName"`
	LastName        string         `json:"lastName"`
	CustomDetails   map[string]any `json:"customDetails"`
	CreatedDatetime string         `json:"createdDatetime"`
	UpdatedDatetime *string        `json:"updatedDatetime"`
}

// ConversationJSON is a conversation in the Conversations shape.
type ConversationJSON struct {
	ID                   string        `json:"id"`
	ContactID            string        `json:"contactId"`
	Contact              *ContactJSON  `json:"contact"`
	Channels             []ChannelJSON `json:"channels"`
	Status               string        `json:"status"`
	CreatedDatetime      string        `json:"createdDatetime"`
	UpdatedDatetime      string        `json:"updatedDatetime"`
	LastReceivedDatetime *string       `json:"lastReceivedDatetime"`
	LastUsedChannelID    string        `json:"lastUsedChannelId"`
	LastUsedPlatformID   string        `json:"lastUsedPlatformId"`
	Messages             messagesCount `json:"messages"`
}

type messagesCount struct {
	TotalCount    int    `json:"totalCount"`
	Href          string `json:"href"`
	LastMessageID string `json:"lastMessageId"`
}

// RenderConversation builds a conversation's wire object; base is the
// scheme and host of hrefs ("" for paths only). A contact deleted since is
// shown by its number.
func RenderConversation(ctx context.Context, st store.Store, base string, c *store.Conversation) (ConversationJSON, error) {
	out := ConversationJSON{ID: c.ID, ContactID: c.ContactID, Channels: []ChannelJSON{}, Status: c.Status,
		CreatedDatetime: timeText(c.CreatedAt), UpdatedDatetime: timeText(c.UpdatedAt), LastUsedChannelID: c.LastChannelID,
		Messages: messagesCount{TotalCount: c.Messages, Href: base + "/v1/conversations/" + c.ID + "/messages", LastMessageID: c.LastMessageID}}
	if !c.LastReceivedAt.IsZero() {
		s := timeText(c.LastReceivedAt)
		out.LastReceivedDatetime = &s
	}
	contact := &ContactJSON{ID: c.ContactID, Href: base + "/contacts/" + c.ContactID, MSISDN: json.Number(c.MSISDN),
		CustomDetails: map[string]any{}, CreatedDatetime: timeText(c.CreatedAt)}
	k, err := st.GetContact(ctx, c.AccountID, c.ContactID)
	switch {
	case err == nil:
		contact.MSISDN, contact.FirstName, contact.LastName, contact.CreatedDatetime = json.Number(k.MSISDN), k.FirstName, k.LastName, timeText(k.CreatedAt)
		if k.UpdatedAt.After(k.CreatedAt) {
			s := timeText(k.UpdatedAt)
			contact.UpdatedDatetime = &s
		}
		for i, v := range k.Custom {
			if v != "" {
				contact.CustomDetails["custom"+strconv.Itoa(i+1)] = v
			}
		}
	case !errors.Is(err, store.ErrNotFound):
		return out, err
	}
	if contact.MSISDN == "" {
		contact.MSISDN = "0"
	}
	out.Contact = contact
	for _, id := range c.ChannelIDs {
		ch, err := st.GetConvChannel(ctx, c.AccountID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return out, err
		}
		out.Channels = append(out.Channels, RenderChannel(ch))
		if id == c.LastChannelID {
			out.LastUsedPlatformID = ch.Kind
		}
	}
	return out, nil
}

func (a *API) writeConversation(w http.ResponseWriter, r *http.Request, status int, id string) error {
	c, err := a.store.GetConversation(r.Context(), rest.Principal(r.Context()).AccountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return errConversationNotFound()
	}
	if err != nil {
		return err
	}
	out, err := RenderConversation(r.Context(), a.store, a.rest.BaseURL(r), c)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, status, out)
	return nil
}

// getConversation handles GET /v1/conversations/{id}.
func (a *API) getConversation(w http.ResponseWriter, r *http.Request) error {
	if rest.Principal(r.Context()).Test {
		return errConversationNotFound()
	}
	return a.writeConversation(w, r, http.StatusOK, r.PathValue("id"))
}

// updateRequest is PATCH /v1/conversations/{id}.
type updateRequest struct {
	Status *string `json:"status"`
	// The conversation's other fields, read-only: the PHP SDK's example
	// reads a conversation, sets its status and sends it all back.
	ID                   json.RawMessage `json:"id"`
	ContactID            json.RawMessage `json:"contactId"`
	Contact              json.RawMessage `json:"contact"`
	Channels             json.RawMessage `json:"channels"`
	CreatedDatetime      json.RawMessage `json:"createdDatetime"`
	UpdatedDatetime      json.RawMessage `json:"updatedDatetime"`
	LastReceivedDatetime json.RawMessage `json:"lastReceivedDatetime"`
	LastUsedChannelID    json.RawMessage `json:"lastUsedChannelId"`
	LastUsedPlatformID   json.RawMessage `json:"lastUsedPlatformId"`
	Messages             json.RawMessage `json:"messages"`
}

// updateConversation handles PATCH /v1/conversations/{id}: archive or
// reactivate it. Making one active archives the contact's other active
// conversation: a contact has one at a time.
func (a *API) updateConversation(w http.ResponseWriter, r *http.Request) error {
	var req updateRequest
	if p := decodeStrict(w, r, "PATCH /v1/conversations/{id}", &req); p != nil {
		return p
	}
	if req.Status == nil {
		return rest.Missing("status")
	}
	if *req.Status != store.ConversationActive && *req.Status != store.ConversationArchived {
		return rest.Invalid("status", "status must be active or archived")
	}
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errConversationNotFound()
	}
	if _, err := a.store.SetConversationStatus(r.Context(), pr.AccountID, r.PathValue("id"), *req.Status); errors.Is(err, store.ErrNotFound) {
		return errConversationNotFound()
	} else if err != nil {
		return err
	}
	return a.writeConversation(w, r, http.StatusOK, r.PathValue("id"))
}

type conversationListJSON struct {
	Offset     int                `json:"offset"`
	Limit      int                `json:"limit"`
	Count      int                `json:"count"`
	TotalCount int                `json:"totalCount"`
	Items      []ConversationJSON `json:"items"`
}

// listConversations handles GET /v1/conversations: the account's
// conversations, the most recently updated first.
func (a *API) listConversations(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name := range q {
		if name != "limit" && name != "offset" && name != "ids" && name != "status" {
			return rest.Invalid(name, "unknown parameter "+rest.Quote(name)+"; GET /v1/conversations takes limit, offset, ids and status")
		}
	}
	limit, offset, p := rest.Paging(q)
	if p != nil {
		return p
	}
	status := q.Get("status")
	if status != "" && status != store.ConversationActive && status != store.ConversationArchived {
		return rest.Invalid("status", "status must be active or archived")
	}
	var idList []string
	if s := q.Get("ids"); s != "" {
		for _, id := range rest.SplitList(s) {
			if id = strings.TrimSpace(id); id != "" {
				idList = append(idList, id)
			}
		}
		if len(idList) > maxIDs {
			return rest.Invalid("ids", "at most "+strconv.Itoa(maxIDs)+" ids")
		}
	}
	out := conversationListJSON{Offset: offset, Limit: limit, Items: []ConversationJSON{}}
	pr := rest.Principal(r.Context())
	if !pr.Test {
		list, total, err := a.store.ListConversations(r.Context(), pr.AccountID, idList, "", status, limit, offset)
		if err != nil {
			return err
		}
		out.TotalCount = total
		for _, c := range list {
			cj, err := RenderConversation(r.Context(), a.store, a.rest.BaseURL(r), c)
			if err != nil {
				return err
			}
			out.Items = append(out.Items, cj)
		}
	}
	out.Count = len(out.Items)
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

// conversationSub handles GET /v1/conversations/{id}/{sub}: a
// conversation's messages (sub "messages"), or the conversations of a
// contact (id "contact", sub the contact's id). One pattern serves both:
// net/http's mux would find /contact/{id} and /{id}/messages in conflict.
func (a *API) conversationSub(w http.ResponseWriter, r *http.Request) error {
	switch {
	case r.PathValue("id") == "contact":
		return a.listByContact(w, r, r.PathValue("sub"))
	case r.PathValue("sub") == "messages":
		return a.listConversationMessages(w, r)
	}
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "no such endpoint")
}

type idListJSON struct {
	Offset     int      `json:"offset"`
	Limit      int      `json:"limit"`
	Count      int      `json:"count"`
	TotalCount int      `json:"totalCount"`
	Items      []string `json:"items"`
}

// listByContact handles GET /v1/conversations/contact/{contactId}: the
// ids of the contact's conversations (the Go SDK's ListByContact), most
// recently updated first; status filters them.
func (a *API) listByContact(w http.ResponseWriter, r *http.Request, contactID string) error {
	q := r.URL.Query()
	for name := range q {
		if name != "limit" && name != "offset" && name != "status" && name != "id" {
			return rest.Invalid(name, "unknown parameter "+rest.Quote(name)+"; GET /v1/conversations/contact/{id} takes limit, offset and status")
		}
	}
	limit, offset, p := rest.Paging(q)
	if p != nil {
		return p
	}
	status := q.Get("status")
	if status != "" && status != store.ConversationActive && status != store.ConversationArchived {
		return rest.Invalid("status", "status must be active or archived")
	}
	out := idListJSON{Offset: offset, Limit: limit, Items: []string{}}
	if pr := rest.Principal(r.Context()); !pr.Test {
		list, total, err := a.store.ListConversations(r.Context(), pr.AccountID, nil, contactID, status, limit, offset)
		if err != nil {
			return err
		}
		out.TotalCount = total
		for _, c := range list {
			out.Items = append(out.Items, c.ID)
		}
	}
	out.Count = len(out.Items)
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

// listConversationMessages handles GET /v1/conversations/{id}/messages:
// the conversation's messages in both directions, newest first;
// excludePlatforms (a comma list: sms, whatsapp) leaves some out.
func (a *API) listConversationMessages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name := range q {
		if name != "limit" && name != "offset" && name != "excludePlatforms" {
			return rest.Invalid(name, "unknown parameter "+rest.Quote(name)+"; GET /v1/conversations/{id}/messages takes limit, offset and excludePlatforms")
		}
	}
	limit, offset, p := rest.Paging(q)
	if p != nil {
		return p
	}
	var exclude []string
	for _, pl := range rest.SplitList(q.Get("excludePlatforms")) {
		if pl = strings.TrimSpace(pl); pl != "" {
			if !channelKinds[pl] {
				return rest.Invalid("excludePlatforms", "excludePlatforms lists platforms: sms, whatsapp, email")
			}
			exclude = append(exclude, pl)
		}
	}
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errConversationNotFound()
	}
	conv, err := a.store.GetConversation(r.Context(), pr.AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errConversationNotFound()
	}
	if err != nil {
		return err
	}
	msgs, total, err := a.store.ListMessages(r.Context(), pr.AccountID, store.MessageFilter{ConversationID: conv.ID, ExcludeChannels: exclude, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	idList := make([]string, len(msgs))
	for i, m := range msgs {
		idList[i] = m.ID
	}
	events, err := a.store.MessageEvents(r.Context(), pr.AccountID, idList)
	if err != nil {
		return err
	}
	out := listJSON{Offset: offset, Limit: limit, TotalCount: total, Items: []MessageJSON{}}
	for _, m := range msgs {
		out.Items = append(out.Items, RenderMessage(m, events[m.ID]))
	}
	out.Count = len(out.Items)
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}
