package rest

import (
	"net/http"

	"github.com/omnigate/omnigate/internal/users"
)

// A personal API token (auth.TokenPrefix) acts as its console user: a
// route answers it only when the user's role has the route's permission
// in users.Can, the same table the console checks. A route missing here
// is refused to every token (TestTokenRoutesMapped in internal/app keeps
// the table complete).
var tokenRoutes = map[string]users.Permission{}

func init() {
	for perm, patterns := range map[users.Permission][]string{
		users.ViewOverview: {"GET /terms", "GET /subprocessors", "GET /prices/sms"},
		users.ViewMessages: {"GET /messages", "GET /messages/{$}", "GET /messages/{id}", "GET /v1/messages", "GET /v1/messages/{id}",
			"GET /v1/conversations", "GET /v1/conversations/{id}", "GET /v1/conversations/{id}/{sub}", "GET /v1/channels", "GET /v1/channels/{id}",
			"GET /contacts", "GET /contacts/{id}", "GET /contacts/{id}/groups", "GET /contacts/{id}/messages",
			"GET /groups", "GET /groups/{id}", "GET /groups/{id}/contacts", "GET /hlr", "GET /hlr/{id}",
			"GET /lookup/{phoneNumber}", "GET /lookup/{phoneNumber}/hlr", "GET /verify/{id}", "GET /verify/messages/email/{id}",
			"GET /templates", "GET /templates/{name}", "GET /v2/platforms/whatsapp/templates",
			"GET /v2/platforms/whatsapp/templates/{name}", "GET /v2/platforms/whatsapp/templates/{name}/{language}"},
		users.SendMessages: {"POST /messages", "DELETE /messages/{id}", "POST /v1/send", "POST /v1/conversations/start", "POST /v1/conversations",
			"POST /v1/conversations/{id}/messages", "PATCH /v1/conversations/{id}", "POST /verify", "DELETE /verify/{id}",
			"POST /hlr", "POST /lookup/{phoneNumber}/hlr", "POST /contacts", "PATCH /contacts/{id}", "DELETE /contacts/{id}",
			"POST /groups", "PATCH /groups/{id}", "PUT /groups/{id}", "DELETE /groups/{id}", "PUT /groups/{id}/contacts",
			"DELETE /groups/{id}/contacts/{contactId}", "POST /templates", "PUT /templates/{name}", "DELETE /templates/{name}",
			"POST /templates/{name}/preview", "POST /v2/platforms/whatsapp/templates", "DELETE /v2/platforms/whatsapp/templates/{name}",
			"DELETE /v2/platforms/whatsapp/templates/{name}/{language}"},
		users.ViewKeys: {"GET /keys", "GET /settings/hlr"},
		// ManageKeys is the account's integration settings: keys,
		// webhooks, senders, numbers, email domains, realtime apps.
		users.ManageKeys: {"DELETE /keys/{id}", "PUT /settings/hlr", "POST /v1/webhooks", "PATCH /v1/webhooks/{id}", "PUT /v1/webhooks/{id}", "DELETE /v1/webhooks/{id}",
			"POST /senders", "POST /v1/phone-numbers", "PATCH /v1/phone-numbers/{number}", "DELETE /v1/phone-numbers/{number}",
			"POST /email/domains", "POST /email/domains/{domain}/verify", "DELETE /email/domains/{domain}",
			"POST /realtime/apps", "PATCH /realtime/apps/{id}", "DELETE /realtime/apps/{id}", "POST /realtime/apps/{id}/rotate",
			"PUT /beams/instances/{id}/apns", "DELETE /beams/instances/{id}/apns", "PUT /beams/instances/{id}/fcm", "DELETE /beams/instances/{id}/fcm"},
		users.ViewWebhooks: {"GET /v1/webhooks", "GET /v1/webhooks/{id}"},
		users.ViewSenders: {"GET /senders", "GET /v1/phone-numbers", "GET /v1/phone-numbers/{number}", "GET /v1/available-phone-numbers/{countryCode}",
			"GET /email/domains", "GET /email/domains/{domain}"},
		users.ViewRealtime: {"GET /realtime/apps", "GET /realtime/apps/{id}", "GET /realtime/apps/{id}/errors",
			"GET /beams/instances/{id}", "GET /beams/instances/{id}/quota"},
		users.ViewBilling: {"GET /balance", "GET /usage", "GET /ledger", "GET /billing/autotopup", "GET /topups",
			"GET /subscription", "GET /invoices", "GET /invoices/{id}"},
		users.ExportStatements: {"GET /statements/{month}"},
		users.ManageLimits:     {"PUT /billing/autotopup", "POST /topups", "POST /invoices/{id}/pay", "POST /invoices/{id}/dispute"},
		users.ViewConsents: {"GET /consents", "GET /consents/proof", "GET /suppressions", "GET /suppressions/removals", "GET /suppressions/export",
			"GET /imports", "GET /imports/{id}", "GET /v1/privacy/requests", "GET /v1/privacy/requests/{id}", "GET /v1/privacy/requests/{id}/export",
			"GET /compliance/policy", "GET /compliance/decisions"},
		users.ManageConsents: {"POST /consents", "POST /consents/import", "POST /consents/imports", "POST /suppressions", "POST /suppressions/import",
			"POST /suppressions/imports", "DELETE /suppressions/{recipient}", "DELETE /suppressions/{channel}/{recipient}",
			"POST /v1/privacy/requests", "POST /v1/privacy/requests/{id}/extend", "POST /v1/privacy/requests/{id}/close",
			"PATCH /compliance/policy", "POST /compliance/cases/{id}/proof"},
		users.ViewCases: {"GET /compliance/cases"},
		// The whole account's data, and accepting terms for it: owners and
		// admins.
		users.ManageUsers: {"POST /terms/accept", "GET /account/export"},
	} {
		for _, p := range patterns {
			if _, dup := tokenRoutes[p]; dup {
				panic("rest: route mapped twice for tokens: " + p)
			}
			tokenRoutes[p] = perm
		}
	}
}

// TokenPermission is the permission a personal API token's user needs
// for a route pattern; false when the route is refused to every token.
func TokenPermission(pattern string) (users.Permission, bool) {
	p, ok := tokenRoutes[pattern]
	return p, ok
}

// errRoleRefused refuses a personal API token a route its user's role may
// not use.
func errRoleRefused(role string) *Problem {
	return NewProblem(http.StatusForbidden, CodeUnauthorized, "access_key",
		"this personal API token's user has the role "+Quote(role)+", which may not use this endpoint; ask an owner for a role that may, or use an access key")
}
