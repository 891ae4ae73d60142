package app

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/store"
)

// liveData is what an account's live keys made: the test key must never
// see any of it, nor change it.
type liveData struct {
	scheduled, sent string // message ids
	caseID          string // an open proof case
	appID, secret   string // a realtime app
	month           string // the statement month with live usage
	dkimSelector    string // of the live email domain
	contact, group  string // an address-book contact and a group it is in
	hlr             string // an HLR query of liveSent
	verification    string // a live verification (/verify)
	privacyRequest  string // a live data-subject access request
	importID        string // a live consent import (/consents/imports)
	invoice         string // a live subscription's invoice
	// secrets and personal data a test key's answer must never contain
	forbidden []string
}

// The live recipients, one per kind of live data.
const (
	liveSent       = "31611110001"
	liveScheduled  = "31611110002"
	liveConsent    = "31611110003"
	liveSuppressed = "31611110004"
	liveCase       = "31611110005"
	liveRefused    = "31611110006"
	liveErrorIP    = "198.51.100.77"

	liveSuppressedEmail = "live-suppressed@example.com"
	liveRemovedEmail    = "live-removed@example.com"
	liveTemplate        = "live-template"
	liveTemplateText    = "live template text"
	// liveEmailDomain is a sending domain of the account.
	liveEmailDomain = "live-mail.example"
	// The live address book: a contact and a group.
	liveContact     = "31611110007"
	liveContactName = "Livia Contact"
	liveGroupName   = "live group"
	// liveNumber is a number the account bought from the inventory.
	liveNumber = "31612345671"
)

