// Package account is omnigate's own account API: prices, usage, the
// ledger, statements and top-ups; the consent ledger, suppressions,
// senders, the compliance policy, proof cases and decisions; templates; the account's
// access keys (listed and revoked); and the account's realtime apps. It is written in the same REST style as the
// MessageBird door (internal/api/rest: AccessKey authentication,
// MessageBird's error format and codes), so one SDK client or key serves
// both.
package account

import (
	"net/http"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/email/domains"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/privacy"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/subscriptions"
	"github.com/omnigate/omnigate/internal/templates"
)

// API serves the account endpoints.
type API struct {
	rest    *rest.Style
	store   store.Store
	billing *billing.Service
	desk    *compliance.Desk
	tpl     *templates.Service
	domains domains.Config // sending domains' records and checks
	privacy *privacy.Service
	imports *imports.Runner // import jobs; nil: not served
	// subs serves subscriptions and invoices; nil: not served.
	subs *subscriptions.Service
}

// New makes the account API.
func New(s *rest.Style, st store.Store, b *billing.Service, d *compliance.Desk) *API {
	return &API{rest: s, store: st, billing: b, desk: d, tpl: templates.New(st)}
}

// Register adds the billing and compliance routes to mux; the realtime
// apps are a door of their own (RealtimeApps).
func (a *API) Register(mux *http.ServeMux) {
	a.rest.Handle(mux, "GET /prices/sms", a.getSMSPrice)
	a.rest.Handle(mux, "GET /usage", a.getUsage)
	a.rest.Handle(mux, "GET /ledger", a.getLedger)
	a.rest.Handle(mux, "GET /billing/autotopup", a.getAutoTopUp)
	a.rest.Handle(mux, "PUT /billing/autotopup", a.putAutoTopUp)
	a.rest.Handle(mux, "GET /topups", a.listTopUps)
	a.rest.Handle(mux, "POST /topups", a.requestTopUp)
	a.rest.Handle(mux, "GET /statements/{month}", a.getStatement)
	paths := append(append(a.registerCompliance(mux), a.registerKeys(mux)...), a.registerTemplates(mux)...)
	paths = append(paths, a.registerEmailDomains(mux)...)
	paths = append(paths, a.registerTerms(mux)...)
	paths = append(paths, a.registerSubscriptions(mux)...)
	paths = append(paths, a.registerPrivacy(mux)...)
	paths = append(paths, a.registerImports(mux)...)
	// Known paths with another method answer 405 as MessageBird does.
	rest.MethodNotAllowed(mux, append(paths, "/prices/sms", "/usage", "/ledger", "/billing/autotopup", "/topups", "/statements/{month}")...)
}
