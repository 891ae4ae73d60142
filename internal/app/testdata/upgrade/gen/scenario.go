package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/connectors"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smpp/dlr"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// The fixture's people and numbers. NL mobiles without a route go to the
// demo SMSC (delivered); the route table sends 316200… to a carrier that
// answers UNDELIV, 316300… to one that answers EXPIRED and 316400… to one
// that never sends its receipt before the generator stops it.
const (
	inboundNumber = "3197010000001" // the account's inbound number
	handsetA      = "31655500001"   // opted in to marketing, of legal age (web form)
	handsetB      = "31655500002"   // opted in, then sent STOP
	handsetC      = "31687654321"   // writes to the inbound number
	importedOptIn = "31655500003"   // opted in through a CSV import
	manualSuppr   = "31655500009"   // suppressed by hand
	saudiHandset  = "966501234567"  // Arabic messages
	dndNumber     = "919812345678"  // on the IN-NCPR registry
	failingPrefix = "316200"
	expiringPfx   = "316300"
	silentPrefix  = "316400"
)

// Message bodies longer than one part.
var (
	longGSM    = strings.Repeat("Your parcel 4711 is on its way and will arrive tomorrow between 9:00 and 12:00. ", 5) // 400 characters: 3 parts
	longArabic = strings.Repeat("مرحبا بكم في خدمة العملاء، طلبكم قيد التوصيل. ", 4)                                   // unicode: 3 parts
	twoParts   = strings.Repeat("This message needs two parts to arrive. ", 5)                                         // 200 characters
	longMO     = strings.Repeat("Bonjour, ", 30)                                                                       // 270 characters: 2 inbound parts
)

// gen drives one fixture's generation.
type gen struct {
	engine  string
	cfg     app.Config
	log     *slog.Logger
	sink    *sink
	failing *carrier // receipts UNDELIV
	expires *carrier // receipts EXPIRED
	silent  *carrier // receipts never arrive before the generator stops

	srv       *server
	op        *sqlstore.Store // the operator's handle on the database
	accountID string
	key       string
	ids       map[string]string // the fixture's messages by name (README)
	month     string            // the statement month
	appID     string            // the realtime app
	caseID    string
}

func (g *gen) auth() string { return "AccessKey " + g.key }

// api calls the account's REST API with its live key.
func (g *gen) api(method, path string, body any) reply {
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	return call(method, g.srv.base+path, g.auth(), ct, jsonBody(body))
}

// admin calls the operator API.
func (g *gen) admin(method, path, contentType string, body any) reply {
	if contentType == "" && body != nil {
		contentType = "application/json"
	}
	return call(method, g.srv.base+path, "Bearer "+adminToken, contentType, jsonBody(body))
}

// send posts a message and requires 201; it returns the message's id.
func (g *gen) send(name string, req map[string]any) string {
	r := must(g.api("POST", "/messages", req), 201, "sending "+name)
	id := r.json()["id"].(string)
	g.ids[name] = id
	return id
}

// refused posts a message that compliance must refuse (403).
func (g *gen) refused(what string, req map[string]any) {
	r := g.api("POST", "/messages", req)
	if r.status != 403 || !strings.Contains(string(r.body), what) {
		fail("expected a refusal by %s, got %d %s", what, r.status, r.body)
	}
}

// message reads a message through the API.
func (g *gen) message(id string) map[string]any {
	return must(g.api("GET", "/messages/"+id, nil), 200, "reading "+id).json()
}

// statuses are a message's recipients' statuses, in order.
func (g *gen) statuses(id string) []string {
	var out []string
	for _, it := range g.message(id)["recipients"].(map[string]any)["items"].([]any) {
		out = append(out, it.(map[string]any)["status"].(string))
	}
	return out
}

// waitStatuses waits until a message's recipients have the statuses.
func (g *gen) waitStatuses(name string, want ...string) {
	id := g.ids[name]
	waitUntil(fmt.Sprintf("%s (%s) to be %v", name, id, want), 30*time.Second, func() bool {
		return strings.Join(g.statuses(id), ",") == strings.Join(want, ",")
	})
}

// operator runs f on the database opened as `omnigate` CLI commands open
// it (they work on the same database while the server runs).
func (g *gen) operator(f func(st *sqlstore.Store)) {
	if g.op == nil {
		st, err := app.OpenStore(context.Background(), g.cfg)
		if err != nil {
			fail("opening the store: %v", err)
		}
		g.op = st
	}
	f(g.op)
}

