package users

// Roles. An account's users have one of the first five; operators (users
// of the operator scope, AccountID "") have RoleOperator.
const (
	RoleOwner      = "owner"      // everything of the account, seats included
	RoleAdmin      = "admin"      // everything but seats and owners
	RoleDeveloper  = "developer"  // keys, webhooks, logs, senders, realtime apps
	RoleCompliance = "compliance" // consents, cases, suppressions, logs
	RoleBilling    = "billing"    // balance, ledger, statements, usage limits
	RoleOperator   = "operator"   // the platform's operators
)

// AccountRoles are the roles of an account's users, in the order shown.
var AccountRoles = []string{RoleOwner, RoleAdmin, RoleDeveloper, RoleCompliance, RoleBilling}

// ValidAccountRole reports whether r is a role an account's user can have.
func ValidAccountRole(r string) bool {
	for _, a := range AccountRoles {
		if a == r {
			return true
		}
	}
	return false
}

// Permission is a page to see or an action to take. Every console handler
// and every user-scoped API token is checked against one (Can).
type Permission string

// The permissions.
const (
	ViewOverview     Permission = "overview.view"
	ViewMessages     Permission = "messages.view"
	SendMessages     Permission = "messages.send" // send, cancel, verify, look up; the address book and templates (API tokens)
	ViewKeys         Permission = "keys.view"
	ManageKeys       Permission = "keys.manage"
	ViewWebhooks     Permission = "webhooks.view"
	ResendWebhooks   Permission = "webhooks.resend"
	ViewConsents     Permission = "consents.view"
	ManageConsents   Permission = "consents.manage"
	ViewCases        Permission = "cases.view"
	ViewBilling      Permission = "billing.view"
	ExportStatements Permission = "billing.export"
	ManageLimits     Permission = "limits.manage"
	ViewSenders      Permission = "senders.view"
	ViewRealtime     Permission = "realtime.view"
	ViewUsers        Permission = "users.view"
	ManageUsers      Permission = "users.manage"
	ManageSeats      Permission = "seats.manage"
	ViewProfile      Permission = "profile.view" // one's own settings, 2FA, "report compromised"

	OperateAccounts Permission = "operator.accounts"
	OperateSenders  Permission = "operator.senders"
	OperateReviews  Permission = "operator.reviews"    // the content review queue: release or reject held messages
	OperateImports  Permission = "operator.imports"    // do-not-disturb registry imports
	OperateRouting  Permission = "operator.connectors" // connectors, routes, live binds and throughput
	OperateQueue    Permission = "operator.queue"      // the job queue's depth and oldest job
	OperateCases    Permission = "operator.cases"      // proof-of-consent cases of every account
)

// Permissions lists every permission (for the table-driven tests).
var Permissions = []Permission{ViewOverview, ViewMessages, SendMessages, ViewKeys, ManageKeys, ViewWebhooks, ResendWebhooks,
	ViewConsents, ManageConsents, ViewCases, ViewBilling, ExportStatements, ManageLimits, ViewSenders, ViewRealtime,
	ViewUsers, ManageUsers, ManageSeats, ViewProfile, OperateAccounts, OperateSenders,
	OperateReviews, OperateImports, OperateRouting, OperateQueue, OperateCases}

// grants is the one authorization table: role → what it may see and do.
var grants = map[string][]Permission{
	RoleOwner: {ViewOverview, ViewMessages, SendMessages, ViewKeys, ManageKeys, ViewWebhooks, ResendWebhooks, ViewConsents, ManageConsents,
		ViewCases, ViewBilling, ExportStatements, ManageLimits, ViewSenders, ViewRealtime, ViewUsers, ManageUsers, ManageSeats, ViewProfile},
	RoleAdmin: {ViewOverview, ViewMessages, SendMessages, ViewKeys, ManageKeys, ViewWebhooks, ResendWebhooks, ViewConsents, ManageConsents,
		ViewCases, ViewBilling, ExportStatements, ManageLimits, ViewSenders, ViewRealtime, ViewUsers, ManageUsers, ViewProfile},
	RoleDeveloper:  {ViewOverview, ViewMessages, SendMessages, ViewKeys, ManageKeys, ViewWebhooks, ResendWebhooks, ViewSenders, ViewRealtime, ViewProfile},
	RoleCompliance: {ViewOverview, ViewMessages, ViewConsents, ManageConsents, ViewCases, ViewSenders, ViewProfile},
	RoleBilling:    {ViewOverview, ViewBilling, ExportStatements, ManageLimits, ViewProfile},
	RoleOperator: {OperateAccounts, OperateSenders, OperateReviews, OperateImports, OperateRouting, OperateQueue, OperateCases,
		ViewProfile},
}

var allowed = func() map[string]map[Permission]bool {
	m := make(map[string]map[Permission]bool, len(grants))
	for r, ps := range grants {
		m[r] = make(map[Permission]bool, len(ps))
		for _, p := range ps {
			m[r][p] = true
		}
	}
	return m
}()

// Can reports whether a role may see or do p. An unknown role may do
// nothing.
func Can(role string, p Permission) bool { return allowed[role][p] }