// makeLiveData gives s's account live data of every kind.
func makeLiveData(t *testing.T, s *server) liveData {
	t.Helper()
	var d liveData
	ok := func(r response, what string, status int) response {
		t.Helper()
		if r.status != status {
			t.Fatalf("%s: %d %s", what, r.status, r.raw)
		}
		return r
	}
	if _, _, err := importStock(context.Background(), s.app.store, strings.NewReader(numbersCSV)); err != nil {
		t.Fatal(err)
	}
	ok(s.call("POST", "/v1/phone-numbers", map[string]any{"number": liveNumber, "countryCode": "NL"}), "number purchase", 201)
	m := s.send(map[string]any{"originator": "Shop", "recipients": liveSent, "body": "live body"})
	d.sent = m["id"].(string)
	s.waitStatus(d.sent, "delivered")
	d.hlr = ok(s.call("POST", "/hlr", map[string]any{"msisdn": liveSent}), "HLR query", 201).json["id"].(string)
	s.waitHLR(s.key, d.hlr)
	m = s.send(map[string]any{"originator": "Shop", "recipients": liveScheduled, "body": "later",
		"scheduledDatetime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	d.scheduled = m["id"].(string)
	ok(s.call("POST", "/consents", map[string]any{"recipient": liveConsent, "purpose": "marketing", "action": "opt_in"}), "consent", 201)
	ok(s.call("POST", "/suppressions", map[string]any{"recipient": liveSuppressed}), "suppression", 201)
	ok(s.call("POST", "/suppressions", map[string]any{"recipient": liveSuppressedEmail}), "email suppression", 201)
	ok(s.call("POST", "/templates", map[string]any{"name": liveTemplate, "defaultLanguage": "en",
		"variants": []map[string]any{{"language": "en", "subject": liveTemplateText, "text": liveTemplateText}}}), "template", 201)
	ok(s.call("POST", "/suppressions", map[string]any{"recipient": liveRemovedEmail}), "email suppression", 201)
	ok(s.do("DELETE", "/suppressions/email/"+liveRemovedEmail+"?reason=live+removal", s.key, "", nil), "suppression removal", 200)
	ok(s.admin("PUT", "/admin/accounts/"+s.accountID+"/limits", "application/json", `{"metric":"messages","period":"month","limit":1000}`), "limit", 200)
	r := ok(s.admin("POST", "/admin/accounts/"+s.accountID+"/cases", "application/json", `{"reason":"complaint","recipient":"`+liveCase+`"}`), "case", 201)
	d.caseID = r.json["id"].(string)
	refused(t, s.postJSON(s.key, marketing(liveRefused, "offer")), "consent.opt_in")
	ok(s.call("PUT", "/billing/autotopup", map[string]any{"enabled": true, "threshold": "1", "amount": "20"}), "autotopup", 200)
	ok(s.call("POST", "/topups", map[string]any{"amount": "5"}), "topup", 201)
	r = ok(s.call("POST", "/realtime/apps", map[string]any{"name": "live app"}), "realtime app", 201)
	d.appID, d.secret = r.json["app_id"].(string), r.json["secret"].(string)
	if err := s.app.store.AddRealtimeErrors(context.Background(), []store.RealtimeError{{AccountID: s.accountID, AppID: d.appID,
		Code: 4004, Message: "over quota", IP: liveErrorIP, At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	d.month = time.Now().UTC().Format("2006-01")
	r = ok(s.call("POST", "/email/domains", map[string]any{"domain": liveEmailDomain}), "email domain", 201)
	d.dkimSelector = r.json["selector"].(string)
	d.contact = ok(s.call("POST", "/contacts", map[string]any{"msisdn": liveContact, "firstName": liveContactName}), "contact", 201).json["id"].(string)
	d.group = ok(s.call("POST", "/groups", map[string]any{"name": liveGroupName}), "group", 201).json["id"].(string)
	ok(s.call("PUT", "/groups/"+d.group+"/contacts", map[string]any{"ids": []string{d.contact}}), "group member", 204)
	d.verification = ok(s.call("POST", "/verify", map[string]any{"recipient": "31611110009", "originator": "Shop"}), "verification", 201).json["id"].(string)
	d.privacyRequest = ok(s.call("POST", "/v1/privacy/requests", map[string]any{"identifier": "+" + liveSent, "kind": "access"}), "privacy request", 201).json["id"].(string)
	r = ok(s.do("POST", "/consents/imports", s.key, "text/csv", []byte("recipient,purpose,action\n"+liveConsent+",marketing,opt_in\n")), "consent import", 202)
	d.importID = r.json["id"].(string)
	if _, err := s.app.subs.PutPlan(context.Background(), store.Plan{ID: "live", Name: "Live plan", Currency: "EUR", MonthlyFee: 1_000_000, IncludedSeats: 1}); err != nil {
		t.Fatal(err)
	}
	_, inv, err := s.app.subs.Subscribe(context.Background(), s.accountID, "live", nil, audit.Operator("test"))
	if err != nil {
		t.Fatal(err)
	}
	d.invoice = inv.ID
	d.forbidden = []string{d.invoice, inv.Number, d.privacyRequest, d.importID, d.verification, "31611110009", d.contact, d.group, liveContact, liveContactName, liveGroupName, d.sent, d.scheduled, d.caseID, d.secret, liveSent, liveScheduled, liveConsent, liveSuppressed,
		liveCase, liveRefused, liveErrorIP, "live body", liveSuppressedEmail, liveRemovedEmail, "live removal",
		liveTemplate, liveTemplateText, d.dkimSelector}
	return d
}

// testKeyCall is one request with the test key and what must come of it.
type testKeyCall struct {
	pattern     string // the route, as registered
	method      string
	path        string
	contentType string
	body        string
	status      int
	// check looks at the answer; nil checks only the status.
	check func(t *testing.T, r response)
	// echoes are forbidden strings the request itself sends, which its
	// answer may repeat.
	echoes []string
}

func emptyItems(field string) func(t *testing.T, r response) {
	return func(t *testing.T, r response) {
		t.Helper()
		if list, _ := r.json[field].([]any); len(list) != 0 {
			t.Errorf("%s is not empty: %s", field, short(r.raw))
		}
	}
}

// short is an answer cut for a failure message.
func short(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// Test keys see and change only test data: every endpoint of every door
// called with the account's test key, on an account full of live data,
// answers as if the account had no live data (empty lists, 404), refuses
// changes to live state with 403, validates without storing where a test
// request has a meaning of its own — and afterwards the live data is all
// there, unchanged. A route registered without a row here fails the test.
func TestTestKeysSeeNoLiveData(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		addMailRelay(t, s)
		live := makeLiveData(t, s)
		before := liveState(t, s, live)

		calls := []testKeyCall{
			{pattern: "POST /messages", method: "POST", path: "/messages", contentType: "application/json",
				body: `{"originator":"Shop","recipients":"31699990001","body":"test"}`, status: 201,
				check: func(t *testing.T, r response) {
					if id, _ := r.json["id"].(string); id == "" || s.get("/messages/"+id).status != 404 {
						t.Errorf("a test message was stored: %s", r.raw)
					}
				}},
			{pattern: "GET /messages", method: "GET", path: "/messages", status: 200, check: func(t *testing.T, r response) {
				if r.json["totalCount"] != 0.0 || r.json["count"] != 0.0 {
					t.Errorf("live messages listed: %s", r.raw)
				}
			}},
			{pattern: "GET /messages/{$}", method: "GET", path: "/messages/", status: 200, check: emptyItems("items")},
			{pattern: "GET /messages/{id}", method: "GET", path: "/messages/" + live.sent, status: 404},
			{pattern: "DELETE /messages/{id}", method: "DELETE", path: "/messages/" + live.scheduled, status: 404},
			{pattern: "POST /v1/send", method: "POST", path: "/v1/send", contentType: "application/json",
				body:   `{"type":"email","content":{"email":{"to":[{"email":"t@example.com"}],"from":{"email":"orders@shop.example"},"subject":"test","content":{"text":"test"}}}}`,
				status: 202, check: func(t *testing.T, r response) {
					if id, _ := r.json["id"].(string); id == "" || s.get("/v1/messages/"+id).status != 404 {
						t.Errorf("a test email was stored: %s", r.raw)
					}
				}},
			{pattern: "GET /v1/messages", method: "GET", path: "/v1/messages", status: 200, check: emptyItems("items")},
			{pattern: "GET /v1/messages/{id}", method: "GET", path: "/v1/messages/" + live.sent, status: 404},
			// Channels are the account's configuration, not its data: a
			// test key lists them, since a test send names one as from.
			{pattern: "GET /v1/channels", method: "GET", path: "/v1/channels", status: 200},
			{pattern: "GET /v1/channels/{id}", method: "GET", path: "/v1/channels/" + strings.Repeat("0", 32), status: 404},
			// WhatsApp templates are configuration, as channels are: a test
			// key reads them and changes none.
			{pattern: "POST /v2/platforms/whatsapp/templates", method: "POST", path: "/v2/platforms/whatsapp/templates", contentType: "application/json",
				body: `{"name":"test_only","language":"en","category":"UTILITY","components":[{"type":"BODY","text":"Hi"}]}`, status: 403},
			{pattern: "GET /v2/platforms/whatsapp/templates", method: "GET", path: "/v2/platforms/whatsapp/templates", status: 200},
			{pattern: "GET /v2/platforms/whatsapp/templates/{name}", method: "GET", path: "/v2/platforms/whatsapp/templates/no_such_template", status: 404},
			{pattern: "GET /v2/platforms/whatsapp/templates/{name}/{language}", method: "GET", path: "/v2/platforms/whatsapp/templates/no_such_template/en", status: 404},
			{pattern: "DELETE /v2/platforms/whatsapp/templates/{name}", method: "DELETE", path: "/v2/platforms/whatsapp/templates/no_such_template", status: 403},
			{pattern: "DELETE /v2/platforms/whatsapp/templates/{name}/{language}", method: "DELETE", path: "/v2/platforms/whatsapp/templates/no_such_template/en", status: 403},
			// Conversations and webhooks (conversations_test.go): a test key sees none and makes none.
			{pattern: "POST /v1/conversations/start", method: "POST", path: "/v1/conversations/start", contentType: "application/json",
				body: `{"to":"+31612345678","type":"text","content":{"text":"x"}}`, status: 422},
			{pattern: "POST /v1/conversations", method: "POST", path: "/v1/conversations", contentType: "application/json",
				body: `{"contactId":"` + strings.Repeat("0", 32) + `"}`, status: 403},
			{pattern: "GET /v1/conversations", method: "GET", path: "/v1/conversations", status: 200, check: emptyItems("items")},
			{pattern: "GET /v1/conversations/{id}", method: "GET", path: "/v1/conversations/" + strings.Repeat("0", 32), status: 404},
			{pattern: "PATCH /v1/conversations/{id}", method: "PATCH", path: "/v1/conversations/" + strings.Repeat("0", 32), contentType: "application/json",
				body: `{"status":"archived"}`, status: 404},
			{pattern: "POST /v1/conversations/{id}/messages", method: "POST", path: "/v1/conversations/" + strings.Repeat("0", 32) + "/messages",
				contentType: "application/json", body: `{"type":"text","content":{"text":"x"}}`, status: 404},
			{pattern: "GET /v1/conversations/{id}/{sub}", method: "GET", path: "/v1/conversations/" + strings.Repeat("0", 32) + "/messages", status: 404},
			{pattern: "GET /v1/conversations/{id}/{sub}", method: "GET", path: "/v1/conversations/contact/" + live.contact, status: 200, check: emptyItems("items"),
				echoes: []string{live.contact}},
			{pattern: "POST /v1/webhooks", method: "POST", path: "/v1/webhooks", contentType: "application/json",
				body: `{"url":"https://x.example/h","events":["message.created"]}`, status: 403},
			{pattern: "GET /v1/webhooks", method: "GET", path: "/v1/webhooks", status: 200, check: emptyItems("items")},
			{pattern: "GET /v1/webhooks/{id}", method: "GET", path: "/v1/webhooks/" + strings.Repeat("0", 32), status: 404},
			{pattern: "PATCH /v1/webhooks/{id}", method: "PATCH", path: "/v1/webhooks/" + strings.Repeat("0", 32), contentType: "application/json",
				body: `{"status":"disabled"}`, status: 404},
			{pattern: "PUT /v1/webhooks/{id}", method: "PUT", path: "/v1/webhooks/" + strings.Repeat("0", 32), contentType: "application/json",
				body: `{"status":"disabled"}`, status: 404},
			{pattern: "DELETE /v1/webhooks/{id}", method: "DELETE", path: "/v1/webhooks/" + strings.Repeat("0", 32), status: 404},
			// The address book: a test key sees no contact or group; the
			// ones it creates are checked and answered, never stored.
			{pattern: "POST /contacts", method: "POST", path: "/contacts", contentType: "application/json",
				body: `{"msisdn":"31699990005","firstName":"Test"}`, status: 201, check: func(t *testing.T, r response) {
					if id, _ := r.json["id"].(string); id == "" || s.get("/contacts/"+id).status != 404 {
						t.Errorf("a test contact was stored: %s", r.raw)
					}
				}},
			{pattern: "GET /contacts", method: "GET", path: "/contacts?msisdn=" + liveContact, status: 200, check: emptyItems("items"),
				echoes: []string{liveContact}},
			{pattern: "GET /contacts/{id}", method: "GET", path: "/contacts/" + live.contact, status: 404, echoes: []string{live.contact}},
			{pattern: "PATCH /contacts/{id}", method: "PATCH", path: "/contacts/" + live.contact, contentType: "application/json",
				body: `{"firstName":"changed"}`, status: 404, echoes: []string{live.contact}},
			{pattern: "DELETE /contacts/{id}", method: "DELETE", path: "/contacts/" + live.contact, status: 404, echoes: []string{live.contact}},
			{pattern: "GET /contacts/{id}/groups", method: "GET", path: "/contacts/" + live.contact + "/groups", status: 404, echoes: []string{live.contact}},
			{pattern: "GET /contacts/{id}/messages", method: "GET", path: "/contacts/" + live.contact + "/messages", status: 404, echoes: []string{live.contact}},
			{pattern: "POST /groups", method: "POST", path: "/groups", contentType: "application/json", body: `{"name":"test group"}`, status: 201,
				check: func(t *testing.T, r response) {
					if id, _ := r.json["id"].(string); id == "" || s.get("/groups/"+id).status != 404 {
						t.Errorf("a test group was stored: %s", r.raw)
					}
				}},
			{pattern: "GET /groups", method: "GET", path: "/groups", status: 200, check: emptyItems("items")},
			{pattern: "GET /groups/{id}", method: "GET", path: "/groups/" + live.group, status: 404, echoes: []string{live.group}},
			{pattern: "PATCH /groups/{id}", method: "PATCH", path: "/groups/" + live.group, contentType: "application/json",
				body: `{"name":"changed"}`, status: 404, echoes: []string{live.group}},
			{pattern: "PUT /groups/{id}", method: "PUT", path: "/groups/" + live.group + "?ids[]=" + live.contact, contentType: "application/json",
				body: `{}`, status: 404, echoes: []string{live.group, live.contact}},
			{pattern: "DELETE /groups/{id}", method: "DELETE", path: "/groups/" + live.group, status: 404, echoes: []string{live.group}},
			{pattern: "GET /groups/{id}/contacts", method: "GET", path: "/groups/" + live.group + "/contacts", status: 404, echoes: []string{live.group}},
			{pattern: "PUT /groups/{id}/contacts", method: "PUT", path: "/groups/" + live.group + "/contacts", contentType: "application/json",
				body: `{"ids":["` + live.contact + `"]}`, status: 404, echoes: []string{live.group, live.contact}},
			{pattern: "DELETE /groups/{id}/contacts/{contactId}", method: "DELETE", path: "/groups/" + live.group + "/contacts/" + live.contact,
				status: 404, echoes: []string{live.group, live.contact}},
			{pattern: "GET /balance", method: "GET", path: "/balance", status: 200, check: func(t *testing.T, r response) {
				if r.json["amount"] != 0.0 {
					t.Errorf("the live balance shows: %s", r.raw)
				}
			}},
			{pattern: "GET /lookup/{phoneNumber}", method: "GET", path: "/lookup/" + liveSent, status: 200, echoes: []string{liveSent},
				check: func(t *testing.T, r response) {
					if r.json["hlr"] != nil {
						t.Errorf("the live HLR query shows: %s", r.raw)
					}
				}},
			{pattern: "GET /lookup/{phoneNumber}/hlr", method: "GET", path: "/lookup/" + liveSent + "/hlr", status: 404},
			{pattern: "POST /lookup/{phoneNumber}/hlr", method: "POST", path: "/lookup/31699990004/hlr", status: 201},
			{pattern: "POST /hlr", method: "POST", path: "/hlr", contentType: "application/json", body: `{"msisdn":"31699990005"}`, status: 201},
			{pattern: "GET /hlr", method: "GET", path: "/hlr", status: 200, check: emptyItems("items")},
			{pattern: "GET /hlr/{id}", method: "GET", path: "/hlr/" + live.hlr, status: 404, echoes: []string{live.hlr}},
			{pattern: "GET /settings/hlr", method: "GET", path: "/settings/hlr", status: 200},
			{pattern: "PUT /settings/hlr", method: "PUT", path: "/settings/hlr", contentType: "application/json", body: `{"checkBeforeSend":true}`, status: 403},

			{pattern: "GET /prices/sms", method: "GET", path: "/prices/sms?recipient=31699990001", status: 200},
			{pattern: "GET /usage", method: "GET", path: "/usage", status: 200, check: func(t *testing.T, r response) {
				items, _ := r.json["items"].([]any)
				if len(items) == 0 {
					t.Errorf("the account's limits are hidden: %s", r.raw)
				}
				for _, it := range items {
					if u := it.(map[string]any)["used"]; u != 0.0 {
						t.Errorf("live usage shows: %s", r.raw)
					}
				}
			}},
			{pattern: "GET /ledger", method: "GET", path: "/ledger", status: 200, check: emptyItems("items")},
			{pattern: "GET /terms", method: "GET", path: "/terms", status: 404}, // none published here
			{pattern: "POST /terms/accept", method: "POST", path: "/terms/accept", contentType: "application/json", body: `{"version":"v1"}`, status: 403},
			{pattern: "GET /subprocessors", method: "GET", path: "/subprocessors", status: 200}, // the operator's list, not account data
			{pattern: "GET /subscription", method: "GET", path: "/subscription", status: 404},
			{pattern: "GET /invoices", method: "GET", path: "/invoices", status: 200, check: emptyItems("items")},
			{pattern: "GET /invoices/{id}", method: "GET", path: "/invoices/" + live.invoice, status: 404, echoes: []string{live.invoice}},
			{pattern: "POST /invoices/{id}/pay", method: "POST", path: "/invoices/" + live.invoice + "/pay", status: 403, echoes: []string{live.invoice}},
			{pattern: "POST /invoices/{id}/dispute", method: "POST", path: "/invoices/" + live.invoice + "/dispute", contentType: "application/json",
				body: `{"note":"x"}`, status: 403, echoes: []string{live.invoice}},
			{pattern: "GET /account/export", method: "GET", path: "/account/export", status: 403},
			{pattern: "GET /billing/autotopup", method: "GET", path: "/billing/autotopup", status: 200},
			{pattern: "PUT /billing/autotopup", method: "PUT", path: "/billing/autotopup", contentType: "application/json",
				body: `{"enabled":false}`, status: 403},
			{pattern: "GET /topups", method: "GET", path: "/topups", status: 200, check: emptyItems("items")},
			{pattern: "POST /topups", method: "POST", path: "/topups", contentType: "application/json", body: `{"amount":"5"}`, status: 403},
			{pattern: "GET /statements/{month}", method: "GET", path: "/statements/" + live.month, status: 200, check: func(t *testing.T, r response) {
				totals, _ := r.json["totals"].(map[string]any)
				if lines, _ := r.json["lines"].([]any); len(lines) != 0 || totals["messages"] != 0.0 || totals["amount"] != 0.0 {
					t.Errorf("the live statement shows: %s", r.raw)
				}
			}},

			{pattern: "POST /consents", method: "POST", path: "/consents", contentType: "application/json",
				body: `{"recipient":"31699990002","purpose":"marketing","action":"opt_in"}`, status: 201},
			{pattern: "GET /consents", method: "GET", path: "/consents?recipient=" + liveConsent, status: 200, check: emptyItems("items"),
				echoes: []string{liveConsent}},
			{pattern: "GET /consents/proof", method: "GET", path: "/consents/proof?recipient=" + liveConsent, status: 200,
				check: func(t *testing.T, r response) {
					if r.json["marketing"] != "no record" {
						t.Errorf("live consent proven: %s", r.raw)
					}
					emptyItems("entries")(t, r)
				}, echoes: []string{liveConsent}},
			{pattern: "POST /consents/import", method: "POST", path: "/consents/import", contentType: "text/csv",
				body: "recipient,purpose,action\n31699990003,marketing,opt_in\n", status: 200},
			{pattern: "POST /consents/imports", method: "POST", path: "/consents/imports", contentType: "text/csv",
				body: "recipient,purpose,action\n31699990006,marketing,opt_in\n", status: 202, check: func(t *testing.T, r response) {
					if im := s.waitImport(func() response { return s.do("GET", "/imports/"+r.json["id"].(string), s.testKey, "", nil) }); im["state"] != "done" || im["imported"] != 0.0 {
						t.Errorf("a test key's consent import: %v", im)
					}
				}},
			{pattern: "POST /suppressions/imports", method: "POST", path: "/suppressions/imports", contentType: "text/csv",
				body: "channel,recipient\nemail," + liveSuppressedEmail + "\n", status: 202, echoes: []string{liveSuppressedEmail}},
			{pattern: "GET /imports", method: "GET", path: "/imports", status: 200},
			{pattern: "GET /imports/{id}", method: "GET", path: "/imports/" + live.importID, status: 404, echoes: []string{live.importID}},
			{pattern: "GET /suppressions", method: "GET", path: "/suppressions", status: 200, check: emptyItems("items")},
			{pattern: "POST /v1/privacy/requests", method: "POST", path: "/v1/privacy/requests", contentType: "application/json",
				body: `{"identifier":"+31699990005","kind":"erasure"}`, status: 201, check: func(t *testing.T, r response) {
					if r.json["id"] != "" {
						t.Errorf("a test key's privacy request was stored: %s", r.raw)
					}
				}},
			{pattern: "GET /v1/privacy/requests", method: "GET", path: "/v1/privacy/requests", status: 200, check: emptyItems("items")},
			{pattern: "GET /v1/privacy/requests/{id}", method: "GET", path: "/v1/privacy/requests/" + live.privacyRequest, status: 404,
				echoes: []string{live.privacyRequest}},
			{pattern: "GET /v1/privacy/requests/{id}/export", method: "GET", path: "/v1/privacy/requests/" + live.privacyRequest + "/export", status: 404,
				echoes: []string{live.privacyRequest}},
			{pattern: "POST /v1/privacy/requests/{id}/extend", method: "POST", path: "/v1/privacy/requests/" + live.privacyRequest + "/extend",
				contentType: "application/json", body: `{"reason":"test"}`, status: 404, echoes: []string{live.privacyRequest}},
			{pattern: "POST /v1/privacy/requests/{id}/close", method: "POST", path: "/v1/privacy/requests/" + live.privacyRequest + "/close",
				contentType: "application/json", body: `{}`, status: 404, echoes: []string{live.privacyRequest}},
			{pattern: "POST /suppressions", method: "POST", path: "/suppressions", contentType: "application/json",
				body: `{"recipient":"` + liveSuppressed + `"}`, status: 201, echoes: []string{liveSuppressed}},
			{pattern: "DELETE /suppressions/{recipient}", method: "DELETE", path: "/suppressions/" + liveSuppressed, status: 404,
				echoes: []string{liveSuppressed}},
			{pattern: "DELETE /suppressions/{channel}/{recipient}", method: "DELETE", path: "/suppressions/email/" + liveSuppressedEmail + "?reason=test",
				status: 404, echoes: []string{liveSuppressedEmail}},
			{pattern: "GET /suppressions/removals", method: "GET", path: "/suppressions/removals", status: 200, check: emptyItems("items")},
			{pattern: "GET /suppressions/export", method: "GET", path: "/suppressions/export", status: 200,
				check: func(t *testing.T, r response) {
					if string(r.raw) != "channel,recipient,reason,actor,created\n" {
						t.Errorf("test export: %s", short(r.raw))
					}
				}},
			{pattern: "POST /suppressions/import", method: "POST", path: "/suppressions/import", contentType: "text/csv",
				body: "channel,recipient\nemail," + liveSuppressedEmail + "\nemail,test-only@example.com\n", status: 200,
				echoes: []string{liveSuppressedEmail}, check: func(t *testing.T, r response) {
					if r.json["added"] != 0.0 || r.json["rows"] != 2.0 {
						t.Errorf("test import: %s", r.raw)
					}
				}},
			{pattern: "GET /templates", method: "GET", path: "/templates", status: 200, check: emptyItems("items")},
			{pattern: "POST /templates", method: "POST", path: "/templates", contentType: "application/json",
				body: `{"name":"` + liveTemplate + `","defaultLanguage":"en","variants":[{"language":"en","text":"test only"}]}`, status: 201,
				echoes: []string{liveTemplate}},
			{pattern: "GET /templates/{name}", method: "GET", path: "/templates/" + liveTemplate, status: 404, echoes: []string{liveTemplate}},
			{pattern: "PUT /templates/{name}", method: "PUT", path: "/templates/" + liveTemplate, contentType: "application/json",
				body: `{"defaultLanguage":"en","variants":[{"language":"en","text":"test only"}]}`, status: 201, echoes: []string{liveTemplate}},
			{pattern: "DELETE /templates/{name}", method: "DELETE", path: "/templates/" + liveTemplate, status: 404, echoes: []string{liveTemplate}},
			{pattern: "POST /templates/{name}/preview", method: "POST", path: "/templates/" + liveTemplate + "/preview", contentType: "application/json",
				body: `{"language":"en"}`, status: 404, echoes: []string{liveTemplate}},
			{pattern: "GET /senders", method: "GET", path: "/senders", status: 200},
			{pattern: "POST /senders", method: "POST", path: "/senders", contentType: "application/json", body: `{"originator":"TestOnly"}`, status: 201},
			{pattern: "GET /compliance/policy", method: "GET", path: "/compliance/policy", status: 200},
			{pattern: "PATCH /compliance/policy", method: "PATCH", path: "/compliance/policy", contentType: "application/json",
				body: `{"helpText":"changed by a test key"}`, status: 200},
			{pattern: "GET /compliance/cases", method: "GET", path: "/compliance/cases", status: 200, check: emptyItems("items")},
			{pattern: "POST /compliance/cases/{id}/proof", method: "POST", path: "/compliance/cases/" + live.caseID + "/proof",
				contentType: "application/json", body: `{"proof":"made up"}`, status: 403, echoes: []string{live.caseID}},
			{pattern: "GET /compliance/decisions", method: "GET", path: "/compliance/decisions", status: 200, check: emptyItems("items")},

			{pattern: "GET /keys", method: "GET", path: "/keys", status: 200, check: func(t *testing.T, r response) {
				items, _ := r.json["items"].([]any)
				if len(items) != 1 || items[0].(map[string]any)["test"] != true {
					t.Errorf("a test key lists live keys: %s", r.raw)
				}
			}},
			{pattern: "DELETE /keys/{id}", method: "DELETE", path: "/keys/" + s.keyID(s.key), status: 404},

			{pattern: "GET /realtime/apps", method: "GET", path: "/realtime/apps", status: 200},
			{pattern: "POST /realtime/apps", method: "POST", path: "/realtime/apps", contentType: "application/json", body: `{"name":"x"}`, status: 403},
			{pattern: "GET /realtime/apps/{id}", method: "GET", path: "/realtime/apps/" + live.appID, status: 200, check: func(t *testing.T, r response) {
				if _, ok := r.json["secret"]; ok {
					t.Errorf("the app's secret shows: %s", r.raw)
				}
			}},
			{pattern: "PATCH /realtime/apps/{id}", method: "PATCH", path: "/realtime/apps/" + live.appID, contentType: "application/json",
				body: `{"enabled":false}`, status: 403},
			{pattern: "DELETE /realtime/apps/{id}", method: "DELETE", path: "/realtime/apps/" + live.appID, status: 403},
			{pattern: "POST /realtime/apps/{id}/rotate", method: "POST", path: "/realtime/apps/" + live.appID + "/rotate", status: 403},
			{pattern: "GET /realtime/apps/{id}/errors", method: "GET", path: "/realtime/apps/" + live.appID + "/errors", status: 200,
				check: emptyItems("items")},
			{pattern: "GET /beams/instances/{id}", method: "GET", path: "/beams/instances/" + live.appID, status: 200},
			{pattern: "GET /beams/instances/{id}/quota", method: "GET", path: "/beams/instances/" + live.appID + "/quota", status: 200},
			{pattern: "PUT /beams/instances/{id}/apns", method: "PUT", path: "/beams/instances/" + live.appID + "/apns", contentType: "application/json",
				body: `{"key":"x","key_id":"ABCDE12345","team_id":"ABCDE12345","topic":"com.x"}`, status: 403},
			{pattern: "DELETE /beams/instances/{id}/apns", method: "DELETE", path: "/beams/instances/" + live.appID + "/apns", status: 403},
			{pattern: "PUT /beams/instances/{id}/fcm", method: "PUT", path: "/beams/instances/" + live.appID + "/fcm", contentType: "application/json",
				body: `{"service_account":{}}`, status: 403},
			{pattern: "DELETE /beams/instances/{id}/fcm", method: "DELETE", path: "/beams/instances/" + live.appID + "/fcm", status: 403},

			{pattern: "POST /verify", method: "POST", path: "/verify", contentType: "application/json",
				body: `{"recipient":"31611119999","originator":"Shop"}`, status: 201, check: func(t *testing.T, r response) {
					if r.json["status"] != "sent" || s.get("/verify/"+r.json["id"].(string)).status != 404 {
						t.Errorf("a test key's verification was stored: %s", r.raw)
					}
				}},
			{pattern: "GET /verify/{id}", method: "GET", path: "/verify/" + live.verification, status: 404, echoes: []string{live.verification}},
			{pattern: "DELETE /verify/{id}", method: "DELETE", path: "/verify/" + live.verification, status: 404, echoes: []string{live.verification}},
			{pattern: "GET /verify/messages/email/{id}", method: "GET", path: "/verify/messages/email/" + live.sent, status: 404, echoes: []string{live.sent}},

			// Numbers: a test key searches the inventory, buys nothing and
			// sees none of the account's numbers.
			{pattern: "GET /v1/available-phone-numbers/{countryCode}", method: "GET", path: "/v1/available-phone-numbers/NL", status: 200},
			{pattern: "POST /v1/phone-numbers", method: "POST", path: "/v1/phone-numbers", contentType: "application/json",
				body: `{"number":"31612345672","countryCode":"NL"}`, status: 403},
			{pattern: "GET /v1/phone-numbers", method: "GET", path: "/v1/phone-numbers", status: 200, check: emptyItems("items")},
			{pattern: "GET /v1/phone-numbers/{number}", method: "GET", path: "/v1/phone-numbers/" + liveNumber, status: 404, echoes: []string{liveNumber}},
			{pattern: "PATCH /v1/phone-numbers/{number}", method: "PATCH", path: "/v1/phone-numbers/" + liveNumber, contentType: "application/json",
				body: `{"tags":["test"]}`, status: 404, echoes: []string{liveNumber}},
			{pattern: "DELETE /v1/phone-numbers/{number}", method: "DELETE", path: "/v1/phone-numbers/" + liveNumber, status: 404, echoes: []string{liveNumber}},

			{pattern: "GET /email/domains", method: "GET", path: "/email/domains", status: 200, check: emptyItems("items")},
			{pattern: "POST /email/domains", method: "POST", path: "/email/domains", contentType: "application/json",
				body: `{"domain":"test-only.example","algorithm":"ed25519"}`, status: 201, check: func(t *testing.T, r response) {
					if r.json["domain"] != "test-only.example" || s.get("/email/domains/test-only.example").status != 404 {
						t.Errorf("a test key's domain was stored: %s", r.raw)
					}
				}},
			{pattern: "GET /email/domains/{domain}", method: "GET", path: "/email/domains/" + liveEmailDomain, status: 404, echoes: []string{liveEmailDomain}},
			{pattern: "DELETE /email/domains/{domain}", method: "DELETE", path: "/email/domains/" + liveEmailDomain, status: 404},
			{pattern: "POST /email/domains/{domain}/verify", method: "POST", path: "/email/domains/" + liveEmailDomain + "/verify", status: 404},
		}

		covered := map[string]bool{}
		for _, c := range calls {
			covered[c.pattern] = true
			t.Run(c.method+" "+c.path, func(t *testing.T) {
				r := s.do(c.method, c.path, s.testKey, c.contentType, []byte(c.body))
				if r.status != c.status {
					t.Fatalf("%s %s with a test key = %d %s, want %d", c.method, c.path, r.status, r.raw, c.status)
				}
				if r.status >= 400 {
					if code, _, _ := errorOf(t, r); c.status == 403 && code != 2 {
						t.Errorf("403 with code %v, want 2 (the key may not do this): %s", code, r.raw)
					}
				}
				for _, f := range live.forbidden {
					if strings.Contains(string(r.raw), f) && !slices.Contains(c.echoes, f) {
						t.Errorf("the answer shows live data %q: %s", f, short(r.raw))
					}
				}
				if c.check != nil {
					c.check(t, r)
				}
			})
		}
		for _, p := range s.app.style.Patterns() {
			if !covered[p] {
				t.Errorf("route %q has no test-key row: decide what a test key may do there, and test it", p)
			}
		}
		if after := liveState(t, s, live); after != before {
			t.Errorf("the test key changed live data:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// liveState reads, with the live key, everything the test key must leave
// as it is, as one string to compare.
func liveState(t *testing.T, s *server, live liveData) string {
	t.Helper()
	var b strings.Builder
	for _, path := range []string{
		"/messages/" + live.scheduled, "/balance", "/billing/autotopup", "/topups", "/suppressions", "/suppressions/removals", "/templates", "/templates/" + liveTemplate, "/senders",
		"/compliance/policy", "/compliance/cases", "/consents?recipient=" + liveConsent, "/consents?recipient=31699990002",
		"/consents?recipient=31699990003", "/realtime/apps/" + live.appID, "/ledger", "/email/domains",
		"/verify/" + live.verification, "/contacts", "/contacts/" + live.contact, "/groups", "/groups/" + live.group + "/contacts",
		"/hlr/" + live.hlr, "/settings/hlr", "/v1/phone-numbers", "/v1/available-phone-numbers/NL", "/subscription", "/invoices",
	} {
		r := s.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s with the live key = %d %s", path, r.status, r.raw)
		}
		b.WriteString(path + " " + string(r.raw) + "\n")
	}
	return b.String()
}