// closeOperator closes the operator's handle on the database.
func (g *gen) closeOperator() {
	if g.op != nil {
		if err := g.op.Close(); err != nil {
			fail("closing the store: %v", err)
		}
		g.op = nil
	}
}

// generate fills a fresh database (g.cfg) and leaves it with the server
// stopped cleanly.
func (g *gen) generate() {
	ctx := context.Background()
	g.ids = map[string]string{}
	g.month = time.Now().UTC().Format("2006-01")

	// Phase 0, the operator before the first start: `omnigate account
	// create --name fixture --balance 100`, `connector add` for three
	// carriers, `route add` and `number add`.
	step("%s: account, connectors, routes, number", g.engine)
	g.operator(func(st *sqlstore.Store) {
		c, err := accounts.Create(ctx, st, accounts.New{Name: "fixture", Balance: 100 * message.MicrosPerUnit})
		if err != nil {
			fail("account create: %v", err)
		}
		g.accountID, g.key = c.Account.ID, c.LiveKey
		for _, cr := range []*carrier{g.failing, g.expires, g.silent} {
			raw, _ := json.Marshal(cr.settings())
			if err := st.SaveConnector(ctx, store.ConnectorConfig{Name: cr.name, Kind: connectors.KindSMPP, Settings: raw, Enabled: true, UpdatedAt: time.Now().UTC()}); err != nil {
				fail("connector add: %v", err)
			}
		}
		for _, r := range []store.Route{
			{Prefix: failingPrefix, Connectors: []string{g.failing.name}},
			{Prefix: expiringPfx, Connectors: []string{g.expires.name}},
			{Prefix: silentPrefix, Connectors: []string{g.silent.name, g.failing.name}},
			{AccountID: g.accountID, Country: "DE", Connectors: []string{g.silent.name}}, // an account's own route, unused
		} {
			r.CreatedAt = time.Now().UTC()
			if err := st.AddRoute(ctx, &r); err != nil {
				fail("route add: %v", err)
			}
		}
		if err := st.AddNumber(ctx, store.Number{Number: inboundNumber, AccountID: g.accountID, CreatedAt: time.Now().UTC()}); err != nil {
			fail("number add: %v", err)
		}
		if err := accounts.SetInboundURL(ctx, st, g.accountID, g.sink.srv.URL+"/inbound"); err != nil {
			fail("account update --inbound-url: %v", err)
		}
	})

	// Phase 1: the server runs; the operator uses the admin API, the
	// customer the REST API.
	g.start()
	waitUntil("the connectors to bind", 20*time.Second, func() bool {
		return g.failing.srv.Stats().Binds.Load() > 0 && g.expires.srv.Stats().Binds.Load() > 0 && g.silent.srv.Stats().Binds.Load() > 0
	})
	time.Sleep(300 * time.Millisecond) // the binds' responses reach the connectors
	g.setUp()
	g.sendMessages()
	g.receive()
	g.review()
	g.proofCase()
	g.settle()

	// A message whose validity passes while the server is down: scheduled
	// five seconds ahead, valid for one, and the server stopped at once.
	when := time.Now().UTC().Add(5 * time.Second).Truncate(time.Second)
	g.send("expired-validity", map[string]any{"originator": "Fixture", "recipients": []string{"31612340009"}, "body": "Valid for one second only",
		"scheduledDatetime": when.Format(time.RFC3339), "validity": 1})
	g.stop()

	// Between the runs, the operator's tools on the database: receipts the
	// simulators cannot produce (ENROUTE → buffered) for parts whose carrier
	// ids the database holds, and one receipt for an id no part has (kept
	// pending).
	step("%s: receipts applied through the store", g.engine)
	g.operator(func(st *sqlstore.Store) {
		var rs []store.Receipt
		status, reason := dlr.Enroute.Status()
		for _, p := range []struct {
			name      string
			seq, part int
		}{{"buffered", 0, 1}, {"multi", 4, 1}} {
			var smscID string
			row := st.Writer().QueryRowContext(ctx, rebind(g.engine, `SELECT smsc_id FROM recipient_parts WHERE message_id = ? AND seq = ? AND part = ?`), g.ids[p.name], p.seq, p.part)
			if err := row.Scan(&smscID); err != nil {
				fail("reading the carrier id of %s: %v", p.name, err)
			}
			rs = append(rs, store.Receipt{Connector: g.silent.name, SMSCIDs: dlr.IDForms(smscID), Status: status, Reason: reason, At: time.Now().UTC()})
		}
		delivered, why := dlr.Delivered.Status()
		rs = append(rs, store.Receipt{Connector: g.silent.name, SMSCIDs: dlr.IDForms("4242424242"), Status: delivered, Reason: why, At: time.Now().UTC()})
		outs, err := st.ApplyReceipts(ctx, rs)
		if err != nil {
			fail("applying receipts: %v", err)
		}
		if !outs[0].Matched || !outs[1].Matched || outs[2].Matched {
			fail("receipts matched %+v", outs)
		}
	})

	// Phase 2: the server starts again after the message's validity
	// passed: the dispatcher expires it without sending.
	time.Sleep(time.Until(when.Add(2 * time.Second)))
	g.start()
	g.waitStatuses("expired-validity", "expired")
	g.waitStatuses("buffered", "buffered")
	g.settle()
	g.stop()
	g.closeOperator()
}

