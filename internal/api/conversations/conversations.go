// Package conversations is the MessageBird Conversations door
// (conversations.messagebird.com/v1): POST /v1/send and reading messages
// back with GET /v1/messages and /v1/messages/{id}. Today it carries the
// email channel's messages (type "email"); the Conversations API of issue
// 15 (conversations, webhooks, chat channels) grows here. It is written in
// the shared REST style (internal/api/rest: AccessKey authentication,
// MessageBird's error format) and never talks to connectors.
package conversations

import (
	"context"
	"net/http"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// MaxSendBody bounds a POST /v1/send body: 15 MiB, room for about 10 MiB
// of attachments in base64 and the rest of the request. The email
// channel's preparation bounds the message itself.
const MaxSendBody = 15 << 20

// Rendered is a stored template rendered for one send.
type Rendered struct {
	Subject, Text, HTML string
}

// TemplateRenderer renders an account's stored template with variables
// (the templates service: internal/templates, wired by the app). An
// unknown template or variable is a *message.Invalid naming the field
// ("name", "language", "variables.x"), answered 422.
type TemplateRenderer func(ctx context.Context, accountID, name, language string, vars map[string]string) (Rendered, error)

// API serves the Conversations endpoints.
type API struct {
	rest      *rest.Style
	store     store.Store
	pipeline  *pipeline.Pipeline
	metrics   *metrics.Metrics
	templates TemplateRenderer  // nil: sends with a template are refused
	fallback  fallbackConfig    // fallback.go
	submit    TemplateSubmitter // nil: WhatsApp templates cannot be submitted
}

// New makes the door; templates may be nil until a template service is
// wired.
func New(s *rest.Style, st store.Store, p *pipeline.Pipeline, m *metrics.Metrics, templates TemplateRenderer) *API {
	return &API{rest: s, store: st, pipeline: p, metrics: m, templates: templates}
}

// Register adds the door's routes to mux. The official Go SDK prefixes
// /v1 and the others do not, on a host of their own; on omnigate's one
// host /v1 tells this door from the REST one (whose /messages differ).
func (a *API) Register(mux *http.ServeMux) {
	a.rest.Handle(mux, "POST /v1/send", a.send)
	a.rest.Handle(mux, "GET /v1/messages", a.listMessages)
	a.rest.Handle(mux, "GET /v1/messages/{id}", a.getMessage)
	a.rest.Handle(mux, "GET /v1/channels", a.listChannels)
	a.rest.Handle(mux, "GET /v1/channels/{id}", a.getChannel)
	a.rest.Handle(mux, "POST /v1/conversations/start", a.startConversation)
	a.rest.Handle(mux, "POST /v1/conversations", a.createConversation)
	a.rest.Handle(mux, "GET /v1/conversations", a.listConversations)
	a.rest.Handle(mux, "GET /v1/conversations/{id}", a.getConversation)
	a.rest.Handle(mux, "PATCH /v1/conversations/{id}", a.updateConversation)
	a.rest.Handle(mux, "POST /v1/conversations/{id}/messages", a.reply)
	a.rest.Handle(mux, "GET /v1/conversations/{id}/{sub}", a.conversationSub) // {id}/messages, contact/{contactId}
	a.rest.Handle(mux, "POST /v1/webhooks", a.createWebhook)
	a.rest.Handle(mux, "GET /v1/webhooks", a.listWebhooks)
	a.rest.Handle(mux, "GET /v1/webhooks/{id}", a.getWebhook)
	a.rest.Handle(mux, "PATCH /v1/webhooks/{id}", a.updateWebhook)
	a.rest.Handle(mux, "PUT /v1/webhooks/{id}", a.updateWebhook) // the PHP SDK's update
	a.rest.Handle(mux, "DELETE /v1/webhooks/{id}", a.deleteWebhook)
	a.registerTemplates(mux)
	rest.MethodNotAllowed(mux, "/v1/send", "/v1/messages", "/v1/messages/{id}", "/v1/channels", "/v1/channels/{id}",
		"/v1/conversations", "/v1/conversations/{id}", "/v1/conversations/{id}/{sub}",
		"/v1/webhooks", "/v1/webhooks/{id}")
}

func errNotFound() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "message not found")
}