func (g *gen) start() {
	srv, err := startServer(g.cfg, g.log)
	if err != nil {
		fail("starting omnigate: %v", err)
	}
	g.srv = srv
	step("%s: omnigate running at %s", g.engine, srv.base)
}

func (g *gen) stop() {
	if err := g.srv.stop(); err != nil {
		fail("omnigate stopped with %v", err)
	}
	step("%s: omnigate stopped cleanly", g.engine)
}

// setUp is the operator's and the customer's configuration.
func (g *gen) setUp() {
	step("%s: prices, ledger, limits, senders, policy, consents, suppressions, realtime app", g.engine)
	acct := "/admin/accounts/" + g.accountID
	// Prices: the default list, and one line of the account's own.
	must(g.admin("POST", "/admin/prices", "text/csv", "channel,country,prefix,currency,price\nsms,,,EUR,0.08\nsms,NL,,EUR,0.07\nsms,SA,,EUR,0.11\n"), 200, "importing prices")
	must(g.admin("POST", "/admin/prices?account="+g.accountID, "text/csv", "channel,country,prefix,currency,price\nsms,NL,316200,EUR,0.06\n"), 200, "importing the account's prices")
	// Money: a top-up, a refund and an adjustment by the operator.
	must(g.admin("POST", acct+"/ledger", "", map[string]any{"kind": "topup", "amount": "50", "reason": "bank transfer, invoice 2026-001", "idempotencyKey": "fixture-topup-1"}), 201, "top-up")
	must(g.admin("POST", acct+"/ledger", "", map[string]any{"kind": "refund", "amount": "0.35", "reason": "refund for a complaint"}), 201, "refund")
	must(g.admin("POST", acct+"/ledger", "", map[string]any{"kind": "adjustment", "amount": "-1.25", "reason": "correction of a rounding difference"}), 201, "adjustment")
	// Usage limits, far from reached.
	must(g.admin("PUT", acct+"/limits", "", map[string]any{"metric": "messages", "channel": "sms", "period": "month", "limit": 100000, "policy": "block"}), 200, "messages limit")
	must(g.admin("PUT", acct+"/limits", "", map[string]any{"metric": "spend", "period": "day", "limit": "500", "policy": "allow"}), 200, "spend limit")
	must(g.admin("PUT", acct+"/billing", "", map[string]any{"alertUrl": g.sink.srv.URL + "/alerts", "alertEmails": []string{"ops@example.com"}}), 200, "billing settings")
	// A do-not-disturb registry.
	must(g.admin("POST", "/admin/dnd/IN-NCPR?scope=marketing", "text/csv", "number,listed\n"+dndNumber+",2025-01-15\n9197\n"), 200, "DND import")

	// Senders: registered by the customer, decided by the operator.
	for _, o := range []string{"Fixture", "Promo", "Pending"} {
		must(g.api("POST", "/senders", map[string]any{"originator": o}), 201, "registering sender "+o)
	}
	must(g.admin("PUT", acct+"/senders/Fixture", "", map[string]any{"status": "approved", "note": "company registration checked"}), 200, "approving Fixture")
	must(g.admin("PUT", acct+"/senders/Promo", "", map[string]any{"status": "rejected", "note": "misleading brand"}), 200, "rejecting Promo")

	// The account's own settings.
	must(g.api("PATCH", "/compliance/policy", map[string]any{"helpText": "Fixture Ltd, support@example.com", "countryQuietHours": map[string]string{"FR": "09:00-20:00"}}), 200, "policy")
	must(g.api("PUT", "/billing/autotopup", map[string]any{"enabled": true, "threshold": "5", "amount": "50"}), 200, "automatic top-up")
	must(g.api("POST", "/topups", map[string]any{"amount": "25", "idempotencyKey": "fixture-pending"}), 201, "pending top-up")
	confirmed := must(g.api("POST", "/topups", map[string]any{"amount": "40", "idempotencyKey": "fixture-confirmed"}), 201, "top-up to confirm").json()["id"].(string)
	must(g.admin("POST", "/admin/topups/"+confirmed+"/confirm", "", nil), 200, "confirming the top-up")

	// Consents: an opt-in with evidence from a web form, one by API, one
	// imported; a manual suppression.
	must(g.api("POST", "/consents", map[string]any{"recipient": "+" + handsetA, "purpose": "marketing", "action": "opt_in", "legalAge": true,
		"categories": []string{"alcohol"}, "source": "web_form", "actor": "signup form",
		"evidence": map[string]string{"text": "Yes, send me offers. I am over 18.", "ip": "203.0.113.7", "userAgent": "Mozilla/5.0 (fixture)",
			"formUrl": "https://shop.example.com/signup"}, "consentDatetime": "2026-01-10T09:30:00+00:00"}), 201, "opt-in A")
	must(g.api("POST", "/consents", map[string]any{"recipient": handsetB, "purpose": "marketing", "action": "opt_in",
		"evidence": map[string]string{"text": "checkbox at checkout", "reference": "order-1001"}}), 201, "opt-in B")
	must(call("POST", g.srv.base+"/consents/import", g.auth(), "text/csv",
		[]byte("recipient,purpose,action,legal_age,categories,date,evidence\n"+importedOptIn+",marketing,opt_in,true,,2025-12-01T10:00:00Z,paper form 17\n")), 200, "consent import")
	must(g.api("POST", "/suppressions", map[string]any{"recipient": manualSuppr}), 201, "manual suppression")

	// A realtime (Pusher) app.
	g.appID = must(g.api("POST", "/realtime/apps", map[string]any{"name": "fixture-dashboard", "max_connections": 100, "client_event_rate": 5}), 201, "realtime app").json()["app_id"].(string)
}

// sendMessages sends the fixture's outbound messages and waits for what
// the carriers answer.
func (g *gen) sendMessages() {
	step("%s: outbound messages", g.engine)
	report := g.sink.srv.URL + "/reports"
	g.send("delivered", map[string]any{"originator": "Fixture", "recipients": []string{"31612345678"}, "body": "Hello from the fixture",
		"reference": "order-1001", "reportUrl": report})
	g.send("long-gsm", map[string]any{"originator": "Fixture", "recipients": []string{"+31 6 1234 5679"}, "body": longGSM, "datacoding": "plain"})
	g.send("long-arabic", map[string]any{"originator": "Fixture", "recipients": []string{saudiHandset}, "body": longArabic, "datacoding": "auto"})
	g.send("binary", map[string]any{"originator": "Fixture", "recipients": "31612345670", "body": "48656c6c6f20776f726c64", "type": "binary",
		"typeDetails": map[string]any{"udh": "050003cc0201"}})
	g.send("flash", map[string]any{"originator": "Fixture", "recipients": []int64{31612345671}, "body": "Flash: your code is 5521", "type": "flash"})
	g.send("options", map[string]any{"originator": "Fixture", "recipients": []string{"31612345672"}, "body": "hi with every option",
		"datacoding": "unicode", "mclass": 3, "validity": 86400, "gateway": 10, "reference": "opts-7", "reportUrl": report})
	g.send("auto-plain", map[string]any{"originator": "Fixture", "recipients": []string{"31612345673"}, "body": "Plain text sent with datacoding auto €",
		"datacoding": "auto"})
	g.send("numeric-sender", map[string]any{"originator": inboundNumber, "recipients": []string{"31612345674"}, "body": "From the account's own number",
		"reference": "num-1"})
	g.send("marketing", map[string]any{"originator": "Fixture", "recipients": []string{handsetA}, "body": "Our new wine selection is in: 10% off this week",
		"purpose": "marketing", "categories": []string{"alcohol"}, "urgent": true})
	g.send("failed", map[string]any{"originator": "Fixture", "recipients": []string{failingPrefix + "00001"}, "body": "This one fails at the carrier"})
	g.send("expired-carrier", map[string]any{"originator": "Fixture", "recipients": []string{expiringPfx + "00001"}, "body": "This one expires at the carrier"})
	g.send("sent", map[string]any{"originator": "Fixture", "recipients": []string{silentPrefix + "00001"}, "body": "No receipt comes for this one",
		"reference": "silent-1"})
	g.send("buffered", map[string]any{"originator": "Fixture", "recipients": []string{silentPrefix + "00002"}, "body": twoParts})
	g.send("multi", map[string]any{"originator": "Fixture", "body": "One message, five fates", "reference": "multi-5", "reportUrl": report,
		"recipients": []string{"31612340001", failingPrefix + "00003", expiringPfx + "00003", silentPrefix + "00003", silentPrefix + "00004"}})
	g.send("scheduled", map[string]any{"originator": "Fixture", "recipients": []string{"31612345678"}, "body": "See you in 2099",
		"scheduledDatetime": "2099-01-01T09:00:00+00:00"})
	g.send("scheduled-two", map[string]any{"originator": "Fixture", "recipients": []string{"31612345678", saudiHandset}, "body": "Happy new century",
		"scheduledDatetime": "2099-06-01T12:30:00Z", "reference": "century", "validity": 3600})
	// Marketing at 02:30 Amsterdam time is deferred to the morning.
	g.send("deferred", map[string]any{"originator": "Fixture", "recipients": []string{handsetA}, "body": "Breakfast offers, marketing",
		"purpose": "marketing", "scheduledDatetime": "2099-01-01T01:30:00Z"})
	// Text that compliance holds for the operator.
	g.send("held", map[string]any{"originator": "Fixture", "recipients": []string{"31612345675"}, "body": "Track it: https://bit.ly/3xyz"})
	g.send("held-rejected", map[string]any{"originator": "Fixture", "recipients": []string{"31612345676"}, "body": "Please reply with your PIN to confirm"})
	g.send("held-released", map[string]any{"originator": "Fixture", "recipients": []string{"31612345677"}, "body": "Pay to NL91ABNA0417164300 by Friday"})

	// Attempts compliance refuses: nothing is stored but the decision.
	g.refused("content.card_number", map[string]any{"originator": "Fixture", "recipients": []string{"31612345678"}, "body": "Your card 4111 1111 1111 1111 is active"})
	g.refused("sender.identity", map[string]any{"originator": "Unknown", "recipients": []string{"31612345678"}, "body": "Who am I"})

	g.waitStatuses("delivered", "delivered")
	g.waitStatuses("long-gsm", "delivered")
	g.waitStatuses("long-arabic", "delivered")
	g.waitStatuses("binary", "delivered")
	g.waitStatuses("flash", "delivered")
	g.waitStatuses("options", "delivered")
	g.waitStatuses("auto-plain", "delivered")
	g.waitStatuses("numeric-sender", "delivered")
	g.waitStatuses("marketing", "delivered")
	g.waitStatuses("failed", "delivery_failed")
	g.waitStatuses("expired-carrier", "expired")
	g.waitStatuses("multi", "delivered", "delivery_failed", "expired", "sent", "sent")
	// The silent carrier took five parts: its receipts wait 24 hours.
	waitUntil("the silent carrier's submits", 20*time.Second, func() bool { return g.silent.srv.Stats().Submits.Load() == 5 })
	waitUntil("the silent carrier's parts recorded", 20*time.Second, func() bool {
		return g.count(`SELECT COUNT(*) FROM recipient_parts WHERE connector = ?`, g.silent.name) == 5
	})
	for _, name := range []string{"scheduled", "scheduled-two", "deferred", "held", "held-rejected", "held-released"} {
		for _, s := range g.statuses(g.ids[name]) {
			if s != "scheduled" {
				fail("%s is %s, want scheduled", name, s)
			}
		}
	}
}

// receive injects messages from handsets at the silent carrier's
// simulator, to the account's number: a question, a long message in two
// parts, Arabic, and STOP from B (an opt-out and a confirmation sent back).
func (g *gen) receive() {
	step("%s: inbound messages", g.engine)
	for _, in := range []struct{ from, text string }{
		{"+" + handsetC, "Hello, is my order on its way?"},
		{handsetC, longMO},
		{saudiHandset, "مرحبا، أين طلبي؟"},
		{handsetB, "STOP"},
	} {
		if err := g.silent.srv.Inject(carrierSystemID, in.from, inboundNumber, in.text); err != nil {
			fail("injecting: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // one after the other, in this order
	}
	waitUntil("four inbound messages", 20*time.Second, func() bool {
		return must(g.api("GET", "/messages?direction=mo", nil), 200, "listing mo").json()["totalCount"] == 4.0
	})
	var reply string
	waitUntil("the STOP confirmation", 20*time.Second, func() bool {
		items := must(g.api("GET", "/messages?direction=mt&recipient="+handsetB, nil), 200, "listing B").json()["items"].([]any)
		if len(items) == 0 {
			return false
		}
		reply = items[0].(map[string]any)["id"].(string)
		return true
	})
	g.ids["stop-reply"] = reply
	g.waitStatuses("stop-reply", "delivered")
	waitUntil("inbound messages forwarded", 20*time.Second, func() bool { return g.sink.count("/inbound") == 4 })
	// B opted out: marketing and (by default) transactional messages to B
	// are refused.
	g.refused("consent.opt_in", map[string]any{"originator": "Fixture", "recipients": []string{handsetB}, "body": "We miss you", "purpose": "marketing"})
	g.refused("suppression", map[string]any{"originator": "Fixture", "recipients": []string{handsetB}, "body": "Your invoice is ready"})
}

// review has the operator reject one held message (it fails and is
// refunded) and release another (it is sent); the third stays held.
func (g *gen) review() {
	step("%s: review queue", g.engine)
	must(g.admin("POST", "/admin/reviews/"+g.ids["held-rejected"]+"/reject", "", nil), 200, "rejecting a held message")
	must(g.admin("POST", "/admin/reviews/"+g.ids["held-released"]+"/release", "", nil), 200, "releasing a held message")
	g.waitStatuses("held-rejected", "delivery_failed")
	g.waitStatuses("held-released", "delivered")
}

// proofCase: the operator asks for proof of A's consent; the customer
// answers with the proof document. A complaint about B is recorded.
func (g *gen) proofCase() {
	step("%s: proof of consent, complaint", g.engine)
	c := must(g.admin("POST", "/admin/accounts/"+g.accountID+"/cases", "", map[string]any{"reason": "carrier audit", "recipient": "+" + handsetA, "dueHours": 72}), 201, "requesting proof").json()
	g.caseID = c["id"].(string)
	proof := must(g.api("GET", "/consents/proof?recipient="+handsetA+"&format=csv", nil), 200, "proof document")
	must(call("POST", g.srv.base+"/compliance/cases/"+g.caseID+"/proof", g.auth(), "text/csv", proof.body), 200, "answering the case")
	must(g.admin("POST", "/admin/accounts/"+g.accountID+"/complaints", "", map[string]any{"recipient": handsetB, "source": "carrier", "note": "reported as spam"}), 201, "complaint")
}

// settle waits until only the messages that wait for 2099 or a reviewer
// have jobs: status reports, inbound forwards and notices are delivered.
func (g *gen) settle() {
	waitUntil("the queue to drain", 30*time.Second, func() bool {
		return g.count(`SELECT COUNT(*) FROM jobs WHERE run_at < ?`, time.Now().Add(24*time.Hour).UnixMicro()) == 0
	})
}

// count runs a COUNT query on the database.
func (g *gen) count(query string, args ...any) int {
	var n int
	g.operator(func(st *sqlstore.Store) {
		if err := st.Writer().QueryRowContext(context.Background(), rebind(g.engine, query), args...).Scan(&n); err != nil {
			fail("%s: %v", query, err)
		}
	})
	return n
}

// rebind writes ? placeholders as $1, $2 … for PostgreSQL.
func rebind(engine, q string) string {
	if engine != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// statusCounts are the recipients of the fixture account per status, for
// the README.
func (g *gen) statusCounts() string {
	var out []string
	g.operator(func(st *sqlstore.Store) {
		rows, err := st.Writer().QueryContext(context.Background(), rebind(g.engine,
			`SELECT m.direction, r.status, COUNT(*) FROM recipients r JOIN messages m ON m.id = r.message_id WHERE r.account_id = ? GROUP BY m.direction, r.status`), g.accountID)
		if err != nil {
			fail("counting: %v", err)
		}
		defer rows.Close()
		for rows.Next() {
			var dir, status string
			var n int
			rows.Scan(&dir, &status, &n)
			out = append(out, fmt.Sprintf("%s %s: %d", dir, status, n))
		}
	})
	sort.Strings(out)
	return strings.Join(out, ", ")
}
